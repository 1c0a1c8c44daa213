"""Names of options shared by the library and the command line: plain data, importable without PyTorch."""

__all__ = ["DEVICES", "METRICS"]

METRICS = ("cosine", "euclidean", "sqeuclidean")  # the distances every geometry function accepts
DEVICES = ("auto", "cpu", "cuda")  # what `resolve_device` and --device accept by name
