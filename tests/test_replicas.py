"""Replicas and disruption budgets (pks_monitoring.workloads), as plain functions on dicts."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings

from pks_monitoring.workloads import drop_disruption_budget, set_replicas
from tests.helpers.manifests import PROMETHEUS, identity, manifest, objects


def test_set_replicas_changes_only_the_named_object(kube_prometheus):
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    set_replicas(prometheus, kind="Prometheus", name="k8s", replicas=1)
    assert prometheus["spec"]["replicas"] == 1
    other = copy.deepcopy(kube_prometheus.find("Alertmanager", "main"))
    before = copy.deepcopy(other)
    set_replicas(other, kind="Prometheus", name="k8s", replicas=1)
    assert other == before


def test_a_single_replica_loses_its_disruption_budget_and_two_keep_it(kube_prometheus):
    budget = kube_prometheus.find("PodDisruptionBudget", "prometheus-k8s")
    assert budget["spec"]["minAvailable"] == 1  # upstream's: no eviction at all with one pod
    one = copy.deepcopy(budget)
    drop_disruption_budget(one, name="prometheus-k8s", replicas=1)
    assert one == {"apiVersion": "v1", "kind": "List", "items": []}
    two = copy.deepcopy(budget)
    drop_disruption_budget(two, name="prometheus-k8s", replicas=2)
    assert two == budget


def test_drop_disruption_budget_leaves_other_budgets_and_kinds_alone(kube_prometheus):
    others = [
        copy.deepcopy(kube_prometheus.find("PodDisruptionBudget", "prometheus-adapter")),
        copy.deepcopy(kube_prometheus.find("Prometheus", "k8s")),
        manifest(kind="ConfigMap", name="prometheus-k8s"),
    ]
    for obj in others:
        before = copy.deepcopy(obj)
        drop_disruption_budget(obj, name="prometheus-k8s", replicas=1)
        assert obj == before


@pytest.mark.slow
@settings(max_examples=300)
@given(objects)
def test_set_replicas_touches_only_its_object(obj):
    before = copy.deepcopy(obj)
    set_replicas(obj, kind="Prometheus", name="k8s", replicas=3)
    if identity(before) == PROMETHEUS:
        assert obj["spec"].pop("replicas") == 3
        before["spec"].pop("replicas", None)  # a generated spec may hold one already
    assert obj == before
