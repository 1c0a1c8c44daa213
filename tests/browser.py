"""Open a report in Debian's headless chromium through Playwright and record what a person would see go wrong."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pytest

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class PageCheck:
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    images: int = 0
    broken_images: list[str] = field(default_factory=list)


def chromium_or_skip() -> str:
    """Path of chromium; in CI a missing browser is a failure, elsewhere a skip with the fix."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("chromium not found: .ci/run installs it with apt-get install -y chromium")
        pytest.skip("chromium not installed (apt-get install -y chromium)")
    return path


def check_page(html_path: Path) -> PageCheck:
    """Load the page from file://, wait for it, and report console errors, requests and images that did not load."""
    from playwright.sync_api import sync_playwright

    result = PageCheck()
    url = html_path.resolve().as_uri()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=ARGS, headless=True)
        page = browser.new_page()
        page.on("console", lambda m: result.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: result.page_errors.append(str(e)))
        page.on("request", lambda r: result.outside_requests.append(r.url) if r.url != url else None)
        page.goto(url, wait_until="load")
        infos = page.eval_on_selector_all(
            "img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0, e.src.slice(0, 5)])"
        )
        browser.close()
    result.images = len(infos)
    result.broken_images = [alt for alt, ok, _ in infos if not ok]
    # data: URIs count as requests in some chromium versions; they never leave the file
    result.outside_requests = [u for u in result.outside_requests if not u.startswith("data:")]
    return result
