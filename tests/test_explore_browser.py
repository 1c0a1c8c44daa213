"""The static explorer in a real headless chromium (file://, no server): it opens clean (folder and single
file), hover shows a known point's label and thumbnail, a click lists the brute-force neighbours, hiding a class
removes its points, box and lasso selections count what Python counts, the heatmap highlights two classes."""

import numpy as np
import pytest
from matplotlib.path import Path as PolyPath

from latentatlas.explorer import ExplorerData, atlas, explorer_data, write_explorer

from .explore_browser import browser, isolated_point, open_page  # noqa: F401 (browser is a fixture)
from .explore_helpers import CLASS_NAMES, brute_knn, labelled

pytestmark = pytest.mark.browser
K = 10


@pytest.fixture(scope="module")
def explorers(tmp_path_factory):
    """Per metric: (data, folder page, single-file page), thumbnails spread over 12 sprite sheets."""
    rng = np.random.default_rng(3)
    x, y = labelled(rng, n=1200, d=10)
    thumbs = rng.integers(0, 256, size=(1200, 8, 8), dtype=np.uint8)
    meta = {"split": np.where(rng.random(1200) < 0.3, "train", "test"), "weight": rng.random(1200)}
    root = tmp_path_factory.mktemp("explore")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(atlas, "MAX_SIDE", 80)  # 10 x 10 tiles a sheet: 12 sheets
        for metric in ("cosine", "euclidean"):
            data = explorer_data(x, y, CLASS_NAMES, metric=metric, metadata=meta, thumbnails=thumbs, neighbours_k=K)
            folder = write_explorer(data, root / metric)
            single = write_explorer(data, root / f"{metric}-single", single_file=True) if metric == "cosine" else None
            out[metric] = (data, folder, single)
    return out


@pytest.fixture
def cosine_page(browser, explorers):  # noqa: F811
    data, folder, _ = explorers["cosine"]
    opened = open_page(browser, folder.as_uri())
    yield data, opened
    opened.assert_clean(folder.parent.as_uri() + "/")
    opened.page.close()


def test_folder_and_single_file_open_clean(browser, explorers):  # noqa: F811
    data, folder, single = explorers["cosine"]
    for page, prefix in ((folder, folder.parent.as_uri() + "/"), (single, single.as_uri())):
        opened = open_page(browser, page.as_uri())
        assert opened.page.evaluate("__explorer.n") == 1200
        assert opened.page.evaluate("__explorer.redraw()") >= 0
        assert any(u.endswith("/data/manifest.js") for u in opened.requests) == (page == folder)
        opened.assert_clean(prefix)
        opened.page.close()


def test_hover_shows_label_and_thumbnail(cosine_page):
    data, opened = cosine_page
    i = isolated_point(opened, data.coords)
    opened.page.mouse.move(*opened.screen(data.coords[i]))
    opened.page.wait_for_selector("#tooltip:not([hidden])")
    assert opened.page.inner_text("#tooltip [data-key=index]") == str(i)
    assert opened.page.inner_text("#tooltip [data-key=label]") == CLASS_NAMES[data.labels[i]]
    assert opened.page.inner_text("#tooltip [data-key=split]") == data.metadata["split"][i]
    rgba = opened.page.evaluate(
        "() => { const c = document.querySelector('#tooltip canvas');"
        " return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data); }"
    )
    np.testing.assert_array_equal(np.array(rgba).reshape(8, 8, 4)[..., 0], data.thumbnails[i])


@pytest.mark.parametrize("metric", ["cosine", "euclidean"])
def test_click_lists_the_brute_force_neighbours(browser, explorers, metric):  # noqa: F811
    data, folder, _ = explorers[metric]
    opened = open_page(browser, folder.as_uri())
    want_idx, want_dist = brute_knn(data.embeddings, K, metric)
    for i in {isolated_point(opened, data.coords), 0}:
        if i == 0:
            opened.page.evaluate("i => __explorer.clickPoint(i)", i)
        else:
            opened.page.mouse.click(*opened.screen(data.coords[i]))
        opened.page.wait_for_function(f"__explorer.state().clicked === {i} && __explorer.state().neighbours")
        got = opened.state()["neighbours"]
        assert [g["index"] for g in got] == want_idx[i].tolist()
        np.testing.assert_allclose([g["distance"] for g in got], want_dist[i], rtol=1e-5, atol=1e-6)
        rows = opened.page.eval_on_selector_all("#neighbour-table tr[data-index]", "r => r.map(e => +e.dataset.index)")
        assert rows == want_idx[i].tolist()
    opened.assert_clean(folder.parent.as_uri() + "/")
    opened.page.close()


