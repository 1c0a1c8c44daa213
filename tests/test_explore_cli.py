"""`latentatlas explore` on bad input: one line on stderr, exit code 2, no traceback, and nothing on disk created or
changed (the folder holding the inputs is compared byte for byte before and after)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import numpy as np
import pytest

from latentatlas.cli.main import main
from latentatlas.explorer import write

from .explore_runs import labelled_npz


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() if p.is_file() else b"<dir>" for p in sorted(root.rglob("*"))}


def _unsupported(tmp, mp, cleanup):
    (tmp / "emb.xyz").write_bytes(b"1 2 3\n")
    return ["emb.xyz", "--out", "out"], "unknown extension '.xyz'"


def _no_labels_for_class_colours(tmp, mp, cleanup):
    np.save(tmp / "emb.npy", np.random.default_rng(0).normal(size=(30, 4)))
    return ["emb.npy", "--out", "out", "--color-by", "class"], "the points have no labels; pass --labels FILE"


def _no_labels_for_centre_distance(tmp, mp, cleanup):
    np.save(tmp / "emb.npy", np.random.default_rng(0).normal(size=(30, 4)))
    return ["emb.npy", "--out", "out", "--color-by", "distance to class centre"], "the points have no labels"


def _unknown_colouring(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    return ["emb.npz", "--out", "out", "--color-by", "weight"], "'weight': not a colouring of these points"


def _images_count(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz", n=90)
    np.save(tmp / "pics.npy", np.zeros((80, 8, 8), np.uint8))
    return ["emb.npz", "--out", "out", "--images", "pics.npy"], "80 images for 90 embeddings"


def _out_not_empty(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    (tmp / "out").mkdir()
    (tmp / "out" / "keep.txt").write_text("precious\n")
    return ["emb.npz", "--out", "out"], "folder exists and is not empty; choose another --out or pass --force"


def _port_in_use(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    cleanup.append(busy.close)
    port = busy.getsockname()[1]
    return ["emb.npz", "--serve", "--port", str(port), "--out", "out"], f"--port {port}: already in use"


def _single_file_too_big(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz", images=True)
    mp.setattr(write, "SINGLE_FILE_MAX_BYTES", 20_000)
    return ["emb.npz", "--out", "out", "--single-file"], "explorer.html would be 0.1 MB, above the 0.02 MB limit"


def _umap_missing(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    mp.setitem(sys.modules, "umap", None)  # as if umap-learn were not installed
    return ["emb.npz", "--out", "out", "--projection", "umap"], "pip install 'latentatlas[umap]' (the umap extra)"


def _labels_count(tmp, mp, cleanup):
    np.save(tmp / "emb.npy", np.zeros((30, 4)))
    (tmp / "labels.txt").write_text("\n".join(["a", "b"] * 10) + "\n")
    return ["emb.npy", "--out", "out", "--labels", "labels.txt"], "20 labels for 30 embeddings"


def _metadata_rows(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz", n=90)
    (tmp / "meta.csv").write_text("name\n" + "x\n" * 10)
    return ["emb.npz", "--out", "out", "--metadata", "meta.csv"], "10 metadata rows for 90 embeddings"


def _run_with_labels(tmp, mp, cleanup):
    (tmp / "run").mkdir()
    (tmp / "run" / "config.yaml").write_text("name: x\n")
    (tmp / "labels.txt").write_text("a\nb\n")
    return ["run", "--labels", "labels.txt"], "a run folder brings its own labels, factors and images; drop --labels"


def _single_file_and_serve(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    return ["emb.npz", "--serve", "--single-file"], "a served explorer is a folder; drop one of them"


def _port_without_serve(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    return ["emb.npz", "--out", "out", "--port", "9000"], "--host/--port only apply with --serve"


def _explorer_without_serve(tmp, mp, cleanup):
    (tmp / "ex" / "data").mkdir(parents=True)
    (tmp / "ex" / "data" / "manifest.js").write_text("LATENTATLAS.manifest({});\n")
    return ["ex", "--out", "out"], "already an explorer; open its index.html, or add --serve"


def _missing_source(tmp, mp, cleanup):
    return ["nope.npz", "--out", "out"], "nope.npz: no such file or folder"


def _no_out(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz")
    return ["emb.npz"], "pass --out DIR for the explorer"


def _raw_needs_two_dims(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz", d=5)
    return ["emb.npz", "--out", "out", "--projection", "raw"], "raw needs D = 2"


def _thumbnail_size(tmp, mp, cleanup):
    labelled_npz(tmp / "emb.npz", images=True)
    return ["emb.npz", "--out", "out", "--thumbnail-size", "0"], "--thumbnail-size 0: use at least 1 pixel"


CASES = [_unsupported, _no_labels_for_class_colours, _no_labels_for_centre_distance, _unknown_colouring,
         _images_count, _out_not_empty, _port_in_use, _single_file_too_big, _umap_missing, _labels_count,
         _metadata_rows, _run_with_labels, _single_file_and_serve, _port_without_serve, _explorer_without_serve,
         _missing_source, _no_out, _raw_needs_two_dims, _thumbnail_size]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.__name__.lstrip("_") for c in CASES])
def test_bad_input_is_one_line_and_exit_2_and_touches_nothing(case, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    cleanup: list = []
    try:
        argv, needle = case(tmp_path, monkeypatch, cleanup)
        before = _tree(tmp_path)
        code = main(["explore", *argv])
        err = capsys.readouterr().err.strip()
    finally:
        for fn in cleanup:
            fn()
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    assert err.startswith("latentatlas explore: error: ") and needle in err, err
    assert _tree(tmp_path) == before
