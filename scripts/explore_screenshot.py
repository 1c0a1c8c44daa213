"""Screenshot an explorer written by `latentatlas explore` in headless chromium, for docs/explore.md.

    python scripts/explore_screenshot.py RUN_DIR/explorer docs/images/explore-cifar10.png
    python scripts/explore_screenshot.py RUN_DIR/explorer docs/images/explore-shapes-vae.png --latent

Points mode: the ellipses on, one point clicked (its nearest neighbours listed), another hovered (its tooltip
and picture). --latent: latent-plane mode, a morph between two clicked positions, the decode under the mouse.
The page is opened from file:// with no network, as a user would open it.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


def _screen(page, xy) -> tuple[float, float]:
    v, r = page.evaluate("__explorer.view()"), page.evaluate("__explorer.canvasRect()")
    return (r["left"] + v["width"] / 2 + (xy[0] - v["cx"]) * v["scale"],
            r["top"] + v["height"] / 2 - (xy[1] - v["cy"]) * v["scale"])  # fmt: skip


def _coords(page) -> np.ndarray:
    flat = page.evaluate("Array.from(__explorer.app.ds.coords)")
    return np.asarray(flat, dtype=np.float64).reshape(-1, 2)


def _typical(coords: np.ndarray, labels: np.ndarray, cls: int) -> int:
    """The point of class `cls` nearest its class median on the map."""
    idx = np.flatnonzero(labels == cls)
    centre = np.median(coords[idx], axis=0)
    return int(idx[np.argmin(((coords[idx] - centre) ** 2).sum(1))])


def points_shot(page) -> None:
    coords = _coords(page)
    labels = np.asarray(page.evaluate("Array.from(__explorer.app.ds.labels || [])"), dtype=np.int64)
    if page.is_visible("#ellipses"):
        page.check("#ellipses")
    page.mouse.click(*_screen(page, coords[_typical(coords, labels, 0)]))
    page.wait_for_timeout(300)
    page.mouse.move(*_screen(page, coords[_typical(coords, labels, int(labels.max()) // 2)]))
    page.wait_for_timeout(300)


def latent_shot(page) -> None:
    page.click("#latent-mode")
    coords = _coords(page)
    for q in (0.15, 0.85):
        page.mouse.click(*_screen(page, np.quantile(coords, q, axis=0)))
        page.wait_for_timeout(200)
    page.wait_for_function("__explorer.latent().morph !== null")
    page.mouse.move(*_screen(page, np.quantile(coords, 0.6, axis=0)))
    page.wait_for_function("__explorer.latent().last !== null")
    page.wait_for_timeout(300)


def main() -> None:
    from playwright.sync_api import sync_playwright

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("explorer", type=Path, help="an explorer folder (index.html inside)")
    p.add_argument("out", type=Path, help="PNG to write")
    p.add_argument("--latent", action="store_true", help="latent-plane mode with a morph")
    p.add_argument("--width", type=int, default=1400)
    p.add_argument("--height", type=int, default=860)
    args = p.parse_args()
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=shutil.which("chromium"), args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": args.width, "height": args.height})
        page.goto((args.explorer / "index.html").resolve().as_uri(), wait_until="load")
        page.wait_for_function("window.__explorer && window.__explorer.ready", timeout=60_000)
        (latent_shot if args.latent else points_shot)(page)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(args.out))
        browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
