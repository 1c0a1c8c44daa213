"""`latentatlas compare`: the table equals the summaries, files and errors, and `aggregate` against numpy."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from latentatlas.cli.main import main
from latentatlas.errors import LatentAtlasError
from latentatlas.report.compare import COMPARED_FIGURES, compare_runs
from latentatlas.report.runs import aggregate, flatten, format_table, load_run, summary_table


def _make_run(root: Path, name: str, rng: np.random.Generator, kind: str) -> Path:
    run = root / name
    (run / "figures").mkdir(parents=True)
    summary = {
        "grid_validity": float(rng.random()),
        "active_units": int(rng.integers(0, 3)),
        "kl_per_dim": [float(v) for v in rng.random(2)],
        "train": {"best_epoch": int(rng.integers(1, 50)), "val_loss": float(rng.random())},
        "variational": kind == "vae",
        "grid_kind": "prior quantiles",
    }
    (run / "summary.json").write_text(json.dumps(summary))
    (run / "config.yaml").write_text(yaml.safe_dump({"model": {"kind": kind, "latent_dim": 2}, "seed": 0}))
    for file, _ in COMPARED_FIGURES.values():
        Image.fromarray(rng.integers(0, 255, (8, 8), dtype=np.uint8)).save(run / "figures" / file)
    return run


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.srcs: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.srcs.append(dict(attrs).get("src", ""))


def test_flatten():
    assert flatten({"a": 1, "b": {"c": [2, 3], "d": {"e": None}}, "f": [{"g": 4}]}) == {
        "a": 1, "b.c[0]": 2, "b.c[1]": 3, "b.d.e": None, "f[0].g": 4,
    }  # fmt: skip


def test_table_values_equal_the_summaries(tmp_path, rng):
    runs = [load_run(_make_run(tmp_path, f"2024-run{i}", rng, kind)) for i, kind in enumerate(["ae", "vae", "vae"])]
    headers, rows = summary_table(runs)
    assert headers == ["quantity", "2024-run0", "2024-run1", "2024-run2"]
    table = {row[0]: row[1:] for row in rows}
    for j, run in enumerate(runs):
        s = run.summary
        assert table["grid_validity"][j] == s["grid_validity"]
        assert table["active_units"][j] == s["active_units"]
        assert table["kl_per_dim[1]"][j] == s["kl_per_dim"][1]
        assert table["train.val_loss"][j] == s["train"]["val_loss"]
    assert "grid_kind" not in table and "variational" not in table  # numbers only
    lines = format_table(headers, rows).splitlines()
    assert len({len(line) for line in lines}) == 1 and len(lines) == len(rows) + 2


def test_cli_writes_json_and_a_self_contained_report(tmp_path, rng, capsys):
    a, b = _make_run(tmp_path, "run-ae", rng, "ae"), _make_run(tmp_path, "run-vae", rng, "vae")
    out = tmp_path / "cmp"
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "run-ae" in printed and "run-vae" in printed
    record = json.loads((out / "compare.json").read_text())
    assert record["table"]["headers"] == ["quantity", "run-ae", "run-vae"]
    row = next(r for r in record["table"]["rows"] if r[0] == "grid_validity")
    assert row[1:] == [json.loads((d / "summary.json").read_text())["grid_validity"] for d in (a, b)]
    page = (out / "report.html").read_text()
    parser = _Images()
    parser.feed(page)
    assert len(parser.srcs) == 2 * len(COMPARED_FIGURES)
    assert all(src.startswith("data:image/png;base64,") for src in parser.srcs)
    assert "model.kind" in page  # the config difference is shown
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cmp")]  # no temporary dir left behind


def test_cli_errors_exit_2_with_one_line(tmp_path, rng, capsys):
    a = _make_run(tmp_path, "run-a", rng, "ae")
    empty = tmp_path / "not-a-run"
    empty.mkdir()
    cases = [
        (["compare", str(a), str(empty)], "not-a-run: no summary.json"),
        (["compare", str(a), str(tmp_path / "missing")], "missing: not a directory"),
        (["compare", str(a)], "at least two run directories"),
    ]
    for argv, message in cases:
        assert main([*argv, "--out", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert message in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()
    (a / "summary.json").write_text("{oops")
    assert main(["compare", str(a), str(a), "--out", str(tmp_path / "out")]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_existing_out_dir_needs_force(tmp_path, rng, capsys):
    a, b = _make_run(tmp_path, "a", rng, "ae"), _make_run(tmp_path, "b", rng, "vae")
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    assert main(["compare", str(a), str(b), "--out", str(out)]) == 2
    assert "exists and is not empty" in capsys.readouterr().err and (out / "keep.txt").read_text() == "mine"
    assert main(["compare", str(a), str(b), "--out", str(out), "--force"]) == 0
    assert (out / "compare.json").is_file() and not (out / "keep.txt").exists()
    assert main(["compare", str(a), str(b), "--out", str(a), "--force"]) == 2  # never replace a compared run
    assert (a / "summary.json").is_file()


def test_aggregate_matches_numpy(rng):
    rows = [
        {"kind": str(rng.choice(["ae", "vae"])), "beta": float(rng.choice([0.5, 1.0])), "auc": float(rng.random()),
         "units": int(rng.integers(0, 4)), "flag": True}
        for _ in range(30)
    ]  # fmt: skip
    rows.append({"kind": "solo", "beta": 2.0, "auc": 0.5, "units": 1})
    for ddof in (0, 1):
        groups = aggregate(rows, ["kind", "beta"], ddof=ddof)
        assert sum(g["n"] for g in groups) == len(rows)
        for g in groups:
            members = [r for r in rows if r["kind"] == g["group"]["kind"] and r["beta"] == g["group"]["beta"]]
            assert g["n"] == len(members) and set(g["mean"]) == {"auc", "units"}  # bools are not numbers
            for key in ("auc", "units"):
                values = np.array([r[key] for r in members], dtype=float)
                assert g["mean"][key] == pytest.approx(values.mean())
                if len(values) > ddof:
                    assert g["std"][key] == pytest.approx(values.std(ddof=ddof))
                else:
                    assert g["std"][key] is None
    with pytest.raises(LatentAtlasError, match="a row has no 'seed'"):
        aggregate(rows, ["seed"])


def test_compare_runs_returns_the_report(tmp_path, rng):
    runs = [_make_run(tmp_path, name, rng, "vae") for name in ("x", "y")]
    report = compare_runs(runs, tmp_path / "c")
    assert report == tmp_path / "c" / "report.html" and report.is_file()
    with pytest.raises(LatentAtlasError, match="exists and is not empty; choose another --out or pass --force"):
        compare_runs(runs, tmp_path / "c")


def test_metrics_option_picks_and_orders_the_printed_rows(tmp_path, rng, capsys):
    a, b = _make_run(tmp_path, "run-ae", rng, "ae"), _make_run(tmp_path, "run-vae", rng, "vae")
    args = ["compare", str(a), str(b), "--metrics", "train.val_loss,grid_validity", "--out", str(tmp_path / "c")]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[2:4]] == ["train.val_loss", "grid_validity"]
    assert not any(line.startswith("active_units") for line in lines)
    value = json.loads((a / "summary.json").read_text())["grid_validity"]
    assert f"{value:.4f}" in lines[3]
    args[4] = "grid_validty"
    assert main(args[:-1] + [str(tmp_path / "d")]) == 2
    assert "--metrics: grid_validty not in these summaries; did you mean grid_validity?" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()