def test_hiding_a_class_removes_its_points(cosine_page):
    data, opened = cosine_page
    i = isolated_point(opened, data.coords)
    c = int(data.labels[i])
    px, py = opened.canvas_xy(data.coords[i])
    assert opened.page.evaluate(f"__explorer.pixel({px}, {py})")[3] > 0
    opened.page.click(f"#legend .item[data-name={CLASS_NAMES[c]}]")
    st = opened.state()
    assert st["hidden"] == {"class": [c]} and st["visibleCount"] == int((data.labels != c).sum())
    assert not opened.page.evaluate(f"__explorer.isVisible({i})")
    assert opened.page.evaluate(f"__explorer.pixel({px}, {py})")[3] == 0
    opened.page.click(f"#legend .item[data-name={CLASS_NAMES[c]}]")
    assert opened.page.evaluate(f"__explorer.pixel({px}, {py})")[3] > 0


def _drag(page, points):
    page.mouse.move(*points[0])
    page.mouse.down()
    for p in points[1:]:
        page.mouse.move(*p, steps=4)
    page.mouse.up()


def test_box_selection_counts_and_csv(cosine_page):
    data, opened = cosine_page
    (x0, y0), (x1, y1) = np.quantile(data.coords, [0.3, 0.7], axis=0)
    opened.page.click("#tool-box")
    _drag(opened.page, [opened.screen((x0, y1)), opened.screen((x1, y0))])
    sel = opened.state()["selection"]
    bx0, by0, bx1, by1 = sel["box"]
    c = data.coords.astype(np.float64)
    inside = np.flatnonzero((c[:, 0] >= bx0) & (c[:, 0] <= bx1) & (c[:, 1] >= by0) & (c[:, 1] <= by1))
    assert len(inside) > 20 and sel["indices"] == inside.tolist()
    want = {CLASS_NAMES[k]: int(n) for k, n in enumerate(np.bincount(data.labels[inside], minlength=4)) if n}
    assert sel["counts"] == want
    rows = "r => r.map(e => [e.dataset.class, +e.cells[1].textContent])"
    shown = opened.page.eval_on_selector_all("#selection-counts tr", rows)
    assert dict(shown) == want
    with opened.page.expect_download() as download:
        opened.page.click("#save-selection")
    lines = download.value.path().read_text().splitlines()
    assert lines == ["index,label"] + [f"{i},{CLASS_NAMES[data.labels[i]]}" for i in inside]


def test_lasso_selection(cosine_page):
    data, opened = cosine_page
    lo, hi = np.quantile(data.coords, [0.2, 0.8], axis=0)
    mid = (lo + hi) / 2
    corners = [(lo[0], mid[1]), (mid[0], hi[1]), (hi[0], mid[1]), (mid[0], lo[1]), (lo[0], mid[1])]
    opened.page.click("#tool-lasso")
    _drag(opened.page, [opened.screen(p) for p in corners])
    sel = opened.state()["selection"]
    inside = np.flatnonzero(PolyPath(np.array(sel["polygon"])).contains_points(data.coords.astype(np.float64)))
    assert sel["kind"] == "lasso" and len(inside) > 20 and sel["indices"] == inside.tolist()


def test_heatmap_cell_highlights_two_classes_and_search_filters(cosine_page):
    data, opened = cosine_page
    i = isolated_point(opened, data.coords)
    others = [k for k in range(4) if k != data.labels[i]][:2]
    box = opened.page.locator("#heatmap-canvas").bounding_box()
    row, col = others
    opened.page.mouse.click(box["x"] + (col + 0.5) * box["width"] / 4, box["y"] + (row + 0.5) * box["height"] / 4)
    assert sorted(opened.state()["emphasisClasses"]) == sorted(others)
    px, py = opened.canvas_xy(data.coords[i])
    r, g, b, _ = opened.page.evaluate(f"__explorer.pixel({px}, {py})")
    assert r == g == b  # a ghost: its class is not one of the two
    searches = [("train", (data.metadata["split"] == "train").sum()), (CLASS_NAMES[2], (data.labels == 2).sum())]
    for text, count in searches:
        opened.page.fill("#search", text)
        opened.page.wait_for_function(f"__explorer.state().visibleCount === {int(count)}")


