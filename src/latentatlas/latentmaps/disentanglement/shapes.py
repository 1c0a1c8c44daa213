"""The shapes lab as a source of factors: which factors vary, fresh draws with one factor fixed, and codes.

The factors of a figure are those `latentatlas.data.shapes.generate` draws: `family` (when the config has
several), `orientation` (type I standing / II lying, when `0 < p_lying < 1`), `height`, `radius`, and the
centre `cx`, `cy` and `tilt` when their ranges are not a single value. A factor the config keeps fixed is left
out (it is constant, and the scores refuse constant factors).

`family` and `orientation` are discrete (int codes); the others continuous. A sphere has no height of its own:
`generate` records `2 * radius` for it, and its drawing ignores the height, so in `ShapesSampler` a fixed
height is simply invisible on the spheres of a batch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from latentatlas.data.shapes import ShapesConfig, draw_factors, render
from latentatlas.errors import ConfigError
from latentatlas.latentmaps.codec import encode_dataset

SHAPES_FACTORS = ("family", "orientation", "height", "radius", "cx", "cy", "tilt")
_DISCRETE = ("family", "orientation")


def shapes_factor_names(cfg: ShapesConfig) -> tuple[str, ...]:
    """The factors that vary under a shapes config, in `SHAPES_FACTORS` order."""
    varies = {
        "family": len(set(cfg.family)) > 1,
        "orientation": 0.0 < cfg.p_lying < 1.0,
        "height": cfg.height[0] < cfg.height[1],
        "radius": cfg.radius[0] < cfg.radius[1],
        "cx": cfg.shift[0] < cfg.shift[1],
        "cy": cfg.shift[0] < cfg.shift[1],
        "tilt": cfg.tilt[0] < cfg.tilt[1],
    }
    return tuple(name for name in SHAPES_FACTORS if varies[name])


def shapes_factors(factors: dict[str, np.ndarray], cfg: ShapesConfig) -> dict[str, np.ndarray]:
    """The varying columns of `generate`'s factors, ready for `mig`, `dci`, `sap`: {name: (N,)}."""
    names = shapes_factor_names(cfg)
    if not names:
        raise ConfigError("data.shapes: no factor varies (one family, one type, fixed ranges); nothing to score")
    return {name: np.asarray(factors[name]) for name in names}


class ShapesSampler:
    """`FactorSampler` of the shapes lab: factors drawn as `generate` draws them, codes = the model's means.

    Args:
        model: an AE/VAE with `encode(x (B, 1, S, S)) -> (mu (B, L), logvar | None)`.
        cfg: generator settings of the figures (those the model was trained on).
        batch_size: figures per forward pass of the encoder.
    """

    def __init__(self, model: torch.nn.Module, cfg: ShapesConfig, batch_size: int = 256) -> None:
        cfg.validate()
        self.model, self.cfg, self.batch_size = model, cfg, batch_size
        self.factor_names = shapes_factor_names(cfg)
        if not self.factor_names:
            raise ConfigError("data.shapes: no factor varies (one family, one type, fixed ranges); nothing to score")
        self._fixed = draw_factors(cfg, 1, np.random.default_rng(0))  # values of the factors that do not vary

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """(n, K) float64 factors, columns in `factor_names` order."""
        drawn = draw_factors(self.cfg, n, rng)
        return np.stack([drawn[name].astype(np.float64) for name in self.factor_names], axis=1)

    def render(self, factors: np.ndarray) -> np.ndarray:
        """Figures of factor rows (n, K): (n, S, S) bool."""
        columns: dict[str, Any] = {name: value[0] for name, value in self._fixed.items()}  # scalars broadcast
        for k, name in enumerate(self.factor_names):
            col = factors[:, k]
            columns[name] = np.rint(col).astype(np.int64) if name in _DISCRETE else col.astype(np.float32)
        columns["family"] = np.broadcast_to(columns["family"], (len(factors),))
        return render(columns, size=self.cfg.size, stroke=self.cfg.stroke, fill=self.cfg.fill)

    def encode(self, images: np.ndarray) -> np.ndarray:
        """Posterior means of figures (n, S, S): (n, L) float64."""
        return encode_dataset(self.model, images, self.batch_size)[0].astype(np.float64)

    def observe(self, factors: np.ndarray) -> np.ndarray:
        """Codes of the figures with these factors: (n, K) -> (n, L) float64."""
        return self.encode(self.render(np.asarray(factors)))
