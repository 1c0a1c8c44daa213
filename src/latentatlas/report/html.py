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
th[title],td[title]{cursor:help}th.quantity{font-weight:normal;background:none}.better{color:#888;font-size:.85em}
td.clear{font-weight:bold}td.clear::after{content:" *"}tr.group th{text-align:left;background:#e8eef6}
.findings{background:#f6f8fa;border-left:4px solid #4a7ab5;padding:.6em 1em;margin:1em 0}
.findings p{margin:.2em 0}.wide{overflow-x:auto}td.diag{font-weight:bold}pre{white-space:pre-wrap}
dl.glossary dt{font-weight:bold;margin-top:.4em}dl.glossary dd{margin:0 0 0 1.5em;color:#444}
.gallery{display:flex;flex-direction:column;gap:.35em;margin:.6em 0}
.gallery .row{display:flex;align-items:flex-start;gap:.3em;flex-wrap:wrap}
.thumb{display:inline-flex;flex-direction:column;align-items:center;font-size:.75em;width:76px;margin:0}
.thumb img{width:64px;height:64px;image-rendering:pixelated;border:3px solid #ccc}
.thumb.query img{border-color:#333}.thumb.right img{border-color:#2e9d48}.thumb.wrong img{border-color:#d2352b}
.thumb figcaption{font-size:1em;color:#333;text-align:center;overflow-wrap:anywhere}
.gallery .arrow{align-self:center;color:#888;padding:0 .3em}
details{margin:.6em 0}details>summary{cursor:pointer;font-weight:bold}
@page{size:A4;margin:14mm 12mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:10pt;color:#000}
h1{font-size:16pt}h2{font-size:12.5pt;break-after:avoid;page-break-after:avoid}
h3{break-after:avoid}
figure,table,.gallery .row,.findings,dl.glossary dt{break-inside:avoid;page-break-inside:avoid}
figure img{max-height:230mm}table{font-size:8.5pt}.wide{overflow:visible}
a{color:#000;text-decoration:underline}a[href^="http"]::after{content:" (" attr(href) ")";font-size:.85em}
details::details-content{content-visibility:visible;display:block}details>summary{list-style:none}
.findings{background:none;border-left:2pt solid #000}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}
}
"""


def escape(text: object) -> str:
    return html.escape(str(text))


def bytes_uri(data: bytes, mime: str = "image/png") -> str:
    """Bytes (e.g. a PNG made in memory) as a `data:` URI."""
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def data_uri(path: str | Path) -> str:
    """Return the file as a `data:` URI (PNG, GIF, JPEG or SVG)."""
    path = Path(path)
    return bytes_uri(path.read_bytes(), _MIME.get(path.suffix.lower(), "application/octet-stream"))


def code(text: object) -> str:
    """Inline code: config keys (`loss.koleo.weight`), file names."""
    return f"<code>{escape(text)}</code>"


def link(href: str, text: str) -> str:
    return f'<a href="{escape(href)}">{escape(text)}</a>'


def details(summary: str, body: str, open_: bool = False) -> str:
    """A collapsible section (`body` is HTML); the print CSS prints it open (`::details-content`, Chromium 131+)."""
    return f"<details{' open' if open_ else ''}><summary>{escape(summary)}</summary>{body}</details>"


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


def table(rows: Sequence[Sequence[object]], headers: Sequence[str], digits: int = 4, cls: str = "") -> str:
    """A plain table of values (`cls`: its CSS class); tables of quantities are `tables.quantity_table`."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{fmt(v, digits)}</td>" for v in row) + "</tr>" for row in rows)
    attr = f" class='{escape(cls)}'" if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


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
