"""Drive the explorer page in headless Debian chromium: open it, record what goes wrong, and find the screen
position of a data point from the page's own transform (window.__explorer)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pytest

from .browser import ARGS, chromium_or_skip


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_or_skip(), args=ARGS, headless=True)
        yield b
        b.close()


@dataclass
class Opened:
    page: object
    console_errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self, allowed_prefix: str) -> None:
        """No console or page error, and every request inside the page's own files."""
        assert self.console_errors == []
        outside = [u for u in self.requests if not u.startswith(allowed_prefix) and not u.startswith("data:")]
        assert outside == []

    def state(self) -> dict:
        return self.page.evaluate("__explorer.state()")

    def screen(self, xy) -> tuple[float, float]:
        """Window position of data point xy = (x, y), from the page's view and the canvas's place."""
        v = self.page.evaluate("__explorer.view()")
        r = self.page.evaluate("__explorer.canvasRect()")
        x, y = float(xy[0]), float(xy[1])
        return (
            r["left"] + v["width"] / 2 + (x - v["cx"]) * v["scale"],
            r["top"] + v["height"] / 2 - (y - v["cy"]) * v["scale"],
        )

    def canvas_xy(self, xy) -> tuple[float, float]:
        """Canvas pixel of data point xy."""
        r = self.page.evaluate("__explorer.canvasRect()")
        sx, sy = self.screen(xy)
        return sx - r["left"], sy - r["top"]


def open_page(browser, url: str, viewport=(1200, 800)) -> Opened:
    page = browser.new_page(viewport={"width": viewport[0], "height": viewport[1]})
    opened = Opened(page)
    page.on("console", lambda m: opened.console_errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: opened.console_errors.append(str(e)))
    page.on("request", lambda r: opened.requests.append(r.url))
    page.goto(url, wait_until="load")
    page.wait_for_function("window.__explorer && window.__explorer.ready", timeout=30_000)
    return opened


def isolated_point(opened: Opened, coords: np.ndarray, margin: float = 40) -> int:
    """Index of a point far (on screen) from every other one and from the canvas edges."""
    v = opened.page.evaluate("__explorer.view()")
    sx = v["width"] / 2 + (coords[:, 0] - v["cx"]) * v["scale"]
    sy = v["height"] / 2 - (coords[:, 1] - v["cy"]) * v["scale"]
    pts = np.stack([sx, sy], axis=1)
    d = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1))
    np.fill_diagonal(d, np.inf)
    inside = (sx > margin) & (sx < v["width"] - 300) & (sy > margin) & (sy < v["height"] - 150)
    score = np.where(inside, d.min(axis=1), -1)
    best = int(np.argmax(score))
    assert score[best] > 14, "no isolated point on the map; the test data are too dense"
    return best
