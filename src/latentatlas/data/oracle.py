"""Is a decoded image a valid figure? Best IoU against a dense bank of true renders (seed 004's claims as numbers).

The seed says AE decodes at the borders of the latent grid "lose their cylindrical structure" while VAE decodes
stay cylinders. Following the line benchmark of ACAI (Berthelot et al., 2019, "Understanding and Improving
Interpolation in Autoencoders via an Adversarial Regularizer"), an image counts as a valid figure when it is
close to SOME figure the generator can draw: the oracle renders a dense grid of true figures (heights x radii
x orientations x families), compares an image with all of them and keeps the best match.

The comparison is the IoU of the two images after a 3x3 dilation of both (`tolerance=1`): a fresh figure's
factors fall between bank points, and a decoder's strokes may be a little thicker, thinner or off by a pixel;
plain IoU of 2-px strokes punishes that as hard as a wrong shape. See docs/shapes.md for the measurements
behind the default threshold.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentatlas.data.shapes import generate, render
from latentatlas.data.shapes_config import FAMILIES, ShapesConfig
from latentatlas.errors import ConfigError, DataError

BANK_STEP_PX = 0.5  # default spacing of the bank's heights and radii
DEFAULT_THRESHOLD = 0.85
_TILT_LEVELS = 5  # bank tilts when the config samples tilt from a range


@dataclass
class OracleScores:
    """Per-image verdicts: `iou (N,)` float32 best (dilated) IoU, `valid (N,)` bool, best match's `factors`."""

    iou: np.ndarray
    valid: np.ndarray
    factors: dict[str, np.ndarray]

    @property
    def valid_rate(self) -> float:
        """Share of images judged valid (nan for no images)."""
        return float(self.valid.mean()) if self.valid.size else float("nan")


def dilate(images: np.ndarray, radius: int = 1) -> np.ndarray:
    """Binary dilation by a (2r+1) x (2r+1) square. images: (N, H, W) bool -> (N, H, W) bool."""
    out = images
    for _ in range(radius):  # a 3x3 square, applied r times, is the (2r+1) square; separable rows then columns
        p = np.pad(out, ((0, 0), (1, 1), (1, 1)))
        rows = p[:, :-2] | p[:, 1:-1] | p[:, 2:]
        out = rows[:, :, :-2] | rows[:, :, 1:-1] | rows[:, :, 2:]
    return out


def _linspace(lo: float, hi: float, count: int) -> np.ndarray:
    return np.linspace(lo, hi, count if hi > lo else 1, dtype=np.float32)


