"""Bad inputs of `latentatlas analyze`: the embeddings file itself (npy, npz, safetensors, csv/tsv, projector)."""

from __future__ import annotations

import numpy as np

from tests.bad_inputs.harness import EMB, LABELS, case, csv, good_csv, npy, npz, safetensors

A = "analyze"
OUT = "--out out"
GOOD = {"e.npz": npz(embeddings=EMB, labels=LABELS)}
LAB_TXT = "\n".join(map(str, LABELS)) + "\n"


def _rows(x):
    return npy(np.asarray(x, dtype=np.float32))


def _projector(tensors: str, metadata: str | None = None) -> dict:
    files = {"proj/tensors.tsv": tensors}
    if metadata is not None:
        files["proj/metadata.tsv"] = metadata
    return files


TSV = "\n".join("\t".join(str(float(v)) for v in row) for row in EMB) + "\n"


CASES = [
    # -- the embeddings file itself
    case("missing-file", f"{A} nope.npz {OUT}", "nope.npz", "check the path"),
    case("unknown-extension", f"{A} e.json {OUT}", "e.json", "use .npy", files={"e.json": "[]"}),
    case("no-extension", f"{A} embeddings {OUT}", "embeddings", "unknown extension", files={"embeddings": "1,2"}),
    case("empty-npy", f"{A} e.npy {OUT}", "e.npy", "file is empty", files={"e.npy": b""}),
    case("garbage-npy", f"{A} e.npy {OUT}", "e.npy", "numpy.save", files={"e.npy": b"not an array at all" * 9}),
    case("truncated-npy", f"{A} e.npy {OUT}", "e.npy", "numpy.save", files={"e.npy": _rows(EMB)[:150]}),
    case("pickled-npy", f"{A} e.npy {OUT}", "e.npy", "numpy.save", files={"e.npy": npy(np.array([{}], dtype=object))}),
    case("npz-named-npy", f"{A} e.npy {OUT}", "e.npy", "rename it to .npz", files={"e.npy": npz(embeddings=EMB)}),
    case(
        "1d-npy", f"{A} e.npy --labels l.txt {OUT}", "e.npy", "reshape", files={"e.npy": _rows(EMB[0]), "l.txt": "1\n"}
    ),
    case("3d-npy", f"{A} e.npy {OUT}", "e.npy", "reshape", files={"e.npy": _rows(np.zeros((2, 2, 2)))}),
    case("zero-rows-npy", f"{A} e.npy {OUT}", "e.npy", "empty", files={"e.npy": _rows(np.zeros((0, 4)))}),
    case("zero-dims-npy", f"{A} e.npy {OUT}", "e.npy", "empty", files={"e.npy": _rows(np.zeros((4, 0)))}),
    case("string-npy", f"{A} e.npy {OUT}", "e.npy", "float array", files={"e.npy": npy(np.array([["a", "b"]]))}),
    case("complex-npy", f"{A} e.npy {OUT}", "e.npy", "float array", files={"e.npy": npy(np.ones((3, 2), complex))}),
    case(
        "nan-row",
        f"{A} e.npy --labels l.txt {OUT}",
        "e.npy",
        "NaN or inf",
        "index 2",
        files={"e.npy": _rows(np.where(np.arange(12)[:, None] == 2, np.nan, EMB)), "l.txt": LAB_TXT},
    ),
    case(
        "inf-row",
        f"{A} e.npy --labels l.txt {OUT}",
        "e.npy",
        "drop or fix those rows",
        files={"e.npy": _rows(np.where(np.arange(12)[:, None] == 5, np.inf, EMB)), "l.txt": LAB_TXT},
    ),
    case(
        "float64-overflow",
        f"{A} e.npy --labels l.txt {OUT}",
        "e.npy",
        "beyond float32",
        "rescale",
        files={"e.npy": npy(EMB.astype(np.float64) * 1e300), "l.txt": LAB_TXT},
    ),
    case("npy-without-labels", f"{A} e.npy {OUT}", "e.npy", "--labels FILE", files={"e.npy": _rows(EMB)}),
    case("truncated-npz", f"{A} e.npz {OUT}", "e.npz", "numpy.savez", files={"e.npz": GOOD["e.npz"][:300]}),
    case("garbage-npz", f"{A} e.npz {OUT}", "e.npz", "numpy.savez", files={"e.npz": b"PK\x03\x04" + b"x" * 99}),
    case("npy-named-npz", f"{A} e.npz {OUT}", "e.npz", "numpy.savez", files={"e.npz": _rows(EMB)}),
    case("npz-without-embeddings", f"{A} e.npz {OUT}", "e.npz", "savez(embeddings=", files={"e.npz": npz(x=EMB)}),
    case(
        "npz-labels-too-short",
        f"{A} e.npz {OUT}",
        "e.npz",
        "one label per embedding",
        files={"e.npz": npz(embeddings=EMB, labels=LABELS[:5])},
    ),
    case(
        "npz-one-class",
        f"{A} e.npz {OUT}",
        "e.npz",
        "single class",
        files={"e.npz": npz(embeddings=EMB, labels=np.zeros(12, int))},
    ),
    case(
        "npz-float-labels",
        f"{A} e.npz {OUT}",
        "e.npz",
        "integer or string",
        files={"e.npz": npz(embeddings=EMB, labels=LABELS + 0.5)},
    ),
    case(
        "npz-2d-labels",
        f"{A} e.npz {OUT}",
        "e.npz",
        "1-D sequence",
        files={"e.npz": npz(embeddings=EMB, labels=LABELS.reshape(3, 4))},
    ),
    case(
        "npz-class-names-count",
        f"{A} e.npz {OUT}",
        "e.npz",
        "one name per class",
        files={"e.npz": npz(embeddings=EMB, labels=LABELS, class_names=np.array(["a", "b"]))},
    ),
    case(
        "singleton-class",
        f"{A} e.npz {OUT}",
        "'3'",
        "give it more embeddings",
        files={"e.npz": npz(embeddings=EMB, labels=np.r_[LABELS[:-1], 3])},
    ),
    case(
        "safetensors-garbage",
        f"{A} e.safetensors {OUT}",
        "e.safetensors",
        "not a readable .safetensors",
        files={"e.safetensors": b"\x10\x00\x00\x00\x00\x00\x00\x00{not json}......"},
    ),
    case(
        "safetensors-truncated",
        f"{A} e.safetensors {OUT}",
        "e.safetensors",
        "not a readable",
        files={"e.safetensors": safetensors({"embeddings": EMB})[:-40]},
    ),
    case(
        "safetensors-no-embeddings",
        f"{A} e.safetensors {OUT}",
        "e.safetensors",
        "rename it",
        files={"e.safetensors": safetensors({"x": EMB})},
    ),
    case(
        "safetensors-bad-class-names",
        f"{A} e.safetensors {OUT}",
        "e.safetensors",
        "json.dumps(names)",
        files={"e.safetensors": safetensors({"embeddings": EMB, "labels": LABELS}, {"class_names": "a,b,c"})},
    ),
    case(
        "safetensors-nan",
        f"{A} e.safetensors {OUT}",
        "e.safetensors",
        "NaN or inf",
        files={"e.safetensors": safetensors({"embeddings": EMB * np.nan, "labels": LABELS})},
    ),
    # -- text tables
    case(
        "csv-latin1",
        f"{A} e.csv --label-column label {OUT}",
        "e.csv",
        "not UTF-8",
        "iconv",
        files={"e.csv": good_csv().replace("label", "lab\xe9l").encode("latin-1")},
    ),
    case("csv-binary", f"{A} e.csv {OUT}", "e.csv", "NUL bytes", files={"e.csv": b"1,2\n\x00\x01\x02\n"}),
    case("csv-utf16", f"{A} e.csv {OUT}", "e.csv", "UTF-16", files={"e.csv": good_csv().encode("utf-16")}),
    case("csv-ragged", f"{A} e.csv {OUT}", "e.csv", "line 3 has 1 columns", files={"e.csv": "1,2\n3,4\n5\n"}),
    case(
        "csv-text-column",
        f"{A} e.csv {OUT}",
        "e.csv",
        "--label-column label",
        files={"e.csv": csv([[1.0, "x"], [2.0, "y"]], ["v", "label"])},
    ),
    case("csv-header-only", f"{A} e.csv {OUT}", "e.csv", "add one row", files={"e.csv": "a,b,c\n"}),
    case("csv-blank", f"{A} e.csv {OUT}", "e.csv", "file is empty", files={"e.csv": "\n \n\n"}),
    case("csv-header-width", f"{A} e.csv {OUT}", "e.csv", "fix the header", files={"e.csv": "a,b,c\n1,2\n3,4\n"}),
    case(
        "csv-unknown-label-column",
        f"{A} e.csv --label-column klass {OUT}",
        "'klass'",
        "pass one of them",
        files={"e.csv": good_csv()},
    ),
    case(
        "csv-only-label-column",
        f"{A} e.csv --label-column 0 {OUT}",
        "e.csv",
        "add the embedding columns",
        files={"e.csv": "1\n2\n3\n"},
    ),
    case(
        "csv-nan",
        f"{A} e.csv --label-column label {OUT}",
        "e.csv",
        "NaN or inf",
        files={"e.csv": csv([["nan", 1.0, 0], [1.0, 2.0, 1], [3.0, 1.0, 0], [2.0, 2.0, 1]], ["a", "b", "label"])},
    ),
    case(
        "tsv-overflow",
        f"{A} e.tsv --label-column 2 {OUT}",
        "e.tsv",
        "NaN or inf",
        files={"e.tsv": "1e999\t2\t0\n3\t4\t1\n5\t6\t1\n7\t8\t0\n"},
    ),
    case("label-column-on-npz", f"{A} e.npz --label-column 0 {OUT}", "e.npz", "only applies to .csv/.tsv", files=GOOD),
    # -- projector folders
    case("projector-without-tensors", f"{A} proj {OUT}", "proj", "without tensors.tsv", files={"proj/x.txt": "1"}),
    case("projector-metadata-rows", f"{A} proj {OUT}", "metadata.tsv", "one row each", files=_projector(TSV, "0\n1\n")),
    case(
        "projector-label-column-no-metadata",
        f"{A} proj --label-column label {OUT}",
        "proj",
        "no metadata.tsv",
        files=_projector(TSV),
    ),
    case(
        "projector-metadata-latin1",
        f"{A} proj {OUT}",
        "metadata.tsv",
        "not UTF-8",
        files=_projector(
            TSV, ("\n".join("caf\xe9" if i % 2 else "th\xe9" for i in range(12)) + "\n").encode("latin-1")
        ),
    ),
    case(
        "projector-tensors-text",
        f"{A} proj {OUT}",
        "tensors.tsv",
        "not numeric",
        files=_projector("1\ta\n2\tb\n3\tc\n"),
    ),
    case(
        "projector-config-latin1",
        f"{A} proj {OUT}",
        "projector_config.pbtxt",
        "not UTF-8",
        files={**_projector(TSV), "proj/projector_config.pbtxt": 'tensor_path: "t\xe9.tsv"'.encode("latin-1")},
    ),
]
