"""Reliability figures: the bad-input corpus, random kills survived bitwise, fault injections survived, fuzz
examples run without an unexpected exception, and `analyze` on wide embeddings (D >> N).

The test-based figures run pytest in a subprocess (the same tests `make test` runs, with more kills and fuzz
examples unless quick) and count what passed from its JUnit XML; the kill count comes from the kill test itself.
`analyze` times are the wall time of `latentatlas.analyze` on seeded Gaussian data with 4 classes, after one
warm-up call on tiny data, in a fresh subprocess. Usage: `python -m benchmarks.run_all --only bench_reliability`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

ANALYZE = """
import time, numpy as np, latentatlas
latentatlas.analyze(np.random.default_rng(1).normal(size=(8, 3)).astype(np.float32), np.arange(8) % 2)
x = np.random.default_rng(0).normal(size=({n}, {d})).astype(np.float32)
t = time.perf_counter(); latentatlas.analyze(x, np.arange({n}) % 4); print(time.perf_counter() - t)
"""


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}", **extra}


def _pytest(paths: list[str], env: dict[str, str], keyword: str | None = None) -> tuple[int, int]:
    """(passed, total) test cases of a pytest run over `paths`."""
    with tempfile.TemporaryDirectory() as tmp:
        xml = Path(tmp) / "report.xml"
        cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={xml}", *paths]
        if keyword:
            cmd += ["-k", keyword]
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
        cases = ET.parse(xml).getroot().iter("testcase")
        outcomes = [not any(child.tag in ("failure", "error", "skipped") for child in case) for case in cases]
    return sum(outcomes), len(outcomes)


def _kills(kills: int) -> dict[str, int]:
    code = (
        "import json, sys, tempfile, pathlib\n"
        "from tests.test_kill_resume import kill_and_resume\n"
        f"print(json.dumps(kill_and_resume(pathlib.Path(tempfile.mkdtemp()), {kills}, seed=1)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True)
    try:
        return json.loads(out.stdout.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return {"kills": 0, "runs_finished": 0, "resumes": 0, "error": out.stderr.strip()[-200:]}


def _fuzz(profile: str) -> tuple[int, int, int]:
    """(examples run, tests passed, tests) of the fuzz tests under a Hypothesis profile."""
    with tempfile.TemporaryDirectory() as tmp:
        counts = Path(tmp) / "counts.json"
        env = _env(LATENTATLAS_FUZZ=profile, LATENTATLAS_FUZZ_COUNTS=str(counts))
        passed, total = _pytest(["tests/test_fuzz_loaders.py", "tests/test_fuzz_config.py"], env)
        examples = sum(json.loads(counts.read_text()).values()) if counts.exists() else 0
    return examples, passed, total


def _analyze_time(n: int, d: int) -> float:
    code = textwrap.dedent(ANALYZE.format(n=n, d=d))
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=_env(), capture_output=True, text=True)
    try:
        return float(out.stdout.strip().splitlines()[-1])
    except (IndexError, ValueError):
        return float("nan")


def run(quick: bool = False) -> str:
    corpus_passed, corpus_total = _pytest(["tests/bad_inputs"], _env(), keyword="touches_nothing")
    kills = _kills(5 if quick else 100)
    faults_passed, faults_total = _pytest(["tests/test_faults.py", "tests/test_recovery.py"], _env())
    examples, fuzz_passed, fuzz_total = _fuzz("quick" if quick else "fuzz")
    sizes = [(20, 8000), (200, 5000)] if quick else [(20, 8000), (1000, 50000)]
    times = {size: _analyze_time(*size) for size in sizes}
    rows = [
        f"| bad-input cases (exit 2, one line, nothing touched) | {corpus_passed} of {corpus_total} pass |",
        f"| random SIGKILLs survived, resumed to a bitwise-equal checkpoint | {kills['kills']} kills, "
        f"{kills['runs_finished']} runs finished, {kills['resumes']} resumes |",
        f"| fault-injection and recovery tests (disk full, permissions, damaged files) | "
        f"{faults_passed} of {faults_total} pass |",
        f"| fuzz examples without an unexpected exception | {examples:,} ({fuzz_passed} of {fuzz_total} tests pass) |",
        *(f"| `analyze` time, {n:,} x {d:,} embeddings | {t:.2f} s |" for (n, d), t in times.items()),
    ]
    return "\n".join([
        "## Reliability",
        "",
        "Bad inputs from `tests/bad_inputs/`, kills from `tests/test_kill_resume.py` (SIGKILL at random moments, "
        "also inside checkpoint and metrics writes), faults from `tests/test_faults.py` and `tests/test_recovery.py`, "
        f"fuzzing from `tests/test_fuzz_*.py` (Hypothesis profile `{'quick' if quick else 'fuzz'}`); see "
        "docs/reliability.md.",
        "",
        "| what | result |",
        "|---|---|",
        *rows,
    ])  # fmt: skip
