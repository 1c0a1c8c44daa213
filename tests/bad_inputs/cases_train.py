"""Bad inputs of `latentatlas train` (new runs and --resume) and `latentatlas demo`: configs, every range check of
the values an optimizer, loss or loop would reject or misuse, run folders, locks, unwritable locations."""

from __future__ import annotations

import errno
import os
import shutil

from tests.bad_inputs.harness import case, refuse_writes

T = "train shapes-vae"
IMG = "data.kind=images model.kind=cnn"


VALUES = [  # key, value, what the line must also say
    ("train.lr", ".nan", "finite"),
    ("train.lr", ".inf", "finite"),
    ("train.lr", "0", "must be > 0"),
    ("train.lr", "-0.001", "must be > 0"),
    ("train.lr", "fast", "expected a number"),
    ("train.weight_decay", "-1", "must be >= 0"),
    ("train.weight_decay", ".nan", "finite"),
    ("train.grad_clip", "-1", "must be > 0"),
    ("train.grad_clip", "0", "or null"),
    ("train.grad_clip", ".nan", "finite"),
    ("train.batch_size", "1", "no optimizer step"),
    ("train.batch_size", "0", "must be >= 1"),
    ("train.batch_size", "2.5", "expected an integer"),
    ("train.epochs", "0", "must be >= 1"),
    ("train.epochs", "-3", "must be >= 1"),
    ("train.accumulation", "0", "micro-batches"),
    ("train.threads", "-1", "0 = all cores"),
    ("train.max_minutes", "0", "> 0 or null"),
    ("train.max_minutes", ".nan", "finite"),
    ("train.best_metric", "val_los", "use one of val_loss"),
    ("train.best_mode", "up", "use one of min, max"),
    ("train.optimizer", "adagrad", "use one of adam"),
    ("train.schedule", "step", "use one of constant"),
    ("train.diverge_factor", "1", "must be > 1"),
    ("train.diverge_factor", ".nan", "finite"),
    ("train.progress", "maybe", "true or false"),
    ("loss.beta", ".nan", "finite"),
    ("loss.beta", "-1", "must be >= 0"),
    ("loss.margin", "-0.1", "must be >= 0"),
    ("loss.margin", ".inf", "finite"),
    ("loss.kl_warmup_epochs", "-1", "must be >= 0"),
    ("loss.koleo.weight", "-1", "lambda must be >= 0"),
    ("loss.koleo.weight", ".nan", "finite"),
    ("loss.koleo.eps", "0", "must be > 0"),
    ("loss.koleo.eps", "-1e-8", "must be > 0"),
    ("loss.koleo.scope", "all", "use one of micro"),
    ("loss.distance", "manhattan", "use one of cosine"),
    ("model.latent_dim", "0", "must be >= 1"),
    ("model.widths", "[]", "positive channel counts"),
    ("model.widths", "16", "expected a list"),
    ("model.kind", "cnn", "does not train on"),
    ("model.kind", "resnet", "use one of ae"),
    ("data.n_train", "0", "must be >= 1"),
    ("data.n_val", "-5", "must be >= 1"),
    ("data.kind", "video", "use one of shapes"),
    ("data.shapes.family", "[cilinder]", "'cilinder' is not one of"),
    ("data.shapes.radius", "[0, 5]", "data.shapes.radius"),
    ("seed", "abc", "expected an integer"),
    ("device", "tpu", "use one of auto"),
    ("analysis.morph_steps", "1", "must be >= 2"),
    ("analysis.grid_n", "0", "must be >= 1"),
]


def _copy_run(env, name="run"):
    run = env.w / name
    shutil.copytree(env.shapes_run, run)
    return run


def _garbage_last(env):
    run = _copy_run(env)
    for p in (run / "checkpoints").iterdir():
        p.write_bytes(os.urandom(4096))


def _foreign_last(env):
    import torch
    from safetensors.torch import save_file

    run = _copy_run(env)
    for p in (run / "checkpoints").iterdir():
        p.unlink()
    save_file({"w": torch.zeros(1)}, str(run / "checkpoints" / "last.safetensors"))


def _locked(env):
    import fcntl

    run = _copy_run(env)
    (run / "summary.json").unlink()  # an unfinished run, being trained by another live process
    fd = os.open(run / ".lock", os.O_RDWR | os.O_CREAT)
    os.write(fd, b"4242 otherhost\n")
    fcntl.flock(fd, fcntl.LOCK_EX)
    env.cleanups.append(lambda: os.close(fd))


def _read_only(env):
    refuse_writes(env.monkeypatch, env.w / "ro")


def _full_disk(env):
    refuse_writes(env.monkeypatch, env.w, errno.ENOSPC)


