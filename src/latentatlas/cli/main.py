"""`latentatlas` entry point: a thin layer that finds the command modules and reports user errors.

Each module in this package (other than this one) defines `register(subparsers)`, which adds its parser and
sets `func=run` on it. User errors (`LatentAtlasError`) become one line on stderr and exit code 2, and so does a
file the system refuses to write or read (permissions, read-only or full disk: `OSError`), naming the path; with
`--verbose` the traceback is logged too.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys

from latentatlas._version import __version__
from latentatlas.errors import LatentAtlasError, os_error_message

log = logging.getLogger("latentatlas")


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on bad arguments already; keep its message to one line."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="latentatlas",
        description="Train representation models and map the geometry of their latent spaces.",
    )
    parser.add_argument("--version", action="version", version=f"latentatlas {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    package = importlib.import_module("latentatlas.cli")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if info.name.startswith("_") or info.name == "main":
            continue
        module = importlib.import_module(f"latentatlas.cli.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    # key=value overrides may come after options (`train CONFIG --run-dir D train.epochs=3`): argparse leaves them
    # unparsed, so hand them to the command's positional list when it takes overrides
    target = next((name for name in ("items", "overrides") if isinstance(getattr(args, name, None), list)), None)
    if extra and target and all("=" in e and not e.startswith("-") for e in extra):
        getattr(args, target).extend(extra)
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(message)s", stream=sys.stderr)
    if not getattr(args, "func", None):
        print("latentatlas: error: no command given; run `latentatlas --help` to list them", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except LatentAtlasError as exc:
        print(f"latentatlas {args.command}: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"latentatlas {args.command}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `latentatlas sweep ... --dry-run | head`: the reader left, which is no error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so that the interpreter's final flush does not fail again
        return 0
    except OSError as exc:  # unwritable or full output location, unreadable input: the path and what to do
        log.debug("traceback", exc_info=True)
        print(f"latentatlas {args.command}: error: {os_error_message(exc)}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
