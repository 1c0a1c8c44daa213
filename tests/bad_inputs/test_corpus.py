"""The kept bad-input corpus: every command, every loader and option a user could get wrong (see harness.py for
what each case must satisfy). A new command or option appends its cases to one of the `cases_*.py` tables."""

from __future__ import annotations

import pytest

from tests.bad_inputs import (
    cases_analyze,
    cases_analyze_inputs,
    cases_analyze_queries,
    cases_cluster,
    cases_factors,
    cases_other,
    cases_sweep,
    cases_train,
)
from tests.bad_inputs.harness import run_case

CASES = [
    *cases_analyze.CASES,
    *cases_analyze_inputs.CASES,
    *cases_analyze_queries.CASES,
    *cases_factors.CASES,
    *cases_train.CASES,
    *cases_sweep.CASES,
    *cases_other.CASES,
    *cases_cluster.CASES,
]


def test_the_corpus_is_large_and_its_ids_unique():
    ids = [c.id for c in CASES]
    assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
    assert len(CASES) >= 150


@pytest.mark.parametrize("bad", CASES, ids=[c.id for c in CASES])
def test_bad_input_is_one_line_exit_2_and_touches_nothing(bad, env, capsys):
    run_case(bad, env, capsys)
