"""The quantity registry: every key that real tiny runs write is registered, named in words and formatted alike."""

import json

import numpy as np
import pytest
import yaml
from PIL import Image

import latentatlas
from latentatlas.config import Config, config_from_dict
from latentatlas.report.quantities import (
    DASH,
    Registry,
    UnknownQuantity,
    better,
    describe,
    display_name,
    format_value,
    group_keys,
    is_config_key,
    registry,
    require,
)
from latentatlas.report.runs import flatten
from latentatlas.tasks.pipeline import train

SHAPES = [
    "data.n_train=24",
    "data.n_val=12",
    "model.widths=[4, 8, 8]",
    "train.batch_size=8",
    "train.epochs=2",
    "train.progress=false",
    "analysis.grid_n=3",
    "analysis.n_samples=8",
    "analysis.n_morphs=1",
    "analysis.morph_steps=3",
    "analysis.score_figures=200",
    "analysis.factor_vae_points=20",
    "analysis.beta_vae_points=20",
]


def image_folder(root):
    rng = np.random.default_rng(0)
    for c, name in enumerate(["red", "green", "blue", "gray"]):
        (root / name).mkdir(parents=True)
        for i in range(16):
            base = np.full(3, 60.0)
            base[c % 3] += 120 if c < 3 else 0
            img = (base + rng.normal(0, 40, (16, 16, 3))).clip(0, 255).astype(np.uint8)
            Image.fromarray(img).save(root / name / f"{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def written_keys(tmp_path_factory):
    """Every key of summary.json, metrics.jsonl and analysis.json written by tiny runs of each kind, and `analyze`."""
    root = tmp_path_factory.mktemp("runs")
    metric = [
        "data.kind=images",
        f"data.images.path={image_folder(root / 'imgs')}",
        "data.images.val_triplets=12",
        "data.images.split=[0.5, 0.25, 0.25]",
        "data.images.triplets=seed",
        "loss.mining=none",
        "train.batch_size=8",
        "model.kind=cnn",
        "model.embedding_dim=8",
        "model.cnn_widths=[8, 16]",
        "model.cnn_stem=8",
        "model.norm=group",
        "loss.koleo.weight=0.1",
        "train.epochs=2",
        "train.progress=false",
        "train.best_metric=val_precision_at_1",
        "train.best_mode=max",
    ]
    plans = {
        "ae": [*SHAPES, "model.kind=ae"],
        "families": [*SHAPES, "data.shapes.family=[cylinder, capsule, sphere]", "model.latent_dim=3"],
        "metric": metric,
    }
    keys: dict[str, str] = {}
    for name, overrides in plans.items():
        run = train(config_from_dict({"name": name}, overrides), runs_root=root / "out").run_dir
        files = [run / "summary.json", *(run / "analysis").glob("analysis.json")]
        for path in files:
            keys.update(dict.fromkeys(flatten(json.loads(path.read_text())), f"{name}: {path.name}"))
        for line in (run / "metrics.jsonl").read_text().splitlines():
            keys.update(dict.fromkeys(flatten(json.loads(line)), f"{name}: metrics.jsonl"))
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(40, 5)), np.repeat([0, 1, 2, 3], 10)
    triplets = np.array([[0, 1, 10], [11, 12, 20], [21, 22, 30]])
    factors = {"kind": y, "size": rng.random(40)}  # the disentanglement section of analysis.json too
    latentatlas.analyze(x, y, class_names=list("abcd"), triplets=triplets, factors=factors).save(root / "analyze")
    keys.update(dict.fromkeys(flatten(json.loads((root / "analyze" / "analysis.json").read_text())), "analyze"))
    sampled = latentatlas.analyze(x, y, metric="euclidean", triplets=triplets, queries=20, euclidean_sample=20)
    sampled.save(root / "sampled")  # the estimate's keys and intervals
    keys.update(dict.fromkeys(flatten(json.loads((root / "sampled" / "analysis.json").read_text())), "--queries"))
    return keys


def test_every_key_written_by_a_run_or_analyze_is_registered(written_keys):
    missing = {k: where for k, where in written_keys.items() if describe(k) is None}
    assert not missing, f"register these in latentatlas/report/quantities.yaml: {missing}"
    expected = (
        "best_val_precision_at_1",
        "train_koleo",
        "triplet_leak_images",
        "kl_per_dim[0]",
        "family_morph_validity",
        "retrieval.recall_at_5",
        "pairs.pair_auc",
        "spread.koleo",
        "retrieval.precision_at_1_ci[1]",
        "retrieval.estimate",
        "distances.sampled",
    )
    assert set(expected) <= set(written_keys)  # the runs did exercise each kind of key


