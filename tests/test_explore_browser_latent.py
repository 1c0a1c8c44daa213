"""Latent-plane mode and the served page in a real headless chromium: a hover shows the decode the model gives
at that position (static: the documented nearest grid position; served: exact) with the oracle's verdict as its
badge; morphs; 3-D slices; neighbours beyond the static limit come from the server."""

import numpy as np
import pytest
import torch

from latentatlas.explorer import data as data_module
from latentatlas.explorer import explorer_data, generative_explorer_data, model_decoder, write_explorer
from latentatlas.explorer.server import open_server
from latentatlas.latentmaps.morph import interpolate
from latentatlas.models.autoencoder import ConvVAE

from .explore_browser import browser, open_page  # noqa: F401 (browser is a fixture)
from .explore_helpers import brute_knn, labelled, render_decoder, render_valid

pytestmark = pytest.mark.browser


def _generative(rng, n, dim, decode=render_decoder, **kw):
    latents = rng.normal(size=(n, dim)).astype(np.float32)
    images = decode(latents) >= 0.5
    return generative_explorer_data(latents, decode, render_valid, images=images,
                                    metadata={"z1": latents[:, 0]}, **kw)  # fmt: skip


def _vae_decoder():
    """An untrained shapes VAE (latentatlas's ConvVAE): its decodes are what the page must show."""
    torch.manual_seed(0)
    return model_decoder(ConvVAE(latent_dim=2, widths=[4, 8, 8]))


@pytest.fixture(scope="module")
def static_pages(tmp_path_factory):
    rng = np.random.default_rng(11)
    root = tmp_path_factory.mktemp("latent")
    out = {}
    for key, dim, kw in ((2, 2, dict(grid_n=16)), (3, 3, dict(grid_n=10, n_slices=4)),
                         ("vae", 2, dict(grid_n=16, decode=_vae_decoder()))):  # fmt: skip
        data = _generative(rng, 300, dim, **kw)
        out[key] = (data, write_explorer(data, root / f"d{key}"), kw.get("decode", render_decoder))
    return out


def _cell_screen(opened, plane, iy, ix):
    """Window position a third of a cell off grid position (ix, iy): still nearest to it."""
    dx, dy = plane.xs[1] - plane.xs[0], plane.ys[1] - plane.ys[0]
    return opened.screen((plane.xs[ix] + 0.3 * dx, plane.ys[iy] - 0.3 * dy))


def _z(plane, x, y, rest):
    return plane.origin + x * plane.basis[0] + y * plane.basis[1] + np.asarray(rest) @ plane.basis[2:]


def _hover(opened, pos, cond):
    opened.page.mouse.move(*pos)
    opened.page.wait_for_function(f"(() => {{ const d = __explorer.latent().last; return d && {cond}; }})()")
    return opened.page.evaluate("__explorer.latent().last")


@pytest.mark.parametrize("key", [2, "vae"])
def test_static_hover_shows_the_nearest_grid_decode_and_its_verdict(browser, static_pages, key):  # noqa: F811
    data, page, decode = static_pages[key]
    opened = open_page(browser, page.as_uri())
    opened.page.click("#latent-mode")
    plane, g = data.latent.planes[0], 16
    seen = set()
    for iy, ix in [(8, 4), (8, 8), (3, 11), (12, 12), (5, 5), (11, 3)]:
        last = _hover(opened, _cell_screen(opened, plane, iy, ix), f"d.ix === {ix} && d.iy === {iy}")
        probs = decode(_z(plane, plane.xs[ix], plane.ys[iy], [])[None])
        np.testing.assert_array_equal(np.array(last["pixels"], bool), (probs[0] >= 0.5).ravel())
        valid = bool(render_valid(probs)[0])
        assert last["valid"] == valid and last["badge"] == ("valid" if valid else "not valid")
        assert last["source"] == "grid"
        seen.add(valid)
    assert seen == ({True, False} if key == 2 else {False})  # the untrained VAE draws no cylinder
    assert f"nearest of the {g} x {g} grid positions" in opened.page.inner_text("#decode-caption")
    opened.assert_clean(page.parent.as_uri() + "/")
    opened.page.close()


def test_static_morph_uses_the_nearest_grid_decodes(browser, static_pages):  # noqa: F811
    data, page, _ = static_pages[2]
    opened = open_page(browser, page.as_uri())
    opened.page.click("#latent-mode")
    plane = data.latent.planes[0]
    for iy, ix in [(4, 3), (12, 12)]:
        opened.page.mouse.click(*_cell_screen(opened, plane, iy, ix))
    opened.page.wait_for_function("__explorer.latent().morph !== null")
    morph = opened.page.evaluate("__explorer.latent().morph")
    (xa, ya), (xb, yb) = morph["ends"]
    path = interpolate(_z(plane, xa, ya, []), _z(plane, xb, yb, []), 12, "lerp")
    coords = (path - plane.origin) @ plane.basis[:2].T
    ix = np.clip(np.rint((coords[:, 0] - plane.xs[0]) / (plane.xs[1] - plane.xs[0])), 0, 15).astype(int)
    iy = np.clip(np.rint((coords[:, 1] - plane.ys[0]) / (plane.ys[1] - plane.ys[0])), 0, 15).astype(int)
    assert morph["valid"] == plane.valid[0, iy * 16 + ix].tolist() and morph["source"] == "grid"
    np.testing.assert_array_equal(np.array(morph["frames"][5], bool), plane.images[0, iy[5] * 16 + ix[5]].ravel())
    assert "12 steps" in opened.page.inner_text("#morph-caption")
    opened.page.close()


