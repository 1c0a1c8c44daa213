"""Bad inputs past one machine: torchrun with more processes than points, sweeps' job executors (issue 13.5)."""

from __future__ import annotations

import sys

from tests.bad_inputs.cases_analyze import GOOD
from tests.bad_inputs.harness import case

S = "sweep shapes-vae --grid loss.beta=1,2 --out sw"


def _no_submitit(env):
    env.monkeypatch.setitem(sys.modules, "submitit", None)  # `import submitit` raises ImportError


def _no_slurm(env):
    env.monkeypatch.setenv("PATH", str(env.w / "no-bin"))


def _twenty_processes(env):
    import latentatlas.api
    import latentatlas.dist

    env.monkeypatch.setenv("WORLD_SIZE", "20")
    env.monkeypatch.setattr(latentatlas.api, "join_from_env", lambda device: device)
    env.monkeypatch.setattr(latentatlas.dist, "world_size", lambda: 20)


CASES = [
    case(
        "sweep-executor-no-submitit",
        f"{S} --executor local",
        "needs submitit",
        "pip install 'latentatlas[cluster]'",
        setup=_no_submitit,
    ),  # fmt: skip
    case(
        "sweep-executor-no-slurm",
        f"{S} --executor slurm",
        "no Slurm found",
        "sbatch",
        "--executor local",
        setup=_no_slurm,
    ),  # fmt: skip
    case("sweep-partition-no-executor", f"{S} --partition gpu", "--partition", "add --executor"),
    case("sweep-time-no-executor", f"{S} --time 30", "--time", "add --executor"),
    case("sweep-partition-local", f"{S} --executor local --partition gpu", "--partition", "--executor slurm"),
    case("sweep-max-parallel-zero", f"{S} --executor local --max-parallel 0", "--max-parallel 0", "1 or more"),
    case("sweep-time-zero", f"{S} --executor local --time 0", "--time 0", "1 or more"),
    case(
        "analyze-torchrun-more-processes-than-points",
        "analyze e.npz --out out",
        "20 processes for 12 queries",
        "--nproc_per_node",
        files=GOOD,
        setup=_twenty_processes,
    ),  # fmt: skip
]
