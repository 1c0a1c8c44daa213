"""Checkpoints verified before trusted: checksums, the fallback to the newest intact checkpoint, torn metrics lines,
runs killed before their first checkpoint, and the run folder's lock."""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from latentatlas.config import config_from_dict
from latentatlas.errors import LatentAtlasError
from latentatlas.tasks.pipeline import train
from latentatlas.tasks.shapes import ShapesTask
from latentatlas.train.checkpoint import load_checkpoint, previous_path, save_checkpoint, tensor_checksum
from latentatlas.train.lock import LOCK_NAME, RunBusy

LEGACY = Path(__file__).resolve().parent / "fixtures" / "legacy" / "runs"
TINY = ["name=rec", "data.n_train=16", "data.n_val=8", "data.shapes.size=32", "data.shapes.height=[6, 14]",
        "data.shapes.radius=[3, 6]", "model.widths=[4, 8, 8]", "model.channels_last=false", "train.batch_size=8",
        "train.epochs=3", "train.progress=false"]  # fmt: skip


@pytest.fixture(autouse=True)
def no_report(monkeypatch):
    monkeypatch.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})


def tiny():
    return config_from_dict({}, TINY)


def _tensors(run: Path) -> str:
    return tensor_checksum(load_file(str(run / "checkpoints" / "last.safetensors")), {})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    with pytest.MonkeyPatch.context() as m:
        m.setattr(ShapesTask, "finalize", lambda self, run_dir, history: {})
        return _tensors(train(tiny(), run_dir=tmp_path_factory.mktemp("rec") / "ref").run_dir)


@contextlib.contextmanager
def killed_in_validation(call: int):
    """The `call`-th validation raises KeyboardInterrupt, as a kill would."""
    real, calls = ShapesTask.validate, {"n": 0}

    def dying(self, epoch):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return real(self, epoch)

    ShapesTask.validate = dying
    try:
        with pytest.raises(KeyboardInterrupt):
            yield
    finally:
        ShapesTask.validate = real


def _killed_after_two_epochs(tmp_path: Path) -> Path:
    with killed_in_validation(3):
        train(tiny(), run_dir=tmp_path / "run")
    return tmp_path / "run"


def _zero_tail(path: Path, n: int = 64) -> None:
    data = bytearray(path.read_bytes())
    data[-n:] = bytes(n)
    path.write_bytes(bytes(data))


def test_a_changed_byte_is_refused_and_an_old_checkpoint_loads_with_one_note(tmp_path, caplog):
    model = torch.nn.Linear(3, 2)
    path = save_checkpoint(tmp_path / "c.safetensors", model, {"a": 1}, 0)
    assert load_checkpoint(path).epoch == 0
    _zero_tail(path, 4)
    with pytest.raises(LatentAtlasError, match=r"c\.safetensors' is damaged .*checksum.*use another checkpoint"):
        load_checkpoint(path)
    with caplog.at_level(logging.INFO, logger="latentatlas"):
        for _ in range(2):
            load_checkpoint(LEGACY / "shapes-tiny" / "checkpoints" / "last.safetensors")
    notes = [r.getMessage() for r in caplog.records if "no checksum" in r.getMessage()]
    assert len(notes) == 1 and "loaded unverified" in notes[0]


@pytest.mark.parametrize("damage", ["zeroed", "missing", "only-best"])
def test_resume_falls_back_to_the_newest_intact_checkpoint(tmp_path, reference, caplog, damage):
    run = _killed_after_two_epochs(tmp_path)
    last = run / "checkpoints" / "last.safetensors"
    assert load_checkpoint(previous_path(last)).epoch == 0  # the checkpoint `last` replaced is kept
    if damage == "zeroed":
        _zero_tail(last)
    elif damage == "missing":
        last.unlink()
    else:
        last.unlink()
        previous_path(last).unlink()
    with caplog.at_level(logging.INFO, logger="latentatlas"):
        train(None, resume=run)
    note = next(r.getMessage() for r in caplog.records if "resuming from" in r.getMessage())
    if damage == "only-best":
        assert "best.safetensors" in note and "optimizer starts afresh" in note
        return  # without optimizer state the run goes on, but not bitwise as the uninterrupted one
    assert f"last.safetensors is {'damaged' if damage == 'zeroed' else 'missing'}" in note
    assert "last.prev.safetensors (epoch 1)" in note
    assert _tensors(run) == reference