def test_static_3d_slider_snaps_to_precomputed_slices(browser, static_pages):  # noqa: F811
    data, page, _ = static_pages[3]
    opened = open_page(browser, page.as_uri())
    opened.page.click("#latent-mode")
    plane = data.latent.planes[0]
    opened.page.evaluate("s => { const e = document.getElementById('slice-slider'); e.value = s;"
                         " e.dispatchEvent(new Event('input')); }", 2)  # fmt: skip
    last = _hover(opened, _cell_screen(opened, plane, 5, 6), "d.ix === 6 && d.iy === 5")
    assert last["slice"] == 2
    probs = render_decoder(_z(plane, plane.xs[6], plane.ys[5], [plane.slice_values[2]])[None])
    np.testing.assert_array_equal(np.array(last["pixels"], bool), (probs[0] >= 0.5).ravel())
    assert last["valid"] == bool(render_valid(probs)[0])
    assert "4 precomputed slices" in opened.page.inner_text("#latent-controls")
    opened.page.close()


@pytest.fixture(scope="module")
def served_3d():
    data = _generative(np.random.default_rng(5), 200, 3, grid_n=6, n_slices=2)
    with open_server(data, decoder=render_decoder, oracle=render_valid) as server:
        server.start()
        yield data, server


def test_served_hover_decodes_exactly_and_sliders_move_freely(browser, served_3d):  # noqa: F811
    data, server = served_3d
    opened = open_page(browser, server.url)
    assert opened.state()["served"]
    opened.page.click("#latent-mode")
    plane = data.latent.planes[0]
    rest, prev_x = plane.others_default.copy(), None
    for step in range(2):
        if step == 1:  # a served slider takes any value, not only precomputed slices
            mid = float(np.mean(plane.others_range[0]))
            opened.page.evaluate("v => { const e = document.querySelector('.other-slider'); e.value = v;"
                                 " e.dispatchEvent(new Event('input')); }", mid)  # fmt: skip
            rest[0] = opened.page.evaluate("Number(document.querySelector('.other-slider').value)")
            assert rest[0] not in plane.slice_values
        pos = opened.screen(np.median(plane.coords, axis=0) + 0.05 * step)
        last = _hover(opened, pos, f"d.source === 'server' && d.x !== {prev_x if prev_x is not None else 'null'}")
        prev_x = last["x"]
        z = _z(plane, last["x"], last["y"], rest)
        np.testing.assert_allclose(last["z"], z, rtol=1e-9, atol=1e-9)
        probs = render_decoder(np.array(last["z"], np.float32)[None])
        np.testing.assert_array_equal(last["pixels"], np.rint(probs[0] * 255).astype(np.uint8).ravel())
        assert last["valid"] == bool(render_valid(probs)[0])
    opened.page.select_option("#plane-select", "dims:0:2")  # served: any plane of two dims or PCA axes
    mu = data.latent.latents
    coords = opened.page.evaluate("Array.from(__explorer.app.ds.coords)")
    np.testing.assert_array_equal(np.array(coords, np.float32).reshape(-1, 2), mu[:, [0, 2]])
    last = _hover(opened, opened.screen(np.median(mu[:, [0, 2]], axis=0)), f"d.source === 'server' && d.x !== {prev_x}")
    rest = np.sort(mu[:, 1].astype(np.float64))[(len(mu) - 1) // 2]  # the page's (lower) median of z2
    np.testing.assert_allclose(last["z"], [last["x"], rest, last["y"]], rtol=1e-12)
    opened.page.select_option("#morph-mode", "slerp")
    for frac in (0.2, 0.8):
        opened.page.mouse.click(*opened.screen(np.quantile(plane.coords, frac, axis=0)))
    opened.page.wait_for_function("__explorer.latent().morph && __explorer.latent().morph.source === 'server'")
    assert len(opened.page.evaluate("__explorer.latent().morph.valid")) == 12
    opened.assert_clean(server.url)
    opened.page.close()


def test_neighbours_beyond_the_static_limit_come_from_the_server(browser, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setattr(data_module, "STATIC_NEIGHBOURS_MAX_N", 100)
    monkeypatch.setattr("latentatlas.explorer.build.STATIC_NEIGHBOURS_MAX_N", 100)
    x, y = labelled(np.random.default_rng(2), n=300, d=8)
    data = explorer_data(x, y, metric="euclidean")
    static = open_page(browser, write_explorer(data, tmp_path / "static").as_uri())
    static.page.evaluate("__explorer.clickPoint(17)")
    assert "--serve" in static.state()["neighbourNote"] and static.state()["neighbours"] is None
    static.page.close()
    with open_server(data) as server:
        server.start()
        opened = open_page(browser, server.url)
        opened.page.evaluate("__explorer.clickPoint(17)")
        opened.page.wait_for_function("__explorer.state().neighbours !== null")
        got = [g["index"] for g in opened.state()["neighbours"]]
        assert got == brute_knn(x, 10, "euclidean")[0][17].tolist()
        opened.page.evaluate("__explorer.app.setSelection({kind: 'box', box: [0, 0, 1, 1], indices: [3, 5, 8]})")
        opened.page.click("#save-selection")
        opened.page.wait_for_selector("#selection-status")
        assert "selections/selection-3.csv" in opened.page.inner_text("#selection-status")
        lines = (server.httpd.root / "selections" / "selection-3.csv").read_text().splitlines()
        assert lines == ["index,label", f"3,{y[3]}", f"5,{y[5]}", f"8,{y[8]}"]
        opened.assert_clean(server.url)
        opened.page.close()
