"""`kubePrometheus.namespace`: a namespace of the stack's own, never one the cluster's software
lives in."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, RELEASE_MANIFESTS, assert_one_line_error

KEY = "pks-monitoring:kubePrometheus"


def in_namespace(namespace: str) -> dict:
    return {**BASE, KEY: {"manifests": RELEASE_MANIFESTS, "namespace": namespace}}


@pytest.mark.parametrize(
    "namespace",
    # Kubernetes' own (kube- is reserved for them), TKGI's sinks, NSX-T's NCP, TMC's agents.
    [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "kube-anything",
        "default",
        "pks-system",
        "nsx-system",
        "vmware-system-tmc",
    ],
)
def test_a_system_namespace_is_refused(namespace):
    assert_one_line_error(
        in_namespace(namespace), f"{KEY}.namespace", f"{namespace!r} is a namespace of the cluster's own"
    )


@pytest.mark.parametrize("namespace", ["monitoring", "kube", "kubernetes-monitoring", "pks-monitoring"])
def test_a_namespace_of_its_own_is_taken(namespace):
    assert Settings.from_raw(in_namespace(namespace)).kube_prometheus.namespace == namespace
