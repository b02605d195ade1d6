"""Prometheus (`prometheus`): upstream's Prometheus `k8s` resource with the replicas, retention,
storage, resources and placement from settings, the cluster label and remote write
(`parts.remote_write`, with the Secret it adds)."""

from __future__ import annotations

from functools import partial
from typing import Optional

from pks_monitoring.manifests import Manifest, Transformation, is_object
from pks_monitoring.parts.part import Added, Part, StackInputs
from pks_monitoring.parts.remote_write import remote_write_secret, set_remote_write
from pks_monitoring.upstream import PROMETHEUS
from pks_monitoring.workloads import (
    claim_template,
    drop_disruption_budget,
    placement,
    set_placement,
    set_replicas,
    use_volume_claim_template,
)

DISRUPTION_BUDGET = "prometheus-k8s"


def set_retention(obj: Manifest, *, time: str, size: Optional[str]) -> None:
    """spec.retention and spec.retentionSize of the Prometheus `k8s` resource (None: no size)."""
    if is_object(obj, "Prometheus", PROMETHEUS):
        spec = obj.setdefault("spec", {})
        spec["retention"] = time
        if size is not None:
            spec["retentionSize"] = size


def set_external_label(obj: Manifest, *, name: str, value: str) -> None:
    """One external label of the Prometheus `k8s` resource: on every series it sends elsewhere
    and every alert it fires, so a central store or receiver tells the clusters apart."""
    if is_object(obj, "Prometheus", PROMETHEUS):
        spec = obj.setdefault("spec", {})
        spec["externalLabels"] = {**(spec.get("externalLabels") or {}), name: value}


def patches(inputs: StackInputs) -> list[Transformation]:
    prometheus = inputs.settings.prometheus
    transformations: list[Transformation] = [
        partial(set_external_label, name=prometheus.cluster_label, value=inputs.settings.cluster),
        partial(set_replicas, kind="Prometheus", name=PROMETHEUS, replicas=prometheus.replicas),
        partial(drop_disruption_budget, name=DISRUPTION_BUDGET, replicas=prometheus.replicas),
        partial(set_retention, time=prometheus.retention.time, size=prometheus.retention_size()),
        partial(set_placement, kind="Prometheus", name=PROMETHEUS, **placement(prometheus)),
    ]
    if prometheus.remote_write:
        transformations.append(partial(set_remote_write, endpoints=prometheus.remote_write))
    if prometheus.storage.enabled:
        claim = claim_template(prometheus.storage, inputs.settings.storage.default_class())
        transformations.append(
            partial(use_volume_claim_template, kind="Prometheus", name=PROMETHEUS, **claim)
        )
    return transformations


def objects(inputs: StackInputs) -> list[Added]:
    """The remote write Secret, when there are endpoints; the Prometheus resource waits for it
    (so the operator never reconciles references to keys that are not there yet)."""
    endpoints = inputs.settings.prometheus.remote_write
    if not endpoints:
        return []
    return [Added(remote_write_secret(inputs.namespace, endpoints), awaited=True)]


PART = Part("prometheus", patches, objects)
