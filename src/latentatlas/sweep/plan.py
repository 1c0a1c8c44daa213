"""The plan of a sweep: a grid of config values x seeds x folds, each run's resolved and validated config.

Seeds: an int `n` means the config's own seed plus 0..n-1; a list is used as given. Folds: `k` adds
`data.images.folds=k data.images.fold=i` for i in 0..k-1. Seeds and folds vary slowest, so an interrupted sweep
has already tried every grid combination once (see `latentatlas.sweep` and docs/sweeps.md).
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path
from typing import Any, overload

from latentatlas.config import Config, config_from_dict, load_config, parse_override
from latentatlas.errors import ConfigError, LatentAtlasError
from latentatlas.sweep.record import FORMAT, SWEEP_FILE, read_sweep_record

__all__ = ["SweepPlan", "SweepRun", "load_sweep_plan", "plain", "plan_sweep"]
_RESERVED = {  # keys the sweep sets itself -> the option that sets them
    "seed": "--seeds",
    "data.images.folds": "--folds",
    "data.images.fold": "--folds",
}


@dataclass
class SweepRun:
    """One run of a sweep: `name` (its folder under `runs/`), the overrides that make it, its resolved config."""

    name: str
    overrides: list[str]
    config: Config
    params: dict[str, Any]  # swept key -> value (grid keys, then `seed`, then `fold` when folds are used)


@dataclass
class SweepPlan(Sequence[SweepRun]):
    """The runs of a sweep (a sequence of `SweepRun`) and what made them, as recorded in sweep.json."""

    config_path: str
    base_config: Config  # the config file plus the fixed overrides
    grid: dict[str, list[Any]]
    seeds: list[int]
    folds: int | None
    overrides: list[str]
    runs: list[SweepRun] = field(default_factory=list)

    @overload
    def __getitem__(self, i: int) -> SweepRun: ...
    @overload
    def __getitem__(self, i: slice) -> list[SweepRun]: ...
    def __getitem__(self, i):
        return self.runs[i]

    def __len__(self) -> int:
        return len(self.runs)

    def __iter__(self) -> Iterator[SweepRun]:
        return iter(self.runs)

    def identity(self) -> dict[str, Any]:
        """What a sweep directory is bound to: base config, grid (values in any order) and folds; seeds may grow."""
        grid = {k: sorted(json.dumps(v) for v in values) for k, values in self.grid.items()}
        return {"base_config": plain(self.base_config.to_dict()), "grid": grid, "folds": self.folds}

    def record(self) -> dict[str, Any]:
        """The plan as plain JSON data (sweep.json without the run statuses)."""
        return {
            "format": FORMAT,
            "config_path": self.config_path,
            "base_config": self.base_config.to_dict(),
            "grid": self.grid,
            "seeds": self.seeds,
            "folds": self.folds,
            "overrides": self.overrides,
            "swept": list(self.grid),
        }


def plain(data: Any) -> Any:
    return json.loads(json.dumps(data, default=str))


def _label(value: Any) -> str:
    """A short, filesystem-safe text for a value: `0.001`, `true`, `cosine`, `[4, 8]` -> `4-8`."""
    if isinstance(value, (list, tuple)):
        return "-".join(_label(v) for v in value) or "empty"
    if not isinstance(value, str):
        return json.dumps(value)  # numbers, true/false and null are already safe (keep the sign of -1)
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", value).strip("-") or "x"


def _run_name(params: Mapping[str, Any], overrides: Sequence[str]) -> str:
    name = ",".join(f"{k}={_label(v)}" for k, v in params.items())
    if len(name) > 180:  # keep folder names well under the 255-byte limit of common file systems
        name = name[:160].rstrip(",=") + "-" + hashlib.sha1("\n".join(overrides).encode()).hexdigest()[:10]
    return name


def _override(key: str, value: Any) -> str:
    return f"{key}={json.dumps(value)}"  # JSON is YAML flow syntax, so parse_override reads the exact value back


def _seed_list(seeds: int | Sequence[int], base_seed: int) -> list[int]:
    if isinstance(seeds, bool) or not isinstance(seeds, (int, list, tuple)):
        raise ConfigError(f"seeds: {seeds!r}; give a count such as 3 or a list of seeds such as [0, 1, 2]")
    if isinstance(seeds, int):
        if seeds < 1:
            raise ConfigError(f"seeds: {seeds} runs per combination; use 1 or more")
        return [base_seed + i for i in range(seeds)]
    out = list(seeds)
    if not out or any(isinstance(s, bool) or not isinstance(s, int) for s in out) or len(set(out)) != len(out):
        raise ConfigError(f"seeds: {out!r}; give distinct integers such as [0, 1, 2]")
    return out


def _check_grid(grid: Mapping[str, Sequence[Any]], overrides: Sequence[str]) -> dict[str, list[Any]]:
    fixed = {parse_override(text)[0] for text in overrides}
    out: dict[str, list[Any]] = {}
    for key in sorted(grid):  # sorted keys: run names do not depend on the order the grid was typed in
        parse_override(f"{key}=0")  # unknown keys raise ConfigError naming the key
        if key in _RESERVED:
            raise ConfigError(f"grid key {key!r} is set by the sweep itself; use {_RESERVED[key]} instead")
        if key in fixed:
            raise ConfigError(f"{key} is both swept (grid) and fixed (key=value override); drop one of them")
        values = grid[key]
        if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or not values:
            raise ConfigError(f"grid key {key}: needs a non-empty list of values, got {values!r}")
        bad = [v for v in values if isinstance(v, float) and not math.isfinite(v)]
        if bad:
            raise ConfigError(f"grid key {key}: {bad[0]} is not a finite number; list finite values")
        if len({json.dumps(v, sort_keys=True) for v in values}) != len(values):
            raise ConfigError(f"grid key {key}: repeated value in {list(values)!r}; list each value once")
        out[key] = plain(list(values))
    return out


def _build(config_path: str, base: Config, grid: Mapping[str, Sequence[Any]], seeds: int | Sequence[int],
           folds: int | None, overrides: Sequence[str]) -> SweepPlan:  # fmt: skip
    grid = _check_grid(grid, overrides)
    seed_list = _seed_list(seeds, base.seed)
    if folds is not None:
        if base.data.kind != "images":
            raise ConfigError(f"folds: k-fold cross-validation needs data.kind=images; {config_path} trains on "
                              f"{base.data.kind}, so drop --folds")  # fmt: skip
        if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
            raise ConfigError(f"folds: {folds!r}; use k >= 2 folds, or no --folds")
    plan = SweepPlan(config_path, base, grid, seed_list, folds, list(overrides))
    base_dict = base.to_dict()
    names: set[str] = set()
    for seed, fold in product(seed_list, range(folds) if folds else [None]):
        for values in product(*grid.values()):
            params = dict(zip(grid, values)) | {"seed": seed} | ({} if fold is None else {"fold": fold})
            run_overrides = [_override(k, v) for k, v in zip(grid, values)] + [f"seed={seed}"]
            if fold is not None:
                run_overrides += [f"data.images.folds={folds}", f"data.images.fold={fold}"]
            name = _run_name(params, run_overrides)
            if name in names:  # two values that differ only in characters a folder name cannot hold
                name += "-" + hashlib.sha1("\n".join(run_overrides).encode()).hexdigest()[:10]
            names.add(name)
            try:
                config = config_from_dict(base_dict, run_overrides)
            except ConfigError as exc:
                raise ConfigError(f"sweep run {name}: {exc}") from None
            plan.runs.append(SweepRun(name, run_overrides, config, params))
    return plan


def plan_sweep(
    config_path: str | Path,
    grid: Mapping[str, Sequence[Any]],
    seeds: int | Sequence[int] = 1,
    folds: int | None = None,
    overrides: Sequence[str] = (),
) -> SweepPlan:
    """Every run of a sweep with its resolved and validated config; nothing is written.

    Args:
        config_path: YAML config file (as for `latentatlas train`).
        grid: dotted key -> values; the sweep is their Cartesian product (keys sorted by name).
        seeds: a count n (the config's seed + 0..n-1) or an explicit list of seeds.
        folds: k for k-fold cross-validation (image configs only), or None.
        overrides: `key=value` texts applied to every run.

    Raises:
        ConfigError: an unknown or reserved key, an empty grid entry, or a combination whose config is invalid.
    """
    base = load_config(config_path, list(overrides))
    return _build(str(config_path), base, grid, seeds, folds, overrides)


def load_sweep_plan(sweep_dir: str | Path) -> SweepPlan:
    """The plan recorded in `sweep_dir/sweep.json`, to continue a sweep without repeating its arguments."""
    record = read_sweep_record(sweep_dir)
    try:
        base = config_from_dict(record["base_config"])
        return _build(record["config_path"], base, record["grid"], record["seeds"], record["folds"],
                      record.get("overrides", []))  # fmt: skip
    except ConfigError as exc:
        raise ConfigError(f"{Path(sweep_dir) / SWEEP_FILE}: {exc}; restore the file or rerun the sweep") from None
    except (KeyError, TypeError, AttributeError, ValueError) as exc:
        raise LatentAtlasError(f"{Path(sweep_dir) / SWEEP_FILE}: missing or bad field {exc}; rerun the sweep") from None
