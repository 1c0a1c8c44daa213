"""Write or serve an `Explorable` and link it with the report it belongs to: the explorer links to the report, and
the report (when the explorer sits inside the report's folder, e.g. RUN_DIR/explorer/) links back."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from latentatlas.explorer.build import from_analysis
from latentatlas.explorer.data import ExplorerData
from latentatlas.explorer.server import ExplorerServer, open_server
from latentatlas.explorer.sources import Explorable
from latentatlas.explorer.write import write_explorer
from latentatlas.report.links import EXPLORER_DIR, link_explorer

__all__ = ["explore_analysis", "serve_linked", "write_linked"]

REPORT_TEXT = "Back to the report"


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve().is_relative_to(folder.resolve())


def linked_data(explorable: Explorable, out_dir: str | Path | None) -> ExplorerData:
    """The explorer's data with a link to its report, relative to `out_dir` (no link without an out_dir)."""
    report = explorable.report
    if report is None or out_dir is None or not report.is_file():
        return explorable.data
    href = Path(os.path.relpath(report.resolve(), Path(out_dir).resolve())).as_posix()
    return dataclasses.replace(explorable.data, links=[*explorable.data.links, (REPORT_TEXT, href)])


def _link_back(explorable: Explorable, out_dir: Path) -> None:
    report = explorable.report
    if report is not None and report.is_file() and _inside(out_dir, report.parent):
        link_explorer(report, out_dir)


def write_linked(
    explorable: Explorable, out_dir: str | Path, force: bool = False, single_file: bool = False,
    with_embeddings: bool = False, progress: Callable[[int, int], None] | None = None,
) -> Path:  # fmt: skip
    """`write_explorer` of the explorable's data into `out_dir`, linked with its report; returns the page."""
    out_dir = Path(out_dir)
    data = linked_data(explorable, out_dir)
    page = write_explorer(data, out_dir, force, single_file, with_embeddings, progress)
    _link_back(explorable, out_dir)
    return page


def serve_linked(
    explorable: Explorable, host: str = "127.0.0.1", port: int = 0, out_dir: str | Path | None = None,
    force: bool = False,
) -> ExplorerServer:  # fmt: skip
    """A bound (not yet serving) server for the explorable, with its live decoder; written into out_dir (or a
    temporary folder) and linked with its report as `write_linked` does."""
    data = linked_data(explorable, out_dir)
    server = open_server(data, host, port, explorable.decoder, explorable.oracle, out_dir, force)
    if out_dir is not None:
        _link_back(explorable, Path(out_dir))
    return server


def explore_analysis(analysis: Any, out_dir: str | Path, **kwargs: Any) -> Path:
    """An explorer of an `analyze` result in `out_dir/explorer/`, linked both ways with `out_dir/report.html`.

    Args:
        analysis: a `latentatlas.analysis.Analysis` (its map, ellipses and class matrix are reused).
        kwargs: metadata, thumbnails, neighbours_k, title (as in `from_analysis`).
    """
    out_dir = Path(out_dir)
    kwargs.setdefault("title", f"latentatlas explorer: {out_dir.name}")
    explorable = Explorable(from_analysis(analysis, **kwargs), report=out_dir / "report.html")
    return write_linked(explorable, out_dir / EXPLORER_DIR)