CASES = [case(f"value-{key}={value}", [*T.split(), f"{key}={value}"], key, needle) for key, value, needle in VALUES] + [
    # -- the config file and the command line
    case("no-config", "train", "no config given", "configs/shapes-vae.yaml"),
    case("config-missing", "train nope.yaml", "nope.yaml", "not found"),
    case("config-not-yaml", "train c.yaml", "c.yaml", "not valid YAML", files={"c.yaml": "train: [1, 2\n"}),
    case("config-latin1", "train c.yaml", "c.yaml", "not UTF-8", files={"c.yaml": "name: caf\xe9\n".encode("latin-1")}),
    case("config-binary", "train c.yaml", "c.yaml", "NUL bytes", files={"c.yaml": b"\x00\x01\x02"}),
    case("config-a-list", "train c.yaml", "c.yaml", "must hold a mapping", files={"c.yaml": "- 1\n- 2\n"}),
    case("config-unknown-key", "train c.yaml", "'train.epoch'", "known keys", files={"c.yaml": "train: {epoch: 3}\n"}),
    case("config-section-not-mapping", "train c.yaml", "train", "expected a mapping", files={"c.yaml": "train: 3\n"}),
    case("config-nan-in-file", "train c.yaml", "train.lr", "finite", files={"c.yaml": "train: {lr: .nan}\n"}),
    case("two-configs", f"{T} shapes-ae", "'shapes-ae'", "one config file"),
    case("override-unknown-key", f"{T} train.epoch=3", "'train.epoch'", "known keys"),
    case("override-no-key", f"{T} =3", "'=3'", "key=value"),
    case("override-below-leaf", f"{T} train.lr.x=1", "train.lr.x", "no sub-keys"),
    case("images-accumulation", f"{T} {IMG} train.accumulation=3", "train.accumulation", "pick a divisor"),
    case("images-split", f"{T} {IMG} data.images.split=[0.5,0.5,0.5]", "data.images.split", "summing to 1"),
    case("images-folds", f"{T} {IMG} data.images.folds=1", "data.images.folds", "k >= 2"),
    case("images-limit", f"{T} {IMG} data.images.limit=5", "data.images.limit", "at least 20"),
    case("images-seed-mining", f"{T} {IMG} data.images.triplets=seed", "loss.mining", "loss.mining=none"),
    case("images-k", f"{T} {IMG} train.images_per_class=1", "train.images_per_class", "K must be >= 2"),
    case("train-unknown-option", f"{T} --epochs 3", "--epochs", "see --help"),
    # -- where the run goes
    case("run-dir-not-empty", f"{T} --run-dir r", "'r'", "choose another --run-dir", files={"r/keep.txt": "mine"}),
    case("run-dir-is-a-file", f"{T} --run-dir r", "'r'", "--resume", files={"r": "mine"}),
    case("run-dir-read-only", f"{T} --run-dir ro/run", "ro", "Permission denied", setup=_read_only),
    case("runs-root-read-only", f"{T} --runs-root ro", "ro", "permissions", setup=_read_only),
    case("runs-root-is-a-file", f"{T} --runs-root f", "f", "Not a directory", files={"f": "mine"}),
    case("runs-root-disk-full", f"{T} --runs-root r", "r", "No space left on device", setup=_full_disk),
    # -- --resume
    case("resume-with-config", "train shapes-vae --resume r", "--resume", "drop the config file"),
    case("resume-missing", "train --resume nope", "'nope'", "no such run folder"),
    case("resume-not-a-run", "train --resume d", "'d'", "not a run folder", files={"d/x.txt": "x"}),
    case("resume-finished", "train --resume {shapes_run}", "already finished its 1 epochs", "train.epochs=N"),
    case(
        "resume-changes-model",
        "train --resume {shapes_run} model.latent_dim=3",
        "model.latent_dim",
        "a resumed run keeps its config",
    ),
    case("resume-unknown-key", "train --resume {shapes_run} train.epoch=3", "'train.epoch'", "known keys"),
    case("resume-bad-value", "train --resume run train.epochs=0", "train.epochs", "must be >= 1", setup=_copy_run),
    case("resume-bad-lr", "train --resume run train.lr=.nan", "train.lr", "finite", setup=_copy_run),
    case(
        "resume-garbage-checkpoints",
        "train --resume run",
        "no intact checkpoint",
        "start a new run",
        setup=_garbage_last,
    ),
    case(
        "resume-foreign-checkpoint",
        "train --resume run",
        "not written by latentatlas",
        "start a new run",
        setup=_foreign_last,
    ),
    case(
        "resume-locked",
        "train --resume run",
        "in use by process 4242 on otherhost",
        "wait until it ends",
        setup=_locked,
    ),
    case("resume-not-a-folder", "train --resume f", "'f'", "no such run folder", files={"f": "x"}),
    # -- demo shares the config checks
    case("demo-bad-value", "demo train.epochs=0", "train.epochs", "must be >= 1"),
    case("demo-unknown-key", "demo train.epoch=3", "'train.epoch'", "known keys"),
    case("demo-not-key-value", "demo epochs", "'epochs'", "key=value"),
    case("demo-nan", "demo train.lr=.nan", "train.lr", "finite"),
    case("demo-runs-root-read-only", "demo --runs-root ro", "ro", "Permission denied", setup=_read_only),
]
