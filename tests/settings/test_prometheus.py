"""`prometheus.clusterLabel`: the external label naming the cluster."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error


def test_the_cluster_label_is_cluster_by_default():
    assert Settings.from_raw(BASE).prometheus.cluster_label == "cluster"


@pytest.mark.parametrize("name", ["k8s_cluster", "_site", "Cluster"])
def test_a_prometheus_label_name_is_taken(name):
    raw = {**BASE, "pks-monitoring:prometheus": {"clusterLabel": name}}
    assert Settings.from_raw(raw).prometheus.cluster_label == name


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("k8s-cluster", "match pattern"),  # Prometheus label names have no dash
        ("1cluster", "match pattern"),
        ("cluster\n", "match pattern"),
        ("", "match pattern"),
        ("__cluster", "reserved"),
        ("prometheus", "set by prometheus-operator"),
        ("prometheus_replica", "set by prometheus-operator"),
    ],
)
def test_a_label_prometheus_would_refuse_or_overwrite_is_refused(name, words):
    raw = {**BASE, "pks-monitoring:prometheus": {"clusterLabel": name}}
    assert_one_line_error(raw, "pks-monitoring:prometheus.clusterLabel", words)
