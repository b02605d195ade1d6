"""The benchmark's real-engine table (`python -m tools.bench --real`): the real Pulumi CLI
(tools/pulumi.sh) against a real local control plane (tools/local-cluster.sh), one run each.

Two projects run one after the other on one cluster and one file backend, both made for the run
and removed after it (the cluster with `down --purge`, whatever happened):

  program  this repository's `local` stack: Pulumi.local.yaml copied, Grafana's admin password
           set as a secret in the copy, passed with --config-file.
  naive    the benchmark's naive program (tools/bench.py naive_program) on the real engine: a
           project written to a temporary folder, the repository's .venv as its virtualenv, ALL of
           manifests/ (setup/ first) through ONE pulumi_kubernetes.yaml.ConfigGroup v1 with an
           explicit Provider(context="local-tkgi").

Each gets, in this order, the wall seconds of the whole `tools/pulumi.sh` command:

  preview        `pulumi preview` (the stack is new: everything to create)
  up from empty  `pulumi up --yes --skip-preview`
  no-op up       `pulumi up --yes --expect-no-changes` (the second up: exits non-zero on a change)
  destroy        `pulumi destroy --yes`

A failed command is timed all the same, marked in the table, and its errors are listed under it;
the phases after it still run (destroy above all: the next project needs an empty cluster). The
offline line repeats the offline medians (dev stack render, naive program under the mocks).

The cluster has addresses of its own (CLUSTER_ENV): the e2e tier's and the developer's
`tools/local-stack.sh` cluster can run at the same time.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from pks_monitoring.settings import PROJECT_ROOT
from tools.bench import naive_files

CONTEXT = "local-tkgi"
CLUSTER_ENV = {
    "LOCAL_CLUSTER_API_PORT": "38443",
    "LOCAL_CLUSTER_ETCD_PORT": "34379",
    "LOCAL_CLUSTER_ETCD_PEER_PORT": "34380",
    "LOCAL_CLUSTER_KCM_PORT": "32257",
    "LOCAL_CLUSTER_SCHEDULER_PORT": "32259",
    "LOCAL_CLUSTER_KWOK_PORT": "32247",
    "LOCAL_CLUSTER_SERVICE_CIDR": "127.100.202.0/24",
    "LOCAL_CLUSTER_NODE_IPS": "127.0.3.11 127.0.3.12 127.0.3.13",
}
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("preview", ("preview",)),
    ("up from empty", ("up", "--yes", "--skip-preview")),
    ("no-op up", ("up", "--yes", "--expect-no-changes")),
    ("destroy", ("destroy", "--yes")),
)
# The subcommands that read the stack's settings, so get the copy with the secret.
TAKES_CONFIG = ("up", "preview", "refresh", "destroy", "config")
PULUMI_SH = PROJECT_ROOT / "tools" / "pulumi.sh"
CLUSTER_SH = PROJECT_ROOT / "tools" / "local-cluster.sh"
COMMAND_TIMEOUT = 900


@dataclass(frozen=True)
class Project:
    label: str  # the table's column
    directory: Path  # the cwd of tools/pulumi.sh: the project it runs
    stack: str
    config_file: Path | None = None
    env: Mapping[str, str] = field(default_factory=dict)  # for its commands only

    def pulumi(self, *args: str) -> list[str]:
        extra = (
            ["--config-file", str(self.config_file)] if self.config_file and args[0] in TAKES_CONFIG else []
        )
        return ["bash", str(PULUMI_SH), "-s", self.stack, *args, *extra]


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float
    returncode: int
    output: str  # stdout and stderr, for the failure's summary

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    def cell(self) -> str:
        return f"{self.seconds:.1f}" if self.ok else f"{self.seconds:.1f} FAILED"


@dataclass
class Column:
    project: Project
    phases: list[Phase]
    resources: int | None = None  # in the stack after `up from empty`
    note: str = ""  # why it did not run, if it did not


def naive_project_files(files: Sequence[Path], venv: Path, context: str = CONTEXT) -> dict[str, str]:
    """Pulumi.yaml and __main__.py of the naive program: the file list is written into it, so
    that the program is the ConfigGroup and nothing else (no import of this repository)."""
    pulumi_yaml = (
        "name: naive-kube-prometheus\n"
        "description: every kube-prometheus manifest through one ConfigGroup v1 (tools/bench_real.py)\n"
        "runtime:\n"
        "  name: python\n"
        "  options:\n"
        "    toolchain: pip\n"
        f"    virtualenv: {venv.resolve()}\n"
    )
    listed = "".join(f"    {str(f.resolve())!r},\n" for f in files)
    main = (
        '"""The naive program: every manifest, CRDs included, through one ConfigGroup v1."""\n\n'
        "import pulumi\n"
        "import pulumi_kubernetes as k8s\n\n"
        f"FILES = [\n{listed}]\n\n"
        f"provider = k8s.Provider({context!r}, context={context!r})\n"
        'k8s.yaml.ConfigGroup("naive", files=FILES, opts=pulumi.ResourceOptions(provider=provider))\n'
    )
    return {"Pulumi.yaml": pulumi_yaml, "__main__.py": main}


def resource_count(export: Mapping[str, object]) -> int:
    """Resources of a `pulumi stack export`, the Stack and the providers left out."""
    deployment = export.get("deployment")
    resources = deployment.get("resources") if isinstance(deployment, dict) else None
    return sum(
        1
        for r in resources or []
        if not r["type"].startswith("pulumi:providers:") and r["type"] != "pulumi:pulumi:Stack"
    )


def failure_summary(output: str, limit: int = 8) -> str:
    """The error lines of a failed CLI run (the engine repeats them: each once), else its tail."""
    seen: list[str] = []
    for line in output.splitlines():
        text = line.strip()
        if ("error:" in text or "error " in text.lower()[:6]) and text not in seen:
            seen.append(text)
    lines = seen or [line for line in output.splitlines() if line.strip()][-limit:]
    more = len(seen) - limit
    return "\n".join(lines[:limit] + ([f"... and {more} more error lines"] if more > 0 else []))


def real_table(columns: Sequence[Column], offline: Mapping[str, float], runs: int) -> str:
    names = [name for name, _ in PHASES]
    left = [*names, "resources", f"offline render (median of {runs})"]
    width = max(map(len, left))
    cells: list[list[str]] = []
    for column in columns:
        by_name = {p.name: p for p in column.phases}
        values = [by_name[n].cell() if n in by_name else "not run" for n in names]
        values.append(str(column.resources) if column.resources is not None else "-")
        label = column.project.label
        values.append(f"{offline[label]:.1f}" if label in offline else "-")
        cells.append(values)
    col = max([len(c.project.label) for c in columns] + [len(v) for vs in cells for v in vs] + [8])
    head = f"{'wall s':<{width}}" + "".join(f"  {c.project.label:>{col}}" for c in columns)
    lines = [
        "real engine: tools/pulumi.sh against tools/local-cluster.sh, one run each",
        head,
        "-" * len(head),
    ]
    for i, name in enumerate(left):
        lines.append(f"{name:<{width}}" + "".join(f"  {vs[i]:>{col}}" for vs in cells))
    lines.append("(offline render: the dev stack for the program, the naive program under the mocks)")
    lines += [
        f"({c.project.label}: with {', '.join(f'{k}={v}' for k, v in c.project.env.items())})"
        for c in columns
        if c.project.env
    ]
    problems = [
        f"{c.project.label} / {p.name} (exit {p.returncode}):\n{_indent(failure_summary(p.output))}"
        for c in columns
        for p in c.phases
        if not p.ok
    ] + [f"{c.project.label}: {c.note}" for c in columns if c.note]
    if problems:
        lines += ["", "problems:", *problems]
    return "\n".join(lines)


def _indent(text: str) -> str:
    return "\n".join(f"    {line}" for line in text.splitlines())


def _say(message: str) -> None:
    print(f"  real: {message}", file=sys.stderr, flush=True)


def _run(argv: list[str], env: Mapping[str, str], cwd: Path, stdin: str | None = None) -> Phase:
    name = " ".join(argv[3:5]) if argv[:2] == ["bash", str(PULUMI_SH)] else " ".join(argv[-2:])
    start = time.perf_counter()
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env),
            input=stdin,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        returncode, output = done.returncode, done.stdout
    except subprocess.TimeoutExpired as timeout:
        raw = timeout.stdout or b""
        returncode = -1
        output = raw.decode() if isinstance(raw, bytes) else raw
        output += f"\nerror: timed out after {COMMAND_TIMEOUT}s"
    return Phase(name, time.perf_counter() - start, returncode, output)


def _check(phase: Phase, what: str) -> Phase:
    if not phase.ok:
        raise RuntimeError(f"{what} failed (exit {phase.returncode}):\n{phase.output[-4000:]}")
    return phase


def toolchain_path() -> str:
    script = 'source tools/toolchain/env.sh; PATH="$1"; toolchain_path'
    return subprocess.run(
        ["bash", "-c", script, "_", os.environ.get("PATH", "")],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


@contextmanager
def local_cluster(state: Path, env: Mapping[str, str]) -> Iterator[dict[str, str]]:
    """The bench's control plane; yields the env with its KUBECONFIG. Always stopped and purged."""
    env = {**env, **CLUSTER_ENV, "LOCAL_CLUSTER_DIR": str(state)}
    try:
        _say("starting the local cluster")
        up = _check(_run(["bash", str(CLUSTER_SH), "up"], env, PROJECT_ROOT), "local-cluster.sh up")
        last = up.output.strip().splitlines()[-1]
        expected = f"export KUBECONFIG={state / 'kubeconfig'}"
        if last != expected:
            raise RuntimeError(f"local-cluster.sh up ended with {last!r}, not {expected!r}")
        yield {**env, "KUBECONFIG": str(state / "kubeconfig")}
    finally:
        _say("stopping the local cluster")
        down = _run(["bash", str(CLUSTER_SH), "down", "--purge"], env, PROJECT_ROOT)
        if not down.ok:
            print(f"local-cluster.sh down --purge failed:\n{down.output[-2000:]}", file=sys.stderr)


