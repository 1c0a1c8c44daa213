"""latentatlas: train representation models and map the geometry of their latent spaces.

`latentatlas.analyze(embeddings, labels)` is the entry point for any embeddings, `latentatlas.explore(...)` opens
them in the interactive explorer (see `latentatlas.api`). Both are loaded on first use (PEP 562), so that importing
a submodule, e.g. for `latentatlas --help`, does not load PyTorch and matplotlib.
"""

import importlib

from latentatlas._version import __version__

__all__ = ["Analysis", "Explorer", "__version__", "analyze", "explore"]

_API = ("Analysis", "Explorer", "analyze", "explore")


def __getattr__(name: str):
    if name in _API:
        return getattr(importlib.import_module("latentatlas.api"), name)
    raise AttributeError(f"module 'latentatlas' has no attribute {name!r}")
