"""The health gate after a stack's `up`, read through its cluster's API server: the Prometheus
`k8s` and Alertmanager `main` resources reconciled by prometheus-operator for their current
generation, and Prometheus' active targets up (through the API server's service proxy, so no
port-forward; skipped for a cluster that runs no Prometheus)."""

from __future__ import annotations

import json
import shlex
import subprocess
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Optional

# What the operator reports on each resource once it has made the pods of its current spec.
CONDITIONS = ("Available", "Reconciled")
MONITORING_API = "/apis/monitoring.coreos.com/v1/namespaces/{ns}"
RESOURCES = (("Prometheus", "prometheuses", "k8s"), ("Alertmanager", "alertmanagers", "main"))
TARGETS = "/api/v1/namespaces/{ns}/services/prometheus-k8s:web/proxy/api/v1/targets?state=active"


class Unreadable(Exception):
    """The API server did not answer a read (its one-line reason)."""


# A GET of an API path, its JSON body: kubectl against the stack's cluster, or a fake.
Get = Callable[[str], Mapping[str, Any]]


def resource_problems(kind: str, name: str, obj: Mapping[str, Any]) -> list[str]:
    """What keeps the resource from counting as reconciled for its current spec."""
    generation = obj.get("metadata", {}).get("generation")
    conditions = {c.get("type"): c for c in obj.get("status", {}).get("conditions") or []}
    problems = []
    for wanted in CONDITIONS:
        condition = conditions.get(wanted)
        if condition is None:
            problems.append(f"{kind} {name}: no {wanted} condition yet (is prometheus-operator running?)")
        elif condition.get("status") != "True":
            why = ": ".join(filter(None, (condition.get("reason"), condition.get("message"))))
            problems.append(
                f"{kind} {name}: {wanted} is {condition.get('status')}" + (f" ({why})" if why else "")
            )
        elif condition.get("observedGeneration") != generation:
            problems.append(
                f"{kind} {name}: {wanted} is for generation {condition.get('observedGeneration')}, "
                f"the spec is at {generation}"
            )
    return problems


def target_problems(body: Mapping[str, Any]) -> list[str]:
    """Every active target that is not up; none at all is a problem too."""
    targets = body.get("data", {}).get("activeTargets") or []
    if not targets:
        return ["Prometheus k8s: no active targets"]
    return [
        f"target {t.get('labels', {}).get('job')} {t.get('labels', {}).get('instance')}: "
        f"{t.get('health')} ({t.get('lastError') or 'no error given'})"
        for t in targets
        if t.get("health") != "up"
    ]


def problems(get: Get, namespace: str, *, targets: bool = True) -> list[str]:
    """Everything unhealthy about the stack in `namespace` now."""
    found: list[str] = []
    try:
        for kind, plural, name in RESOURCES:
            found += resource_problems(
                kind, name, get(f"{MONITORING_API.format(ns=namespace)}/{plural}/{name}")
            )
        if targets and not found:
            found += target_problems(get(TARGETS.format(ns=namespace)))
    except Unreadable as error:
        found.append(str(error))
    return found


def wait_healthy(
    get: Get,
    namespace: str,
    *,
    targets: bool = True,
    timeout: float = 300,
    interval: float = 5,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Optional[str]:
    """None once healthy; else, after `timeout` seconds, the problems of the last look."""
    deadline = clock() + timeout
    while True:
        found = problems(get, namespace, targets=targets)
        if not found:
            return None
        if clock() >= deadline:
            return f"not healthy after {timeout:g} s: " + "; ".join(found)
        sleep(interval)


def kubectl_where(port_forward: str, kubeconfig: Optional[Path]) -> list[str]:
    """kubectl's flags for the stack's cluster, from its `portForward` output (`kubectl --context
    C -n NS port-forward ...`) and the fleet file's kubeconfig for it."""
    words = shlex.split(port_forward)
    where = ["--kubeconfig", str(kubeconfig)] if kubeconfig else []
    if "--context" in words:
        return [*where, "--context", words[words.index("--context") + 1]]
    if not kubeconfig:
        raise Unreadable(
            "the stack's kubeconfig has no context kubectl can be aimed at: give the stack a kubeconfig in the fleet file"
        )
    return where


def kubectl_get(where: list[str], timeout: float = 30) -> Get:
    """A GET through kubectl (`get --raw`) with the stack's cluster flags."""

    def get(path: str) -> Mapping[str, Any]:
        try:
            result = subprocess.run(
                ["kubectl", *where, "get", "--raw", path], capture_output=True, text=True, timeout=timeout
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise Unreadable(f"cannot run kubectl: {error}") from None
        if result.returncode != 0:
            lines = result.stderr.strip().splitlines() or [f"kubectl exited {result.returncode}"]
            raise Unreadable(f"GET {path.split('?')[0]}: {lines[-1]}")
        body = json.loads(result.stdout)
        return body if isinstance(body, dict) else {}

    return get


def stack_problem(
    outputs: Mapping[str, Any], kubeconfig: Optional[Path], *, targets: bool, timeout: float
) -> Optional[str]:
    """The gate of one stack, aimed by its outputs: `namespace` and `portForward`'s kubectl."""
    namespace = outputs.get("namespace")
    port_forward = (outputs.get("portForward") or {}).get("prometheus")
    if not isinstance(namespace, str) or not isinstance(port_forward, str):
        return "the stack has no namespace or portForward output (not a pks-monitoring stack?)"
    try:
        where = kubectl_where(port_forward, kubeconfig)
    except Unreadable as error:
        return str(error)
    return wait_healthy(kubectl_get(where), namespace, targets=targets, timeout=timeout)
