"""The figure generator: determinism, factor ranges, geometry against a brute-force reference, continuity, CLI."""

from __future__ import annotations

from collections import deque

import numpy as np
import pytest

from latentatlas.cli.main import main
from latentatlas.data.shapes import FAMILIES, ShapesConfig, generate, render
from latentatlas.errors import ConfigError, DataError


def components(mask: np.ndarray, diagonal: bool) -> int:
    """Connected components of a 2-D bool mask by breadth-first flood fill (plain loops: the reference)."""
    steps = [(-1, 0), (1, 0), (0, -1), (0, 1)]
    steps += [(-1, -1), (-1, 1), (1, -1), (1, 1)] if diagonal else []
    seen = np.zeros_like(mask, dtype=bool)
    count = 0
    for i, j in zip(*np.nonzero(mask)):
        if seen[i, j]:
            continue
        count += 1
        seen[i, j] = True
        queue = deque([(i, j)])
        while queue:
            a, b = queue.popleft()
            for da, db in steps:
                y, x = a + da, b + db
                if 0 <= y < mask.shape[0] and 0 <= x < mask.shape[1] and mask[y, x] and not seen[y, x]:
                    seen[y, x] = True
                    queue.append((y, x))
    return count


def curve_points(family: str, h: float, r: float, t: float) -> np.ndarray:
    """Dense points (about 0.02 px apart) on the strokes of a standing figure centered at 0: (P, 2) as (u, v)."""
    b = t * r
    s = np.linspace(0, 1, 4000)[:, None]

    def seg(p, q):
        return np.asarray(p) * (1 - s) + np.asarray(q) * s

    def arc(vc, a, bb, lo, hi):  # ellipse points with angle in [lo, hi]; angle pi/2 is the front (v > vc)
        th = np.linspace(lo, hi, 4000)
        return np.stack([a * np.cos(th), vc + bb * np.sin(th)], axis=1)

    top, bot = -h / 2, h / 2
    if family == "cylinder":
        parts = [seg((-r, top), (-r, bot)), seg((r, top), (r, bot)), arc(top, r, b, 0, 2 * np.pi)]
        parts.append(arc(bot, r, b, 0, np.pi))
    elif family == "cone":
        yt, xt = -(b**2) / h, r * np.sqrt(1 - (b / h) ** 2)
        start = np.arcsin(yt / b)  # the tangent point's angle (slightly behind the front half)
        parts = [seg((0, top), (xt, bot + yt)), seg((0, top), (-xt, bot + yt)), arc(bot, r, b, start, np.pi - start)]
    elif family == "sphere":
        parts = [arc(0, r, r, 0, 2 * np.pi), arc(0, r, b, 0, np.pi)]
    elif family == "capsule":
        parts = [seg((-r, top), (-r, bot)), seg((r, top), (r, bot)), arc(top, r, r, np.pi, 2 * np.pi)]
        parts += [arc(bot, r, r, 0, np.pi), arc(top, r, b, 0, np.pi), arc(bot, r, b, 0, np.pi)]
    else:  # box: top rhombus, front V, three vertical edges
        rhombus = [(-r, top), (0, top - b), (r, top), (0, top + b), (-r, top)]
        parts = [seg(p, q) for p, q in zip(rhombus[:-1], rhombus[1:])]
        parts += [seg((-r, bot), (0, bot + b)), seg((0, bot + b), (r, bot))]
        parts += [seg((-r, top), (-r, bot)), seg((r, top), (r, bot)), seg((0, top + b), (0, bot + b))]
    return np.concatenate(parts)


def reference_distance(points: np.ndarray, size: int, lying: bool) -> np.ndarray:
    """Distance from each pixel center to the nearest curve point, pixel by pixel. -> (S, S)."""
    c = size / 2
    out = np.empty((size, size))
    for i in range(size):
        for j in range(size):
            x, y = j + 0.5 - c, i + 0.5 - c
            u, v = (y, x) if lying else (x, y)
            out[i, j] = np.sqrt(((points[:, 0] - u) ** 2 + (points[:, 1] - v) ** 2).min())
    return out


