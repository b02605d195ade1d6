"""The kube-prometheus release in use, and the checks on it."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import SettingsError
from pks_monitoring.upstream import REQUIRED_OBJECTS, KubePrometheus


def test_every_upstream_document_parses(kube_prometheus):
    assert len(kube_prometheus.crd_files) == 10
    assert kube_prometheus.namespace == "monitoring"
    found = {(o["kind"], o["metadata"]["name"]) for o in kube_prometheus.objects}
    assert set(REQUIRED_OBJECTS) <= found


def test_a_directory_that_is_not_kube_prometheus_is_refused(tmp_path):
    (tmp_path / "x.yaml").write_text("kind: ConfigMap\n")
    with pytest.raises(
        SettingsError,
        match=r"^pks-monitoring:kubePrometheus.manifests: .* is not a kube-prometheus manifests/ directory",
    ):
        KubePrometheus.open(tmp_path)
    (tmp_path / "setup").mkdir()
    (tmp_path / "setup" / "ns.yaml").write_text("kind: ConfigMap\nmetadata: {name: x}\n")
    with pytest.raises(SettingsError, match="has no Namespace or no CustomResourceDefinitions"):
        KubePrometheus.open(tmp_path)
