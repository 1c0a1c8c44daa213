"""Galleries and the confusion figure: thumbnails are the images, neighbours are the brute-force k-NN, the figure's
cells are the counted shares; a page holding them opens offline in a real browser and prints its details."""

import base64
import io
import re

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.analysis.confusion import knn_review
from latentatlas.report import html
from latentatlas.report.findings import Finding, findings_html
from latentatlas.report.gallery import (
    gallery_html,
    gallery_rows,
    mistakes_section,
    plot_confusion,
    thumbnail_uri,
    to_rgb,
    typical_section,
    write_confusion,
)
from latentatlas.report.tables import glossary, quantity_table

from .browser import check_page, chromium_or_skip
from .test_confusion import brute_neighbours

NAMES = ["cat", "dog", "ship"]


@pytest.fixture
def data(rng):
    labels = np.repeat(np.arange(3), 12)
    x = rng.normal(size=(36, 5)) + 0.9 * np.eye(5)[labels]
    images = rng.integers(0, 256, size=(36, 3, 8, 8), dtype=np.uint8)  # (N, C, H, W) as the data loaders give
    return x, labels, images


def decode(uri):
    assert uri.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1]))).convert("RGB"))


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((4, 5), bool),
        np.full((1, 4, 5), 0.5),
        np.zeros((3, 4, 5), np.uint8),
        np.ones((4, 5, 3)),
        torch.zeros(3, 4, 5),
    ],
)
def test_every_image_layout_becomes_rgb(image):
    assert to_rgb(image).shape == (4, 5, 3) and to_rgb(image).dtype == np.uint8
    with pytest.raises(ValueError, match="expected"):
        to_rgb(np.zeros((2, 4, 5)))


def test_a_thumbnail_is_the_image_enlarged_without_smoothing(rng):
    image = rng.integers(0, 256, size=(3, 16, 16), dtype=np.uint8)
    pixels = decode(thumbnail_uri(image, size=64))
    assert pixels.shape == (64, 64, 3)
    assert np.array_equal(pixels[::4, ::4], np.moveaxis(image, 0, -1))


def test_gallery_neighbours_are_the_brute_force_knn(data):
    x, labels, images = data
    review = knn_review(x, labels, k=5)
    queries = review.mistakes(n=6) if len(review.mistakes()) else np.arange(6)
    idx, dist = brute_neighbours(x, 5, "cosine")
    for row in gallery_rows(review, NAMES, queries, show=4):
        q = row["query"]
        assert [n[0] for n in row["neighbours"]] == idx[q, :4].tolist()
        assert [n[1] for n in row["neighbours"]] == [NAMES[c] for c in labels[idx[q, :4]]]
        assert [n[2] for n in row["neighbours"]] == pytest.approx(dist[q, :4].tolist())
    page = gallery_html(review, images, NAMES, queries, show=4)
    assert page.count("class='row'") == len(queries) and page.count("<img") == 5 * len(queries)
    wrong = sum(int(labels[j] != labels[q]) for q in queries for j in idx[q, :4])
    assert page.count('class="thumb wrong"') == wrong


def test_the_confusion_figure_shows_the_counted_shares(data, tmp_path):
    x, labels, _ = data
    review = knn_review(x, labels, k=3)
    counts = np.zeros((3, 3))
    for t, p in zip(labels, review.predictions):
        counts[t, p] += 1
    shares = counts / counts.sum(1, keepdims=True)
    cells = [float(t.get_text()) for t in plot_confusion(review, NAMES).axes[0].texts]
    assert cells == pytest.approx(shares.ravel().round(2).tolist())
    assert write_confusion(review, NAMES, tmp_path / "c.png").read_bytes()[:4] == b"\x89PNG"


def test_no_mistake_is_said(rng):
    labels = np.repeat(np.arange(3), 5)
    review = knn_review(np.eye(3)[labels] + 0.01 * rng.normal(size=(15, 3)), labels, k=2)
    assert "Every query's nearest neighbour has its class" in mistakes_section(review, np.zeros((15, 4, 4)), NAMES)


@pytest.mark.browser
def test_a_page_of_pieces_opens_offline_and_prints_its_details(data, tmp_path):
    from playwright.sync_api import sync_playwright

    x, labels, images = data
    review = knn_review(x, labels, k=5)
    rows = {"test_precision_at_1": [0.75], "kl_total": [None], "loss.koleo.weight": [0.1]}
    body = "".join(
        [
            findings_html([Finding("Test precision@1 0.750: the nearest neighbour of 3 test images in 4.")]),
            quantity_table(rows, ["run"], grouped=True),
            html.figure(write_confusion(review, NAMES, tmp_path / "confusion.png"), "k-NN confusion"),
            mistakes_section(review, images, NAMES),
            typical_section(review, images, NAMES),
            html.details("Details", "<p id='inside'>Time per epoch</p>"),
            glossary(list(rows)),
        ]
    )
    page = html.write_page(tmp_path / "report.html", "Pieces", body)
    check = check_page(page)
    assert check.broken_images == [] and check.outside_requests == [] and check.console_errors == []
    assert check.images == 1 + 6 * (len(review.mistakes(n=12, per_class=2)) + 3)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=["--no-sandbox"], headless=True)
        tab = browser.new_page()
        tab.goto(page.resolve().as_uri())
        assert not tab.is_visible("#inside")
        first = tab.inner_text(".quantity")
        tab.emulate_media(media="print")
        assert tab.is_visible("#inside")  # the print CSS shows a closed <details>
        browser.close()
    assert first.startswith("Test precision@1") and re.search("_", first) is None