def test_no_registered_name_is_snake_case_and_every_entry_is_complete(written_keys):
    for key in written_keys:
        q = require(key)
        assert "_" not in q.title and "_" not in q.meaning.split(" Source")[0].replace("grid_n", ""), key
        assert q.better in ("higher", "lower", "none") and q.group in registry().groups and q.meaning.endswith(".")


def test_names_of_families_prefixes_and_sections():
    assert display_name("test_precision_at_1") == "Test precision@1"
    assert display_name("best_val_pair_auc") == "Best validation pair AUC"
    assert display_name("latent_variance[1]") == "Variance of z2"
    assert display_name("kl_per_dim[0]") == "KL of z1"
    assert display_name("retrieval.recall_at_10") == "Recall@10"
    assert "10 nearest" in describe("recall_at_10").meaning
    assert display_name("distances.matrix[2][0]") == "Mean distance, class 3 to class 1"
    assert display_name("retrieval.mean_average_precision_at_r") == display_name("map_at_r") == "MAP@R"
    assert display_name("val_recon_validity") == "Reconstruction validity"  # an exact key wins over val_ + ...
    assert display_name("knn_accuracy") == "k-NN accuracy"  # a word with capitals keeps its case
    assert describe("train_time_s").kind == "seconds" and describe("train_triplet").group == "losses"
    assert better("test_koleo") == "lower" and better("best_val_pair_auc") == "higher" and better("lr") == "none"
    assert describe("test_margin").meaning.endswith("On the held-out test split, with the best checkpoint.")


def test_unknown_and_config_keys():
    assert describe("no_such_thing") is None and better("no_such_thing") == "none"
    assert display_name("no_such_thing") == "No such thing"
    with pytest.raises(UnknownQuantity, match="'no_such_thing' is not in latentatlas/report/quantities.yaml"):
        require("no_such_thing")
    for key in [*flatten(Config().to_dict()), "seed", "fold", "loss.koleo.weight"]:
        assert is_config_key(key) and describe(key) is None, key
        assert display_name(key) == key  # shown as code, as it is written
    assert not any(is_config_key(k) for k in registry().exact)


def test_format_value():
    assert format_value("kl_total", None) == DASH == format_value("test_koleo", float("nan"))
    assert format_value("test_precision_at_1", 0.75432) == "0.754"
    assert format_value("train_time_s", 12.34) == "12.3 s"
    assert format_value("train_time_s", 156) == "2 min 36 s"
    assert format_value("train_time_s", 3900) == "1 h 05 min"
    assert format_value("n_test", 6000) == "6,000"
    assert format_value("test_koleo", 2.07123) == "2.071"
    assert format_value("test_ellipse_mean_area", 0.000123) == "0.000123"
    assert format_value("variational", True) == "yes"
    assert format_value("latent_variance", [0.5, 0.25]) == "0.5000, 0.2500"  # a column reads alike
    assert format_value("loss.koleo.weight", 0.1) == "0.1" and format_value("model.kind", "vae") == "vae"
    assert format_value("grid_kind", "prior quantiles") == "prior quantiles"


def test_group_keys_follow_the_registry_order():
    keys = ["train_loss", "loss.beta", "test_koleo", "grid_validity", "mystery", "test_precision_at_1"]
    assert group_keys(keys) == [
        ("quality", ["test_precision_at_1"]),
        ("validity", ["grid_validity"]),
        ("geometry", ["test_koleo"]),
        ("losses", ["train_loss"]),
        ("config", ["loss.beta"]),
        ("other", ["mystery"]),
    ]


def test_a_bad_registry_entry_is_refused():
    data = yaml.safe_load("groups: [quality]\nquantities:\n  x: {name: x, meaning: m., better: up, group: quality}")
    with pytest.raises(ValueError, match="x.better is 'up'"):
        Registry(data)
    data["quantities"]["x"].update(better="higher", group="nowhere")
    with pytest.raises(ValueError, match="x.group is 'nowhere'"):
        Registry(data)
