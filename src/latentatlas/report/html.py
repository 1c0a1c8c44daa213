"""Self-contained HTML pages: images are embedded as data URIs so a report opens offline and makes no request."""

from __future__ import annotations

import base64
import html
from collections.abc import Sequence
from pathlib import Path

_MIME = {".png": "image/png", ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;
color:#222;line-height:1.45}
h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse;margin:.6em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}
th{background:#f3f3f3}td:first-child,th:first-child{text-align:left}
figure{display:inline-block;margin:.5em;vertical-align:top;max-width:100%}
figure img{max-width:100%;border:1px solid #eee}figcaption{font-size:.9em;color:#555;max-width:520px}
.note{color:#555;font-size:.92em}code{background:#f5f5f5;padding:0 .2em}
"""


def escape(text: object) -> str:
    return html.escape(str(text))


def data_uri(path: str | Path) -> str:
    """Return the file as a `data:` URI (PNG, GIF, JPEG or SVG)."""
    path = Path(path)
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


def figure(path: str | Path, caption: str = "", width: int | None = None) -> str:
    """An embedded image with a caption; `alt` names the file so a missing figure is easy to find."""
    style = f' style="width:{width}px"' if width else ""
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure><img src="{data_uri(path)}" alt="{escape(Path(path).name)}"{style}>{cap}</figure>'


def fmt(value: object, digits: int = 4) -> str:
    if isinstance(value, bool) or value is None:
        return escape(value)
    if isinstance(value, float):
        return f"{value:.{digits}g}" if abs(value) < 1e-3 and value != 0 else f"{value:.{digits}f}"
    return escape(value)


def table(rows: Sequence[Sequence[object]], headers: Sequence[str], digits: int = 4) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v, digits)}</td>" for v in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def page(title: str, body: str) -> str:
    """A complete HTML document with the house style and no external resource."""
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{escape(title)}</title><style>{STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def write_page(path: str | Path, title: str, body: str) -> Path:
    """Write the page atomically (temporary file, then rename)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(page(title, body), encoding="utf-8")
    tmp.replace(path)
    return path
