"""The explorers `latentatlas explore` and `analyze --explore` write, in a real headless chromium from file://: a
report's link opens its explorer, which opens clean with the colouring asked for and links back; a shapes run's
explorer opens clean in latent mode with its factors as colourings."""

from __future__ import annotations

import pytest

from latentatlas.cli.main import main

from .explore_browser import browser, open_page  # noqa: F401 (browser is a fixture)
from .explore_runs import labelled_npz, shapes_run

pytestmark = pytest.mark.browser


def test_report_link_opens_the_explorer_and_it_links_back(browser, tmp_path):  # noqa: F811
    labelled_npz(tmp_path / "emb.npz", images=True)
    assert main(["analyze", str(tmp_path / "emb.npz"), "--out", str(tmp_path / "a"), "--explore"]) == 0
    page = browser.new_page()
    page.goto((tmp_path / "a" / "report.html").as_uri(), wait_until="load")
    page.click("p.page-link a")
    page.wait_for_function("window.__explorer && window.__explorer.ready", timeout=30_000)
    assert page.url == (tmp_path / "a" / "explorer" / "index.html").as_uri()
    back = page.eval_on_selector("#notes p.links a", "a => [a.textContent, a.href]")
    assert back == ["Back to the report", (tmp_path / "a" / "report.html").as_uri()]
    page.close()


def test_shapes_run_explorer_opens_clean_with_its_factors(browser, tmp_path, capsys):  # noqa: F811
    run = shapes_run(tmp_path)
    assert main(["explore", str(run), "--grid", "8", "--color-by", "radius"]) == 0
    opened = open_page(browser, (run / "explorer" / "index.html").as_uri())
    fields = {f["name"]: f["key"] for f in opened.page.evaluate("__explorer.fields()")}
    assert {"class", "height", "radius", "type", "reconstruction valid"} <= set(fields)
    assert opened.state()["colorKey"] == fields["radius"]
    opened.page.evaluate("__explorer.setLatentMode(true)")
    assert opened.state()["latentMode"] is True
    href = opened.page.eval_on_selector("#notes p.links a", "a => a.href")
    assert href == (run / "report.html").as_uri()
    opened.assert_clean(run.as_uri() + "/explorer/")
    opened.page.close()
