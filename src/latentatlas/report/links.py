"""Links between pages written at different times: a report and the explorer written beside it later.

A report is written when its run (or `analyze`) ends; an explorer may come later (`latentatlas explore RUN_DIR`,
`analyze --explore`). `add_page_link` puts one marked link under an existing page's title (replacing the link of
the same name, so writing twice gives one link); `link_explorer` does it for an explorer inside a report's folder.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

from latentatlas.jsonio import write_text_atomic

__all__ = ["EXPLORER_DIR", "add_page_link", "explorer_page", "link_explorer"]

EXPLORER_DIR = "explorer"  # where a run's or an analysis's explorer goes by default
EXPLORER_TEXT = "Open the interactive explorer of these points"


def _marked(name: str, href: str, text: str) -> str:
    return (
        f'<p class="page-link" data-link="{html.escape(name)}"><a href="{html.escape(href)}">'
        f"{html.escape(text)}</a></p><!--/page-link-->"
    )


def add_page_link(page: str | Path, href: str, text: str, name: str = "explorer") -> bool:
    """Put a link to `href` under the title of the HTML page `page` (after its first `</h1>`, else `<body>`).

    Returns False (and writes nothing) when the page does not exist.
    """
    page = Path(page)
    if not page.is_file():
        return False
    text_in = page.read_text(encoding="utf-8")
    mark = re.escape(f'<p class="page-link" data-link="{html.escape(name)}">')
    body = re.sub(mark + r".*?<!--/page-link-->", "", text_in, flags=re.S)
    link = _marked(name, href, text)
    for anchor in ("</h1>", "<body>"):
        at = body.find(anchor)
        if at >= 0:
            body = body[: at + len(anchor)] + link + body[at + len(anchor) :]
            break
    else:
        body = link + body
    if body != text_in:
        write_text_atomic(page, body)
    return True


def explorer_page(folder: str | Path) -> Path | None:
    """The page of an explorer written into `folder` (index.html, or explorer.html of --single-file), or None."""
    for name in ("index.html", "explorer.html"):
        path = Path(folder) / name
        if path.is_file():
            return path
    return None


def link_explorer(report: str | Path, explorer_dir: str | Path | None = None) -> bool:
    """Link `report` (an HTML page) to the explorer in `explorer_dir` (default: `explorer/` beside the report).

    Returns whether a link was written (False when the report or the explorer does not exist).
    """
    report = Path(report)
    folder = Path(explorer_dir) if explorer_dir is not None else report.parent / EXPLORER_DIR
    page = explorer_page(folder)
    if page is None or not report.is_file():
        return False
    href = Path(os.path.relpath(page.resolve(), report.parent.resolve())).as_posix()
    return add_page_link(report, href, EXPLORER_TEXT)
