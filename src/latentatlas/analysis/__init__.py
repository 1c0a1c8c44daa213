"""Embedding geometry: read embeddings, measure distances, ellipses, retrieval and spread, and report them."""

from latentatlas.analysis.io import EmbeddingSet, load_class_names, load_embeddings, load_labels
from latentatlas.analysis.projector import export_projector
from latentatlas.analysis.result import Analysis, analyze

__all__ = [
    "Analysis",
    "EmbeddingSet",
    "analyze",
    "export_projector",
    "load_class_names",
    "load_embeddings",
    "load_labels",
]
