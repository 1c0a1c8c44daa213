"""The disentanglement part of an analysis page and its terminal lines: the scores against known factors (the
numbers of `latentmaps.disentanglement.scores_summary`), one row per factor, and the factor x latent mutual
information heatmap (`figures/factor_latent_information.png`)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from latentatlas.report import html
from latentatlas.report.figures import save_fig
from latentatlas.report.traversal_figure import INFORMATION_FILE, factor_latent_information_figure

__all__ = ["SCORE_KEYS", "disentanglement_parts", "disentanglement_lines", "information_figure",
           "write_information_figure"]  # fmt: skip

SCORE_KEYS = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "factor_vae_score",
              "beta_vae_score")  # fmt: skip
CAPTION = (
    "Mutual information between each known factor and each embedding dimension, over the factor's entropy (MIG's "
    "matrix, 20-bin histograms): one bright cell per row and per column is a disentangled code."
)
NOTE = (
    "<p class='note'>MIG, DCI and SAP need only the embeddings and the factors; FactorVAE and BetaVAE need "
    "batches drawn with one factor fixed, so only a shapes run (its generator) has them (– otherwise). Continuous "
    "factors are cut into 20 equal-width bins, as disentanglement_lib does (docs/disentanglement.md).</p>"
)
PER_FACTOR = (
    ("MIG", "mig_per_factor"),
    ("SAP", "sap_per_factor"),
    ("DCI informativeness", "dci_informativeness_per_factor"),
    ("entropy (nats)", "factor_entropy"),
)


def information_figure(numbers: Mapping[str, Any]) -> Figure:
    """The factor x latent normalized mutual information heatmap of the scores' numbers."""
    m = np.array([[np.nan if v is None else v for v in row] for row in numbers["factor_latent_normalized_mi"]])
    return factor_latent_information_figure(m, list(numbers["disentanglement_factors"]))


def write_information_figure(numbers: Mapping[str, Any], folder: Path) -> tuple[Path, str]:
    """`folder/factor_latent_information.png`; returns (path, caption)."""
    return save_fig(information_figure(numbers), Path(folder) / INFORMATION_FILE), CAPTION


def disentanglement_parts(page: Any, numbers: Mapping[str, Any], figure_uri: str | None) -> list[str]:
    """HTML parts of the section: the scores (named by the registry), the per-factor table, the heatmap."""
    scores = page.table({k: [numbers.get(k)] for k in SCORE_KEYS}, ["value"], grouped=False)
    names = list(numbers.get("disentanglement_factors", []))
    rows = [[name, *(_at(numbers.get(key), i) for _, key in PER_FACTOR)] for i, name in enumerate(names)]
    per_factor = html.table(rows, ["factor", *(h for h, _ in PER_FACTOR)])
    n = (numbers.get("disentanglement_settings") or {}).get("n_codes")
    intro = f"<p>Against {len(names)} known factors ({html.escape(', '.join(names))})" + (
        f" on {n:,} codes.</p>" if isinstance(n, int) else ".</p>"
    )
    parts = [intro, scores, per_factor]
    if figure_uri is not None:
        parts.append(f'<figure><img src="{figure_uri}" alt="{INFORMATION_FILE}">'
                     f"<figcaption>{html.escape(CAPTION)}</figcaption></figure>")  # fmt: skip
    return [*parts, NOTE]


def disentanglement_lines(numbers: Mapping[str, Any] | None) -> list[str]:
    """One terminal line: the scores against which factors."""
    if not numbers:
        return []
    shown = ", ".join(f"{k} {_f(numbers.get(k))}" for k in SCORE_KEYS if numbers.get(k) is not None)
    return [f"disentanglement ({', '.join(numbers.get('disentanglement_factors', []))}): {shown}"]


def _at(values: Any, i: int) -> Any:
    return values[i] if isinstance(values, list) and i < len(values) else None


def _f(v: Any) -> str:
    return "n/a" if v is None else f"{float(v):.4f}"
