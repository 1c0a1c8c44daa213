"""After a shapes run: disentanglement scores against the generator's factors, traversals and their figures.

What the run's `analysis.*` settings ask for (docs/disentanglement.md): MIG, DCI and SAP on fresh figures,
FactorVAE and BetaVAE through batches drawn with one factor fixed, a traversal of every latent dimension judged by
the oracle, and the factor x latent mutual information as a heatmap.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch

from latentatlas.config import Config
from latentatlas.latentmaps.disentanglement import latent_traversals, shapes_scores
from latentatlas.report.traversal_figure import (
    INFORMATION_FILE,
    TRAVERSAL_FILE,
    plot_factor_latent_information,
    plot_traversals,
)

__all__ = ["SCORE_CAPTIONS", "disentanglement_numbers", "write_disentanglement"]

SCORE_CAPTIONS = {
    "traversals": "Latent traversals: each row sweeps one latent dimension with the others at the mean code "
    "(VAE: +-2 prior std; AE: +-2 std of the codes). Green frame = the oracle finds a valid figure. The row label "
    "names the factor that dimension is most informative about (normalized mutual information).",
    "information": "Mutual information between each generator factor and each latent dimension, over the factor's "
    "entropy (MIG's matrix): one bright cell per row and per column is a disentangled code.",
}


def disentanglement_numbers(model: torch.nn.Module, config: Config) -> tuple[dict[str, Any], Any]:
    """The scores' summary numbers (summary.json keys) and the full result, as `config.analysis` asks."""
    a = config.analysis
    with_sampler = a.factor_vae_points > 0 and a.beta_vae_points > 0
    fv = {"num_train": a.factor_vae_points, "num_eval": max(a.factor_vae_points // 2, 1)}
    bv = {"num_train": a.beta_vae_points, "num_eval": max(a.beta_vae_points // 2, 1)}
    scores = shapes_scores(model, config.data.shapes, n=a.score_figures, seed=config.seed, with_sampler=with_sampler,
                           factor_vae_kwargs=fv, beta_vae_kwargs=bv)  # fmt: skip
    return scores.summary(), scores


def write_disentanglement(
    model: torch.nn.Module, config: Config, oracle: Any, codes: np.ndarray, figures: Path
) -> tuple[dict[str, Any], dict[str, tuple[Path, str]]]:
    """Scores, traversals and their figures in `figures/`; returns (summary numbers, extra report figures)."""
    numbers, scores = disentanglement_numbers(model, config)
    names = list(scores.factor_names)
    info = np.asarray(scores.mig.normalized)  # (L, K): latent x factor
    traversal = latent_traversals(model, oracle, codes, info=info, factor_names=names)
    figures.mkdir(parents=True, exist_ok=True)
    numbers["traversal_validity"] = float(np.mean(traversal.valid))
    extra = {
        "traversals": (plot_traversals(traversal, figures / TRAVERSAL_FILE), SCORE_CAPTIONS["traversals"]),
        "information": (
            plot_factor_latent_information(info.T, names, figures / INFORMATION_FILE),
            SCORE_CAPTIONS["information"],
        ),
    }
    return numbers, extra
