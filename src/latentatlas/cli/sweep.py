"""`latentatlas sweep CONFIG --grid KEY=V1,V2 ... [--seeds N] [--folds K] [--out DIR] [KEY=VALUE ...]`."""

from __future__ import annotations

import argparse
import datetime as dt
import re
from pathlib import Path
from typing import Any

from latentatlas.cli._pdf import add_pdf_option, check_pdf, write_report_pdf
from latentatlas.errors import ConfigError, LatentAtlasError

EPILOG = """examples:
  # KoLeo lambda sweep, 3 seeds each (seeds = the config's seed + 0, 1, 2)
  latentatlas sweep my-cifar.yaml --grid loss.koleo.weight=0,0.001,0.01,0.1,0.5,1 --seeds 3 train.epochs=7
  # accumulation 1 vs 4 micro-batches with and without KoLeo, 5-fold cross-validation
  latentatlas sweep my-cifar.yaml --grid train.accumulation=1,4 loss.koleo.weight=0,0.1 --folds 5
  # AE-style beta sweep on the generated shapes, printed but not run
  latentatlas sweep shapes-vae --grid loss.beta=0.5,1,2 --seeds 2 --dry-run
  # continue an interrupted sweep (finished runs are skipped, half-done ones resume)
  latentatlas sweep --resume runs/sweep-20261123-101500-shapes-vae
  # each grid point a Slurm job (needs pip install 'latentatlas[cluster]'); rerun it to resubmit what is missing
  latentatlas sweep my-cifar.yaml --grid loss.koleo.weight=0,0.1 --seeds 3 --out runs/sw --executor slurm \
      --partition gpu --time 120 --cpus-per-task 8 --gpus-per-node 1

--grid items are KEY=V1,V2,... with YAML values (lists in brackets: model.widths=[8,16],[16,32]); an item with a
single value fixes that key for every run, like a KEY=VALUE override. Runs go to OUT/runs/<name>/, the plan and
each run's status to OUT/sweep.json, the mean +- std report to OUT/report/. Exit code 1 if any run failed."""

