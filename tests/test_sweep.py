"""`latentatlas sweep`: the plan is the grid x seeds x folds product, resume rules, refusals, failures, the report."""

from __future__ import annotations

import json
import re
from itertools import product
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image

from latentatlas.cli.main import main
from latentatlas.cli.sweep import parse_grid
from latentatlas.errors import ConfigError, LatentAtlasError
from latentatlas.sweep import load_sweep_plan, plan_sweep, run_sweep, summarize_sweep, write_sweep_report
from latentatlas.sweep import run as sweep_mod

TINY = ["data.n_train=16", "data.n_val=8", "model.widths=[4, 8, 8]", "train.epochs=1", "train.batch_size=8",
        "train.progress=false", "analysis.grid_n=2", "analysis.n_samples=4", "analysis.n_morphs=1",
        "analysis.morph_steps=2", "analysis.disentanglement=false"]  # fmt: skip


def _config(tmp_path: Path, name: str = "base", **data) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump({"name": name, "seed": 5, "model": {"kind": "vae"}, **data}))
    return path


class FakeTrain:
    """Stands in for `train`: writes a summary.json of random numbers (kept per run) or raises for `fail` runs."""

    def __init__(self, rng: np.random.Generator, fail: tuple[str, ...] = (), figure: bool = False):
        self.rng, self.fail, self.figure = rng, fail, figure
        self.calls: list[tuple[object, Path | None, Path | None]] = []
        self.values: dict[str, dict[str, float]] = {}

    def __call__(self, config, runs_root="runs", run_dir=None, resume=None, progress=None):
        self.calls.append((config, run_dir, resume))
        d = Path(resume if resume is not None else run_dir)
        if resume is None:  # like new_run_dir: a new run needs a missing or empty folder
            assert not d.exists() or {p.name for p in d.iterdir()} <= {".lock"}, f"{d} not cleaned before a new run"
            d.mkdir(parents=True, exist_ok=True)
        if d.name in self.fail:
            raise LatentAtlasError(f"loss became nan in {d.name}; lower train.lr")
        values = {"val_loss": float(self.rng.normal()), "pair_auc": float(self.rng.random())}
        self.values[d.name] = values
        summary = {"run": d.name, "epochs_trained": 1, **values, "kind": "fake", "nested": {"x": values["pair_auc"]}}
        (d / "summary.json").write_text(json.dumps(summary))
        if self.figure:
            (d / "analysis" / "figures").mkdir(parents=True)
            Image.fromarray(self.rng.integers(0, 255, (8, 8, 3), dtype=np.uint8)).save(
                d / "analysis" / "figures" / "pca_ellipses.png"
            )


@pytest.fixture
def fake(monkeypatch, rng):
    f = FakeTrain(rng)
    monkeypatch.setattr(sweep_mod, "train", f)
    return f


def test_plan_is_the_grid_times_seeds_product_with_matching_configs(tmp_path):
    grid = {"train.lr": [0.01, 0.001], "loss.beta": [0.5, 1, 2]}
    plan = plan_sweep(_config(tmp_path), grid, seeds=2, overrides=["train.epochs=3"])
    expected = []
    for seed in (5, 6):  # the config's seed + 0, 1; seeds vary slowest, keys sorted by name
        for beta in (0.5, 1, 2):
            for lr in (0.01, 0.001):
                expected.append((beta, lr, seed))
    assert [(r.config.loss.beta, r.config.train.lr, r.config.seed) for r in plan] == expected
    assert [(r.params["loss.beta"], r.params["train.lr"], r.params["seed"]) for r in plan] == expected
    assert all(r.config.train.epochs == 3 and r.config.model.kind == "vae" for r in plan)
    assert plan[0].name == "loss.beta=0.5,train.lr=0.01,seed=5"
    assert plan[0].overrides == ["loss.beta=0.5", "train.lr=0.01", "seed=5"]
    assert len({r.name for r in plan}) == len(plan) == 12
    assert plan.seeds == [5, 6] and plan.overrides == ["train.epochs=3"]


