"""The manifest transformations as plain functions on dicts, no Pulumi involved."""

from __future__ import annotations

import copy
from functools import partial

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pks_monitoring.manifests import rename_namespace
from pks_monitoring.parts.node_exporter import drop_node_exporter
from tests.helpers.manifests import manifest, names, objects


def test_rename_namespace_everywhere_upstream_names_it(kube_prometheus):
    rename = partial(rename_namespace, old="monitoring", new="observability")
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    rename(prometheus)
    assert prometheus["metadata"]["namespace"] == "observability"
    assert prometheus["spec"]["alerting"]["alertmanagers"][0]["namespace"] == "observability"

    rule = copy.deepcopy(kube_prometheus.find("PrometheusRule", "alertmanager-main-rules"))
    rename(rule)
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    assert 'namespace="observability"' in exprs and 'namespace="monitoring"' not in exprs

    datasources = copy.deepcopy(kube_prometheus.find("Secret", "grafana-datasources"))
    rename(datasources)
    assert "http://prometheus-k8s.observability.svc:9090" in datasources["stringData"]["datasources.yaml"]


def test_rename_namespace_renames_the_namespace_object(kube_prometheus):
    namespace = kube_prometheus.namespace_manifest()
    rename_namespace(namespace, old="monitoring", new="observability")
    assert namespace["metadata"]["name"] == "observability"
    other = manifest(kind="Namespace", name="kube-system", namespace=None)
    rename_namespace(other, old="monitoring", new="observability")
    assert other["metadata"]["name"] == "kube-system"


def test_rename_namespace_rewrites_escaped_matchers_in_dashboard_json():
    dashboard = manifest(data={"d.json": r'{"expr": "up{namespace=\"monitoring\"}"}'})
    rename_namespace(dashboard, old="monitoring", new="obs")
    assert dashboard["data"]["d.json"] == r'{"expr": "up{namespace=\"obs\"}"}'


def test_rename_namespace_leaves_other_namespaces_and_lookalikes():
    binding = manifest(
        kind="RoleBinding",
        namespace="kube-system",
        subjects=[{"kind": "ServiceAccount", "name": "prometheus-k8s", "namespace": "monitoring"}],
        data={
            "q": 'up{namespace="monitoring-2"} or up{namespace="kube-system"}',
            "host": "a.monitoring-x.svc",
        },
    )
    rename_namespace(binding, old="monitoring", new="obs")
    assert binding["metadata"]["namespace"] == "kube-system"
    assert binding["subjects"][0]["namespace"] == "obs"
    assert binding["data"] == {
        "q": 'up{namespace="monitoring-2"} or up{namespace="kube-system"}',
        "host": "a.monitoring-x.svc",
    }


def test_lists_are_left_for_their_items():
    items = [manifest(kind="RoleBinding", labels={"app.kubernetes.io/name": "node-exporter"})]
    listing = {"apiVersion": "v1", "kind": "RoleBindingList", "items": items}
    before = copy.deepcopy(listing)
    for transformation in (drop_node_exporter, partial(rename_namespace, old="monitoring", new="obs")):
        transformation(listing)
    assert listing == before


@pytest.mark.slow
@settings(max_examples=300)
@given(objects, names)
def test_rename_namespace_is_a_no_op_without_the_old_name(obj, new):
    before = copy.deepcopy(obj)
    rename_namespace(obj, old="zz-absent", new=new)
    assert obj == before


@pytest.mark.slow
@settings(max_examples=300)
@given(objects, st.sampled_from(["monitoring", "default", "kube-system"]), st.sampled_from(["obs", "prom-a"]))
def test_rename_namespace_there_and_back_restores_the_object(obj, namespace, new):
    obj["metadata"]["namespace"] = namespace
    obj["spec"]["expr"] = f'up{{namespace="{namespace}"}}'
    before = copy.deepcopy(obj)
    rename_namespace(obj, old="monitoring", new=new)
    assert (obj["metadata"]["namespace"] == new) == (namespace == "monitoring")
    rename_namespace(obj, old=new, new="monitoring")
    assert obj == before
