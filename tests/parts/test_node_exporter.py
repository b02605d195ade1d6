"""node_exporter's patches: no DaemonSet, node discovery and the additional scrape configs, as plain functions on dicts."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings

from pks_monitoring.parts.node_exporter import (
    drop_node_exporter,
    grant_node_discovery,
    use_additional_scrape_configs,
)
from tests.helpers.manifests import PROMETHEUS, PROMETHEUS_ROLE, identity, objects


def test_drop_node_exporter_keeps_its_prometheus_rule(kube_prometheus):
    node_objects = [
        copy.deepcopy(o)
        for o in kube_prometheus.objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "node-exporter"
    ]
    kinds = {o["kind"] for o in node_objects}
    assert {
        "DaemonSet",
        "Service",
        "ServiceMonitor",
        "ServiceAccount",
        "ClusterRole",
        "ClusterRoleBinding",
        "NetworkPolicy",
        "PrometheusRule",
    } <= kinds
    for obj in node_objects:
        kind = obj["kind"]
        drop_node_exporter(obj)
        if kind == "PrometheusRule":
            assert obj["kind"] == "PrometheusRule" and obj["spec"]["groups"]
        else:
            assert obj == {"apiVersion": "v1", "kind": "List", "items": []}, kind


def test_node_exporter_rule_has_the_upstream_node_alerts(kube_prometheus):
    rule = kube_prometheus.find("PrometheusRule", "node-exporter-rules")
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerts) == 26


@pytest.mark.slow
@settings(max_examples=300)
@given(objects)
def test_drop_node_exporter_touches_only_node_exporter_objects(obj):
    before = copy.deepcopy(obj)
    drop_node_exporter(obj)
    labelled = before["metadata"]["labels"]["app.kubernetes.io/name"] == "node-exporter"
    if labelled and before["kind"] != "PrometheusRule":
        assert obj == {"apiVersion": "v1", "kind": "List", "items": []}
    else:
        assert obj == before


def test_grant_node_discovery_adds_list_watch_nodes_once(kube_prometheus):
    role = copy.deepcopy(kube_prometheus.find("ClusterRole", "prometheus-k8s"))
    upstream_rules = copy.deepcopy(role["rules"])
    assert not any("nodes" in r.get("resources", []) and "list" in r["verbs"] for r in upstream_rules)
    grant_node_discovery(role)
    grant_node_discovery(role)
    assert role["rules"] == [
        *upstream_rules,
        {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]},
    ]
    other = copy.deepcopy(kube_prometheus.find("ClusterRole", "kube-state-metrics"))
    before = copy.deepcopy(other)
    grant_node_discovery(other)
    assert other == before


def test_use_additional_scrape_configs_on_prometheus_k8s_only(kube_prometheus):
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    use_additional_scrape_configs(prometheus, secret="additional-scrape-configs", key="k.yaml")
    assert prometheus["spec"]["additionalScrapeConfigs"] == {
        "name": "additional-scrape-configs",
        "key": "k.yaml",
    }
    alertmanager = copy.deepcopy(kube_prometheus.find("Alertmanager", "main"))
    before = copy.deepcopy(alertmanager)
    use_additional_scrape_configs(alertmanager, secret="s", key="k")
    assert alertmanager == before


@pytest.mark.slow
@settings(max_examples=200)
@given(objects)
def test_scrape_wiring_touches_only_its_objects(obj):
    before = copy.deepcopy(obj)
    grant_node_discovery(obj)
    use_additional_scrape_configs(obj, secret="s", key="k")
    if identity(before) == PROMETHEUS:
        assert obj["spec"].pop("additionalScrapeConfigs") == {"name": "s", "key": "k"}
    if identity(before) == PROMETHEUS_ROLE:
        assert obj.pop("rules") == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]}]
    assert obj == before
