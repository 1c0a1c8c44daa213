"""The seeds' published numbers: well-formed, tied to registered quantities and real config keys, picked by fit."""

from pathlib import Path

from latentatlas.config import Config
from latentatlas.report.quantities import describe
from latentatlas.report.references import load_references, references_for
from latentatlas.report.runs import flatten

CIFAR = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
DOCS = Path(__file__).resolve().parents[1] / "docs" / "seeds.md"


def test_every_reference_names_registered_quantities_and_real_config_keys():
    refs, datasets = load_references()
    config_keys = set(flatten(Config().to_dict()))
    assert len(refs) >= 15 and datasets["cifar10"] == CIFAR
    for ref in refs:
        assert all(describe(k) is not None for k in ref.keys), ref
        assert set(ref.when) <= config_keys, ref.when
        assert ref.dataset in (None, *datasets) and ref.seed == "000" and ref.source


def test_the_headline_seed_numbers_are_there_and_quoted_by_the_docs():
    text = DOCS.read_text(encoding="utf-8")
    auc = references_for("best_val_pair_auc", {"data": {"kind": "images"}}, CIFAR)[0]
    assert auc.value == 0.9538 and "0.9538" in text
    assert [r.value for r in references_for("test_margin", None, CIFAR)] == [0.8143, 0.7998]
    assert references_for("test_intra", None, CIFAR)[0].value == 0.2249


def test_references_fit_the_runs_config_and_data():
    koleo = {"loss": {"koleo": {"weight": 0.1}}}
    assert references_for("test_margin", koleo, CIFAR)[0].value == 0.5147
    koleo_ga = {"loss": {"koleo": {"weight": 0.1}}, "train": {"accumulation": 4}}
    assert [r.value for r in references_for("test_margin", koleo_ga, CIFAR)] == [0.5425]
    seven = {"loss": {"koleo": {"weight": 0.0}}, "train": {"epochs": 7}}
    assert references_for("test_pair_auc", seven, CIFAR)[0].describe() == (
        "seed 000 published 0.9271 ± 0.004 (n = 5) (5-fold cross-validation, 7 epochs, no KoLeo)"
    )  # the most specific reference first
    assert references_for("test_pair_auc", None, list(reversed(CIFAR)))  # names in any order
    assert references_for("test_pair_auc", None, ["cat", "dog"]) == []
    assert references_for("test_pair_auc", {"loss": {"koleo": {"weight": 0.3}}}, CIFAR) == []
    assert references_for("grid_validity", None, CIFAR) == []  # seed 004 published no number
