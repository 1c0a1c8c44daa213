"""Bad inputs of `embed`, `shapes`, `data`, `compare` and of the command line itself."""

from __future__ import annotations

import shutil

from tests.bad_inputs.harness import case, flip_byte_in_member, image_zip, png, refuse_writes

ZIP = image_zip({f"{c}/{i}.png": png((40 * i, 90, 200 if c == "a" else 20)) for c in "ab" for i in range(3)})


def _read_only(env):
    refuse_writes(env.monkeypatch, env.w / "ro")


def _copy_run(env, source: str = "metric_run"):
    shutil.copytree(getattr(env, source), env.w / "run")


def _damaged_best(env):
    _copy_run(env)
    best = env.w / "run" / "checkpoints" / "best.safetensors"
    data = bytearray(best.read_bytes())
    data[-64:] = bytes(64)
    best.write_bytes(bytes(data))


def _no_last(env):
    _copy_run(env)
    (env.w / "run" / "checkpoints" / "last.safetensors").unlink()


E = "embed {metric_run}"
EMBED = [
    case("embed-out-not-npz", f"{E} --out e.csv", "e.csv", "ending in .npz"),
    case("embed-out-is-a-folder", f"{E} --out d.npz", "d.npz", "is a folder", files={"d.npz/x": "x"}),
    case("embed-out-exists", f"{E} --out e.npz", "e.npz", "pass --force", files={"e.npz": b"mine"}),
    case(
        "embed-out-read-only",
        f"{E} --out ro/e.npz",
        "ro",
        "Permission denied",
        files={"ro/keep": "x"},
        setup=_read_only,
    ),
    case("embed-no-out", E, "--out", "required"),
    case("embed-run-missing", "embed nope --out e.npz", "'nope'", "`latentatlas train`"),
    case("embed-checkpoint-unknown", f"{E} --checkpoint middle --out e.npz", "'middle'", "'best', 'last'"),
    case(
        "embed-checkpoint-no-last",
        "embed run --checkpoint last --out e.npz",
        "last.safetensors",
        "--checkpoint best",
        setup=_no_last,
    ),
    case(
        "embed-checkpoint-damaged",
        "embed run --out e.npz",
        "best.safetensors",
        "use another checkpoint",
        setup=_damaged_best,
    ),
    case(
        "embed-checkpoint-foreign-file",
        f"{E} --checkpoint x.safetensors --out e.npz",
        "x.safetensors",
        "not a readable safetensors",
        files={"x.safetensors": b"garbage"},
    ),
    case("embed-batch-size-zero", f"{E} --batch-size 0 --out e.npz", "--batch-size 0", "--batch-size 512"),
    case("embed-batch-size-text", f"{E} --batch-size many --out e.npz", "--batch-size", "invalid int"),
    case("embed-data-missing", f"{E} --data nope.zip --out e.npz", "nope.zip", "not found"),
    case(
        "embed-data-truncated-zip",
        f"{E} --data i.zip --out e.npz",
        "i.zip",
        "not a readable zip",
        files={"i.zip": ZIP[:200]},
    ),
    case(
        "embed-data-damaged-member",
        f"{E} --data i.zip --out e.npz",
        "a/1.png",
        "is damaged",
        files={"i.zip": flip_byte_in_member(ZIP, "a/1.png")},
    ),
    case("embed-data-no-images", f"{E} --data d --out e.npz", "d", "no image files", files={"d/a/x.txt": "x"}),
    case(
        "embed-data-wrong-size",
        f"{E} --data i.zip --out e.npz",
        "i.zip",
        "resize the images to 16x16",
        files={"i.zip": ZIP},
    ),
    case(
        "embed-data-on-shapes-run",
        "embed {shapes_run} --data i.zip --out e.npz",
        "generated figures",
        "latentatlas analyze RUN_DIR",
        files={"i.zip": ZIP},
    ),
    case("embed-data-cifar-missing", f"{E} --data cifar10 --data-dir c --out e.npz", "cifar", "download"),
    case("embed-split-unknown", f"{E} --split val --out e.npz", "--split", "invalid choice"),
]