def test_explicit_seeds_folds_and_filesystem_safe_names(tmp_path):
    images = _config(tmp_path, "img", data={"kind": "images"}, model={"kind": "cnn"})
    plan = plan_sweep(images, {"model.widths": [[4, 8], [8, 16]]}, seeds=[0, 9], folds=3)
    got = [(r.config.seed, r.config.data.images.folds, r.config.data.images.fold, r.config.model.widths) for r in plan]
    assert got == [(s, 3, f, w) for s, f, w in product([0, 9], range(3), [[4, 8], [8, 16]])]
    assert plan[0].name == "model.widths=4-8,seed=0,fold=0"
    assert all(re.fullmatch(r"[A-Za-z0-9_.,=+-]+", r.name) for r in plan)
    plan = plan_sweep(images, {"data.images.path": ["a/b", "a b", "../x"]})
    assert len({r.name for r in plan}) == 3 and all("/" not in r.name and " " not in r.name for r in plan)
    with pytest.raises(ConfigError, match="needs data.kind=images"):
        plan_sweep(_config(tmp_path), {"loss.beta": [1, 2]}, folds=5)


@pytest.mark.parametrize(
    ("grid", "overrides", "seeds", "match"),
    [
        ({"loss.betta": [1, 2]}, [], 1, "unknown key 'loss.betta'"),
        ({"seed": [1, 2]}, [], 1, "use --seeds"),
        ({"loss.beta": [1, 2]}, ["loss.beta=3"], 1, "both swept"),
        ({"loss.beta": []}, [], 1, "non-empty list"),
        ({"loss.beta": [1, 1]}, [], 1, "repeated value"),
        ({"loss.beta": [1, -1]}, [], 1, r"sweep run loss.beta=-1,seed=5: loss.beta: must be >= 0"),
        ({"loss.beta": [1, 2]}, [], 0, "use 1 or more"),
    ],
)
def test_bad_plans_raise_config_errors(tmp_path, grid, overrides, seeds, match):
    with pytest.raises(ConfigError, match=match):
        plan_sweep(_config(tmp_path), grid, seeds=seeds, overrides=overrides)


def test_run_writes_sweep_json_and_every_run(tmp_path, fake, caplog):
    plan = plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1]}, seeds=2)
    caplog.set_level("INFO", logger="latentatlas")
    outcome = run_sweep(plan, tmp_path / "sw")
    assert [Path(c[1]).name for c in fake.calls] == [r.name for r in plan]
    assert all(c[0] is r.config and c[2] is None for c, r in zip(fake.calls, plan))
    record = json.loads((tmp_path / "sw" / "sweep.json").read_text())
    assert record["grid"] == {"loss.beta": [0.5, 1]} and record["seeds"] == [5, 6] and record["folds"] is None
    assert record["base_config"]["name"] == "base" and record["config_path"].endswith("base.yaml")
    assert [(r["name"], r["status"]) for r in record["runs"]] == [(r.name, "done") for r in plan]
    assert outcome.failed == []
    assert f"[3/4] {plan[2].name}" in caplog.text


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_resume_skips_finished_resumes_half_done_and_cleans_empty(tmp_path, fake, monkeypatch):
    plan = plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1, 2]})
    out = tmp_path / "sw"
    runs = out / "runs"
    with monkeypatch.context() as m:  # Ctrl-C during the first run
        m.setattr(sweep_mod, "train", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            run_sweep(plan, out)
    status = [r["status"] for r in json.loads((out / "sweep.json").read_text())["runs"]]
    assert status == ["interrupted", "pending", "pending"]
    (runs / plan[0].name).mkdir(exist_ok=True)  # claimed (created) when it was interrupted
    (runs / plan[0].name / "summary.json").write_text('{"val_loss": 1.0}')
    (runs / plan[1].name / "checkpoints").mkdir(parents=True)
    (runs / plan[1].name / "checkpoints" / "last.safetensors").write_bytes(b"x")
    (runs / plan[2].name).mkdir()
    (runs / plan[2].name / "metrics.jsonl").write_text("")  # killed before its first checkpoint
    run_sweep(plan, out)
    assert fake.calls == [(None, None, runs / plan[1].name), (plan[2].config, runs / plan[2].name, None)]
    assert not (runs / plan[2].name / "metrics.jsonl").exists()
    fake.calls.clear()
    run_sweep(load_sweep_plan(out), out)  # everything finished: nothing is trained again
    assert fake.calls == []
    run_sweep(plan_sweep(_config(tmp_path), {"loss.beta": [2, 1, 0.5]}, seeds=2), out)  # more seeds: only new runs
    assert [c[0].seed for c in fake.calls] == [6, 6, 6]


def test_another_config_on_an_existing_sweep_is_refused_and_untouched(tmp_path, fake):
    out = tmp_path / "sw"
    run_sweep(plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1]}), out)
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    fake.calls.clear()
    for grid, overrides in [({"loss.beta": [0.5, 2]}, []), ({"loss.beta": [0.5, 1]}, ["train.epochs=2"])]:
        plan = plan_sweep(_config(tmp_path), grid, overrides=overrides)
        with pytest.raises(
            LatentAtlasError, match=r"sweep directory .*sw was made for config .*base.yaml.*another --out"
        ):
            run_sweep(plan, out)
    assert fake.calls == [] and {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(LatentAtlasError, match="holds no sweep.json"):
        run_sweep(plan, tmp_path / "other")
    (tmp_path / "other" / "runs").mkdir()  # a non-empty runs/ or other files beside it: still not a sweep's start
    (tmp_path / "other" / "notes.txt").unlink()
    (tmp_path / "other" / "runs" / "x").write_text("mine")
    with pytest.raises(LatentAtlasError, match="holds no sweep.json"):
        run_sweep(plan, tmp_path / "other")
    assert (tmp_path / "other" / "runs" / "x").read_text() == "mine"


def test_a_worker_starting_beside_us_is_not_taken_for_foreign_files(tmp_path, fake):
    # What another worker makes before its first sweep.json: the lock file and an empty runs/ (a race that made
    # the second of two workers started together refuse the folder).
    out = tmp_path / "sw"
    (out / "runs").mkdir(parents=True)
    (out / ".sweep.lock").touch()
    outcome = run_sweep(plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1]}), out)
    assert [r["status"] for r in outcome.runs] == ["done", "done"] and len(fake.calls) == 2


