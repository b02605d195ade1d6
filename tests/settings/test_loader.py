"""The settings model: defaults, and one clear line for each kind of bad input."""

from __future__ import annotations

import re

import pytest

from pks_monitoring.settings import MANIFESTS_ENV, Settings, SettingsError
from tests.helpers.settings import BASE, assert_one_line_error


def test_defaults(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    assert settings.prometheus.replicas == 1
    assert settings.alertmanager.replicas == 1
    assert settings.kube_prometheus.namespace == "monitoring"
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
        (
            {"pks-monitoring:prometheus": {"replicas": -1}},
            "pks-monitoring:prometheus.replicas",
            "greater than or equal to 1",
        ),
        ({"pks-monitoring:prometheus": {"replicas": "two"}}, "pks-monitoring:prometheus.replicas", "integer"),
        ({"pks-monitoring:alertmanager": "1"}, "pks-monitoring:alertmanager", "dictionary"),
        ({"pks-monitoring:prometheos": {"replicas": 1}}, "pks-monitoring:prometheos", "unknown config key"),
        (
            {"pks-monitoring:kubePrometheus": {"namspace": "x"}},
            "pks-monitoring:kubePrometheus.namspace",
            "unknown key",
        ),
        (
            {"pks-monitoring:kubePrometheus": {"manifests": "/does/not/exist"}},
            "pks-monitoring:kubePrometheus.manifests",
            "not a directory",
        ),
        (
            {"pks-monitoring:kubePrometheus": {"manifests": "x", "namespace": "Monitoring_1"}},
            "pks-monitoring:kubePrometheus.namespace",
            "pattern",
        ),
        ({"pks-monitoring:cluster": None}, "pks-monitoring:cluster", "required"),
        ({"pks-monitoring:cluster": "My Cluster"}, "pks-monitoring:cluster", "pattern"),
        ({"kubernetes:context": None}, "kubernetes", "kubernetes:context"),
        (
            {"pks-monitoring:grafana": {"expose": {"type": "none"}, "adminUser": "a b"}},
            "pks-monitoring:grafana.adminUser",
            "pattern",
        ),
        # The switches of pulumi-kubernetes >= 4.29: the provider that runs (4.25) always adopts.
        (
            {"pks-monitoring:provider": {"upsertExistingObjects": True}},
            "pks-monitoring:provider",
            "4.25.0",
        ),
        # Only the documented camelCase spelling: snake_case would dodge the plain-text-secret check.
        (
            {"pks-monitoring:grafana": {"admin_user": "root"}},
            "pks-monitoring:grafana.admin_user",
            "unknown key",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_key(change, key, words, monkeypatch):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)  # the manifests are the stack's (tools/test.sh sets it)
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    assert_one_line_error(raw, key, words)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"pks-monitoring:platform": "gke"}, "pks-monitoring:platform"),
        (
            {
                "pks-monitoring:nodeExporter": {
                    "staticTargets": [{"name": "pks-api", "address": "10.0.0.5:9100 x"}]
                }
            },
            "pks-monitoring:nodeExporter.staticTargets[0].address",
        ),
        (
            {"pks-monitoring:nodeExporter": {"staticTargets": [{"address": "10.0.0.5"}]}},
            "pks-monitoring:nodeExporter.staticTargets[0].name",
        ),
    ],
)
def test_bad_scrape_settings(change, key):
    with pytest.raises(SettingsError, match=rf"^{re.escape(key)}: "):
        Settings.from_raw({**BASE, **change})
