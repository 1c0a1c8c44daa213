"""Embedding geometry: read embeddings, measure distances, ellipses, retrieval and spread, and report them."""

from latentatlas.analysis.distances import ClassDistances, class_distance_matrix
from latentatlas.analysis.ellipses import PCA2D, EllipseSet, coverage_ellipses, pca_2d
from latentatlas.analysis.io import EmbeddingSet, load_class_names, load_embeddings, load_labels
from latentatlas.analysis.pairs import pair_metrics
from latentatlas.analysis.projector import export_projector
from latentatlas.analysis.result import Analysis, analyze
from latentatlas.analysis.retrieval import retrieval_metrics
from latentatlas.analysis.spread import spread_metrics

__all__ = [
    "PCA2D",
    "Analysis",
    "ClassDistances",
    "EllipseSet",
    "EmbeddingSet",
    "analyze",
    "class_distance_matrix",
    "coverage_ellipses",
    "export_projector",
    "load_class_names",
    "load_embeddings",
    "load_labels",
    "pair_metrics",
    "pca_2d",
    "retrieval_metrics",
    "spread_metrics",
]
