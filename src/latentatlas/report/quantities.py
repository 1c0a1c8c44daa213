"""One registry of every number latentatlas writes: its name in words, meaning, unit, better direction and source.

The registry is the package data file `quantities.yaml`. Files keep their keys (`test_precision_at_1`,
`latent_variance[0]`, `retrieval.recall_at_5`); reports look them up here to show "Test precision@1" with its
meaning on hover, and format values the same way everywhere ("–" where a model has no such quantity). Families of
keys are patterns (`recall_at_<k>`, `kl_per_dim[<i>]`) or a prefix before a registered key (`test_`, `val_`,
`train_`, `best_`); analysis.json's nested keys (`spread.koleo`) resolve through their section. Config keys
(`loss.koleo.weight`, sweep axes such as `seed`) are not quantities: `is_config_key` tells them apart.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from latentatlas.config import Config

DASH = "–"  # shown where a run has no such quantity (an AE's KL) or the value is missing
BETTER = ("higher", "lower", "none")
KINDS = ("number", "fraction", "count", "seconds", "nats", "text", "flag")
_SECTIONS = {f.name for f in dataclasses.fields(Config) if dataclasses.is_dataclass(getattr(Config(), f.name))}
CONFIG_SECTIONS = frozenset(_SECTIONS)  # `loss.koleo.weight`; a bare `loss` is the quantity
CONFIG_SCALARS = frozenset(f.name for f in dataclasses.fields(Config) if f.name not in _SECTIONS) | {"fold"}
_PLACEHOLDER = re.compile(r"<(\w+)>")
_TEMPLATE = re.compile(r"\{(\w+)(\+1)?\}")


class UnknownQuantity(KeyError):
    """A key that the registry does not describe (a bug: register it in report/quantities.yaml)."""


@dataclass(frozen=True)
class Quantity:
    """What one key of summary.json, metrics.jsonl or analysis.json holds.

    Attributes:
        key: the key as written in the file. name: as written mid-sentence ("test precision@1").
        meaning: one line. better: "higher", "lower" or "none". unit: "" when unitless.
        source: the paper or definition followed. group: one of the registry's groups. kind: how to print values.
    """

    key: str
    name: str
    meaning: str
    better: str
    unit: str = ""
    source: str = ""
    group: str = "setup"
    kind: str = "number"

    @property
    def title(self) -> str:
        """The name as a table row or heading starts it: first letter upper-cased unless the word has capitals."""
        first = self.name.split(" ", 1)[0]
        return self.name[0].upper() + self.name[1:] if first == first.lower() else self.name

    @property
    def heading(self) -> str:
        """The title with its unit, e.g. "Total KL (nats)"; seconds carry their unit in the value."""
        return f"{self.title} ({self.unit})" if self.unit and self.kind != "seconds" else self.title


def _fill(template: str, groups: dict[str, str]) -> str:
    """Replace `{i}` by a matched index and `{i+1}` by that index counted from 1."""
    return _TEMPLATE.sub(lambda m: str(int(groups[m[1]]) + 1) if m[2] else groups[m[1]], template)


class Registry:
    """The parsed registry file; `describe` resolves exact keys, aliases, patterns, prefixes and sections."""

    def __init__(self, data: dict[str, Any]):
        self.groups: list[str] = list(data["groups"])
        self.sections: list[str] = list(data.get("sections", []))
        self.prefixes: dict[str, dict[str, str]] = dict(data.get("prefixes", {}))
        self.exact: dict[str, dict[str, Any]] = {}
        self.patterns: list[tuple[re.Pattern, dict[str, Any]]] = []
        for key, entry in data["quantities"].items():
            self._check(key, entry)
            for name in [key, *entry.get("aliases", [])]:
                if _PLACEHOLDER.search(name):
                    regex = _PLACEHOLDER.sub(r"(?P<\1>\\d+)", re.escape(name))
                    self.patterns.append((re.compile(regex), entry))
                else:
                    self.exact[name] = entry

    def _check(self, key: str, entry: dict[str, Any]) -> None:
        if not entry.get("name") or not entry.get("meaning"):
            raise ValueError(f"quantities.yaml: {key} needs a name and a meaning")
        if entry.get("better") not in BETTER:
            raise ValueError(f"quantities.yaml: {key}.better is {entry.get('better')!r}; use one of {BETTER}")
        if entry.get("group") not in self.groups:
            raise ValueError(f"quantities.yaml: {key}.group is {entry.get('group')!r}; use one of {self.groups}")
        if entry.get("kind", "number") not in KINDS:
            raise ValueError(f"quantities.yaml: {key}.kind is {entry.get('kind')!r}; use one of {KINDS}")

    @staticmethod
    def _make(key: str, entry: dict[str, Any], groups: dict[str, str] | None = None) -> Quantity:
        g = groups or {}
        fields = {f: _fill(str(entry[f]), g) for f in ("name", "meaning") if f in entry}
        rest = {f: str(entry[f]) for f in ("unit", "source", "group", "kind") if f in entry}
        return Quantity(key=key, better=entry["better"], **fields, **rest)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one registry per process, its keys are few
    def describe(self, key: str) -> Quantity | None:
        """The quantity behind `key`, or None when the registry does not describe it."""
        if key in self.exact:
            return self._make(key, self.exact[key])
        for regex, entry in self.patterns:
            match = regex.fullmatch(key)
            if match:
                return self._make(key, entry, match.groupdict())
        for prefix, template in sorted(self.prefixes.items(), key=lambda p: -len(p[0])):
            inner = self.describe(key[len(prefix) :]) if key.startswith(prefix) else None
            if inner is not None:
                name = template["name"].replace("{name}", inner.name)
                meaning = template["meaning"].replace("{name}", inner.name).replace("{meaning}", inner.meaning)
                return dataclasses.replace(inner, key=key, name=name, meaning=meaning)
        section, _, leaf = key.partition(".")
        if section in self.sections and leaf:
            inner = self.describe(leaf)
            return None if inner is None else dataclasses.replace(inner, key=key)
        return None


@functools.cache
def registry() -> Registry:
    """The registry of the package data file `latentatlas/report/quantities.yaml` (read once)."""
    text = resources.files("latentatlas.report").joinpath("quantities.yaml").read_text(encoding="utf-8")
    return Registry(yaml.safe_load(text))


def describe(key: str) -> Quantity | None:
    """The quantity behind a key of summary.json, metrics.jsonl or analysis.json; None when it is unknown."""
    return registry().describe(key)


def require(key: str) -> Quantity:
    """`describe(key)`, raising `UnknownQuantity` for a key the registry does not describe."""
    q = describe(key)
    if q is None:
        raise UnknownQuantity(f"{key!r} is not in latentatlas/report/quantities.yaml; register it there")
    return q


def is_config_key(key: str) -> bool:
    """Whether `key` names a config value (`loss.koleo.weight`, `model.widths[0]`, the sweep axes `seed`, `fold`)."""
    match = re.match(r"(\w+)([.\[]?)", key)
    root, sep = match.groups() if match else ("", "")
    return (root in CONFIG_SECTIONS and sep == ".") or (root in CONFIG_SCALARS and sep != ".")


def display_name(key: str) -> str:
    """What a table or heading shows for `key`: the quantity's title; a config key as it is (shown as code);
    an unknown key in plain words (never raw snake_case)."""
    q = describe(key)
    if q is not None:
        return q.title
    if is_config_key(key):
        return key
    words = key.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def better(key: str) -> str:
    """The better direction of `key`: "higher", "lower" or "none" (also for unknown and config keys)."""
    q = describe(key)
    return q.better if q is not None else "none"


def format_seconds(seconds: float) -> str:
    """12.3 s, 2 min 36 s, 1 h 05 min."""
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(round(seconds % 60)):02d} s"
    return f"{int(seconds // 3600)} h {int(round(seconds % 3600 / 60)):02d} min"


def format_number(value: float) -> str:
    """Four significant digits, trailing zeros kept (a column reads alike); thousands separated; scientific below
    0.001 and from 100,000."""
    a = abs(value)
    if value == 0:
        return "0"
    if a < 1e-3 or a >= 1e5:
        return f"{value:.3g}"
    return f"{value:,.1f}" if a >= 1000 else f"{value:#.4g}"


def is_missing(value: Any) -> bool:
    """None, NaN or infinite: shown as a dash."""
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def format_value(key: str, value: Any) -> str:
    """`value` of quantity `key` as a table shows it: "–" for None or NaN, yes/no for flags, 0.754 for fractions,
    12.3 s for seconds, 1,000 for counts, lists item by item."""
    if isinstance(value, list | tuple):
        return ", ".join(format_value(key, v) for v in value) if value else DASH
    if is_missing(value):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if not isinstance(value, int | float) or is_config_key(key):
        return f"{value:g}" if isinstance(value, float) else str(value)  # a config value as it is written
    q = describe(key)
    kind = q.kind if q is not None else "number"
    if kind == "seconds":
        return format_seconds(float(value))
    if kind == "fraction":
        return f"{value:.3f}"
    if kind == "count" and float(value).is_integer():
        return f"{int(value):,}"
    return format_number(float(value))


def group_keys(keys: list[str]) -> list[tuple[str, list[str]]]:
    """Keys grouped in the registry's order (quality, validity, geometry, latent statistics, losses, time, setup),
    each group in the keys' own order; config keys and unknown keys last, as "config" and "other"."""
    order = [*registry().groups, "config", "other"]
    out: dict[str, list[str]] = {g: [] for g in order}
    for key in keys:
        q = describe(key)
        out[q.group if q is not None else "config" if is_config_key(key) else "other"].append(key)
    return [(g, members) for g, members in out.items() if members]
