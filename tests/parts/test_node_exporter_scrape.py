"""The node_exporter scrape configs (`pks_monitoring.parts.node_exporter`) checked by the real Prometheus tools.

Debian's prometheus/promtool 2.42 are built without Kubernetes service discovery, so the
Kubernetes node job is run with its `kubernetes_sd_configs` swapped for a `file_sd_configs` whose
target group carries exactly the labels Kubernetes node discovery produces; its relabelling is kept
as is. Everything runs on 127.0.0.1; every started process is stopped by a finalizer.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from pks_monitoring.parts.node_exporter import JOB, node_scrape_configs
from pks_monitoring.parts.prometheus_adapter import adapter_reads_nodes_by_instance
from tests.helpers.prometheus_tools import (
    LOOPBACK,
    PrometheusAPI,
    free_port,
    require,
    run_tool,
    start,
    start_prometheus,
    wait_http_ok,
)

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

RULE_FILE = "nodeExporter-prometheusRule.yaml"  # in the kube-prometheus manifests/
VMS_JOB = f"{JOB}-vms"
NODE_NAME = "worker-0"
KUBELET_PORT = 10250

# Keys of Prometheus' kubernetes_sd_config (its own and the shared HTTP client ones).
KUBERNETES_SD_KEYS = {
    "role",
    "api_server",
    "kubeconfig_file",
    "namespaces",
    "selectors",
    "attach_metadata",
    "basic_auth",
    "authorization",
    "oauth2",
    "bearer_token",
    "bearer_token_file",
    "tls_config",
    "proxy_url",
    "no_proxy",
    "proxy_from_environment",
    "proxy_connect_header",
    "follow_redirects",
    "enable_http2",
}
KUBERNETES_SD_ROLES = {"node", "pod", "service", "endpoints", "endpointslice", "ingress"}

# What `kubernetes_sd_configs: [{role: node}]` yields for one node (discovery/kubernetes/node.go):
# one target group per node; group labels `__meta_kubernetes_node_name`, `_provider_id`,
# `_label_*`/`_labelpresent_*`, `_annotation_*`/`_annotationpresent_*`; the target's labels
# `__address__` = first address (InternalIP first) joined with the kubelet port,
# `instance` = the node name, and `__meta_kubernetes_node_address_<type>` for each address type.
NODE_SD_TARGET = {
    "__address__": f"{LOOPBACK}:{KUBELET_PORT}",
    "instance": NODE_NAME,
    "__meta_kubernetes_node_address_InternalIP": LOOPBACK,
    "__meta_kubernetes_node_address_Hostname": NODE_NAME,
}
NODE_SD_GROUP_LABELS = {
    "__meta_kubernetes_node_name": NODE_NAME,
    "__meta_kubernetes_node_provider_id": "vsphere://4211a1b2-0000-0000-0000-000000000000",
    "__meta_kubernetes_node_label_kubernetes_io_hostname": NODE_NAME,
    "__meta_kubernetes_node_labelpresent_kubernetes_io_hostname": "true",
    "__meta_kubernetes_node_label_kubernetes_io_os": "linux",
    "__meta_kubernetes_node_labelpresent_kubernetes_io_os": "true",
    "__meta_kubernetes_node_annotation_node_alpha_kubernetes_io_ttl": "0",
    "__meta_kubernetes_node_annotationpresent_node_alpha_kubernetes_io_ttl": "true",
}


# ---------------------------------------------------------------- helpers


@pytest.fixture(scope="session")
def node_rules(manifests_dir) -> dict[str, Any]:
    """The upstream node-exporter PrometheusRule's spec: a Prometheus rule file."""
    rule = yaml.safe_load((manifests_dir / RULE_FILE).read_text())
    assert rule["kind"] == "PrometheusRule" and rule["metadata"]["name"] == "node-exporter-rules"
    return rule["spec"]


def alerts(rules: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for g in rules["groups"] for r in g["rules"] if "alert" in r]


def write_rules(path: Path, rules: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(rules, sort_keys=False))
    return path