class ValidityOracle:
    """Judge images as valid figures by their best dilated IoU against a bank of true renders.

    Args:
        families: figure families that count as valid (names from FAMILIES).
        threshold: an image is valid when its best IoU is >= threshold.
        shapes_cfg: generator settings of the figures (size, ranges, stroke, fill, tilt, center); defaults to
            `ShapesConfig()`. Its `family` is replaced by `families`.
        bank_steps: bank points per factor, `(heights, radii)` or one int for both; None places one every
            0.5 px of each range (41 x 17 for the default cylinder ranges).
        tolerance: dilation radius in pixels applied to both images before the IoU (0 = plain IoU).
        chunk: images scored per matrix product (bounds memory: chunk x bank floats).
    """

    def __init__(
        self,
        families: Sequence[str] = ("cylinder",),
        threshold: float = DEFAULT_THRESHOLD,
        shapes_cfg: ShapesConfig | None = None,
        bank_steps: int | tuple[int, int] | None = None,
        tolerance: int = 1,
        chunk: int = 512,
    ) -> None:
        self.families = families
        self.threshold = threshold
        self.shapes_cfg = shapes_cfg
        self.bank_steps = bank_steps
        self.tolerance = tolerance
        self.chunk = chunk

    def _config(self) -> ShapesConfig:
        base = self.shapes_cfg if self.shapes_cfg is not None else ShapesConfig()
        cfg = dataclasses.replace(base, family=list(self.families))
        cfg.validate("oracle.shapes_cfg")
        if cfg.shift[0] != cfg.shift[1]:
            raise ConfigError(
                "oracle.shapes_cfg.shift: the oracle compares figures at one fixed center; "
                "set shift to a single value (low == high)"
            )
        if not 0.0 < self.threshold <= 1.0:
            raise ConfigError(f"oracle.threshold: {self.threshold} is not an IoU; use a value in (0, 1]")
        if self.tolerance < 0 or self.chunk < 1:
            raise ConfigError("oracle.tolerance/chunk: use tolerance >= 0 and chunk >= 1")
        return cfg

    def _steps(self, cfg: ShapesConfig) -> tuple[int, int]:
        if self.bank_steps is None:
            return tuple(int(round((hi - lo) / BANK_STEP_PX)) + 1 for lo, hi in (cfg.height, cfg.radius))
        steps = (self.bank_steps,) * 2 if isinstance(self.bank_steps, int) else tuple(self.bank_steps)
        if len(steps) != 2 or min(steps) < 1:
            raise ConfigError(f"oracle.bank_steps: {self.bank_steps!r}; give an int >= 1 or (heights, radii)")
        return steps

    def fit(self) -> ValidityOracle:
        """Render the bank of true figures; sets `cfg_`, `bank_factors_`, `bank_` and `bank_area_`."""
        cfg = self._config()
        n_h, n_r = self._steps(cfg)
        heights, radii = _linspace(*cfg.height, n_h), _linspace(*cfg.radius, n_r)
        tilts = _linspace(*cfg.tilt, _TILT_LEVELS)
        orients = [o for o, p in ((0, 1 - cfg.p_lying), (1, cfg.p_lying)) if p > 0]
        columns = []
        for name in cfg.family:
            hs = [np.float32(0)] if name == "sphere" else heights  # a sphere's height is its diameter
            grid = np.meshgrid(hs, radii, tilts, orients, indexing="ij")
            f, h, r, t, o = (np.full(grid[0].size, FAMILIES.index(name)), *(g.ravel() for g in grid))
            h = 2 * r if name == "sphere" else h
            columns.append((f, h, r, t, o))
        keys = ("family", "height", "radius", "tilt", "orientation")
        factors = {k: np.concatenate([c[i] for c in columns]) for i, k in enumerate(keys)}
        factors["family"] = factors["family"].astype(np.int64)
        factors["orientation"] = factors["orientation"].astype(np.int64)
        center = np.float32(cfg.size / 2 + cfg.shift[0])
        bank = render({**factors, "cx": center, "cy": center}, size=cfg.size, stroke=cfg.stroke, fill=cfg.fill)
        flat = dilate(bank, self.tolerance).reshape(len(bank), -1).astype(np.float32)  # (M, S*S)
        self.cfg_ = cfg
        self.bank_factors_ = factors
        self.bank_ = np.ascontiguousarray(flat.T)  # (S*S, M): images @ bank_ is the intersection matrix
        self.bank_area_ = flat.sum(axis=1)  # (M,)
        return self

    def _binarize(self, images) -> np.ndarray:
        if hasattr(images, "detach"):  # a torch tensor from a decoder
            images = images.detach().cpu().numpy()
        images = np.asarray(images)
        size = self.cfg_.size
        if images.ndim == 4 and images.shape[1] == 1:
            images = images[:, 0]  # (N, 1, S, S) decoder output
        if images.ndim != 3 or images.shape[1:] != (size, size):
            raise DataError(f"oracle: images of shape {images.shape}; expected (N, {size}, {size}) or (N, 1, ...)")
        if images.dtype == bool:
            return images
        if np.isnan(images).any():
            raise DataError("oracle: images contain NaN; pass probabilities or 0/1 values (apply sigmoid first)")
        return images >= 0.5

    def score(self, images) -> OracleScores:
        """Score images against the bank.

        Args:
            images: (N, S, S) or (N, 1, S, S) bool, or floats in [0, 1] (0/1 images or probability maps),
                numpy or torch; binarized at 0.5.

        Returns:
            OracleScores with the best IoU per image, `valid = iou >= threshold` and the best match's factors.
        """
        if not hasattr(self, "bank_"):
            raise DataError("oracle: call fit() before score(); ValidityOracle(...).fit() renders the bank")
        binary = self._binarize(images)
        n = len(binary)
        iou = np.zeros(n, dtype=np.float32)
        best = np.zeros(n, dtype=np.int64)
        for start in range(0, n, self.chunk):
            a = dilate(binary[start : start + self.chunk], self.tolerance).reshape(-1, self.bank_.shape[0])
            a = a.astype(np.float32)  # (C, S*S)
            inter = a @ self.bank_  # (C, M): |A and B| as a matrix product of 0/1 vectors
            union = a.sum(axis=1, keepdims=True) + self.bank_area_ - inter  # |A| + |B| - |A and B| > 0
            ratio = inter / union
            best[start : start + len(a)] = ratio.argmax(axis=1)
            iou[start : start + len(a)] = ratio.max(axis=1)
        factors = {k: v[best] for k, v in self.bank_factors_.items()}
        return OracleScores(iou=iou, valid=iou >= self.threshold, factors=factors)


