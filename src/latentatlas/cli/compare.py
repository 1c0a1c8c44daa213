"""`latentatlas compare RUN_A RUN_B [...]`: every summary number side by side, plus a report with the figures."""

from __future__ import annotations

import argparse
import logging

from latentatlas.cli._pdf import add_pdf_option, check_pdf, write_report_pdf
from latentatlas.errors import LatentAtlasError

log = logging.getLogger("latentatlas")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "compare",
        help="compare finished runs side by side",
        description="Print every summary number of the runs side by side (runs as columns) and write compare.json "
        "and a self-contained report.html with the runs' figures. Given one sweep directory (from `latentatlas "
        "sweep`), it writes the sweep's table of mean +- std per combination and plots of each metric against each "
        "swept field instead.",
    )
    parser.add_argument(
        "runs", nargs="+", metavar="RUN", help="run directories (each with summary.json), or one sweep directory"
    )
    parser.add_argument("--out", default=None, help="output directory (default runs/compare-<YYYYmmdd-HHMMSS>/)")
    parser.add_argument("--force", action="store_true", help="replace --out if it already exists")
    parser.add_argument(
        "--metrics",
        metavar="M1,M2",
        help="only these summary numbers in the printed table and table.md, in this order "
        "(e.g. test_precision_at_1,test_pair_auc,test_margin); compare.json keeps them all",
    )
    add_pdf_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from latentatlas.report.compare import default_out_dir, write_comparison
    from latentatlas.report.runs import format_table, load_run, pick_metrics, summary_table

    check_pdf(args)
    metrics = [m.strip() for m in args.metrics.split(",") if m.strip()] if args.metrics else None
    if len(args.runs) == 1 and (Path(args.runs[0]) / "sweep.json").is_file():
        from latentatlas.report.sweep_report import sweep_table
        from latentatlas.sweep import summarize_sweep, write_sweep_report

        summary = summarize_sweep(args.runs[0])
        if summary["groups"]:
            print(format_table(*sweep_table(summary, metrics)) + "\n")
        report = write_sweep_report(args.runs[0], args.out, force=args.force, metrics=metrics, summary=summary)
        print(f"wrote {report} and {report.parent / 'table.md'}")
        write_report_pdf(args, report)
        return 0
    if len(args.runs) < 2:
        raise LatentAtlasError(f"compare needs at least two run directories, got {len(args.runs)}; pass RUN_A RUN_B")
    runs = [load_run(path) for path in args.runs]  # fails on the first bad directory, before writing anything
    headers, rows = summary_table(runs)
    order = {m: i for i, m in enumerate(pick_metrics([r[0] for r in rows], metrics))}
    print(format_table(headers, sorted((r for r in rows if r[0] in order), key=lambda r: order[r[0]])))
    out = write_comparison(runs, args.out or default_out_dir(), force=args.force)
    print(f"\nwrote {out / 'compare.json'} and {out / 'report.html'}")
    write_report_pdf(args, out / "report.html")
    return 0
