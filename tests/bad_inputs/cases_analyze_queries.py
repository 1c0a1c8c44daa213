"""Bad inputs of `latentatlas analyze --queries Q` (sampled retrieval with 95% intervals): a count outside 1..N, and
a sample in which no query has another member of its class (lone queries are skipped, as in the exact path)."""

from __future__ import annotations

import numpy as np

from tests.bad_inputs.cases_analyze import GOOD, OUT, A
from tests.bad_inputs.harness import EMB, case, npz

# 12 embeddings, 11 classes: only class 0 has two members, so one sampled query is lone unless it hits them.
LONE = {"lone.npz": npz(embeddings=EMB, labels=np.array([0, 0, *range(1, 11)]))}

CASES = [
    case("queries-zero", f"{A} e.npz --queries 0 {OUT}", "--queries 0", "outside 1..12", files=GOOD),
    case("queries-negative", f"{A} e.npz --queries -5 {OUT}", "--queries -5", "pick a count", files=GOOD),
    case("queries-above-n", f"{A} e.npz --queries 13 {OUT}", "--queries 13", "outside 1..12", files=GOOD),
    case("queries-not-a-number", f"{A} e.npz --queries many {OUT}", "--queries", "many", files=GOOD),
    case(
        "queries-all-lone",
        f"{A} lone.npz --include-self --queries 1 --seed 0 {OUT}",
        "none of the 1 sampled queries",
        "raise queries",
        files=LONE,
    ),
]
