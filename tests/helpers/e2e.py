"""The e2e tier's handles on the real things: the local cluster (kubectl) and stacks of the real
Pulumi CLI (tools/pulumi.sh) on a file backend. Fixtures: tests/e2e/conftest.py."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pks_monitoring.settings.types import PROJECT_ROOT
from pks_monitoring.stack_file import read_config

# What the tier runs on: the CLI and the provider, the control plane, the monitoring itself.
GROUPS = ("pulumi", "kubernetes", "monitoring")
# The e2e cluster's own addresses (tools/local-cluster.sh's defaults serve `local-stack.sh up`).
CLUSTER_ENV = {
    "LOCAL_CLUSTER_API_PORT": "37443",
    "LOCAL_CLUSTER_ETCD_PORT": "33379",
    "LOCAL_CLUSTER_ETCD_PEER_PORT": "33380",
    "LOCAL_CLUSTER_KCM_PORT": "31257",
    "LOCAL_CLUSTER_SCHEDULER_PORT": "31259",
    "LOCAL_CLUSTER_KWOK_PORT": "31247",
    "LOCAL_CLUSTER_SERVICE_CIDR": "127.100.201.0/24",
    "LOCAL_CLUSTER_NODE_IPS": "127.0.2.11 127.0.2.12 127.0.2.13",
    # `monitor`'s listeners (its defaults serve a developer's `monitor`).
    "LOCAL_MONITOR_PROMETHEUS_PORT": "39190",
    "LOCAL_MONITOR_ALERTMANAGER_PORT": "39193",
    "LOCAL_MONITOR_OPERATOR_PORT": "38180",
    "LOCAL_MONITOR_POD_NETWORK_PORT": "38988",
    "LOCAL_MONITOR_APP_PORT": "38181",
    "LOCAL_MONITOR_WEBHOOK_PORT": "39199",
}
LOCAL_CLUSTER = PROJECT_ROOT / "tools" / "local-cluster.sh"


def toolchain_bins(groups: tuple[str, ...] = GROUPS) -> list[Path]:
    """The bin folders of the built groups among `groups`."""
    script = (
        'source tools/toolchain/env.sh; for g in "$@"; do d="$(toolchain_dir "$g")"; '
        'if [ -f "$d/.complete" ]; then echo "$d/bin"; fi; done'
    )
    out = subprocess.run(
        ["bash", "-c", script, "_", *groups], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout
    return [Path(line) for line in out.splitlines()]


def run(args: list[str], env: dict[str, str], *, check: bool = True, timeout: float = 900, **kwargs: Any):
    """A command with its output kept for the failure message."""
    result = subprocess.run(
        args,
        cwd=kwargs.pop("cwd", PROJECT_ROOT),
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} exited {result.returncode}\n--- stdout\n{result.stdout[-6000:]}\n"
            f"--- stderr\n{result.stderr[-6000:]}"
        )
    return result


@dataclass
class Cluster:
    state: Path
    env: dict[str, str]

    @property
    def kubeconfig(self) -> Path:
        return self.state / "kubeconfig"

    def kubectl(
        self, *args: str, check: bool = True, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        return run(
            ["kubectl", "--kubeconfig", str(self.kubeconfig), *args],
            self.env,
            check=check,
            timeout=120,
            input=input,
        )

    def get(self, kind: str, name: str, namespace: str | None = None) -> dict[str, Any] | None:
        where = ["-n", namespace] if namespace else []
        result = self.kubectl("get", kind, name, *where, "-o", "json", "--ignore-not-found", check=True)
        return json.loads(result.stdout) if result.stdout.strip() else None

    def script(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """tools/local-cluster.sh on this cluster's state and addresses."""
        return run(["bash", str(LOCAL_CLUSTER), *args], self.env, check=check, timeout=timeout)

    def url(self, component: str) -> str:
        """http://127.0.0.1:<port> of a `monitor` listener (prometheus, alertmanager, ...)."""
        return f"http://127.0.0.1:{self.env[f'LOCAL_MONITOR_{component.upper()}_PORT']}"


@contextmanager
def local_cluster(
    state: Path, toolchain_path: str, addresses: dict[str, str] = CLUSTER_ENV
) -> Iterator[Cluster]:
    """A local TKGI-like control plane on `addresses` (CLUSTER_ENV's by default), started for the
    caller and stopped (state removed, `monitor`'s processes too) after."""
    env = {**os.environ, **addresses, "PATH": toolchain_path, "LOCAL_CLUSTER_DIR": str(state)}
    cluster = Cluster(state, {**env, "KUBECONFIG": str(state / "kubeconfig")})
    try:
        up = cluster.script("up")
        assert up.stdout.strip().splitlines()[-1] == f"export KUBECONFIG={state / 'kubeconfig'}"
        yield cluster
    finally:
        cluster.script("down", "--purge", check=False, timeout=300)


@dataclass
class Stack:
    """A stack of the real CLI (tools/pulumi.sh) on a file backend of its own, with its config in
    a file of the test's (`--config-file`), secrets set through `pulumi config set --secret`."""

    project: Path
    name: str
    config_file: Path
    env: dict[str, str]
    secrets: dict[str, str] = field(default_factory=dict)

    def pulumi(
        self, *args: str, check: bool = True, timeout: float = 900, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        takes_config = args[0] in ("up", "preview", "refresh", "destroy", "config")
        extra = ["--config-file", str(self.config_file)] if takes_config else []
        return run(
            ["bash", str(PROJECT_ROOT / "tools" / "pulumi.sh"), "-s", self.name, *args, *extra],
            {**self.env, **(env or {})},
            check=check,
            timeout=timeout,
            cwd=self.project,
        )

    def set_secret(self, path: str, value: str) -> None:
        # From standard input: the value never appears in a process listing.
        run(
            [
                "bash",
                str(PROJECT_ROOT / "tools" / "pulumi.sh"),
                "-s",
                self.name,
                "config",
                "set",
                "--secret",
                "--path",
                path,
                "--config-file",
                str(self.config_file),
            ],
            self.env,
            input=value,
            cwd=self.project,
        )
        self.secrets[path] = value

    def write_config(self, config: dict[str, Any]) -> None:
        """Replace the plain settings, keeping the secrets already set (set again)."""
        keep = dict(self.secrets)
        self.config_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        self.secrets.clear()
        for path, value in keep.items():
            self.set_secret(path, value)

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json").stdout)


def new_stack(
    project: Path, name: str, backend: Path, cluster: Cluster, tmp: Path, config: dict[str, Any]
) -> Stack:
    env = {**cluster.env, "PKS_PULUMI_STATE": str(backend)}
    env.pop("PULUMI_CONFIG_PASSPHRASE", None)
    stack = Stack(project, name, tmp / f"Pulumi.{name}.yaml", env)
    stack.config_file.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
    run(
        ["bash", str(PROJECT_ROOT / "tools" / "pulumi.sh"), "stack", "select", "--create", name],
        env,
        cwd=project,
    )
    return stack


def local_config() -> dict[str, Any]:
    """Pulumi.local.yaml's settings, as committed."""
    return read_config(PROJECT_ROOT / "Pulumi.local.yaml")


def marker(kind: str) -> str:
    """A secret value that can be grepped for and appears nowhere by chance."""
    return f"e2e-{kind}-{secrets.token_hex(8)}"
