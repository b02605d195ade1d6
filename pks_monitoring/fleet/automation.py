"""The rollout's runner on Pulumi's Automation API: this project's stacks through a LocalWorkspace
on the project folder (or the mirror tools/pulumi.sh runs it from), the CLI and its environment
as the caller has them (PULUMI_BACKEND_URL, the passphrase, PATH)."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pulumi import automation as auto

from pks_monitoring.fleet.plan import FleetError, StackEntry
from pks_monitoring.fleet.rollout import Step

# What the CLI adds after the reason: that the preview or update failed, that the program did.
GENERIC = re.compile(
    r"error: (preview|update|destroy|refresh) failed|an unhandled error occurred|exited with non-zero"
)


def error_line(error: auto.CommandError) -> str:
    """The engine's own reason, one line: its first `error:` line that says more than that the
    command failed (Pulumi masks secrets in it)."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    # From `error:` on: the result's text puts ` stderr: ` before its first line.
    reasons = [line[line.index("error:") :] for line in lines if "error:" in line]
    telling = [line for line in reasons if not GENERIC.search(line)]
    return (telling or reasons or lines or ["the pulumi command failed"])[0][:300]


def counted(changes: Mapping[Any, int]) -> dict[str, int]:
    """The engine's operation counts by their names (`create`, `update`...): OpType or str keys."""
    return {str(getattr(op, "value", op)): n for op, n in changes.items()}


class AutomationRunner:
    def __init__(
        self, work_dir: Path, echo: Callable[[str], None] = lambda line: print(line, file=sys.stderr)
    ):
        self.work_dir = work_dir
        self.stacks: dict[str, auto.Stack] = {}
        self.lock = threading.Lock()
        self.echo = echo

    def open(self, entries: list[StackEntry]) -> None:
        """Select every stack before anything runs: an unknown one is bad input."""
        for entry in entries:
            try:
                self.stacks[entry.name] = auto.select_stack(entry.name, work_dir=str(self.work_dir))
            except auto.StackNotFoundError:
                raise FleetError(
                    f"stack {entry.name} does not exist on this backend (pulumi stack ls; create it with pulumi stack init)"
                ) from None
            except auto.CommandError as error:
                raise FleetError(f"stack {entry.name}: {error_line(error)}") from None
            except FileNotFoundError:
                raise FleetError(
                    "no pulumi CLI on PATH: install it, or run the fleet through tools/pulumi.sh fleet"
                ) from None

    def output(self, entry: StackEntry) -> Callable[[str], None]:
        """The engine's progress, each line prefixed with its stack (several may run at once)."""

        def echo(text: str) -> None:
            with self.lock:
                for line in text.rstrip("\n").splitlines():
                    self.echo(f"[{entry.name}] {line}")

        return echo

    def options(self, entry: StackEntry) -> dict[str, Any]:
        # No --diff: a diff would show the old and new value of every changed field.
        config = {"config_file": str(entry.config_file)} if entry.config_file else {}
        return {"on_output": self.output(entry), "color": "never", **config}

    def preview(self, entry: StackEntry) -> Step:
        try:
            result = self.stacks[entry.name].preview(**self.options(entry))
        except auto.CommandError as error:
            return Step(False, error=error_line(error))
        return Step(True, counted(result.change_summary))

    def up(self, entry: StackEntry) -> Step:
        try:
            # show_secrets=False: the result's config summary stays encrypted.
            result = self.stacks[entry.name].up(show_secrets=False, **self.options(entry))
        except auto.CommandError as error:
            return Step(False, error=error_line(error))
        return Step(True, counted(result.summary.resource_changes or {}))

    def outputs(self, entry: StackEntry) -> Mapping[str, Any]:
        """The stack outputs' values (only `namespace` and `portForward` are read, none printed)."""
        return {key: output.value for key, output in self.stacks[entry.name].outputs().items()}
