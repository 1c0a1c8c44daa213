"""`report.html` of a shapes AE/VAE run: config, training curves, the latent summary and every latent figure.

The page is self-contained (`latentatlas.report.html` embeds each image as a data URI) and each figure carries a
caption saying what to read in it; docs/latent-maps.md gives the definitions behind the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from latentatlas.latentmaps.summary import LatentMaps
from latentatlas.report import html
from latentatlas.report.latent_figures import write_latent_figures
from latentatlas.report.runs import flatten
from latentatlas.report.training_curves import plot_training_curves

__all__ = ["CAPTIONS", "summary_rows", "write_run_report"]

CAPTIONS: dict[str, str] = {
    "training": "Training curves: every numeric column of metrics.jsonl per epoch. Look for a validation loss that "
    "turns up (overfitting) and, for a VAE, a KL term that falls to 0 (posterior collapse).",
    "scatter": "Training set encoded (posterior means), coloured by type, height and radius. Separate islands for "
    "types I and II with empty space between them are the seed's 'holes'; smooth colour gradients mean the latent "
    "orders the figures by that factor.",
    "pairs": "Pairwise scatter of the first latent dims by type: which dims carry the type, which are unused.",
    "grid": "Decoded grid on the latent axes (VAE: prior quantiles; AE: the training box). Green frame = the oracle "
    "accepts the image as a true figure, red = not. Red cells at the borders are the seed's AE claim.",
    "samples": "Decoded samples (VAE: z ~ N(0, I); AE: uniform in the training box) with the oracle's verdicts: "
    "the share of green is sample_validity, how often the model generates a figure from scratch.",
    "morph": "A morph between two training cylinders, lerp and slerp rows, frames framed by validity; below, the "
    "height and radius the oracle reads on each frame (dotted: straight line between the true end values). A "
    "continuous morph has green frames and curves that move steadily from start to end.",
    "morph_gif": "The same morph animated (slerp for a VAE, lerp for an AE), forward and back.",
    "reconstructions": "Held-out figures (top) and their reconstructions (bottom): if these are poor, the other "
    "maps say little about the latent space.",
    "kl": "Mean KL of q(z_d|x) to N(0, 1) per latent dim: dims near 0 carry no information (inactive units).",
}


def _cell(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return html.fmt(float(v), 3)
    return html.escape(v)


def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key, value) rows of a (nested) summary; long number lists are shown inline, rounded."""
    rows = []
    for key, value in summary.items():
        if isinstance(value, list | tuple):
            rows.append((key, "[" + ", ".join(_cell(v) for v in value) + "]"))
        elif isinstance(value, Mapping):
            rows.extend((f"{key}.{k}", html.fmt(v)) for k, v in flatten(value).items())
        else:
            rows.append((key, html.fmt(value)))
    return rows


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
        summary: the run's summary numbers (as in summary.json).
        config_dict: the resolved config (as in config.yaml).
        metrics_rows: the rows of metrics.jsonl.
        extra_figures: more figures for the report, key -> (path, caption).
    """
    run_dir = Path(run_dir)
    fig_dir = run_dir / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    figures: dict[str, Path] = {}
    curves = plot_training_curves(list(metrics_rows), fig_dir / "training_curves.png") if metrics_rows else None
    if curves is not None:
        figures["training"] = curves
    if maps is not None:
        figures.update(write_latent_figures(maps, fig_dir))
    rows = summary_rows(summary)
    body = [
        f"<p class='note'>Run directory <code>{html.escape(run_dir.resolve())}</code>. Definitions of every number: "
        "docs/latent-maps.md.</p>",
        "<h2>Summary</h2>",
        "<table><thead><tr><th>quantity</th><th>value</th></tr></thead><tbody>"
        + "".join(f"<tr><td>{html.escape(k)}</td><td>{v}</td></tr>" for k, v in rows)
        + "</tbody></table>",
        "<h2>Figures</h2>",
        *(html.figure(path, CAPTIONS.get(key, "")) for key, path in figures.items()),
        *(html.figure(path, caption) for path, caption in (extra_figures or {}).values()),
        "<h2>Config</h2>",
        f"<pre>{html.escape(yaml.safe_dump(dict(config_dict), sort_keys=False))}</pre>",
    ]
    return html.write_page(run_dir / "report.html", f"latentatlas run: {run_dir.name}", "".join(body))
