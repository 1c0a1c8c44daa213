"""What the explorer shows of a run folder, computed with the run's own model: the points and their pictures.

Metric-learning runs: the test split's embeddings (the same images, in the same order, as `embeddings/test.npz`)
with the test images themselves. Shapes runs (AE/VAE): the training figures regenerated from the config seed,
their encoder means, the known factors (height, radius, type, family, and tilt / shift when they vary) and the
model plus a validity oracle fitted on the run's families, so that the explorer can decode any latent point.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentatlas.config import Config
from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import generate
from latentatlas.data.shapes_config import FAMILIES, ORIENTATIONS
from latentatlas.models.config import AUTOENCODERS
from latentatlas.tasks.inference import embed_images, encode_figures, eval_transform, load_run_model
from latentatlas.tasks.metric_data import load_metric_data

__all__ = ["RunPoints", "run_points"]

log = logging.getLogger("latentatlas")


@dataclass
class RunPoints:
    """The points of a run folder.

    Attributes:
        kind: "metric" (an image embedder) or "shapes" (an AE/VAE on generated figures).
        embeddings: (N, D) float32: test embeddings (metric) or training latent means (shapes, D = latent dim).
        labels: (N,) int64 codes into `class_names` (image classes; figure type, and family when several).
        class_names: C names.
        images: (N, C, H, W) uint8 test images (metric) or (N, S, S) bool training figures (shapes).
        metadata: {name: (N,)} known factors of shapes runs (numbers, or strings for type and family).
        model: the autoencoder (shapes runs; in eval mode), else None.
        oracle: a fitted ValidityOracle on the run's families (shapes runs), else None.
        config: the run's Config; source: where the points come from, for the page's notes.
    """

    kind: str
    embeddings: np.ndarray
    labels: np.ndarray
    class_names: list[str]
    images: Any
    config: Config
    source: str
    metadata: dict[str, np.ndarray] = field(default_factory=dict)
    model: torch.nn.Module | None = None
    oracle: ValidityOracle | None = None

    @property
    def variational(self) -> bool:
        return bool(getattr(self.model, "variational", False))


def _codes(values: np.ndarray) -> tuple[np.ndarray, list[str]]:
    names, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1).astype(np.int64), [str(n) for n in names]


def _metric_points(model: torch.nn.Module, config: Config, source: str, batch_size: int, progress: bool) -> RunPoints:
    data = load_metric_data(config)
    idx = torch.as_tensor(data.test_idx)
    images = data.images.images[idx]
    emb = embed_images(model, images, eval_transform(config), batch_size, progress).numpy()
    present, codes = np.unique(data.labels_np[data.test_idx], return_inverse=True)  # classes of the test split
    names = [str(data.images.class_names[int(c)]) for c in present]
    log.info("explore: embedded the %d test images of %s", len(codes), source)
    return RunPoints("metric", emb, codes.reshape(-1).astype(np.int64), names, images, config, f"{source}: test split")


def shapes_factors(config: Config, factors: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The known factors as metadata columns: numbers, and names for type and family."""
    shapes = config.data.shapes
    out: dict[str, np.ndarray] = {
        "height": factors["height"].astype(np.float64),
        "radius": factors["radius"].astype(np.float64),
        "type": np.array([ORIENTATIONS[int(o)] for o in factors["orientation"]]),
    }
    if len(set(shapes.family)) > 1:
        out["family"] = np.array([FAMILIES[int(f)] for f in factors["family"]])
    if shapes.tilt[0] != shapes.tilt[1]:
        out["tilt"] = factors["tilt"].astype(np.float64)
    if shapes.shift[0] != shapes.shift[1]:
        out["shift x"] = factors["cx"].astype(np.float64) - shapes.size / 2
        out["shift y"] = factors["cy"].astype(np.float64) - shapes.size / 2
    return out


def _shapes_points(model: torch.nn.Module, config: Config, source: str, batch_size: int, progress: bool) -> RunPoints:
    shapes = config.data.shapes
    figures, factors = generate(shapes, config.data.n_train, seed=config.seed)
    mu = encode_figures(model, config, figures, batch_size, progress)
    meta = shapes_factors(config, factors)
    kinds = [f"type {t}" for t in meta["type"]]
    if "family" in meta:
        kinds = [f"{f} {k}" for f, k in zip(meta["family"], kinds)]
    codes, names = _codes(np.array(kinds))
    oracle = ValidityOracle(families=tuple(shapes.family), shapes_cfg=shapes).fit()
    return RunPoints("shapes", mu, codes, names, figures, config, f"{source}: training figures (posterior means)",
                     metadata=meta, model=model, oracle=oracle)  # fmt: skip


def run_points(
    run_dir: str | Path,
    checkpoint: str = "best",
    device: str | torch.device | None = None,
    batch_size: int = 512,
    progress: bool = False,
) -> RunPoints:
    """The points of a run folder, embedded (metric) or encoded (shapes) with its checkpoint.

    Args:
        run_dir: a folder written by `latentatlas train`.
        checkpoint: `best`, `last` or the path of a checkpoint file.
        device: where the model runs (`cpu`, `cuda`, `auto`); default CPU.
    """
    model, config = load_run_model(run_dir, checkpoint, device)
    source = f"{Path(run_dir).name} ({checkpoint} checkpoint)"
    build = _shapes_points if config.model.kind in AUTOENCODERS else _metric_points
    return build(model, config, source, batch_size, progress)
