"""Embedding with a trained run: `latentatlas embed`, `embed_run` (the run's test split) and `analyze RUN_DIR`.

One tiny metric-learning run (4 colour classes x 30 images of 16x16, one epoch) is trained once for the module.
Results are checked against the model applied by hand to images decoded with PIL in a plain loop, and against
the `embeddings/test.npz` the training wrote itself.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.analysis.io import load_embeddings
from latentatlas.api import analyze
from latentatlas.cli.main import main
from latentatlas.config import config_from_dict
from latentatlas.data.augment import CIFAR10_MEAN, CIFAR10_STD
from latentatlas.errors import DataError, LatentAtlasError
from latentatlas.tasks.inference import embed_dataset, embed_run, load_run_model
from latentatlas.train.checkpoint import save_checkpoint

COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 230), (230, 220, 40)]
PER_CLASS = 30


def write_folder(root: Path, side: int, seed: int, per_class: int = PER_CLASS) -> Path:
    """One folder per colour class of noisy `side` x `side` PNG images."""
    rng = np.random.default_rng(seed)
    for c, colour in enumerate(COLOURS):
        folder = root / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (side, side, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(autouse=True)
def _cache_env(cache, monkeypatch):
    monkeypatch.setenv("LATENTATLAS_CACHE", str(cache))  # decoded folders go to a temp cache, not ~/.cache


@pytest.fixture(scope="module")
def run(tmp_path_factory, cache):
    """A trained run directory and its image folder."""
    from latentatlas.tasks.pipeline import train

    root = tmp_path_factory.mktemp("run")
    images = write_folder(root / "images", 16, seed=0)
    overrides = [
        "data.kind=images",
        f"data.images.path={images}",
        "model.kind=cnn",
        "model.embedding_dim=8",
        "train.epochs=1",
        "train.classes_per_batch=4",
        "train.images_per_class=2",
        "data.images.val_triplets=10",
        "data.images.split=[0.6,0.2,0.2]",
        "train.progress=false",
    ]
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("LATENTATLAS_CACHE", str(cache))
        result = train(config_from_dict({}, overrides), run_dir=root / "run")
    return result.run_dir, images


def by_hand(model: torch.nn.Module, folder: Path) -> tuple[np.ndarray, list[int]]:
    """Decode every image with PIL in sorted order, normalize each channel with the CIFAR-10 statistics in a plain
    loop, then embed them (one batch: in eval mode the model treats images independently)."""
    inputs, labels = [], []
    for label, cls in enumerate(sorted(p.name for p in folder.iterdir())):
        for path in sorted((folder / cls).iterdir()):
            pixels = np.asarray(Image.open(path).convert("RGB"), dtype=np.float32) / 255.0  # (H, W, 3)
            inputs.append(np.stack([(pixels[:, :, c] - CIFAR10_MEAN[c]) / CIFAR10_STD[c] for c in range(3)]))
            labels.append(label)
    with torch.no_grad():
        return model(torch.from_numpy(np.stack(inputs))).numpy(), labels


def test_embed_cli_equals_the_model_applied_by_hand(run, tmp_path, capsys):
    run_dir, images = run
    out = tmp_path / "emb.npz"
    assert main(["embed", str(run_dir), "--data", str(images), "--out", str(out), "--device", "cpu"]) == 0
    assert f"wrote 120 embeddings of dimension 8 (4 classes) to {out}" in capsys.readouterr().out
    with np.load(out, allow_pickle=False) as z:
        emb, labels, names = z["embeddings"], z["labels"], list(z["class_names"])
    assert emb.shape == (4 * PER_CLASS, 8) and emb.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, atol=1e-5)
    model, _ = load_run_model(run_dir)
    ref, ref_labels = by_hand(model, images)
    assert names == ["class0", "class1", "class2", "class3"] and labels.tolist() == ref_labels
    np.testing.assert_allclose(emb, ref, atol=1e-5)
    loaded = load_embeddings(out)  # what `latentatlas analyze FILE.npz` reads
    assert loaded.class_names == names and np.array_equal(loaded.labels, labels)


def test_batch_size_does_not_change_embeddings(run):
    run_dir, images = run
    model, config = load_run_model(run_dir)
    whole = embed_dataset(model, config, images, batch_size=512, progress=False)
    pieces = embed_dataset(model, config, images, batch_size=50, progress=False)  # eval BatchNorm: per image
    np.testing.assert_allclose(pieces.embeddings, whole.embeddings, atol=1e-6)
    assert not model.training


def test_embed_refuses_to_overwrite_unless_forced(run, tmp_path, capsys):
    run_dir, images = run
    out = tmp_path / "emb.npz"
    out.write_bytes(b"keep me")
    argv = ["embed", str(run_dir), "--data", str(images), "--out", str(out), "--device", "cpu"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "file exists; choose another name or pass --force" in err and len(err.strip().splitlines()) == 1
    assert out.read_bytes() == b"keep me"
    assert main([*argv, "--force"]) == 0
    assert load_embeddings(out).embeddings.shape == (4 * PER_CLASS, 8)
    assert main(["embed", str(run_dir), "--out", str(tmp_path / "emb.txt")]) == 2
    assert "ending in .npz" in capsys.readouterr().err


def test_wrong_image_size_is_a_one_line_error(run, tmp_path, capsys):
    run_dir, _ = run
    other = write_folder(tmp_path / "big", 20, seed=1, per_class=3)
    model, config = load_run_model(run_dir)
    with pytest.raises(DataError, match=r"images are 20x20 .* trained on 16x16 .*; resize the images to 16x16"):
        embed_dataset(model, config, other, progress=False)
    out = tmp_path / "x.npz"
    assert main(["embed", str(run_dir), "--data", str(other), "--out", str(out)]) == 2
    assert "resize the images to 16x16" in capsys.readouterr().err and not out.exists()


def test_missing_run_or_checkpoint_errors(run, tmp_path):
    run_dir, _ = run
    with pytest.raises(LatentAtlasError, match="run folder .* not found; pass a folder written by `latentatlas"):
        load_run_model(tmp_path / "nope")
    copy = Path(shutil.copytree(run_dir, tmp_path / "copy"))
    (copy / "checkpoints" / "best.safetensors").unlink()
    with pytest.raises(LatentAtlasError, match=r"no checkpoints/best.safetensors; .* --checkpoint last"):
        load_run_model(copy)
    model, _ = load_run_model(copy, "last")
    assert model.head.out_features == 8
    with pytest.raises(LatentAtlasError, match="use 'best', 'last' or the path"):
        load_run_model(copy, "middle")


def test_embed_run_is_the_runs_test_split(run):
    run_dir, _ = run
    data = embed_run(run_dir, progress=False)
    with np.load(run_dir / "embeddings" / "test.npz", allow_pickle=False) as z:  # written by training itself
        np.testing.assert_allclose(data.embeddings, z["embeddings"], atol=1e-6)
        assert data.labels.tolist() == z["labels"].tolist()
        assert data.class_names == list(z["class_names"])
    # split 0.2 of 30 images per class, stratified: 6 test images of each class
    assert np.bincount(data.labels).tolist() == [6, 6, 6, 6]


def test_analyze_run_dir_end_to_end(run, tmp_path, capsys):
    run_dir, _ = run
    out = tmp_path / "analysis"
    assert main(["analyze", str(run_dir), "--out", str(out), "--device", "cpu"]) == 0
    saved = json.loads((out / "analysis.json").read_text())
    with np.load(run_dir / "embeddings" / "test.npz", allow_pickle=False) as z:
        ref = analyze(z["embeddings"], z["labels"], class_names=list(z["class_names"]))
    assert saved["n"] == 24 and saved["class_names"] == ["class0", "class1", "class2", "class3"]
    np.testing.assert_allclose(saved["distances"]["matrix"], ref.distances.matrix, atol=1e-6)
    assert (out / "report.html").is_file()


def test_shapes_run_gives_encoder_means_of_the_validation_figures(tmp_path):
    from latentatlas.data.shapes import generate
    from latentatlas.models.autoencoder import build_autoencoder
    from latentatlas.tasks.shapes_data import VAL_SEED_OFFSET

    spec = {
        "seed": 3,
        "data": {"n_val": 40, "shapes": {"size": 32, "height": [8, 14], "radius": [3, 6]}},
        "model": {"kind": "vae", "latent_dim": 3, "widths": [8, 16]},
    }
    config = config_from_dict(spec)
    model = build_autoencoder("vae", 3, [8, 16], 32)
    save_checkpoint(tmp_path / "run" / "checkpoints" / "best.safetensors", model, config.to_dict(), 0)
    data = embed_run(tmp_path / "run", batch_size=16, progress=False)
    figures, factors = generate(config.data.shapes, 40, seed=3 + VAL_SEED_OFFSET)
    model.eval()
    with torch.no_grad():
        ref = np.stack(
            [model.encode(torch.from_numpy(f[None, None].astype(np.float32)))[0][0].numpy() for f in figures]
        )
    np.testing.assert_allclose(data.embeddings, ref, atol=1e-5)
    assert data.class_names == ["type I", "type II"]
    assert data.labels.tolist() == factors["orientation"].tolist()
    loaded, cfg = load_run_model(tmp_path / "run")
    with pytest.raises(LatentAtlasError, match="not an image embedder; use `latentatlas analyze RUN_DIR`"):
        embed_dataset(loaded, cfg, tmp_path)


def test_size_check_is_skipped_with_a_warning_when_the_runs_data_is_gone(run, tmp_path, caplog):
    run_dir, images = run
    model, config = load_run_model(run_dir)
    config.data.images.path = str(tmp_path / "moved-away")
    other = write_folder(tmp_path / "big", 20, seed=2, per_class=2)
    with caplog.at_level("WARNING", logger="latentatlas"):
        data = embed_dataset(model, config, other, progress=False)
    assert data.embeddings.shape == (8, 8)
    assert "cannot check that" in caplog.text and "moved-away" in caplog.text


def test_labels_are_renumbered_over_the_classes_present(rng):
    from latentatlas.tasks.inference import _present_classes

    names = ["ant", "bee", "cat", "dog", "eel"]
    raw = rng.choice([1, 3, 4], size=50)  # classes 0 and 2 absent, as in a small test split
    codes, kept = _present_classes(raw, names)
    assert kept == ["bee", "dog", "eel"] and codes.dtype == np.int64
    assert [kept[c] for c in codes] == [names[r] for r in raw]  # every image keeps its class name
