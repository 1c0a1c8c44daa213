"""The NaN / divergence guard: nothing of a diverged epoch is written, what is kept is finite, and the message names
the likely cause, the checkpoint kept (or that none exists) and the command that resumes with a smaller value."""

from __future__ import annotations

import math

import pytest
import torch

from latentatlas.config import config_from_dict
from latentatlas.tasks.pipeline import train
from latentatlas.tasks.shapes import ShapesTask
from latentatlas.train.checkpoint import load_checkpoint
from latentatlas.train.guard import TrainingDiverged, likely_cause
from tests.test_recovery import TINY


@pytest.fixture(autouse=True)
def no_report(monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})


def tiny(*extra):
    return config_from_dict({}, [*TINY, *extra])


def _checkpoints_finite(run) -> list[int]:
    epochs = []
    for path in sorted((run / "checkpoints").glob("*.safetensors")):
        ckpt = load_checkpoint(path)
        assert all(bool(torch.isfinite(v).all()) for v in ckpt.model_state.values() if v.is_floating_point()), path
        epochs.append(ckpt.epoch)
    return epochs


def _poison_validation(monkeypatch, epoch: int, weights: bool = False):
    real = ShapesTask.validate

    def validate(self, e):
        out = real(self, e)
        if e == epoch and weights:
            with torch.no_grad():
                next(self.model.parameters()).fill_(math.nan)  # as a last step gone wrong would leave it
        elif e == epoch:
            out["val_loss"] = math.nan
        return out

    monkeypatch.setattr(ShapesTask, "validate", validate)


def test_nan_validation_loss_keeps_the_previous_epoch_and_says_how_to_resume(tmp_path, monkeypatch):
    _poison_validation(monkeypatch, 1)
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged) as exc:
        train(tiny(), run_dir=run)
    text = str(exc.value)
    assert text.startswith("val_loss became nan in epoch 2; likely cause: train.lr=0.001 too large")
    assert "the last good checkpoint checkpoints/last.safetensors (epoch 1) is kept" in text
    assert f"latentatlas train --resume {run} train.lr=0.0001 (or add train.grad_clip=1)" in text
    assert _checkpoints_finite(run) == [0, 0]  # best and last, both of epoch 1
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1


def test_nan_weights_are_never_written(tmp_path, monkeypatch):
    _poison_validation(monkeypatch, 1, weights=True)
    with pytest.raises(TrainingDiverged, match=r"weight encoder\.net\.0\.weight became NaN or infinite in epoch 2"):
        train(tiny(), run_dir=tmp_path / "run")
    assert set(_checkpoints_finite(tmp_path / "run")) == {0}


def test_a_run_that_diverges_in_its_first_epoch_has_nothing_to_keep_and_says_so(tmp_path, monkeypatch):
    _poison_validation(monkeypatch, 0)
    with pytest.raises(TrainingDiverged, match="no checkpoint was written before it; restart it with a smaller value"):
        train(tiny(), run_dir=tmp_path / "run")
    assert not any((tmp_path / "run" / "checkpoints").iterdir())


def test_a_loss_far_above_its_best_stops_and_the_run_resumes_with_a_smaller_lr(tmp_path, monkeypatch):
    real = ShapesTask.train_step

    def exploding(self, model, micro, epoch):
        loss, stats = real(self, model, micro, epoch)
        return (loss * 1e4, {**stats, "loss": stats["loss"] * 1e4}) if epoch == 1 else (loss, stats)

    run = tmp_path / "run"
    with monkeypatch.context() as m:
        m.setattr(ShapesTask, "train_step", exploding)
        with pytest.raises(TrainingDiverged, match=r"at epoch 2, step 1, over train.diverge_factor=1000 x its lowest"):
            train(tiny(), run_dir=run)
    result = train(None, resume=run, resume_overrides=["train.lr=0.0001"])
    assert len(result.history) == 3 and "lr: 0.0001" in (run / "config.yaml").read_text()
    assert load_checkpoint(run / "checkpoints" / "last.safetensors").config["train"]["lr"] == 0.0001


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_a_huge_learning_rate_stops_the_run_with_only_finite_checkpoints(tmp_path, optimizer):
    with pytest.raises(TrainingDiverged, match="likely cause: train.lr=1e\\+06 too large"):
        train(tiny(f"train.optimizer={optimizer}", "train.lr=1e6", "train.epochs=4"), run_dir=tmp_path / "run")
    _checkpoints_finite(tmp_path / "run")


def test_likely_cause_names_a_huge_kl_weight_before_the_learning_rate():
    assert likely_cause(tiny("loss.beta=1000")) == ("loss.beta", 100.0)
    assert likely_cause(tiny("loss.beta=4")) == ("train.lr", 1e-4)
    assert likely_cause(tiny("loss.beta=1000", "model.kind=ae")) == ("train.lr", 1e-4)
