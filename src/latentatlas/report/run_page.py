"""The parts every run page shares (a metric run, a shapes run): the numbers the loop adds to summary.json, the
curves that matter, the headline and other tables, and the details section.

A task writes its page before the loop writes summary.json, so `training_numbers` recomputes the loop's own
entries (epochs trained, best value of the selecting metric, training time) from metrics.jsonl rows, exactly as
`train.loop` records them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from latentatlas.report import html
from latentatlas.report.curves import chosen_epoch, plot_epoch_times, plot_losses, plot_selection
from latentatlas.report.page import Page, config_yaml, is_number, split_headline
from latentatlas.report.quantities import describe, display_name, is_missing
from latentatlas.report.references import Reference
from latentatlas.report.tables import Cell

Rows = Sequence[Mapping[str, Any]]
RUN = "this run"


def training_numbers(rows: Rows, best_metric: str, best_mode: str) -> dict[str, Any]:
    """`epochs_trained`, `best_<metric>` and `train_time_s` as the loop writes them into summary.json."""
    best = chosen_epoch(rows, best_metric, best_mode)
    return {
        "epochs_trained": len(rows),
        f"best_{best_metric}": None if best is None else best[1],
        "train_time_s": rows[-1]["elapsed_s"] if rows else 0.0,
    }


def table_keys(numbers: Mapping[str, Any], skip: Sequence[str] = ("run",)) -> list[str]:
    """Keys of `numbers` a table shows: numbers, flags, text and missing values (lists become `key[i]` rows)."""
    keys = []
    for key, value in numbers.items():
        if key in skip:
            continue
        if isinstance(value, list | tuple):
            keys += [f"{key}[{i}]" for i, v in enumerate(value) if is_number(v) or is_missing(v)]
        elif is_number(value) or is_missing(value) or isinstance(value, bool | str):
            keys.append(key)
    return keys


def _value(numbers: Mapping[str, Any], key: str) -> Any:
    if key in numbers:
        return numbers[key]
    name, _, index = key.rpartition("[")
    return numbers[name][int(index[:-1])]


def number_tables(
    page: Page, numbers: Mapping[str, Any], references: Mapping[str, Reference] | None = None
) -> tuple[str, str]:
    """(the headline table: quality and validity, the table of the other numbers), one column per source: this
    run, and the seed's published value where a reference fits (`references`: key -> reference)."""
    refs = dict(references or {})
    headers = [RUN, "published (seed)"] if refs else [RUN]

    def rows(keys: list[str]) -> dict[str, list[Any]]:
        out = {}
        for k in keys:
            ref = refs.get(k)
            extra = [Cell(ref.value, ref.std, ref.n) if ref else None] if refs else []
            out[k] = [_value(numbers, k), *extra]
        return out

    head, rest = split_headline(table_keys(numbers))
    rest = [k for k in rest if k not in time_keys(numbers)]  # time goes into the details
    return page.table(rows(head), headers), page.table(rows(rest), headers)


def time_keys(numbers: Mapping[str, Any]) -> list[str]:
    return [k for k in table_keys(numbers) if (q := describe(k)) is not None and q.group == "time"]


def reference_note(references: Mapping[str, Reference]) -> str:
    """Where the published values come from: one line per setting and source, with the caveats of its numbers."""
    lines: dict[tuple[str, str], list[str]] = {}
    for r in references.values():
        caveats = lines.setdefault((r.setting, r.source), [])
        if r.caveat and r.caveat not in caveats:
            caveats.append(r.caveat)
    items = "".join(
        f"<li>{html.escape(f'{setting}. Source: {source}.' + ''.join(f' {c[:1].upper()}{c[1:]}.' for c in cav))}</li>"
        for (setting, source), cav in lines.items()
    )
    return f"<p class='note'>Published values:</p><ul class='note'>{items}</ul>" if items else ""


def curves(rows: Rows, best_metric: str, best_mode: str, fig_dir: Path) -> tuple[str, str]:
    """(the curves section's figures, the time-per-epoch figure for the details); empty strings when nothing can
    be drawn."""
    fig_dir.mkdir(parents=True, exist_ok=True)
    name = display_name(best_metric)
    sel = plot_selection(rows, best_metric, best_mode, fig_dir / "selection.png")
    losses = plot_losses(rows, fig_dir / "losses.png")
    times = plot_epoch_times(rows, fig_dir / "epoch_times.png")
    parts = []
    if sel.path is not None:
        direction = "highest" if best_mode == "max" else "lowest"
        parts.append(html.figure(sel.path, f"{name} per epoch selects the checkpoint: the run keeps the starred "
                                           f"epoch {sel.marked[0]}, the first with the {direction} value, and every "
                                           "number after training comes from it."))  # fmt: skip
    if losses.path is not None:
        terms = " Right: the loss terms that differ from their total." if len(losses.series) > 2 else ""
        parts.append(html.figure(losses.path, f"Training (solid) and validation (dashed) loss per epoch.{terms}"))
    times_html = html.figure(times.path, "Seconds per epoch, training and validation.") if times.path else ""
    return "".join(parts), times_html


def details(page: Page, numbers: Mapping[str, Any], times: str, config: Mapping[str, Any], files: str) -> str:
    """The details section: time per epoch and its numbers, the resolved config, the files behind the page."""
    table = page.table({k: [_value(numbers, k)] for k in time_keys(numbers)}, [RUN], grouped=False)
    body = [
        "<h3>Time</h3>",
        table,
        times,
        "<h3>Config</h3>",
        "<p class='note'>The resolved config (config.yaml), from which the run can be repeated.</p>",
        config_yaml(config),
        "<h3>Files</h3>",
        f"<p class='note'>{files}</p>",
    ]
    return html.details("Details: time per epoch, config, files", "".join(body))
