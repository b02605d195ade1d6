"""`storage`: the StorageClass the stack creates for vSphere CSI when `storage.vsphereCsi` asks
for it (the claims name it through claim_spec's default class); nothing to patch."""

from __future__ import annotations

from pks_monitoring.manifests import Transformation
from pks_monitoring.parts.part import Added, Part, StackInputs


def patches(inputs: StackInputs) -> list[Transformation]:
    return []


def objects(inputs: StackInputs) -> list[Added]:
    csi = inputs.settings.storage.vsphere_csi
    return [] if csi is None else [Added(csi.manifest(), resource_name="storage-class")]


PART = Part("storage", patches, objects)
