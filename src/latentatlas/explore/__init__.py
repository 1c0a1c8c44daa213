"""The interactive latent-space explorer: a static page (no server, no network) or a local server with live
neighbours and decodes. Build `ExplorerData` from plain arrays (`explorer_data`, `from_analysis`,
`generative_explorer_data`), then `write_explorer`, `serve` (or `open_server`) it, or show it `inline` in Jupyter."""

from latentatlas.explore.build import explorer_data, from_analysis, with_derived
from latentatlas.explore.data import ExplorerData, LatentPlane, LatentSpace
from latentatlas.explore.latent_build import (
    generative_explorer_data,
    latent_space,
    model_decoder,
    oracle_validity,
)
from latentatlas.explore.neighbours import NeighbourIndex
from latentatlas.explore.notebook import inline
from latentatlas.explore.server import open_server, serve
from latentatlas.explore.write import write_explorer

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
