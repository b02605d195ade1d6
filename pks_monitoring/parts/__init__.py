"""The parts of the stack, in the order their patches apply: one module each, named as its config
key (kube-prometheus' `components/`), plus the platform's patch set. Adding a part is adding a
module and a line here."""

from __future__ import annotations

# The module, not its PLATFORMS: the platforms' patch sets are parts themselves (parts.part), so
# importing a platform first comes through here while pks_monitoring.platforms is half done.
from pks_monitoring import platforms
from pks_monitoring.parts import (
    alertmanager,
    alerts,
    apps,
    grafana,
    images,
    node_exporter,
    pod_security,
    prometheus,
    prometheus_adapter,
    storage,
)
from pks_monitoring.parts.part import Part, PartPlan, StackInputs

PARTS: tuple[Part, ...] = (
    node_exporter.PART,
    prometheus_adapter.PART,
    prometheus.PART,
    alertmanager.PART,
    grafana.PART,
    apps.PART,
    alerts.PART,
    storage.PART,
)


def stack_parts(inputs: StackInputs) -> tuple[Part, ...]:
    """Every part of this stack: the parts, the platform's patch set, then pod security (which
    cuts what the others set, so it comes last) and images (which sees every container the
    others left)."""
    return (*PARTS, platforms.PLATFORMS[inputs.settings.platform], pod_security.PART, images.PART)


def plan(inputs: StackInputs) -> tuple[PartPlan, ...]:
    """What every part does to the stack; raises SettingsError (one line) on what a part
    refuses. Call it before any resource is registered."""
    return tuple(PartPlan.of(part, inputs) for part in stack_parts(inputs))
