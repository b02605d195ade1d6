"""prometheus-adapter's patch: `kubectl top node` reads node_exporter's series by instance."""

from __future__ import annotations

import copy

import yaml

from pks_monitoring.parts.prometheus_adapter import adapter_reads_nodes_by_instance


def adapter_rules(config_map: dict) -> dict:
    return yaml.safe_load(config_map["data"]["config.yaml"])["resourceRules"]


def test_adapter_reads_node_cpu_by_instance_as_it_reads_node_memory(kube_prometheus):
    upstream = kube_prometheus.find("ConfigMap", "adapter-config")
    before = adapter_rules(upstream)
    assert "on(namespace, pod)" in before["cpu"]["nodeQuery"]  # the join BOSH VMs cannot satisfy
    patched = copy.deepcopy(upstream)
    adapter_reads_nodes_by_instance(patched)
    after = adapter_rules(patched)
    assert after["cpu"]["resources"]["overrides"] == {
        "instance": {"resource": "node"},
        "namespace": {"resource": "namespace"},
        "pod": {"resource": "pod"},
    }
    query = after["cpu"]["nodeQuery"]
    assert "kube_pod_info" not in query and "windows" not in query
    assert 'node_cpu_seconds_total{mode="idle",job="node-exporter",<<.LabelMatchers>>}' in query
    # Everything else as upstream has it.
    assert after["memory"] == before["memory"]
    assert after["cpu"]["containerQuery"] == before["cpu"]["containerQuery"]
    assert {k: v for k, v in after.items() if k not in ("cpu", "memory")} == {
        k: v for k, v in before.items() if k not in ("cpu", "memory")
    }
    patched["data"].pop("config.yaml")
    assert {k: v for k, v in upstream.items() if k != "data"} == {
        k: v for k, v in patched.items() if k != "data"
    }


def test_adapter_pods_roll_onto_the_new_query(kube_prometheus):
    """The adapter reads its config at start-up: the pod template's checksum must change with the
    query (a changed template restarts the pods) and stay put from one render to the next."""

    def checksum(deployment):
        return deployment["spec"]["template"]["metadata"]["annotations"]["checksum.config/md5"]

    upstream = kube_prometheus.find("Deployment", "prometheus-adapter")
    patched, again = copy.deepcopy(upstream), copy.deepcopy(upstream)
    adapter_reads_nodes_by_instance(patched)
    adapter_reads_nodes_by_instance(again)
    assert checksum(patched) != checksum(upstream) and checksum(patched) == checksum(again)
    assert len(checksum(patched)) == 32  # an md5, as upstream writes it
    del patched["spec"]["template"]["metadata"]["annotations"]["checksum.config/md5"]
    expected = copy.deepcopy(upstream)
    del expected["spec"]["template"]["metadata"]["annotations"]["checksum.config/md5"]
    assert patched == expected


def test_adapter_patch_leaves_other_objects_alone(kube_prometheus):
    for kind, name in (
        ("ConfigMap", "grafana-dashboards"),
        ("ConfigMap", "blackbox-exporter-configuration"),
        ("Deployment", "grafana"),
        ("Deployment", "kube-state-metrics"),
    ):
        obj = copy.deepcopy(kube_prometheus.find(kind, name))
        before = copy.deepcopy(obj)
        adapter_reads_nodes_by_instance(obj)
        assert obj == before
