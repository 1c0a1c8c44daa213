"""Every report page, made from tiny real runs, opened in a real headless chromium: the findings paragraph exists
and quotes summary.json's (or analysis.json's) numbers; every table row is a registered quantity or a config key,
and no heading or row name is raw snake_case; gallery neighbours equal a brute-force k-NN and the confusion matrix
a NumPy count; every figure loads, the console shows no error, no request leaves the page; each page prints to PDF.
"""

import json
import re

import numpy as np
import pytest
from PIL import Image

from latentatlas.cli.main import main
from latentatlas.config import config_from_dict
from latentatlas.configs import CONFIG_DIR
from latentatlas.report.compare import compare_runs
from latentatlas.report.findings_shapes import ae_vae_findings
from latentatlas.report.pdf import write_pdf
from latentatlas.report.quantities import describe, is_config_key
from latentatlas.sweep import plan_sweep, run_sweep, write_sweep_report
from latentatlas.tasks.pipeline import train

from .browser import ARGS, chromium_or_skip
from .test_confusion import brute_neighbours, brute_vote
from .test_findings import quotes

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
TABLES = {"quantities", "confusion", "classes", "runs"}  # every table on a page is one of these
SNAKE = re.compile(r"[A-Za-z0-9]+_[A-Za-z0-9_]+")
DOM = """() => ({
  findings: [...document.querySelectorAll('.findings .finding')].map(e => e.textContent).join(' '),
  keys: [...document.querySelectorAll('table.quantities th[data-key]')].map(e => e.dataset.key),
  rows: [...document.querySelectorAll('table.quantities tr')].map(r => [r.className, r.firstElementChild.outerHTML]),
  names: [...document.querySelectorAll('table.quantities th.quantity')].map(e => e.querySelector('code') ? ''
         : e.textContent),
  tables: [...document.querySelectorAll('table')].map(t => t.className),
  headings: [...document.querySelectorAll('h1, h2, h3')].map(h => {
    const c = h.cloneNode(true); c.querySelectorAll('code').forEach(e => e.remove()); return c.textContent; }),
  gallery: [...document.querySelectorAll('.gallery .row')].map(r => [+r.dataset.query,
    [...r.querySelectorAll('figure.thumb')].slice(1).map(f => +f.title.match(/^image (\\d+):/)[1])]),
  confusion: [...document.querySelectorAll('table.confusion tbody tr')].map(r =>
    [...r.querySelectorAll('td')].map(td => +td.textContent.replace(/,/g, ''))),
})"""


def read_dom(path):
    """Open the page once: what `browser.check_page` records (errors, requests, images) and the DOM extract."""
    from playwright.sync_api import sync_playwright

    url, seen = path.resolve().as_uri(), {"errors": [], "requests": []}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_or_skip(), args=ARGS, headless=True)
        tab = browser.new_page()
        tab.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
        tab.on("pageerror", lambda e: seen["errors"].append(str(e)))
        tab.on("request", lambda r: seen["requests"].append(r.url) if r.url != url else None)
        tab.goto(url, wait_until="load")
        dom = tab.evaluate(DOM)
        images = tab.eval_on_selector_all("img", "els => els.map(e => e.complete && e.naturalWidth > 0)")
        browser.close()
    dom.update(errors=seen["errors"], images=images)
    dom["outside"] = [u for u in seen["requests"] if not u.startswith("data:")]
    return dom


