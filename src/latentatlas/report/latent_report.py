"""`report.html` of a shapes AE/VAE run: findings, the validity numbers, the curves that matter, every latent
figure with what to read in it, the other numbers, details and a glossary.

The page is self-contained (`latentatlas.report.html` embeds each image as a data URI); docs/latent-maps.md gives
the definitions behind the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from latentatlas.latentmaps.summary import LatentMaps
from latentatlas.report import html, run_page
from latentatlas.report.findings_shapes import shapes_run_findings
from latentatlas.report.latent_figures import write_latent_figures
from latentatlas.report.page import Page, applicable

__all__ = ["CAPTIONS", "write_run_report"]

CAPTIONS: dict[str, str] = {
    "scatter": "Training set encoded (posterior means), coloured by type, height and radius. Separate islands for "
    "types I and II with empty space between them are the seed's 'holes'; smooth colour gradients mean the latent "
    "orders the figures by that factor.",
    "pairs": "Pairwise scatter of the first latent dims by type: which dims carry the type, which are unused.",
    "grid": "Decoded grid on the latent axes (VAE: prior quantiles; AE: the training box). Green frame = the oracle "
    "accepts the image as a true figure, red = not. Red cells at the borders are the seed's AE claim.",
    "samples": "Decoded samples (VAE: z ~ N(0, I); AE: uniform in the training box) with the oracle's verdicts: "
    "the share of green is the sample validity, how often the model generates a figure from scratch.",
    "morph": "A morph between two training cylinders, lerp and slerp rows, frames framed by validity; below, the "
    "height and radius the oracle reads on each frame (dotted: straight line between the true end values). A "
    "continuous morph has green frames and curves that move steadily from start to end.",
    "morph_gif": "The same morph animated (slerp for a VAE, lerp for an AE), forward and back.",
    "reconstructions": "Held-out figures (top) and their reconstructions (bottom): if these are poor, the other "
    "maps say little about the latent space.",
    "kl": "Mean KL of q(z_d|x) to N(0, 1) per latent dim: dims near 0 carry no information (inactive units).",
}


def write_run_report(
    run_dir: str | Path,
    maps: LatentMaps | None,
    summary: Mapping[str, Any],
    config_dict: Mapping[str, Any],
    metrics_rows: Sequence[Mapping[str, Any]],
    extra_figures: Mapping[str, tuple[Path, str]] | None = None,
) -> Path:
    """Write the run's figures into `run_dir/figures/` and `run_dir/report.html`; returns the report's path.

    Args:
        maps: the latent maps (`latent_summary`); None writes a report without latent figures.
        summary: the run's summary numbers (as in summary.json; the loop's own entries are added from the rows).
        config_dict: the resolved config (as in config.yaml).
        metrics_rows: the rows of metrics.jsonl.
        extra_figures: more figures for the report, key -> (path, caption).
    """
    run_dir = Path(run_dir)
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    rows = list(metrics_rows)
    train = config_dict.get("train", {})
    metric, mode = train.get("best_metric", "val_loss"), train.get("best_mode", "min")
    numbers = applicable({**(run_page.training_numbers(rows, metric, mode) if rows else {}), **summary})
    kind = "VAE" if summary.get("variational") else "autoencoder"
    page = Page(f"Shapes lab {kind} run {run_dir.name}")
    page.findings(shapes_run_findings(numbers))
    headline, other = run_page.number_tables(page, numbers)
    page.section("Validity of what the decoder draws", headline)
    curves, times = run_page.curves(rows, metric, mode, fig_dir)
    page.section("Training", curves)
    figures = write_latent_figures(maps, fig_dir) if maps is not None else {}
    page.section(
        "Latent maps",
        *(html.figure(path, CAPTIONS.get(key, "")) for key, path in figures.items()),
        *(html.figure(path, caption) for path, caption in (extra_figures or {}).values()),
        "<p class='note'>Definitions of every number: docs/latent-maps.md.</p>" if figures else "",
    )
    page.section("Other numbers", other)
    files = (
        f"Run directory <code>{html.escape(run_dir.resolve())}</code>: config.yaml, metrics.jsonl (one row per "
        "epoch), summary.json (the numbers above), checkpoints/ (best and last), figures/."
    )
    page.add(run_page.details(page, numbers, times, config_dict, files))
    return page.write(run_dir / "report.html")
