"""Render report pages to PNG with headless chromium, for the README's screenshots.

    python scripts/screenshots.py runs/<run>/report.html docs/images/run-report.png
    python scripts/screenshots.py PAGE.html OUT.png --width 1100 --height 1500   # the top 1500 px
    python scripts/screenshots.py PAGE.html OUT.png --selector .findings --selector table.quantities
    python scripts/screenshots.py PAGE.html OUT.png --from "h2:has-text('What the model gets wrong')" --height 900

The page is opened from file:// with no network (a request would fail the shot): what the PNG shows is what the
offline page shows. `--selector` shoots the union of the first element matched by each selector; `--from` starts
the shot at an element's top. Needs playwright and chromium (`apt-get install -y chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]  # fmt: skip


def _union(boxes: list[dict]) -> dict:
    x0, y0 = min(b["x"] for b in boxes), min(b["y"] for b in boxes)
    x1, y1 = max(b["x"] + b["width"] for b in boxes), max(b["y"] + b["height"] for b in boxes)
    return {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0}


def _clip(page, selectors: list[str], start: str | None, width: int, height: int | None) -> dict | None:
    """The region to shoot: the selected elements, or from `start` (or the top) down `height` pixels."""
    if selectors:
        boxes = [page.locator(s).first.bounding_box() for s in selectors]
        if any(b is None for b in boxes):
            raise SystemExit(f"no element matches {selectors[[b is None for b in boxes].index(True)]!r}")
        box = _union(boxes)
        pad = 8
        return {"x": max(0, box["x"] - pad), "y": max(0, box["y"] - pad), "width": box["width"] + 2 * pad,
                "height": box["height"] + 2 * pad}  # fmt: skip
    top = 0.0
    if start:
        box = page.locator(start).first.bounding_box()
        if box is None:
            raise SystemExit(f"no element matches {start!r}")
        top = box["y"] - 8
    full = page.evaluate("document.documentElement.scrollHeight")
    return {"x": 0, "y": top, "width": width, "height": min(height or full, full - top)}


def shoot(html: Path, out: Path, width: int, height: int | None, selectors: list[str], start: str | None) -> Path:
    from playwright.sync_api import sync_playwright

    browser_path = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser_path is None:
        raise SystemExit("chromium not found: apt-get install -y chromium")
    outside: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": 900}, device_scale_factor=1)
        url = html.resolve().as_uri()
        page.on("request", lambda r: outside.append(r.url) if r.url != url and not r.url.startswith("data:") else 0)
        page.goto(url, wait_until="load")
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out), clip=_clip(page, selectors, start, width, height), full_page=True)
        browser.close()
    if outside:
        raise SystemExit(f"{html}: the page requested {outside[0]}; a report must not")
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("page", type=Path, help="report.html to render")
    ap.add_argument("out", type=Path, help="PNG to write")
    ap.add_argument("--width", type=int, default=1100, help="viewport width in CSS pixels (default 1100)")
    ap.add_argument("--height", type=int, default=None, help="shoot at most this many pixels (default: all)")
    ap.add_argument("--selector", action="append", default=[], help="shoot these elements (repeatable)")
    ap.add_argument("--from", dest="start", default=None, help="start the shot at this element")
    args = ap.parse_args(argv)
    if not args.page.is_file():
        raise SystemExit(f"{args.page}: no such page")
    print(shoot(args.page, args.out, args.width, args.height, args.selector, args.start))
    return 0


if __name__ == "__main__":
    sys.exit(main())
