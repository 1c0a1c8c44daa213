"""Tables of quantities: names in words with their meaning, config keys as code, dashes, marks, the glossary."""

import re

import pytest

from latentatlas.report.quantities import describe
from latentatlas.report.tables import clearly_different, glossary, name_cell, quantity_table, value_cell


def first_cells(table: str) -> list[str]:
    return [re.sub("<[^>]+>", "", c).strip() for c in re.findall(r"<th scope='row'[^>]*>(.*?)</th>", table)]


def test_rows_are_named_in_words_grouped_and_config_keys_are_code():
    rows = {
        "train_loss": [0.5, 0.4],
        "test_precision_at_1": [0.7, 0.75],
        "kl_total": [None, 3.2],
        "loss.koleo.weight": [0.0, 0.1],
    }
    table = quantity_table(rows, ["a", "b"], grouped=True)
    assert first_cells(table) == ["Test precision@1 ↑", "Total KL (nats)", "Training loss ↓", "loss.koleo.weight"]
    assert "<code>loss.koleo.weight</code>" in table and ">–<" in table
    assert [g for g in re.findall(r"<tr class='group'><th colspan='3'>(.*?)</th>", table)] == [
        "Quality",
        "Latent statistics",
        "Losses",
        "Config",
    ]
    assert describe("test_precision_at_1").meaning in name_cell("test_precision_at_1")


def test_value_cells_show_spread_and_marks():
    assert ">0.754 ± 0.012 (n = 3)<" in value_cell("test_precision_at_1", 0.7543, 0.0121, 3)
    assert "class='clear'" in value_cell("test_precision_at_1", 0.75, clear=True)
    assert ">–<" in value_cell("kl_total", None, 0.1, 3)  # no spread after a dash


@pytest.mark.parametrize(
    "a, sa, b, sb, clear",
    [
        (0.33, 0.004, 0.293, 0.006, True),
        (0.33, 0.02, 0.293, 0.03, False),
        (0.33, None, 0.29, 0.01, None),
        (0.5, 0.1, 0.7, 0.1, False),
        (0.5, 0.0, 0.5000001, 0.0, True),
    ],
)
def test_a_difference_is_clear_beyond_twice_the_larger_spread(a, sa, b, sb, clear):
    assert clearly_different(a, sa, b, sb) is clear


def test_the_glossary_holds_one_entry_per_meaning():
    text = glossary(["latent_variance[0]", "latent_variance[1]", "test_koleo", "seed", "mystery"])
    assert text.count("<dt>") == 2
    assert "<dt>Variance of z1, Variance of z2</dt>" in text
    assert "Lower is better. Source: Sablayrolles et al. 2019" in text
    assert glossary(["seed"]) == ""
