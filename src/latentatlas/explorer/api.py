"""The explorer server's JSON endpoints, as plain methods of a parsed request body (the HTTP plumbing is in
`server.py`). Every bad request raises `ApiError(status, one line)`; the server answers it as a JSON error.

    GET  /api/info         what this server can do: {server, n, metric, neighbours, max_k, decoder, latent_dim}
    POST /api/neighbours   {index, k}            -> {index, k, neighbours: [...], distances: [...]}
    POST /api/decode       {z: [[L]...], valid_only}  -> {size, valid: [...], probs: base64 uint8 (M, S, S)}
    POST /api/morph        {z0, z1, steps, mode} -> {z, valid, probs}   (mode lerp | slerp)
    POST /api/selection    {indices, name}       -> {path, count}   writes selections/<name>.csv
    POST /api/agreement    {k}                   -> {k, values: base64 float32 (N,)}
"""

from __future__ import annotations

import base64
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.explorer.latent_build import decode_and_judge
from latentatlas.explorer.neighbours import NeighbourIndex, knn_agreement
from latentatlas.latentmaps.morph import MODES, interpolate

MAX_K = 1000
MAX_DECODE = 4096  # latents per decode request
MAX_MORPH_STEPS = 64
MAX_BODY_BYTES = 64 * 2**20
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


class ApiError(Exception):
    """A request the server refuses: HTTP status and a one-line message for the JSON error."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _int(body: dict, key: str, lo: int, hi: int, default: int | None = None) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, f"{key}: {value!r} is not an integer; send an integer in {lo}..{hi}")
    if not lo <= value <= hi:
        raise ApiError(400, f"{key}: {value} is outside {lo}..{hi}")
    return value


def _vectors(value: Any, key: str, dim: int, max_rows: int) -> np.ndarray:
    """A (M, dim) float32 array from a JSON list of lists (or one list), finite, 1 <= M <= max_rows."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ApiError(400, f"{key}: not a list of numbers; send rows of {dim} numbers") from None
    arr = arr[None] if arr.ndim == 1 else arr
    if arr.ndim != 2 or arr.shape[1] != dim or not 1 <= len(arr) <= max_rows:
        raise ApiError(400, f"{key}: shape {arr.shape}; send 1..{max_rows} rows of {dim} numbers (the latent dim)")
    if not np.isfinite(arr).all():
        raise ApiError(400, f"{key}: NaN or infinite values; send finite numbers")
    return arr.astype(np.float32)


def _b64(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr).tobytes()).decode("ascii")


