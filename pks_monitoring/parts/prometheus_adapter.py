"""prometheus-adapter: the metrics API (`kubectl top`, HPA) from Prometheus' series."""

from __future__ import annotations

import copy
import hashlib
from typing import Any

import yaml

from pks_monitoring.manifests import Manifest, Transformation, is_object
from pks_monitoring.parts.part import Part, StackInputs

# prometheus-adapter's query template for a node's CPU in use (cores): node_exporter's idle time,
# selected and grouped by the label its resource overrides map to the node.
_ADAPTER_NODE_CPU_QUERY = """\
sum by (<<.GroupBy>>) (
  1 - irate(
    node_cpu_seconds_total{mode="idle",job="node-exporter",<<.LabelMatchers>>}[60s]
  )
)
"""
# The adapter reads its config once, at start-up; upstream rolls it on a change through this
# pod-template annotation.
_ADAPTER_CONFIG_CHECKSUM = "checksum.config/md5"


class _BlockStyleDumper(yaml.SafeDumper):
    """Multi-line strings (the queries) as `|` blocks, as upstream writes them: readable in the
    ConfigMap and in its diffs."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> Any:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_BlockStyleDumper.add_representer(str, _represent_text)


def adapter_reads_nodes_by_instance(obj: Manifest) -> None:
    """prometheus-adapter finds a node's CPU (`kubectl top node`) by node_exporter's `instance`.

    Upstream joins node_cpu_seconds_total to kube_pod_info on (namespace, pod) to learn the node,
    which works for node_exporter pods only. The addon's node_exporter on the BOSH VMs has no pod:
    its series carry `instance` = the node name (the node scrape job's relabelling). Upstream's
    node memory query already maps `instance` to the node; the CPU query now does the same. (Its
    Windows branch goes too: this stack deploys no windows_exporter.) The adapter Deployment's
    config checksum changes with it, so that running adapters restart on the new query.
    KubePrometheus.open checks the upstream layout this relies on.
    """
    if is_object(obj, "ConfigMap", "adapter-config"):
        config = yaml.safe_load(obj["data"]["config.yaml"])
        rules = config["resourceRules"]
        rules["cpu"]["nodeQuery"] = _ADAPTER_NODE_CPU_QUERY
        rules["cpu"]["resources"] = copy.deepcopy(rules["memory"]["resources"])
        obj["data"]["config.yaml"] = yaml.dump(config, Dumper=_BlockStyleDumper, sort_keys=False)
    elif is_object(obj, "Deployment", "prometheus-adapter"):
        # Upstream's checksum is of upstream's config; ours is of what our config is made from.
        annotations = obj["spec"]["template"]["metadata"].setdefault("annotations", {})
        made_from = annotations.get(_ADAPTER_CONFIG_CHECKSUM, "") + _ADAPTER_NODE_CPU_QUERY
        digest = hashlib.md5(made_from.encode(), usedforsecurity=False).hexdigest()
        annotations[_ADAPTER_CONFIG_CHECKSUM] = digest


def patches(inputs: StackInputs) -> list[Transformation]:
    return [adapter_reads_nodes_by_instance]


PART = Part("prometheusAdapter", patches)
