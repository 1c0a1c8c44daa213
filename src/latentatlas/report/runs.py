"""Run folders as data: read a run's summary and config, flatten nested numbers, aggregate repeated runs.

A run directory holds `summary.json` (required), `config.yaml` and `figures/`. The table code is generic: every
number of every summary, nested keys flattened to dotted names and lists to `key[i]`, so it serves any run kind
and, through `aggregate`, sweeps.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from latentatlas.errors import LatentAtlasError
from latentatlas.textio import read_text

__all__ = [
    "RunRecord",
    "aggregate",
    "config_differences",
    "flatten",
    "format_table",
    "in_tables",
    "load_run",
    "pick_metrics",
    "summary_table",
]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested dicts -> dotted keys, lists -> `key[i]`; leaves kept as they are (numbers, strings, bools, None)."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list | tuple):
            for i, item in enumerate(value):
                out.update(flatten({f"[{i}]": item}, name) if isinstance(item, Mapping | list | tuple) else
                           {f"{name}[{i}]": item})  # fmt: skip
        else:
            out[name] = value
    return out


@dataclass
class RunRecord:
    """One run directory as read by `load_run`."""

    name: str
    path: Path
    summary: dict[str, Any]
    config: dict[str, Any] = field(default_factory=dict)
    figures: dict[str, Path] = field(default_factory=dict)


def load_run(run_dir: str | Path) -> RunRecord:
    """Read a run directory's `summary.json`, `config.yaml` (optional) and `figures/*.png|gif`."""
    path = Path(run_dir)
    if not path.is_dir():
        raise LatentAtlasError(f"{path}: not a directory; pass run directories (runs/<time>-<name>/)")
    summary_path = path / "summary.json"
    if not summary_path.is_file():
        raise LatentAtlasError(f"{path}: no summary.json, so not a finished run directory; pass a run that completed")
    try:
        summary = json.loads(read_text(summary_path, "summary"))
    except json.JSONDecodeError as exc:
        raise LatentAtlasError(f"{summary_path}: not valid JSON ({exc.msg}); restore it or retrain the run") from None
    if not isinstance(summary, dict):
        raise LatentAtlasError(f"{summary_path}: expected a JSON object of named numbers")
    config: dict[str, Any] = {}
    if (path / "config.yaml").is_file():
        try:
            config = yaml.safe_load(read_text(path / "config.yaml", "config")) or {}
        except yaml.YAMLError:
            raise LatentAtlasError(f"{path / 'config.yaml'}: not valid YAML; fix or remove it") from None
    figs = path / "figures"
    figures = {p.name: p for p in sorted(figs.glob("*")) if p.suffix in (".png", ".gif")} if figs.is_dir() else {}
    return RunRecord(path.resolve().name, path, summary, config if isinstance(config, dict) else {}, figures)


def _unique_names(runs: Sequence[RunRecord]) -> list[str]:
    names = [r.name for r in runs]
    return [n if names.count(n) == 1 else f"{n} ({i + 1})" for i, n in enumerate(names)]


_MATRIX_CELL = re.compile(r"^factor_latent_\w+\[\d+\]\[\d+\]$")


def in_tables(key: str) -> bool:
    """Whether run tables (compare, sweep) show a flattened summary key: every number but the cells of the factor
    x latent matrices (`factor_latent_normalized_mi[0][1]`...). Their heatmap shows them, and latent dimensions
    are numbered arbitrarily in each run, so cell (i, j) of two runs does not compare."""
    return _MATRIX_CELL.match(key) is None