def test_a_failing_run_is_recorded_and_the_others_still_run(tmp_path, monkeypatch, rng, capsys):
    plan = plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1, 2]})
    fake = FakeTrain(rng, fail=(plan[1].name,))
    monkeypatch.setattr(sweep_mod, "train", fake)
    outcome = run_sweep(plan, tmp_path / "sw")
    assert len(fake.calls) == 3 and outcome.failed == [plan[1].name]
    runs = json.loads((tmp_path / "sw" / "sweep.json").read_text())["runs"]
    assert [r["status"] for r in runs] == ["done", "failed", "done"]
    assert runs[1]["error"] == f"LatentAtlasError: loss became nan in {plan[1].name}; lower train.lr"
    summary = summarize_sweep(tmp_path / "sw")
    assert summary["counts"] == {"planned": 3, "done": 2, "failed": 1, "pending": 0}
    args = ["sweep", str(_config(tmp_path)), "--grid", "loss.beta=0.5,1,2", "--out", str(tmp_path / "cli")]
    assert main(args) == 1
    assert "1 of 3 runs failed" in capsys.readouterr().out


def test_summary_mean_and_std_equal_numpy_per_group(tmp_path, fake):
    plan = plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1], "train.lr": [0.01, 0.1]}, seeds=3)
    run_sweep(plan, tmp_path / "sw")
    summary = summarize_sweep(tmp_path / "sw")
    assert summary["swept"] == ["loss.beta", "train.lr"] and len(summary["groups"]) == 4
    for group in summary["groups"]:
        members = [r.name for r in plan if all(r.params[k] == v for k, v in group["group"].items())]
        assert sorted(group["runs"]) == sorted(members) and group["n"] == 3
        for key in ("val_loss", "pair_auc"):
            values = np.array([fake.values[name][key] for name in members])
            assert group["mean"][key] == pytest.approx(values.mean(), rel=1e-12)
            assert group["std"][key] == pytest.approx(values.std(ddof=1), rel=1e-12)
        assert group["mean"]["nested.x"] == pytest.approx(group["mean"]["pair_auc"], rel=1e-12)
    assert "kind" not in summary["metrics"] and "seed" not in summary["metrics"]


def test_report_embeds_every_figure_as_a_data_uri(tmp_path, monkeypatch, rng):
    monkeypatch.setattr(sweep_mod, "train", FakeTrain(rng, figure=True))
    run_sweep(plan_sweep(_config(tmp_path), {"loss.beta": [0, 0.01, 1], "model.latent_dim": [2, 3]}, 2), tmp_path / "s")
    report = write_sweep_report(tmp_path / "s")
    text = report.read_text()
    sources = re.findall(r"<img src=\"([^\"]*)\"", text)
    assert len(sources) == 3  # one plot per swept field + the ellipse maps
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r"(src|href)=\"(?!data:)", text)
    assert json.loads((report.parent / "compare.json").read_text())["counts"]["done"] == 12
    with pytest.raises(LatentAtlasError, match="exists and is not empty"):
        write_sweep_report(tmp_path / "s")
    with pytest.raises(LatentAtlasError, match="holds the sweep"):
        write_sweep_report(tmp_path / "s", tmp_path, force=True)


