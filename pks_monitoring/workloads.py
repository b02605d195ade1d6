"""Patches every pod of the stack takes alike (Prometheus, Alertmanager, Grafana): replicas and
the disruption budget in front of them, resources and placement, a persistent volume. Each part
calls them with its own settings."""

from __future__ import annotations

import copy
from typing import Any, Optional

from pks_monitoring.manifests import Manifest, drop, is_list, is_object
from pks_monitoring.settings.workloads import (
    StatefulVolumeSettings,
    VolumeSettings,
    WorkloadPlacement,
)

# Kinds whose pods come from spec.template.
WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}
# prometheus-operator builds the pods of these from their spec: it copies spec.securityContext,
# imagePullSecrets and image, and merges spec.containers / initContainers into its own.
OPERATED = {"Prometheus", "Alertmanager"}


def pod_spec(obj: Manifest) -> Optional[dict[str, Any]]:
    """The pod spec an object makes: its template's, or (Prometheus, Alertmanager) its spec,
    from which prometheus-operator builds the pod."""
    if is_list(obj):
        return None
    kind = obj.get("kind")
    if kind in WORKLOADS:
        pod = ((obj.get("spec") or {}).get("template") or {}).get("spec")
    elif kind in OPERATED:
        pod = obj.get("spec")
    else:
        return None
    return pod if isinstance(pod, dict) else None


def set_replicas(obj: Manifest, *, kind: str, name: str, replicas: int) -> None:
    """`spec.replicas` of one object (the Prometheus `k8s` or Alertmanager `main` resource)."""
    if is_object(obj, kind, name):
        obj.setdefault("spec", {})["replicas"] = replicas


def drop_disruption_budget(obj: Manifest, *, name: str, replicas: int) -> None:
    """No PodDisruptionBudget `name` in front of a single replica.

    Upstream's budgets are written for its replica counts (Prometheus 2, Alertmanager 3), and
    kube-prometheus only creates them for more than one replica. In front of one Prometheus,
    `minAvailable: 1` allows no eviction at all: `kubectl drain` (and so `tkgi upgrade-cluster`)
    would wait on that pod until it gives up.
    """
    if replicas < 2 and is_object(obj, "PodDisruptionBudget", name):
        drop(obj)


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


def placement(workload: WorkloadPlacement) -> dict[str, Any]:
    """set_placement's keyword arguments from a part's settings."""
    resources = workload.resources
    return {
        "resources": None
        if resources is None
        else {
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


def claim_spec(volume: VolumeSettings, default_class: Optional[str] = None) -> dict[str, Any]:
    """A ReadWriteOnce PersistentVolumeClaim spec of the part's class, else `default_class` (the
    stack's `storage`); neither: no storageClassName, the cluster's default class."""
    spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": volume.size}},
    }
    storage_class = volume.storage_class or default_class
    if storage_class is not None:
        spec["storageClassName"] = storage_class
    return spec


def use_volume_claim_template(
    obj: Manifest,
    *,
    kind: str,
    name: str,
    claim: dict[str, Any],
    retention_policy: Optional[dict[str, str]],
) -> None:
    """A claim per replica of the Prometheus `k8s` or Alertmanager `main` StatefulSet instead of
    an emptyDir; `retention_policy`: what happens to the claims when it is deleted or scaled down
    (None: Kubernetes' default, Retain)."""
    if is_object(obj, kind, name):
        spec = obj.setdefault("spec", {})
        spec["storage"] = {"volumeClaimTemplate": {"spec": copy.deepcopy(claim)}}
        if retention_policy is not None:
            spec["persistentVolumeClaimRetentionPolicy"] = dict(retention_policy)


def claim_template(volume: StatefulVolumeSettings, default_class: Optional[str] = None) -> dict[str, Any]:
    """use_volume_claim_template's claim and retention policy from a part's storage settings."""
    policy = volume.persistent_volume_claim_retention_policy
    return {
        "claim": claim_spec(volume, default_class),
        "retention_policy": None if policy is None else policy.model_dump(by_alias=True),
    }