def summary_table(runs: Sequence[RunRecord]) -> tuple[list[str], list[list[Any]]]:
    """Every summary number of every run: headers `["quantity", run names...]`, rows `[key, v_1, ..., v_R]`.

    Keys keep the order in which they first appear; a run without a key shows None. The cells of factor x latent
    matrices are left out (`in_tables`).
    """
    flat = [{k: v for k, v in flatten(r.summary).items() if in_tables(k)} for r in runs]
    keys: dict[str, None] = {}
    for f in flat:
        keys.update({k: None for k, v in f.items() if _is_number(v) or v is None or isinstance(v, bool)})
    rows = [[k, *(f.get(k) for f in flat)] for k in keys if any(_is_number(f.get(k)) for f in flat)]
    return ["quantity", *_unique_names(runs)], rows


def config_differences(runs: Sequence[RunRecord]) -> tuple[list[str], list[list[Any]]]:
    """Config keys whose values differ between runs: headers and rows as `summary_table`."""
    flat = [flatten(r.config) for r in runs]
    keys = dict.fromkeys(k for f in flat for k in f)
    rows = [[k, *(f.get(k) for f in flat)] for k in keys if len({json.dumps(f.get(k), default=str) for f in flat}) > 1]
    return ["config key", *_unique_names(runs)], rows


def format_table(headers: Sequence[str], rows: Sequence[Sequence[Any]], digits: int = 4) -> str:
    """A plain-text table with aligned columns, for the terminal."""

    def cell(v: Any) -> str:
        if isinstance(v, float):
            return f"{v:.{digits}g}" if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6) else f"{v:.{digits}f}"
        return "-" if v is None else str(v)

    text = [[str(h) for h in headers], *([cell(v) for v in row] for row in rows)]
    widths = [max(len(r[i]) for r in text) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))) for r in text]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def aggregate(rows: Sequence[Mapping[str, Any]], group_by: Sequence[str], ddof: int = 1) -> list[dict[str, Any]]:
    """Mean and standard deviation of every numeric key per combination of the `group_by` values.

    Args:
        rows: one flat dict per run (e.g. `flatten(summary)` merged with `flatten(config)`).
        group_by: keys whose values define a group (e.g. `["model.kind", "loss.beta"]`).
        ddof: 1 = sample standard deviation (the usual "mean +- std" over repeated runs); 0 = population.

    Returns:
        One dict per group, in order of first appearance: `group` {key: value}, `n` (rows in the group), and per
        numeric key `mean`, `std` (None when fewer than ddof + 1 values) and `count` dicts.
    """
    groups: dict[tuple, list[Mapping[str, Any]]] = {}
    for row in rows:
        missing = [k for k in group_by if k not in row]
        if missing:
            raise LatentAtlasError(f"aggregate: a row has no {missing[0]!r}; group by keys every run defines")
        groups.setdefault(tuple(json.dumps(row[k], default=str) for k in group_by), []).append(row)
    out = []
    for members in groups.values():
        keys = dict.fromkeys(k for r in members for k, v in r.items() if k not in group_by and _is_number(v))
        mean, std, count = {}, {}, {}
        for key in keys:
            values = [float(r[key]) for r in members if _is_number(r.get(key))]
            m = math.fsum(values) / len(values)
            mean[key], count[key] = m, len(values)
            var = math.fsum((v - m) ** 2 for v in values) / (len(values) - ddof) if len(values) > ddof else None
            std[key] = None if var is None else math.sqrt(var)
        out.append({"group": {k: members[0][k] for k in group_by}, "n": len(members), "mean": mean, "std": std,
                    "count": count})  # fmt: skip
    return out


def pick_metrics(available: list[str], wanted: list[str] | None) -> list[str]:
    """`wanted` in its order (all of `available` when None); an unknown name is a one-line error."""
    if not wanted:
        return list(available)
    unknown = [m for m in wanted if m not in available]
    if unknown:
        close = difflib.get_close_matches(unknown[0], available, n=1)
        hint = f"did you mean {close[0]}? " if close else ""
        raise LatentAtlasError(
            f"--metrics: {', '.join(unknown)} not in these summaries; {hint}choose from {', '.join(available)}"
        )
    return list(dict.fromkeys(wanted))
