"""Tiny trained runs and embeddings files for the `latentatlas explore` tests: a shapes VAE (one epoch on 64
figures) and a metric-learning CNN (one epoch on 4 colour classes of 16 x 16 images)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from latentatlas.config import config_from_dict, load_config
from latentatlas.configs import resolve_config_path

COLOURS = [(220, 30, 30), (30, 200, 40), (40, 60, 230), (230, 220, 40)]


def shapes_run(root: Path, latent_dim: int = 2) -> Path:
    """A one-epoch shapes VAE run folder on 64 cylinders."""
    from latentatlas.tasks.pipeline import train

    overrides = [
        "train.epochs=1", "data.n_train=64", "data.n_val=32", "analysis.grid_n=3", "analysis.n_samples=8",
        "analysis.n_morphs=1", "train.progress=false", f"model.latent_dim={latent_dim}",
    ]  # fmt: skip
    return train(load_config(resolve_config_path("shapes-vae"), overrides), run_dir=root / "shapes-run").run_dir


def colour_folder(root: Path, per_class: int = 20, side: int = 16, seed: int = 0) -> Path:
    """One folder per colour class of noisy side x side PNG images."""
    rng = np.random.default_rng(seed)
    for c, colour in enumerate(COLOURS):
        folder = root / f"class{c}"
        folder.mkdir(parents=True)
        for i in range(per_class):
            pixels = np.clip(np.array(colour) + rng.normal(0, 25, (side, side, 3)), 0, 255).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:03d}.png")
    return root


def metric_run(root: Path) -> Path:
    """A one-epoch CNN run on a colour folder (set LATENTATLAS_CACHE first: the folder is decoded into it)."""
    from latentatlas.tasks.pipeline import train

    images = colour_folder(root / "images")
    overrides = [
        "data.kind=images", f"data.images.path={images}", "model.kind=cnn", "model.embedding_dim=8",
        "train.epochs=1", "train.classes_per_batch=4", "train.images_per_class=2", "data.images.val_triplets=10",
        "data.images.split=[0.5,0.2,0.3]", "train.progress=false",
    ]  # fmt: skip
    return train(config_from_dict({}, overrides), run_dir=root / "metric-run").run_dir


def labelled_npz(path: Path, n: int = 90, d: int = 6, images: bool = False, seed: int = 0) -> Path:
    """An .npz of 3 labelled clusters with a numeric and a text metadata column (and 8 x 8 pictures)."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), n // 3)
    x = rng.normal(size=(n, d)) + 3.0 * np.eye(3, d)[labels]
    extra = {"images": rng.integers(0, 256, size=(n, 8, 8, 3), dtype=np.uint8)} if images else {}
    np.savez(path, embeddings=x.astype(np.float32), labels=labels, class_names=np.array(["ant", "bee", "cat"]),
             brightness=rng.random(n), split=np.where(rng.random(n) < 0.5, "train", "test"), **extra)  # fmt: skip
    return path