def write_node_sd_file(path: Path) -> Path:
    """A file_sd file holding the target group Kubernetes node discovery gives for one node.

    file_sd knows group labels only; as node discovery makes one group per node with one target,
    the target's own labels (but `__address__`) go into the group labels.
    """
    labels = {**NODE_SD_GROUP_LABELS, **{k: v for k, v in NODE_SD_TARGET.items() if k != "__address__"}}
    path.write_text(json.dumps([{"targets": [NODE_SD_TARGET["__address__"]], "labels": labels}]))
    return path


def swap_kubernetes_sd(job: dict[str, Any], sd_files: list[str]) -> dict[str, Any]:
    """A copy of `job` with its `kubernetes_sd_configs` replaced by `file_sd_configs` over
    `sd_files` (which hold what the Kubernetes discovery would give); everything else unchanged."""
    job = copy.deepcopy(job)
    if "kubernetes_sd_configs" in job:
        del job["kubernetes_sd_configs"]
        job.setdefault("file_sd_configs", []).append({"files": list(sd_files)})
    return job


def job(configs: list[dict[str, Any]], name: str) -> dict[str, Any]:
    matches = [c for c in configs if c["job_name"] == name]
    assert len(matches) == 1, [c["job_name"] for c in configs]
    return matches[0]


def write_config(
    path: Path, scrape_configs: list[dict[str, Any]], rule_files: list[str], interval: str = "15s"
) -> Path:
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "rule_files": rule_files,
        "scrape_configs": scrape_configs,
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def check_config(path: Path):
    return run_tool([require("promtool"), "check", "config", str(path)])


# ---------------------------------------------------------------- 1. promtool check config


@pytest.fixture
def full_config(tmp_path, node_rules) -> tuple[Path, list[dict[str, Any]]]:
    """prometheus.yml with the rendered jobs (Kubernetes SD swapped for file SD) and the rules."""
    rendered = node_scrape_configs(
        9100,
        static_targets=[{"name": "pks-api", "address": "10.0.0.5"}],
        file_sd_files=["/tmp/x/*.json"],
    )
    nodes = write_node_sd_file(tmp_path / "nodes.json")
    swapped = [swap_kubernetes_sd(c, [str(nodes)]) for c in rendered]
    rules = write_rules(tmp_path / "node-exporter-rules.yaml", node_rules)
    return write_config(tmp_path / "prometheus.yml", swapped, [str(rules)]), rendered


def test_rendered_jobs():
    rendered = node_scrape_configs(9100, static_targets=[{"name": "pks-api", "address": "10.0.0.5"}])
    assert [c["job_name"] for c in rendered] == [JOB, VMS_JOB]
    assert [c["job_name"] for c in node_scrape_configs(9100)] == [JOB]


