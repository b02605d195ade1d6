"""The settings model: defaults, and one clear line for each kind of bad input."""
from __future__ import annotations

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
    ],
)
def test_bad_input_is_one_line_naming_the_key(change, key, words):
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(SettingsError) as caught:
        Settings.from_raw(raw)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{key}:"), message
    assert words in message, message