def _shift_left_half(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Move the left half of each figure up or down by 4-8 px: a broken figure made of true strokes."""
    out = images.copy()
    half = images.shape[2] // 2
    for i, k in enumerate(rng.integers(4, 9, size=len(images)) * rng.choice([-1, 1], size=len(images))):
        out[i, :, :half] = np.roll(images[i, :, :half], k, axis=0)
    return out


def _blobs(n: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """Unions of 1-4 filled random ellipses: solid shapes that are no figure. -> (n, S, S) bool."""
    k = 4
    c = rng.uniform(0.25 * size, 0.75 * size, size=(n, k, 2, 1, 1))
    ax = rng.uniform(0.05 * size, 0.25 * size, size=(n, k, 2, 1, 1))
    used = np.arange(k)[None, :] < rng.integers(1, k + 1, size=(n, 1))  # (n, k)
    g = np.arange(size) + 0.5
    inside = ((g[None, None, None, :] - c[:, :, 0]) / ax[:, :, 0]) ** 2 + (
        (g[None, None, :, None] - c[:, :, 1]) / ax[:, :, 1]
    ) ** 2 <= 1  # (n, k, S, S)
    return (inside & used[:, :, None, None]).any(axis=1)


def calibrate(oracle: ValidityOracle, n: int = 1000, seed: int = 0) -> dict:
    """Measure the oracle on inputs whose answer is known.

    Fresh renders of the oracle's families with new random factors should be valid (target >= 0.99); uniform
    noise, blank and all-ones images, figures with their left half shifted, figures of other families and
    random blobs should not (target ~0).

    Returns:
        `{"n", "threshold", "rows": {name: {"valid_rate", "iou_median", "iou_min", "iou_max"}},
        "height_mae", "radius_mae", "orientation_accuracy", "family_accuracy"}` (errors on the fresh renders,
        in pixels).
    """
    if n < 1:
        raise DataError(f"calibrate: n={n}; use at least 1 image per row")
    if not hasattr(oracle, "bank_"):
        oracle.fit()
    cfg, size = oracle.cfg_, oracle.cfg_.size
    rng = np.random.default_rng(seed)
    fresh, truth = generate(cfg, n, seed)
    inputs = {
        "fresh renders": fresh,
        "uniform noise": rng.random((n, size, size), dtype=np.float32),
        "blank": np.zeros((n, size, size), dtype=bool),
        "all ones": np.ones((n, size, size), dtype=bool),
        "shifted halves": _shift_left_half(generate(cfg, n, seed + 1)[0], rng),
    }
    others = [f for f in FAMILIES if f not in cfg.family]
    for name in others:
        inputs[f"other family: {name}"] = generate(dataclasses.replace(cfg, family=[name]), n, seed + 2)[0]
    inputs["random blobs"] = _blobs(n, size, rng)
    rows, fresh_scores = {}, None
    for name, images in inputs.items():
        s = oracle.score(images)
        fresh_scores = s if fresh_scores is None else fresh_scores
        rows[name] = {
            "valid_rate": s.valid_rate,
            "iou_median": float(np.median(s.iou)),
            "iou_min": float(s.iou.min()),
            "iou_max": float(s.iou.max()),
        }
    rec = fresh_scores.factors
    return {
        "n": n,
        "threshold": oracle.threshold,
        "rows": rows,
        "height_mae": float(np.abs(rec["height"] - truth["height"]).mean()),
        "radius_mae": float(np.abs(rec["radius"] - truth["radius"]).mean()),
        "orientation_accuracy": float((rec["orientation"] == truth["orientation"]).mean()),
        "family_accuracy": float((rec["family"] == truth["family"]).mean()),
    }