def test_parse_grid_values_and_single_values_become_overrides():
    grid, fixed = parse_grid(["loss.koleo.weight=0,0.001,1e-3", "model.widths=[4,8],[8,16]", "train.epochs=7"])
    assert grid == {"loss.koleo.weight": [0, 0.001, 0.001], "model.widths": [[4, 8], [8, 16]]}
    assert fixed == ["train.epochs=7"]
    with pytest.raises(ConfigError, match="is not KEY=V1,V2"):
        parse_grid(["loss.beta"])


def test_cli_exit_codes_dry_run_and_nothing_created_on_errors(tmp_path, fake, capsys):
    cfg = str(_config(tmp_path))
    out = tmp_path / "sw"
    assert main(["sweep", cfg, "--grid", "loss.betta=1,2", "--out", str(out)]) == 2
    assert "unknown key 'loss.betta'" in capsys.readouterr().err and not out.exists()
    assert main(["sweep", cfg, "--grid", "loss.beta=1,2", "--folds", "3", "--out", str(out)]) == 2
    assert main(["sweep", "--grid", "loss.beta=1,2", "--seeds", "2", "--out", str(out), "--dry-run", cfg]) == 0
    text = capsys.readouterr().out
    assert "4 runs" in text and "[4/4] loss.beta=2,seed=6  ->  run" in text and not out.exists()
    assert main(["sweep", cfg, "--grid", "loss.beta=1,2", "train.epochs=2", "--out", str(out)]) == 0
    assert len(fake.calls) == 2 and all(c[0].train.epochs == 2 for c in fake.calls)
    assert (out / "report" / "report.html").is_file()
    assert main(["sweep", "--resume", str(out)]) == 0 and len(fake.calls) == 2
    assert main(["sweep", cfg, "--grid", "loss.beta=1,3", "--out", str(out)]) == 2
    assert "was made for config" in capsys.readouterr().err


@pytest.mark.slow
def test_real_tiny_sweep_end_to_end(tmp_path):
    # one real run (its figures take seconds on a busy machine); the fake covers the many-run logic above
    plan = plan_sweep("configs/shapes-ae.yaml", {"train.lr": [0.002]}, seeds=1, overrides=TINY)
    outcome = run_sweep(plan, tmp_path / "sw", progress=False)
    assert outcome.failed == [] and len(plan) == 1
    run_dir = tmp_path / "sw" / "runs" / plan[0].name
    summary = json.loads((run_dir / "summary.json").read_text())
    assert yaml.safe_load((run_dir / "config.yaml").read_text())["train"]["lr"] == 0.002
    (group,) = summarize_sweep(tmp_path / "sw")["groups"]
    assert group["runs"] == [plan[0].name] and group["std"]["val_loss"] is None
    assert group["mean"]["val_loss"] == summary["val_loss"]
    report = write_sweep_report(tmp_path / "sw").read_text()
    assert report.count('<img src="data:image/png;base64,') == 2  # latent scatter and grid maps of the run


def test_markdown_table_cells_are_the_numpy_mean_and_std_of_each_combination(tmp_path, fake, capsys):
    plan = plan_sweep(_config(tmp_path), {"loss.beta": [0.5, 1], "train.lr": [0.01, 0.1]}, seeds=3)
    run_sweep(plan, tmp_path / "sw")
    assert main(["compare", str(tmp_path / "sw"), "--metrics", "pair_auc,val_loss", "--out", str(tmp_path / "r")]) == 0
    printed = capsys.readouterr().out
    lines = (tmp_path / "r" / "table.md").read_text().splitlines()
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    assert cells[0][0] == "loss.beta" and cells[2][0] == "train.lr" and cells[3][0] == "n (runs)"
    assert [row[0] for row in cells[4:]] == ["pair_auc", "val_loss"]  # the --metrics order, nothing else
    for col in range(1, 5):
        beta, lr = float(cells[0][col]), float(cells[2][col])
        members = [r.name for r in plan if (r.params["loss.beta"], r.params["train.lr"]) == (beta, lr)]
        assert len(members) == 3 and cells[3][col] == "3"
        for row in cells[4:]:
            values = np.array([fake.values[name][row[0]] for name in members])
            mean, std = (float(x) for x in row[col].split(" ± "))
            assert mean == pytest.approx(values.mean(), rel=1e-3, abs=1e-4)
            assert std == pytest.approx(values.std(ddof=1), rel=0.05)
            assert row[col] in printed  # the terminal shows the same cells
    assert main(["compare", str(tmp_path / "sw"), "--metrics", "pair_auc,precision", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--metrics: precision not in these summaries" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
