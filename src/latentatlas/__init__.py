"""latentatlas: train representation models and map the geometry of their latent spaces."""

__version__ = "0.1.0"


def analyze(embeddings, labels, class_names=None, **kwargs):
    """Analyze the geometry of any embeddings; see `latentatlas.analysis.analyze`."""
    from latentatlas.analysis.result import analyze as _analyze

    return _analyze(embeddings, labels, class_names=class_names, **kwargs)


__all__ = ["__version__", "analyze"]
