"""Input checks shared by every geometry module, and the memory-bounded blocks they compute in.

Every function of the geometry layer takes plain (N, D) arrays or tensors and (N,) labels; these helpers turn
them into checked tensors (one-line `DataError`s naming the fix otherwise) and size the row blocks of the
N x N computations so that their temporaries fit a memory budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from latentatlas.choices import METRICS
from latentatlas.errors import ConfigError, DataError

__all__ = [
    "CHUNK",
    "DEFAULT_MEMORY_BUDGET",
    "METRICS",
    "as_labels",
    "as_matrix",
    "centred_gram",
    "centred_times",
    "check_metric",
    "row_block",
    "scatter_matrix",
    "symmetric_eigh",
    "validate_embeddings",
]

DEFAULT_MEMORY_BUDGET = 256 * 2**20  # bytes for one (block, N) float64 temporary, times a few
CHUNK = 1 << 14  # rows converted to float64 at a time by the O(N D) passes (16k x 128 x 8 B: cache-sized)


def as_matrix(
    x: Any,
    name: str = "embeddings",
    device: Any = None,
    dtype: torch.dtype | None = torch.float64,
    check_finite: bool = True,
) -> torch.Tensor:
    """Check embeddings and return them as a tensor.

    Args:
        x: (N, D) float numpy array or torch tensor.
        name: what the caller calls `x`, for error messages.
        device: where to compute; default: x's device for tensors, else CPU.
        dtype: result dtype; None keeps a floating dtype as is (no copy; integers become float64).
        check_finite: raise on NaN / inf (callers that detect them in their results may skip this pass).

    Returns:
        (N, D) tensor on `device`, checked finite.
    """
    if isinstance(x, np.ndarray):
        if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
            raise DataError(f"{name}: dtype {x.dtype} is not numeric; pass a float array of shape (N, D)")
        t = torch.from_numpy(np.ascontiguousarray(x))
    elif isinstance(x, torch.Tensor):
        t = x.detach()
    else:
        raise DataError(f"{name}: got {type(x).__name__}; pass a numpy array or torch tensor of shape (N, D)")
    if t.ndim != 2 or t.shape[0] == 0 or t.shape[1] == 0:
        raise DataError(f"{name}: shape {tuple(t.shape)} is not (N, D) with N, D >= 1; reshape it to 2-D")
    if dtype is None:
        dtype = t.dtype if t.dtype.is_floating_point else torch.float64
    t = t.to(device=device if device is not None else t.device, dtype=dtype)
    for s in range(0, t.shape[0] if check_finite else 0, CHUNK):  # chunks: no N x D boolean temporary
        if not bool(torch.isfinite(t[s : s + CHUNK]).all()):
            raise DataError(f"{name}: contains NaN or inf; drop or fix those rows first")
    return t


def as_labels(labels: Any, n: int, device: Any = None) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Check integer labels and encode them as class indices 0..C-1.

    Args:
        labels: (N,) integer numpy array, torch tensor or sequence.
        n: expected length (number of embeddings).
        device: device of the returned codes.

    Returns:
        codes: (N,) int64 tensor, index into `classes`; classes: (C,) sorted unique labels; counts: (C,) int64.
    """
    arr = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if arr.dtype.kind not in "iu" or arr.dtype == np.uint64:
        raise DataError(f"labels: dtype {arr.dtype} is not integer; pass integer class ids of shape (N,)")
    t = torch.from_numpy(arr.astype(np.int64))
    if t.ndim != 1 or t.shape[0] != n:
        raise DataError(f"labels: shape {tuple(t.shape)} does not match ({n},); pass one label per embedding")
    classes, codes, counts = torch.unique(t.long(), sorted=True, return_inverse=True, return_counts=True)
    return codes.to(device), classes.numpy(), counts.numpy()


