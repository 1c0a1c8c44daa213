"""Disk full (ENOSPC) and permission errors while a run writes its checkpoints, metrics, figures and report, and
while analyze / embed write their outputs: one line naming the path, nothing written before is lost, and the run
resumes to the result of an uninterrupted one."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
from matplotlib.figure import Figure

import latentatlas.jsonio as jsonio
import latentatlas.train.checkpoint as ckpt
from latentatlas.cli.main import main
from latentatlas.config import config_from_dict
from latentatlas.report import html as report_html
from latentatlas.tasks.pipeline import train
from latentatlas.train.checkpoint import load_checkpoint, tensor_checksum

TINY = ["name=faults", "data.n_train=16", "data.n_val=8", "data.shapes.size=32", "data.shapes.height=[6, 14]",
        "data.shapes.radius=[3, 6]", "model.widths=[4, 8, 8]", "model.channels_last=false", "train.batch_size=8",
        "train.epochs=3", "train.progress=false", "analysis.grid_n=2", "analysis.n_samples=4", "analysis.n_morphs=1",
        "analysis.morph_steps=2"]  # fmt: skip


def tiny():
    return config_from_dict({}, TINY)


@pytest.fixture
def no_report(monkeypatch):
    """Skip the latent maps and report after training where a test is about the checkpoints and metrics."""
    monkeypatch.setattr("latentatlas.tasks.shapes.ShapesTask.finalize", lambda *a: {})


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """An uninterrupted run: its final checkpoint's metadata (checksum of every tensor) and its metrics."""
    with pytest.MonkeyPatch.context() as m:
        m.setattr("latentatlas.tasks.shapes.ShapesTask.finalize", lambda *a: {})
        run = train(tiny(), run_dir=tmp_path_factory.mktemp("faults") / "reference").run_dir
    return _tensors(run), _rows(run)


def _tensors(run):
    """A digest of every tensor of the final checkpoint (weights, optimizer state): equal means bitwise equal."""
    from safetensors.torch import load_file

    return tensor_checksum(load_file(str(run / "checkpoints" / "last.safetensors")), {})


def _rows(run):
    rows = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("time_s") and k != "elapsed_s"} for r in rows]


def _one_line(capsys, code, *needles):
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


def _fail_nth(monkeypatch, module, name, n, code, partial=None, path_arg=0):
    """Make the n-th call of `module.name` fail with OSError(code) naming its `path_arg`-th argument (after doing
    `partial(args)`, if given)."""
    real, calls = getattr(module, name), {"n": 0}

    def failing(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == n:
            if partial is not None:
                partial(*args, **kwargs)
            raise OSError(code, os.strerror(code), str(args[path_arg]))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, failing)


def _resume_and_compare(run, reference, capsys):
    assert main(["train", "--resume", str(run), "train.progress=false"]) == 0
    capsys.readouterr()
    meta, rows = reference
    assert _tensors(run) == meta
    assert _rows(run) == rows


def _half_file(tensors, path, metadata=None):
    from safetensors.torch import save

    data = save(tensors, metadata=metadata)
    with open(path, "wb") as fh:
        fh.write(data[: len(data) // 2])


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EACCES])
def test_checkpoint_write_fails_in_epoch_two(tmp_path, monkeypatch, capsys, reference, code, no_report):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        # the third checkpoint write (epoch 1: best, last; epoch 2: best) stops half-way
        _fail_nth(m, ckpt, "save_file", 3, code, partial=_half_file, path_arg=1)
        line = _one_line(capsys, main(["train", "--run-dir", str(run), *TINY]), "best.safetensors.tmp", "--resume")
    assert os.strerror(code) in line
    assert not (run / "checkpoints" / "best.safetensors.tmp").exists()  # the half-written file is gone
    assert load_checkpoint(run / "checkpoints" / "last.safetensors").epoch == 0  # epoch 1 kept, verified
    _resume_and_compare(run, reference, capsys)


def test_metrics_append_fails_midline(tmp_path, monkeypatch, capsys, reference, no_report):
    run = tmp_path / "run"
    real_write = os.write

    def half_then_full(fd, data):
        real_write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    calls = {"n": 0}

    def write(fd, data):
        calls["n"] += data.endswith(b"}\n")
        return half_then_full(fd, data) if calls["n"] == 2 and data.endswith(b"}\n") else real_write(fd, data)

    with monkeypatch.context() as m:
        m.setattr(jsonio.os, "write", write)
        _one_line(capsys, main(["train", "--run-dir", str(run), *TINY]), "No space left on device", "--resume")
    assert len((run / "metrics.jsonl").read_text().splitlines()) == 1  # the half line was cut off again
    assert (run / "metrics.jsonl").read_text().endswith("}\n")
    _resume_and_compare(run, reference, capsys)


@pytest.mark.parametrize("target", ["figure", "report"])
def test_figures_or_report_fail_after_training(tmp_path, monkeypatch, capsys, reference, target):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        if target == "figure":
            _fail_nth(m, Figure, "savefig", 1, errno.EACCES, path_arg=1)
        else:
            _fail_nth(m, report_html, "write_page", 1, errno.ENOSPC)
        _one_line(capsys, main(["train", "--run-dir", str(run), *TINY]), "training is done", "--resume")
    assert not (run / "summary.json").exists()
    assert load_checkpoint(run / "checkpoints" / "last.safetensors").epoch == 2
    _resume_and_compare(run, reference, capsys)
    assert (run / "summary.json").is_file() and (run / "report.html").is_file()


def test_no_checkpoint_yet_restarts_in_the_same_folder(tmp_path, monkeypatch, capsys, reference, no_report):
    run = tmp_path / "run"
    with monkeypatch.context() as m:
        _fail_nth(m, ckpt, "save_file", 1, errno.EACCES, path_arg=1)
        _one_line(capsys, main(["train", "--run-dir", str(run), *TINY]), "Permission denied", "--resume")
    assert not any((run / "checkpoints").iterdir()) and (run / "config.yaml").is_file()
    _resume_and_compare(run, reference, capsys)


def test_analyze_and_embed_outputs_on_a_full_disk_leave_nothing(tmp_path, monkeypatch, capsys):
    x = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
    np.savez(tmp_path / "e.npz", embeddings=x, labels=np.arange(12) % 3)
    with monkeypatch.context() as m:
        _fail_nth(m, Figure, "savefig", 2, errno.ENOSPC, path_arg=1)
        code = main(["analyze", str(tmp_path / "e.npz"), "--out", str(tmp_path / "out")])
        _one_line(capsys, code, "No space left on device", "free some space")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["e.npz"]  # no output folder, no temporary folder
