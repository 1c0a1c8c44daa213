"""Reading embeddings in every format, label encoding, projector round-trips and atomic output folders."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import save_file

from latentatlas.analysis.io import load_embeddings
from latentatlas.analysis.labels import encode_labels
from latentatlas.analysis.projector import export_projector
from latentatlas.errors import DataError, LatentAtlasError
from latentatlas.outdir import output_dir


@pytest.fixture
def data(rng):
    x = rng.normal(size=(int(rng.integers(20, 60)), int(rng.integers(2, 9)))).astype(np.float32)
    y = rng.integers(0, 4, size=len(x))
    y[:4] = np.arange(4)  # every class present
    return x, y


def _codes_reference(raw):
    """Plain-loop reference: code = rank of the label among the sorted distinct labels."""
    distinct = sorted(set(raw))
    return [distinct.index(v) for v in raw], [str(v) for v in distinct]


def test_npy_round_trip_without_labels(tmp_path, data):
    x, _ = data
    np.save(tmp_path / "e.npy", x.astype(np.float64))
    got = load_embeddings(tmp_path / "e.npy")
    assert got.embeddings.dtype == np.float32 and np.array_equal(got.embeddings, x)
    assert got.labels is None and got.class_names is None and got.source.endswith("e.npy")


def test_npz_round_trip_with_labels_and_names(tmp_path, data):
    x, y = data
    names = np.array(["cat", "dog", "emu", "fox"])
    np.savez(tmp_path / "e.npz", embeddings=x, labels=y, class_names=names)
    got = load_embeddings(tmp_path / "e.npz")
    assert np.array_equal(got.embeddings, x) and np.array_equal(got.labels, y)
    assert got.labels.dtype == np.int64 and got.class_names == names.tolist()


def test_safetensors_round_trip_with_metadata_names(tmp_path, data):
    x, y = data
    meta = {"class_names": json.dumps(["a", "b", "c", "d"])}
    save_file({"embeddings": x, "labels": y.astype(np.int64)}, str(tmp_path / "e.safetensors"), metadata=meta)
    got = load_embeddings(tmp_path / "e.safetensors")
    assert np.array_equal(got.embeddings, x) and np.array_equal(got.labels, y)
    assert got.class_names == ["a", "b", "c", "d"]


def test_csv_with_header_and_string_label_column(tmp_path, data):
    x, y = data
    words = np.array(["zebra", "ant", "moth", "bee"])[y]
    lines = ["f0,species," + ",".join(f"f{j}" for j in range(1, x.shape[1]))]
    for row, w in zip(x, words, strict=True):
        lines.append(",".join([repr(float(row[0])), w] + [repr(float(v)) for v in row[1:]]))
    (tmp_path / "e.csv").write_text("\n".join(lines) + "\n")
    got = load_embeddings(tmp_path / "e.csv", label_column="species")
    codes, names = _codes_reference(words.tolist())
    assert np.array_equal(got.embeddings, x)
    assert got.labels.tolist() == codes and got.class_names == names == ["ant", "bee", "moth", "zebra"]


def test_tsv_without_header_label_column_by_index(tmp_path, data):
    x, y = data
    y = y * 10 + 3  # non-contiguous integer labels keep their values as names
    rows = ["\t".join([repr(float(v)) for v in row] + [str(lab)]) for row, lab in zip(x, y, strict=True)]
    (tmp_path / "e.tsv").write_text("\n".join(rows))
    got = load_embeddings(tmp_path / "e.tsv", label_column="-1")
    codes, names = _codes_reference(y.tolist())
    assert np.array_equal(got.embeddings, x)
    assert got.labels.tolist() == codes and got.class_names == names


@pytest.mark.parametrize("kind", ["npy", "txt", "csv"])
def test_labels_file_and_class_names_file(tmp_path, data, kind):
    x, y = data
    np.save(tmp_path / "e.npy", x)
    if kind == "npy":
        np.save(tmp_path / "l.npy", y)
    elif kind == "txt":
        (tmp_path / "l.txt").write_text("\n".join(map(str, y)) + "\n\n")
    else:
        (tmp_path / "l.csv").write_text("label\n" + "\n".join(map(str, y)))
    (tmp_path / "names.txt").write_text("w\nx\ny\nz\n")
    got = load_embeddings(
        tmp_path / "e.npy", labels_path=tmp_path / f"l.{kind}", class_names_path=tmp_path / "names.txt"
    )
    assert np.array_equal(got.labels, y) and got.class_names == ["w", "x", "y", "z"]


def test_string_labels_file_maps_to_sorted_codes(tmp_path, data):
    x, y = data
    words = [["pear", "apple", "fig", "kiwi"][v] for v in y]
    np.save(tmp_path / "e.npy", x)
    (tmp_path / "l.txt").write_text("\n".join(words))
    got = load_embeddings(tmp_path / "e.npy", labels_path=tmp_path / "l.txt")
    codes, names = _codes_reference(words)
    assert got.labels.tolist() == codes and got.class_names == names


def test_projector_round_trip_with_sprite(tmp_path, data, rng):
    x, y = data
    images = rng.integers(0, 256, size=(len(x), 6, 5, 3), dtype=np.uint8)
    names = ["one\tword", "two", "three", "four"]
    export_projector(tmp_path / "proj", x, y, names, images=images)
    got = load_embeddings(tmp_path / "proj")
    assert np.array_equal(got.embeddings, x) and np.array_equal(got.labels, y)
    assert got.class_names == ["one word", "two", "three", "four"]  # a tab would shift the metadata columns
    header = (tmp_path / "proj" / "metadata.tsv").read_text().splitlines()[0]
    assert header == "label\tclass_name"
    config = (tmp_path / "proj" / "projector_config.pbtxt").read_text()
    assert 'image_path: "sprite.png"' in config and config.count("single_image_dim") == 2
    with Image.open(tmp_path / "proj" / "sprite.png") as im:
        sprite = np.asarray(im)
    cols = math.ceil(math.sqrt(len(x)))
    assert sprite.shape == (cols * 6, cols * 5, 3)
    for i in range(len(x)):  # row-major tiles, in embedding order
        r, c = divmod(i, cols)
        assert np.array_equal(sprite[r * 6 : (r + 1) * 6, c * 5 : (c + 1) * 5], images[i])


def test_projector_single_column_metadata_has_no_header(tmp_path, data):
    x, y = data
    folder = tmp_path / "tb"
    folder.mkdir()
    np.savetxt(folder / "tensors.tsv", x, delimiter="\t", fmt="%.9g")
    words = [["red", "green", "blue", "gray"][v] for v in y]
    (folder / "metadata.tsv").write_text("\n".join(words) + "\n")
    got = load_embeddings(folder)
    codes, names = _codes_reference(words)
    assert np.array_equal(got.embeddings, x) and got.labels.tolist() == codes and got.class_names == names


def test_export_projector_refuses_non_empty_folder(tmp_path, data):
    x, y = data
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "keep.txt").write_text("mine")
    with pytest.raises(LatentAtlasError, match="not empty; choose another --out or pass --force"):
        export_projector(tmp_path / "p", x, y)
    assert [f.name for f in (tmp_path / "p").iterdir()] == ["keep.txt"]
    export_projector(tmp_path / "p", x, y, force=True)
    assert sorted(f.name for f in (tmp_path / "p").iterdir()) == [
        "metadata.tsv",
        "projector_config.pbtxt",
        "tensors.tsv",
    ]


def test_encode_labels_matches_reference_on_random_labels(rng):
    raw = rng.choice([-5, 2, 7, 40, 41], size=200)
    codes, names = encode_labels(raw, 200, None, "labels")
    ref_codes, ref_names = _codes_reference(raw.tolist())
    assert codes.tolist() == ref_codes and names == ref_names


def test_output_dir_leaves_nothing_on_error(tmp_path):
    target = tmp_path / "out"
    with pytest.raises(RuntimeError), output_dir(target) as tmp:
        (tmp / "half.json").write_text("{")
        raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def _write(path, text):
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("make", "kwargs", "match"),
    [
        (lambda p: p / "nope.npy", {}, r"nope.npy: no such file or folder; check the path"),
        (lambda p: _write(p / "e.txt", "1 2"), {}, r"unknown extension '.txt'; use .npy, .npz"),
        (lambda p: _write(p / "e.npy", ""), {}, r"e.npy: file is empty"),
        (lambda p: _write(p / "e.csv", "\n\n"), {}, r"e.csv: file is empty"),
        (lambda p: _write(p / "e.csv", "a,b\n1,x\n2,y\n"), {}, r"column 'b' is not numeric; pass --label-column b"),
        (lambda p: _write(p / "e.csv", "a,b\n1,2\n"), {"label_column": "c"}, r"no column 'c' \(columns: a, b\)"),
        (lambda p: _write(p / "e.csv", "1,2\n3\n"), {}, r"line 2 has 1 columns, expected 2"),
    ],
)
def test_bad_files_raise_one_line_data_errors(tmp_path, make, kwargs, match):
    with pytest.raises(DataError, match=match) as info:
        load_embeddings(make(tmp_path), **kwargs)
    assert "\n" not in str(info.value)


def test_nan_rows_are_counted_and_located(tmp_path, data):
    x, _ = data
    x[[7, 3, 9], 1] = [np.nan, np.inf, -np.inf]
    np.save(tmp_path / "e.npy", x)
    with pytest.raises(DataError, match=r"3 row\(s\) hold NaN or inf \(first at index 3\)"):
        load_embeddings(tmp_path / "e.npy")


def test_one_dimensional_and_three_dimensional_arrays(tmp_path):
    np.save(tmp_path / "a.npy", np.zeros(5))
    with pytest.raises(DataError, match=r"1-D array of shape \(5,\); embeddings must be \(N, D\)"):
        load_embeddings(tmp_path / "a.npy")
    np.save(tmp_path / "b.npy", np.zeros((2, 3, 4)))
    with pytest.raises(DataError, match=r"shape \(2, 3, 4\); embeddings must be \(N, D\)"):
        load_embeddings(tmp_path / "b.npy")


def test_label_problems(tmp_path, data):
    x, y = data
    np.save(tmp_path / "e.npy", x)
    np.save(tmp_path / "short.npy", y[:-1])
    with pytest.raises(DataError, match=rf"{len(x) - 1} labels for {len(x)} embeddings; give exactly one"):
        load_embeddings(tmp_path / "e.npy", labels_path=tmp_path / "short.npy")
    np.save(tmp_path / "one.npy", np.full(len(x), 3))
    with pytest.raises(DataError, match=r"every label is 3, a single class; the analysis needs >= 2 classes"):
        load_embeddings(tmp_path / "e.npy", labels_path=tmp_path / "one.npy")
    np.save(tmp_path / "l.npy", y)
    _write(tmp_path / "names.txt", "a\nb\nc\n")
    with pytest.raises(DataError, match=r"names.txt: 3 class names for 4 classes; give one name per class"):
        load_embeddings(tmp_path / "e.npy", labels_path=tmp_path / "l.npy", class_names_path=tmp_path / "names.txt")
    np.save(tmp_path / "f.npy", y + 0.5)
    with pytest.raises(DataError, match=r"labels are non-integer floats"):
        load_embeddings(tmp_path / "e.npy", labels_path=tmp_path / "f.npy")
    with pytest.raises(DataError, match=r"unknown labels extension '.json'"):
        load_embeddings(tmp_path / "e.npy", labels_path=_write(tmp_path / "l.json", "[]"))
