"""Issue 11 item 7 over the offline render: every pod of the stack's namespace satisfies the Pod
Security Standard the namespace is labelled to enforce (tests/helpers/pod_security_standards,
written from the Kubernetes page, not from the program's patches), and on NSX-T every
NetworkPolicy selector fits what NCP turns into firewall rules.

Prometheus and Alertmanager pods are built by prometheus-operator from their resources: the
pod's securityContext is the resource's spec.securityContext, its containers the operator's own
(prometheus / alertmanager, config-reloader, init-config-reloader), merged with the resource's
spec.containers / initContainers. The operator's containers are modelled here as its source
builds them, in v0.85.0 (kube-prometheus v0.16.0) and v0.92.0 (v0.18.0) alike:
pkg/prometheus/server/statefulset.go, pkg/alertmanager/statefulset.go and
pkg/operator/config_reloader.go set allowPrivilegeEscalation false, readOnlyRootFilesystem true
and capabilities.drop [ALL], nothing else; runAsNonRoot and seccomp come from the pod.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from pks_monitoring.offline.render import main, render
from pks_monitoring.settings import PROJECT_ROOT
from tests.helpers.pod_security_standards import violations
from tests.program.test_render_matrix import GRAFANA_LOGIN, pod_specs, rendered_objects

# Whole-program runs: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

NAMESPACE = "monitoring"  # the dev stack's
ENFORCE = "pod-security.kubernetes.io/enforce"
OPERATOR_CONTEXT = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "capabilities": {"drop": ["ALL"]},
}
OPERATOR_CONTAINERS = {
    "Prometheus": ("prometheus", "config-reloader"),
    "Alertmanager": ("alertmanager", "config-reloader"),
}
STORAGE_OFF = {"storage": {"enabled": False}}
SECURITY_CONTEXT_DENY = {
    "pks-monitoring:podSecurity": {"securityContextDeny": True},
    "pks-monitoring:grafana": {**GRAFANA_LOGIN, **STORAGE_OFF},
    "pks-monitoring:prometheus": STORAGE_OFF,
    "pks-monitoring:alertmanager": STORAGE_OFF,
    "pks-monitoring:demoApp": {"enabled": True},
}
CONTROLLER_LABELS = {
    "app.kubernetes.io/name": "ingress-nginx",
    "app.kubernetes.io/component": "controller",
    "app.kubernetes.io/instance": "ingress-nginx",
    "app.kubernetes.io/part-of": "ingress-nginx",
}
NSX_T = {
    "pks-monitoring:network": "nsx-t",
    "pks-monitoring:platform": "upstream",  # keeps prometheus-adapter: one more pod to check
    "pks-monitoring:grafana": {
        **GRAFANA_LOGIN,
        "expose": {
            "type": "Ingress",
            "host": "grafana.example.com",
            "ingressController": {
                "namespace": "ingress-nginx",
                "podLabels": CONTROLLER_LABELS,
                "cidrs": ["192.168.10.0/24"],
            },
        },
    },
}
# NCP's limits (VMware NSX Container Plugin 4.1, "Configuring Network Resources"): a label key
# becomes an NSX-T tag scope (at most 128 characters), its value a tag (at most 256); at most 4
# matchLabels per podSelector or namespaceSelector; at most 5 selectors per rule; no
# matchExpressions (Manager mode).
TAG_SCOPE, TAG_VALUE, MATCH_LABELS, RULE_SELECTORS = 128, 256, 4, 5


def operator_pod(obj: dict[str, Any]) -> dict[str, Any]:
    """The pod prometheus-operator makes from a Prometheus or Alertmanager resource."""
    spec = copy.deepcopy(obj["spec"])
    own = {c["name"]: c for c in spec.get("containers") or []}
    own_init = {c["name"]: c for c in spec.get("initContainers") or []}

    def made(name: str, overrides: dict[str, dict[str, Any]]) -> dict[str, Any]:
        container = {"name": name, "securityContext": copy.deepcopy(OPERATOR_CONTEXT)}
        extra = overrides.pop(name, {})
        context = {**container["securityContext"], **(extra.get("securityContext") or {})}
        return {**container, **extra, "securityContext": context}

    names = OPERATOR_CONTAINERS[obj["kind"]]
    return {
        **spec,
        "containers": [*(made(n, own) for n in names), *own.values()],
        "initContainers": [made("init-config-reloader", own_init), *own_init.values()],
    }


def pods(obj: dict[str, Any]) -> list[tuple[dict[str, Any], dict[str, str]]]:
    """(pod spec, pod annotations) of each pod an object makes."""
    if obj["kind"] in OPERATOR_CONTAINERS:
        return [(operator_pod(obj), (obj["spec"].get("podMetadata") or {}).get("annotations") or {})]
    specs = pod_specs(obj)
    if not specs:
        return []
    annotations = (obj["spec"]["template"].get("metadata") or {}).get("annotations") or {}
    return [(pod, annotations) for pod in specs]


def level_violations(out: Path) -> tuple[str, dict[str, list[str]], int]:
    """The level the namespace enforces, what each pod of it breaks, and how many pods."""
    namespace = next(
        obj
        for _, obj in rendered_objects(out)
        if obj["kind"] == "Namespace" and obj["metadata"]["name"] == NAMESPACE
    )
    labels = namespace["metadata"]["labels"]
    level = labels[ENFORCE]
    assert labels["pod-security.kubernetes.io/audit"] == labels["pod-security.kubernetes.io/warn"] == level
    found, count = {}, 0
    for relative, obj in rendered_objects(out):
        if obj["metadata"].get("namespace") != NAMESPACE:
            continue
        for pod, pod_annotations in pods(obj):
            count += 1
            broken = violations(pod, level, pod_annotations)
            if broken:
                found[relative] = broken
    return level, found, count


@pytest.fixture(scope="module")
def dev(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("psa") / "dev"
    render(PROJECT_ROOT / "Pulumi.dev.yaml", out)
    return out


def test_every_pod_of_the_dev_stack_satisfies_restricted(dev):
    level, found, count = level_violations(dev)
    assert level == "restricted"
    assert found == {}
    # blackbox-exporter, grafana, kube-state-metrics, the operator, Prometheus, Alertmanager
    assert count == 6


def test_upstream_as_shipped_breaks_restricted(kube_prometheus):
    """The checker is not vacuous: upstream's pods without the program's patches break
    restricted on the seccomp profile (blackbox-exporter, Prometheus, Alertmanager), and its
    node-exporter DaemonSet (which the program leaves out) breaks even baseline."""
    broken = {}
    for obj in kube_prometheus.objects:
        for pod, pod_annotations in pods(obj):
            found = violations(pod, "restricted", pod_annotations)
            if found:
                broken[f"{obj['kind']}/{obj['metadata']['name']}"] = found
    assert set(broken) == {
        "Deployment/blackbox-exporter",
        "DaemonSet/node-exporter",
        "Prometheus/k8s",
        "Alertmanager/main",
    }, broken
    assert all("seccompProfile" in v for v in broken["Prometheus/k8s"])
    node_exporter = pod_specs(kube_prometheus.find("DaemonSet", "node-exporter"))[0]
    assert {"pod: hostNetwork", "pod: hostPID", "volumes/sys: hostPath"} <= set(
        violations(node_exporter, "baseline")
    )


def test_security_context_deny_stack_is_labelled_baseline_and_satisfies_it(write_stack, tmp_path):
    out = tmp_path / "render"
    render(write_stack(SECURITY_CONTEXT_DENY), out)
    level, found, count = level_violations(out)
    assert (level, found) == ("baseline", {})
    assert count == 6
    # Why not restricted: the cut takes runAsNonRoot with the user it was checked against.
    prometheus = next(obj for _, obj in rendered_objects(out) if obj["kind"] == "Prometheus")
    assert any("runAsNonRoot" in v for v in violations(operator_pod(prometheus), "restricted"))


def selectors(policy: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every label selector of a NetworkPolicy, by where it is."""
    spec = policy["spec"]
    found = [("spec.podSelector", spec.get("podSelector") or {})]
    for direction, peers_key in (("ingress", "from"), ("egress", "to")):
        for i, rule in enumerate(spec.get(direction) or []):
            for j, peer in enumerate(rule.get(peers_key) or []):
                for kind in ("podSelector", "namespaceSelector"):
                    if kind in peer:
                        found.append((f"spec.{direction}[{i}].{peers_key}[{j}].{kind}", peer[kind]))
    return found


