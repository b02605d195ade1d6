"""Manifest transformations: one small function per concern, each acting on one manifest dict.

They replace the `kubectl patch` steps of the manual recipe. Each takes the object as
`pulumi_kubernetes.yaml.ConfigFile` hands it over (camelCase keys, `apiVersion`/`kind` present)
and changes it in place, touching nothing outside its concern. ConfigFile calls them on a `*List`
document and then on each item, so they act on items only.
"""
from __future__ import annotations

import copy
import hashlib
import re
from typing import Any, Callable

import yaml

Manifest = dict[str, Any]
Transformation = Callable[[Manifest], None]


def _is_list(obj: Manifest) -> bool:
    return str(obj.get("kind", "")).endswith("List")


def is_object(obj: Manifest, kind: str, name: str) -> bool:
    """`obj` is the upstream object `kind` `name`: what a transformation acts on."""
    return obj.get("kind") == kind and (obj.get("metadata") or {}).get("name") == name


def _labels(obj: Manifest) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def _drop(obj: Manifest) -> None:
    # An empty List is how a ConfigFile transformation omits an object.
    obj.clear()
    obj.update({"apiVersion": "v1", "kind": "List", "items": []})


def drop_disruption_budget(obj: Manifest, *, name: str, replicas: int) -> None:
    """No PodDisruptionBudget `name` in front of a single replica.

    Upstream's budgets are written for its replica counts (Prometheus 2, Alertmanager 3), and
    kube-prometheus only creates them for more than one replica. In front of one Prometheus,
    `minAvailable: 1` allows no eviction at all: `kubectl drain` (and so `tkgi upgrade-cluster`)
    would wait on that pod until it gives up.
    """
    if replicas < 2 and is_object(obj, "PodDisruptionBudget", name):
        _drop(obj)


def set_replicas(obj: Manifest, *, kind: str, name: str, replicas: int) -> None:
    """`spec.replicas` of one object (the Prometheus `k8s` or Alertmanager `main` resource)."""
    if is_object(obj, kind, name):
        obj.setdefault("spec", {})["replicas"] = replicas


def drop_node_exporter(obj: Manifest) -> None:
    """node_exporter runs on every BOSH VM as a runtime-config addon, not as a DaemonSet.

    Everything labelled node-exporter goes (DaemonSet, Service, ServiceMonitor, ServiceAccount,
    ClusterRole(Binding), NetworkPolicy) except its PrometheusRule: the node alerts keep working
    on the metrics the addon's node_exporter serves.
    """
    if _is_list(obj) or obj.get("kind") == "PrometheusRule":
        return
    if _labels(obj).get("app.kubernetes.io/name") == "node-exporter":
        _drop(obj)


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


_BlockStyleDumper.add_representer(
    str, lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None)
)


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
        annotations[_ADAPTER_CONFIG_CHECKSUM] = hashlib.md5(made_from.encode(), usedforsecurity=False).hexdigest()


def rename_namespace(obj: Manifest, *, old: str, new: str) -> None:
    """Move the stack from upstream's namespace to ours, everywhere upstream names it.

    That is the Namespace object itself, `namespace:` fields (metadata, RoleBinding subjects, the Prometheus resource's
    Alertmanager reference), `namespace="..."` label matchers in alert rules and dashboards,
    and `<service>.<namespace>.svc` addresses (Grafana's datasource). Other namespaces
    (`default`, `kube-system`) are left alone.
    """
    if old == new or _is_list(obj):
        return
    matcher = re.compile(rf'namespace(=~?)(\\?)"{re.escape(old)}(\\?)"')
    address = re.compile(rf"\.{re.escape(old)}\.svc\b")

    def rename(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: rename(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v, key) for v in value]
        if isinstance(value, str):
            if key == "namespace" and value == old:
                return new
            value = matcher.sub(lambda m: f'namespace{m[1]}{m[2]}"{new}{m[3]}"', value)
            return address.sub(f".{new}.svc", value)
        return value

    renamed = rename(obj)
    if is_object(renamed, "Namespace", old):
        renamed["metadata"]["name"] = new
    obj.clear()
    obj.update(renamed)


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
    if is_object(obj, "Prometheus", "k8s"):
        obj.setdefault("spec", {})["additionalScrapeConfigs"] = {"name": secret, "key": key}


# PKS/TKGI runs kube-controller-manager and kube-scheduler on BOSH master VMs, not in pods: the
# upstream ServiceMonitors find nothing and KubeControllerManagerDown/KubeSchedulerDown fire
# forever. The managed-cluster answer (kube-prometheus' addons/managed-cluster.libsonnet): drop
# the monitors and their alert groups.
_CONTROL_PLANE_MONITORS = {"kube-controller-manager", "kube-scheduler"}
_CONTROL_PLANE_ALERT_GROUPS = {"kubernetes-system-controller-manager", "kubernetes-system-scheduler"}


def drop_control_plane_monitors(obj: Manifest) -> None:
    """The PKS/TKGI platform patch: no monitors or alerts for masters Prometheus cannot reach."""
    kind, name = obj.get("kind"), obj.get("metadata", {}).get("name")
    if kind == "ServiceMonitor" and name in _CONTROL_PLANE_MONITORS:
        _drop(obj)
    elif kind == "PrometheusRule":
        groups = obj.get("spec", {}).get("groups")
        if groups and any(g.get("name") in _CONTROL_PLANE_ALERT_GROUPS for g in groups):
            obj["spec"]["groups"] = [g for g in groups if g.get("name") not in _CONTROL_PLANE_ALERT_GROUPS]


# One patch set per platform, selected by one setting (kube-prometheus' `platforms/` idea).
PLATFORM_PATCHES: dict[str, list[Transformation]] = {
    "pks": [drop_control_plane_monitors],
    "upstream": [],
}
