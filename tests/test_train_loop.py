import contextlib
import json

import pytest
import torch

from latentatlas.config import config_from_dict
from latentatlas.errors import LatentAtlasError
from latentatlas.tasks.pipeline import train
from latentatlas.tasks.shapes import ShapesTask
from latentatlas.train import loop
from latentatlas.train.checkpoint import load_checkpoint

TINY = [
    "data.n_train=24",
    "data.n_val=12",
    "model.widths=[4, 8, 8]",
    "train.batch_size=8",
    "train.epochs=3",
    "train.progress=false",
    "analysis.grid_n=3",
    "analysis.n_samples=8",
    "analysis.n_morphs=1",
    "analysis.morph_steps=3",
    "analysis.disentanglement=false",
]


def tiny(*extra):
    return config_from_dict({"name": "tiny"}, TINY + list(extra))


def _rows(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("time_s") and k != "elapsed_s"} for r in rows]


def fake_clock(monkeypatch):
    """`time.monotonic` in the loop advances one second per call: budgets end after a known number of calls."""
    clock = {"t": 0.0}

    def fake_monotonic():
        clock["t"] += 1.0
        return clock["t"]

    monkeypatch.setattr(loop.time, "monotonic", fake_monotonic)


@contextlib.contextmanager
def killed_in_validation(call: int):
    """Inside the block, the `call`-th validation raises KeyboardInterrupt, as a kill would."""
    real_validate, calls = ShapesTask.validate, {"n": 0}

    def dying_validate(self, epoch):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return real_validate(self, epoch)

    ShapesTask.validate = dying_validate
    try:
        yield
    finally:
        ShapesTask.validate = real_validate


def test_run_directory_contents(tmp_path):
    result = train(tiny(), runs_root=tmp_path)
    run = result.run_dir
    assert run.parent == tmp_path and run.name.endswith("-tiny")
    for name in ("config.yaml", "metrics.jsonl", "summary.json", "report.html"):
        assert (run / name).is_file(), name
    assert len(_rows(run)) == 3
    ckpt = load_checkpoint(run / "checkpoints" / "last.safetensors")
    assert ckpt.epoch == 2 and ckpt.config["train"]["epochs"] == 3
    assert (run / "checkpoints" / "best.safetensors").is_file()
    summary = json.loads((run / "summary.json").read_text())
    for key in ("val_recon", "val_kl", "grid_validity", "sample_validity", "morph_validity", "morph_smoothness"):
        assert key in summary, key
    assert any((run / "figures").glob("*.png"))


def test_same_seed_same_metrics_and_other_seed_differs(tmp_path, monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})
    a = train(tiny(), runs_root=tmp_path / "a").run_dir
    b = train(tiny(), runs_root=tmp_path / "b").run_dir
    c = train(tiny("seed=1"), runs_root=tmp_path / "c").run_dir
    assert _rows(a) == _rows(b)
    assert _rows(a) != _rows(c)


def test_resume_after_a_kill_ends_where_the_uninterrupted_run_ends(tmp_path, monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})
    full = train(tiny(), runs_root=tmp_path / "full").run_dir

    with pytest.raises(KeyboardInterrupt), killed_in_validation(2):  # after one checkpoint
        train(tiny(), run_dir=tmp_path / "killed")
    assert load_checkpoint(tmp_path / "killed" / "checkpoints" / "last.safetensors").epoch == 0
    train(None, resume=tmp_path / "killed")
    assert _rows(tmp_path / "killed") == _rows(full)
    w_full = load_checkpoint(full / "checkpoints" / "last.safetensors").model_state
    w_resumed = load_checkpoint(tmp_path / "killed" / "checkpoints" / "last.safetensors").model_state
    for k in w_full:
        assert torch.equal(w_full[k], w_resumed[k]), k


