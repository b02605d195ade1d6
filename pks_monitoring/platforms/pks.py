"""The PKS/TKGI platform patch set (`platform: pks`): what a stock TKGI cluster differs in.

PKS/TKGI runs kube-controller-manager and kube-scheduler on BOSH master VMs, not in pods: the
upstream ServiceMonitors find nothing and KubeControllerManagerDown/KubeSchedulerDown fire
forever. The managed-cluster answer (kube-prometheus' addons/managed-cluster.libsonnet): drop the
monitors and their alert groups.
"""

from __future__ import annotations

from pks_monitoring.manifests import Manifest, Transformation, drop
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


def patches(inputs: StackInputs) -> list[Transformation]:
    return [drop_control_plane_monitors]


PART = Part("platform", patches)
