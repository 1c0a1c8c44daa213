"""Bad inputs of `latentatlas sweep`: grid items, seeds, folds, sweep folders and damaged sweep.json records."""

from __future__ import annotations

import json

from tests.bad_inputs.harness import case, refuse_writes

S = "sweep shapes-vae"
RECORD = {
    "format": 1,
    "config_path": "c.yaml",
    "base_config": {"name": "c"},
    "grid": {"loss.beta": [1, 2]},
    "seeds": [0],
    "folds": None,
    "overrides": [],
    "runs": [],
}


def _record(**changes) -> str:
    return json.dumps({**RECORD, **changes})


def _read_only(env):
    refuse_writes(env.monkeypatch, env.w / "ro")


def _sweep_with_other_grid(env):
    from latentatlas.sweep import plan_sweep

    out = env.w / "sw"
    out.mkdir()
    plan = plan_sweep("c.yaml", {"loss.beta": [1, 2]})
    (out / "sweep.json").write_text(json.dumps({**plan.record(), "runs": []}))


CASES = [
    case("sweep-no-config", "sweep --grid loss.beta=1,2", "no config given", "--grid loss.beta=1,2"),
    case("sweep-grid-no-equals", f"{S} --grid loss.beta", "'loss.beta'", "KEY=V1,V2"),
    case("sweep-grid-no-values", f"{S} --grid loss.beta=", "'loss.beta='", "loss.beta=0.5,1,2"),
    case("sweep-grid-no-key", f"{S} --grid =1,2", "'=1,2'", "KEY=V1,V2"),
    case("sweep-grid-bad-yaml", [*S.split(), "--grid", "model.widths=[4, 8"], "model.widths", "quote or bracket"),
    case("sweep-grid-twice", f"{S} --grid loss.beta=1,2 loss.beta=3,4", "loss.beta", "given twice"),
    case("sweep-grid-unknown-key", f"{S} --grid loss.betta=1,2", "'loss.betta'", "known keys"),
    case("sweep-grid-reserved", f"{S} --grid seed=1,2", "'seed'", "--seeds"),
    case("sweep-grid-bad-value", f"{S} --grid loss.beta=-1,1", "loss.beta", "must be >= 0"),
    case("sweep-grid-nan", f"{S} --grid loss.beta=.nan,1", "loss.beta", "finite"),
    case("sweep-grid-repeated", f"{S} --grid loss.beta=1,1", "loss.beta", "list each value once"),
    case("sweep-grid-and-fixed", f"{S} --grid loss.beta=1,2 loss.beta=3", "loss.beta", "given twice"),
    case("sweep-seeds-text", f"{S} --grid loss.beta=1,2 --seeds three", "--seeds 'three'", "such as 3"),
    case("sweep-seeds-zero", f"{S} --grid loss.beta=1,2 --seeds 0", "seeds: 0", "1 or more"),
    case("sweep-seeds-repeated", f"{S} --grid loss.beta=1,2 --seeds 1,1", "seeds", "distinct integers"),
    case("sweep-folds-shapes", f"{S} --grid loss.beta=1,2 --folds 3", "folds", "drop --folds"),
    case("sweep-fixed-unknown", f"{S} --grid loss.beta=1,2 train.epoch=3", "'train.epoch'", "known keys"),
    case("sweep-out-is-a-file", f"{S} --grid loss.beta=1,2 --out f", "f", "use another --out", files={"f": "x"}),
    case(
        "sweep-out-read-only",
        f"{S} --grid loss.beta=1,2 --out ro/sw",
        "ro/sw",
        "Permission denied",
        files={"ro/keep.txt": "mine"},
        setup=_read_only,
    ),
    case(
        "sweep-out-foreign",
        f"{S} --grid loss.beta=1,2 --out d",
        "d",
        "holds no sweep.json",
        files={"d/keep.txt": "mine"},
    ),
    case(
        "sweep-out-other-grid",
        "sweep c.yaml --grid loss.beta=1,2,3 --out sw --dry-run",
        "sw",
        "use another --out",
        files={"c.yaml": "name: c\n"},
        setup=_sweep_with_other_grid,
    ),
    case("sweep-resume-with-args", "sweep --resume sw --seeds 3", "--resume", "drop the other arguments"),
    case("sweep-resume-no-record", "sweep --resume sw", "no sweep.json", "--out of a sweep", files={"sw/x": "x"}),
    case(
        "sweep-resume-not-json", "sweep --resume sw", "sweep.json", "not valid JSON", files={"sw/sweep.json": "{half"}
    ),
    case(
        "sweep-resume-latin1",
        "sweep --resume sw",
        "sweep.json",
        "not valid JSON",
        files={"sw/sweep.json": '{"config_path": "caf\xe9"}'.encode("latin-1")},
    ),
    case(
        "sweep-resume-not-object",
        "sweep --resume sw",
        "sweep.json",
        "expected a JSON object",
        files={"sw/sweep.json": "[1, 2]"},
    ),
    case(
        "sweep-resume-grid-type",
        "sweep --resume sw",
        "'grid'",
        "restore the file",
        files={"sw/sweep.json": _record(grid=["loss.beta"])},
    ),
    case(
        "sweep-resume-grid-values",
        "sweep --resume sw",
        "'grid'",
        "restore the file",
        files={"sw/sweep.json": _record(grid={"loss.beta": 2})},
    ),
    case(
        "sweep-resume-runs-type",
        "sweep --resume sw",
        "'runs'",
        "restore the file",
        files={"sw/sweep.json": _record(runs=["a"])},
    ),
    case(
        "sweep-resume-seeds-type",
        "sweep --resume sw",
        "'seeds'",
        "restore the file",
        files={"sw/sweep.json": _record(seeds="0")},
    ),
    case(
        "sweep-resume-folds-type",
        "sweep --resume sw",
        "'folds'",
        "restore the file",
        files={"sw/sweep.json": _record(folds="3")},
    ),
    case(
        "sweep-resume-missing-field",
        "sweep --resume sw",
        "sweep.json",
        "rerun the sweep",
        files={"sw/sweep.json": json.dumps({k: v for k, v in RECORD.items() if k != "base_config"})},
    ),
    case(
        "sweep-resume-bad-base-config",
        "sweep --resume sw",
        "train.epochs",
        "must be >= 1",
        files={"sw/sweep.json": _record(base_config={"train": {"epochs": 0}})},
    ),
]
