"""The package version, in a module of its own so that low layers (checkpoints) can record it."""

__version__ = "0.1.0"
