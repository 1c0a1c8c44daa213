"""All disentanglement scores of one encoder, and the JSON-safe numbers a run's summary.json keeps.

MIG, DCI and SAP need only codes and factors; FactorVAE and BetaVAE need a `FactorSampler` and are None
without one. `shapes_scores` runs everything for a shapes-lab model on fresh figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from latentatlas.data.shapes import ShapesConfig, generate
from latentatlas.errors import ConfigError
from latentatlas.latentmaps.disentanglement.beta_vae import DEFAULTS as BETA_VAE_DEFAULTS
from latentatlas.latentmaps.disentanglement.beta_vae import BetaVAEResult, beta_vae_score
from latentatlas.latentmaps.disentanglement.dci import DEFAULT_MAX_TRAIN, DCIResult, dci
from latentatlas.latentmaps.disentanglement.discretize import DEFAULT_BINS
from latentatlas.latentmaps.disentanglement.factor_vae import DEFAULTS as FACTOR_VAE_DEFAULTS
from latentatlas.latentmaps.disentanglement.factor_vae import FactorVAEResult, factor_vae_score
from latentatlas.latentmaps.disentanglement.factors import FactorsLike, as_factor_table, check_codes
from latentatlas.latentmaps.disentanglement.mig import MIGResult, mig
from latentatlas.latentmaps.disentanglement.sampling import CHUNK_IMAGES, FactorSampler
from latentatlas.latentmaps.disentanglement.sap import SAPResult, sap
from latentatlas.latentmaps.disentanglement.shapes import ShapesSampler, shapes_factors

SCORES_SEED_OFFSET = 2_000_003  # fresh figures for the scores: another stream than training and validation


def _num(value: Any) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _matrix(m: np.ndarray) -> list[list[float | None]]:
    return [[_num(v) for v in row] for row in np.asarray(m)]


@dataclass
class DisentanglementScores:
    """Results of every score; `factor_vae` and `beta_vae` are None without a sampler."""

    mig: MIGResult
    dci: DCIResult
    sap: SAPResult
    factor_vae: FactorVAEResult | None
    beta_vae: BetaVAEResult | None
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def factor_names(self) -> tuple[str, ...]:
        return self.mig.factor_names

    def summary(self) -> dict[str, Any]:
        """JSON-safe numbers; matrices are factor x latent (K rows, L columns), NaN/inf as None."""
        names = self.factor_names
        return {
            "mig": _num(self.mig.score),
            "dci_disentanglement": _num(self.dci.disentanglement),
            "dci_completeness": _num(self.dci.completeness),
            "dci_informativeness": _num(self.dci.informativeness),
            "sap": _num(self.sap.score),
            "factor_vae_score": None if self.factor_vae is None else _num(self.factor_vae.eval_accuracy),
            "beta_vae_score": None if self.beta_vae is None else _num(self.beta_vae.eval_accuracy),
            "disentanglement_factors": list(names),
            # per factor, in the order of `disentanglement_factors`
            "mig_per_factor": [_num(v) for v in self.mig.per_factor],
            "sap_per_factor": [_num(v) for v in self.sap.per_factor],
            "dci_informativeness_per_factor": [_num(v) for v in self.dci.test_accuracy],
            "dci_informativeness_train": _num(self.dci.informativeness_train),
            "factor_vae_active_dims": None if self.factor_vae is None else self.factor_vae.num_active,
            "factor_entropy": [_num(v) for v in self.mig.factor_entropy],
            "factor_latent_mutual_information": _matrix(self.mig.mutual_information.T),
            "factor_latent_normalized_mi": _matrix(self.mig.normalized.T),
            "factor_latent_dci_importance": _matrix(self.dci.importance.T),
            "disentanglement_settings": dict(self.settings),
        }


def disentanglement_scores(
    codes: np.ndarray,
    factors: FactorsLike,
    sampler: FactorSampler | None = None,
    names: Sequence[str] | None = None,
    num_bins: int = DEFAULT_BINS,
    seed: int = 0,
    dci_max_train: int | None = DEFAULT_MAX_TRAIN,
    factor_vae_kwargs: dict[str, Any] | None = None,
    beta_vae_kwargs: dict[str, Any] | None = None,
) -> DisentanglementScores:
    """MIG, DCI, SAP on codes (N, L) and factors (N, K); FactorVAE and BetaVAE from `sampler` when given.

    `factor_vae_kwargs` / `beta_vae_kwargs` go to `factor_vae_score` / `beta_vae_score` (sample counts).
    """
    table = as_factor_table(factors, names, num_bins)
    x = check_codes(codes, len(table.labels), num_bins)
    fv_kw, bv_kw = dict(factor_vae_kwargs or {}), dict(beta_vae_kwargs or {})
    fv = None if sampler is None else factor_vae_score(sampler, seed=seed, **fv_kw)
    bv = None if sampler is None else beta_vae_score(sampler, seed=seed, **bv_kw)
    settings = {"n_codes": len(x), "num_bins": num_bins, "seed": seed, "dci_max_train": dci_max_train}
    if sampler is not None:
        settings["factor_vae"] = {**FACTOR_VAE_DEFAULTS, **fv_kw}
        settings["beta_vae"] = {**BETA_VAE_DEFAULTS, **bv_kw}
    m = mig(x, table, num_bins=num_bins)
    d = dci(x, table, num_bins=num_bins, max_train=dci_max_train, seed=seed)
    return DisentanglementScores(m, d, sap(x, table, num_bins=num_bins, seed=seed), fv, bv, settings)


def scores_summary(codes: np.ndarray, factors: FactorsLike, sampler: FactorSampler | None = None, **kwargs) -> dict:
    """`disentanglement_scores(...).summary()`: the JSON-safe numbers for summary.json."""
    return disentanglement_scores(codes, factors, sampler, **kwargs).summary()


def shapes_scores(
    model: torch.nn.Module, cfg: ShapesConfig, n: int = 10_000, seed: int = 0, with_sampler: bool = True, **kwargs
) -> DisentanglementScores:
    """Every score of a shapes-lab model on `n` fresh figures (seed `seed + SCORES_SEED_OFFSET`).

    Args:
        model: AE/VAE; codes are its posterior means.
        cfg: the generator settings the model was trained on; factors it keeps fixed are left out.
        n: figures for MIG, DCI, SAP (disentanglement_lib: 10,000).
        with_sampler: also the FactorVAE and BetaVAE scores (fresh batches through `ShapesSampler`).
        kwargs: passed to `disentanglement_scores`.
    """
    if n < 1:
        raise ConfigError(f"n: {n}; score at least {DEFAULT_BINS} figures (disentanglement_lib uses 10,000)")
    images, factors = generate(cfg, n, seed + SCORES_SEED_OFFSET)
    sampler = ShapesSampler(model, cfg)
    codes = np.concatenate([sampler.encode(images[s : s + CHUNK_IMAGES]) for s in range(0, n, CHUNK_IMAGES)])
    sampler_or_none = sampler if with_sampler else None
    return disentanglement_scores(codes, shapes_factors(factors, cfg), sampler_or_none, seed=seed, **kwargs)
