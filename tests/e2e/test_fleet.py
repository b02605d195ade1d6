"""The fleet rollout end to end: `tools/pulumi.sh fleet` (the Automation API driving the real CLI
and provider) over two stacks on two local control planes, one stack each, as one stack per
TKGI cluster is meant to run. (Two stacks in two namespaces of one cluster clash: they share the
cluster-scoped objects, and four ClusterRoleBindings of the same name bind each stack's own
service accounts, so the second `up` would take them from the first.)

The health gate reads the Prometheus and Alertmanager resources' conditions through each
cluster's API server; kwok runs no operator, so the happy path plays each stack's
prometheus-operator with `tools/local-cluster.sh monitor` as soon as the stack has its resources.
Prometheus' targets cannot be read through the service proxy here (pod IPs are data only), so
every run passes `--no-targets`.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pks_monitoring.settings.types import PROJECT_ROOT
from tests.helpers.e2e import (
    CLUSTER_ENV,
    LOCAL_CLUSTER,
    Cluster,
    Stack,
    local_cluster,
    local_config,
    marker,
    new_stack,
    run,
)
from tests.helpers.settings import PINNED_MANIFESTS

# The second control plane's addresses: apart from CLUSTER_ENV's and from a developer's cluster.
SECOND_CLUSTER_ENV = {
    "LOCAL_CLUSTER_API_PORT": "37543",
    "LOCAL_CLUSTER_ETCD_PORT": "33479",
    "LOCAL_CLUSTER_ETCD_PEER_PORT": "33480",
    "LOCAL_CLUSTER_KCM_PORT": "31357",
    "LOCAL_CLUSTER_SCHEDULER_PORT": "31359",
    "LOCAL_CLUSTER_KWOK_PORT": "31347",
    "LOCAL_CLUSTER_SERVICE_CIDR": "127.100.202.0/24",
    "LOCAL_CLUSTER_NODE_IPS": "127.0.3.11 127.0.3.12 127.0.3.13",
    # Its own names in its kubeconfig, so that the two clusters never read as one.
    "LOCAL_CLUSTER_NAME": "fleet-b",
    "LOCAL_CLUSTER_CONTEXT": "fleet-b",
    "LOCAL_MONITOR_PROMETHEUS_PORT": "39290",
    "LOCAL_MONITOR_ALERTMANAGER_PORT": "39293",
    "LOCAL_MONITOR_OPERATOR_PORT": "38280",
    "LOCAL_MONITOR_POD_NETWORK_PORT": "39088",
    "LOCAL_MONITOR_APP_PORT": "38281",
    "LOCAL_MONITOR_WEBHOOK_PORT": "39299",
}
NAMESPACES = {"fleet-a": "monitoring-a", "fleet-b": "monitoring-b"}


@pytest.fixture(scope="module")
def second_cluster(toolchain_path, tmp_path_factory) -> Iterator[Cluster]:
    addresses = {**CLUSTER_ENV, **SECOND_CLUSTER_ENV}
    with local_cluster(tmp_path_factory.mktemp("second-cluster"), toolchain_path, addresses) as cluster:
        yield cluster


def settings(name: str) -> dict[str, Any]:
    config = local_config()
    config["pks-monitoring:cluster"] = name
    # The stack's value replaces the project's whole kubePrometheus: the manifests again.
    config["pks-monitoring:kubePrometheus"] = {"manifests": PINNED_MANIFESTS, "namespace": NAMESPACES[name]}
    return config


@pytest.fixture(scope="module")
def stacks(cluster, second_cluster, backend, tmp_path_factory) -> dict[str, tuple[Stack, Cluster]]:
    """fleet-a on the first cluster (its context, the fleet's KUBECONFIG), fleet-b on the second
    (its whole kubeconfig as the secret `kubernetes:kubeconfig`)."""
    tmp = tmp_path_factory.mktemp("fleet")
    a = new_stack(PROJECT_ROOT, "fleet-a", backend, cluster, tmp, settings("fleet-a"))
    config_b = settings("fleet-b")
    del config_b["kubernetes:context"]
    b = new_stack(PROJECT_ROOT, "fleet-b", backend, second_cluster, tmp, config_b)
    b.set_secret("kubernetes:kubeconfig", second_cluster.kubeconfig.read_text())
    for stack in (a, b):
        stack.set_secret("pks-monitoring:grafana.adminPassword", marker("password"))
    return {"fleet-a": (a, cluster), "fleet-b": (b, second_cluster)}


def fleet_file(tmp: Path, stacks: dict[str, tuple[Stack, Cluster]], config_files: dict[str, Path]) -> Path:
    """fleet-a's wave before fleet-b's; each stack's config file and its cluster's kubeconfig."""
    waves = [
        {
            "name": f"wave-{name[-1]}",
            "stacks": [
                {"name": name, "configFile": str(config_files[name]), "kubeconfig": str(c.kubeconfig)}
            ],
        }
        for name, (_, c) in stacks.items()
    ]
    path = tmp / "fleet.yaml"
    path.write_text(yaml.safe_dump({"waves": waves}))
    return path


def rollout(stacks, tmp: Path, *flags: str, config_files: dict[str, Path] | None = None):
    config_files = config_files or {name: stack.config_file for name, (stack, _) in stacks.items()}
    stack_a, _ = stacks["fleet-a"]
    result = run(
        [
            "bash",
            str(PROJECT_ROOT / "tools" / "pulumi.sh"),
            "fleet",
            "--fleet",
            str(fleet_file(tmp, stacks, config_files)),
            "--no-targets",
            *flags,
        ],
        stack_a.env,
        check=False,
        timeout=1800,
    )
    for stack, _ in stacks.values():
        for secret in stack.secrets.values():
            assert secret not in result.stdout + result.stderr
    return result


def table(stdout: str) -> dict[str, list[str]]:
    """The summary's rows by stack: [wave, preview, up, health, changes...]."""
    rows = [line.split() for line in stdout.splitlines() if line.strip()]
    start = rows.index(["stack", "wave", "preview", "up", "health", "changes"])
    return {row[0]: row[1:] for row in rows[start + 1 :] if row[0] in NAMESPACES}


def untouched(stack: Stack, cluster: Cluster, namespace: str) -> bool:
    return stack.outputs() == {} and cluster.get("namespace", namespace) is None


def test_a_failed_preview_stops_the_fleet_before_any_up(stacks, tmp_path):
    stack_b, _ = stacks["fleet-b"]
    # fleet-b refused by its settings (an unquoted 1.30 reads as 1.3): its preview fails.
    broken = yaml.safe_load(stack_b.config_file.read_text())
    broken["config"]["pks-monitoring:kubernetesVersion"] = "1.3"
    broken_file = tmp_path / "Pulumi.fleet-b.yaml"
    broken_file.write_text(yaml.safe_dump(broken))
    stack_a, _ = stacks["fleet-a"]
    result = rollout(stacks, tmp_path, config_files={"fleet-a": stack_a.config_file, "fleet-b": broken_file})
    assert result.returncode == 1, result.stderr[-3000:]
    rows = table(result.stdout)
    assert rows["fleet-a"][1:4] == ["ok", "-", "-"]
    assert rows["fleet-b"][1:4] == ["failed", "-", "-"]
    assert "kubernetesVersion" in result.stdout
    for name, (stack, cluster) in stacks.items():
        assert untouched(stack, cluster, NAMESPACES[name])


def test_a_failed_health_gate_stops_the_rollout_before_the_next_wave(stacks, tmp_path):
    # No prometheus-operator runs yet: fleet-a's resources are never reconciled.
    result = rollout(stacks, tmp_path, "--health-timeout", "30")
    assert result.returncode == 1, result.stderr[-3000:]
    rows = table(result.stdout)
    assert rows["fleet-a"][1:4] == ["ok", "ok", "failed"]
    assert rows["fleet-b"][1:4] == ["ok", "-", "-"]
    assert "fleet-a: not healthy after 30 s: Prometheus k8s: no Available condition yet" in result.stdout
    stack_a, cluster_a = stacks["fleet-a"]
    assert stack_a.outputs()["namespace"] == "monitoring-a"
    assert cluster_a.get("prometheus", "k8s", "monitoring-a") is not None
    stack_b, cluster_b = stacks["fleet-b"]
    assert untouched(stack_b, cluster_b, "monitoring-b")


def play_operator_when_deployed(cluster: Cluster, namespace: str, failures: list[str]) -> threading.Thread:
    """`monitor` for the stack in `namespace` once its Prometheus resource and operator pod exist
    (what a cluster's own pods would do from the `up` on)."""

    def play() -> None:
        env = {**cluster.env, "LOCAL_MONITOR_NAMESPACE": namespace}
        ready = (
            'until kubectl get prometheus k8s -n "$1" >/dev/null 2>&1 && '
            'kubectl get pods -n "$1" -l app.kubernetes.io/name=prometheus-operator '
            "-o jsonpath='{.items[0].status.podIP}' 2>/dev/null | grep -q .; do sleep 2; done"
        )
        try:
            run(["timeout", "1200", "bash", "-c", ready, "_", namespace], env, timeout=1300)
            run(["bash", str(LOCAL_CLUSTER), "monitor"], env, timeout=900)
        except AssertionError as error:
            failures.append(str(error))

    thread = threading.Thread(target=play, daemon=True)
    thread.start()
    return thread


def test_the_fleet_rolls_out_wave_by_wave_and_each_stack_passes_its_gate(stacks, tmp_path):
    failures: list[str] = []
    players = [
        play_operator_when_deployed(cluster, NAMESPACES[name], failures)
        for name, (_, cluster) in stacks.items()
    ]
    result = rollout(stacks, tmp_path, "--health-timeout", "600")
    for player in players:
        player.join(timeout=60)
    assert not failures, failures[0][-3000:]
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    rows = table(result.stdout)
    assert {name: row[1:4] for name, row in rows.items()} == {name: ["ok", "ok", "ok"] for name in NAMESPACES}
    # fleet-b's update started only after the last word of fleet-a's.
    assert result.stderr.index("[fleet-b] Updating (fleet-b)") > result.stderr.rindex("[fleet-a] ")
    for name, (stack, cluster) in stacks.items():
        assert stack.outputs()["namespace"] == NAMESPACES[name]
        prometheus = cluster.get("prometheus", "k8s", NAMESPACES[name])
        assert prometheus is not None
        reconciled = {c["type"]: c for c in prometheus["status"]["conditions"]}["Reconciled"]
        assert (reconciled["status"], reconciled["observedGeneration"]) == (
            "True",
            prometheus["metadata"]["generation"],
        )
    # A second rollout changes nothing: both stacks are what their settings say.
    again = rollout(stacks, tmp_path, "--dry-run")
    assert again.returncode == 0
    assert all(row[4:] == [] for row in table(again.stdout).values()), again.stdout
