"""Latent figures and the run report: every figure written and embedded, mosaics and GIF built right."""

from __future__ import annotations

from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image

from latentatlas.data.oracle import ValidityOracle
from latentatlas.data.shapes import generate
from latentatlas.latentmaps.summary import latent_summary
from latentatlas.report.latent_figures import FIGURE_FILES, mosaic, write_morph_gif
from latentatlas.report.latent_report import CAPTIONS, write_run_report
from tests.test_latent import CFG, PerfectModel  # the perfect autoencoder


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.images: list[dict[str, str]] = []
        self.open_tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.images.append(dict(attrs))


@pytest.fixture(scope="module")
def maps():
    oracle = ValidityOracle().fit()
    train, factors = generate(CFG, 80, seed=5)
    val, _ = generate(CFG, 10, seed=6)
    model = PerfectModel(oracle, variational=True)
    return latent_summary(model, train, factors, val, oracle, seed=1, grid_n=4, n_samples=16, n_morphs=2, morph_steps=5)


def test_run_report_embeds_every_figure(tmp_path, maps):
    rows = [{"epoch": e, "train_loss": 1.0 / e + 0.1 * e, "train_recon": 1.0 / e, "train_kl": 0.1 * e,
             "val_loss": 1.5 / e, "epoch_time_s": 0.5, "elapsed_s": 0.5 * e} for e in (1, 2, 3)]  # fmt: skip
    config = {"model": {"kind": "vae", "latent_dim": 3}, "train": {"epochs": 3}}
    path = write_run_report(tmp_path, maps, maps.summary, config, rows)
    assert path == tmp_path / "report.html"
    page = _Page()
    page.feed(path.read_text())
    names = {img["alt"] for img in page.images}
    curves = {"selection.png", "losses.png", "epoch_times.png"}
    expected = set(FIGURE_FILES.values()) | curves  # L = 3: pairs panel; VAE: KL bars
    assert names == expected
    for img in page.images:
        assert img["src"].startswith(("data:image/png;base64,", "data:image/gif;base64,")), img["alt"]
        assert (tmp_path / "figures" / img["alt"]).is_file()
    text = path.read_text()
    for key in FIGURE_FILES:
        assert CAPTIONS[key][:40] in text.replace("&#x27;", "'")
    assert "data-key='grid_validity'" in text and ">Grid validity" in text and "latent_dim: 3" in text
    assert "kept: epoch 3" not in text  # the chart says it, the page says which epoch in words
    assert "the starred epoch 3, the first with the lowest value" in text


def test_mosaic_frames_match_verdicts():
    rng = np.random.default_rng(0)
    images = rng.random((5, 6, 6))
    valid = np.array([True, False, True, True, False])
    out = mosaic(images, valid, cols=3, frame=2)
    assert out.shape == (2 * 10, 3 * 10, 3)
    for k in range(5):
        r, c = divmod(k, 3)
        cell = out[r * 10 : (r + 1) * 10, c * 10 : (c + 1) * 10]
        green = cell[0, 0, 1] > cell[0, 0, 0]
        assert green == valid[k]
        np.testing.assert_allclose(cell[2:8, 2:8, 0], 1 - images[k])  # ink dark on white
    assert np.all(out[10:, 20:] == 1.0)  # the unused sixth cell stays white


def test_morph_gif_loops_forever_and_plays_back(tmp_path):
    frames = np.linspace(0, 1, 4)[:, None, None] * np.ones((4, 8, 8))
    path = write_morph_gif(frames, tmp_path / "m.gif", scale=2)
    with Image.open(path) as gif:
        assert gif.info.get("loop") == 0 and gif.size == (16, 16)
        assert gif.n_frames == 2 * 4 - 2  # forward, then back without repeating the ends
