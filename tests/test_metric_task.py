"""Metric learning through the real loop on a tiny image folder: run directory, accumulation, KoLeo scopes,
multi-process training, and bad input."""

import json
import logging
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.cli.main import main
from latentatlas.config import config_from_dict
from latentatlas.errors import ConfigError, DataError
from latentatlas.tasks.pipeline import train
from latentatlas.train.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(0)
    for c, name in enumerate(["red", "green", "blue", "gray"]):
        (root / name).mkdir()
        for i in range(24):
            base = np.full(3, 60.0)
            base[c % 3] += 120 if c < 3 else 0
            img = (base + rng.normal(0, 40, (16, 16, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))


def base(folder, *extra):
    return [
        "data.kind=images",
        f"data.images.path={folder}",
        "data.images.split=[0.5, 0.25, 0.25]",
        "data.images.val_triplets=12",
        "model.kind=cnn",
        "model.embedding_dim=8",
        "train.epochs=1",
        "train.progress=false",
        *extra,
    ]


FIXED = ["data.images.triplets=seed", "loss.mining=none", "train.batch_size=8",
         "model.norm=group", "train.lr=0.05", "train.optimizer=sgd"]  # fmt: skip
# SGD, not Adam: Adam's first steps move every weight by about lr * sign(gradient), which turns float rounding in
# near-zero gradients into visible differences; with SGD a weight difference measures a gradient difference.
# Augmentation stays on: seed triplets reuse images (a negative may be another triplet's anchor), and KoLeo's
# gradient between two identical embeddings is 1/eps-sized noise; random crops make them distinct.
# ONE_STEP: all training triplets in one batch, so a run is one optimizer step. Over several steps KoLeo's
# nearest-neighbour choice can flip on float rounding and the runs drift apart for reasons other than the gradient.
ONE_STEP = ["train.batch_size=64"]


def weights(run_dir):
    return load_checkpoint(run_dir / "checkpoints" / "last.safetensors").model_state


def max_diff(a, b):
    return max((a[k] - b[k]).abs().max().item() for k in a)


def test_cli_epoch_writes_the_run_directory(folder, tmp_path, capsys):
    code = main(["train", "--runs-root", str(tmp_path), *base(folder, "train.classes_per_batch=4",
                 "train.images_per_class=2")])  # fmt: skip
    assert code == 0
    run = next(tmp_path.glob("*-run"))
    summary = json.loads((run / "summary.json").read_text())
    for key in ("test_precision_at_1", "test_map_at_r", "test_pair_auc", "test_margin", "test_ellipse_mean_area"):
        assert key in summary, key
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {"val_pair_auc", "val_precision_at_1", "val_map_at_r", "val_loss"} <= set(rows[0])
    test = np.load(run / "embeddings" / "test.npz")
    assert test["embeddings"].shape[1] == 8
    assert np.allclose(np.linalg.norm(test["embeddings"], axis=1), 1, atol=1e-5)
    assert (run / "analysis" / "analysis.json").is_file() and (run / "report.html").is_file()


def test_accumulation_scales_the_triplet_loss_like_one_large_batch(folder, tmp_path):
    one = train(config_from_dict({}, base(folder, *FIXED)), run_dir=tmp_path / "one").run_dir
    two = train(config_from_dict({}, base(folder, *FIXED, "train.accumulation=2")), run_dir=tmp_path / "two")
    assert max_diff(weights(one), weights(two.run_dir)) < 1e-5


def test_koleo_effective_scope_equals_the_large_batch_and_micro_does_not(folder, tmp_path):
    koleo = ["loss.koleo.weight=0.5", *ONE_STEP]
    big = train(config_from_dict({}, base(folder, *FIXED, *koleo)), run_dir=tmp_path / "big").run_dir
    eff = train(config_from_dict({}, base(folder, *FIXED, *koleo, "train.accumulation=2",
                     "loss.koleo.scope=effective")), run_dir=tmp_path / "eff").run_dir  # fmt: skip
    micro = train(config_from_dict({}, base(folder, *FIXED, *koleo, "train.accumulation=2",
                       "loss.koleo.scope=micro")), run_dir=tmp_path / "micro").run_dir  # fmt: skip
    assert max_diff(weights(big), weights(eff)) < 1e-5
    assert max_diff(weights(big), weights(micro)) > 1e-4


def test_koleo_eps_reaches_the_gradcache_path(folder, tmp_path):
    """With accumulation 4 and scope=effective (GradCache), `loss.koleo.eps` is the one the large batch uses: equal
    weights after one step, and different from eps = 1e-8 (the value GradCache used to substitute silently)."""
    koleo = ["loss.koleo.weight=0.5", "loss.koleo.scope=effective", *ONE_STEP]

    def run(name, *extra):
        return train(config_from_dict({}, base(folder, *FIXED, *koleo, *extra)), run_dir=tmp_path / name).run_dir

    big = run("big", "loss.koleo.eps=0.05")
    eff = run("eff", "loss.koleo.eps=0.05", "train.accumulation=4")
    default_eps = run("default", "loss.koleo.eps=1e-8", "train.accumulation=4")
    assert max_diff(weights(big), weights(eff)) < 1e-5
    assert max_diff(weights(eff), weights(default_eps)) > 1e-4


@pytest.mark.slow
def test_two_process_global_koleo_matches_one_process(folder, tmp_path):
    """torchrun with 2 gloo processes and scope=global equals one process with accumulation 2, scope=effective."""
    koleo = ["loss.koleo.weight=0.5", *ONE_STEP]
    single = train(config_from_dict({}, base(folder, *FIXED, *koleo, "train.accumulation=2",
                        "loss.koleo.scope=effective")), run_dir=tmp_path / "single").run_dir  # fmt: skip
    torchrun = shutil.which("torchrun", path=os.path.dirname(sys.executable))
    overrides = base(folder, *FIXED, *koleo, "loss.koleo.scope=global", "train.threads=1")
    args = [torchrun, "--standalone", "--nproc_per_node", "2", "-m", "latentatlas", "train", "--run-dir",
            str(tmp_path / "ddp"), *overrides]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert max_diff(weights(single), weights(tmp_path / "ddp")) < 1e-5
    assert (tmp_path / "ddp" / "summary.json").is_file()


def test_seed_protocol_reports_its_leak(folder, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="latentatlas"):
        result = train(config_from_dict({}, base(folder, *FIXED)), run_dir=tmp_path / "seed")
    assert "appear in both train and val triplets" in caplog.text
    assert result.summary["triplet_leak_images"] > 0


@pytest.mark.parametrize(
    "extra, message",
    [
        (["train.classes_per_batch=1"], r"P must be >= 2 \(a batch needs at least 2 x K images"),
        (["model.embedding_dim=0"], r"model.embedding_dim: must be >= 1"),
        (["train.images_per_class=1"], r"K must be >= 2"),
        (["train.accumulation=3", "train.classes_per_batch=4"], r"does not divide"),
        (["model.kind=vae"], r"does not train on data.kind='images'"),
        (["loss.koleo.weight=-1"], r"lambda must be >= 0"),
        (["train.accumulation=0"], r"train.accumulation: must be >= 1"),
    ],
)
def test_bad_configs(folder, extra, message):
    with pytest.raises(ConfigError, match=message):
        config_from_dict({}, base(folder, *extra))


def test_missing_dataset_says_how_to_get_it(tmp_path, capsys):
    code = main(["train", "--runs-root", str(tmp_path / "runs"), *base(tmp_path / "nope")])
    err = capsys.readouterr().err
    assert code == 2 and "not found" in err and "latentatlas data download cifar10" in err
    assert len(err.strip().splitlines()) == 1


def test_cuda_request_without_gpu_is_a_clear_error(folder):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(Exception, match="no GPU is visible"):
        train(config_from_dict({}, base(folder, "device=cuda")), run_dir=None)


def test_data_error_type_for_tiny_test_split(folder, tmp_path):
    cfg = config_from_dict({}, base(folder, "data.images.split=[0.9, 0.09, 0.01]", "train.classes_per_batch=4",
                                    "train.images_per_class=2"))  # fmt: skip
    with pytest.raises(DataError):
        train(cfg, run_dir=tmp_path / "r")
