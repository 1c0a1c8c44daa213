"""The run report and the AE-vs-VAE comparison open in a real headless browser: every figure loads,
the console shows no error, and no request leaves the file."""

import pytest

from latentatlas.config import config_from_dict
from latentatlas.tasks.pipeline import train

from .browser import check_page

pytestmark = pytest.mark.browser

TINY = [
    "data.n_train=24",
    "data.n_val=12",
    "model.widths=[4, 8, 8]",
    "train.batch_size=8",
    "train.epochs=2",
    "train.progress=false",
    "analysis.grid_n=3",
    "analysis.n_samples=8",
    "analysis.n_morphs=1",
    "analysis.morph_steps=3",
    "analysis.score_figures=200",
    "analysis.factor_vae_points=20",
    "analysis.beta_vae_points=20",
]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("runs")
    return [
        train(config_from_dict({"name": kind}, TINY + [f"model.kind={kind}"]), runs_root=root).run_dir
        for kind in ("ae", "vae")
    ]


def _assert_clean(check, min_images):
    assert check.images >= min_images
    assert check.broken_images == []
    assert check.console_errors == [] and check.page_errors == []
    assert check.outside_requests == []


def test_run_report_in_browser(runs):
    _assert_clean(check_page(runs[1] / "report.html"), min_images=5)


def test_compare_report_in_browser(runs, tmp_path):
    from latentatlas.report.compare import compare_runs

    report = compare_runs(runs, tmp_path / "cmp", force=False)
    _assert_clean(check_page(report), min_images=4)
