"""Disentanglement scores of a latent code against known factors, and latent traversals (docs/disentanglement.md).

MIG, DCI and SAP need codes (N, L) and factors (N, K) only; FactorVAE and BetaVAE need a `FactorSampler`
(batches drawn with one factor fixed), which `ShapesSampler` provides for the shapes lab.
"""

from latentatlas.latentmaps.disentanglement.beta_vae import BetaVAEResult, beta_vae_score
from latentatlas.latentmaps.disentanglement.dci import DCIResult, completeness, dci, disentanglement, importance_matrix
from latentatlas.latentmaps.disentanglement.discretize import histogram_discretize
from latentatlas.latentmaps.disentanglement.factor_files import load_factors
from latentatlas.latentmaps.disentanglement.factor_vae import FactorVAEResult, factor_vae_score
from latentatlas.latentmaps.disentanglement.factors import FactorTable, as_factor_table, check_codes
from latentatlas.latentmaps.disentanglement.information import entropy, mutual_information
from latentatlas.latentmaps.disentanglement.mig import MIGResult, mig
from latentatlas.latentmaps.disentanglement.sampling import FactorSampler
from latentatlas.latentmaps.disentanglement.sap import SAPResult, sap
from latentatlas.latentmaps.disentanglement.shapes import ShapesSampler, shapes_factor_names, shapes_factors
from latentatlas.latentmaps.disentanglement.summary import (
    DisentanglementScores,
    disentanglement_scores,
    scores_summary,
    shapes_scores,
)
from latentatlas.latentmaps.disentanglement.traversal import Traversal, latent_traversals

__all__ = [
    "BetaVAEResult",
    "DCIResult",
    "DisentanglementScores",
    "FactorSampler",
    "FactorTable",
    "FactorVAEResult",
    "MIGResult",
    "SAPResult",
    "ShapesSampler",
    "Traversal",
    "as_factor_table",
    "beta_vae_score",
    "check_codes",
    "completeness",
    "dci",
    "disentanglement",
    "disentanglement_scores",
    "entropy",
    "factor_vae_score",
    "histogram_discretize",
    "importance_matrix",
    "latent_traversals",
    "load_factors",
    "mig",
    "mutual_information",
    "sap",
    "scores_summary",
    "shapes_factor_names",
    "shapes_factors",
    "shapes_scores",
]
