"""Prometheus scrape configs for node_exporter on the BOSH VMs (the `additionalScrapeConfigs`).

Both jobs label their targets as the upstream node-exporter ServiceMonitor does, so the 26
upstream node alerts and Grafana's "Node" dashboards work unchanged: `job="node-exporter"` and
`instance` = the Kubernetes node name (for VMs outside Kubernetes: the name given in settings).
"""
from __future__ import annotations

from typing import Any, Sequence

JOB = "node-exporter"


def node_scrape_configs(
    port: int,
    static_targets: Sequence[dict[str, str]] = (),
    file_sd_files: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """`static_targets`: [{"name": "pks-api", "address": "10.0.0.5"}], VMs outside Kubernetes."""
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
                {"targets": [f"{t['address']}:{port}"], "labels": {"name": t["name"]}}
                for t in static_targets
            ]
        if file_sd_files:
            vms["file_sd_configs"] = [{"files": list(file_sd_files)}]
        configs.append(vms)
    return configs
