"""Fuzzing the embedding loaders (npy, npz, safetensors, csv, tsv, projector folders, labels and class names):
random bytes, mutated valid files and random valid arrays either load correctly or raise the one-line error."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from safetensors.torch import save as safetensors_bytes

from latentatlas.analysis.io import load_embeddings
from latentatlas.analysis.labels import load_class_names, load_labels
from tests.fuzzing import result_or_one_line_error

EXTENSIONS = (".npy", ".npz", ".safetensors", ".csv", ".tsv")
RNG = np.random.default_rng(0)
X = RNG.normal(size=(6, 3)).astype(np.float32)
Y = np.arange(6) % 2


def _valid(ext: str) -> bytes:
    buf = io.BytesIO()
    if ext == ".npy":
        np.save(buf, X)
    elif ext == ".npz":
        np.savez(buf, embeddings=X, labels=Y, class_names=np.array(["a", "b"]))
    elif ext == ".safetensors":
        return safetensors_bytes({"embeddings": torch.from_numpy(X), "labels": torch.from_numpy(Y)})
    else:
        sep = "," if ext == ".csv" else "\t"
        rows = ["a", "b", "c", "label"], *[[*map(str, r), str(y)] for r, y in zip(X, Y)]
        return ("\n".join(sep.join(r) for r in rows) + "\n").encode()
    return buf.getvalue()


VALID = {ext: _valid(ext) for ext in EXTENSIONS}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz-loaders")


def _check_loaded(result) -> None:
    if result is None:
        return
    x = result.embeddings
    assert x.dtype == np.float32 and x.ndim == 2 and x.shape[0] >= 1 and np.isfinite(x).all()
    if result.labels is not None:
        assert result.labels.shape == (len(x),) and len(result.class_names) == int(result.labels.max()) + 1


def _load(folder, ext: str, data: bytes, label_column=None):
    path = folder / f"e{ext}"
    path.write_bytes(data)
    result = result_or_one_line_error(f"load{ext}", load_embeddings, path, label_column=label_column)
    _check_loaded(result)
    return result


@given(ext=st.sampled_from(EXTENSIONS), data=st.binary(max_size=400))
def test_random_bytes_load_or_refuse(folder, ext, data):
    _load(folder, ext, data)


@st.composite
def mutated(draw):
    """A valid file of some format with bytes flipped, cut off, inserted or duplicated."""
    ext = draw(st.sampled_from(EXTENSIONS))
    data = bytearray(VALID[ext])
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "cut", "insert", "repeat"]))
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "flip" and data:
            data[at] ^= draw(st.integers(1, 255))
        elif kind == "cut":
            del data[at:]
        elif kind == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            data[at:at] = data[at : at + draw(st.integers(1, 32))]
    return ext, bytes(data)


@given(case=mutated())
def test_mutated_files_load_or_refuse(folder, case):
    ext, data = case
    _load(folder, ext, data, label_column="label" if ext in (".csv", ".tsv") else None)


ARRAYS = hnp.arrays(
    dtype=st.sampled_from([np.float16, np.float32, np.float64, np.int8, np.int64, np.uint8, np.bool_, np.complex64]),
    shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=0, max_side=5),
)


@given(array=ARRAYS, ext=st.sampled_from([".npy", ".npz", ".safetensors"]))
def test_random_arrays_load_exactly_or_refuse(folder, array, ext):
    buf = io.BytesIO()
    if ext == ".npy":
        np.save(buf, array)
        data = buf.getvalue()
    elif ext == ".npz":
        np.savez(buf, embeddings=array)
        data = buf.getvalue()
    else:
        if array.dtype == np.complex64:
            return  # torch tensors of complex numbers are no embeddings file anyone writes
        data = safetensors_bytes({"embeddings": torch.from_numpy(np.ascontiguousarray(array))})
    result = _load(folder, ext, data)
    if result is not None:  # what loads is the array itself, in float32
        assert np.array_equal(result.embeddings, array.astype(np.float32))


@given(dtype=st.sampled_from([torch.bfloat16, torch.float16]), n=st.integers(1, 5), d=st.integers(1, 4))
def test_half_precision_safetensors_load_as_float32(folder, dtype, n, d):
    t = torch.randn(n, d).to(dtype)
    result = _load(folder, ".safetensors", safetensors_bytes({"embeddings": t}))
    assert np.array_equal(result.embeddings, t.float().numpy())


CELLS = st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr), st.text(max_size=4), st.integers().map(str))


@given(
    rows=st.lists(st.lists(CELLS, min_size=1, max_size=4), min_size=0, max_size=5),
    sep=st.sampled_from([",", "\t"]),
    label_column=st.sampled_from([None, "0", "-1", "label", "x"]),
)
def test_random_tables_load_or_refuse(folder, rows, sep, label_column):
    text = "\n".join(sep.join(r) for r in rows)
    _load(folder, ".csv" if sep == "," else ".tsv", text.encode("utf-8", "surrogatepass"), label_column)


@given(
    tensors=st.text(max_size=60),
    metadata=st.one_of(st.none(), st.text(max_size=60)),
    column=st.sampled_from([None, "label", "1"]),
)
def test_random_projector_folders_load_or_refuse(folder, tensors, metadata, column):
    proj = folder / "proj"
    proj.mkdir(exist_ok=True)
    (proj / "tensors.tsv").write_bytes(tensors.encode("utf-8", "surrogatepass"))
    (proj / "metadata.tsv").unlink(missing_ok=True)
    if metadata is not None:
        (proj / "metadata.tsv").write_bytes(metadata.encode("utf-8", "surrogatepass"))
    _check_loaded(result_or_one_line_error("load-projector", load_embeddings, proj, label_column=column))


@given(data=st.binary(max_size=120), ext=st.sampled_from([".txt", ".csv", ".npy"]))
def test_random_labels_and_class_name_files_load_or_refuse(folder, data, ext):
    path = folder / f"labels{ext}"
    path.write_bytes(data)
    labels = result_or_one_line_error("labels", load_labels, path)
    assert labels is None or labels.ndim == 1
    names = result_or_one_line_error("class-names", load_class_names, path)
    assert names is None or all(isinstance(n, str) for n in names)