@pytest.mark.parametrize("family", FAMILIES)
def test_render_matches_brute_force_distance(family):
    rng = np.random.default_rng(FAMILIES.index(family))
    h, r, t, lying = rng.uniform(14, 30), rng.uniform(6, 13), rng.uniform(0.2, 0.5), bool(rng.integers(2))
    h = 2 * r if family == "sphere" else h
    img = render({"family": [family], "height": [h], "radius": [r], "orientation": [int(lying)], "tilt": [t]})[0]
    dist = reference_distance(curve_points(family, h, r, t), 64, lying)
    # Segments and circles are exact (up to the reference's sampling); the ellipses' first-order (Sampson)
    # distance is within 0.35 px of the true one where it decides, for tilts >= 0.2.
    assert img[dist <= 1.0 - 0.35].all()
    assert not img[dist >= 1.0 + 0.35].any()


def test_generate_is_deterministic_for_a_seed():
    cfg = ShapesConfig(family=list(FAMILIES), height=(12.0, 26.0), tilt=(0.2, 0.4), shift=(-2.0, 2.0))
    a, fa = generate(cfg, 40, seed=3)
    b, fb = generate(cfg, 40, seed=3)
    c, _ = generate(cfg, 40, seed=4)
    assert np.array_equal(a, b) and all(np.array_equal(fa[k], fb[k]) for k in fa)
    assert not np.array_equal(a, c)


def test_factors_respect_ranges_and_images_are_binary():
    cfg = ShapesConfig(family=["cylinder", "sphere", "box"], height=(15, 25), radius=(7, 9), p_lying=0.3)
    images, f = generate(cfg, 600, seed=0)
    assert images.dtype == bool and images.shape == (600, 64, 64)
    assert set(np.unique(f["family"])) == {FAMILIES.index(n) for n in cfg.family}
    assert f["radius"].min() >= 7 and f["radius"].max() <= 9
    sphere = f["family"] == FAMILIES.index("sphere")
    assert np.allclose(f["height"][sphere], 2 * f["radius"][sphere])
    assert f["height"][~sphere].min() >= 15 and f["height"][~sphere].max() <= 25
    assert abs(f["orientation"].mean() - 0.3) < 0.06
    assert np.all((f["cx"] == 32) & (f["cy"] == 32) & np.isclose(f["tilt"], 0.3))


@pytest.mark.parametrize("family", FAMILIES)
def test_largest_figures_leave_the_border_blank(family):
    cfg = ShapesConfig(family=[family])
    corners = [(h, r, o) for h in cfg.height for r in cfg.radius for o in (0, 1)]
    h, r, o = (np.array(x) for x in zip(*corners))
    images = np.concatenate([render({"family": [family] * len(h), "height": h, "radius": r, "orientation": o})])
    images = np.concatenate([images, generate(cfg, 200, seed=1)[0]])
    border = images[:, [0, -1], :].any() or images[:, :, [0, -1]].any()
    assert not border


@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("stroke", [1.0, 2.0])
def test_strokes_are_continuous(family, stroke):
    cfg = ShapesConfig(family=[family], stroke=stroke, tilt=(0.15, 0.6))
    images, _ = generate(cfg, 25, seed=2)
    assert [components(im, diagonal=True) for im in images] == [1] * len(images)


@pytest.mark.parametrize("family", FAMILIES)
def test_fill_is_a_solid_superset_of_the_outline(family):
    cfg = ShapesConfig(family=[family])
    outline, _ = generate(cfg, 20, seed=5)
    filled, _ = generate(ShapesConfig(family=[family], fill=True), 20, seed=5)
    assert (filled >= outline).all() and (filled.sum((1, 2)) > outline.sum((1, 2))).all()
    # No holes: the blank pixels of a filled figure are one 4-connected region (the outside).
    assert [components(~im, diagonal=False) for im in filled] == [1] * len(filled)


