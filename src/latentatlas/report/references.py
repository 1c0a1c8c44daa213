"""The seeds' published numbers (package data file `references.yaml`), to stand beside a run's own.

A reference names the quantities of ours it compares with (`keys`), the data it was measured on (`dataset`: a run
must have exactly those class names) and the config it was measured with (`when`: KoLeo 0.1 numbers stand beside
KoLeo-0.1 runs only). "Previous best" references come from the runs being compared, not from this file.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from latentatlas.config import Config


@dataclass(frozen=True)
class Reference:
    """One published number: `value` (with `std` over `n` runs when the seed gives one) and where it comes from."""

    keys: tuple[str, ...]
    value: float
    seed: str
    setting: str
    source: str
    caveat: str = ""
    dataset: str | None = None
    when: Mapping[str, Any] = field(default_factory=dict)
    std: float | None = None
    n: int | None = None

    def value_text(self) -> str:
        """The value as published, e.g. "0.9538" or "0.9271 ± 0.004 (n = 5)"."""
        return f"{self.value:g}" if self.std is None else f"{self.value:g} ± {self.std:g} (n = {self.n})"

    def describe(self) -> str:
        """For a sentence: "seed 000 published 0.9538 (VGG11 ..., 15 epochs; its validation ... training)"."""
        caveat = f"; {self.caveat}" if self.caveat else ""
        return f"seed {self.seed} published {self.value_text()} ({self.setting}{caveat})"


@functools.cache
def load_references() -> tuple[list[Reference], dict[str, list[str]]]:
    """All references of the package data file, and its datasets (name -> class names)."""
    text = resources.files("latentatlas.report").joinpath("references.yaml").read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    refs = []
    for entry in data["references"]:
        entry = dict(entry)
        entry["keys"] = tuple(entry.get("keys", ()))
        entry["when"] = dict(entry.get("when") or {})
        refs.append(Reference(**entry))
    return refs, {k: list(v) for k, v in data.get("datasets", {}).items()}


def _flat(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if isinstance(value, Mapping):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def references_for(
    key: str, config: Mapping[str, Any] | None = None, class_names: Sequence[str] | None = None
) -> list[Reference]:
    """The references that stand beside quantity `key` of a run, the most specific first.

    Args:
        key: a summary key such as `test_margin` or `best_val_pair_auc`.
        config: the run's resolved config (config.yaml as a nested dict); None = the defaults of `Config`.
        class_names: the run's class names; a reference measured on a dataset needs the same names (any order).
    """
    refs, datasets = load_references()
    flat = _flat(Config().to_dict()) | _flat(config or {})
    names = sorted(str(c).lower() for c in class_names) if class_names is not None else None
    fits = []
    for ref in refs:
        if key not in ref.keys:
            continue
        if ref.dataset is not None and names != sorted(datasets.get(ref.dataset, [])):
            continue
        if all(k in flat and _same(flat[k], v) for k, v in ref.when.items()):
            fits.append(ref)
    return sorted(fits, key=lambda r: -len(r.when))  # stable: file order among equally specific ones
