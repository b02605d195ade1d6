"""`storage`: on platform pks (TKGI creates no default StorageClass) a claim must have a class:
named per part, named for the stack, or the one the stack creates for vSphere CSI."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring:storage"
NO_CLASS = {k: v for k, v in BASE.items() if k != KEY}


def test_pks_refuses_claims_without_a_class():
    message = assert_one_line_error(NO_CLASS, KEY, "TKGI creates no default StorageClass")
    assert "prometheus, alertmanager, grafana would stay Pending" in message
    for fix in ("storage.storageClass", "storage.vsphereCsi", "prometheus.storage.enabled"):
        assert fix in message


def test_only_the_classless_parts_are_named():
    raw = {
        **NO_CLASS,
        "pks-monitoring:prometheus": {"storage": {"storageClass": "thin"}},
        "pks-monitoring:grafana": {"storage": {"enabled": False}},
    }
    message = assert_one_line_error(raw, KEY, "the claims of alertmanager would stay Pending")
    assert "grafana" not in message and "prometheus" not in message.split("Pending")[0]


@pytest.mark.parametrize(
    "extra",
    [
        {"pks-monitoring:storage": {"storageClass": "thin"}},
        {"pks-monitoring:storage": {"vsphereCsi": {}}},
        {
            f"pks-monitoring:{p}": {"storage": {"storageClass": "thin"}}
            for p in ("prometheus", "alertmanager", "grafana")
        },
        {
            f"pks-monitoring:{p}": {"storage": {"enabled": False}}
            for p in ("prometheus", "alertmanager", "grafana")
        },
        {"pks-monitoring:platform": "upstream"},  # the cluster's default class, as before
    ],
)
def test_a_class_for_every_claim_or_no_claim_passes(extra):
    Settings.from_raw({**NO_CLASS, **extra})


def test_the_default_class_is_the_named_or_the_created_one():
    assert Settings.from_raw(BASE).storage.default_class() == "thin"
    created = Settings.from_raw({**NO_CLASS, KEY: {"vsphereCsi": {"name": "monitoring-csi"}}})
    assert created.storage.default_class() == "monitoring-csi"
    upstream = Settings.from_raw({**NO_CLASS, "pks-monitoring:platform": "upstream"})
    assert upstream.storage.default_class() is None


@pytest.mark.parametrize(
    "storage, key, words",
    [
        ({"storageClass": "thin", "vsphereCsi": {}}, KEY, "set one of them"),
        ({"vsphereCsi": {"datastoreUrl": "/vmfs/volumes/x"}}, f"{KEY}.vsphereCsi.datastoreUrl", "ds:///"),
        ({"vsphereCsi": {"storagePolicyName": ""}}, f"{KEY}.vsphereCsi.storagePolicyName", "at least 1"),
        ({"vsphereCsi": {"name": "Fast_Disks"}}, f"{KEY}.vsphereCsi.name", "pattern"),
        ({"className": "thin"}, f"{KEY}.className", "unknown key"),
    ],
)
def test_bad_storage_is_one_line(storage, key, words):
    assert_one_line_error({**NO_CLASS, KEY: storage}, key, words)
