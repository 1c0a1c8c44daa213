"""After a shapes run: measure the latent maps with the validity oracle, draw them, write report.html."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from latentatlas.analysis.latent import latent_summary
from latentatlas.data.oracle import ValidityOracle
from latentatlas.report.shapes_report import write_run_report

log = logging.getLogger("latentatlas")


def write_latent_maps(task, run_dir: Path, history: list[dict[str, Any]]) -> dict[str, Any]:
    """Figures in `run_dir/figures`, `run_dir/report.html`; returns the numbers for summary.json."""
    config = task.config
    shapes = config.data.shapes
    oracle = ValidityOracle(families=tuple(shapes.family), shapes_cfg=shapes).fit()
    a = config.analysis
    maps = latent_summary(
        task.model,
        task.train_images,
        task.train_factors,
        task.val_images,
        oracle,
        seed=config.seed,
        grid_n=a.grid_n,
        n_samples=a.n_samples,
        n_morphs=a.n_morphs,
        morph_steps=a.morph_steps,
    )
    report = write_run_report(run_dir, maps, maps.summary, config.to_dict(), history)
    log.info("report: %s", report)
    return dict(maps.summary)
