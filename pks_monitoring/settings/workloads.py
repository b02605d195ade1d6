"""What every pod of the stack (Prometheus, Alertmanager, Grafana) takes alike: resources,
placement and a persistent volume. Each part's settings extend these."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Literal, Optional

from pydantic import Field, field_validator, model_validator

from pks_monitoring.settings.types import (
    Dns1123Subdomain,
    LabelKey,
    LabelValue,
    Model,
    quantity,
    quantity_value,
)


def amount(text: str) -> Decimal:
    """The value of a quantity the settings already validated."""
    value = quantity_value(text)
    if value is None:
        raise ValueError(f"{text!r} is not a Kubernetes quantity")
    return value


class ResourceAmounts(Model):
    cpu: Optional[str] = None  # cores: 500m, 2
    memory: Optional[str] = None  # bytes: 512Mi, 2Gi

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu(cls, value: Any) -> Any:
        return quantity(value, size=False)

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, value: Any) -> Any:
        return quantity(value, size=True)


class ResourceSettings(Model):
    """A container's requests and limits; they replace upstream's."""

    requests: ResourceAmounts = ResourceAmounts()
    limits: ResourceAmounts = ResourceAmounts()

    @model_validator(mode="after")
    def _requests_within_limits(self) -> ResourceSettings:
        for name in ("cpu", "memory"):
            request, limit = getattr(self.requests, name), getattr(self.limits, name)
            if request and limit and amount(request) > amount(limit):
                raise ValueError(
                    f"requests.{name} {request} is more than limits.{name} {limit}; "
                    "the API server refuses such a pod: raise the limit or lower the request"
                )
        return self


class Toleration(Model):
    key: Optional[LabelKey] = None  # unset: every taint (operator Exists)
    operator: Literal["Equal", "Exists"] = "Equal"
    value: Optional[LabelValue] = None
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = None
    toleration_seconds: Optional[int] = None

    @model_validator(mode="after")
    def _as_kubernetes_validates_it(self) -> Toleration:
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without key matches every taint: it needs operator: Exists")
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("operator Exists takes no value; remove value or use operator: Equal")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds applies to effect NoExecute only")
        return self


class WorkloadPlacement(Model):
    """Where and how big one of the stack's pods is. Unset: upstream's."""

    resources: Optional[ResourceSettings] = None  # replaces upstream's requests and limits
    node_selector: dict[LabelKey, LabelValue] = {}  # added to upstream's kubernetes.io/os: linux
    tolerations: list[Toleration] = []  # upstream has none


class ClaimRetentionPolicy(Model):
    """What happens to the StatefulSet's claims (needs StatefulSetAutoDeletePVC: beta and on by
    default from Kubernetes 1.27; older API servers drop it and keep the claims)."""

    when_deleted: Literal["Retain", "Delete"] = "Retain"
    when_scaled: Literal["Retain", "Delete"] = "Retain"


class VolumeSettings(Model):
    """A ReadWriteOnce claim instead of an emptyDir. On by default: without it the data is lost
    whenever the pod is recreated (rescheduled, evicted, upgraded)."""

    enabled: bool = True
    size: str = "1Gi"
    storage_class: Optional[Dns1123Subdomain] = None  # unset: the cluster's default StorageClass

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return quantity(value, size=True)


class StatefulVolumeSettings(VolumeSettings):
    # Unset: Kubernetes' default, both Retain (a deleted or scaled-down Prometheus keeps its data).
    persistent_volume_claim_retention_policy: Optional[ClaimRetentionPolicy] = None


class ReplicatedWorkload(WorkloadPlacement):
    """A StatefulSet prometheus-operator runs: its replicas and its volume per replica."""

    # Upstream runs 2 Prometheus and 3 Alertmanager replicas; one each by default here.
    replicas: int = Field(default=1, ge=1, le=10)
    storage: StatefulVolumeSettings = StatefulVolumeSettings()