def check_report(path, tmp_path, min_images=1):
    """The checks every page passes; returns its DOM extract."""
    dom = read_dom(path)
    assert len(dom["images"]) >= min_images and all(dom["images"]), "a figure did not load"
    assert dom["errors"] == [] and dom["outside"] == []
    assert dom["findings"].strip(), "the page opens without findings"
    unknown = [k for k in dom["keys"] if describe(k) is None and not is_config_key(k)]
    assert not unknown, f"register these in latentatlas/report/quantities.yaml: {unknown}"
    unnamed = [cell for cls, cell in dom["rows"] if cls != "group" and "data-key" not in cell and cell != "<th></th>"]
    assert not unnamed, f"rows without a registered key: {unnamed}"
    assert set(dom["tables"]) <= TABLES, dom["tables"]
    assert not [n for n in dom["names"] if SNAKE.search(n)], dom["names"]
    assert not [h for h in dom["headings"] if SNAKE.search(h)], dom["headings"]
    pdf = write_pdf(path, tmp_path / f"{path.parent.name}.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and re.search(rb"/Type\s*/Page(?!s)", pdf)
    return dom


def assert_quotes(text, numbers, keys, digits=3):
    for key in keys:
        if numbers.get(key) is not None:
            assert quotes(text, float(numbers[key]), digits), f"{key} = {numbers[key]} not in: {text}"


def assert_review(dom, x, labels):
    """Gallery rows: the first neighbours are the brute-force k-NN; the confusion counts: the NumPy vote."""
    k = min(10, len(x) - 1)
    idx, _ = brute_neighbours(x, k, "cosine")
    assert dom["gallery"], "no gallery"
    for query, neighbours in dom["gallery"]:
        assert neighbours == idx[query, : len(neighbours)].tolist()
    counts = np.zeros((labels.max() + 1,) * 2, dtype=int)
    np.add.at(counts, (labels, brute_vote(labels[idx])), 1)
    assert np.array_equal(np.array(dom["confusion"]), counts)


def image_folder(root):
    rng = np.random.default_rng(0)
    for c, name in enumerate(["red", "green", "blue", "gray"]):
        (root / name).mkdir(parents=True)
        for i in range(16):
            base = np.full(3, 60.0)
            base[c % 3] += 120 if c < 3 else 0
            img = (base + rng.normal(0, 40, (16, 16, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def metric_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("metric")
    overrides = [f"data.images.path={image_folder(root / 'imgs')}", "data.kind=images", "data.images.val_triplets=12",
                 "data.images.split=[0.5, 0.25, 0.25]", "data.images.triplets=seed", "loss.mining=none",
                 "train.batch_size=8", "model.kind=cnn", "model.embedding_dim=8", "model.cnn_widths=[8, 16]",
                 "model.cnn_stem=8", "model.norm=group", "loss.koleo.weight=0.1", "train.epochs=2",
                 "train.progress=false", "train.best_metric=val_precision_at_1", "train.best_mode=max"]  # fmt: skip
    return train(config_from_dict({"name": "metric"}, overrides), runs_root=root).run_dir


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    """A real tiny sweep, AE and VAE, two seeds: its runs also serve as the run and comparison pages."""
    out = tmp_path_factory.mktemp("sweep") / "sw"
    plan = plan_sweep(CONFIG_DIR / "shapes-ae.yaml", {"model.kind": ["ae", "vae"]}, seeds=2, overrides=TINY)
    assert run_sweep(plan, out, progress=False).failed == []
    return out, [out / "runs" / r.name for r in plan]


def test_metric_run_page(metric_run, tmp_path):
    summary = json.loads((metric_run / "summary.json").read_text())
    dom = check_report(metric_run / "report.html", tmp_path, min_images=6)
    keys = ["test_precision_at_1", "test_map_at_r", "test_pair_auc", "test_good_triplet_ratio", "test_koleo",
            "test_uniformity", "test_margin", "test_inter", "test_intra", "triplet_leak_images"]  # fmt: skip
    assert_quotes(dom["findings"], summary, keys)
    assert {"test_precision_at_1", "best_val_precision_at_1", "train_time_s", "n_test"} <= set(dom["keys"])
    with np.load(metric_run / "embeddings" / "test.npz") as test:
        assert_review(dom, test["embeddings"], test["labels"])


def test_shapes_run_pages_and_the_sweep_page(sweep, tmp_path):
    out, runs = sweep
    for run in runs[:2]:  # an AE and a VAE
        summary = json.loads((run / "summary.json").read_text())
        dom = check_report(run / "report.html", tmp_path, min_images=5)
        keys = ["grid_validity", "sample_validity", "val_recon_validity", "morph_validity", "latent_empty_cells"]
        assert_quotes(dom["findings"], summary, keys)
        assert_quotes(dom["findings"], summary, ["morph_smoothness", "kl_total"], digits=2)
        assert {"grid_validity", "epochs_trained", "val_loss"} <= set(dom["keys"])
    report = write_sweep_report(out)
    record = json.loads((report.parent / "compare.json").read_text())
    dom = check_report(report, tmp_path, min_images=2)
    assert "model.kind" in dom["keys"]  # the swept key heads the table, as a config key
    for group in record["groups"]:
        assert quotes(dom["findings"], group["mean"]["grid_validity"])


def test_compare_and_demo_pages(sweep, tmp_path):
    _, runs = sweep
    ae, vae = (json.loads((r / "summary.json").read_text()) for r in runs[:2])
    dom = check_report(compare_runs(runs[:2], tmp_path / "cmp"), tmp_path, min_images=4)
    assert_quotes(dom["findings"], ae, ["grid_validity"]) and assert_quotes(dom["findings"], vae, ["grid_validity"])
    demo = compare_runs(runs[:2], tmp_path / "demo", findings=ae_vae_findings(ae, vae), title="AE vs VAE")
    dom = check_report(demo, tmp_path, min_images=4)
    assert dom["findings"].startswith("In this run the VAE's decoded grid is")
    assert_quotes(dom["findings"], {"d": vae["grid_validity"] - ae["grid_validity"], **vae}, ["grid_validity", "d"])
    assert_quotes(dom["findings"], ae, ["grid_validity", "sample_validity", "val_recon_validity"])


def test_analyze_page_with_images(tmp_path, rng):
    chromium_or_skip()  # --pdf prints with it: without a browser the command refuses (exit 2) before the page
    labels = np.repeat(np.arange(3), 20)
    x = rng.normal(size=(60, 5)) + 1.5 * np.eye(5)[labels]
    np.savez(tmp_path / "e.npz", embeddings=x, labels=labels, class_names=np.array(["ant", "bee", "cat"]))
    np.save(tmp_path / "i.npy", rng.integers(0, 256, size=(60, 12, 12, 3), dtype=np.uint8))
    argv = ["analyze", str(tmp_path / "e.npz"), "--images", str(tmp_path / "i.npy"), "--out", str(tmp_path / "a")]
    assert main([*argv, "--pdf", "--device", "cpu"]) == 0
    assert (tmp_path / "a" / "report.pdf").read_bytes().startswith(b"%PDF-")
    saved = json.loads((tmp_path / "a" / "analysis.json").read_text())
    dom = check_report(tmp_path / "a" / "report.html", tmp_path, min_images=10)
    r, s, d = saved["retrieval"], saved["spread"], saved["distances"]
    assert_quotes(dom["findings"], {**r, **s, **d}, ["precision_at_1", "mean_average_precision_at_r", "koleo",
                                                     "uniformity", "margin", "inter_mean", "intra_mean"])  # fmt: skip
    assert_review(dom, x, labels)