_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser(
        "sweep",
        help="run a grid of configs x seeds x folds into one resumable directory",
        description="Train every combination of the --grid values, for each seed and fold, one run after another, "
        "into one sweep directory; then write the mean +- std report over seeds and folds.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("items", nargs="*", metavar="CONFIG [KEY=VALUE ...]", help="config file, then fixed overrides")
    p.add_argument("--grid", nargs="+", action="extend", default=[], metavar="KEY=V1,V2", help="values to sweep")
    p.add_argument("--seeds", default="1", help="runs per combination (N: config seed + 0..N-1) or a list 0,5,9")
    p.add_argument("--folds", type=int, default=None, metavar="K", help="k-fold cross-validation (image configs)")
    p.add_argument("--out", help="sweep directory (default runs/sweep-<YYYYmmdd-HHMMSS>-<config name>/)")
    p.add_argument("--resume", metavar="SWEEP_DIR", help="continue the sweep recorded in SWEEP_DIR/sweep.json")
    p.add_argument("--dry-run", action="store_true", help="print the runs and what would happen to each; run nothing")
    p.add_argument("--no-report", action="store_true", help="do not write OUT/report/ at the end")
    p.add_argument("--no-progress", action="store_true", help="hide each run's progress bar")
    g = p.add_argument_group("jobs (submitit: pip install 'latentatlas[cluster]')")
    g.add_argument("--executor", choices=("local", "slurm"), help="each grid point a job (default: in turn, here)")
    g.add_argument("--partition", help="Slurm partition (default: the cluster's)")
    g.add_argument("--time", type=int, default=240, metavar="MINUTES", help="time limit per job (default 240)")
    g.add_argument("--cpus-per-task", type=int, metavar="N", help="cores per job (default: the cluster's)")
    g.add_argument("--gpus-per-node", type=int, metavar="N", help="GPUs per job (default: none)")
    g.add_argument("--mem-gb", type=int, metavar="GB", help="memory per job (default: the cluster's)")
    g.add_argument("--max-parallel", type=int, metavar="N", help="jobs at once (local default 1; Slurm: no limit)")
    g.add_argument("--wait", action="store_true", help="Slurm: wait for the jobs, then write the report")
    add_pdf_option(p)
    p.set_defaults(func=run)


def _value(item: Any) -> Any:
    # PyYAML reads 1e-3 as a string (YAML 1.1 wants a dot); a sweep of learning rates should not trip on that
    return float(item) if isinstance(item, str) and _NUMBER.fullmatch(item) else item


def parse_grid(items: list[str]) -> tuple[dict[str, list[Any]], list[str]]:
    """`["loss.beta=0.5,1", "train.epochs=7"]` -> ({"loss.beta": [0.5, 1]}, ["train.epochs=7"]).

    Values are a YAML flow list without its brackets; an item with one value becomes a fixed override.
    """
    import yaml

    grid: dict[str, list[Any]] = {}
    fixed: list[str] = []
    for item in items:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key or not raw.strip():
            raise ConfigError(f"--grid item {item!r} is not KEY=V1,V2,...; write e.g. loss.beta=0.5,1,2")
        if key in grid:
            raise ConfigError(f"--grid key {key} is given twice; list all its values in one item")
        try:
            values = yaml.safe_load(f"[{raw}]")
        except yaml.YAMLError:
            raise ConfigError(f"--grid item {item!r}: values are not valid YAML; quote or bracket them") from None
        values = [_value(v) for v in values]
        if len(values) == 1:
            fixed.append(item)
        else:
            grid[key] = values
    return grid, fixed


def _looks_like_config(item: str) -> bool:
    """Whether a word after --grid is the config (a YAML file or a built-in config's name), not a broken item."""
    from latentatlas.configs import builtin_configs

    return item.lower().endswith((".yaml", ".yml")) or Path(item).is_file() or item in builtin_configs()


def _seeds(text: str) -> int | list[int]:
    try:
        parts = [int(p) for p in text.split(",") if p.strip()]
    except ValueError:
        raise ConfigError(f"--seeds {text!r}: give a count such as 3 or a list such as 0,5,9") from None
    if not parts:
        raise ConfigError(f"--seeds {text!r}: give a count such as 3 or a list such as 0,5,9")
    return parts[0] if "," not in text else parts


def _plan(args: argparse.Namespace):
    from latentatlas.cli.train import split_items
    from latentatlas.configs import resolve_config_path
    from latentatlas.sweep import load_sweep_plan, plan_sweep

    # nargs="+" makes --grid greedy: a config path typed after it is still the config
    grid_items = [g for g in args.grid if "=" in g or not _looks_like_config(g)]
    path, overrides = split_items([g for g in args.grid if g not in grid_items] + args.items)
    if args.resume:
        if path or overrides or grid_items or args.folds is not None or args.seeds != "1" or args.out:
            raise LatentAtlasError("--resume takes the plan from SWEEP_DIR/sweep.json; drop the other arguments")
        return load_sweep_plan(args.resume), Path(args.resume)
    if path is None:
        raise LatentAtlasError("no config given; e.g. latentatlas sweep configs/shapes-vae.yaml --grid loss.beta=1,2")
    grid, fixed = parse_grid(grid_items)
    plan = plan_sweep(resolve_config_path(path), grid, _seeds(args.seeds), args.folds, overrides + fixed)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return plan, Path(args.out) if args.out else Path("runs") / f"sweep-{stamp}-{plan.base_config.name}"


def _print_plan(plan, out: Path) -> None:
    from latentatlas.sweep import check_sweep_dir, run_state

    check_sweep_dir(plan, out)  # a dry run refuses the same directories a real one would
    print(f"sweep of {plan.config_path}: {len(plan)} runs into {out}")
    if plan.overrides:
        print("every run: " + " ".join(plan.overrides))
    action = {"done": "skip (finished)", "resume": "resume", "new": "run"}
    for i, run in enumerate(plan):
        print(f"[{i + 1}/{len(plan)}] {run.name}  ->  {action[run_state(out / 'runs' / run.name)]}")
        print("      " + " ".join(run.overrides))


def _options(args: argparse.Namespace):
    """The executor options, checked (submitit installed, Slurm present) before anything is written; or None."""
    given = [f for f in ("partition", "cpus_per_task", "gpus_per_node", "mem_gb", "max_parallel") if getattr(args, f)]
    if args.executor is None:
        if given or args.wait or args.time != 240:
            flag = "--" + (given[0].replace("_", "-") if given else "wait" if args.wait else "time")
            raise LatentAtlasError(f"{flag} is an option of the jobs; add --executor local or --executor slurm")
        return None
    from latentatlas.sweep.executor import ExecutorOptions, check_executor

    options = ExecutorOptions(args.executor, args.partition, args.time, args.cpus_per_task, args.gpus_per_node,
                              args.mem_gb, args.max_parallel, args.wait)  # fmt: skip
    check_executor(options)
    return options


def _submit(plan, out: Path, options):
    """Submit the unfinished points; the outcome once they ended, None when Slurm jobs were left queued."""
    from latentatlas.sweep.executor import submit_sweep

    sub = submit_sweep(plan, out, options)
    print(f"{len(sub.submitted)} of {len(plan)} runs submitted ({options.kind} jobs; logs in {out / 'submitit'})")
    if sub.outcome is None:
        for name in sub.submitted:
            print(f"  job {sub.job_ids.get(name)}: {name}")
        print(f"when they end: latentatlas compare {out}; to resubmit missing or failed runs: latentatlas sweep "
              f"--resume {out} --executor slurm")  # fmt: skip
    return sub.outcome


def run(args: argparse.Namespace) -> int:
    plan, out = _plan(args)
    options = _options(args)
    if args.pdf and args.no_report:
        raise LatentAtlasError("--pdf prints the sweep's report, which --no-report skips; drop one of them")
    if not args.dry_run:
        check_pdf(args)
    if args.dry_run:
        _print_plan(plan, out)
        return 0
    print(f"sweep directory: {out}  (continue it with: latentatlas sweep --resume {out})")
    if options is not None:
        outcome = _submit(plan, out, options)
        if outcome is None:
            return 0
    else:
        from latentatlas.sweep import run_sweep

        outcome = run_sweep(plan, out, progress=False if args.no_progress else None)
    if not args.no_report and any(r["status"] == "done" for r in outcome.runs):
        from latentatlas.sweep import write_sweep_report
        from latentatlas.sweep.run import sweep_lock

        with sweep_lock(out):  # workers finishing together write the report one after the other
            report = write_sweep_report(out, out / "report", force=True)
        print(f"report: {report}")
        write_report_pdf(args, report)
    if outcome.failed:
        print(f"{len(outcome.failed)} of {len(outcome.runs)} runs failed: {', '.join(outcome.failed)}")
        return 1
    return 0
