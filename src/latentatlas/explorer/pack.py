"""ExplorerData -> what the page loads: a JSON manifest and named chunks of base64 typed arrays.

Browsers refuse `fetch` of local files under file://, but run local scripts: every chunk is a script calling
`LATENTATLAS.chunk(name, value)` with a base64 string (a little-endian typed array, described in the manifest by
`{"chunk", "dtype", "shape"}`), a `data:` URI (thumbnail sheets) or a JSON list (category names). The manifest is
one more script, `LATENTATLAS.manifest({...})`. docs/explore.md describes every field.
"""

from __future__ import annotations

import base64
import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from latentatlas.explorer.atlas import atlas_pngs
from latentatlas.explorer.data import STATIC_NEIGHBOURS_MAX_N, ExplorerData, LatentSpace

FORMAT_VERSION = 1
MAX_LEGEND = 20  # categorical colourings with more values colour the 19 commonest and grey the rest
DTYPES = {"float32": "<f4", "float64": "<f8", "uint8": "u1", "uint16": "<u2", "uint32": "<u4", "int32": "<i4"}


@dataclass
class Bundle:
    """manifest: JSON-ready dict; chunks: {name: JS literal text} in load order."""

    manifest: dict[str, Any] = field(default_factory=dict)
    chunks: dict[str, str] = field(default_factory=dict)

    def array(self, name: str, arr: np.ndarray, dtype: str) -> dict[str, Any]:
        """Add `arr` as a base64 chunk; returns its manifest reference."""
        raw = np.ascontiguousarray(arr, dtype=DTYPES[dtype]).tobytes()
        self.chunks[name] = '"' + base64.b64encode(raw).decode("ascii") + '"'
        return {"chunk": name, "dtype": dtype, "shape": list(arr.shape)}

    def json(self, name: str, value: Any) -> dict[str, Any]:
        """Add a JSON value as a chunk (`</` escaped so it may sit inside a script element)."""
        self.chunks[name] = json_text(value)
        return {"chunk": name}

    def size(self) -> int:
        """Bytes of every chunk and the manifest, as written."""
        return sum(len(v) for v in self.chunks.values()) + len(json_text(self.manifest))


def json_text(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), allow_nan=False).replace("</", "<\\/")


def _finite(values: Any) -> Any:
    """Nested lists with NaN / inf as None (JSON has no NaN)."""
    arr = np.asarray(values, dtype=np.float64)
    return [None if not math.isfinite(v) else v for v in arr.tolist()] if arr.ndim == 1 else [_finite(r) for r in arr]


def index_dtype(n: int) -> str:
    return "uint8" if n <= 256 else "uint16" if n <= 65536 else "uint32"


def pack(data: ExplorerData, neighbours: Any) -> Bundle:
    """The bundle of `data` (already completed by `build.with_derived`); neighbours: `build.Neighbours` or None."""
    b = Bundle()
    m = b.manifest
    m.update(version=FORMAT_VERSION, title=data.title, projection=data.projection, notes=list(data.notes))
    m.update(links=[{"text": str(t), "href": str(h)} for t, h in data.links], color_by=data.color_by)
    m.update(n=data.n, metric=data.metric, dim=None if data.embeddings is None else int(data.embeddings.shape[1]))
    m["limits"] = {"static_neighbours_max_n": STATIC_NEIGHBOURS_MAX_N}
    m["coords"] = b.array("coords", data.coords, "float32")
    m["labels"], m["class_names"] = None, []
    if data.labels is not None:
        names = data.class_names or [str(c) for c in range(int(np.max(data.labels)) + 1)]
        m["labels"] = b.array("labels", data.labels, index_dtype(len(names)))
        m["class_names"] = list(map(str, names))
    m["metadata"] = [_metadata(b, i, name, col) for i, (name, col) in enumerate(data.metadata.items())]
    m["quantities"] = [
        {"name": name, "values": b.array(f"quantity{i}", np.asarray(v), "float32")}
        for i, (name, v) in enumerate(data.quantities.items())
    ]
    m["neighbours"] = None
    if neighbours is not None:
        k = neighbours.index.shape[1]
        m["neighbours"] = {
            "k": k,
            "index": b.array("nn_index", neighbours.index, "uint32"),
            "distance": b.array("nn_distance", neighbours.distance, "float32"),
        }
    m["ellipses"] = _ellipses(data.ellipses)
    m["class_distances"] = None
    if data.class_distances is not None:
        m["class_distances"] = {"name": data.class_distance_name, "matrix": _finite(data.class_distances)}
    m["thumbnails"] = None if data.thumbnails is None else _thumbnails(b, data.thumbnails)
    m["latent"] = None if data.latent is None else _latent(b, data.latent)
    return b


def _metadata(b: Bundle, i: int, name: str, col: np.ndarray) -> dict[str, Any]:
    col = np.asarray(col)
    if col.dtype.kind in "biuf":
        return {"name": name, "kind": "numeric", "values": b.array(f"meta{i}", col.astype(np.float64), "float32")}
    values, codes = np.unique(col.astype(str), return_inverse=True)
    ref = b.array(f"meta{i}", codes.reshape(-1), index_dtype(len(values)))
    return {"name": name, "kind": "categorical", "codes": ref, "categories": b.json(f"meta{i}_names", values.tolist())}


def _ellipses(ellipses: Any) -> dict[str, Any] | None:
    if ellipses is None:
        return None
    items = [
        {"cls": int(e.label), "center": list(e.center), "semi_axes": list(e.semi_axes), "angle_deg": e.angle_deg}
        for e in ellipses.ellipses
    ]
    return {"coverage": float(ellipses.coverage), "items": items}


def _thumbnails(b: Bundle, thumbs: np.ndarray) -> dict[str, Any]:
    layout, pngs = atlas_pngs(thumbs)
    sheets = []
    for s, png in enumerate(pngs):
        name = f"atlas{s}"
        b.chunks[name] = '"data:image/png;base64,' + base64.b64encode(png).decode("ascii") + '"'
        sheets.append(name)
    return {**layout.to_dict(), "channels": 1 if thumbs.ndim == 3 else 3, "sheets": sheets}


def _latent(b: Bundle, space: LatentSpace) -> dict[str, Any]:
    planes = []
    for p, plane in enumerate(space.planes):
        k, cells, s, _ = plane.images.shape
        bits = np.packbits(plane.images.reshape(k, cells, s * s).astype(bool), axis=-1)  # MSB first
        planes.append({
            "name": plane.name, "axis_labels": list(plane.axis_labels),
            "origin": _finite(plane.origin), "basis": _finite(plane.basis),
            "xs": _finite(plane.xs), "ys": _finite(plane.ys),
            "others_default": _finite(plane.others_default), "others_range": _finite(plane.others_range),
            "slice_values": _finite(plane.slice_values),
            "images": b.array(f"plane{p}_images", bits, "uint8"),
            "valid": b.array(f"plane{p}_valid", plane.valid.astype(np.uint8), "uint8"),
            "coords": b.array(f"plane{p}_coords", plane.coords, "float32"),
        })  # fmt: skip
    return {
        "latent_dim": space.latent_dim, "image_size": space.image_size, "morph_steps": space.morph_steps,
        "variational": space.variational, "planes": planes,
        "latents": b.array("latents", space.latents, "float32"),
        "pca_mean": _finite(space.pca_mean), "pca_axes": _finite(space.pca_axes),
    }  # fmt: skip
