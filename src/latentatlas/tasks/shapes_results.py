"""After a shapes run: measure the latent maps with the validity oracle, draw them, write report.html."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from latentatlas.data.oracle import ValidityOracle
from latentatlas.latentmaps.family_morph import PATH, family_morph, family_separation
from latentatlas.latentmaps.summary import latent_summary
from latentatlas.report.latent_figures import plot_family_morph, write_morph_gif
from latentatlas.report.latent_report import write_run_report
from latentatlas.report.links import link_explorer
from latentatlas.tasks.shapes_scores import write_disentanglement

__all__ = ["write_latent_maps"]

log = logging.getLogger("latentatlas")

FAMILY_CAPTION = (
    "Decoding a straight latent path from a cylinder to a capsule to a sphere (one standing training figure of "
    "each, near its family's median size). Green frame = the oracle finds a valid figure of one of the trained "
    "families; the label names the family it recognizes, so you can read where the decoder switches family."
)


def write_latent_maps(
    task, run_dir: Path, history: list[dict[str, Any]], numbers: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Figures in `run_dir/figures`, `run_dir/report.html`; returns the numbers for summary.json.

    `numbers` are the run's other summary numbers (the final validation), shown on the page with the maps'.
    """
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
    summary = dict(maps.summary)
    extra = {}
    if len(shapes.family) > 1:
        summary["family_separation"] = family_separation(maps.train_mu, task.train_factors)
        fm = (
            family_morph(task.model, task.train_images, task.train_factors, oracle)
            if set(PATH) <= set(shapes.family)
            else None
        )
        if fm is not None:
            summary.update(fm.summary())
            figs = run_dir / "figures"
            figs.mkdir(parents=True, exist_ok=True)
            extra["family_morph"] = (plot_family_morph(fm, figs / "family_morph.png"), FAMILY_CAPTION)
            extra["family_morph_gif"] = (
                write_morph_gif(fm.frames, figs / "family_morph.gif"),
                "The same path, animated.",
            )
    if a.disentanglement:
        scores, figures = write_disentanglement(task.model, config, oracle, maps.train_mu, run_dir / "figures")
        summary.update(scores)
        extra.update(figures)
    page_numbers = {**(numbers or {}), **summary}
    report = write_run_report(run_dir, maps, page_numbers, config.to_dict(), history, extra_figures=extra)
    log.info("report: %s", report)
    link_explorer(report)  # an explorer written before (then the run resumed) stays linked
    return summary