def test_promtool_accepts_the_full_config(full_config):
    path, _ = full_config
    result = check_config(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


def test_kubernetes_sd_block_is_a_valid_node_discovery(full_config):
    _, rendered = full_config
    sd_configs = job(rendered, JOB)["kubernetes_sd_configs"]
    assert len(sd_configs) == 1
    (sd,) = sd_configs
    assert sd["role"] == "node"
    assert sd["role"] in KUBERNETES_SD_ROLES
    assert set(sd) <= KUBERNETES_SD_KEYS, set(sd) - KUBERNETES_SD_KEYS
    assert "namespaces" not in sd  # nodes are not namespaced
    # The relabelling reads only labels node discovery produces.
    produced = set(NODE_SD_TARGET) | set(NODE_SD_GROUP_LABELS)
    for relabel in job(rendered, JOB)["relabel_configs"]:
        assert set(relabel.get("source_labels", [])) <= produced, relabel


def test_promtool_rejects_a_broken_relabel_regex(full_config, tmp_path):
    path, _ = full_config
    config = yaml.safe_load(path.read_text())
    job(config["scrape_configs"], JOB)["relabel_configs"][0]["regex"] = "("
    broken = tmp_path / "broken.yml"
    broken.write_text(yaml.safe_dump(config, sort_keys=False))
    result = check_config(broken)
    assert result.returncode != 0, result.stdout + result.stderr
    assert "regexp" in result.stdout + result.stderr


# ---------------------------------------------------------------- 2. promtool check rules


def test_promtool_accepts_the_upstream_node_rules(tmp_path, node_rules):
    rules = node_rules
    assert len(alerts(rules)) == 26
    path = write_rules(tmp_path / "node-exporter-rules.yaml", rules)
    result = run_tool([require("promtool"), "check", "rules", str(path)])
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    total = sum(len(g["rules"]) for g in rules["groups"])
    assert f"SUCCESS: {total} rules found" in output


# ---------------------------------------------------------------- 3 + 4. a real Prometheus


@pytest.fixture(scope="module")
def node_exporter(request, tmp_path_factory) -> int:
    """A real node_exporter on 127.0.0.1 with a few fast collectors; returns its port."""
    binary = require("node_exporter")
    port = free_port()
    process = start(
        "node_exporter",
        [
            binary,
            f"--web.listen-address={LOOPBACK}:{port}",
            "--collector.disable-defaults",
            *(
                f"--collector.{c}"
                for c in (
                    "cpu",
                    "meminfo",
                    "loadavg",
                    "filesystem",
                    "time",
                    "timex",
                    "uname",
                    "netdev",
                    "diskstats",
                    "vmstat",
                    "filefd",
                    "stat",
                )
            ),
        ],
        tmp_path_factory.mktemp("node_exporter") / "node_exporter.log",
    )
    request.addfinalizer(process.stop)
    wait_http_ok(f"http://{LOOPBACK}:{port}/metrics", process, timeout=10)
    return port


@pytest.fixture(scope="module")
def prometheus(request, tmp_path_factory, node_exporter, node_rules) -> PrometheusAPI:
    """A real Prometheus scraping the real node_exporter through both rendered jobs, every
    second, evaluating the upstream node rules every second.

    - `node-exporter-vms`: static target {"name": "vm-1", "address": "127.0.0.1"}.
    - `node-exporter`: relabelling unchanged, Kubernetes SD swapped for the node-discovery file.
    """
    root = tmp_path_factory.mktemp("prometheus")
    rendered = node_scrape_configs(node_exporter, static_targets=[{"name": "vm-1", "address": LOOPBACK}])
    nodes = write_node_sd_file(root / "nodes.json")
    scrape_configs = [swap_kubernetes_sd(c, [str(nodes)]) for c in rendered]
    rules = write_rules(root / "node-exporter-rules.yaml", node_rules)
    config = write_config(root / "prometheus.yml", scrape_configs, [str(rules)], interval="1s")
    return start_prometheus(config, root, request)


def active_target(api: PrometheusAPI, pool: str) -> dict[str, Any]:
    targets = [t for t in api.targets() if t["scrapePool"] == pool]
    assert len(targets) == 1, targets
    return targets[0]


def test_vm_job_scrapes_node_exporter_as_upstream_job(prometheus, node_exporter):
    series = prometheus.poll(
        lambda: prometheus.vector('up{job="node-exporter", instance="vm-1"} == 1'),
        'up{job="node-exporter", instance="vm-1"} == 1',
    )
    assert len(series) == 1
    assert series[0]["metric"] == {"__name__": "up", "job": JOB, "instance": "vm-1"}

    target = active_target(prometheus, VMS_JOB)
    assert target["labels"] == {"job": JOB, "instance": "vm-1"}  # `name` dropped
    assert target["scrapeUrl"] == f"http://{LOOPBACK}:{node_exporter}/metrics"
    assert target["health"] == "up", target


# Alerts whose expressions are queried directly (each evaluates; the result may be empty).
QUERIED_ALERTS = (
    "NodeFilesystemSpaceFillingUp",
    "NodeClockNotSynchronising",
    "NodeClockSkewDetected",
    "NodeFileDescriptorLimit",
    "NodeMemoryHighUtilization",
    "NodeHighNumberConntrackEntriesUsed",
)


def test_upstream_alert_expressions_evaluate(prometheus, node_rules):
    prometheus.poll(lambda: prometheus.vector('up{job="node-exporter"} == 1'), "a scraped target")
    by_name: dict[str, list[str]] = {}
    for rule in alerts(node_rules):
        by_name.setdefault(rule["alert"], []).append(rule["expr"])
    assert set(QUERIED_ALERTS) <= set(by_name)
    failures = {}
    for name in QUERIED_ALERTS:
        for expr in by_name[name]:
            answer = prometheus.query(expr)
            if answer.get("status") != "success":
                failures[f"{name}: {expr}"] = answer
    assert not failures, failures


def test_upstream_rules_see_the_scraped_node(prometheus):
    """The upstream recording rules select job="node-exporter": they must find the node."""
    series = prometheus.poll(
        lambda: prometheus.vector('instance:node_num_cpu:sum{instance="vm-1"}'),
        "instance:node_num_cpu:sum for vm-1",
    )
    assert float(series[0]["value"][1]) >= 1


def test_upstream_rule_groups_load_and_evaluate_without_error(prometheus, node_rules):
    expected = {g["name"]: len(g["rules"]) for g in node_rules["groups"]}

    def evaluated():
        groups = prometheus.rule_groups()
        rules = [r for g in groups for r in g["rules"]]
        done = all(not g["lastEvaluation"].startswith("0001-") for g in groups) and all(
            r["health"] != "unknown" for r in rules
        )
        return groups if done and groups else None

    try:
        groups = prometheus.poll(evaluated, "all rules evaluated", timeout=15)
    except TimeoutError:
        groups = prometheus.rule_groups()  # "unknown" is tolerated, "err" is not
    assert {g["name"]: len(g["rules"]) for g in groups} == expected
    assert all(not g["lastEvaluation"].startswith("0001-") for g in groups), "a group never ran"
    errors = {
        r["name"]: r.get("lastError")
        for g in groups
        for r in g["rules"]
        if r["health"] not in ("ok", "unknown")
    }
    assert not errors, errors


def test_node_discovery_relabelling_scrapes_node_exporter(prometheus, node_exporter):
    series = prometheus.poll(
        lambda: prometheus.vector(f'up{{job="node-exporter", instance="{NODE_NAME}"}} == 1'),
        f'up{{job="node-exporter", instance="{NODE_NAME}"}} == 1',
    )
    assert series[0]["metric"] == {"__name__": "up", "job": JOB, "instance": NODE_NAME}

    target = active_target(prometheus, JOB)
    assert target["discoveredLabels"]["__meta_kubernetes_node_name"] == NODE_NAME
    # Discovered at the kubelet port (NODE_SD_TARGET), scraped at node_exporter's. (Prometheus
    # 2.42 shows the relabelled __address__ among discoveredLabels too, so that is not checked.)
    assert node_exporter != KUBELET_PORT
    assert target["scrapeUrl"] == f"http://{LOOPBACK}:{node_exporter}/metrics"
    assert target["labels"] == {"job": JOB, "instance": NODE_NAME}
    assert target["health"] == "up", target


def adapter_node_query(rule: dict[str, Any], node: str) -> str:
    """A resource rule's nodeQuery as prometheus-adapter sends it for one node: the label its
    overrides map to the node resource fills <<.GroupBy>> and <<.LabelMatchers>>."""
    [label] = [k for k, v in rule["resources"]["overrides"].items() if v == {"resource": "node"}]
    return rule["nodeQuery"].replace("<<.GroupBy>>", label).replace("<<.LabelMatchers>>", f'{label}="{node}"')


def test_kubectl_top_node_queries_find_the_node(prometheus, kube_prometheus):
    """prometheus-adapter's node CPU and memory queries, as the stack deploys them, answer for
    a Kubernetes node whose node_exporter runs on the BOSH VM (no pod to join on)."""
    config_map = copy.deepcopy(kube_prometheus.find("ConfigMap", "adapter-config"))
    adapter_reads_nodes_by_instance(config_map)
    rules = yaml.safe_load(config_map["data"]["config.yaml"])["resourceRules"]
    for resource in ("cpu", "memory"):
        query = adapter_node_query(rules[resource], NODE_NAME)
        # irate needs two scrapes in its window; the job scrapes every second.
        series = prometheus.poll(lambda q=query: prometheus.vector(q), f"the node's {resource}: {query}")
        assert [s["metric"] for s in series] == [{"instance": NODE_NAME}], series
        assert float(series[0]["value"][1]) >= 0
