"""Tables of quantities in words: every row named from the registry (meaning on hover, which way is better),
values formatted alike, config keys in code type, comparisons marked where they exceed twice the spread, and a
glossary of what the page showed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from latentatlas.report import html
from latentatlas.report.quantities import (
    DASH,
    better,
    describe,
    display_name,
    format_value,
    group_keys,
    is_config_key,
)

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


@dataclass(frozen=True)
class Cell:
    """A table value with what a comparison adds: the spread (std) over `n` runs and whether it is marked."""

    value: Any
    spread: float | None = None
    n: int | None = None
    clear: bool = False


def clearly_different(mean_a: float, std_a: float | None, mean_b: float, std_b: float | None) -> bool | None:
    """Whether two means differ by more than twice the spread, the larger of the two standard deviations;
    None when a spread is unknown (single runs), so no claim is made."""
    if std_a is None or std_b is None or any(not math.isfinite(v) for v in (mean_a, mean_b, std_a, std_b)):
        return None
    return abs(mean_a - mean_b) > 2.0 * max(std_a, std_b)


def name_cell(key: str) -> str:
    """The first cell of a row: a config key in code type, a quantity by its name with its meaning on hover and
    an arrow for the better direction."""
    head = f"<th scope='row' class='quantity' data-key='{html.escape(key)}'"
    if is_config_key(key):
        return f"{head}>{html.code(key)}</th>"
    q = describe(key)
    if q is None:
        return f"{head}>{html.escape(display_name(key))}</th>"
    arrow = ""
    if q.better in ARROWS:
        symbol, words = ARROWS[q.better]
        arrow = f" <span class='better' title='{words}'>{symbol}</span>"
    title = q.meaning + (f" Source: {q.source}." if q.source else "")
    return f"{head} title='{html.escape(title)}'>{html.escape(q.heading)}{arrow}</th>"


def value_cell(key: str, value: Any, spread: float | None = None, n: int | None = None, clear: bool = False) -> str:
    """A value cell: "0.754", "0.754 ± 0.012 (n = 3)" with a spread, bold with a star when `clear`."""
    text = format_value(key, value)
    if spread is not None and text != DASH:
        text += f" ± {format_value(key, spread)}" + (f" (n = {n})" if n is not None else "")
    cls = " class='clear'" if clear else ""
    return f"<td{cls} style='white-space:nowrap'>{html.escape(text)}</td>"


def _cells(key: str, values: Sequence[Any]) -> str:
    return "".join(
        value_cell(key, v.value, v.spread, v.n, v.clear) if isinstance(v, Cell) else value_cell(key, v) for v in values
    )


def quantity_table(
    rows: Mapping[str, Sequence[Any]],
    headers: Sequence[str],
    grouped: bool = False,
    head_rows: Mapping[str, Sequence[Any]] | None = None,
) -> str:
    """One row per key (`rows`: key -> a value or a `Cell` per column); `headers` name the value columns.

    With `grouped`, rows are put in the registry's groups (quality, validity, geometry, latent statistics, losses,
    time, setup, config) under a full-width group row. `head_rows` (e.g. the swept config keys of a sweep, whose
    values name the columns) go into the table head, under `headers`.
    """
    head = "<tr><th></th>" + "".join(f"<th>{html.escape(h)}</th>" for h in headers) + "</tr>"
    head += "".join("<tr>" + name_cell(k) + _cells(k, v) + "</tr>" for k, v in (head_rows or {}).items())
    sections = group_keys(list(rows)) if grouped else [("", list(rows))]
    body = []
    for group, keys in sections:
        if group:
            body.append(f"<tr class='group'><th colspan='{len(headers) + 1}'>{GROUP_TITLES[group]}</th></tr>")
        body += ["<tr>" + name_cell(k) + _cells(k, rows[k]) + "</tr>" for k in keys]
    table = f"<table class='quantities'><thead>{head}</thead><tbody>{''.join(body)}</tbody></table>"
    return f"<div class='wide'>{table}</div>" if len(headers) > 4 else table


def _finite(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def mark_leaders(rows: Mapping[str, Sequence[Cell]]) -> dict[str, list[Cell]]:
    """The same rows with the best cell of each directed quantity marked `clear` when it leads the runner-up by
    more than twice the spread (`clearly_different`); cells without a spread are never marked."""
    out = {}
    for key, cells in rows.items():
        cells = list(cells)
        numbers = [i for i, c in enumerate(cells) if _finite(c.value)]
        direction = better(key)
        if direction != "none" and len(numbers) >= 2:
            sign = -1.0 if direction == "higher" else 1.0
            first, second = sorted(numbers, key=lambda i: sign * float(cells[i].value))[:2]
            a, b = cells[first], cells[second]
            if clearly_different(float(a.value), a.spread, float(b.value), b.spread):
                cells[first] = replace(a, clear=True)
        out[key] = cells
    return out


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
