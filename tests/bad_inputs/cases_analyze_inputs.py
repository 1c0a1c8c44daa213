"""Bad inputs of `latentatlas analyze` beyond the embeddings file: labels, class names, triplets, options, outputs."""

from __future__ import annotations

import errno
import shutil

import numpy as np

from tests.bad_inputs.cases_analyze import GOOD, LAB_TXT, OUT, A, _rows
from tests.bad_inputs.harness import EMB, LABELS, case, npy, refuse_writes


def _damage_best(env):
    run = env.w / "run"
    shutil.copytree(env.shapes_run, run)
    best = run / "checkpoints" / "best.safetensors"
    data = bytearray(best.read_bytes())
    data[-200:-100] = bytes(100)  # zeros inside the tensor data: the file still parses, its checksum does not
    best.write_bytes(bytes(data))


def _full_disk(env):
    refuse_writes(env.monkeypatch, env.w, errno.ENOSPC)


def _read_only_out(env):
    refuse_writes(env.monkeypatch, env.w / "ro")


CASES = [
    # -- labels, class names
    case(
        "labels-missing", f"{A} e.npy --labels nope.txt {OUT}", "nope.txt", "--labels path", files={"e.npy": _rows(EMB)}
    ),
    case(
        "labels-extension",
        f"{A} e.npy --labels l.json {OUT}",
        "l.json",
        "use .npy, .txt or .csv",
        files={"e.npy": _rows(EMB), "l.json": "[]"},
    ),
    case(
        "labels-latin1",
        f"{A} e.npy --labels l.txt {OUT}",
        "l.txt",
        "not UTF-8",
        files={"e.npy": _rows(EMB), "l.txt": ("\n".join(["caf\xe9", "th\xe9"] * 6) + "\n").encode("latin-1")},
    ),
    case(
        "labels-binary",
        f"{A} e.npy --labels l.txt {OUT}",
        "l.txt",
        "NUL bytes",
        files={"e.npy": _rows(EMB), "l.txt": b"\x00\x01" * 12},
    ),
    case(
        "labels-empty",
        f"{A} e.npy --labels l.txt {OUT}",
        "l.txt",
        "one label per line",
        files={"e.npy": _rows(EMB), "l.txt": "\n\n"},
    ),
    case(
        "labels-count",
        f"{A} e.npy --labels l.txt {OUT}",
        "l.txt",
        "exactly one label per embedding",
        files={"e.npy": _rows(EMB), "l.txt": "0\n1\n"},
    ),
    case(
        "labels-npy-2d",
        f"{A} e.npy --labels l.npy {OUT}",
        "l.npy",
        "1-D array",
        files={"e.npy": _rows(EMB), "l.npy": npy(LABELS.reshape(3, 4))},
    ),
    case(
        "labels-npy-truncated",
        f"{A} e.npy --labels l.npy {OUT}",
        "l.npy",
        "numpy.save",
        files={"e.npy": _rows(EMB), "l.npy": npy(LABELS)[:100]},
    ),
    case(
        "labels-csv-latin1",
        f"{A} e.npy --labels l.csv {OUT}",
        "l.csv",
        "not UTF-8",
        files={"e.npy": _rows(EMB), "l.csv": ("cl\xe4ss\n" + LAB_TXT).encode("latin-1")},
    ),
    case(
        "class-names-missing", f"{A} e.npz --class-names nope.txt {OUT}", "nope.txt", "--class-names path", files=GOOD
    ),
    case(
        "class-names-latin1",
        f"{A} e.npz --class-names n.txt {OUT}",
        "n.txt",
        "not UTF-8",
        files={**GOOD, "n.txt": "caf\xe9\nb\nc\n".encode("latin-1")},
    ),
    case(
        "class-names-empty",
        f"{A} e.npz --class-names n.txt {OUT}",
        "n.txt",
        "one class name per line",
        files={**GOOD, "n.txt": ""},
    ),
    case(
        "class-names-count",
        f"{A} e.npz --class-names n.txt {OUT}",
        "n.txt",
        "one name per class",
        files={**GOOD, "n.txt": "a\nb\n"},
    ),
    case(
        "class-names-without-labels",
        f"{A} e.npy --class-names n.txt {OUT}",
        "n.txt",
        "pass --labels FILE too",
        files={"e.npy": _rows(EMB), "n.txt": "a\nb\nc\n"},
    ),
    # -- triplets
    case("triplets-missing", f"{A} e.npz --triplets t.csv {OUT}", "t.csv", "--triplets path", files=GOOD),
    case(
        "triplets-extension",
        f"{A} e.npz --triplets t.txt {OUT}",
        "t.txt",
        "use .npy or .csv",
        files={**GOOD, "t.txt": "0,1,2\n"},
    ),
    case(
        "triplets-header",
        f"{A} e.npz --triplets t.csv {OUT}",
        "t.csv",
        "name the columns a,p,n",
        files={**GOOD, "t.csv": "anchor,pos,neg\n0,1,2\n"},
    ),
    case(
        "triplets-not-integers",
        f"{A} e.npz --triplets t.csv {OUT}",
        "t.csv",
        "integer indices",
        files={**GOOD, "t.csv": "0,1,x\n"},
    ),
    case(
        "triplets-two-columns",
        f"{A} e.npz --triplets t.csv {OUT}",
        "t.csv",
        "3 integer columns",
        files={**GOOD, "t.csv": "0,1\n"},
    ),
    case(
        "triplets-out-of-range",
        f"{A} e.npz --triplets t.csv {OUT}",
        "99",
        "row indices",
        files={**GOOD, "t.csv": "0,3,99\n"},
    ),
    case(
        "triplets-latin1",
        f"{A} e.npz --triplets t.csv {OUT}",
        "t.csv",
        "not UTF-8",
        files={**GOOD, "t.csv": "\xe0,p,n\n0,1,2\n".encode("latin-1")},
    ),
    case(
        "triplets-npy-truncated",
        f"{A} e.npz --triplets t.npy {OUT}",
        "t.npy",
        "numpy.save",
        files={**GOOD, "t.npy": npy(np.zeros((4, 3), int))[:90]},
    ),
    case(
        "triplets-npy-shape",
        f"{A} e.npz --triplets t.npy {OUT}",
        "(4, 2)",
        "(T, 3)",
        files={**GOOD, "t.npy": npy(np.zeros((4, 2), int))},
    ),
    case(
        "triplets-npy-float",
        f"{A} e.npz --triplets t.npy {OUT}",
        "float64",
        "integer indices",
        files={**GOOD, "t.npy": npy(np.full((4, 3), 0.5))},
    ),
    # -- options and outputs
    case("coverage-zero", f"{A} e.npz --coverage 0 {OUT}", "coverage 0", "such as 0.5", files=GOOD),
    case("coverage-above-one", f"{A} e.npz --coverage 1.5 {OUT}", "coverage 1.5", "such as 0.5", files=GOOD),
    case("coverage-nan", f"{A} e.npz --coverage nan {OUT}", "coverage nan", "such as 0.5", files=GOOD),
    case("coverage-text", f"{A} e.npz --coverage half {OUT}", "--coverage", "invalid float", files=GOOD),
    case("metric-unknown", f"{A} e.npz --metric manhattan {OUT}", "--metric", "invalid choice", files=GOOD),
    case("no-out", f"{A} e.npz", "--out", "required", files=GOOD),
    case("out-not-empty", f"{A} e.npz --out o", "o", "pass --force", files={**GOOD, "o/keep.txt": "mine"}),
    case("out-is-a-file", f"{A} e.npz --out o", "o", "not a folder", files={**GOOD, "o": "mine"}),
    case(
        "out-read-only",
        f"{A} e.npz --out ro/analysis",
        "ro/analysis",
        "Permission denied",
        "permissions",
        files={**GOOD, "ro/keep.txt": "mine"},
        setup=_read_only_out,
    ),
    case(
        "out-disk-full",
        f"{A} e.npz {OUT}",
        "No space left on device",
        "free some space",
        files=GOOD,
        setup=_full_disk,
    ),
    case(
        "run-folder-with-labels",
        f"{A} {{shapes_run}} --labels l.txt {OUT}",
        "own labels",
        "--labels",
        files={"l.txt": LAB_TXT},
    ),
    case("run-folder-damaged-best", f"{A} run {OUT}", "best.safetensors", "use another checkpoint", setup=_damage_best),
    case("unknown-option", f"{A} e.npz {OUT} --colour red", "--colour", "see --help", files=GOOD),
]
