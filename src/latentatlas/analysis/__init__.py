"""Geometry of any labelled embeddings: read them, measure distances, ellipses, retrieval and spread.

This layer imports nothing of training, models, tasks or the shapes lab, and draws nothing (figures and pages are
`latentatlas.report`'s).
"""

from latentatlas.analysis.analyze import Analysis, analyze
from latentatlas.analysis.distances import ClassDistances, class_distance_matrix
from latentatlas.analysis.ellipses import PCA2D, EllipseSet, coverage_ellipses, pca_2d
from latentatlas.analysis.inputs import METRICS
from latentatlas.analysis.io import EmbeddingSet, load_embeddings
from latentatlas.analysis.labels import encode_labels, load_class_names, load_labels
from latentatlas.analysis.neighbours import knn
from latentatlas.analysis.pairs import pair_metrics
from latentatlas.analysis.projector import export_projector, read_projector
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.analysis.spread import spread_metrics

__all__ = [
    "METRICS",
    "PCA2D",
    "Analysis",
    "ClassDistances",
    "EllipseSet",
    "EmbeddingSet",
    "analyze",
    "class_distance_matrix",
    "coverage_ellipses",
    "encode_labels",
    "export_projector",
    "knn",
    "load_class_names",
    "load_embeddings",
    "load_labels",
    "pair_metrics",
    "pca_2d",
    "read_projector",
    "retrieval_metrics",
    "spread_metrics",
]
