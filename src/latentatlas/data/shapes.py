"""Binary line drawings of simple solids (seed 004, "Draw me a cylinder"), drawn the way a person draws them.

Every figure is drawn in local coordinates `(u, v)`: `u` across the figure's axis, `v` along it (pointing
down the image for a standing figure), origin at the figure's center `(cx, cy)`. Ellipses have semi-axes
`radius` and `tilt * radius` (a circle seen slightly from above); where their back half is hidden only the
FRONT (lower, `v >= center`) half is drawn. A lying figure (orientation 1, "type II") swaps the roles of rows
and columns: it is the standing drawing transposed about its center (for these mirror-symmetric figures, a
90-degree rotation that puts the top on the left).

A pixel `(i, j)` covers `[j, j+1) x [i, i+1)`; it is ink when its center is within `stroke / 2` of a curve.
Rendering is vectorized: `u` and `v` are kept as `(n, 1, S)` / `(n, S, 1)` arrays so that every term of one
coordinate is computed on S values, and only sums and comparisons broadcast to `(n, S, S)`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from latentatlas.data.shapes_config import DEFAULT_TILT, FAMILIES, ORIENTATIONS, ShapesConfig
from latentatlas.errors import DataError

__all__ = ["FAMILIES", "ORIENTATIONS", "ShapesConfig", "draw_factors", "generate", "render"]

_CHUNK = 64  # images per vectorized block: (64, 64, 64) float32 = 1 MiB temporaries stay in cache


@dataclass(frozen=True)
class _Params:
    """Per-figure parameters as (n, 1, 1) float32 arrays; `hw` is half the stroke width."""

    h: np.ndarray  # height (axis length)
    r: np.ndarray  # radius: major semi-axis of the ellipses, half-width of the box
    b: np.ndarray  # minor semi-axis of the ellipses: tilt * radius
    hw: np.float32


# Primitives: `u`, `v` broadcast to (n, S, S); each returns (n, S, S) bool, True where a pixel center is ink.
# Terms of one coordinate are computed before the broadcast, so most work is on (n, 1, S) or (n, S, 1).


def _axis_segment(u, v, u0, v0, v1, hw):
    """Within `hw` of the segment {u = u0, v0 <= v <= v1} (exact Euclidean distance)."""
    du = u - u0
    dv = np.maximum(np.maximum(v0 - v, v - v1), 0)
    return du * du + dv * dv <= hw * hw


def _segment(u, v, u0, v0, u1, v1, hw):
    """Within `hw` of the segment (u0, v0)-(u1, v1): project onto it, clamp to the ends, measure the rest."""
    du, dv = u1 - u0, v1 - v0
    inv = 1 / (du * du + dv * dv)
    pu, pv = u - u0, v - v0
    t = np.clip(pu * (du * inv) + pv * (dv * inv), 0, 1)
    ru, rv = pu - t * du, pv - t * dv
    return ru * ru + rv * rv <= hw * hw


def _ellipse(u, v, vc, a, b, hw, front=None):
    """Within `hw` of the ellipse u^2/a^2 + (v-vc)^2/b^2 = 1; only its part with `v - vc >= front` if given.

    Uses the first-order (Sampson) distance |g| / |grad g| of g = u^2/a^2 + y^2/b^2 - 1 (Sampson 1982,
    Taubin 1991): accurate within a stroke of the curve and built from one-coordinate terms only, where the
    exact distance would need a root solve per pixel.
    """
    y = v - vc
    u2, y2 = u * u, y * y
    g = u2 / (a * a) + (y2 / (b * b) - 1)
    k = 4 * hw * hw
    ink = g * g <= u2 * (k / a**4) + y2 * (k / b**4)  # g^2 / |grad g|^2 <= hw^2
    return ink if front is None else ink & (y >= front)


def _inside_ellipse(u, v, vc, a, b):
    y = v - vc
    return (u * u) / (a * a) + (y * y) / (b * b) <= 1


def _diamond(u, v, vc, a, b, hw):
    """Within `hw` of the rhombus |u|/a + |v-vc|/b = 1 (a square seen from above, corner first).

    The distance to each edge's line is exact; the corners are cut square at `hw` past the vertex, since a
    mitered join at the flat rhombus' sharp side corners would overshoot by `hw / sin(atan(b/a))`.
    """
    y, au = np.abs(v - vc), np.abs(u)
    norm = np.sqrt(1 / (a * a) + 1 / (b * b))
    s = au * (1 / (a * norm)) + (y * (1 / (b * norm)) - 1 / norm)  # signed distance to the edge line
    return (np.abs(s) <= hw) & ((au <= a + hw) & (y <= b + hw))


def _inside_diamond(u, v, vc, a, b):
    return np.abs(u) / a + np.abs(v - vc) / b <= 1


def _stadium(u, v, r, half, hw, fill):
    """Within `hw` of the boundary of all points within `r` of the segment {u = 0, |v| <= half} (exact)."""
    dv = np.maximum(np.abs(v) - half, 0)
    d2 = u * u + dv * dv
    outer = d2 <= (r + hw) ** 2
    return outer if fill else outer & (d2 >= np.maximum(r - hw, 0) ** 2)


# Drawers: the strokes a person draws for each family; `fill` adds the silhouette's interior.


def _cylinder(u, v, p: _Params, fill: bool) -> np.ndarray:
    top, bot, au = -p.h / 2, p.h / 2, np.abs(u)
    ink = _axis_segment(au, v, p.r, top, bot, p.hw)  # both sides at once: the figure is mirror-symmetric
    ink |= _ellipse(u, v, top, p.r, p.b, p.hw)
    ink |= _ellipse(u, v, bot, p.r, p.b, p.hw, front=0)
    if fill:
        ink |= ((au <= p.r) & (np.abs(v) <= bot)) | _inside_ellipse(u, v, top, p.r, p.b)
        ink |= _inside_ellipse(u, v, bot, p.r, p.b)
    return ink


def _cone(u, v, p: _Params, fill: bool) -> np.ndarray:
    apex, base, au = -p.h / 2, p.h / 2, np.abs(u)
    # Tangent points from the apex (0, -h) to the base ellipse, from its polar line:
    # y_t = -b^2/h, x_t = a sqrt(1 - b^2/h^2) (relative to the base center).
    yt = -(p.b * p.b) / p.h
    xt = p.r * np.sqrt(1 - (p.b / p.h) ** 2)
    ink = _segment(au, v, 0, apex, xt, base + yt, p.hw)
    ink |= _ellipse(u, v, base, p.r, p.b, p.hw, front=yt)  # the visible arc, tangent point to tangent point
    if fill:
        ink |= ((au * (p.h + yt)) <= xt * (v - apex)) & (v <= base + yt)
        ink |= _inside_ellipse(u, v, base, p.r, p.b)
    return ink


def _sphere(u, v, p: _Params, fill: bool) -> np.ndarray:
    ink = _stadium(u, v, p.r, 0, p.hw, fill)
    return ink | _ellipse(u, v, 0, p.r, p.b, p.hw, front=0)  # front half of the equator


def _capsule(u, v, p: _Params, fill: bool) -> np.ndarray:
    ink = _stadium(u, v, p.r, p.h / 2, p.hw, fill)  # two sides and two half-circle caps
    ink |= _ellipse(u, v, -p.h / 2, p.r, p.b, p.hw, front=0)  # front halves of the two seams
    return ink | _ellipse(u, v, p.h / 2, p.r, p.b, p.hw, front=0)


def _box(u, v, p: _Params, fill: bool) -> np.ndarray:
    top, bot, au = -p.h / 2, p.h / 2, np.abs(u)
    ink = _diamond(u, v, top, p.r, p.b, p.hw)  # top face
    # Two front bottom edges, as exact segments in the mirror-folded frame: cutting the rhombus at v = bot
    # (as the ellipses are) would clip their strokes obliquely at the side corners.
    ink |= _segment(au, v, p.r, bot, 0, bot + p.b, p.hw)
    ink |= _axis_segment(au, v, p.r, top, bot, p.hw)  # left and right vertical edges
    ink |= _axis_segment(u, v, 0, top + p.b, bot + p.b, p.hw)  # front vertical edge
    if fill:
        ink |= ((au <= p.r) & (np.abs(v) <= bot)) | _inside_diamond(u, v, top, p.r, p.b)
        ink |= _inside_diamond(u, v, bot, p.r, p.b)
    return ink


_DRAWERS = {"cylinder": _cylinder, "cone": _cone, "sphere": _sphere, "capsule": _capsule, "box": _box}


def _family_codes(values: np.ndarray) -> np.ndarray:
    """Accept integer codes (indices into FAMILIES) or names; return int64 codes."""
    values = np.asarray(values)
    if values.dtype.kind in "iu":
        if values.size and (values.min() < 0 or values.max() >= len(FAMILIES)):
            raise DataError(f"family codes must be in 0..{len(FAMILIES) - 1} (indices into FAMILIES)")
        return values.astype(np.int64)
    names = [str(v) for v in values.ravel()]
    bad = sorted(set(names) - set(FAMILIES))
    if bad:
        raise DataError(f"family {bad[0]!r} is not one of {', '.join(FAMILIES)}")
    return np.array([FAMILIES.index(n) for n in names], dtype=np.int64).reshape(values.shape)


def render(factors: dict[str, np.ndarray], size: int = 64, stroke: float = 2.0, fill: bool = False) -> np.ndarray:
    """Draw figures from their factors.

    Args:
        factors: arrays of length N: `family` (int codes into FAMILIES, or names), `height`, `radius`
            (pixels), `orientation` (0 standing, 1 lying); optional `cx`, `cy` (pixels, default `size / 2`)
            and `tilt` (default 0.3). Scalars are broadcast.
        size: image side S in pixels.
        stroke: line width in pixels.
        fill: draw filled silhouettes (outline included) instead of outlines.

    Returns:
        images: (N, S, S) bool, True = ink.
    """
    missing = [k for k in ("family", "height", "radius", "orientation") if k not in factors]
    if missing:
        raise DataError(f"render: factors lack {', '.join(missing)}; pass arrays of length N for each")
    fam = _family_codes(factors["family"]).ravel()
    n = fam.shape[0]

    def column(key: str, default: float) -> np.ndarray:
        value = factors.get(key, default)
        arr = np.broadcast_to(np.asarray(value, dtype=np.float32), (n,)) if np.ndim(value) == 0 else value
        arr = np.asarray(arr, dtype=np.float32).ravel()
        if arr.shape[0] != n:
            raise DataError(f"render: factors[{key!r}] has {arr.shape[0]} values for {n} figures; give N each")
        return arr

    h, r = column("height", 0.0), column("radius", 0.0)
    cx, cy, tilt = column("cx", size / 2), column("cy", size / 2), column("tilt", DEFAULT_TILT)
    lying = column("orientation", 0.0) > 0.5
    images = np.zeros((n, size, size), dtype=bool)
    coords = np.arange(size, dtype=np.float32) + 0.5  # pixel centers
    hw = np.float32(stroke / 2)
    for code, name in enumerate(FAMILIES):
        for orient in (False, True):
            idx = np.flatnonzero((fam == code) & (lying == orient))
            for start in range(0, idx.size, _CHUNK):
                sub = idx[start : start + _CHUNK]
                if orient:  # lying: the across-axis coordinate runs down the rows, the axis along columns
                    u = coords[None, :, None] - cy[sub, None, None]  # (n, S, 1)
                    v = coords[None, None, :] - cx[sub, None, None]  # (n, 1, S)
                else:
                    u = coords[None, None, :] - cx[sub, None, None]  # (n, 1, S): x - cx
                    v = coords[None, :, None] - cy[sub, None, None]  # (n, S, 1): y - cy
                p = _Params(h[sub, None, None], r[sub, None, None], (tilt * r)[sub, None, None], hw)
                images[sub] = _DRAWERS[name](u, v, p, fill)
    return images


def draw_factors(cfg: ShapesConfig, n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Draw the factors of n figures, uniform in the config's ranges: `family`, `orientation` int64 and `height`,
    `radius`, `cx`, `cy`, `tilt` float32, each (n,).

    Every factor is drawn in a fixed order whatever the config, so a seed gives the same stream of draws. A sphere
    keeps its drawn height here (its drawing ignores it); `generate` records `2 * radius` for it.
    """
    codes = np.array([FAMILIES.index(f) for f in cfg.family], dtype=np.int64)
    return {
        "family": codes[rng.integers(0, len(codes), size=n)],
        "height": rng.uniform(*cfg.height, size=n).astype(np.float32),
        "radius": rng.uniform(*cfg.radius, size=n).astype(np.float32),
        "orientation": (rng.random(n) < cfg.p_lying).astype(np.int64),
        "cx": (cfg.size / 2 + rng.uniform(*cfg.shift, size=n)).astype(np.float32),
        "cy": (cfg.size / 2 + rng.uniform(*cfg.shift, size=n)).astype(np.float32),
        "tilt": rng.uniform(*cfg.tilt, size=n).astype(np.float32),
    }


def generate(cfg: ShapesConfig, n: int, seed: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Sample `n` figures with uniform factors and render them; deterministic for a seed.

    Returns:
        images: (N, S, S) bool; factors: `family` (int64 codes into FAMILIES), `height`, `radius`, `cx`, `cy`,
        `tilt` (float32, pixels or ratio) and `orientation` (int64, 0 = standing "I", 1 = lying "II").
    """
    cfg.validate()
    if n < 0:
        raise DataError(f"generate: n={n} is negative; ask for 0 or more images")
    factors = draw_factors(cfg, n, np.random.default_rng(seed))
    sphere = factors["family"] == FAMILIES.index("sphere")
    factors["height"][sphere] = 2 * factors["radius"][sphere]
    images = render(factors, size=cfg.size, stroke=cfg.stroke, fill=cfg.fill)
    return images, factors
