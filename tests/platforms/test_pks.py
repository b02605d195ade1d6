"""The PKS/TKGI platform patch set."""

from __future__ import annotations

import copy

from pks_monitoring.platforms.pks import drop_control_plane_monitors


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
