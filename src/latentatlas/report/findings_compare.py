"""Findings of comparisons: `compare` of N runs (single runs: no spread) and sweeps (mean ± std over seeds and
folds, a difference called clear when it exceeds twice the spread, `tables.clearly_different`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from latentatlas.report.findings import MAX_SENTENCES, Finding, get_number
from latentatlas.report.quantities import better, describe, display_name, format_value, registry
from latentatlas.report.tables import clearly_different

# The numbers a comparison speaks of first, when the runs have them; then other directed quantities by group.
HEADLINE = (
    "test_precision_at_1",
    "test_map_at_r",
    "test_pair_auc",
    "best_val_pair_auc",
    "best_val_precision_at_1",
    "grid_validity",
    "sample_validity",
    "val_recon_validity",
    "morph_validity",
    "latent_empty_cells",
    "best_val_loss",
)
PER_COMPARISON = 4  # ranking sentences


@dataclass(frozen=True)
class Entry:
    """One run or one sweep combination: its label and the mean (std, n) of a quantity."""

    label: str
    mean: float
    std: float | None = None
    n: int = 1


def headline_keys(available: Sequence[str], limit: int = PER_COMPARISON) -> list[str]:
    """The keys to speak of: HEADLINE order first, then quantities with a better direction by registry group."""
    first = [k for k in HEADLINE if k in available]
    groups = registry().groups
    rest = [k for k in available if k not in first and better(k) != "none" and describe(k) is not None]
    rest.sort(key=lambda k: groups.index(describe(k).group))  # stable: the files' order within a group
    return (first + [k for k in rest if describe(k).group in ("quality", "validity")])[:limit]


def _value(key: str, e: Entry) -> str:
    spread = f" ± {format_value(key, e.std)} (n = {e.n})" if e.std is not None else ""
    return format_value(key, e.mean) + spread


def ranking_sentence(key: str, entries: Sequence[Entry]) -> Finding | None:
    """E.g. "Test precision@1: B 0.760, ahead of A 0.700 by 0.060, more than twice the spread"; ties are said."""
    entries = [e for e in entries if e.mean is not None]
    direction = better(key)
    if len(entries) < 2 or direction == "none":
        return None
    ranked = sorted(entries, key=lambda e: -e.mean if direction == "higher" else e.mean)
    best, second = ranked[0], ranked[1]
    diff = abs(best.mean - second.mean)
    if format_value(key, diff) == format_value(key, 0.0):  # equal as printed, whatever the spread
        return Finding(f"{display_name(key)}: {best.label} and {second.label} tie at {_value(key, best)}.")
    text = (
        f"{display_name(key)}: {best.label} {_value(key, best)}, ahead of {second.label} "
        f"{_value(key, second)} by {format_value(key, diff)}"
    )
    clear = clearly_different(best.mean, best.std, second.mean, second.std)
    if clear is None:
        text += "; single runs, so no spread to judge the difference by."
    elif clear:
        text += ", more than twice the spread."
    else:
        spread = format_value(key, 2 * max(best.std, second.std))
        text += f", within twice the spread ({spread}): not a clear difference."
    return Finding(text)


def compare_findings(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[Finding]:
    """Findings of `compare` (run name, summary.json) pairs: for each headline number, the best run against the
    previous best (the best of the others)."""
    if len(runs) < 2:
        return []
    common = [
        k
        for k in dict.fromkeys(k for _, s in runs for k in s)
        if sum(get_number(s, k) is not None for _, s in runs) >= 2
    ]
    out = [Finding(f"{len(runs)} runs compared; the best one on each number stands against the previous best.")]
    for key in headline_keys(common):
        entries = [Entry(name, float(get_number(s, key))) for name, s in runs if get_number(s, key) is not None]
        out.append(ranking_sentence(key, entries))
    return [f for f in out if f is not None][:MAX_SENTENCES]


def sweep_entries(summary: Mapping[str, Any], key: str) -> list[Entry]:
    """The groups of `summarize_sweep(...)` as entries of `key` (std None below 2 runs)."""
    out = []
    for g in summary.get("groups", []):
        if key in g.get("mean", {}):
            out.append(Entry(g["label"], float(g["mean"][key]), g["std"].get(key), int(g["count"].get(key, g["n"]))))
    return out


def sweep_findings(summary: Mapping[str, Any]) -> list[Finding]:
    """Findings of a sweep report (`summarize_sweep(...)`): what ran, then the best combination of each headline
    number against the runner-up, marked clear when the difference exceeds twice the spread."""
    c, groups = summary.get("counts", {}), summary.get("groups", [])
    if not groups:
        return [Finding(f"No finished run yet: {c.get('pending', 0)} of {c.get('planned', 0)} runs pending.")]
    axes = ", ".join(summary.get("swept") or []) or "no swept key"
    out = [
        Finding(
            f"{c.get('done', 0)} of {c.get('planned', 0)} runs finished ({c.get('failed', 0)} failed): "
            f"{len(groups)} combinations of {axes}, mean ± std over seeds and folds."
        )
    ]
    for key in headline_keys(list(summary.get("metrics", []))):
        out.append(ranking_sentence(key, sweep_entries(summary, key)))
    return [f for f in out if f is not None][:MAX_SENTENCES]
