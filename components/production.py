"""What a stack run for real needs beyond upstream's defaults, as manifest transformations:
persistent volumes, Prometheus retention, resources and placement, and compatibility with the
SecurityContextDeny admission plugin of older PKS/TKGI plans.

Like components/transformations.py, each transformation is a small pure function on one manifest
dict (camelCase keys, as pulumi_kubernetes.yaml.ConfigFile hands it over) that changes it in place
and touches nothing outside its concern; `production_transformations` composes them from the
`workloads` settings. The Grafana claim is an object of its own (`grafana_pvc`).
"""
from __future__ import annotations

import copy
from functools import partial
from typing import Any, Optional

from components.settings import (
    StatefulVolumeSettings,
    VolumeSettings,
    WorkloadPlacement,
    WorkloadsSettings,
)
from components.manifests import GRAFANA, GRAFANA_LABELS
from components.transformations import Manifest, Transformation, _is_list, is_object

# Upstream Grafana's emptyDir volume at /var/lib/grafana (SQLite database: users, dashboards
# saved in the UI, preferences, annotations), and the claim that replaces it.
GRAFANA_VOLUME = "grafana-storage"
GRAFANA_CLAIM = "grafana-storage"

# What the SecurityContextDeny admission plugin rejects, after its Validate() in
# kubernetes/kubernetes plugin/pkg/admission/securitycontext/scdeny/admission.go: a Pod whose
# spec.securityContext sets supplementalGroups, seLinuxOptions, runAsUser or fsGroup, or one of
# whose containers or initContainers sets securityContext.seLinuxOptions or runAsUser. runAsGroup,
# runAsNonRoot, seccompProfile, capabilities... pass.
_DENIED_IN_POD = ("supplementalGroups", "seLinuxOptions", "runAsUser", "fsGroup")
_DENIED_IN_CONTAINER = ("seLinuxOptions", "runAsUser")
# Kinds whose pods come from spec.template.
_WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}
# prometheus-operator copies these resources' spec.securityContext into the StatefulSet's pod
# spec as it is, and merges spec.containers / initContainers into the containers it generates.
_OPERATED = {"Prometheus", "Alertmanager"}


def claim_spec(volume: VolumeSettings) -> dict[str, Any]:
    """A ReadWriteOnce PersistentVolumeClaim spec; no storageClassName: the cluster's default."""
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": volume.size}},
    }
    if volume.storage_class is not None:
        spec["storageClassName"] = volume.storage_class
    return spec


def use_volume_claim_template(
    obj: Manifest, *, kind: str, name: str, claim: dict[str, Any], retention_policy: Optional[dict[str, str]]
) -> None:
    """A claim per replica of the Prometheus `k8s` or Alertmanager `main` StatefulSet instead of
    an emptyDir; `retention_policy`: what happens to the claims when it is deleted or scaled down
    (None: Kubernetes' default, Retain)."""
    if is_object(obj, kind, name):
        spec = obj.setdefault("spec", {})
        spec["storage"] = {"volumeClaimTemplate": {"spec": copy.deepcopy(claim)}}
        if retention_policy is not None:
            spec["persistentVolumeClaimRetentionPolicy"] = dict(retention_policy)


def use_grafana_claim(obj: Manifest, *, claim: str) -> None:
    """Grafana's data volume becomes the claim `claim` (see grafana_pvc) instead of an emptyDir.

    The Deployment is recreated rather than rolled: a ReadWriteOnce volume attaches to one node,
    so a new pod scheduled elsewhere while the old one holds it would wait forever (Multi-Attach),
    and two Grafanas must not share one SQLite file anyway.
    """
    if not is_object(obj, "Deployment", GRAFANA):
        return
    for volume in obj["spec"]["template"]["spec"].get("volumes", []):
        if volume.get("name") == GRAFANA_VOLUME:
            volume.clear()
            volume.update({"name": GRAFANA_VOLUME, "persistentVolumeClaim": {"claimName": claim}})
    obj["spec"]["strategy"] = {"type": "Recreate"}


def grafana_pvc(namespace: str, settings: WorkloadsSettings) -> Optional[dict[str, Any]]:
    """The PersistentVolumeClaim use_grafana_claim mounts; None when Grafana's storage is off."""
    volume = settings.grafana.storage
    if not volume.enabled:
        return None
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": GRAFANA_CLAIM, "namespace": namespace, "labels": dict(GRAFANA_LABELS)},
        "spec": claim_spec(volume),
    }


def set_retention(obj: Manifest, *, time: str, size: Optional[str]) -> None:
    """spec.retention and spec.retentionSize of the Prometheus `k8s` resource (None: no size)."""
    if is_object(obj, "Prometheus", "k8s"):
        spec = obj.setdefault("spec", {})
        spec["retention"] = time
        if size is not None:
            spec["retentionSize"] = size


