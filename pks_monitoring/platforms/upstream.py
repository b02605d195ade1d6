"""`platform: upstream`: a cluster that runs its control plane as kube-prometheus expects (in
pods Prometheus can reach): upstream's objects stay as they are."""

from __future__ import annotations

from pks_monitoring.manifests import Transformation
from pks_monitoring.parts.part import Part, StackInputs


def patches(inputs: StackInputs) -> list[Transformation]:
    return []


PART = Part("platform", patches)
