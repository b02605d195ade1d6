"""Renders of stacks in a process of their own, as tests/program/test_stacks.py perturbs it:

    python -m tests.program.determinism_probe OUT STACK_FILE... [--shift-clock SECONDS]

For each stack file, in the order given: the render in OUT/<stack>/render/ (pks_monitoring.offline.render,
unchanged) and OUT/<stack>/fingerprint.json: every resource the program registered, all of them
and not only the rendered Kubernetes objects, as the engine would key and compare them on a
second `pulumi up` (type, name, provider, dependencies, and a digest of the inputs with secret
values included, so that a secret generated at random cannot hide behind "[secret]"), and a
digest of the stack outputs. OUT/probe.json: what this process saw of the clock and of hash
ordering, to show that the perturbation was really there.

The hash seed is PYTHONHASHSEED, set by the caller. --shift-clock moves every clock the Python
code of this process can read (time.*, datetime.*) by SECONDS, before the program is imported.
"""

from __future__ import annotations

import argparse
import datetime as _datetime
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

# Strings whose set iteration order follows the hash seed.
PROBE_WORDS = [
    f"{word}-{i}"
    for i, word in enumerate(
        [
            "prometheus",
            "alertmanager",
            "grafana",
            "node",
            "exporter",
            "rules",
            "namespace",
            "secret",
            "service",
            "monitor",
        ]
    )
]


def shift_clock(seconds: float) -> None:
    """Every clock Python code reads here runs `seconds` ahead: time.time/time_ns and what
    derives from them without an argument, datetime.now/utcnow/today and date.today."""
    real_time, real_time_ns = time.time, time.time_ns
    real_localtime, real_gmtime, real_strftime = time.localtime, time.gmtime, time.strftime
    time.time = lambda: real_time() + seconds
    time.time_ns = lambda: real_time_ns() + int(seconds * 1_000_000_000)
    time.localtime = lambda secs=None: real_localtime(time.time() if secs is None else secs)
    time.gmtime = lambda secs=None: real_gmtime(time.time() if secs is None else secs)
    time.ctime = lambda secs=None: time.asctime(time.localtime(secs))
    time.strftime = lambda fmt, t=None: real_strftime(fmt, time.localtime() if t is None else t)
    delta = _datetime.timedelta(seconds=seconds)
    real_datetime, real_date = _datetime.datetime, _datetime.date

    class ShiftedDatetime(real_datetime):
        @classmethod
        def now(cls, tz=None):
            return real_datetime.now(tz) + delta

        @classmethod
        def utcnow(cls):
            return real_datetime.utcnow() + delta

        @classmethod
        def today(cls):
            return real_datetime.today() + delta

    class ShiftedDate(real_date):
        @classmethod
        def today(cls):
            return (real_datetime.now() + delta).date()

    _datetime.datetime, _datetime.date = ShiftedDatetime, ShiftedDate


def digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def fingerprint(run: Any) -> list[dict[str, Any]]:
    """The registrations, sorted: the engine keys resources by URN, not by registration order."""
    entries = [
        {
            "type": r.type,
            "name": r.name,
            "custom": r.custom,
            "provider": r.provider,
            "dependencies": sorted(run.monitor.dependencies.get((r.type, r.name), [])),
            "inputs": digest(r.inputs),
        }
        for r in run.recorder.resources
    ]
    return sorted(entries, key=lambda e: json.dumps(e, sort_keys=True))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("stack_files", type=Path, nargs="+")
    parser.add_argument("--shift-clock", type=float, default=0.0, metavar="SECONDS")
    args = parser.parse_args()
    if args.shift_clock:
        shift_clock(args.shift_clock)

    # Imported only now, so that the program sees the shifted clock from its first import on.
    import pks_monitoring.offline.render
    from tests.helpers.settings import pin_the_release_under_test

    pin_the_release_under_test()  # PKS_TEST_RELEASE, inherited from the suite
    runs = []
    run_program = pks_monitoring.offline.render.run_program

    def recording_run_program(*a, **kw):
        runs.append(run_program(*a, **kw))
        return runs[-1]

    pks_monitoring.offline.render.run_program = recording_run_program
    for stack_file in args.stack_files:
        out = args.out / stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
        pks_monitoring.offline.render.render(stack_file, out / "render")
        run = runs.pop()
        result = {"resources": fingerprint(run), "outputs": digest(run.outputs)}
        (out / "fingerprint.json").write_text(json.dumps(result, indent=1, sort_keys=True))
    probe = {
        "set_order": list(set(PROBE_WORDS)),
        "now": _datetime.datetime.now().isoformat(),
        "time": time.time(),
    }
    (args.out / "probe.json").write_text(json.dumps(probe))
    return 0


if __name__ == "__main__":
    sys.exit(main())
