"""The new metric losses through the real loop: they train, their own parameters are trained, checkpointed and
restored bitwise on --resume, batch-level losses are exact over the effective batch with scope=effective, and
configs they cannot serve are refused before training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from latentatlas.config import config_from_dict
from latentatlas.errors import ConfigError
from latentatlas.tasks.pipeline import train
from latentatlas.train.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("imgs")
    rng = np.random.default_rng(1)
    for c in range(4):
        (root / f"c{c}").mkdir()
        for i in range(16):
            base = np.full(3, 70.0)
            base[c % 3] += 110 if c < 3 else 0
            img = (base + rng.normal(0, 40, (16, 16, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / f"c{c}" / f"{i:03d}.png")
    return root


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("LATENTATLAS_CACHE", str(tmp_path / "cache"))


def config(folder, *extra):
    return config_from_dict(
        {},
        [
            "data.kind=images",
            f"data.images.path={folder}",
            "data.images.split=[0.5, 0.25, 0.25]",
            "data.images.val_triplets=12",
            "model.kind=cnn",
            "model.embedding_dim=8",
            "model.cnn_widths=[8, 16]",
            "model.cnn_stem=8",
            "model.norm=group",
            "train.classes_per_batch=4",
            "train.images_per_class=4",
            "train.epochs=1",
            "train.progress=false",
            "train.optimizer=sgd",
            "train.lr=0.05",
            *extra,
        ],
    )


def state(run_dir, which="last"):
    return load_checkpoint(run_dir / "checkpoints" / f"{which}.safetensors")


@pytest.mark.parametrize("name", ["normalized_softmax", "softmax", "proxy_anchor", "supcon", "multi_similarity"])
def test_each_loss_trains_and_reports_its_term(folder, tmp_path, name):
    result = train(config(folder, f"loss.metric.name={name}"), run_dir=tmp_path / name)
    row = result.history[-1]
    assert np.isfinite(row[f"train_{name}"]) and row["train_loss"] == pytest.approx(row[f"train_{name}"])
    assert 0.0 <= result.summary["test_precision_at_1"] <= 1.0
    owns = name in ("normalized_softmax", "softmax", "proxy_anchor")
    assert bool(state(tmp_path / name).loss_state) == owns  # class vectors / proxies live in the checkpoint


def test_proxies_are_trained_and_restored_bitwise_on_resume(folder, tmp_path):
    extra = ["loss.metric.name=proxy_anchor", "train.optimizer=adam", "train.lr=0.01"]
    full = train(config(folder, *extra, "train.epochs=3"), run_dir=tmp_path / "full").run_dir
    part = train(config(folder, *extra, "train.epochs=2"), run_dir=tmp_path / "part").run_dir
    first = state(part).loss_state["proxies"].clone()
    train(None, resume=part, resume_overrides=["train.epochs=3"])
    a, b = state(full), state(part)
    assert not torch.equal(first, b.loss_state["proxies"])  # the optimizer moved them in the third epoch
    for key in a.loss_state:
        assert torch.equal(a.loss_state[key], b.loss_state[key]), key
    for key in a.model_state:
        assert torch.equal(a.model_state[key], b.model_state[key]), key


def test_supcon_over_the_effective_batch_equals_one_large_batch(folder, tmp_path):
    one = ["loss.metric.name=supcon", "train.images_per_class=4"]
    big = state(train(config(folder, *one), run_dir=tmp_path / "big").run_dir)
    eff = state(train(config(folder, *one, "train.accumulation=2", "loss.metric.scope=effective"),
                      run_dir=tmp_path / "eff").run_dir)  # fmt: skip
    micro = state(train(config(folder, *one, "train.accumulation=2", "loss.metric.scope=micro"),
                        run_dir=tmp_path / "micro").run_dir)  # fmt: skip
    diff = {k: (big.model_state[k] - eff.model_state[k]).abs().max().item() for k in big.model_state}
    assert max(diff.values()) < 1e-5
    assert max((big.model_state[k] - micro.model_state[k]).abs().max().item() for k in big.model_state) > 1e-4


@pytest.mark.parametrize(
    "extra, message",
    [
        (["loss.metric.name=supcon", "loss.metric.supcon.temperature=0"], r"loss.metric.supcon.temperature: must be"),
        (["loss.metric.name=normalized_softmax", "loss.metric.normalized_softmax.temperature=-1"],
         r"loss.metric.normalized_softmax.temperature"),
        (["loss.metric.name=proxy_anchor", "loss.metric.proxy_anchor.alpha=0"], r"loss.metric.proxy_anchor.alpha"),
        (["loss.metric.name=arcface"], r"loss.metric.name"),
        (["data.images.triplets=seed", "loss.mining=none", "loss.metric.name=supcon"], r"fixed\s+triplets"),
        (["loss.metric.scope=global"], r"loss.metric.scope"),
    ],
)  # fmt: skip
def test_configs_a_loss_cannot_serve_are_refused_before_training(folder, extra, message):
    with pytest.raises(ConfigError, match=message):
        config(folder, *extra)


def test_a_whitened_cnn_fits_its_first_layer_from_the_data_and_reloads_it(folder, tmp_path):
    from latentatlas.tasks.inference import embed_run, load_run_model

    extra = ["model.kind=whitened_cnn", "model.flip_average=true", "loss.metric.name=normalized_softmax"]
    run = train(config(folder, *extra), run_dir=tmp_path / "w").run_dir
    w = state(run, "best").model_state["features.0.weight"]  # (24, 3, 2, 2): 12 whitening filters and negatives
    torch.testing.assert_close(w[12:], -w[:12])
    model, _ = load_run_model(run)
    assert torch.equal(model.features[0].weight, w) and model.flip_average
    recorded = np.load(run / "embeddings" / "test.npz")["embeddings"]
    np.testing.assert_allclose(embed_run(run, progress=False).embeddings, recorded, atol=1e-5)
