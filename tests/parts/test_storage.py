"""The StorageClass the stack creates for vSphere CSI, and the claims that use it."""

from __future__ import annotations

from pks_monitoring.parts import storage
from pks_monitoring.parts.grafana import grafana_claim
from pks_monitoring.parts.part import StackInputs
from pks_monitoring.settings import Settings
from tests.helpers.schemas import validate_core
from tests.helpers.settings import BASE

NO_CLASS = {k: v for k, v in BASE.items() if k != "pks-monitoring:storage"}


def settings(vsphere_csi: dict) -> Settings:
    return Settings.from_raw(
        {
            **NO_CLASS,
            "pks-monitoring:storage": {"vsphereCsi": vsphere_csi},
            "pks-monitoring:grafana": {"adminPassword": "x"},
        }
    )


def test_the_vsphere_csi_class_is_schema_valid_and_binds_where_the_pod_lands(kube_prometheus):
    csi = {
        "storagePolicyName": "vSAN Default Storage Policy",
        "datastoreUrl": "ds:///vmfs/volumes/vsan:52d8/",
    }
    (added,) = storage.objects(StackInputs(settings(csi), kube_prometheus))
    manifest = added.manifest
    assert validate_core(manifest) == []
    assert manifest["metadata"] == {"name": "pks-monitoring"}
    assert manifest["provisioner"] == "csi.vsphere.vmware.com"
    assert manifest["volumeBindingMode"] == "WaitForFirstConsumer"
    assert manifest["parameters"] == {
        "storagepolicyname": "vSAN Default Storage Policy",
        "datastoreurl": "ds:///vmfs/volumes/vsan:52d8/",
    }
    # The checks bite: a misspelt field is reported.
    assert validate_core({**manifest, "volumeBindMode": "Immediate"})


def test_without_policy_or_url_the_driver_picks_the_datastore(kube_prometheus):
    (added,) = storage.objects(StackInputs(settings({}), kube_prometheus))
    assert "parameters" not in added.manifest and validate_core(added.manifest) == []


def test_no_class_is_created_unless_asked(kube_prometheus):
    assert (
        storage.objects(
            StackInputs(
                Settings.from_raw({**BASE, "pks-monitoring:grafana": {"adminPassword": "x"}}), kube_prometheus
            )
        )
        == []
    )


def test_claims_without_their_own_class_use_the_created_one():
    stack = settings({"name": "monitoring-csi"})
    claim = grafana_claim("monitoring", stack.grafana, stack.storage.default_class())
    assert claim["spec"]["storageClassName"] == "monitoring-csi"
    assert validate_core(claim) == []
