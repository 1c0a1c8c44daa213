"""Tables of quantities in words: every row named from the registry (meaning on hover, which way is better),
values formatted alike, config keys in code type, comparisons marked where they exceed twice the spread, and a
glossary of what the page showed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

from latentatlas.report import html
from latentatlas.report.quantities import DASH, describe, display_name, format_value, group_keys, is_config_key

ARROWS = {"higher": ("↑", "higher is better"), "lower": ("↓", "lower is better")}
GROUP_TITLES = {
    "quality": "Quality",
    "validity": "Validity of decoded figures",
    "geometry": "Geometry",
    "latent statistics": "Latent statistics",
    "losses": "Losses",
    "time": "Time",
    "setup": "Setup",
    "config": "Config",
    "other": "Other numbers",
}


def clearly_different(mean_a: float, std_a: float | None, mean_b: float, std_b: float | None) -> bool | None:
    """Whether two means differ by more than twice the spread, the larger of the two standard deviations;
    None when a spread is unknown (single runs), so no claim is made."""
    if std_a is None or std_b is None or any(not math.isfinite(v) for v in (mean_a, mean_b, std_a, std_b)):
        return None
    return abs(mean_a - mean_b) > 2.0 * max(std_a, std_b)


def name_cell(key: str) -> str:
    """The first cell of a row: a config key in code type, a quantity by its name with its meaning on hover and
    an arrow for the better direction."""
    if is_config_key(key):
        return f"<th scope='row' class='quantity'>{html.code(key)}</th>"
    q = describe(key)
    if q is None:
        return f"<th scope='row' class='quantity'>{html.escape(display_name(key))}</th>"
    arrow = ""
    if q.better in ARROWS:
        symbol, words = ARROWS[q.better]
        arrow = f" <span class='better' title='{words}'>{symbol}</span>"
    title = q.meaning + (f" Source: {q.source}." if q.source else "")
    return f"<th scope='row' class='quantity' title='{html.escape(title)}'>{html.escape(q.heading)}{arrow}</th>"


def value_cell(key: str, value: Any, spread: float | None = None, n: int | None = None, clear: bool = False) -> str:
    """A value cell: "0.754", "0.754 ± 0.012 (n = 3)" with a spread, bold with a star when `clear`."""
    text = format_value(key, value)
    if spread is not None and text != DASH:
        text += f" ± {format_value(key, spread)}" + (f" (n = {n})" if n is not None else "")
    cls = " class='clear'" if clear else ""
    return f"<td{cls} style='white-space:nowrap'>{html.escape(text)}</td>"


def quantity_table(rows: Mapping[str, Sequence[Any]], headers: Sequence[str], grouped: bool = False) -> str:
    """One row per key (`rows`: key -> a value per column); `headers` name the value columns.

    With `grouped`, rows are put in the registry's groups (quality, validity, geometry, latent statistics, losses,
    time, setup, config) under a full-width group row.
    """
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
    sections = group_keys(list(rows)) if grouped else [("", list(rows))]
    body = []
    for group, keys in sections:
        if group:
            body.append(f"<tr class='group'><th colspan='{len(headers) + 1}'>{GROUP_TITLES[group]}</th></tr>")
        body += ["<tr>" + name_cell(k) + "".join(value_cell(k, v) for v in rows[k]) + "</tr>" for k in keys]
    return f"<table><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"


def glossary(keys: Sequence[str]) -> str:
    """A definition list of the quantities shown on a page: name (unit), meaning, better direction, source.
    Keys of one family (variance of z1, z2...) share one entry; config keys and unknown keys are left out."""
    entries: dict[str, list[Any]] = {}
    for key in keys:
        q = describe(key)
        if q is not None and not is_config_key(key):
            entries.setdefault(q.meaning, [q, []])[1].append(q.heading)
    items = []
    for meaning, (q, names) in entries.items():
        extra = [ARROWS[q.better][1].capitalize() + "."] if q.better in ARROWS else []
        extra += [f"Source: {q.source}."] if q.source else []
        dt = ", ".join(dict.fromkeys(names))
        items.append(f"<dt>{html.escape(dt)}</dt><dd>{html.escape(' '.join([meaning, *extra]))}</dd>")
    return f"<dl class='glossary'>{''.join(items)}</dl>" if items else ""
