"""The explorer inline in Jupyter: the single-file page in a sandboxed iframe (`srcdoc`), no server, no widget
library. The notebook keeps the page inside its output, so the same 25 MB limit as --single-file applies."""

from __future__ import annotations

import html

from latentatlas.errors import LatentAtlasError
from latentatlas.explorer.build import with_derived
from latentatlas.explorer.data import ExplorerData
from latentatlas.explorer.pack import pack
from latentatlas.explorer.write import SINGLE_FILE_MAX_BYTES, single_file_html


class InlineExplorer:
    """What `inline(data)` returns; Jupyter shows it through `_repr_html_`."""

    def __init__(self, page: str, height: int):
        self.page = page
        self.height = height

    def _repr_html_(self) -> str:
        # allow-scripts runs the page; without allow-same-origin it cannot touch the notebook around it.
        return (
            f'<iframe srcdoc="{html.escape(self.page, quote=True)}" sandbox="allow-scripts allow-downloads" '
            f'style="width:100%;height:{int(self.height)}px;border:1px solid #ddd" title="latentatlas explorer">'
            "</iframe>"
        )


def inline(data: ExplorerData, height: int = 640) -> InlineExplorer:
    """The explorer of `data` for a notebook cell; refused above the single-file limit (write_explorer instead)."""
    full, neighbours = with_derived(data)
    page = single_file_html(pack(full, neighbours))
    size = len(page.encode("utf-8"))
    if size > SINGLE_FILE_MAX_BYTES:
        raise LatentAtlasError(
            f"inline explorer: {size / 1e6:.1f} MB is above the {SINGLE_FILE_MAX_BYTES / 1e6:.0f} MB a notebook "
            "output should hold; use write_explorer(data, DIR) and open DIR/index.html, or serve(data)"
        )
    return InlineExplorer(page, height)
