"""`latentatlas analyze` end to end: outputs, options, and one-line errors that write nothing."""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from latentatlas.analysis.io import load_embeddings
from latentatlas.api import analyze
from latentatlas.cli.main import main


def clustered(rng, n=160, c=4, d=8):
    centers = rng.normal(scale=3.0, size=(c, d))
    y = np.repeat(np.arange(c), n // c)
    x = (centers[y] + rng.normal(size=(len(y), d))).astype(np.float32)
    return x, y


@pytest.fixture
def npz(tmp_path, rng):
    x, y = clustered(rng)
    path = tmp_path / "emb.npz"
    np.savez(path, embeddings=x, labels=y, class_names=np.array(["ant", "bee", "cat", "dog"]))
    return path, x, y


def test_end_to_end_writes_report_matching_the_library(tmp_path, npz, capsys):
    path, x, y = npz
    out = tmp_path / "out"
    assert main(["analyze", str(path), "--out", str(out), "--device", "cpu"]) == 0
    printed = capsys.readouterr().out
    assert f"report: {out / 'report.html'}" in printed
    assert sorted(p.name for p in out.iterdir()) == ["analysis.json", "figures", "report.html"]
    assert sorted(p.name for p in (out / "figures").iterdir()) == [
        "class_distances.png",
        "confusion.png",
        "nn_distances.png",
        "pca_ellipses.png",
    ]
    saved = json.loads((out / "analysis.json").read_text())
    ref = analyze(x, y, class_names=["ant", "bee", "cat", "dog"])
    assert saved["class_names"] == ["ant", "bee", "cat", "dog"] and saved["metric"] == "cosine"
    assert saved["exclude_self"] is True and saved["n"] == len(x)
    np.testing.assert_allclose(saved["distances"]["matrix"], ref.distances.matrix, rtol=1e-12)
    assert saved["distances"]["margin"] == pytest.approx(ref.distances.margin)
    assert f"margin {ref.distances.margin:.4f}" in printed
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 4  # self-contained: figures embedded
    assert 'src="http' not in page and "<link" not in page and "<script" not in page


def test_options_metric_include_self_triplets_projector(tmp_path, npz, rng):
    path, x, y = npz
    trip = np.stack([rng.integers(0, len(x), 50) for _ in range(3)], axis=1)
    (tmp_path / "t.csv").write_text("a,p,n\n" + "\n".join(",".join(map(str, r)) for r in trip))
    out = tmp_path / "out"
    argv = ["analyze", str(path), "--out", str(out), "--metric", "euclidean", "--include-self", "--coverage", "0.8",
            "--triplets", str(tmp_path / "t.csv"), "--projector"]  # fmt: skip
    assert main(argv) == 0
    saved = json.loads((out / "analysis.json").read_text())
    ref = analyze(x, y, metric="euclidean", exclude_self=False, coverage=0.8, triplets=trip)
    assert saved["metric"] == "euclidean" and saved["exclude_self"] is False and saved["coverage"] == 0.8
    np.testing.assert_allclose(saved["distances"]["matrix"], ref.distances.matrix, rtol=1e-12)
    assert saved["pairs"] == pytest.approx(json.loads(json.dumps(ref.to_dict()))["pairs"])
    back = load_embeddings(out / "projector")
    assert np.array_equal(back.embeddings, x) and np.array_equal(back.labels, y)
    assert back.class_names == ["ant", "bee", "cat", "dog"]


def test_force_replaces_an_existing_output(tmp_path, npz):
    path, _, _ = npz
    out = tmp_path / "out"
    out.mkdir()
    (out / "old.txt").write_text("old")
    assert main(["analyze", str(path), "--out", str(out), "--force"]) == 0
    assert not (out / "old.txt").exists() and (out / "report.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["emb.npz", "out"]  # no temporary folder left behind


def _bad_cases(tmp_path, x, y):
    """name -> (argv after 'analyze', expected message fragment)."""
    nan = x.copy()
    nan[[5, 2], 0] = np.nan
    np.savez(tmp_path / "nan.npz", embeddings=nan, labels=y)
    np.savez(tmp_path / "one.npz", embeddings=x, labels=np.zeros(len(x), dtype=int))
    np.save(tmp_path / "plain.npy", x)
    np.save(tmp_path / "short.npy", y[:-3])
    np.save(tmp_path / "far.npy", np.array([[0, 1, len(x)]]))
    (tmp_path / "bad.csv").write_text("x,y,z\n1,2,3\n")
    (tmp_path / "names.txt").write_text("a\nb\n")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.yaml").write_text("name: r\n")
    p, emb = str(tmp_path / "plain.npy"), str(tmp_path / "emb.npz")
    return {
        "missing": (["nope.npz"], "nope.npz: no such file or folder"),
        "nan": ([str(tmp_path / "nan.npz")], r"2 row(s) hold NaN or inf (first at index 2)"),
        "single class": ([str(tmp_path / "one.npz")], "a single class; the analysis needs >= 2 classes"),
        "no labels": ([p], "no labels found; pass --labels FILE or --label-column NAME"),
        "short labels": ([p, "--labels", str(tmp_path / "short.npy")], f"{len(x) - 3} labels for {len(x)} embeddings"),
        "names": ([emb, "--class-names", str(tmp_path / "names.txt")], "2 class names for 4 classes"),
        "extension": ([str(tmp_path / "names.txt")], "unknown extension '.txt'"),
        "triplet index": ([emb, "--triplets", str(tmp_path / "far.npy")], f"triplet index {len(x)} is outside"),
        "triplet header": ([emb, "--triplets", str(tmp_path / "bad.csv")], "header 'x,y,z' is not 'a,p,n'"),
        "coverage": ([emb, "--coverage", "1.5"], "coverage 1.5 is outside (0, 1)"),
        "run dir": ([str(tmp_path / "run")], "run-folder analysis is not available yet"),
    }


@pytest.mark.parametrize("existing", [False, True])
def test_bad_inputs_exit_2_with_one_line_and_write_nothing(tmp_path, npz, capsys, monkeypatch, existing):
    _, x, y = npz
    monkeypatch.setitem(sys.modules, "latentatlas.tasks.inference", None)  # makes the lazy import fail
    out = tmp_path / "out"
    if existing:  # an existing output keeps its content, even with --force
        out.mkdir()
        (out / "keep.txt").write_text("mine")
    for name, (args, message) in _bad_cases(tmp_path, x, y).items():
        before = sorted(p.name for p in tmp_path.iterdir())
        code = main(["analyze", *args, "--out", str(out), *(["--force"] if existing else [])])
        err = capsys.readouterr().err
        assert code == 2, name
        assert err.startswith("latentatlas analyze: error: ") and err.count("\n") == 1, (name, err)
        assert message in err, (name, err)
        assert sorted(p.name for p in tmp_path.iterdir()) == before, name
        if existing:
            assert [p.name for p in out.iterdir()] == ["keep.txt"] and (out / "keep.txt").read_text() == "mine"


def test_existing_output_is_refused_before_any_work(tmp_path, npz, capsys):
    path, _, _ = npz
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["analyze", str(path), "--out", str(out)]) == 2
    assert "folder exists and is not empty; choose another --out or pass --force" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_unknown_metric_is_an_argument_error(tmp_path, npz, capsys):
    path, _, _ = npz
    with pytest.raises(SystemExit) as info:
        main(["analyze", str(path), "--out", str(tmp_path / "o"), "--metric", "manhattan"])
    assert info.value.code == 2 and "invalid choice: 'manhattan'" in capsys.readouterr().err
