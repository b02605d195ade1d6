"""`python -m pks_monitoring.fleet`: preview every stack of a fleet, then roll it out wave by wave
with a health gate after each stack. Exit 0 done, 1 a preview, up or gate failed (the table says
where), 2 bad input (one line)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import NoReturn, Optional

from pulumi import automation as auto

from pks_monitoring.fleet import health
from pks_monitoring.fleet.automation import AutomationRunner, error_line
from pks_monitoring.fleet.plan import Fleet, FleetError, StackEntry, from_stack_list, load_fleet_file
from pks_monitoring.fleet.rollout import exit_code, roll_out, summary
from pks_monitoring.settings.types import PROJECT_ROOT


class OneLineParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise FleetError(f"{message} (see --help)")


def parser() -> argparse.ArgumentParser:
    p = OneLineParser(prog="python -m pks_monitoring.fleet", description=__doc__)
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--fleet", type=Path, help="fleet file: waves of stacks, in rollout order")
    which.add_argument("--stacks", help="stacks separated by commas: one wave each, in this order")
    p.add_argument(
        "--concurrency", type=positive, help="stacks of a wave at once (overrides the file's; default 1)"
    )
    p.add_argument("--dry-run", action="store_true", help="previews only")
    p.add_argument(
        "--no-targets",
        action="store_true",
        help="health gate without the targets check (no Prometheus pod runs)",
    )
    p.add_argument(
        "--health-timeout", type=positive, default=300, help="seconds a stack may take to become healthy"
    )
    p.add_argument(
        "--work-dir", type=Path, default=PROJECT_ROOT, help="the project folder (default: this one)"
    )
    return p


def positive(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of 1 or more, not {text!r}")
    return int(text)


def fleet_of(args: argparse.Namespace) -> Fleet:
    if args.fleet is not None:
        return load_fleet_file(args.fleet, args.concurrency)
    return from_stack_list(args.stacks, args.concurrency or 1)


def main(argv: Optional[list[str]] = None) -> int:
    try:
        args = parser().parse_args(argv)
        runner = AutomationRunner(args.work_dir)
        fleet = fleet_of(args)
        runner.open(fleet.stacks)
    except FleetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2

    def gate(entry: StackEntry) -> Optional[str]:
        try:
            outputs = runner.outputs(entry)
        except auto.CommandError as error:
            return f"cannot read the stack outputs: {error_line(error)}"
        return health.stack_problem(
            outputs, entry.kubeconfig, targets=not args.no_targets, timeout=args.health_timeout
        )

    rows = roll_out(fleet, runner, gate, dry_run=args.dry_run)
    print(summary(rows))
    return exit_code(rows)