def wait_until_clean(env: Mapping[str, str], seconds: float = 180) -> str:
    """'' once no kube-prometheus namespace or CRD is left, else what is left: the next project
    creates the same objects, and a Terminating namespace refuses them."""
    deadline = time.monotonic() + seconds
    left = ""
    while True:
        namespaces = _run(
            ["kubectl", "get", "namespace", "monitoring", "--ignore-not-found", "-o", "name"],
            env,
            PROJECT_ROOT,
        )
        crds = _run(["kubectl", "get", "crd", "-o", "name"], env, PROJECT_ROOT)
        left = " ".join(
            [*namespaces.output.split(), *(c for c in crds.output.split() if "monitoring.coreos.com" in c)]
        )
        if namespaces.ok and crds.ok and not left:
            return ""
        if time.monotonic() > deadline:
            return left or f"kubectl failed: {namespaces.output[-500:]} {crds.output[-500:]}"
        time.sleep(1)


def full_teardown(env: Mapping[str, str]) -> None:
    """The README's full teardown after the program's destroy, which keeps the namespace and the
    CRDs (retained on delete): the naive program starts from an empty cluster as the program did."""
    _run(
        ["kubectl", "delete", "namespace", "monitoring", "--ignore-not-found", "--wait=false"],
        env,
        PROJECT_ROOT,
    )
    crds = _run(["kubectl", "get", "crd", "-o", "name"], env, PROJECT_ROOT)
    ours = [c for c in crds.output.split() if c.endswith(".monitoring.coreos.com")]
    if ours:
        _run(["kubectl", "delete", "--wait=false", *ours], env, PROJECT_ROOT)


