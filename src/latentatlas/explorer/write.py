"""Write the static explorer: a folder (index.html, explorer.css, js/, data/) or one self-contained explorer.html.

The page's HTML, CSS and JavaScript are package data (`explore/static/`), written here, never fetched from the
network. Data files are scripts (see `pack.py`), so the page works from file:// with no server.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from importlib import resources
from pathlib import Path

import numpy as np

from latentatlas.errors import LatentAtlasError
from latentatlas.explorer.build import with_derived
from latentatlas.explorer.data import ExplorerData
from latentatlas.explorer.pack import Bundle, json_text, pack
from latentatlas.outdir import check_out_dir, output_dir

log = logging.getLogger("latentatlas")
SINGLE_FILE_MAX_BYTES = 25_000_000  # about what mail accepts as one attachment
# Load order: helpers first, main.js last (it starts the page once everything is defined).
JS_FILES = (
    "data.js", "colors.js", "view.js", "render.js", "overlay.js", "panels.js", "select.js", "latent.js",
    "latent_ui.js", "api.js", "controls.js", "hook.js", "main.js",
)  # fmt: skip
EMBEDDINGS_FILE = "embeddings.npy"  # beside the page when written for a server (never loaded by the page)


def static_text(name: str) -> str:
    """A file of the page shipped in the package (`explore/static/<name>`)."""
    return (resources.files("latentatlas.explorer") / "static" / name).read_text(encoding="utf-8")


def write_explorer(
    data: ExplorerData,
    out_dir: str | Path,
    force: bool = False,
    single_file: bool = False,
    with_embeddings: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write the explorer of `data` into `out_dir`.

    Args:
        data: the points and what is drawn with them.
        out_dir: folder to write; refused when it exists and is not empty, unless `force`.
        single_file: write one self-contained `explorer.html` (refused above 25 MB) instead of a folder.
        with_embeddings: also write `embeddings.npy` (float32) so `serve(out_dir)` can answer neighbour queries.
        progress: called with (points done, N) while the static neighbours are computed.

    Returns:
        path of the page to open: `out_dir/index.html`, or `out_dir/explorer.html` with single_file.
    """
    check_out_dir(out_dir, force)  # before any long computation
    data, neighbours = with_derived(data, progress)
    bundle = pack(data, neighbours)
    if single_file:
        text = single_file_html(bundle)
        size = len(text.encode("utf-8"))
        if size > SINGLE_FILE_MAX_BYTES:
            limit = SINGLE_FILE_MAX_BYTES / 1e6
            raise LatentAtlasError(
                f"--single-file: explorer.html would be {size / 1e6:.1f} MB, above the {limit:g} MB limit; "
                "write the folder version (no --single-file), or leave out thumbnails or neighbours"
            )
    with output_dir(out_dir, force) as tmp:
        if single_file:
            (tmp / "explorer.html").write_text(text, encoding="utf-8")
        else:
            write_folder(bundle, tmp)
        if with_embeddings and data.embeddings is not None:
            np.save(tmp / EMBEDDINGS_FILE, np.asarray(data.embeddings, dtype=np.float32))
    page = Path(out_dir) / ("explorer.html" if single_file else "index.html")
    log.info("explore: wrote %s (%.1f MB of data)", page, bundle.size() / 1e6)
    return page


def _page(bundle: Bundle, style: str, scripts: str) -> str:
    title = html.escape(str(bundle.manifest.get("title", "latentatlas explorer")))
    return (
        static_text("index.html")
        .replace("{{TITLE}}", title)
        .replace("<!--STYLE-->", style)
        .replace("<!--SCRIPTS-->", scripts)
    )


def _chunk_script(name: str, literal: str) -> str:
    return f"LATENTATLAS.chunk({json_text(name)},{literal});\n"


def _manifest_script(bundle: Bundle) -> str:
    return f"LATENTATLAS.manifest({json_text(bundle.manifest)});\n"


def write_folder(bundle: Bundle, folder: Path) -> None:
    """index.html + explorer.css + js/*.js + data/*.js, every data file listed in index.html in load order."""
    (folder / "js").mkdir()
    (folder / "data").mkdir()
    (folder / "explorer.css").write_text(static_text("explorer.css"), encoding="utf-8")
    tags = ['<script src="js/data.js"></script>']
    (folder / "data" / "manifest.js").write_text(_manifest_script(bundle), encoding="utf-8")
    tags.append('<script src="data/manifest.js"></script>')
    for i, (name, literal) in enumerate(bundle.chunks.items()):
        fname = f"{i:03d}-{''.join(c if c.isalnum() else '_' for c in name)}.js"
        (folder / "data" / fname).write_text(_chunk_script(name, literal), encoding="utf-8")
        tags.append(f'<script src="data/{fname}"></script>')
    for js in JS_FILES:
        (folder / "js" / js).write_text(static_text(f"js/{js}"), encoding="utf-8")
        if js != "data.js":
            tags.append(f'<script src="js/{js}"></script>')
    style = '<link rel="stylesheet" href="explorer.css">'
    (folder / "index.html").write_text(_page(bundle, style, "\n".join(tags)), encoding="utf-8")


def single_file_html(bundle: Bundle) -> str:
    """One HTML document holding the CSS, the scripts and every data chunk inline."""
    parts = [f"<script>{static_text('js/data.js')}</script>", f"<script>{_manifest_script(bundle)}</script>"]
    parts += [f"<script>{_chunk_script(name, literal)}</script>" for name, literal in bundle.chunks.items()]
    parts += [f"<script>{static_text(f'js/{js}')}</script>" for js in JS_FILES if js != "data.js"]
    return _page(bundle, f"<style>{static_text('explorer.css')}</style>", "\n".join(parts))
