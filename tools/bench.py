"""Benchmark (not a test): how long the offline render takes on this machine, and how much memory.

    python -m tools.bench [--runs N] [--apps-config FILE --apps N] [--naive-without-gc] [--real]

Each measurement runs N times (default 5), every run a fresh `sys.executable` subprocess, and
reports median/min/max wall seconds and the child's peak RSS (ru_maxrss from os.wait4: the
largest of the child and the processes it waited for, such as the mock provider's), in MB:

  dev render     `python -m pks_monitoring.offline.render --stack dev --out TMP`, the whole command.
  naive program  the same mocks, but ALL of manifests/ (setup/ CRDs included) through ONE
                 pulumi_kubernetes.yaml.ConfigGroup v1 with no transformations; shown with the
                 naive/dev ratio. Runs in `python -m tools.bench --naive-child`, with Python's
                 defaults: it is the issue's gauge of the machine ("about 11 s here").
  naive, no GC   with --naive-without-gc: the same with the cyclic garbage collector off, as the
                 render runs, to tell the design's gain from the collector's.
  200 app monitors  "not yet available" unless --apps-config FILE exists; then
                 `python -m pks_monitoring.offline.render --config FILE --out TMP`, and with --apps N the cost
                 per app, (apps median - dev median) / N.

With --real, a second table: the real Pulumi CLI against a real local control plane, for the
program's `local` stack and the naive program, one run each, beside the offline medians above
(tools/bench_real.py; a few minutes, needs the built toolchain).

The manifests come from $KUBE_PROMETHEUS_MANIFESTS if set, else
the release Pulumi.yaml pins.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from pks_monitoring.settings import MANIFESTS_ENV, PROJECT_ROOT
from pks_monitoring.stack_file import read_config


def manifests_dir() -> Path:
    env = os.environ.get(MANIFESTS_ENV)
    if env:
        return Path(env)
    project = read_config(PROJECT_ROOT / "Pulumi.yaml")
    return PROJECT_ROOT / project["pks-monitoring:kubePrometheus"]["value"]["manifests"]


def naive_files(root: Path | None = None) -> list[Path]:
    """What the naive program applies: every manifest, setup/ (namespace, CRDs) first."""
    root = root or manifests_dir()
    return sorted((root / "setup").glob("*.yaml")) + sorted(root.glob("*.yaml"))


def naive_program(without_gc: bool = False) -> None:
    """One v1 ConfigGroup over every manifest, CRDs included, under the same mocks as the render.

    This is the issue's reference program, which gauges the machine ("about 11 s here"), so it
    runs as written there: with Python's defaults, the cyclic garbage collector on. (The render
    turns the collector off; --naive-without-gc also measures the naive program so.)"""
    if without_gc:
        gc.disable()
    import pulumi
    import pulumi_kubernetes as k8s

    from pks_monitoring.offline.mock_engine import Recorder
    from pks_monitoring.settings import PROJECT

    recorder = Recorder()
    pulumi.runtime.set_mocks(recorder, project=PROJECT, stack="dev", preview=False)
    files = naive_files()

    @pulumi.runtime.test
    def program():
        return k8s.yaml.ConfigGroup("naive", files=[str(f) for f in files]).resources

    program()
    print(f"{len(recorder.kubernetes_objects())} objects from {len(files)} files")


@dataclass
class Result:
    name: str
    seconds: list[float]
    peak_rss_mb: float

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def run_once(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one child process running `argv`."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        child = subprocess.Popen(argv, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(child.pid, 0)
        elapsed = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            log.seek(0)
            sys.exit(f"{' '.join(argv)} failed ({child.returncode}):\n{log.read().decode()}")
    return elapsed, usage.ru_maxrss / 1024  # ru_maxrss is KiB on Linux


def measure(name: str, argv: list[str], runs: int, with_out_dir: bool = False) -> Result:
    seconds, peaks = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
            elapsed, peak = run_once(argv + (["--out", str(Path(tmp) / "render")] if with_out_dir else []))
        seconds.append(elapsed)
        peaks.append(peak)
        print(f"  {name}: run {len(seconds)}/{runs} {elapsed:.3f}s", file=sys.stderr)
    return Result(name, seconds, max(peaks))


def table(results: list[Result], notes: list[tuple[str, str]]) -> str:
    width = max(len(r.name) for r in results + [Result(n, [0], 0) for n, _ in notes])
    head = f"{'':<{width}}  {'median s':>9}  {'min s':>8}  {'max s':>8}  {'peak RSS MB':>11}"
    lines = [head, "-" * len(head)]
    for r in results:
        lines.append(
            f"{r.name:<{width}}  {r.median:>9.3f}  {min(r.seconds):>8.3f}  {max(r.seconds):>8.3f}"
            f"  {r.peak_rss_mb:>11.1f}"
        )
    lines += [f"{name:<{width}}  {note}" for name, note in notes]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per measurement (default 5)")
    parser.add_argument("--apps-config", type=Path, help="stack config with the app monitors")
    parser.add_argument("--apps", type=int, help="how many apps --apps-config declares")
    parser.add_argument(
        "--naive-without-gc",
        action="store_true",
        help="also measure the naive program with the garbage collector off, as the render runs",
    )
    parser.add_argument(
        "--real",
        action="store_true",
        help="also time preview/up/no-op up/destroy with the real CLI on a local control plane "
        "(one run each; --runs applies to the offline measurements only)",
    )
    parser.add_argument("--naive-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--no-gc", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.naive_child:
        naive_program(without_gc=args.no_gc)
        return 0
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    py = sys.executable
    dev = measure(
        "dev render", [py, "-m", "pks_monitoring.offline.render", "--stack", "dev"], args.runs, True
    )
    naive = measure("naive program", [py, "-m", "tools.bench", "--naive-child"], args.runs)
    results = [dev, naive]
    notes = [
        (
            "naive/dev",
            f"{naive.median / dev.median:.2f}x median time, "
            f"{naive.peak_rss_mb / dev.peak_rss_mb:.2f}x peak RSS",
        )
    ]
    if args.naive_without_gc:
        naive_no_gc = measure(
            "naive, no GC", [py, "-m", "tools.bench", "--naive-child", "--no-gc"], args.runs
        )
        results.append(naive_no_gc)
        notes.append(("naive, no GC/dev", f"{naive_no_gc.median / dev.median:.2f}x median time"))
    if args.apps_config and args.apps_config.is_file():
        config = str(args.apps_config.resolve())
        apps = measure(
            "200 app monitors",
            [py, "-m", "pks_monitoring.offline.render", "--config", config],
            args.runs,
            True,
        )
        results.append(apps)
        if args.apps:
            per_app = (apps.median - dev.median) / args.apps
            notes.append(("cost per app", f"{per_app * 1000:.1f} ms ((apps - dev) median / {args.apps})"))
    else:
        notes.append(("200 app monitors", "not yet available (no --apps-config FILE)"))
    print(f"{args.runs} runs each, {manifests_dir().resolve()}")
    print(table(results, notes))
    if args.real:
        from tools.bench_real import real_benchmark

        print()
        print(real_benchmark(offline={"program": dev.median, "naive": naive.median}, runs=args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