def measure_project(project: Project, env: Mapping[str, str]) -> Column:
    column = Column(project, [])
    for name, args in PHASES:
        _say(f"{project.label}: {name}")
        phase = _run(project.pulumi(*args), {**env, **project.env}, project.directory)
        column.phases.append(Phase(name, phase.seconds, phase.returncode, phase.output))
        _say(f"{project.label}: {name} {phase.seconds:.1f}s{'' if phase.ok else ' FAILED'}")
        if name == "up from empty":
            export = _run(project.pulumi("stack", "export"), env, project.directory)
            if export.ok:
                column.resources = resource_count(json.loads(export.output))
    return column


def real_benchmark(offline: Mapping[str, float], runs: int) -> str:
    """Runs both projects on a fresh cluster and backend; the table, problems included."""
    with tempfile.TemporaryDirectory(prefix="bench-real-") as folder:
        tmp = Path(folder)
        base = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_CONFIG_PASSPHRASE")}
        base |= {"PATH": toolchain_path(), "PKS_PULUMI_STATE": str(tmp / "pulumi-state")}
        with local_cluster(tmp / "cluster", base) as env:
            program = Project("program", PROJECT_ROOT, "bench-local", tmp / "Pulumi.bench-local.yaml")
            shutil.copyfile(PROJECT_ROOT / "Pulumi.local.yaml", program.config_file)  # type: ignore[arg-type]
            naive_dir = tmp / "naive"
            naive_dir.mkdir()
            for name, text in naive_project_files(naive_files(), PROJECT_ROOT / ".venv").items():
                (naive_dir / name).write_text(text)
            # With patch force: without it the naive `up` stops on metrics-server's APIService
            # (a field conflict: kube-prometheus' adapter claims v1beta1.metrics.k8s.io, which the
            # TKGI-like cluster's metrics-server holds), so it would time nothing after that. With
            # it, the naive program takes the metrics API over, as it would on TKGI.
            naive = Project("naive", naive_dir, "bench-naive", env={"PULUMI_K8S_ENABLE_PATCH_FORCE": "true"})

            columns: list[Column] = []
            for project in (program, naive):
                _check(
                    _run(project.pulumi("stack", "select", "--create"), env, project.directory),
                    f"{project.label}: stack select --create",
                )
                if project.config_file:
                    # From standard input: the password never appears in a process listing.
                    _check(
                        _run(
                            project.pulumi(
                                "config", "set", "--secret", "--path", "pks-monitoring:grafana.adminPassword"
                            ),
                            env,
                            project.directory,
                            stdin=secrets.token_urlsafe(18),
                        ),
                        "config set --secret",
                    )
                full_teardown(env)
                left = wait_until_clean(env)
                if left:
                    columns.append(Column(project, [], note=f"not run: the cluster still has {left}"))
                    continue
                columns.append(measure_project(project, env))
    return real_table(columns, offline, runs)