def test_nan_loss_stops_with_message_and_keeps_last_good_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})
    real_step = ShapesTask.train_step

    def poisoned(self, model, micro, epoch):
        loss, stats = real_step(self, model, micro, epoch)
        return (loss * float("nan"), stats) if epoch == 1 else (loss, stats)

    monkeypatch.setattr(ShapesTask, "train_step", poisoned)
    with pytest.raises(loop.TrainingDiverged, match=r"loss became nan at epoch 2, step 1.*last good checkpoint"):
        train(tiny(), run_dir=tmp_path / "nan")
    ckpt = load_checkpoint(tmp_path / "nan" / "checkpoints" / "last.safetensors")
    assert ckpt.epoch == 0
    assert all(torch.isfinite(v).all() for v in ckpt.model_state.values() if v.is_floating_point())


def test_time_budget_stops_cleanly_with_validation_and_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})
    fake_clock(monkeypatch)
    result = train(tiny("train.epochs=50", "train.max_minutes=0.2"), run_dir=tmp_path / "budget")
    assert 1 <= len(result.history) < 50
    ckpt = load_checkpoint(tmp_path / "budget" / "checkpoints" / "last.safetensors")
    assert ckpt.epoch == len(result.history) - 1


def test_existing_run_dir_is_refused_and_untouched(tmp_path):
    target = tmp_path / "taken"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    with pytest.raises(LatentAtlasError, match="already exists"):
        train(tiny(), run_dir=target)
    assert [p.name for p in target.iterdir()] == ["keep.txt"]


def test_resume_of_a_dir_without_checkpoint(tmp_path):
    with pytest.raises(LatentAtlasError, match="no checkpoints/last.safetensors"):
        train(None, resume=tmp_path)


def test_time_budget_is_the_whole_runs_across_a_resume(tmp_path, monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})
    fake_clock(monkeypatch)
    cfg = ("train.epochs=100", "train.max_minutes=1")
    full = train(tiny(*cfg), run_dir=tmp_path / "full").history
    assert 6 <= len(full) < 100

    with pytest.raises(KeyboardInterrupt), killed_in_validation(4):  # after three epochs
        train(tiny(*cfg), run_dir=tmp_path / "killed")
    resumed = train(None, resume=tmp_path / "killed").history
    # a budget restarted at resume would give 3 + len(full) epochs; the run's budget gives about len(full)
    assert abs(len(resumed) - len(full)) <= 1
    assert resumed[-1]["elapsed_s"] <= 60 + resumed[-1]["epoch_time_s"]


def test_a_finished_run_trains_on_only_when_told_how_much_more(tmp_path, monkeypatch, capsys):
    from latentatlas.cli.main import main

    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {"done": 1})
    five = train(tiny("train.epochs=5"), run_dir=tmp_path / "five").run_dir
    run = train(tiny(), run_dir=tmp_path / "three").run_dir
    before = (run / "metrics.jsonl").read_text()
    assert main(["train", "--resume", str(run)]) == 2
    assert "already finished its 3 epochs" in capsys.readouterr().err
    assert main(["train", "--resume", str(run), "model.latent_dim=3"]) == 2
    assert "a resumed run keeps its config" in capsys.readouterr().err
    assert (run / "metrics.jsonl").read_text() == before
    with killed_in_validation(1):
        assert main(["train", "--resume", str(run), "train.epochs=5", "train.progress=false"]) == 130
    assert not (run / "summary.json").exists()  # a half-extended run is not "finished" for sweeps and compare
    assert main(["train", "--resume", str(run), "train.progress=false"]) == 0  # config.yaml now says 5 epochs
    assert _rows(run) == _rows(five)  # constant learning rate: 3 then 2 more epochs = 5 epochs
    assert (run / "summary.json").is_file()
    assert "epochs: 5" in (run / "config.yaml").read_text()


def test_a_run_that_spent_its_budget_says_so_and_keeps_its_files(tmp_path, monkeypatch, capsys):
    from latentatlas.cli.main import main

    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {"done": 1})
    fake_clock(monkeypatch)
    run = train(tiny("train.epochs=100", "train.max_minutes=0.5"), run_dir=tmp_path / "b").run_dir
    n = len(_rows(run))
    before = {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()}
    assert main(["train", "--resume", str(run)]) == 2
    assert "already spent its train.max_minutes=0.5 budget" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in run.iterdir() if p.is_file()} == before
    assert main(["train", "--resume", str(run), "train.max_minutes=1", "train.progress=false"]) == 0
    assert n < len(_rows(run)) < 100
