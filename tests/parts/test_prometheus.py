"""Prometheus (`prometheus`): the cluster's external label on upstream's Prometheus `k8s`."""

from __future__ import annotations

import copy

from pks_monitoring.parts.prometheus import set_external_label
from pks_monitoring.upstream import PROMETHEUS


def test_the_cluster_label_joins_upstreams_external_labels(kube_prometheus):
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", PROMETHEUS))
    before = prometheus["spec"].get("externalLabels") or {}
    set_external_label(prometheus, name="cluster", value="demo")
    assert prometheus["spec"]["externalLabels"] == {**before, "cluster": "demo"}


def test_other_objects_are_left_alone(kube_prometheus):
    others = copy.deepcopy([o for o in kube_prometheus.objects if o["kind"] != "Prometheus"])
    for obj in others:
        set_external_label(obj, name="cluster", value="demo")
    assert others == [o for o in kube_prometheus.objects if o["kind"] != "Prometheus"]
