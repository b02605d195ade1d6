"""node_exporter (`nodeExporter`): on every BOSH VM through the runtime-config addon
(components/node_exporter_addon.py) instead of upstream's DaemonSet, and scraped by Prometheus
through additional scrape configs.

Both jobs label their targets as the upstream node-exporter ServiceMonitor does, so the 26
upstream node alerts and Grafana's "Node" dashboards work unchanged: `job="node-exporter"` and
`instance` = the Kubernetes node name (for VMs outside Kubernetes, the masters among them: the
name from settings, `master-<index>` for a master).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any

import yaml

from pks_monitoring.manifests import Manifest, Transformation, drop, is_list, is_object, labels
from pks_monitoring.parts.part import Added, Part, StackInputs
from pks_monitoring.upstream import PROMETHEUS

JOB = "node-exporter"
SCRAPE_CONFIGS_SECRET = "additional-scrape-configs"
SCRAPE_CONFIGS_KEY = "prometheus-additional.yaml"


def drop_node_exporter(obj: Manifest) -> None:
    """node_exporter runs on every BOSH VM as a runtime-config addon, not as a DaemonSet.

    Everything labelled node-exporter goes (DaemonSet, Service, ServiceMonitor, ServiceAccount,
    ClusterRole(Binding), NetworkPolicy) except its PrometheusRule: the node alerts keep working
    on the metrics the addon's node_exporter serves.
    """
    if is_list(obj) or obj.get("kind") == "PrometheusRule":
        return
    if labels(obj).get("app.kubernetes.io/name") == "node-exporter":
        drop(obj)


def grant_node_discovery(obj: Manifest) -> None:
    """The `prometheus-k8s` ClusterRole may list and watch nodes.

    Upstream grants only `get nodes/metrics`; Kubernetes node discovery (the node-exporter job
    of the additional scrape configs) is refused without list/watch on `nodes`.
    """
    if is_object(obj, "ClusterRole", "prometheus-k8s"):
        rule = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]}
        if rule not in obj.setdefault("rules", []):
            obj["rules"].append(rule)


def use_additional_scrape_configs(obj: Manifest, *, secret: str, key: str) -> None:
    """The Prometheus `k8s` resource reads extra scrape configs from `secret`.

    prometheus-operator watches that Secret and reloads Prometheus when it changes: no pod is
    deleted by hand.
    """
    if is_object(obj, "Prometheus", PROMETHEUS):
        obj.setdefault("spec", {})["additionalScrapeConfigs"] = {"name": secret, "key": key}


def node_scrape_configs(
    port: int,
    static_targets: Sequence[Mapping[str, str]] = (),
    file_sd_files: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """The node-exporter job of every Kubernetes node, and one for VMs outside Kubernetes;
    `static_targets`: [{"name": "pks-api", "address": "10.0.0.5"}]."""
    configs: list[dict[str, Any]] = [
        {
            # Every Kubernetes node is a BOSH VM with the node_exporter addon on `port`.
            "job_name": JOB,
            "kubernetes_sd_configs": [{"role": "node"}],
            "relabel_configs": [
                {
                    "source_labels": ["__meta_kubernetes_node_address_InternalIP"],
                    "regex": "(.+)",
                    "replacement": f"${{1}}:{port}",
                    "target_label": "__address__",
                },
                {"source_labels": ["__meta_kubernetes_node_name"], "target_label": "instance"},
            ],
        }
    ]
    if static_targets or file_sd_files:
        vms: dict[str, Any] = {
            # job_name must be unique; the job label is set back to the upstream one.
            "job_name": f"{JOB}-vms",
            "relabel_configs": [
                {"target_label": "job", "replacement": JOB},
                {"source_labels": ["name"], "regex": "(.+)", "target_label": "instance"},
                {"regex": "name", "action": "labeldrop"},
            ],
        }
        if static_targets:
            vms["static_configs"] = [
                {"targets": [f"{t['address']}:{port}"], "labels": {"name": t["name"]}} for t in static_targets
            ]
        if file_sd_files:
            vms["file_sd_configs"] = [{"files": list(file_sd_files)}]
        configs.append(vms)
    return configs


def patches(inputs: StackInputs) -> list[Transformation]:
    return [
        drop_node_exporter,
        grant_node_discovery,
        partial(use_additional_scrape_configs, secret=SCRAPE_CONFIGS_SECRET, key=SCRAPE_CONFIGS_KEY),
    ]


def objects(inputs: StackInputs) -> list[Added]:
    node = inputs.settings.node_exporter
    targets = [target.model_dump() for target in node.vm_targets()]
    configs = node_scrape_configs(node.port, targets, node.file_sd_files)
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": SCRAPE_CONFIGS_SECRET, "namespace": inputs.namespace},
        "stringData": {SCRAPE_CONFIGS_KEY: yaml.safe_dump(configs, sort_keys=True)},
    }
    return [Added(secret)]


PART = Part("nodeExporter", patches, objects)