@pytest.mark.parametrize("family", FAMILIES)
def test_lying_is_the_standing_figure_transposed(family):
    rng = np.random.default_rng(7)
    f = {"family": [family] * 6, "height": rng.uniform(12, 30, 6), "radius": rng.uniform(6, 13, 6)}
    standing = render({**f, "orientation": np.zeros(6, int)})
    lying = render({**f, "orientation": np.ones(6, int)})
    assert np.array_equal(lying, standing.transpose(0, 2, 1))


def test_bounding_box_matches_the_factors():
    h, r, t = np.array([20.0, 30.0]), np.array([8.0, 12.0]), 0.3
    img = render({"family": ["cylinder"] * 2, "height": h, "radius": r, "orientation": [0, 1]})
    for k, lying in enumerate((False, True)):
        rows, cols = np.nonzero(img[k])
        tall, wide = np.ptp(rows) + 1, np.ptp(cols) + 1
        tall, wide = (wide, tall) if lying else (tall, wide)
        # Ink spans the curve's extent plus the stroke (2 px), up to one pixel of rounding (exact sides) and
        # the ellipses' 0.35 px distance approximation at each end (ellipse tops).
        assert abs(tall - (h[k] + 2 * t * r[k] + 2)) <= 1 + 2 * 0.35
        assert abs(wide - (2 * r[k] + 2)) <= 1


def test_family_names_and_codes_render_the_same():
    f = {"height": [20, 25], "radius": [8, 10], "orientation": [0, 1]}
    assert np.array_equal(render({**f, "family": ["cone", "box"]}), render({**f, "family": np.array([1, 4])}))
    with pytest.raises(DataError, match="'cyl' is not one of"):
        render({**f, "family": ["cyl", "box"]})
    with pytest.raises(DataError, match="lack orientation"):
        render({"family": [0], "height": [1], "radius": [1]})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"family": ["cilinder"]}, r"data\.shapes\.family: 'cilinder' is not one of cylinder, cone, sphere"),
        ({"family": "cylinder"}, r"data\.shapes\.family: 'cylinder' is a string; write a list"),
        ({"size": 0}, r"data\.shapes\.size: 0 is too small"),
        ({"height": (30.0, 20.0)}, r"data\.shapes\.height: low 30.0 > high 20.0"),
        ({"radius": (-1.0, 5.0)}, r"data\.shapes\.radius: -1.0 is not positive"),
        ({"stroke": 0.5}, r"data\.shapes\.stroke: 0.5 leaves gaps"),
        ({"p_lying": 1.5}, r"data\.shapes\.p_lying"),
        ({"radius": (6.0, 32.0)}, r"data\.shapes\.height/radius: a cylinder .* fit in a 64-px image"),
        ({"family": ["capsule"], "height": (12.0, 40.0)}, r"a capsule of height 40"),
        ({"family": ["cone"], "height": (2.0, 20.0)}, r"data\.shapes\.height: a cone needs height > tilt"),
    ],
)
def test_config_validation_names_the_key(changes, message):
    with pytest.raises(ConfigError, match=message):
        ShapesConfig(**changes).validate()


def test_default_config_is_valid_for_every_family():
    for family in FAMILIES:
        ShapesConfig(family=[family]).validate()


def test_cli_preview_writes_a_png_and_refuses_to_overwrite(tmp_path, capsys):
    out = tmp_path / "grid.png"
    assert main(["shapes", "preview", "--family", "cylinder", "--n", "4", "--seed", "0", "--out", str(out)]) == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    before = out.stat().st_mtime_ns
    assert main(["shapes", "preview", "--n", "4", "--out", str(out)]) == 2
    assert "exists; pass --force" in capsys.readouterr().err
    assert out.stat().st_mtime_ns == before
    assert main(["shapes", "preview", "--n", "4", "--out", str(out), "--force", "--fill"]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--family", "cilinder"], "'cilinder' is not one of"), (["--n", "0"], "--n: 0; ask for at least 1")],
)
def test_cli_rejects_bad_input(tmp_path, capsys, args, message):
    assert main(["shapes", "preview", *args, "--out", str(tmp_path / "g.png")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "g.png").exists()