def row_block(n_cols: int, memory_budget: int, bytes_per_item: int = 8, copies: int = 3) -> int:
    """Rows per block so that `copies` (rows, n_cols) temporaries fit in `memory_budget` bytes."""
    return max(1, min(n_cols, memory_budget // max(1, n_cols * bytes_per_item * copies)))


def scatter_matrix(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and scatter matrix sum (x - mean)(x - mean)^T (D, D) in float64, streaming over row chunks.

    Centring each chunk before the product avoids the cancellation of the one-pass X^T X - N m m^T.
    """
    mean = torch.zeros(x.shape[1], dtype=torch.float64, device=x.device)
    for s in range(0, x.shape[0], CHUNK):
        mean += x[s : s + CHUNK].to(torch.float64).sum(dim=0)
    mean /= x.shape[0]
    scatter = torch.zeros(x.shape[1], x.shape[1], dtype=torch.float64, device=x.device)
    for s in range(0, x.shape[0], CHUNK):
        xc = x[s : s + CHUNK].to(torch.float64) - mean  # (chunk, D)
        scatter.addmm_(xc.T, xc)
    return mean, scatter


def centred_gram(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean (D,) and Gram matrix (x - mean)(x - mean)^T (N, N) in float64, streaming over column chunks.

    The N x N counterpart of `scatter_matrix`: the same nonzero eigenvalues, O(N^2 D) time and O(N^2) memory,
    the cheap one when D > N (20 x 8,000 embeddings: a 20 x 20 matrix instead of 8,000 x 8,000).
    """
    n, d = x.shape
    mean = torch.zeros(d, dtype=torch.float64, device=x.device)
    for s in range(0, n, CHUNK):
        mean += x[s : s + CHUNK].to(torch.float64).sum(dim=0)
    mean /= n
    gram = torch.zeros(n, n, dtype=torch.float64, device=x.device)
    step = max(1, CHUNK * 128 // max(n, 1))  # columns per chunk: about CHUNK x 128 float64 numbers
    for s in range(0, d, step):
        xc = x[:, s : s + step].to(torch.float64) - mean[s : s + step]  # (N, chunk)
        gram.addmm_(xc, xc.T)
    return mean, gram


def centred_times(x: torch.Tensor, mean: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
    """(x - mean)^T u in float64 for u (N, k), streaming over column chunks: (D, k)."""
    step = max(1, CHUNK * 128 // max(x.shape[0], 1))
    return torch.cat(
        [(x[:, s : s + step].to(torch.float64) - mean[s : s + step]).T @ u for s in range(0, x.shape[1], step)]
    )


def symmetric_eigh(m: torch.Tensor, vectors: bool = True) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Ascending eigenvalues (and eigenvectors) of a symmetric float64 matrix, on its device.

    On CPU through NumPy's LAPACK: torch's multithreaded eigh of a 1,000 x 1,000 matrix was far slower with 2
    threads than with 1 on a busy 2-core machine; NumPy's is not (`analyze` times: BENCHMARKS.md, reliability).
    """
    if m.device.type != "cpu":
        return torch.linalg.eigh(m) if vectors else (torch.linalg.eigvalsh(m), None)
    a = m.numpy()
    if vectors:
        w, v = np.linalg.eigh(a)
        return torch.from_numpy(w), torch.from_numpy(v)
    return torch.from_numpy(np.linalg.eigvalsh(a)), None


def check_metric(metric: str) -> None:
    """Raise ConfigError unless `metric` is one of METRICS."""
    if metric not in METRICS:
        raise ConfigError(f"metric: {metric!r} is not supported; use one of {', '.join(METRICS)}")


def validate_embeddings(x: object, where: str) -> np.ndarray:
    """Return `x` as a (N, D) float32 array, or raise a `DataError` naming `where` and the fix."""
    if hasattr(x, "detach"):  # a torch tensor; NumPy has no bfloat16
        x = x.detach().cpu()
        x = (x.float() if x.dtype == torch.bfloat16 else x).numpy()
    x = np.asarray(x)
    if x.dtype.kind not in "iufb":
        raise DataError(f"{where}: embeddings have dtype {x.dtype}, not numbers; save a float array")
    if x.ndim == 1:
        raise DataError(f"{where}: a 1-D array of shape {x.shape}; embeddings must be (N, D): reshape(-1, 1)?")
    if x.ndim != 2:
        raise DataError(f"{where}: array of shape {x.shape}; embeddings must be (N, D): reshape(len(x), -1)")
    if x.shape[0] == 0 or x.shape[1] == 0:
        raise DataError(f"{where}: embeddings array of shape {x.shape} is empty; it needs N >= 2 rows, D >= 1")
    source = x
    with np.errstate(over="ignore"):  # values beyond float32 become inf here and get their own message below
        x = x.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(x).all(axis=1))
    if len(bad):
        if source.dtype.kind == "f" and np.isfinite(source[bad]).all():  # finite before the cast: too large
            top = float(np.abs(source[bad]).max())
            raise DataError(
                f"{where}: {len(bad)} row(s) hold values up to {top:.3g}, beyond float32's largest "
                f"{np.finfo(np.float32).max:.3g} (first at index {bad[0]}); rescale the embeddings first"
            )
        raise DataError(f"{where}: {len(bad)} row(s) hold NaN or inf (first at index {bad[0]}); drop or fix those rows")
    return x
