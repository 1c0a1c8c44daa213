"""The bad-input corpus's machinery: a `Case` (argv + what its one error line must say), the workspace a case runs
in, file-content helpers, a writer that refuses like a read-only or full disk, and the check of one case.

A case runs `latentatlas.cli.main.main(argv)` in-process, in a fresh workspace folder (the current directory),
and must: exit with code 2, print exactly one line on stderr (no traceback, no progress bar or warning first)
containing every needle, and leave every file that existed before byte-for-byte and mtime-for-mtime as it was,
creating none outside the data cache.
"""

from __future__ import annotations

import builtins
import errno
import hashlib
import io
import json
import logging
import os
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.torch import save_file

from latentatlas.cli.main import main


@dataclass
class Env:
    """What a case's setup may use: its workspace `w` (also the current directory) and the shared tiny runs."""

    w: Path
    shapes_run: Path
    metric_run: Path
    images_zip: Path
    monkeypatch: object
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def fmt(self, text: str) -> str:
        return text.format(w=self.w, shapes_run=self.shapes_run, metric_run=self.metric_run, images=self.images_zip)


@dataclass(frozen=True)
class Case:
    """One bad input: `argv` (with `{w}`, `{shapes_run}`, `{metric_run}`, `{images}` placeholders), the texts its
    error line must contain (`needles`: the input it names, and the fix), the files it writes into the workspace
    first (relative path -> bytes or text), and an optional `setup(env)` for anything else (patches, locks)."""

    id: str
    argv: tuple[str, ...]
    needles: tuple[str, ...]
    files: tuple[tuple[str, bytes | str], ...] = ()
    setup: Callable[[Env], None] | None = None


def case(id: str, argv: str | list[str], *needles: str, files: dict | None = None, setup=None) -> Case:
    """A `Case`; `argv` may be one string split on spaces (placeholders keep no spaces)."""
    args = tuple(argv.split()) if isinstance(argv, str) else tuple(argv)
    return Case(id, args, tuple(needles), tuple((files or {}).items()), setup)


# -- file contents --------------------------------------------------------------------------------------------------
def npy(array) -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.asarray(array), allow_pickle=True)
    return buf.getvalue()


def npz(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **{k: np.asarray(v) for k, v in arrays.items()})
    return buf.getvalue()


def safetensors(tensors: dict, metadata: dict | None = None) -> bytes:
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / f"corpus-{os.getpid()}-{len(tensors)}.safetensors"
    save_file({k: torch.as_tensor(v).contiguous() for k, v in tensors.items()}, str(tmp), metadata=metadata)
    data = tmp.read_bytes()
    tmp.unlink()
    return data


def png(color: tuple[int, int, int], size: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), color).save(buf, format="PNG")
    return buf.getvalue()


def image_zip(members: dict[str, bytes], stored: bool = True) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def flip_byte_in_member(zip_bytes: bytes, member: str) -> bytes:
    """The zip with one byte of `member`'s stored data flipped: its CRC no longer matches."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        info = zf.getinfo(member)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(zip_bytes)
    data[start + info.compress_size // 2] ^= 0xFF
    return bytes(data)


EMB = np.random.default_rng(0).normal(size=(12, 4)).astype(np.float32)
LABELS = np.arange(12) % 3


def csv(rows: list[list], header: list[str] | None = None, sep: str = ",") -> str:
    lines = [sep.join(header)] if header else []
    return "\n".join(lines + [sep.join(str(c) for c in r) for r in rows]) + "\n"


def good_csv() -> str:
    return csv([[*map(float, e), lab] for e, lab in zip(EMB, LABELS)], ["a", "b", "c", "d", "label"])


# -- a disk that refuses ---------------------------------------------------------------------------------------------
_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC


def refuse_writes(monkeypatch, root: Path, code: int = errno.EACCES) -> None:
    """Make every write under `root` fail as a read-only (EACCES) or full (ENOSPC) disk would: opening files for
    writing, creating folders, renaming or linking into it, and safetensors' own writer."""
    root = Path(root).absolute()

    def inside(path) -> bool:
        try:
            p = Path(os.fsdecode(path)).absolute()
        except TypeError:
            return False
        return p == root or root in p.parents

    def fail(path):
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    real_open, real_os_open, real_mkdir = builtins.open, os.open, os.mkdir
    real_replace, real_rename, real_link = os.replace, os.rename, os.link

    def fake_open(file, mode="r", *args, **kwargs):
        if isinstance(file, str | bytes | os.PathLike) and any(c in mode for c in "wax+") and inside(file):
            fail(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if flags & _WRITE_FLAGS and inside(path):
            fail(path)
        return real_os_open(path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if inside(path):
            fail(path)
        return real_mkdir(path, *args, **kwargs)

    def guard2(real):
        def fake(src, dst, *args, **kwargs):
            if inside(dst):
                fail(dst)
            return real(src, dst, *args, **kwargs)

        return fake

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)
    monkeypatch.setattr(os, "open", fake_os_open)
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    monkeypatch.setattr(os, "replace", guard2(real_replace))
    monkeypatch.setattr(os, "rename", guard2(real_rename))
    monkeypatch.setattr(os, "link", guard2(real_link))
    import latentatlas.train.checkpoint as ckpt

    real_save = ckpt.save_file
    monkeypatch.setattr(
        ckpt, "save_file", lambda t, path, **kw: fail(path) if inside(path) else real_save(t, path, **kw)
    )


# -- running one case -----------------------------------------------------------------------------------------------
def snapshot(*roots: Path) -> dict[str, tuple[str, int]]:
    """Every file under `roots`: path -> (sha256 of its bytes, mtime in ns)."""
    out = {}
    for root in roots:
        for p in sorted(Path(root).rglob("*")):
            if p.is_file() and not p.is_symlink():
                out[str(p)] = (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
    return out


def run_case(c: Case, env: Env, capsys) -> None:
    """Set up `c` in `env`, run it, and check the promise (see the module docstring)."""
    for rel, content in c.files:
        path = env.w / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    if c.setup is not None:
        c.setup(env)
    shared = (env.shapes_run, env.metric_run, env.images_zip.parent)
    before = snapshot(env.w, *shared)
    argv = [env.fmt(a) for a in c.argv]
    capsys.readouterr()
    handler = logging.StreamHandler(sys.stderr)  # what the command line shows: notes and warnings on stderr
    logger = logging.getLogger("latentatlas")
    logger.addHandler(handler)
    level, logger.level = logger.level, logging.INFO
    try:
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse's own refusals
            code = exc.code
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)
        for undo in env.cleanups:
            undo()
        env.monkeypatch.undo()
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    if os.environ.get("CORPUS_SHOW"):
        sys.__stdout__.write(f"{c.id}: {err.strip()}\n")
    assert code == 2, f"exit code {code}, stderr: {err}"
    assert len(lines) == 1, f"{len(lines)} stderr lines: {err}"
    assert "Traceback" not in err
    for needle in c.needles:
        assert env.fmt(needle) in lines[0], f"{needle!r} not in: {lines[0]}"
    after = snapshot(env.w, *shared)
    changed = [p for p, v in before.items() if after.get(p) != v]
    assert not changed, f"changed or removed: {changed}"
    new = [p for p in after if p not in before and "/.cache/" not in p]
    assert not new, f"created: {new}"


def json_text(data) -> str:
    return json.dumps(data)
