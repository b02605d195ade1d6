"""The masters' node_exporter (`nodeExporter.masters`) through the scrape configs the part
renders, checked by the real Prometheus tools.

TKGI's masters are no Kubernetes nodes; each is scraped by its BOSH DNS name
`master-<index>.etcd.cfcr.internal` (instance `master-<index>`) in the job for VMs outside
Kubernetes. Those names resolve on TKGI VMs only, so the live run stands in for BOSH DNS: each
rendered host is replaced by the loopback address it resolves to here (master-0: 127.0.0.1, where
a real node_exporter listens; master-1: 127.0.0.2, where nothing does), ports, labels and
relabelling kept as rendered. promtool checks the rendered config unchanged. Everything runs on
loopback; every started process is stopped by a finalizer.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from pks_monitoring.parts import node_exporter as part
from pks_monitoring.parts.part import StackInputs
from pks_monitoring.settings import Settings
from tests.helpers.prometheus_tools import LOOPBACK, PrometheusAPI, start_prometheus
from tests.helpers.settings import BASE
from tests.parts import test_node_exporter_scrape as scrape
from tests.parts.test_node_exporter_scrape import check_config, job, write_config, write_rules

# The node_exporter tests' fixtures, used here as they are: the real node_exporter on loopback
# and the upstream node-exporter rules.
node_exporter = scrape.node_exporter
node_rules = scrape.node_rules

VMS_JOB = f"{part.JOB}-vms"
# What BOSH DNS would answer for each master in this test: master-1 is a master that is down.
DOWN = "127.0.0.2"
RESOLVED = {"master-0.etcd.cfcr.internal": LOOPBACK, "master-1.etcd.cfcr.internal": DOWN}


def rendered(kube_prometheus, port: int, **node) -> list[dict[str, Any]]:
    """The scrape configs in the Secret the part adds, for `nodeExporter` settings `node`."""
    settings = Settings.from_raw({**BASE, "pks-monitoring:nodeExporter": {"port": port, **node}})
    (secret,) = part.objects(StackInputs(settings, kube_prometheus))
    return yaml.safe_load(secret.manifest["stringData"][part.SCRAPE_CONFIGS_KEY])


def resolve_hosts(scrape_job: dict[str, Any], addresses: dict[str, str]) -> dict[str, Any]:
    """A copy of `scrape_job` whose static targets' hosts are replaced by `addresses[host]`
    (as a resolver would), ports kept; everything else unchanged."""
    scrape_job = copy.deepcopy(scrape_job)
    for group in scrape_job["static_configs"]:
        hosts = [target.rpartition(":") for target in group["targets"]]
        group["targets"] = [f"{addresses[host]}:{port}" for host, _, port in hosts]
    return scrape_job


def test_masters_join_the_vm_job_by_dns_name(kube_prometheus):
    jobs = rendered(
        kube_prometheus,
        9100,
        masters={"count": 3},
        staticTargets=[{"name": "pks-api", "address": "10.0.0.5"}],
    )
    assert [j["job_name"] for j in jobs] == [part.JOB, VMS_JOB]
    assert job(jobs, VMS_JOB)["static_configs"] == [
        {"targets": ["master-0.etcd.cfcr.internal:9100"], "labels": {"name": "master-0"}},
        {"targets": ["master-1.etcd.cfcr.internal:9100"], "labels": {"name": "master-1"}},
        {"targets": ["master-2.etcd.cfcr.internal:9100"], "labels": {"name": "master-2"}},
        {"targets": ["10.0.0.5:9100"], "labels": {"name": "pks-api"}},
    ]


def test_no_vm_job_without_masters_or_vms(kube_prometheus):
    assert [j["job_name"] for j in rendered(kube_prometheus, 9100)] == [part.JOB]


@pytest.mark.slow
def test_promtool_accepts_the_rendered_masters_job(kube_prometheus, tmp_path):
    jobs = rendered(kube_prometheus, 9100, masters={"count": 3})
    # The node job's Kubernetes SD is left out: Debian's promtool is built without it.
    path = write_config(tmp_path / "prometheus.yml", [job(jobs, VMS_JOB)], [])
    result = check_config(path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout + result.stderr


@pytest.fixture(scope="module")
def prometheus(request, tmp_path_factory, kube_prometheus, node_exporter, node_rules) -> PrometheusAPI:
    """A real Prometheus running the rendered masters job (two masters, BOSH DNS stood in for by
    RESOLVED) every second, with the upstream node rules."""
    root = tmp_path_factory.mktemp("prometheus-masters")
    vms = resolve_hosts(
        job(rendered(kube_prometheus, node_exporter, masters={"count": 2}), VMS_JOB), RESOLVED
    )
    rules = write_rules(root / "node-exporter-rules.yaml", node_rules)
    config = write_config(root / "prometheus.yml", [vms], [str(rules)], interval="1s")
    return start_prometheus(config, root, request)


def master_target(api: PrometheusAPI, instance: str, health: str) -> dict[str, Any]:
    def found() -> dict[str, Any] | None:
        targets = [t for t in api.targets() if t["labels"].get("instance") == instance]
        assert len(targets) <= 1, targets
        return targets[0] if targets and targets[0]["health"] == health else None

    return api.poll(found, f"target {instance} {health}")


@pytest.mark.slow
def test_a_master_is_scraped_as_an_upstream_node(prometheus, node_exporter):
    query = 'up{job="node-exporter", instance="master-0"} == 1'
    series = prometheus.poll(lambda: prometheus.vector(query), query)
    assert [s["metric"] for s in series] == [{"__name__": "up", "job": part.JOB, "instance": "master-0"}]

    target = master_target(prometheus, "master-0", "up")
    assert target["scrapePool"] == VMS_JOB
    assert target["labels"] == {"job": part.JOB, "instance": "master-0"}
    assert target["scrapeUrl"] == f"http://{LOOPBACK}:{node_exporter}/metrics"


@pytest.mark.slow
def test_upstream_node_rules_cover_the_master(prometheus):
    query = 'instance:node_num_cpu:sum{job="node-exporter", instance="master-0"}'
    series = prometheus.poll(lambda: prometheus.vector(query), query)
    assert float(series[0]["value"][1]) >= 1


@pytest.mark.slow
def test_a_master_that_is_down_stays_a_target_with_up_0(prometheus, node_exporter):
    target = master_target(prometheus, "master-1", "down")
    assert target["labels"] == {"job": part.JOB, "instance": "master-1"}
    assert target["scrapeUrl"] == f"http://{DOWN}:{node_exporter}/metrics"
    query = 'up{job="node-exporter", instance="master-1"} == 0'
    assert prometheus.poll(lambda: prometheus.vector(query), query)
