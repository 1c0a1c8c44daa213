"""Print a report page to PDF through headless chromium (`--pdf`); the page's print CSS lays it out for A4.

Chromium runs with a throw-away profile and no network features, so printing neither reads nor writes the user's
browser profile and makes no request; the PDF is written next to its target and renamed when complete.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from latentatlas.errors import LatentAtlasError

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-pdf-header-footer",
)
FIX = "install chromium (apt-get install -y chromium) or set LATENTATLAS_CHROMIUM, or print report.html from a browser"


def find_chromium() -> str | None:
    """The browser to print with: `LATENTATLAS_CHROMIUM` when set, else the first of BROWSERS on the PATH."""
    override = os.environ.get("LATENTATLAS_CHROMIUM")
    if override:
        return override if shutil.which(override) else None
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def require_chromium() -> str:
    """The browser `find_chromium` finds; a one-line `LatentAtlasError` naming the fix when there is none."""
    browser = find_chromium()
    if browser is None:
        raise LatentAtlasError(f"--pdf needs chromium, which is not installed: {FIX}")
    return browser


def write_pdf(html_path: str | Path, pdf_path: str | Path, timeout: float = 180.0) -> Path:
    """Print `html_path` to `pdf_path` with headless chromium; returns `pdf_path`.

    Raises:
        LatentAtlasError: no chromium, the page is missing, or chromium failed or wrote no PDF (one line each).
    """
    page, out = Path(html_path).resolve(), Path(pdf_path)
    if not page.is_file():
        raise LatentAtlasError(f"{page}: no such page to print; write the report first")
    browser = require_chromium()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    with tempfile.TemporaryDirectory(prefix="latentatlas-chromium-") as profile:
        cmd = [browser, *FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", page.as_uri()]
        try:
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired:
            tmp.unlink(missing_ok=True)
            raise LatentAtlasError(f"chromium did not print {page.name} within {timeout:.0f} s; retry") from None
    if done.returncode != 0 or not tmp.is_file() or tmp.read_bytes()[:5] != b"%PDF-":
        tmp.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise LatentAtlasError(f"chromium could not print {page.name} (exit {done.returncode}: {last}); {FIX}")
    tmp.replace(out)
    return out
