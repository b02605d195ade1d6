"""`prometheus`: the Prometheus `k8s` resource: replicas, storage, retention, resources,
placement, the cluster label and remote write."""

from __future__ import annotations

from decimal import Decimal
from typing import Optional

from pydantic import Field, field_validator, model_validator

from pks_monitoring.settings.remote_write import RemoteWriteEndpoint
from pks_monitoring.settings.types import (
    Model,
    prometheus_duration,
    prometheus_size,
    prometheus_size_value,
    unique_names,
)
from pks_monitoring.settings.workloads import ReplicatedWorkload, StatefulVolumeSettings, amount

# Prometheus' share of its volume when retention.size is unset: headroom for compaction and the
# WAL, which retention.size does not bound as tightly as the blocks.
PROMETHEUS_VOLUME_SHARE = "0.85"
# The external labels prometheus-operator sets itself (`prometheus`, `prometheus_replica`): one of
# ours under either name would be overwritten.
OPERATOR_EXTERNAL_LABELS = ("prometheus", "prometheus_replica")


class PrometheusVolume(StatefulVolumeSettings):
    size: str = "50Gi"


class RetentionSettings(Model):
    """How long and how much Prometheus keeps; the older blocks go first."""

    # prometheus-operator's default is 24h when neither is set; 15d is Prometheus' own.
    time: str = "15d"
    # Unset: PROMETHEUS_VOLUME_SHARE of the volume when storage is on, else no size limit.
    size: Optional[str] = None

    @field_validator("time")
    @classmethod
    def _duration(cls, value: str) -> str:
        return prometheus_duration(value)

    @field_validator("size")
    @classmethod
    def _prometheus_size(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else prometheus_size(value)


class PrometheusSettings(ReplicatedWorkload):
    storage: PrometheusVolume = PrometheusVolume()
    retention: RetentionSettings = RetentionSettings()
    # The external label that carries the `cluster` setting on every series that leaves this
    # Prometheus (remote write, federation) and on every alert: a Prometheus label name, not
    # reserved (`__`), not one the operator sets.
    cluster_label: str = Field(default="cluster", pattern=r"^[a-zA-Z_][a-zA-Z0-9_]*$")
    # The central stores every series goes to (settings.remote_write); none by default.
    remote_write: list[RemoteWriteEndpoint] = []

    @field_validator("cluster_label")
    @classmethod
    def _ours_to_set(cls, value: str) -> str:
        if value.startswith("__") or value in OPERATOR_EXTERNAL_LABELS:
            raise ValueError(
                f"{value} is reserved (names starting with __) or set by prometheus-operator "
                f"({', '.join(OPERATOR_EXTERNAL_LABELS)}); choose another label name, e.g. cluster"
            )
        return value

    @field_validator("remote_write")
    @classmethod
    def _unique_names(cls, value: list[RemoteWriteEndpoint]) -> list[RemoteWriteEndpoint]:
        unique_names([endpoint.name for endpoint in value], "endpoints")
        return value

    @model_validator(mode="after")
    def _retention_fits_the_volume(self) -> PrometheusSettings:
        size, volume = self.retention.size, self.storage.size
        if self.storage.enabled and size and prometheus_size_value(size) >= amount(volume):
            raise ValueError(
                f"retention.size {size} does not fit storage.size {volume}: the volume fills up "
                "before Prometheus deletes old blocks; lower it or remove it (the default is "
                f"{float(PROMETHEUS_VOLUME_SHARE):.0%} of the volume)"
            )
        return self

    def retention_size(self) -> Optional[str]:
        """spec.retentionSize: retention.size, else a share of the volume (in MiB), else none."""
        if self.retention.size is not None or not self.storage.enabled:
            return self.retention.size
        share = amount(self.storage.size) * Decimal(PROMETHEUS_VOLUME_SHARE)
        return f"{max(int(share) // 1024**2, 1)}MiB"
