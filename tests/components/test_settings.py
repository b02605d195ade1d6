"""The settings model: defaults, and one clear line for each kind of bad input."""
from __future__ import annotations

import re

import pytest

from components.settings import Settings, SettingsError

BASE = {
    "kubernetes:context": "demo",
    "pks-monitoring:cluster": "demo",
    "pks-monitoring:kubePrometheus": {"manifests": "../shared/kube-prometheus/v0.18.0/manifests"},
}


def test_defaults(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    assert settings.prometheus.replicas == 1
    assert settings.alertmanager.replicas == 1
    assert settings.kube_prometheus.namespace == "monitoring"
    assert settings.provider.upsert_existing_objects is False
    assert settings.kube_prometheus.manifests_dir() == manifests_dir


def test_environment_overrides_the_manifests_key(monkeypatch, manifests_dir):
    monkeypatch.setenv("KUBE_PROMETHEUS_MANIFESTS", str(manifests_dir))
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": "/nowhere"}})
    assert settings.kube_prometheus.manifests_dir() == manifests_dir


def test_kubeconfig_is_kept_secret():
    settings = Settings.from_raw(
        {**BASE, "kubernetes:context": None, "kubernetes:kubeconfig": "apiVersion: v1 # MARKER"}
    )
    assert "MARKER" not in repr(settings)
    assert settings.kubernetes.kubeconfig.get_secret_value().endswith("MARKER")


@pytest.mark.parametrize(
    "change, key, words",
    [
        ({"pks-monitoring:prometheus": {"replicas": -1}}, "pks-monitoring:prometheus.replicas", "greater than or equal to 1"),
        ({"pks-monitoring:prometheus": {"replicas": "two"}}, "pks-monitoring:prometheus.replicas", "integer"),
        ({"pks-monitoring:alertmanager": "1"}, "pks-monitoring:alertmanager", "dictionary"),
        ({"pks-monitoring:prometheos": {"replicas": 1}}, "pks-monitoring:prometheos", "unknown config key"),
        ({"pks-monitoring:kubePrometheus": {"namspace": "x"}}, "pks-monitoring:kubePrometheus.namspace", "unknown key"),
        ({"pks-monitoring:kubePrometheus": {"manifests": "/does/not/exist"}}, "pks-monitoring:kubePrometheus.manifests", "not a directory"),
        ({"pks-monitoring:kubePrometheus": {"manifests": "x", "namespace": "Monitoring_1"}}, "pks-monitoring:kubePrometheus.namespace", "pattern"),
        ({"pks-monitoring:cluster": None}, "pks-monitoring:cluster", "required"),
        ({"pks-monitoring:cluster": "My Cluster"}, "pks-monitoring:cluster", "pattern"),
        ({"kubernetes:context": None}, "kubernetes", "kubernetes:context"),
        ({"pks-monitoring:provider": {"upsertExistingObjects": "maybe"}}, "pks-monitoring:provider.upsertExistingObjects", "boolean"),
        # Only the documented camelCase spelling: snake_case would dodge the plain-text-secret check.
        ({"pks-monitoring:provider": {"upsert_existing_objects": True}}, "pks-monitoring:provider.upsert_existing_objects", "unknown key"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(change, key, words):
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    assert_one_line_error(raw, key, words)


def assert_one_line_error(raw: dict, key: str, words: str) -> str:
    return one_line_error(lambda: Settings.from_raw(raw), key, words)


def one_line_error(call, key: str, words: str) -> str:
    """`call()` raises a SettingsError of one line that starts with `key:` and says `words`."""
    with pytest.raises(SettingsError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{key}: "), message
    assert words in message, message
    return message


# --- nodeExporterAddon ----------------------------------------------------------------------------

ADDON = "pks-monitoring:nodeExporterAddon"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB-MARKER\n-----END CERTIFICATE-----\n"
BOSH = {"environment": "10.0.0.6", "client": "ops", "clientSecret": "S3CRET", "caCert": PEM}


def addon(**values) -> dict:
    """The raw config with nodeExporterAddon enabled, complete credentials, and `values`."""
    return {**BASE, ADDON: {"enabled": True, "bosh": BOSH, **values}}


def test_node_exporter_addon_defaults(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    addon_settings = settings.node_exporter_addon
    assert addon_settings.enabled is False
    assert addon_settings.config_name == "node-exporter"
    assert (addon_settings.release.version, addon_settings.release.sha1) == ("5.8.0", "fe95651a07029512516061113d4ff92c114ae58a")
    assert addon_settings.release.url.endswith("/v5.8.0/node-exporter-5.8.0.tgz")
    assert addon_settings.port == 9100
    assert addon_settings.stemcells == ["ubuntu-xenial", "ubuntu-jammy"]
    assert addon_settings.include_deployments is None and addon_settings.exclude_deployments is None
    assert (addon_settings.delete_on_destroy, addon_settings.rollout) == (False, False)


def test_node_exporter_addon_credentials_are_kept_secret(manifests_dir):
    raw = addon()
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    bosh = Settings.from_raw(raw).node_exporter_addon.bosh
    assert "S3CRET" not in repr(bosh) and "MARKER" not in repr(bosh)
    assert bosh.client_secret.get_secret_value() == "S3CRET"
    assert bosh.ca_cert.get_secret_value() == PEM


def test_node_exporter_addon_ca_cert_path(manifests_dir, tmp_path):
    cert = tmp_path / "director.pem"
    cert.write_text(PEM)
    raw = addon(bosh={**BOSH, "caCert": str(cert)})
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    assert Settings.from_raw(raw).node_exporter_addon.bosh.ca_cert.get_secret_value() == str(cert)


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"port": 0}, f"{ADDON}.port", "greater than or equal to 1"),
        ({"port": 65536}, f"{ADDON}.port", "less than or equal to 65535"),
        ({"port": "http"}, f"{ADDON}.port", "integer"),
        ({"release": {"version": "latest", "url": "https://x.test/r.tgz", "sha1": "0" * 40}}, f"{ADDON}.release.version", "pattern"),
        ({"release": {"version": "5.9.0", "url": "https://x.test/r.tgz", "sha1": "0" * 39}}, f"{ADDON}.release.sha1", "pattern"),
        ({"release": {"version": "5.9.0", "url": "https://x.test/r.tgz", "sha1": "sha256:" + "0" * 40}}, f"{ADDON}.release.sha1", "pattern"),
        ({"release": {"version": "5.9.0", "url": "ftp://x.test/r.tgz", "sha1": "0" * 40}}, f"{ADDON}.release.url", "pattern"),
        ({"release": {"version": "5.9.0"}}, f"{ADDON}.release", "set them together (missing: sha1, url)"),
        ({"bosh": {**BOSH, "caCert": "not a certificate"}}, f"{ADDON}.bosh.caCert", "neither a PEM certificate"),
        ({"bosh": {**BOSH, "caCert": "README.md"}}, f"{ADDON}.bosh.caCert", "holds no PEM certificate"),
        ({"bosh": {**BOSH, "clientSecret": ""}}, f"{ADDON}.bosh.clientSecret", "empty"),
        ({"bosh": {**BOSH, "clientSecret": None}}, ADDON, "bosh.clientSecret is required when enabled"),
        ({"bosh": {k: v for k, v in BOSH.items() if k != "caCert"}}, ADDON, "bosh.caCert is required when enabled"),
        ({"bosh": None}, ADDON, "bosh.environment is required when enabled"),
        ({"bosh": {**BOSH, "secret": "x"}}, f"{ADDON}.bosh.secret", "unknown key"),
        ({"bosh": {**{k: v for k, v in BOSH.items() if k != "clientSecret"}, "client_secret": "x"}},
         f"{ADDON}.bosh.client_secret", "unknown key"),
        ({"stemcells": ["centos-7"]}, f"{ADDON}.stemcells[0]", "'ubuntu-xenial'"),
        ({"stemcells": ["ubuntu-jammy", "windows2019"]}, f"{ADDON}.stemcells", "Linux-only"),
        ({"stemcells": []}, f"{ADDON}.stemcells", "at least 1"),
        ({"includeDeployments": []}, f"{ADDON}.includeDeployments", "empty list includes no deployment"),
        ({"excludeDeployments": ["a b"]}, f"{ADDON}.excludeDeployments[0]", "pattern"),
        ({"configName": "node exporter"}, f"{ADDON}.configName", "pattern"),
        ({"configName": "x$(touch /tmp/pwned)"}, f"{ADDON}.configName", "pattern"),
        ({"collectors": ["cpu", "gpu"]}, f"{ADDON}.collectors", "unknown collector 'gpu'"),
        ({"collectors": {"cpu": "sometimes"}}, f"{ADDON}.collectors.cpu", "boolean"),
        ({"enabled": "maybe"}, f"{ADDON}.enabled", "boolean"),
        ({"deleteOnDestroy": "yes please"}, f"{ADDON}.deleteOnDestroy", "boolean"),
        ({"prot": 9100}, f"{ADDON}.prot", "unknown key"),
    ],
)
def test_bad_node_exporter_addon_input_is_one_line_naming_the_key(values, key, words):
    raw = addon(**values)
    raw[ADDON] = {k: v for k, v in raw[ADDON].items() if v is not None}
    message = assert_one_line_error(raw, key, words)
    assert "S3CRET" not in message and "MARKER" not in message, message


@pytest.mark.parametrize(
    "change, key",
    [
        ({"pks-monitoring:platform": "gke"}, "pks-monitoring:platform"),
        ({"pks-monitoring:nodeScrape": {"staticTargets": [{"name": "pks-api", "address": "10.0.0.5:9100 x"}]}},
         "pks-monitoring:nodeScrape.staticTargets[0].address"),
        ({"pks-monitoring:nodeScrape": {"staticTargets": [{"address": "10.0.0.5"}]}},
         "pks-monitoring:nodeScrape.staticTargets[0].name"),
    ],
)
def test_bad_scrape_settings(change, key):
    with pytest.raises(SettingsError, match=rf"^{re.escape(key)}: "):
        Settings.from_raw({**BASE, **change})
