"""Mutual Information Gap (Chen et al. 2018, "Isolating Sources of Disentanglement in VAEs"), as
disentanglement_lib computes it (`mig.py`, Locatello et al. 2019).

Each latent is cut into 20 equal-width histogram bins, continuous factors the same way; `I(z_j; v_k)` is the
plug-in mutual information of the two label columns, and

    MIG = 1/K sum_k (I(z_(1); v_k) - I(z_(2); v_k)) / H(v_k),

with z_(1), z_(2) the two latents most informative about factor v_k. 1 = each factor is captured by one latent
alone; 0 = no latent says more about a factor than the runner-up (a duplicated latent scores 0 too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from latentatlas.latentmaps.disentanglement.discretize import DEFAULT_BINS, histogram_discretize
from latentatlas.latentmaps.disentanglement.factors import FactorsLike, FactorTable, prepare
from latentatlas.latentmaps.disentanglement.information import entropy, mutual_information
from latentatlas.latentmaps.disentanglement.scoring import top_two_gap


@dataclass(frozen=True)
class MIGResult:
    """MIG and the matrices behind it: `mutual_information` (L, K) nats, `factor_entropy` (K,) nats."""

    score: float
    per_factor: np.ndarray  # (K,) gap / entropy
    mutual_information: np.ndarray  # (L, K)
    factor_entropy: np.ndarray  # (K,)
    factor_names: tuple[str, ...]

    @property
    def normalized(self) -> np.ndarray:
        """Mutual information over the factor's entropy, `I(z_j; v_k) / H(v_k)` in [0, 1]: (L, K)."""
        return self.mutual_information / self.factor_entropy


def mig(
    codes: np.ndarray,
    factors: FactorsLike | FactorTable,
    names: Sequence[str] | None = None,
    num_bins: int = DEFAULT_BINS,
) -> MIGResult:
    """MIG of codes against known factors.

    Args:
        codes: (N, L) latent codes (posterior means), N >= num_bins.
        factors: (N, K) factor values or a dict of (N,) columns; see `as_factor_table`.
        names: factor names for an array of factors.
        num_bins: histogram bins of the codes and of continuous factors (disentanglement_lib: 20).
    """
    x, table = prepare(codes, factors, names, num_bins)
    mi = mutual_information(histogram_discretize(x, num_bins), table.labels)  # (L, K)
    h = entropy(table.labels)  # (K,) > 0: constant factors are refused
    per_factor = top_two_gap(mi) / h
    return MIGResult(float(per_factor.mean()), per_factor, mi, h, table.names)
