"""The PKS/TKGI platform patch set (`platform: pks`): what a stock TKGI cluster differs in.

PKS/TKGI runs kube-controller-manager and kube-scheduler on BOSH master VMs, not in pods: the
upstream ServiceMonitors find nothing and KubeControllerManagerDown/KubeSchedulerDown fire
forever. The managed-cluster answer (kube-prometheus' addons/managed-cluster.libsonnet): drop the
monitors and their alert groups.

TKGI also installs metrics-server in every cluster and re-applies its `v1beta1.metrics.k8s.io`
APIService (and its `system:aggregated-metrics-reader` ClusterRole) on each cluster update.
prometheus-adapter serves nothing but that same metrics API, through an APIService of the same
name: deployed, it takes `kubectl top` and HPAs away from metrics-server until TKGI takes them
back, and `pulumi destroy` deletes the cluster's metrics API. So on TKGI the adapter goes whole;
metrics-server keeps serving the metrics API, and Prometheus keeps every series the adapter would
have read.
"""

from __future__ import annotations

from pks_monitoring.manifests import Manifest, Transformation, drop, labels
from pks_monitoring.parts.part import Part, StackInputs

_CONTROL_PLANE_MONITORS = {"kube-controller-manager", "kube-scheduler"}
_CONTROL_PLANE_ALERT_GROUPS = {
    "kubernetes-system-controller-manager",
    "kubernetes-system-scheduler",
}


def drop_control_plane_monitors(obj: Manifest) -> None:
    """No monitors or alerts for masters Prometheus cannot reach."""
    kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
    if kind == "ServiceMonitor" and name in _CONTROL_PLANE_MONITORS:
        drop(obj)
    elif kind == "PrometheusRule":
        groups = obj.get("spec", {}).get("groups")
        if groups and any(g.get("name") in _CONTROL_PLANE_ALERT_GROUPS for g in groups):
            obj["spec"]["groups"] = [g for g in groups if g.get("name") not in _CONTROL_PLANE_ALERT_GROUPS]


def drop_metrics_adapter(obj: Manifest) -> None:
    """No prometheus-adapter object (its APIService included): metrics-server owns the metrics
    API on TKGI."""
    if labels(obj).get("app.kubernetes.io/name") == "prometheus-adapter":
        drop(obj)


def patches(inputs: StackInputs) -> list[Transformation]:
    return [drop_control_plane_monitors, drop_metrics_adapter]


PART = Part("platform", patches)
