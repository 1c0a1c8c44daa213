"""Printing a report to PDF through headless chromium, and the one-line errors where it cannot."""

import re

import pytest

from latentatlas.errors import LatentAtlasError
from latentatlas.report import html
from latentatlas.report.pdf import write_pdf

from .browser import chromium_or_skip


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.mark.browser
def test_a_report_prints_to_pdf_with_its_details_opened(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTATLAS_CHROMIUM", chromium_or_skip())
    short = html.write_page(tmp_path / "short.html", "A report", "<p>one line</p>")
    long_body = html.details("Details", "<p>a line of the details section</p>" * 150)
    long = html.write_page(tmp_path / "long.html", "A report", "<p>one line</p>" + long_body)
    a = write_pdf(short, tmp_path / "out" / "short.pdf").read_bytes()
    b = write_pdf(long, tmp_path / "long.pdf").read_bytes()
    assert a.startswith(b"%PDF-") and b.startswith(b"%PDF-")
    assert pages(a) == 1 and pages(b) >= 3  # the closed <details> is printed open
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / "out").glob(".*.tmp"))


def test_without_chromium_the_error_names_the_fix(tmp_path, monkeypatch):
    page = html.write_page(tmp_path / "r.html", "A report", "<p>x</p>")
    monkeypatch.setenv("LATENTATLAS_CHROMIUM", str(tmp_path / "no-such-browser"))
    with pytest.raises(LatentAtlasError, match=r"--pdf needs chromium.*apt-get install -y chromium"):
        write_pdf(page, tmp_path / "r.pdf")
    with pytest.raises(LatentAtlasError, match="no such page to print"):
        write_pdf(tmp_path / "missing.html", tmp_path / "r.pdf")


def test_a_browser_that_fails_leaves_no_pdf(tmp_path, monkeypatch):
    page = html.write_page(tmp_path / "r.html", "A report", "<p>x</p>")
    monkeypatch.setenv("LATENTATLAS_CHROMIUM", "false")  # exits 1 without writing anything
    with pytest.raises(LatentAtlasError, match=r"chromium could not print r.html \(exit 1"):
        write_pdf(page, tmp_path / "r.pdf")
    assert not (tmp_path / "r.pdf").exists()
