"""Bad inputs of the disentanglement scores (`latentatlas analyze ... --factors FILE`, `--scores`, shapes runs):
scores asked of a run without known factors, factors of the wrong length, a constant factor, NaN in a latent or a
factor, factor files that cannot be read."""

from __future__ import annotations

import numpy as np

from tests.bad_inputs.cases_analyze import GOOD, LAB_TXT, OUT, A, _rows
from tests.bad_inputs.harness import EMB, LABELS, case, csv, good_csv, npy, npz

F = np.stack([LABELS, np.arange(12) % 4], axis=1)  # two factors of the 12 embeddings
BIG = np.random.default_rng(1).normal(size=(40, 3)).astype(np.float32)  # enough rows for 20-bin histograms
BIG_F = np.stack([np.arange(40) % 2, np.arange(40) % 5], axis=1)
BIG_FILES = {"b.npz": npz(embeddings=BIG, labels=BIG_F[:, 0])}


def _with_nan(x, row: int, col: int):
    x = np.array(x, dtype=np.float64)
    x[row, col] = np.nan
    return x


CASES = [
    # -- runs: the generator's factors, or none
    case(
        "scores-of-a-metric-run",
        f"{A} {{metric_run}} --scores {OUT}",
        "{metric_run}",
        "no known factors",
        "embeddings/test.npz --factors FILE",
    ),
    case(
        "factors-for-a-shapes-run",
        f"{A} {{shapes_run}} --factors f.npy {OUT}",
        "{shapes_run}",
        "brings its generator's factors",
        "drop --factors",
        files={"f.npy": npy(F)},
    ),
    case(
        "factors-for-a-metric-run",
        f"{A} {{metric_run}} --factors f.npy {OUT}",
        "{metric_run}",
        "embeddings/test.npz --factors f.npy",
        files={"f.npy": npy(F)},
    ),
    case("scores-without-factors", f"{A} e.npz --scores {OUT}", "e.npz", "pass --factors FILE", files=GOOD),
    # -- the factors themselves
    case(
        "factors-wrong-length",
        f"{A} e.npz --factors f.npy {OUT}",
        "f.npy",
        "10 rows of factors for 12 embeddings",
        "one row of factors per embedding",
        files={**GOOD, "f.npy": npy(F[:10])},
    ),
    case(
        "factors-constant",
        f"{A} e.npz --factors f.npy {OUT}",
        "f.npy",
        "factor 'factor_1' is constant",
        "drop it",
        files={**GOOD, "f.npy": npy(np.stack([LABELS, np.full(12, 7)], axis=1))},
    ),
    case(
        "factors-constant-csv-column",
        f"{A} e.npz --factors f.csv {OUT}",
        "f.csv",
        "factor 'size' is constant",
        files={**GOOD, "f.csv": csv([[lab, 1.5] for lab in LABELS], ["shape", "size"])},
    ),
    case(
        "factors-nan",
        f"{A} e.npz --factors f.npy {OUT}",
        "f.npy",
        "NaN/inf values",
        "drop those samples",
        files={**GOOD, "f.npy": npy(_with_nan(F, 3, 1))},
    ),
    case(
        "factors-nan-latent",
        f"{A} e.npy --labels l.txt --factors f.npy {OUT}",
        "e.npy",
        "NaN or inf",
        files={"e.npy": _rows(_with_nan(EMB, 4, 2)), "l.txt": LAB_TXT, "f.npy": npy(F)},
    ),
    case(
        "factors-too-few-samples",
        f"{A} e.npz --factors f.npy {OUT}",
        "12 samples are fewer than the 20 histogram bins",
        "use at least 20",
        files={**GOOD, "f.npy": npy(F)},
    ),
    case(
        "factors-missing-file",
        f"{A} b.npz --factors nope.npy {OUT}",
        "nope.npy",
        "no such factors file",
        files=BIG_FILES,
    ),
    case(
        "factors-unknown-column",
        f"{A} b.npz --factors zz {OUT}",
        "zz",
        "has no column 'zz'",
        "pass a factors file",
        files=BIG_FILES,
    ),
    case(
        "factors-unknown-extension",
        f"{A} b.npz --factors f.json {OUT}",
        "f.json",
        "use .npy, .npz, .csv or .tsv",
        files={**BIG_FILES, "f.json": "[]"},
    ),
    case(
        "factors-csv-without-header",
        f"{A} b.npz --factors f.csv {OUT}",
        "f.csv",
        "is not a header",
        "add a row naming the factors",
        files={**BIG_FILES, "f.csv": csv(BIG_F.tolist())},
    ),
    case(
        "factors-npz-without-factors",
        f"{A} b.npz --factors b.npz {OUT}",
        "b.npz",
        "no array named 'factors'",
        "savez(factors=",
        files=BIG_FILES,
    ),
    case(
        "factors-3d-npy",
        f"{A} b.npz --factors f.npy {OUT}",
        "f.npy",
        "give an (N, K) array",
        files={**BIG_FILES, "f.npy": npy(np.zeros((40, 2, 2)))},
    ),
    case(
        "factors-text-npy",
        f"{A} b.npz --factors f.npy {OUT}",
        "f.npy",
        "give numbers",
        files={**BIG_FILES, "f.npy": npy(np.array(["a", "b"] * 20))},
    ),
    case(
        "factor-names-wrong-count",
        f"{A} b.npz --factors f.npz {OUT}",
        "f.npz",
        "1 factor_names for 2 factor columns",
        files={**BIG_FILES, "f.npz": npz(factors=BIG_F, factor_names=np.array(["a"]))},
    ),
    case(
        "factors-csv-embeddings-unknown-column",
        f"{A} e.csv --label-column label --factors size {OUT}",
        "size",
        "e.csv has no column 'size'",
        files={"e.csv": good_csv()},
    ),
    case(
        "factors-csv-embeddings-only-factor-columns",
        f"{A} e.csv --label-column label --factors a,b,c,d {OUT}",
        "e.csv",
        "no numeric column besides the labels and the factor columns",
        files={"e.csv": good_csv()},
    ),
]