def test_colour_by_metadata_and_quantities(cosine_page):
    data, opened = cosine_page
    keys = {f["name"]: f["key"] for f in opened.page.evaluate("__explorer.fields()")}
    assert {"class", "split", "weight", "distance to class centre", "k-NN label agreement"} <= set(keys)
    opened.page.select_option("#color-by", keys["weight"])
    assert opened.page.locator("#legend .colorbar").count() == 1
    assert opened.page.locator("#class-list .item").count() == 4  # classes can still be hidden
    opened.page.select_option("#color-by", keys["split"])
    assert opened.page.eval_on_selector_all("#legend > .item", "r => r.map(e => e.dataset.name)") == ["test", "train"]


def test_wheel_zooms_about_the_cursor_and_drag_pans(cosine_page):
    data, opened = cosine_page
    page = opened.page
    r = page.evaluate("__explorer.canvasRect()")
    p = (round(r["left"] + 300), round(r["top"] + 250))  # whole pixels: mouse events carry whole client px
    under = page.evaluate(f"__explorer.toData({p[0] - r['left']}, {p[1] - r['top']})")
    scale = page.evaluate("__explorer.view().scale")
    page.mouse.move(*p)
    page.mouse.wheel(0, -200)
    page.wait_for_function(f"__explorer.view().scale > {scale}")
    np.testing.assert_allclose(page.evaluate(f"__explorer.toData({p[0] - r['left']}, {p[1] - r['top']})"), under)
    page.keyboard.down("Control")  # a touchpad pinch arrives as a wheel event with ctrlKey
    before = page.evaluate("__explorer.view().scale")
    page.mouse.wheel(0, 50)
    page.keyboard.up("Control")
    page.wait_for_function(f"__explorer.view().scale < {before}")
    assert page.evaluate("__explorer.view().scale") == pytest.approx(before * np.exp(-0.5), rel=1e-9)
    v0 = page.evaluate("__explorer.view()")
    _drag(page, [p, (p[0] + 60, p[1] + 40)])
    v1 = page.evaluate("__explorer.view()")
    assert v1["cx"] == pytest.approx(v0["cx"] - 60 / v0["scale"]) and v1["cy"] == pytest.approx(
        v0["cy"] + 40 / v0["scale"]
    )


def test_ellipses_overlay_in_class_colours(cosine_page):
    data, opened = cosine_page
    opened.page.check("#ellipses")
    e = data.ellipses.ellipses[1]
    px, py = opened.canvas_xy(e.center)
    ctx = "document.getElementById('overlay-canvas').getContext('2d')"
    rgba = opened.page.evaluate(f"Array.from({ctx}.getImageData({int(px)}, {int(py)}, 1, 1).data)")
    assert rgba == [0xFF, 0x7F, 0x0E, 255]  # class 1's colour (tab10 orange), the ellipse's centre dot


def test_density_shading_keeps_dense_and_sparse_apart(browser, tmp_path):  # noqa: F811
    rng = np.random.default_rng(0)
    xy = np.concatenate([rng.normal(size=(30_000, 2)) * 0.15, [[3.0, 3.0], [-3.0, -3.0]]]).astype(np.float32)
    page = write_explorer(ExplorerData(coords=xy), tmp_path / "dense")
    opened = open_page(browser, page.as_uri())
    opened.page.select_option("#point-size", "1")
    alpha = lambda p: opened.page.evaluate("([x, y]) => __explorer.pixel(x, y)[3]", list(opened.canvas_xy(p)))  # noqa: E731
    dense, lone = alpha((0.0, 0.0)), alpha((3.0, 3.0))
    assert dense > 200 and 60 < lone < 150  # the blob's centre is near opaque, a lone point light
    opened.page.uncheck("#density")
    assert alpha((3.0, 3.0)) == 255
    opened.assert_clean(page.parent.as_uri() + "/")
    opened.page.close()


def test_inline_notebook_iframe_runs_the_page(browser, explorers):  # noqa: F811
    from latentatlas.explorer.notebook import inline

    data, _, _ = explorers["cosine"]
    page = browser.new_page()
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.set_content("<html><body>" + inline(data)._repr_html_() + "</body></html>")
    frame = page.frame_locator("iframe")
    frame.locator("#legend .item").first.wait_for()
    assert frame.locator("#legend .item").count() == 4 and errors == []
    page.close()
