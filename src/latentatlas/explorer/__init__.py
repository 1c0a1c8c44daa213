"""The interactive latent-space explorer: a static page (no server, no network) or a local server with live
neighbours and decodes. Build `ExplorerData` from plain arrays (`explorer_data`, `from_analysis`,
`generative_explorer_data`), then `write_explorer`, `serve` (or `open_server`) it, or show it `inline` in Jupyter."""

from latentatlas.explorer.build import explorer_data, from_analysis, with_derived
from latentatlas.explorer.data import ExplorerData, LatentPlane, LatentSpace
from latentatlas.explorer.latent_build import (
    generative_explorer_data,
    latent_space,
    model_decoder,
    oracle_validity,
)
from latentatlas.explorer.neighbours import NeighbourIndex
from latentatlas.explorer.notebook import inline
from latentatlas.explorer.server import open_server, serve
from latentatlas.explorer.write import write_explorer

__all__ = [
    "ExplorerData",
    "LatentPlane",
    "LatentSpace",
    "NeighbourIndex",
    "explorer_data",
    "from_analysis",
    "generative_explorer_data",
    "inline",
    "latent_space",
    "model_decoder",
    "open_server",
    "oracle_validity",
    "serve",
    "with_derived",
    "write_explorer",
]
