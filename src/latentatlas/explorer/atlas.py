"""Thumbnails as sprite atlases: PNG sheets of equal tiles, as many sheets as the count needs.

One sheet holds at most `per_side` x `per_side` tiles with per_side = min(256, max_side // tile side), so a sheet
stays below `max_side` pixels (a 4096 x 4096 RGBA image is 64 MiB once the browser decodes it) and any number of
thumbnails fits: tile t sits in sheet t // per_atlas at row (t % per_atlas) // per_side, column ... % per_side.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import numpy as np

from latentatlas.errors import DataError

MAX_SIDE = 4096
MAX_PER_SIDE = 256  # 256 x 256 = 65,536 tiles per sheet at most


@dataclass
class AtlasLayout:
    """tile_h, tile_w: pixels of a tile; per_side: tiles per sheet row (and column); n: tiles; sheets: count."""

    tile_h: int
    tile_w: int
    per_side: int
    n: int

    @property
    def per_atlas(self) -> int:
        return self.per_side * self.per_side

    @property
    def sheets(self) -> int:
        return math.ceil(self.n / self.per_atlas)

    def locate(self, t: int) -> tuple[int, int, int]:
        """(sheet, x, y) pixel position of tile t's top-left corner."""
        sheet, within = divmod(t, self.per_atlas)
        row, col = divmod(within, self.per_side)
        return sheet, col * self.tile_w, row * self.tile_h

    def to_dict(self) -> dict:
        return {"tile_h": self.tile_h, "tile_w": self.tile_w, "per_side": self.per_side, "n": self.n}


def atlas_layout(n: int, tile_h: int, tile_w: int, max_side: int | None = None) -> AtlasLayout:
    """The layout of n tiles of tile_h x tile_w pixels in sheets of at most max_side (default MAX_SIDE) px a side."""
    max_side = MAX_SIDE if max_side is None else max_side
    per_side = min(MAX_PER_SIDE, max_side // max(tile_h, tile_w), max(1, math.ceil(math.sqrt(n))))
    if per_side < 1:
        raise DataError(f"thumbnails: {tile_h} x {tile_w} px tiles exceed {max_side} px sheets; shrink them")
    return AtlasLayout(tile_h, tile_w, per_side, n)


def atlas_pngs(thumbnails: np.ndarray, max_side: int | None = None) -> tuple[AtlasLayout, list[bytes]]:
    """Pack (N, h, w) or (N, h, w, 3) uint8 thumbnails into PNG sheets.

    Returns:
        layout and one PNG (bytes) per sheet; grey thumbnails give grey ("L") PNGs.
    """
    from PIL import Image

    n, h, w = thumbnails.shape[:3]
    layout = atlas_layout(n, h, w, max_side)
    pngs = []
    for sheet in range(layout.sheets):
        tiles = thumbnails[sheet * layout.per_atlas : (sheet + 1) * layout.per_atlas]
        rows = math.ceil(len(tiles) / layout.per_side)
        canvas = np.zeros((rows * layout.per_side, *tiles.shape[1:]), dtype=np.uint8)
        canvas[: len(tiles)] = tiles
        # (rows * per_side, h, w[, 3]) -> (rows * h, per_side * w[, 3]): tiles row-major in the sheet
        grid = canvas.reshape(rows, layout.per_side, *tiles.shape[1:]).swapaxes(1, 2)
        image = grid.reshape(rows * h, layout.per_side * w, *tiles.shape[3:])
        buf = io.BytesIO()
        Image.fromarray(image).save(buf, format="PNG", compress_level=6)
        pngs.append(buf.getvalue())
    return layout, pngs