def set_placement(
    obj: Manifest,
    *,
    kind: str,
    name: str,
    resources: Optional[dict[str, Any]],
    node_selector: dict[str, str],
    tolerations: list[dict[str, Any]],
    container: Optional[str] = None,
) -> None:
    """Resources, nodeSelector and tolerations of one pod: in the spec of a Prometheus or
    Alertmanager resource (container None), or in a Deployment's pod template and its container
    `container`. `resources` replaces upstream's, `node_selector` is added to upstream's
    (`kubernetes.io/os: linux` stays), `tolerations` replaces upstream's; None/empty: unchanged."""
    # Copies go in (here and in use_volume_claim_template): a partial's dicts are shared by every
    # call, and a later transformation may edit the manifest in place.
    if not is_object(obj, kind, name):
        return
    pod = obj.setdefault("spec", {}) if container is None else obj["spec"]["template"]["spec"]
    if resources is not None:
        targets = [pod] if container is None else [c for c in pod["containers"] if c["name"] == container]
        for target in targets:
            target["resources"] = copy.deepcopy(resources)
    if node_selector:
        pod["nodeSelector"] = {**pod.get("nodeSelector", {}), **node_selector}
    if tolerations:
        pod["tolerations"] = copy.deepcopy(tolerations)


def _deny_in_pod(pod: dict[str, Any]) -> None:
    """The SecurityContextDeny cut of one pod spec (or Prometheus/Alertmanager spec)."""
    pod_context = pod.get("securityContext")
    pod_user = isinstance(pod_context, dict) and "runAsUser" in pod_context
    lost_user = pod_user
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        context = container.get("securityContext")
        if not isinstance(context, dict):
            continue
        own_user = "runAsUser" in context
        for field in _DENIED_IN_CONTAINER:
            context.pop(field, None)
        # The kubelet checks runAsNonRoot against runAsUser, else against the image's USER, which
        # it cannot check when that is a name (`USER nobody`: Prometheus, Alertmanager,
        # blackbox-exporter): the container would never start (verifyRunAsNonRoot in
        # pkg/kubelet/kuberuntime/security_context_others.go). Where this cut removes the user a
        # container runs as, the runAsNonRoot check on it goes too; the image's user still applies.
        if own_user or pod_user:
            context.pop("runAsNonRoot", None)
        lost_user = lost_user or own_user
    if isinstance(pod_context, dict):
        for field in _DENIED_IN_POD:
            pod_context.pop(field, None)
        if lost_user:
            pod_context.pop("runAsNonRoot", None)


def deny_security_context(obj: Manifest) -> None:
    """Only what the SecurityContextDeny admission plugin rejects goes, from every pod template
    (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job) and from the Prometheus and
    Alertmanager resources, whose pods prometheus-operator builds from their spec.

    Plus runAsNonRoot where the user it was checked against goes (see _deny_in_pod). Every other
    field, such as runAsGroup, seccompProfile, capabilities and readOnlyRootFilesystem, stays.
    """
    if _is_list(obj):
        return
    kind = obj.get("kind")
    if kind in _WORKLOADS:
        pod = ((obj.get("spec") or {}).get("template") or {}).get("spec")
    elif kind in _OPERATED:
        pod = obj.get("spec")
    else:
        return
    if isinstance(pod, dict):
        _deny_in_pod(pod)


def _placement(workload: WorkloadPlacement) -> dict[str, Any]:
    resources = workload.resources
    return {
        "resources": None if resources is None else {
            part: amounts
            for part, amounts in (
                ("requests", resources.requests.model_dump(exclude_none=True)),
                ("limits", resources.limits.model_dump(exclude_none=True)),
            )
            if amounts
        },
        "node_selector": dict(workload.node_selector),
        "tolerations": [t.model_dump(by_alias=True, exclude_none=True) for t in workload.tolerations],
    }


def _claim_template(volume: StatefulVolumeSettings) -> dict[str, Any]:
    policy = volume.persistent_volume_claim_retention_policy
    return {
        "claim": claim_spec(volume),
        "retention_policy": None if policy is None else policy.model_dump(by_alias=True),
    }


def production_transformations(settings: WorkloadsSettings) -> list[Transformation]:
    """The transformations the `workloads` settings call for, in one place."""
    prometheus, alertmanager, grafana = settings.prometheus, settings.alertmanager, settings.grafana
    transformations: list[Transformation] = [
        partial(set_retention, time=prometheus.retention.time, size=prometheus.retention_size()),
        partial(set_placement, kind="Prometheus", name="k8s", **_placement(prometheus)),
        partial(set_placement, kind="Alertmanager", name="main", **_placement(alertmanager)),
        partial(
            set_placement, kind="Deployment", name=GRAFANA, container=GRAFANA,
            **_placement(grafana),
        ),
    ]
    if prometheus.storage.enabled:
        transformations.append(
            partial(use_volume_claim_template, kind="Prometheus", name="k8s", **_claim_template(prometheus.storage))
        )
    if alertmanager.storage.enabled:
        transformations.append(
            partial(use_volume_claim_template, kind="Alertmanager", name="main", **_claim_template(alertmanager.storage))
        )
    if grafana.storage.enabled:
        transformations.append(partial(use_grafana_claim, claim=GRAFANA_CLAIM))
    if settings.security_context_deny:
        transformations.append(deny_security_context)
    return transformations