P = "shapes preview"
SHAPES = [
    case("shapes-no-subcommand", "shapes", "no subcommand given", "shapes preview"),
    case("shapes-unknown-subcommand", "shapes draw", "'draw'", "invalid choice"),
    case("preview-family", f"{P} --family cilinder --out g.png", "'cilinder'", "is not one of"),
    case("preview-n-zero", f"{P} --n 0 --out g.png", "--n: 0", "at least 1"),
    case("preview-n-text", f"{P} --n many --out g.png", "--n", "invalid int"),
    case("preview-no-out", P, "--out", "required"),
    case("preview-out-exists", f"{P} --out g.png", "g.png", "pass --force", files={"g.png": b"mine"}),
    case("preview-out-folder-force", f"{P} --out d --force", "d is a folder", "PNG file name", files={"d/x": "x"}),
    case(
        "preview-out-read-only",
        f"{P} --out ro/g.png",
        "ro",
        "Permission denied",
        files={"ro/keep": "x"},
        setup=_read_only,
    ),
    case("calibrate-family", "shapes calibrate --family prism", "'prism'", "is not one of"),
    case("calibrate-n-zero", "shapes calibrate --n 0", "--n: 0", "at least 1"),
    case(
        "calibrate-out-exists", "shapes calibrate --n 2 --out c.json", "c.json", "pass --force", files={"c.json": "{}"}
    ),
    case(
        "calibrate-out-folder",
        "shapes calibrate --n 2 --out d --force",
        "d is a folder",
        "JSON file name",
        files={"d/x": "x"},
    ),
]

DATA = [
    case("data-no-action", "data", "no action given", "data download cifar10"),
    case("data-download-unknown", "data download mnist", "'mnist'", "invalid choice"),
    case("data-info-missing", "data info nope", "'nope'", "not found"),
    case("data-info-truncated-zip", "data info i.zip", "i.zip", "not a readable zip", files={"i.zip": ZIP[:200]}),
    case(
        "data-info-damaged-member",
        "data info i.zip",
        "b/2.png",
        "Bad CRC-32",
        files={"i.zip": flip_byte_in_member(ZIP, "b/2.png")},
    ),
    case("data-info-no-images", "data info d", "d", "no image files", files={"d/a/notes.txt": "x"}),
    case(
        "data-info-stray-image",
        "data info d",
        "x.png",
        "move it into one",
        files={"d/x.png": png((1, 2, 3)), "d/a/y.png": png((1, 2, 3))},
    ),
    case(
        "data-info-empty-class",
        "data info i.zip",
        "empty",
        "add images or remove it",
        files={"i.zip": image_zip({"a/1.png": png((1, 1, 1)), "empty/": b""})},
    ),
    case(
        "data-info-corrupt-image",
        "data info d",
        "a/bad.png",
        "remove or replace",
        files={"d/a/bad.png": b"\x89PNG not really", "d/b/ok.png": png((9, 9, 9))},
    ),
    case(
        "data-info-mixed-sizes",
        "data info d",
        "different sizes",
        "resize",
        files={"d/a/1.png": png((1, 1, 1), 8), "d/b/2.png": png((2, 2, 2), 12)},
    ),
    case("data-info-text-file", "data info notes.txt", "notes.txt", "not a dataset", files={"notes.txt": "x"}),
    case("data-info-cifar-missing", "data info cifar10 --data-dir c", "cifar", "download"),
]

C = "compare {shapes_run}"
COMPARE = [
    case("compare-one-run", C, "at least two run directories", "RUN_A RUN_B"),
    case("compare-missing", f"{C} nope", "nope", "not a directory"),
    case("compare-unfinished", f"{C} d", "d", "no summary.json", files={"d/metrics.jsonl": ""}),
    case("compare-summary-not-json", f"{C} d", "summary.json", "not valid JSON", files={"d/summary.json": "{x"}),
    case(
        "compare-summary-latin1",
        f"{C} d",
        "summary.json",
        "not UTF-8",
        files={"d/summary.json": '{"a": "caf\xe9"}'.encode("latin-1")},
    ),
    case("compare-summary-list", f"{C} d", "summary.json", "JSON object", files={"d/summary.json": "[1]"}),
    case(
        "compare-config-not-yaml",
        f"{C} d",
        "config.yaml",
        "not valid YAML",
        files={"d/summary.json": "{}", "d/config.yaml": "a: [1\n"},
    ),
    case("compare-metrics-misspelt", f"{C} {{shapes_run}} --metrics val_los", "val_los", "did you mean val_loss?"),
    case("compare-out-not-empty", f"{C} {{shapes_run}} --out o", "o", "pass --force", files={"o/keep": "x"}),
    case(
        "compare-out-read-only",
        f"{C} {{shapes_run}} --out ro/c",
        "ro/c",
        "Permission denied",
        files={"ro/keep": "x"},
        setup=_read_only,
    ),
    case("compare-sweep-not-json", "compare sw", "sweep.json", "not valid JSON", files={"sw/sweep.json": "{"}),
]

TOP = [
    case("no-command", "", "no command given", "latentatlas --help"),
    case("unknown-command", "trian", "'trian'", "invalid choice"),
    case("unknown-global-option", "--colour analyze e.npz --out o", "--colour", "see --help", files={"e.npz": b"x"}),
]

CASES = EMBED + SHAPES + DATA + COMPARE + TOP
