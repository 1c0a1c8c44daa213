"""SIGKILL a small training run at random moments - inside checkpoint and metrics writes too - and resume it each
time: it ends bitwise where the uninterrupted run ends. `make soak` runs more kills (LATENTATLAS_SOAK_KILLS)."""

from __future__ import annotations

import json
import os
import random
import select
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from latentatlas.train.checkpoint import load_checkpoint, read_metadata

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ["pid", "step", "validate", "metrics-half", "ckpt-half", "ckpt-replace", "prev-linked"]
KILLS = int(os.environ.get("LATENTATLAS_SOAK_KILLS", "20"))
EPOCHS = 4


class Zygote:
    """The forking worker of tests/kill_worker.py, driven line by line."""

    def __init__(self, epochs: int):
        env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "tests" / "kill_worker.py"), str(epochs)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, bufsize=1,
        )  # fmt: skip
        assert self.line() == "ready"

    def line(self, timeout: float = 300.0) -> str:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, "the kill worker went silent"
        text = self.proc.stdout.readline()
        assert text, "the kill worker died"
        return text.strip()

    def run(self, command: str, run_dir: Path, kill_at: tuple[str, int] | None) -> str:
        """Start `command` on `run_dir`; SIGKILL the child at the `n`-th `event` (if it gets there).

        Returns how it ended: `killed`, `done` or `error <message>`.
        """
        self.proc.stdin.write(f"{command} {run_dir}\n")
        self.proc.stdin.flush()
        pid, seen, outcome = None, {}, None
        while True:
            text = self.line()
            name = text.split()[0]
            if name == "pid":
                pid = int(text.split()[1])
            if name == "exit":
                return outcome or ("killed" if text == f"exit {-signal.SIGKILL}" else f"exit {text}")
            if name in ("done", "error"):
                outcome = text
            seen[name] = seen.get(name, 0) + 1
            if kill_at is not None and (name, seen[name]) == kill_at:
                os.kill(pid, signal.SIGKILL)  # only the child this test started, by its pid

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


def _rows(run_dir: Path) -> list[dict]:
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return [{k: v for k, v in r.items() if not k.endswith("time_s") and k != "elapsed_s"} for r in rows]


def _fingerprint(run_dir: Path) -> dict:
    """The final checkpoint's metadata, whose checksum covers every tensor's bytes: equal fingerprints are bitwise
    equal checkpoints (the file bytes themselves differ: safetensors orders its header keys per process)."""
    path = run_dir / "checkpoints" / "last.safetensors"
    load_checkpoint(path)  # verifies the checksum against the tensors
    return read_metadata(path)


def _schedule(rng: random.Random, n: int) -> list[tuple[str, int]]:
    """n kill points: every kind of moment at least once, then random ones (event, how many of them first)."""
    kinds = EVENTS + [rng.choice(EVENTS) for _ in range(max(0, n - len(EVENTS)))]
    rng.shuffle(kinds)
    most = {"pid": 1, "step": 3 * EPOCHS, "validate": 3, "prev-linked": 2}
    return [(k, rng.randint(1, most.get(k, 3))) for k in kinds[:n]]


def kill_and_resume(tmp_path: Path, kills: int, seed: int = 0) -> dict:
    """Kill runs `kills` times at random moments, resuming each time; every run that finishes must equal the
    uninterrupted one bitwise. Returns counts (kills, runs finished, resumes)."""
    zygote = Zygote(EPOCHS)
    try:
        reference = tmp_path / "reference"
        assert zygote.run("new", reference, None) == "done"
        want = _fingerprint(reference)
        schedule, done, resumes, landed = _schedule(random.Random(seed), kills), 0, 0, 0
        run, command = tmp_path / "run-0", "new"
        while True:
            kill_at = schedule.pop(0) if schedule else None
            outcome = zygote.run(command, run, kill_at)
            assert outcome in ("killed", "done"), outcome
            if outcome == "killed":
                landed += 1
                # resume, unless it died before its config existed (then the user starts it again)
                command = "resume" if (run / "config.yaml").is_file() else "new"
                resumes += command == "resume"
                continue
            assert _fingerprint(run) == want, run
            assert _rows(run) == _rows(reference), run
            done += 1
            if kill_at is not None:
                schedule.insert(0, kill_at)  # the run ended before that moment: a fresh run will get there
            if not schedule:
                break
            run, command = tmp_path / f"run-{done}", "new"
        return {"kills": landed, "runs_finished": done, "resumes": resumes}
    finally:
        zygote.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_twenty_random_kills_resume_to_the_uninterrupted_result_bitwise(tmp_path):
    counts = kill_and_resume(tmp_path, KILLS)
    assert counts["kills"] == KILLS and counts["runs_finished"] >= 1
