"""`--pdf` for the commands that write a report page (train, demo, analyze, compare, sweep).

The option is checked before any work (no chromium: one line naming the fix, exit 2, nothing written), and the
PDF is printed next to the page once it exists.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from latentatlas.report.pdf import require_chromium, write_pdf

HELP = "also print the report to report.pdf next to report.html (needs chromium)"


def add_pdf_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pdf", action="store_true", help=HELP)


def check_pdf(args: argparse.Namespace) -> None:
    """Fail now, before any slow work, when `--pdf` was asked and chromium is missing."""
    if getattr(args, "pdf", False):
        require_chromium()


def write_report_pdf(args: argparse.Namespace, report: Path) -> Path | None:
    """Print `report` (report.html) to report.pdf beside it when `--pdf` was asked; returns the PDF's path."""
    if not getattr(args, "pdf", False):
        return None
    pdf = write_pdf(report, report.with_suffix(".pdf"))
    print(f"pdf: {pdf}")
    return pdf
