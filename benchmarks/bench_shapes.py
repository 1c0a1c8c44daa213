"""Figure generator and validity oracle: images per second, bank fit time, calibration table."""

from __future__ import annotations

import time

from latentatlas.cli.shapes import format_table
from latentatlas.data.oracle import ValidityOracle, calibrate
from latentatlas.data.shapes import FAMILIES, ShapesConfig, generate


def _best_rate(fn, n: int, repeats: int) -> float:
    """Items per second of the fastest of `repeats` calls (the machine is shared: the minimum is the signal)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return n / best


def run(quick: bool = False) -> str:
    n_gen, n_score, n_cal, repeats = (2_000, 1_000, 200, 1) if quick else (20_000, 10_000, 2_000, 3)
    rows = []
    generate(ShapesConfig(family=list(FAMILIES)), 256, seed=0)  # warm-up: first-call allocations are not speed
    for family in [*FAMILIES, "all"]:
        cfg = ShapesConfig(family=list(FAMILIES) if family == "all" else [family])
        rate = _best_rate(lambda cfg=cfg: generate(cfg, n_gen, seed=0), n_gen, repeats)
        rows.append(f"| generate {family} | {rate:,.0f} images/s |")

    start = time.perf_counter()
    oracle = ValidityOracle().fit()
    fit_s = time.perf_counter() - start
    images = generate(ShapesConfig(), n_score, seed=1)[0]
    score_rate = _best_rate(lambda: oracle.score(images), n_score, repeats)
    start = time.perf_counter()
    oracle5 = ValidityOracle(families=FAMILIES).fit()
    fit5_s = time.perf_counter() - start
    score5_rate = _best_rate(lambda: oracle5.score(images), n_score, 1)
    rows += [
        f"| oracle fit, cylinder ({oracle.bank_.shape[1]} bank images) | {fit_s:.2f} s |",
        f"| oracle score, cylinder | {score_rate:,.0f} images/s |",
        f"| oracle fit, all 5 families ({oracle5.bank_.shape[1]} bank images) | {fit5_s:.2f} s |",
        f"| oracle score, all 5 families | {score5_rate:,.0f} images/s |",
    ]
    table = format_table(calibrate(oracle, n=n_cal, seed=0))
    return "\n".join(
        [
            "## Shapes generator and validity oracle",
            "",
            f"64x64 figures, stroke 2 px, default ranges; rates are the best of {repeats} run(s) of "
            f"{n_gen:,} generated / {n_score:,} scored images, single process.",
            "",
            "| what | measured |",
            "|---|---|",
            *rows,
            "",
            f"Calibration of the cylinder oracle (`calibrate(oracle, n={n_cal}, seed=0)`):",
            "",
            table,
        ]
    )


if __name__ == "__main__":
    print(run(quick=True))
