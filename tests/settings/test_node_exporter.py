"""The `nodeExporter` settings: the BOSH addon's defaults, its credentials kept secret, and one
clear line for each kind of bad input."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

ADDON = "pks-monitoring:nodeExporter"


PEM = "-----BEGIN CERTIFICATE-----\nMIIB-MARKER\n-----END CERTIFICATE-----\n"


BOSH = {"environment": "10.0.0.6", "client": "ops", "clientSecret": "S3CRET", "caCert": PEM}


def addon(**values) -> dict:
    """The raw config with nodeExporter.addon enabled, complete credentials, and `values`."""
    port = {"port": values.pop("port")} if "port" in values else {}
    return {**BASE, ADDON: {**port, "addon": {"enabled": True, "bosh": BOSH, **values}}}


def test_node_exporter_addon_defaults(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    addon_settings = settings.node_exporter.addon
    assert addon_settings.enabled is False
    assert addon_settings.config_name == "node-exporter"
    assert (addon_settings.release.version, addon_settings.release.sha1) == (
        "5.8.0",
        "fe95651a07029512516061113d4ff92c114ae58a",
    )
    assert addon_settings.release.url.endswith("/v5.8.0/node-exporter-5.8.0.tgz")
    assert settings.node_exporter.port == 9100
    assert addon_settings.stemcells == ["ubuntu-xenial", "ubuntu-jammy"]
    assert addon_settings.include_deployments is None and addon_settings.exclude_deployments is None
    assert (addon_settings.delete_on_destroy, addon_settings.rollout) == (False, False)


def test_node_exporter_addon_credentials_are_kept_secret(manifests_dir):
    raw = addon()
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    bosh = Settings.from_raw(raw).node_exporter.addon.bosh
    assert "S3CRET" not in repr(bosh) and "MARKER" not in repr(bosh)
    assert bosh.client_secret.get_secret_value() == "S3CRET"
    assert bosh.ca_cert.get_secret_value() == PEM


def test_node_exporter_addon_ca_cert_path(manifests_dir, tmp_path):
    cert = tmp_path / "director.pem"
    cert.write_text(PEM)
    raw = addon(bosh={**BOSH, "caCert": str(cert)})
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    assert Settings.from_raw(raw).node_exporter.addon.bosh.ca_cert.get_secret_value() == str(cert)


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"port": 0}, f"{ADDON}.port", "greater than or equal to 1"),
        ({"port": 65536}, f"{ADDON}.port", "less than or equal to 65535"),
        ({"port": "http"}, f"{ADDON}.port", "integer"),
        (
            {"release": {"version": "latest", "url": "https://x.test/r.tgz", "sha1": "0" * 40}},
            f"{ADDON}.addon.release.version",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0", "url": "https://x.test/r.tgz", "sha1": "0" * 39}},
            f"{ADDON}.addon.release.sha1",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0", "url": "https://x.test/r.tgz", "sha1": "sha256:" + "0" * 40}},
            f"{ADDON}.addon.release.sha1",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0", "url": "ftp://x.test/r.tgz", "sha1": "0" * 40}},
            f"{ADDON}.addon.release.url",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0"}},
            f"{ADDON}.addon.release",
            "set them together (missing: sha1, url)",
        ),
        (
            {"bosh": {**BOSH, "caCert": "not a certificate"}},
            f"{ADDON}.addon.bosh.caCert",
            "neither a PEM certificate",
        ),
        ({"bosh": {**BOSH, "caCert": "README.md"}}, f"{ADDON}.addon.bosh.caCert", "holds no PEM certificate"),
        ({"bosh": {**BOSH, "clientSecret": ""}}, f"{ADDON}.addon.bosh.clientSecret", "empty"),
        (
            {"bosh": {**BOSH, "clientSecret": None}},
            f"{ADDON}.addon",
            "bosh.clientSecret is required when enabled",
        ),
        (
            {"bosh": {k: v for k, v in BOSH.items() if k != "caCert"}},
            f"{ADDON}.addon",
            "bosh.caCert is required when enabled",
        ),
        ({"bosh": None}, f"{ADDON}.addon", "bosh.environment is required when enabled"),
        ({"bosh": {**BOSH, "secret": "x"}}, f"{ADDON}.addon.bosh.secret", "unknown key"),
        (
            {"bosh": {**{k: v for k, v in BOSH.items() if k != "clientSecret"}, "client_secret": "x"}},
            f"{ADDON}.addon.bosh.client_secret",
            "unknown key",
        ),
        ({"stemcells": ["centos-7"]}, f"{ADDON}.addon.stemcells[0]", "'ubuntu-xenial'"),
        ({"stemcells": ["ubuntu-jammy", "windows2019"]}, f"{ADDON}.addon.stemcells", "Linux-only"),
        ({"stemcells": []}, f"{ADDON}.addon.stemcells", "at least 1"),
        (
            {"includeDeployments": []},
            f"{ADDON}.addon.includeDeployments",
            "empty list includes no deployment",
        ),
        ({"excludeDeployments": ["a b"]}, f"{ADDON}.addon.excludeDeployments[0]", "pattern"),
        ({"configName": "node exporter"}, f"{ADDON}.addon.configName", "pattern"),
        ({"configName": "x$(touch /tmp/pwned)"}, f"{ADDON}.addon.configName", "pattern"),
        ({"collectors": ["cpu", "gpu"]}, f"{ADDON}.addon.collectors", "unknown collector 'gpu'"),
        ({"collectors": {"cpu": "sometimes"}}, f"{ADDON}.addon.collectors.cpu", "boolean"),
        ({"enabled": "maybe"}, f"{ADDON}.addon.enabled", "boolean"),
        ({"deleteOnDestroy": "yes please"}, f"{ADDON}.addon.deleteOnDestroy", "boolean"),
        ({"prot": 9100}, f"{ADDON}.addon.prot", "unknown key"),
    ],
)
def test_bad_node_exporter_addon_input_is_one_line_naming_the_key(values, key, words):
    raw = addon(**values)
    raw[ADDON]["addon"] = {k: v for k, v in raw[ADDON]["addon"].items() if v is not None}
    message = assert_one_line_error(raw, key, words)
    assert "S3CRET" not in message and "MARKER" not in message, message


def test_two_static_targets_with_one_name_are_refused():
    # One `instance` for two VMs: their series would be one, each scrape overwriting the other.
    vms = [
        {"name": "pks-api", "address": "10.0.0.5"},
        {"name": "harbor", "address": "10.0.0.7"},
        {"name": "pks-api", "address": "10.0.0.6"},
    ]
    assert_one_line_error(
        {**BASE, "pks-monitoring:nodeExporter": {"staticTargets": vms}},
        "pks-monitoring:nodeExporter.staticTargets",
        "[2].name 'pks-api' is also the name of [0]",
    )
