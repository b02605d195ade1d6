"""pks_monitoring/offline/changes.py: what two renders differ in, from their files' text alone."""

from __future__ import annotations

import json

import pytest

from pks_monitoring.offline.changes import (
    FileChange,
    changed_paths,
    file_change,
    headline,
    inventory,
    text_report,
    warnings,
)

PROMETHEUS = "k8s/monitoring/Prometheus_k8s.yaml"
BUDGET = "k8s/monitoring/PodDisruptionBudget_prometheus-k8s.yaml"


@pytest.mark.parametrize(
    "before, after, paths",
    [
        ({"spec": {"replicas": 1}}, {"spec": {"replicas": 2}}, ["spec.replicas"]),
        # A Secret's or ConfigMap's key is one field, dots and all.
        (
            {"data": {"alertmanager.yaml": "a"}},
            {"data": {"alertmanager.yaml": "b"}},
            ["data.alertmanager.yaml"],
        ),
        ({"spec": {}}, {"spec": {"paused": True}}, ["spec.paused"]),
        ({"spec": {"paused": True}}, {"spec": {}}, ["spec.paused"]),
        (
            {"spec": {"containers": [{"image": "a:1"}, {"image": "b:1"}]}},
            {"spec": {"containers": [{"image": "a:1"}, {"image": "b:2"}]}},
            ["spec.containers[1].image"],
        ),
        # One rule more: the items shifted, so the list is the change.
        ({"spec": {"rules": [1, 2]}}, {"spec": {"rules": [1, 2, 3]}}, ["spec.rules"]),
        ({"a": 1, "b": {"c": 1}}, {"a": 2, "b": {"c": 2}}, ["a", "b.c"]),
        ({"a": 1}, {"a": True}, ["a"]),  # equal in Python, not on the wire
        ({"a": [1]}, {"a": {"0": 1}}, ["a"]),
        ([1], [2], ["[0]"]),
        ({"a": 1}, {"a": 1}, []),
    ],
)
def test_changed_paths(before, after, paths):
    assert changed_paths(before, after) == paths


def test_file_change_from_text():
    one = json.dumps({"spec": {"replicas": 1}}, indent=2)
    two = json.dumps({"spec": {"replicas": 2}}, indent=2)
    assert file_change(PROMETHEUS, one, one) is None
    assert file_change(PROMETHEUS, None, two) == FileChange(PROMETHEUS, "added")
    assert file_change(PROMETHEUS, one, None) == FileChange(PROMETHEUS, "removed")
    assert file_change(PROMETHEUS, one, two) == FileChange(PROMETHEUS, "changed", ("spec.replicas",))
    # A file that is not a document (a script of the BOSH side) changes without field paths.
    assert file_change("bosh/apply.sh", "echo a\n", "echo b\n") == FileChange("bosh/apply.sh", "changed")
    assert file_change("bosh/x.yaml", "a: [", "a: 1") == FileChange("bosh/x.yaml", "changed")


def test_labels_name_objects_as_kubectl_does():
    assert FileChange(PROMETHEUS, "changed").label == "Prometheus monitoring/k8s"
    assert FileChange("k8s/_cluster/Namespace_monitoring.yaml", "removed").label == "Namespace monitoring"
    assert FileChange("bosh/runtime-config.yaml", "changed").label == "bosh/runtime-config.yaml"
    assert FileChange("outputs.json", "changed").kind is None


def test_headline_of_a_replicas_change():
    changes = [FileChange(BUDGET, "added"), FileChange(PROMETHEUS, "changed", ("spec.replicas",))]
    assert headline(changes) == "1 added, 1 changed (spec.replicas)"
    assert headline([]) == "no changes"


def test_headline_names_bosh_and_other_files_and_caps_the_fields():
    fields = tuple(f"data.k{i}" for i in range(7))
    changes = [
        FileChange("k8s/monitoring/ConfigMap_a.yaml", "changed", fields),
        FileChange("k8s/monitoring/ConfigMap_b.yaml", "changed", ("data.k0",)),
        FileChange("k8s/monitoring/ConfigMap_c.yaml", "removed"),
        FileChange("bosh/runtime-config.yaml", "changed", ("addons[0].jobs",)),
        FileChange("outputs.json", "changed", ("grafanaUrl",)),
    ]
    assert headline(changes) == (
        "2 changed (data.k0, data.k1, data.k2, data.k3, data.k4, and 2 more), 1 removed, "
        "BOSH: bosh/runtime-config.yaml changed, outputs.json changed"
    )


def test_warnings_call_out_data_lost_and_the_bosh_side():
    removed = [
        FileChange("k8s/monitoring/PersistentVolumeClaim_prometheus-k8s-db.yaml", "removed"),
        FileChange(
            "k8s/_cluster/CustomResourceDefinition_prometheuses.monitoring.coreos.com.yaml", "removed"
        ),
        FileChange("k8s/_cluster/Namespace_monitoring.yaml", "removed"),
        FileChange("k8s/_cluster/StorageClass_thin.yaml", "removed"),
    ]
    harmless = [
        FileChange("k8s/monitoring/ConfigMap_a.yaml", "removed"),
        FileChange("k8s/_cluster/Namespace_other.yaml", "added"),
        FileChange("k8s/monitoring/PersistentVolumeClaim_x.yaml", "changed", ("spec.resources",)),
    ]
    found = warnings(removed + harmless)
    assert len(found) == 4
    for change, line in zip(removed, found):
        assert line.startswith(f"deletes {change.label}")
    assert warnings([FileChange("bosh/runtime-config.yaml", "added")]) == [
        "changes the BOSH side (runs as root on every VM of the director): bosh/runtime-config.yaml"
    ]


def test_text_report_leads_with_warnings_then_the_headline_and_ends_with_the_diff():
    changes = [
        FileChange("k8s/_cluster/Namespace_monitoring.yaml", "removed"),
        FileChange(PROMETHEUS, "changed", ("spec.replicas",)),
    ]
    report = text_report(changes, "--- a/x\n+++ b/x\n")
    lines = report.splitlines()
    assert lines[0].startswith("warning: deletes Namespace monitoring")
    assert lines[1] == "1 changed (spec.replicas), 1 removed"
    assert "  changed  Prometheus monitoring/k8s: spec.replicas" in lines
    assert report.endswith("\n\n--- a/x\n+++ b/x\n")
    assert text_report([], "") == ""


def test_inventory_counts_objects_per_kind_then_the_other_files():
    paths = [
        "k8s/monitoring/ConfigMap_a.yaml",
        "k8s/monitoring/ConfigMap_b.yaml",
        "k8s/_cluster/Namespace_monitoring.yaml",
        "bosh/runtime-config.yaml",
        "bosh/apply.json",
        "outputs.json",
    ]
    assert inventory(paths) == "3 objects (2 ConfigMap, 1 Namespace), bosh/ (2 files), outputs.json"