def test_no_intact_checkpoint_is_one_line_and_touches_nothing(tmp_path):
    run = _killed_after_two_epochs(tmp_path)
    for p in (run / "checkpoints").iterdir():
        _zero_tail(p)
    before = {p: p.read_bytes() for p in run.rglob("*") if p.is_file()}
    with pytest.raises(LatentAtlasError, match=r"no intact checkpoint \(checkpoint .* is damaged"):
        train(None, resume=run)
    assert {p: p.read_bytes() for p in run.rglob("*") if p.is_file()} == before


def test_a_torn_last_metrics_line_is_dropped_with_a_note(tmp_path, reference, caplog):
    run = _killed_after_two_epochs(tmp_path)
    with open(run / "metrics.jsonl", "a") as fh:
        fh.write('{"epoch": 3, "train_lo')  # killed in the middle of the next line
    with caplog.at_level(logging.INFO, logger="latentatlas"):
        train(None, resume=run)
    assert any("line 3 was cut off" in r.getMessage() for r in caplog.records)
    assert _tensors(run) == reference
    assert [json.loads(line)["epoch"] for line in (run / "metrics.jsonl").read_text().splitlines()] == [1, 2, 3]


def test_a_damaged_line_inside_metrics_is_refused(tmp_path):
    run = _killed_after_two_epochs(tmp_path)
    lines = (run / "metrics.jsonl").read_text().splitlines()
    (run / "metrics.jsonl").write_text("\n".join(["{oops", *lines[1:]]) + "\n")
    with pytest.raises(LatentAtlasError, match=r"metrics\.jsonl: line 1 is not JSON; fix or delete that line"):
        train(None, resume=run)


def test_a_run_killed_before_its_first_checkpoint_restarts_in_its_folder(tmp_path, reference, caplog):
    with killed_in_validation(1):
        train(tiny(), run_dir=tmp_path / "run")
    assert not any((tmp_path / "run" / "checkpoints").iterdir())
    with caplog.at_level(logging.INFO, logger="latentatlas"):
        train(None, resume=tmp_path / "run")
    assert any("restarting it from epoch 1" in r.getMessage() for r in caplog.records)
    assert _tensors(tmp_path / "run") == reference


def test_a_live_lock_refuses_a_second_trainer_and_a_stale_one_does_not(tmp_path, reference):
    run = _killed_after_two_epochs(tmp_path)
    assert not (run / LOCK_NAME).exists()  # released when the run stopped
    fd = os.open(run / LOCK_NAME, os.O_RDWR | os.O_CREAT)
    os.write(fd, b"999999 elsewhere\n")
    fcntl.flock(fd, fcntl.LOCK_EX)  # another live process holds it
    try:
        with pytest.raises(RunBusy, match="in use by process 999999 on elsewhere"):
            train(None, resume=run)
    finally:
        os.close(fd)  # that process dies: its lock file stays, with a dead pid
    assert (run / LOCK_NAME).read_text() == "999999 elsewhere\n"
    train(None, resume=run)
    assert _tensors(run) == reference and not (run / LOCK_NAME).exists()


def test_a_lock_only_folder_is_still_a_fresh_run_dir(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / LOCK_NAME).write_text("1 host\n")  # left by a process killed right after creating the folder
    train(tiny(), run_dir=target)
    assert (target / "checkpoints" / "last.safetensors").is_file()


def test_legacy_runs_resume_and_gain_checksums(tmp_path, caplog):
    run = tmp_path / "shapes-tiny"
    shutil.copytree(LEGACY / "shapes-tiny", run)
    with caplog.at_level(logging.INFO, logger="latentatlas"):
        train(None, resume=run, resume_overrides=["train.epochs=3"])
    assert any("no checksum" in r.getMessage() for r in caplog.records)
    ckpt = load_checkpoint(run / "checkpoints" / "last.safetensors")
    assert ckpt.epoch == 2 and len((run / "metrics.jsonl").read_text().splitlines()) == 3
