"""The PKS/TKGI platform patch set."""

from __future__ import annotations

import copy

from pks_monitoring.platforms.pks import drop_control_plane_monitors, drop_metrics_adapter


def test_drop_control_plane_monitors(kube_prometheus):
    for name in ("kube-controller-manager", "kube-scheduler"):
        monitor = copy.deepcopy(kube_prometheus.find("ServiceMonitor", name))
        drop_control_plane_monitors(monitor)
        assert monitor["kind"] == "List" and monitor["items"] == []
    kept = copy.deepcopy(kube_prometheus.find("ServiceMonitor", "kubelet"))
    before = copy.deepcopy(kept)
    drop_control_plane_monitors(kept)
    assert kept == before

    rules = copy.deepcopy(kube_prometheus.find("PrometheusRule", "kubernetes-monitoring-rules"))
    upstream = [g["name"] for g in rules["spec"]["groups"]]
    drop_control_plane_monitors(rules)
    alerts = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert {"KubeControllerManagerDown", "KubeSchedulerDown"}.isdisjoint(alerts)
    assert [g["name"] for g in rules["spec"]["groups"]] == [
        g
        for g in upstream
        if g not in ("kubernetes-system-controller-manager", "kubernetes-system-scheduler")
    ]
    assert "KubeAPIDown" in alerts


def test_drop_metrics_adapter(kube_prometheus):
    adapter = [
        o
        for o in kube_prometheus.objects
        if o["metadata"]["name"].startswith(("prometheus-adapter", "v1beta1.metrics"))
    ]
    kinds = {o["kind"] for o in adapter}
    # What would clash with TKGI's metrics-server: the APIService and the aggregated reader role.
    assert {"APIService", "ClusterRole", "Deployment", "Service", "ServiceMonitor"} <= kinds
    for obj in [*copy.deepcopy(adapter), copy.deepcopy(kube_prometheus.find("ConfigMap", "adapter-config"))]:
        drop_metrics_adapter(obj)
        assert obj["kind"] == "List" and obj["items"] == []
    reader = copy.deepcopy(kube_prometheus.find("ClusterRole", "system:aggregated-metrics-reader"))
    drop_metrics_adapter(reader)
    assert reader["kind"] == "List"
    for kept in (
        kube_prometheus.find("Deployment", "prometheus-operator"),
        kube_prometheus.find("Prometheus", "k8s"),
    ):
        before = copy.deepcopy(kept)
        drop_metrics_adapter(kept)
        assert kept == before
