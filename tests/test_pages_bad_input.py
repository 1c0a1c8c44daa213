"""Bad input to the options issue 12 added (`--pdf` on train, demo, analyze, compare, sweep; `analyze --images`):
exit code 2, one line on stderr naming the problem and the fix, and nothing written."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
import yaml
from PIL import Image

from latentatlas.cli.main import main
from latentatlas.data.row_images import load_row_images
from latentatlas.errors import DataError

NAMES = ["ant", "bee", "cat"]
LABELS = np.repeat(np.arange(3), 4)  # 12 embeddings, 4 per class


@pytest.fixture
def files(tmp_path, rng):
    """Embeddings, two finished-looking run folders, a sweep config, and image sources good and bad."""
    np.savez(tmp_path / "e.npz", embeddings=rng.normal(size=(12, 4)), labels=LABELS, class_names=np.array(NAMES))
    for name in ("run-a", "run-b"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "summary.json").write_text(json.dumps({"grid_validity": 0.5}))
    (tmp_path / "cfg.yaml").write_text(yaml.safe_dump({"name": "cfg", "model": {"kind": "vae"}}))
    np.save(tmp_path / "few.npy", np.zeros((5, 8, 8), np.uint8))
    np.save(tmp_path / "flat.npy", np.zeros((12, 7), np.uint8))
    np.save(tmp_path / "ints.npy", np.zeros((12, 8, 8), np.int64))
    np.savez(tmp_path / "nokey.npz", pixels=np.zeros((12, 8, 8), np.uint8))
    (tmp_path / "junk.npy").write_bytes(b"not numpy")
    (tmp_path / "notes.txt").write_text("x")
    for name in NAMES:  # an image folder of 12 images, but 4, 5 and 3 per class: rows 8 on disagree
        (tmp_path / "shuffled" / name).mkdir(parents=True)
        for i in range(4):
            img = rng.integers(0, 256, (8, 8, 3), dtype=np.uint8)
            Image.fromarray(img).save(tmp_path / "shuffled" / name / f"{i}.png")
    (tmp_path / "shuffled" / "ant" / "0.png").rename(tmp_path / "shuffled" / "bee" / "9.png")
    (tmp_path / "shuffled" / "cat" / "0.png").rename(tmp_path / "shuffled" / "ant" / "0.png")
    return tmp_path


NO_CHROMIUM = r"--pdf needs chromium, which is not installed: install chromium \(apt-get install -y chromium\)"
PDF_CASES = {
    "train": (["train", "shapes-ae", "--runs-root", "{t}/out", "--pdf"], NO_CHROMIUM),
    "demo": (["demo", "--runs-root", "{t}/out", "--pdf"], NO_CHROMIUM),
    "analyze": (["analyze", "{t}/e.npz", "--out", "{t}/out", "--pdf"], NO_CHROMIUM),
    "compare": (["compare", "{t}/run-a", "{t}/run-b", "--out", "{t}/out", "--pdf"], NO_CHROMIUM),
    "sweep": (["sweep", "{t}/cfg.yaml", "--grid", "loss.beta=1,2", "--out", "{t}/out", "--pdf"], NO_CHROMIUM),
    "sweep-no-report": (
        ["sweep", "{t}/cfg.yaml", "--grid", "loss.beta=1,2", "--out", "{t}/out", "--pdf", "--no-report"],
        "--pdf prints the sweep's report, which --no-report skips; drop one of them",
    ),
}
IMAGES_CASES = {
    "missing": ("{t}/nothing.npy", "nothing.npy: no such images file or folder; pass the images the embeddings"),
    "count": ("{t}/few.npy", "few.npy: 5 images for 12 embeddings; pass the images the embeddings were made from"),
    "layout": ("{t}/flat.npy", r"flat.npy: images of shape \(12, 7\); give \(N, H, W\)"),
    "dtype": ("{t}/ints.npy", "ints.npy: images of dtype int64; give uint8 pixels or floats in"),
    "npz key": ("{t}/nokey.npz", "nokey.npz: no 'images' array \\(it holds pixels\\); save the pixels as images="),
    "not numpy": ("{t}/junk.npy", "junk.npy: not a readable NumPy file"),
    "not images": ("{t}/notes.txt", "notes.txt: not a dataset latentatlas can read"),
    "shuffled": ("{t}/shuffled", "shuffled: image 8 is in class 'bee' but embedding 8 is labelled 'cat'"),
}


def _fill(items, t):
    return [a.replace("{t}", str(t)) for a in items]


@pytest.mark.parametrize("case", list(PDF_CASES))
def test_pdf_without_chromium_exits_2_before_any_work(files, case, monkeypatch, capsys):
    monkeypatch.setenv("LATENTATLAS_CHROMIUM", str(files / "no-such-browser"))
    argv, message = PDF_CASES[case]
    assert main(_fill(argv, files)) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not (files / "out").exists()


@pytest.mark.parametrize("case", list(IMAGES_CASES))
def test_bad_images_exit_2_with_one_line_and_write_nothing(files, case, capsys):
    source, message = IMAGES_CASES[case]
    argv = ["analyze", str(files / "e.npz"), "--images", source.replace("{t}", str(files)), "--out", str(files / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert not (files / "o").exists()


def test_row_images_in_row_order(files, rng):
    pixels = rng.random((12, 3, 8, 8))
    np.savez(files / "ok.npz", images=pixels)
    assert np.array_equal(load_row_images(files / "ok.npz", 12), pixels)
    folder = load_row_images(files / "shuffled", 12)  # no labels given: order is not checked
    assert tuple(folder.shape) == (12, 3, 8, 8)
    with pytest.raises(DataError, match="12 images for 13 embeddings"):
        load_row_images(files / "ok.npz", 13)
