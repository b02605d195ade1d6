"""`podSecurity`'s pure functions on manifest dicts: the Pod Security Admission labels of the
namespace, the RuntimeDefault seccomp default, and how both sit with the SecurityContextDeny cut."""

from __future__ import annotations

import copy

from pks_monitoring.parts.pod_security import (
    admission_level,
    default_seccomp,
    deny_security_context,
    label_namespace,
)
from pks_monitoring.settings import Settings
from tests.helpers.pod_security_standards import violations
from tests.helpers.settings import BASE, KUBERNETES_VERSION

RUNTIME_DEFAULT = {"type": "RuntimeDefault"}
STORAGE_OFF = {"storage": {"enabled": False}}
DENY = {
    **BASE,
    "pks-monitoring:podSecurity": {"securityContextDeny": True},
    **{f"pks-monitoring:{part}": STORAGE_OFF for part in ("prometheus", "alertmanager", "grafana")},
}


def deployment(pod: dict) -> dict:
    return {"kind": "Deployment", "metadata": {"name": "x"}, "spec": {"template": {"spec": pod}}}


def admission_labels(namespace: dict) -> dict:
    return {k: v for k, v in namespace["metadata"]["labels"].items() if k.startswith("pod-security.")}


def test_namespace_enforces_audits_and_warns_restricted_at_the_clusters_minor(kube_prometheus):
    namespace = kube_prometheus.namespace_manifest()
    assert admission_labels(namespace) == {  # upstream: warn only, privileged (its node-exporter)
        "pod-security.kubernetes.io/warn": "privileged",
        "pod-security.kubernetes.io/warn-version": "latest",
    }
    label_namespace(namespace, Settings.from_raw(BASE))
    version = f"v{KUBERNETES_VERSION}"
    assert admission_labels(namespace) == {
        "pod-security.kubernetes.io/enforce": "restricted",
        "pod-security.kubernetes.io/enforce-version": version,
        "pod-security.kubernetes.io/audit": "restricted",
        "pod-security.kubernetes.io/audit-version": version,
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/warn-version": version,
    }
    assert namespace["metadata"]["name"] == "monitoring"


def test_security_context_deny_lowers_the_level_to_baseline(kube_prometheus):
    settings = Settings.from_raw(DENY)
    assert admission_level(settings) == "baseline"
    namespace = kube_prometheus.namespace_manifest()
    label_namespace(namespace, settings)
    assert {v for k, v in admission_labels(namespace).items() if not k.endswith("-version")} == {"baseline"}


def test_a_namespace_without_labels_gets_them():
    namespace = {"kind": "Namespace", "metadata": {"name": "monitoring"}}
    label_namespace(namespace, Settings.from_raw(BASE))
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_seccomp_default_on_a_pod_that_names_none():
    """blackbox-exporter as upstream ships it: no pod securityContext, two of its three
    containers without a seccomp profile: restricted refuses it, and holds after the default."""
    hardened = {
        "allowPrivilegeEscalation": False,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "runAsUser": 65534,
    }
    pod = {
        "containers": [
            {"name": "a", "securityContext": dict(hardened)},
            {"name": "b", "securityContext": {**hardened, "seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}},
        ]
    }  # fmt: skip
    obj = deployment(pod)
    assert violations(pod, "restricted") == [
        "containers/a: seccompProfile RuntimeDefault/Localhost not set (here or on the pod)"
    ]
    default_seccomp(obj)
    assert pod["securityContext"] == {"seccompProfile": RUNTIME_DEFAULT}
    assert pod["containers"][1]["securityContext"]["seccompProfile"]["type"] == "Localhost"  # its own stays
    assert violations(pod, "restricted") == []


def test_seccomp_default_keeps_a_profile_the_pod_names_and_its_other_fields():
    pod = {"securityContext": {"runAsUser": 1000, "seccompProfile": {"type": "Localhost"}}, "containers": []}
    default_seccomp(deployment(pod))
    assert pod["securityContext"] == {"runAsUser": 1000, "seccompProfile": {"type": "Localhost"}}


def test_seccomp_default_on_the_resources_prometheus_operator_builds_pods_from():
    for kind in ("Prometheus", "Alertmanager"):
        obj = {
            "kind": kind,
            "spec": {"securityContext": {"fsGroup": 2000, "runAsNonRoot": True, "runAsUser": 1000}},
        }
        default_seccomp(obj)
        assert obj["spec"]["securityContext"]["seccompProfile"] == RUNTIME_DEFAULT, kind


def test_seccomp_default_leaves_other_kinds_alone():
    for obj in (
        {"kind": "Service", "spec": {"ports": []}},
        {"kind": "ConfigMap", "data": {}},
        {"kind": "List", "items": []},
    ):
        before = copy.deepcopy(obj)
        default_seccomp(obj)
        assert obj == before


def test_security_context_deny_keeps_the_seccomp_default_and_baseline_holds():
    """The two do not fight: the cut takes the user fields (and runAsNonRoot with them), the
    seccomp default stays; restricted then fails on runAsNonRoot only, baseline holds."""
    pod = {
        "securityContext": {"fsGroup": 2000, "runAsNonRoot": True, "runAsUser": 1000},
        "containers": [
            {
                "name": "c",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            }
        ],
    }
    obj = deployment(pod)
    default_seccomp(obj)
    assert violations(pod, "restricted") == []
    deny_security_context(obj)
    assert pod["securityContext"] == {"seccompProfile": RUNTIME_DEFAULT}
    assert violations(pod, "restricted") == ["containers/c: runAsNonRoot is not true (here or on the pod)"]
    assert violations(pod, "baseline") == []
