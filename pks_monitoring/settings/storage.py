"""`storage`: the StorageClass of every claim that does not name its own (Prometheus',
Alertmanager's, Grafana's `storage.storageClass`): one the cluster has, or one the stack creates
for vSphere CSI. TKGI creates no default StorageClass, so on platform `pks` a claim without a
class would stay Pending (Settings refuses that)."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, model_validator

from pks_monitoring.settings.types import Dns1123Subdomain, Model

VSPHERE_CSI = "csi.vsphere.vmware.com"


class VsphereCsiClass(Model):
    """A StorageClass the stack creates for the vSphere CSI driver TKGI runs. Neither policy nor
    URL: the driver picks a datastore shared by the cluster's hosts."""

    name: Dns1123Subdomain = "pks-monitoring"
    # The vCenter storage policy (the driver's `storagepolicyname` parameter).
    storage_policy_name: Optional[str] = Field(default=None, min_length=1)
    # One datastore (`datastoreurl`, as vCenter shows it: ds:///vmfs/volumes/<uuid>/).
    datastore_url: Optional[str] = Field(default=None, pattern=r"^ds:///\S+/$")

    def manifest(self) -> dict[str, object]:
        parameters = {
            key: value
            for key, value in (
                ("storagepolicyname", self.storage_policy_name),
                ("datastoreurl", self.datastore_url),
            )
            if value is not None
        }
        return {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {"name": self.name},
            "provisioner": VSPHERE_CSI,
            **({"parameters": parameters} if parameters else {}),
            # A volume where the pod lands (vSphere datastores are not reachable from every host),
            # kept with its claim, and grown in place when a part's storage.size grows.
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete",
            "allowVolumeExpansion": True,
        }


class StorageSettings(Model):
    storage_class: Optional[Dns1123Subdomain] = None  # a class the cluster has
    vsphere_csi: Optional[VsphereCsiClass] = None  # or the one the stack creates

    @model_validator(mode="after")
    def _one_class(self) -> StorageSettings:
        if self.storage_class is not None and self.vsphere_csi is not None:
            raise ValueError(
                "storageClass names a class the cluster has, vsphereCsi makes the stack create one: set one of them"
            )
        return self

    def default_class(self) -> Optional[str]:
        """The class of every claim that names none: None is the cluster's default."""
        return self.vsphere_csi.name if self.vsphere_csi is not None else self.storage_class
