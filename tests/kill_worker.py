"""A zygote for kill tests: imports torch and latentatlas once, then forks one child per command, which trains a
tiny shapes run with slowed, announced writes so that a SIGKILL can land inside them.

Protocol (one line each way): the test writes `new RUN_DIR` or `resume RUN_DIR`; the zygote forks a child that
prints `pid N`, then events (`step`, `validate`, `metrics-half`, `ckpt-half`, `ckpt-replace`, `prev-linked`,
`epoch-written`), then `done` (or `error ...`); the zygote prints `exit CODE` when the child is gone (`exit -9`
after a SIGKILL). Run as `python tests/kill_worker.py EPOCHS`, with the source folder on PYTHONPATH.
"""

from __future__ import annotations

import os
import sys
import time

import torch

torch.set_num_threads(1)  # set before any tensor operation: the children fork a process with no thread pool yet

import latentatlas.jsonio as jsonio  # noqa: E402
import latentatlas.train.checkpoint as ckpt  # noqa: E402
from latentatlas.config import config_from_dict  # noqa: E402
from latentatlas.errors import LatentAtlasError  # noqa: E402
from latentatlas.tasks.pipeline import train  # noqa: E402
from latentatlas.tasks.shapes import ShapesTask  # noqa: E402

PAUSE = 0.01  # seconds each announced write stays half-done: long enough for the test to kill in there

TINY = ["name=kill", "data.n_train=16", "data.n_val=8", "data.shapes.size=32", "data.shapes.height=[6, 14]",
        "data.shapes.radius=[3, 6]", "model.widths=[4, 8, 8]", "model.channels_last=false",
        "train.batch_size=8",
        "train.progress=false", "analysis.grid_n=2", "analysis.n_samples=4", "analysis.n_morphs=1",
        "analysis.morph_steps=2"]  # fmt: skip


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _instrument() -> None:
    """Slow down and announce the writes a kill should be able to land in."""
    from safetensors.torch import save

    def slow_save_file(tensors, path, metadata=None):
        data = save(tensors, metadata=metadata)
        with open(path, "wb") as fh:
            fh.write(data[: len(data) // 2])
            fh.flush()
            say("ckpt-half")
            time.sleep(PAUSE)
            fh.write(data[len(data) // 2 :])

    real_replace, real_keep = ckpt.os.replace, ckpt._keep

    class _Os:  # the checkpoint module's `os`, with an announced rename
        def __getattr__(self, name):
            return getattr(os, name)

        @staticmethod
        def replace(src, dst):
            say("ckpt-replace")
            time.sleep(PAUSE)
            real_replace(src, dst)

    def keep(path):
        real_keep(path)
        say("prev-linked")
        time.sleep(PAUSE)

    real_write = os.write

    def write(fd, data):
        if data.endswith(b"}\n") and b'"epoch"' in data:  # a metrics.jsonl line
            real_write(fd, data[: len(data) // 2])
            say("metrics-half")
            time.sleep(PAUSE)
            return len(data) // 2 + real_write(fd, data[len(data) // 2 :])
        return real_write(fd, data)

    real_validate, real_step = ShapesTask.validate, ShapesTask.train_step

    def validate(self, epoch):
        say("validate")
        return real_validate(self, epoch)

    def step(self, model, micro, epoch):
        say("step")
        return real_step(self, model, micro, epoch)

    ckpt.save_file, ckpt.os, ckpt._keep = slow_save_file, _Os(), keep
    jsonio.os.write = write
    ShapesTask.validate, ShapesTask.train_step = validate, step
    ShapesTask.finalize = lambda self, run_dir, history: {}


def _child(command: str, run_dir: str, epochs: int) -> None:
    say(f"pid {os.getpid()}")
    _instrument()
    try:
        if command == "new":
            train(config_from_dict({}, [*TINY, f"train.epochs={epochs}"]), run_dir=run_dir)
        else:
            train(None, resume=run_dir)
    except LatentAtlasError as exc:
        say(f"error {exc}")
        os._exit(2)
    say("done")
    os._exit(0)


def main() -> None:
    epochs = int(sys.argv[1])
    say("ready")
    for line in sys.stdin:
        command, run_dir = line.split()
        pid = os.fork()
        if pid == 0:
            _child(command, run_dir, epochs)
        _, status = os.waitpid(pid, 0)
        say(f"exit {-os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)}")


if __name__ == "__main__":
    main()
