"""The rollout's steps and where it stops, on any runner (the Automation API's, or a fake):
every stack previewed, then wave after wave `up` and the health gate, a few stacks at once; the
first failure stops it (no further stack starts; those already running finish)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from typing import Optional, Protocol, TypeVar

from pks_monitoring.fleet.plan import Fleet, StackEntry


@dataclass(frozen=True)
class Step:
    """One preview or up: ok or not, the resource changes it counted, why it failed."""

    ok: bool
    changes: Mapping[str, int] = field(default_factory=dict)
    error: str = ""


class Runner(Protocol):
    def preview(self, entry: StackEntry) -> Step: ...

    def up(self, entry: StackEntry) -> Step: ...


Result = TypeVar("Result")

# The health gate of one stack after its `up`: None when healthy, else what is not.
Gate = Callable[[StackEntry], Optional[str]]


@dataclass(frozen=True)
class Row:
    """One line of the summary: what happened to a stack."""

    stack: str
    wave: str
    preview: str = "-"
    up: str = "-"
    health: str = "-"
    changes: str = ""
    error: str = ""

    @property
    def failed(self) -> bool:
        return "failed" in (self.preview, self.up, self.health)


def changes_text(changes: Mapping[str, int]) -> str:
    """`create 3, update 1`: the operations that change something (`same` left out)."""
    return ", ".join(f"{op} {n}" for op, n in sorted(changes.items()) if op != "same" and n)


def roll_out(fleet: Fleet, runner: Runner, gate: Gate, *, dry_run: bool = False) -> list[Row]:
    rows = {entry.name: Row(entry.name, wave.name) for wave in fleet.waves for entry in wave.stacks}
    with ThreadPoolExecutor(max_workers=fleet.concurrency) as pool:
        for entry, step in run_all(pool, fleet.concurrency, fleet.stacks, runner.preview):
            rows[entry.name] = replace(
                rows[entry.name],
                preview="ok" if step.ok else "failed",
                changes=changes_text(step.changes),
                error=step.error,
            )
        if dry_run or any(row.failed for row in rows.values()):
            return list(rows.values())
        for wave in fleet.waves:

            def apply(entry: StackEntry) -> Row:
                return applied(rows[entry.name], entry, runner, gate)

            for entry, row in run_all(
                pool, fleet.concurrency, wave.stacks, apply, stop=lambda row: row.failed
            ):
                rows[entry.name] = row
            if any(rows[entry.name].failed for entry in wave.stacks):
                break
    return list(rows.values())


def applied(row: Row, entry: StackEntry, runner: Runner, gate: Gate) -> Row:
    """`up`, then, if it went through, the health gate."""
    step = runner.up(entry)
    if not step.ok:
        # The row keeps the changes the preview planned: a failed `up` counts none.
        return replace(row, up="failed", error=step.error)
    row = replace(row, up="ok", changes=changes_text(step.changes))
    problem = gate(entry)
    return replace(row, health="ok" if problem is None else "failed", error=problem or "")


def run_all(
    pool: ThreadPoolExecutor,
    limit: int,
    entries: Iterable[StackEntry],
    work: Callable[[StackEntry], Result],
    stop: Callable[[Result], bool] = lambda result: False,
) -> Iterator[tuple[StackEntry, Result]]:
    """`work` on each entry, at most `limit` at once, yielding (entry, result) as they finish;
    after a result that is a `stop`, no further entry is started (the running ones finish)."""
    waiting = list(entries)
    running: dict[Future[Result], StackEntry] = {}
    stopped = False
    while running or (waiting and not stopped):
        # Started here, one by one, not queued in the pool: a queued one could not be held back.
        while waiting and not stopped and len(running) < limit:
            entry = waiting.pop(0)
            running[pool.submit(work, entry)] = entry
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for future in done:
            result = future.result()
            yield running.pop(future), result
            stopped = stopped or stop(result)


def summary(rows: list[Row]) -> str:
    """The table of what was applied where, then why each failure failed."""
    header = ("stack", "wave", "preview", "up", "health", "changes")
    lines = [header, *((r.stack, r.wave, r.preview, r.up, r.health, r.changes) for r in rows)]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    table = ["  ".join(cell.ljust(width) for cell, width in zip(line, widths)).rstrip() for line in lines]
    reasons = [f"{row.stack}: {row.error}" for row in rows if row.failed and row.error]
    return "\n".join(table + reasons)


def exit_code(rows: list[Row]) -> int:
    return 1 if any(row.failed for row in rows) else 0