def test_nsx_t_stack_policies_fit_ncp_and_its_pods_satisfy_restricted(write_stack, tmp_path):
    out = tmp_path / "render"
    render(write_stack(NSX_T), out)
    policies = [obj for _, obj in rendered_objects(out) if obj["kind"] == "NetworkPolicy"]
    assert len(policies) >= 7
    checked = 0
    for policy in policies:
        name = policy["metadata"]["name"]
        for where, selector in selectors(policy):
            assert "matchExpressions" not in selector, (name, where)
            labels = selector.get("matchLabels") or {}
            assert len(labels) <= MATCH_LABELS, (name, where)
            for key, value in labels.items():
                assert len(key) <= TAG_SCOPE and len(value) <= TAG_VALUE, (name, where, key)
                checked += 1
        for direction, peers_key in (("ingress", "from"), ("egress", "to")):
            for rule in policy["spec"].get(direction) or []:
                count = sum(
                    ("podSelector" in p) + ("namespaceSelector" in p) for p in rule.get(peers_key) or []
                )
                assert count <= RULE_SELECTORS, (name, direction)
    grafana = next(p for p in policies if p["metadata"]["name"] == "grafana")
    assert any(dict(s.get("matchLabels") or {}) == CONTROLLER_LABELS for _, s in selectors(grafana))
    assert checked > 20
    level, found, count = level_violations(out)
    assert (level, found) == ("restricted", {})
    assert count == 7  # and prometheus-adapter


def test_nsx_t_refuses_a_node_port_grafana_in_the_render(write_stack, tmp_path, capsys):
    stack = write_stack(
        {**NSX_T, "pks-monitoring:grafana": {**GRAFANA_LOGIN, "expose": {"type": "NodePort"}}}
    )
    assert main(["--config", str(stack), "--out", str(tmp_path / "render")]) == 2
    assert "pks-monitoring:grafana.expose.type: NodePort is not usable on NSX-T" in capsys.readouterr().err