@dataclass
class ExplorerApi:
    """Endpoint logic. root: the explorer's folder (selections are written under it); index: neighbours of the
    embeddings or None; labels: (N,) class codes or None; decoder / oracle: callables of latent_build or None."""

    root: Path
    n: int
    metric: str | None = None
    index: NeighbourIndex | None = None
    labels: np.ndarray | None = None
    class_names: list[str] | None = None
    decoder: Any = None
    oracle: Any = None
    latent_dim: int | None = None

    def routes(self) -> dict[tuple[str, str], Any]:
        return {
            ("GET", "/api/info"): lambda _: self.info(),
            ("POST", "/api/neighbours"): self.neighbours,
            ("POST", "/api/decode"): self.decode,
            ("POST", "/api/morph"): self.morph,
            ("POST", "/api/selection"): self.selection,
            ("POST", "/api/agreement"): self.agreement,
        }

    def info(self) -> dict[str, Any]:
        return {
            "server": "latentatlas", "n": self.n, "metric": self.metric, "neighbours": self.index is not None,
            "max_k": min(MAX_K, max(self.n - 1, 0)), "decoder": self._can_decode(), "latent_dim": self.latent_dim,
            "max_decode": MAX_DECODE, "max_morph_steps": MAX_MORPH_STEPS,
        }  # fmt: skip

    def _can_decode(self) -> bool:
        return self.decoder is not None and self.oracle is not None and self.latent_dim is not None

    def _need_index(self) -> NeighbourIndex:
        if self.index is None:
            raise ApiError(404, "neighbours: this server has no embeddings; start it with the embeddings")
        return self.index

    def neighbours(self, body: dict) -> dict[str, Any]:
        index = self._need_index()
        i = _int(body, "index", 0, self.n - 1)
        k = _int(body, "k", 1, min(MAX_K, self.n - 1), default=10)
        idx, dist = index.query([i], k)
        return {"index": i, "k": k, "neighbours": idx[0].tolist(), "distances": dist[0].tolist()}

    def _judge(self, z: np.ndarray, valid_only: bool = False) -> dict[str, Any]:
        probs, valid = decode_and_judge(self.decoder, self.oracle, z)
        out: dict[str, Any] = {"size": int(probs.shape[-1]), "valid": valid.tolist()}
        if not valid_only:
            out["probs"] = _b64(np.clip(np.rint(probs * 255.0), 0, 255).astype(np.uint8))
        return out

    def decode(self, body: dict) -> dict[str, Any]:
        if not self._can_decode():
            raise ApiError(404, "decode: this server has no decoder; start it with decoder= and oracle=")
        z = _vectors(body.get("z"), "z", self.latent_dim, MAX_DECODE)
        return self._judge(z, valid_only=bool(body.get("valid_only", False)))

    def morph(self, body: dict) -> dict[str, Any]:
        if not self._can_decode():
            raise ApiError(404, "morph: this server has no decoder; start it with decoder= and oracle=")
        z0 = _vectors(body.get("z0"), "z0", self.latent_dim, 1)[0]
        z1 = _vectors(body.get("z1"), "z1", self.latent_dim, 1)[0]
        steps = _int(body, "steps", 2, MAX_MORPH_STEPS, default=12)
        mode = body.get("mode", "lerp")
        if mode not in MODES:
            raise ApiError(400, f"mode: {mode!r} is not one of {', '.join(MODES)}")
        path = interpolate(z0.astype(np.float64), z1.astype(np.float64), steps, mode).astype(np.float32)
        return {"z": path.tolist(), **self._judge(path)}

    def selection(self, body: dict) -> dict[str, Any]:
        indices = body.get("indices")
        if not isinstance(indices, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in indices):
            raise ApiError(400, "indices: send a list of integer point indices")
        bad = next((i for i in indices if not 0 <= i < self.n), None)
        if bad is not None:
            raise ApiError(400, f"indices: {bad} is outside 0..{self.n - 1}")
        name = body.get("name", "selection")
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise ApiError(400, f"name: {name!r}; use 1-64 letters, digits, '_', '-' or '.', starting with a letter")
        folder = self.root / "selections"
        folder.mkdir(exist_ok=True)
        path = folder / f"{name}.csv"
        for k in range(1, 10_000):  # never overwrite an earlier selection
            if not path.exists():
                break
            path = folder / f"{name}-{k}.csv"
        self._write_csv(path, indices)
        return {"path": str(path.relative_to(self.root)), "count": len(indices)}

    def _write_csv(self, path: Path, indices: list[int]) -> None:
        lines = ["index,label" if self.labels is not None else "index"]
        for i in indices:
            if self.labels is None:
                lines.append(str(i))
            else:
                name = self.class_names[int(self.labels[i])] if self.class_names else str(int(self.labels[i]))
                lines.append(f"{i},{_csv(name)}")
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".csv")
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        os.replace(tmp, path)

    def agreement(self, body: dict) -> dict[str, Any]:
        index = self._need_index()
        if self.labels is None:
            raise ApiError(404, "agreement: the points have no labels, so there is no label agreement")
        k = _int(body, "k", 1, min(MAX_K, self.n - 1), default=10)
        idx, _ = index.all(k)
        return {"k": k, "values": _b64(knn_agreement(idx, self.labels).astype("<f4"))}


def _csv(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\n') else text
