"""Fuzzing the YAML config reader, the dotted key=value overrides and the sweep grid parser: random and mutated
inputs give a validated Config (or grid) or the library's one-line error, never another exception."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from latentatlas.cli.sweep import parse_grid
from latentatlas.config import Config, config_from_dict, load_config
from latentatlas.configs import CONFIG_DIR
from tests.fuzzing import result_or_one_line_error


def _keys(cls, prefix: str = "") -> list[str]:
    out = []
    """Every dotted key of a config dataclass (`train.lr`, `loss.koleo.weight`...)."""
    for f in dataclasses.fields(cls):
        name = f"{prefix}{f.name}"
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        out += _keys(type(default), f"{name}.") if dataclasses.is_dataclass(default) else [name]
    return out


KEYS = _keys(Config)
BUILTIN = {p.name: p.read_text(encoding="utf-8") for p in sorted(CONFIG_DIR.glob("*.yaml"))}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
)
YAML_VALUES = st.one_of(
    st.sampled_from(["1", "-1", "0", "1e-3", ".nan", ".inf", "-.inf", "null", "true", "[1, 2]", "[]", "{a: 1}",
                     "cosine", "'x'", "[4, 8, 8]", "1e999", "0x10", "~", "!!binary aGk=", "[1, [2]]", "&a 1"]),
    st.text(max_size=12),
)  # fmt: skip


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-config")


def _valid(config) -> None:
    if config is None:
        return
    assert isinstance(config, Config)
    for key in ("lr", "weight_decay"):
        assert math.isfinite(getattr(config.train, key))


@given(text=st.text(max_size=200))
def test_random_yaml_text_loads_or_refuses(folder, text):
    path = folder / "c.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _valid(result_or_one_line_error("yaml-text", load_config, path))


@st.composite
def mutated_builtin(draw):
    text = list(BUILTIN[draw(st.sampled_from(sorted(BUILTIN)))])
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, max(len(text) - 1, 0)))
        op = draw(st.sampled_from(["delete", "insert", "replace"]))
        if op == "delete" and text:
            del text[at]
        elif op == "insert":
            text.insert(at, draw(st.sampled_from(list(":[]{},-#'\"\n .0123456789eax&*!|>"))))
        elif text:
            text[at] = draw(st.characters())
    return "".join(text)


@given(text=mutated_builtin())
def test_mutated_builtin_configs_load_or_refuse(folder, text):
    path = folder / "m.yaml"
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    _valid(result_or_one_line_error("yaml-mutated", load_config, path))


SECTIONS = st.sampled_from(["train", "loss", "model", "lr", "x", "koleo", "data", "shapes", "epochs", "beta"])
TREES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(SECTIONS, inner, max_size=3)),
    max_leaves=8,
)
TOP = st.sampled_from(["name", "seed", "train", "loss", "model", "data", "analysis", "x"])


@given(tree=st.dictionaries(TOP, TREES))
def test_random_config_trees_build_or_refuse(tree):
    _valid(result_or_one_line_error("config-tree", config_from_dict, tree))


OVERRIDE = st.builds(
    lambda key, sep, value: f"{key}{sep}{value}",
    st.one_of(st.sampled_from(KEYS), st.text(max_size=10)),
    st.sampled_from(["=", "", "==", " = "]),
    YAML_VALUES,
)


@given(overrides=st.lists(OVERRIDE, max_size=4))
def test_random_overrides_build_or_refuse(overrides):
    _valid(result_or_one_line_error("overrides", config_from_dict, {}, overrides))


GRID_ITEM = st.builds(
    lambda key, sep, values: f"{key}{sep}{values}",
    st.one_of(st.sampled_from(KEYS), st.text(max_size=8)),
    st.sampled_from(["=", "", "=="]),
    st.one_of(st.lists(YAML_VALUES, max_size=4).map(",".join), st.text(max_size=16)),
)


@given(items=st.lists(GRID_ITEM, max_size=4))
def test_random_grid_items_parse_or_refuse(items):
    out = result_or_one_line_error("grid", parse_grid, items)
    if out is not None:
        grid, fixed = out
        assert all(isinstance(v, list) and len(v) > 1 for v in grid.values())
        assert all("=" in f for f in fixed)
