"""Disentanglement scores of a latent code against known factors, and latent traversals (docs/disentanglement.md).

MIG, DCI and SAP need codes (N, L) and factors (N, K) only; FactorVAE and BetaVAE need a `FactorSampler`
(batches drawn with one factor fixed), which `ShapesSampler` provides for the shapes lab.
"""

from latentatlas.latentmaps.disentanglement.dci import DCIResult, completeness, dci, disentanglement, importance_matrix
from latentatlas.latentmaps.disentanglement.discretize import histogram_discretize
from latentatlas.latentmaps.disentanglement.factors import FactorTable, as_factor_table
from latentatlas.latentmaps.disentanglement.information import entropy, mutual_information
from latentatlas.latentmaps.disentanglement.mig import MIGResult, mig
from latentatlas.latentmaps.disentanglement.sap import SAPResult, sap

__all__ = [
    "DCIResult",
    "FactorTable",
    "MIGResult",
    "SAPResult",
    "as_factor_table",
    "completeness",
    "dci",
    "disentanglement",
    "entropy",
    "histogram_discretize",
    "importance_matrix",
    "mig",
    "mutual_information",
    "sap",
]
