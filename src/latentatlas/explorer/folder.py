"""Read back an explorer folder written by `write_explorer`: its manifest, a data chunk, its embeddings.npy.

`serve(folder)` uses this to answer for a page written earlier: labels and class names come from the page's own
data files, neighbours from `embeddings.npy` when the folder was written `with_embeddings=True`.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import numpy as np

from latentatlas.errors import DataError
from latentatlas.explorer.api import ExplorerApi
from latentatlas.explorer.neighbours import NeighbourIndex
from latentatlas.explorer.pack import DTYPES
from latentatlas.explorer.write import EMBEDDINGS_FILE

_MANIFEST = re.compile(r"(?:\A|<script>)LATENTATLAS\.manifest\((\{.*?\})\);\n", re.S)  # not the mention in data.js


def _chunk_pattern(name: str) -> re.Pattern[str]:
    return re.compile(r"LATENTATLAS\.chunk\(" + re.escape(json.dumps(name)) + r",\"([A-Za-z0-9+/=]*)\"\);")


def _page_text(root: Path) -> str:
    single = root / "explorer.html"
    return single.read_text(encoding="utf-8") if single.is_file() else ""


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a folder (data/manifest.js) or of a single-file explorer.html in it."""
    path = root / "data" / "manifest.js"
    text = path.read_text(encoding="utf-8") if path.is_file() else _page_text(root)
    match = _MANIFEST.search(text)
    if match is None:
        raise DataError(f"{root}: no explorer here (no data/manifest.js or explorer.html); write one with explore")
    return json.loads(match.group(1))


def read_array(root: Path, ref: dict[str, Any]) -> np.ndarray:
    """The typed array a manifest reference {chunk, dtype, shape} points to."""
    pattern = _chunk_pattern(ref["chunk"])
    files = sorted((root / "data").glob("*.js")) if (root / "data").is_dir() else []
    for text in (f.read_text(encoding="utf-8") for f in files if f.name.endswith(".js")):
        match = pattern.search(text)
        if match:
            break
    else:
        match = pattern.search(_page_text(root))
    if match is None:
        raise DataError(f"{root}: data chunk {ref['chunk']!r} is missing; write the explorer again")
    raw = base64.b64decode(match.group(1))
    return np.frombuffer(raw, dtype=DTYPES[ref["dtype"]]).reshape(ref["shape"])


def api_for_folder(root: Path, decoder: Any = None, oracle: Any = None) -> ExplorerApi:
    """ExplorerApi answering for the explorer in `root`."""
    m = read_manifest(root)
    labels = read_array(root, m["labels"]) if m.get("labels") else None
    index = None
    emb_path = root / EMBEDDINGS_FILE
    if emb_path.is_file():
        x = np.load(emb_path, mmap_mode="r")
        if x.shape[0] != m["n"]:
            raise DataError(f"{emb_path}: {x.shape[0]} rows for {m['n']} points; write the explorer again")
        index = NeighbourIndex(np.ascontiguousarray(x, dtype=np.float32), m["metric"])
    latent_dim = m["latent"]["latent_dim"] if m.get("latent") else None
    return ExplorerApi(
        root, int(m["n"]), m["metric"], index, None if labels is None else labels.astype(np.int64),
        m.get("class_names") or None, decoder, oracle, latent_dim,
    )  # fmt: skip
