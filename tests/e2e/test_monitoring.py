"""The stack's monitoring seen working (`tools/local-cluster.sh monitor`): the real
prometheus-operator reconciles the stack's resources, the real Prometheus runs the config it
generated with the token of the stack's Prometheus service account, the real Alertmanager the
config the stack deployed; node_exporters and a Spring Boot app are real processes on loopback.
The tests of this module share one stack and one `monitor`, and run in this order.
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import re
import signal
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml

from pks_monitoring.components.demo_app import DemoAppArgs
from pks_monitoring.dashboards import Dashboard, load_dashboards, shipped_dashboards
from pks_monitoring.settings.types import PROJECT_ROOT
from tests.helpers.dashboards import BUILT_INS, has_data, panel_queries, substitute, variable_queries
from tests.helpers.e2e import Cluster, Stack, local_config, marker, new_stack, run
from tests.helpers.prometheus_tools import (
    LOOPBACK,
    PrometheusAPI,
    basic_auth,
    get_json,
    require_pinned,
    start_prometheus,
    wait_until,
)
from tools.monitor.pod_network import add_route
from tools.monitor.webhook_receiver import notifications

STACK = "e2e-monitor"
NAMESPACE = "monitoring"
DEMO = DemoAppArgs()
# The ServiceMonitor's job label is the Service's name.
APP_JOB = DEMO.name
# How long a condition must hold before AppTargetDown fires (default 5m: too long to wait here).
TARGET_DOWN_FOR = "30s"
# The upper bound of one scrape/evaluation round (kube-prometheus: 30 s) with slack.
ROUND = 75

T = TypeVar("T")


def wait(probe: Callable[[], T], what: str, timeout: float = ROUND) -> T:
    return wait_until(probe, timeout, what, interval=1)


@dataclass(frozen=True)
class CentralStore:
    """A second, real Prometheus (the pinned one) that takes series only by remote write, behind
    basic auth: the central store of many clusters."""

    api: PrometheusAPI
    password: str

    @property
    def write_url(self) -> str:
        return f"{self.api.base}/api/v1/write"


CENTRAL_USER = "pks-remote-write"
CENTRAL_PASSWORD_KEY = "pks-monitoring:prometheus.remoteWrite[0].basicAuth.password"


@pytest.fixture(scope="module")
def central_store(request, tmp_path_factory) -> CentralStore:
    root = tmp_path_factory.mktemp("central-store")
    password = marker("remote-write")
    web, headers = basic_auth(CENTRAL_USER, password)
    (root / "web.yml").write_text(yaml.safe_dump(web))
    (root / "prometheus.yml").write_text("global: {}\n")  # scrapes nothing: all comes by remote write
    api = start_prometheus(
        root / "prometheus.yml",
        root,
        request,
        binary=require_pinned("prometheus"),
        flags=["--web.enable-remote-write-receiver", f"--web.config.file={root / 'web.yml'}"],
        headers=headers,
    )
    assert api.base.startswith(f"http://{LOOPBACK}:")  # the played Prometheus dials it directly
    return CentralStore(api, password)


def settings(central_store: CentralStore) -> dict[str, Any]:
    config = local_config()
    config["pks-monitoring:demoApp"] = {"enabled": True}
    config["pks-monitoring:appAlerts"] = {"targetDownFor": TARGET_DOWN_FOR}
    config["pks-monitoring:alertmanager"].update(
        {"receivers": [{"name": "platform", "type": "webhook"}], "defaultReceiver": "platform"}
    )
    # The password is set as a secret (CENTRAL_PASSWORD_KEY).
    config["pks-monitoring:prometheus"]["remoteWrite"] = [
        {"name": "central", "url": central_store.write_url, "basicAuth": {"username": CENTRAL_USER}}
    ]
    # The demo app's team routes its namespace's alerts to a webhook of its own (url: a secret).
    config["pks-monitoring:demoApp"]["receiver"] = {"name": "team", "type": "webhook"}
    return config


class Live:
    """The running monitoring: its APIs, its logs, the webhook receiver's record."""

    def __init__(self, cluster: Cluster, stack: Stack, webhook_path: str, team_path: str) -> None:
        self.cluster, self.stack, self.webhook_path = cluster, stack, webhook_path
        self.team_path = team_path  # the demo team's own webhook
        self.prometheus = PrometheusAPI(cluster.url("prometheus"))
        self.alertmanager = cluster.url("alertmanager")
        self.monitor = cluster.state / "monitor"

    def log(self, component: str) -> str:
        return (self.cluster.state / "logs" / f"{component}.log").read_text(errors="replace")

    def targets(self, **labels: str) -> list[dict[str, Any]]:
        return [
            t for t in self.prometheus.targets() if all(t["labels"].get(k) == v for k, v in labels.items())
        ]

    def notifications(self) -> list[dict[str, Any]]:
        return notifications(self.monitor / "webhook.jsonl")

    def stop(self, component: str) -> None:
        """What `down` would do to one of `monitor`'s processes."""
        os.kill(int((self.cluster.state / "run" / f"{component}.pid").read_text()), signal.SIGTERM)


@pytest.fixture(scope="module")
def live(cluster: Cluster, backend: Path, tmp_path_factory, central_store: CentralStore) -> Live:
    webhook_path, team_path = f"/{marker('webhook')}", f"/{marker('team-webhook')}"
    stack = new_stack(
        PROJECT_ROOT,
        STACK,
        backend,
        cluster,
        tmp_path_factory.mktemp("monitor-stack"),
        settings(central_store),
    )
    stack.set_secret("pks-monitoring:grafana.adminPassword", marker("password"))
    stack.set_secret(CENTRAL_PASSWORD_KEY, central_store.password)
    stack.set_secret("pks-monitoring:alertmanager.receivers[0].url", cluster.url("webhook") + webhook_path)
    stack.set_secret("pks-monitoring:demoApp.receiver.url", cluster.url("webhook") + team_path)
    stack.pulumi("up", "--yes", "--skip-preview")
    cluster.script("monitor")
    return Live(cluster, stack, webhook_path, team_path)


def generated_config(cluster: Cluster) -> str:
    """The Prometheus config the operator generated (its `prometheus-k8s` Secret)."""
    secret = cluster.get("secret", "prometheus-k8s", NAMESPACE)
    assert secret is not None
    return gzip.decompress(base64.b64decode(secret["data"]["prometheus.yaml.gz"])).decode()


def test_the_operator_reconciles_the_stack_and_generates_a_valid_config(live, tmp_path):
    for kind, name in (("Prometheus", "k8s"), ("Alertmanager", "main")):
        obj = live.cluster.get(f"{kind}.v1.monitoring.coreos.com", name, NAMESPACE)
        assert obj is not None
        conditions = {c["type"]: c for c in obj["status"]["conditions"]}
        for condition in ("Available", "Reconciled"):
            assert conditions[condition]["status"] == "True", (kind, conditions[condition])
            assert conditions[condition]["observedGeneration"] == obj["metadata"]["generation"]
    errors = [
        line
        for line in live.log("prometheus-operator").splitlines()
        if "level=error" in line and re.search(r"component=(prometheus|alertmanager)", line)
    ]
    assert errors == []

    config = generated_config(live.cluster)
    assert "job_name: serviceMonitor/hello/hello-pks/0" in config
    # The cluster setting as an external label, beside the operator's own.
    external = yaml.safe_load(config)["global"]["external_labels"]
    assert external["cluster"] == local_config()["pks-monitoring:cluster"]
    (tmp_path / "prometheus.yaml").write_text(config)
    # --syntax-only: the files it names (token, rule files) are the pod's, not this machine's.
    check = run(
        [require_pinned("promtool"), "check", "config", "--syntax-only", str(tmp_path / "prometheus.yaml")],
        live.cluster.env,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_node_exporter_is_up_on_every_node_named_by_node(live):
    nodes = live.cluster.env["LOCAL_CLUSTER_NODE_IPS"].split()

    def up() -> dict[str, str]:
        found = {t["labels"]["instance"]: t for t in live.targets(job="node-exporter")}
        return found if all(found.get(n, {}).get("health") == "up" for n in nodes) else {}

    targets = wait(up, "node-exporter up on every node", 2 * ROUND)
    assert sorted(targets) == sorted(nodes)
    for node, target in targets.items():
        # TKGI names a node by its IP; the scrape goes to that IP at the addon's port.
        assert target["scrapeUrl"] == f"http://{node}:9100/metrics"


def test_the_app_target_is_up_with_its_labels(live):
    pod = live.cluster.kubectl("get", "pods", "-n", DEMO.namespace, "-l", f"app={DEMO.name}", "-o", "json")
    (app_pod,) = json.loads(pod.stdout)["items"]
    target = wait(
        lambda: [t for t in live.targets(job=APP_JOB) if t["health"] == "up"], "the app's target up"
    )[0]
    assert {k: v for k, v in target["labels"].items()} == {
        "job": APP_JOB,
        "namespace": DEMO.namespace,
        "service": DEMO.name,
        "pod": app_pod["metadata"]["name"],
        "container": DEMO.name,
        "endpoint": "http",
        "instance": f"{app_pod['status']['podIP']}:8080",
    }
    assert target["scrapeUrl"].endswith("/actuator/prometheus")


def test_the_central_store_receives_every_series_with_the_cluster_label(live, central_store):
    cluster = local_config()["pks-monitoring:cluster"]
    store = central_store.api
    # The store refuses a write without the password: what arrives came with the stack's secret.
    refused = urllib.request.Request(central_store.write_url, data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as unauthorized:
        urllib.request.urlopen(refused, timeout=5)
    assert unauthorized.value.code == 401

    # The password only in the stack's Secret and the config the operator generated from it.
    prometheus = live.cluster.get("Prometheus.v1.monitoring.coreos.com", "k8s", NAMESPACE)
    assert prometheus is not None and central_store.password not in json.dumps(prometheus)
    (remote,) = yaml.safe_load(generated_config(live.cluster))["remote_write"]
    assert remote["url"] == central_store.write_url
    assert remote["basic_auth"]["username"] == CENTRAL_USER

    nodes = sorted(live.cluster.env["LOCAL_CLUSTER_NODE_IPS"].split())

    def node_series() -> list[dict[str, Any]]:
        found = store.vector(f'up{{job="node-exporter",cluster="{cluster}"}} == 1')
        return found if sorted(s["metric"]["instance"] for s in found) == nodes else []

    wait(node_series, "node-exporter's up series at the central store", 2 * ROUND)
    # Alerts too: the Watchdog, always firing, as the ALERTS series of the stack's rules.
    wait(
        lambda: store.vector(f'ALERTS{{alertname="Watchdog",alertstate="firing",cluster="{cluster}"}}'),
        "the Watchdog alert at the central store",
    )
    # Every series the store holds came from this cluster, and says so.
    assert store.vector('count({__name__=~".+"})')[0]["value"][1] != "0"
    assert store.vector(f'{{__name__=~".+",cluster!="{cluster}"}}') == []


def test_node_rules_load_and_evaluate(live):
    def evaluated() -> list[dict[str, Any]]:
        groups = [g for g in live.prometheus.rule_groups() if g["name"].startswith("node-exporter")]
        rules = [r for g in groups for r in g["rules"]]
        return groups if rules and all(r.get("lastEvaluation", "").startswith("2") for r in rules) else []

    groups = wait(evaluated, "the node-exporter rule groups evaluated", 2 * ROUND)
    assert {g["name"] for g in groups} >= {"node-exporter", "node-exporter.rules"}
    unhealthy = [(r["name"], r.get("lastError")) for g in groups for r in g["rules"] if r["health"] != "ok"]
    assert unhealthy == []
    nodes = live.cluster.env["LOCAL_CLUSTER_NODE_IPS"].split()

    def recorded() -> list[str]:  # a rate needs two scrapes of each node
        found = sorted(
            s["metric"]["instance"] for s in live.prometheus.vector("instance:node_cpu_utilisation:rate5m")
        )
        return found if found == sorted(nodes) else []

    wait(recorded, "a node recording rule with data for every node", 2 * ROUND)


# Why a dashboard query finds no data on this cluster: (reason, whether it is in which dashboard,
# whether it reads what). A query none of these matches must return data; one that matches an
# "empty" reason must return none (so the list stays true); "either" ones are reported only.
NOT_SCRAPED_HERE = re.compile(
    r"\b(kube_\w+|container_\w+|kubelet_\w+|node_namespace_pod_container:\w+|namespace_\w*:\w+|namespace_workload_pod:\w+)"
)
SOMETIMES_ZERO = re.compile(r"_excluding_lo:rate5m|node_vmstat_pgmajfault")
NO_DATA_HERE: list[tuple[str, str, Callable[[str, str], bool]]] = [
    (
        "empty",
        "reads kube-state-metrics or the kubelets' cAdvisor (or rules made of them): kwok runs "
        "neither a kube-state-metrics process nor kubelets, so nothing serves them here",
        lambda dashboard, expr: bool(NOT_SCRAPED_HERE.search(expr)),
    ),
    (
        "empty",
        'the MacOS dashboard selects sysname="Darwin" nodes: TKGI\'s nodes, and these, run Linux',
        lambda dashboard, expr: dashboard == "nodes-darwin",
    ),
    (
        "empty",
        "AIX's node_exporter names its memory metrics node_memory_total_bytes/available_bytes; "
        "Linux' exporter has node_memory_MemTotal_bytes/MemAvailable_bytes",
        lambda dashboard, expr: dashboard == "nodes-aix" and "node_memory_total_bytes" in expr,
    ),
    (
        "either",
        "only non-zero rates of events this machine may not have in 5 minutes are shown (`!= 0`): "
        "traffic and drops on interfaces other than lo, major page faults",
        lambda dashboard, expr: expr.rstrip().endswith("!= 0") and bool(SOMETIMES_ZERO.search(expr)),
    ),
]


def expected(dashboard: str, expr: str) -> tuple[str, str] | None:
    """(expectation, reason) of the first NO_DATA_HERE entry that matches; None: data expected."""
    return next(((want, why) for want, why, matches in NO_DATA_HERE if matches(dashboard, expr)), None)


# Grafana's $__rate_interval at kube-prometheus' 30 s scrape interval: 4 scrape intervals.
LIVE_BUILT_INS = {**BUILT_INS, "__rate_interval": "2m", "__interval": "30s"}


# node_exporter's metrics (node_*, no colon: not a recording rule of another source) and the
# upstream recording rules made of them (instance:node_..., :node_memory_..., cluster:node_cpu...).
NODE_EXPORTER_METRIC = re.compile(
    r"(?<![\w:])(node_\w+|(instance|instance_device|cluster)?:node_\w+)(?![\w:])"
)


def node_exporter_fed(dashboard: Dashboard) -> bool:
    """A dashboard some query of which reads node_exporter's metrics (or rules made of them)."""
    return any(NODE_EXPORTER_METRIC.search(expr) for expr in panel_queries(dashboard).values())


def live_variables(api: PrometheusAPI, dashboard: Dashboard) -> dict[str, str]:
    """The dashboard's variables as Grafana would set them on opening it: each query variable the
    first value its query finds here (none: empty), the data source Prometheus."""
    values = {**LIVE_BUILT_INS, "datasource": "prometheus"}
    for name, query in variable_queries(dashboard).values():
        label = re.fullmatch(r"group by \((\w+)\) .*", query, re.S)[1]  # type: ignore[index]
        found = sorted(s["metric"].get(label, "") for s in api.vector(substitute(query, values)))
        values[name] = found[0] if found else ""
    return values


def test_dashboard_queries_on_the_live_prometheus(live, tmp_path):
    items = json.loads(live.cluster.kubectl("get", "configmaps", "-n", NAMESPACE, "-o", "json").stdout)[
        "items"
    ]
    deployed = {d.name: d for d in shipped_dashboards(items)}
    ours = {d.name for d in load_dashboards(PROJECT_ROOT / "dashboards")}
    chosen = {name: d for name, d in deployed.items() if name in ours or node_exporter_fed(d)}
    assert ours <= set(chosen) and "nodes" in chosen and "node-rsrc-use" in chosen

    def answers() -> dict[str, dict[str, dict[str, Any]]]:
        report: dict[str, dict[str, dict[str, Any]]] = {}
        for name, dashboard in sorted(chosen.items()):
            values = live_variables(live.prometheus, dashboard)
            report[name] = {}
            for key, expr in panel_queries(dashboard).items():
                want, why = expected(name, expr) or ("data", "")
                query = substitute(expr, values)
                found = has_data(live.prometheus, query)
                report[name][key] = {"data": found, "expected": want, "why": why, "query": query}
        return report

    def wrong(report: dict[str, dict[str, dict[str, Any]]]) -> list[dict[str, Any]]:
        return [
            q
            for queries in report.values()
            for q in queries.values()
            if q["expected"] != "either" and q["data"] != (q["expected"] == "data")
        ]

    # Until every rate has two samples in its window (the app and the nodes were just found).
    deadline = time.monotonic() + 3 * ROUND
    while wrong(report := answers()) and time.monotonic() < deadline:
        time.sleep(5)
    (tmp_path / "dashboards.json").write_text(json.dumps(report, indent=2, sort_keys=True))
    assert wrong(report) == [], f"report: {tmp_path / 'dashboards.json'}"
    answered = [q for queries in report.values() for q in queries.values()]
    # The proof covers something: our dashboard's queries and most node ones answer.
    assert all(q["data"] for q in report["spring-boot-micrometer"].values())
    assert sum(q["data"] for q in answered) >= 40, f"report: {tmp_path / 'dashboards.json'}"


# An app team's own ServiceMonitor in a namespace where Prometheus has no Role: the most reported
# "ServiceMonitor not discovered".
OTHER_APP = "shop"
OTHER_APP_OBJECTS = f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {OTHER_APP}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: {OTHER_APP}, namespace: {OTHER_APP}, labels: {{app: {OTHER_APP}}}}}
spec:
  selector: {{matchLabels: {{app: {OTHER_APP}}}}}
  template:
    metadata: {{labels: {{app: {OTHER_APP}}}}}
    spec:
      containers:
      - {{name: {OTHER_APP}, image: example/{OTHER_APP}:1, ports: [{{name: http, containerPort: 8080}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: {OTHER_APP}, namespace: {OTHER_APP}, labels: {{app: {OTHER_APP}}}}}
spec:
  selector: {{app: {OTHER_APP}}}
  ports: [{{name: http, port: 8080, targetPort: http}}]
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {{name: {OTHER_APP}, namespace: {OTHER_APP}}}
spec:
  selector: {{matchLabels: {{app: {OTHER_APP}}}}}
  endpoints: [{{port: http, path: /actuator/prometheus, interval: 30s}}]
"""


def forbidden_in(log: str, namespace: str) -> bool:
    """Prometheus logged its discovery refused by RBAC in `namespace` (client-go's message)."""
    return bool(
        re.search(rf'is forbidden: User .*prometheus-k8s.* in the namespace \\?"{namespace}\\?"', log)
    )


def test_rbac_decides_what_prometheus_discovers(live):
    # A second app, served by the stand-in app like the first, with no Role for Prometheus.
    live.cluster.kubectl("apply", "-f", "-", input=OTHER_APP_OBJECTS)
    pod = wait(
        lambda: [
            p
            for p in json.loads(live.cluster.kubectl("get", "pods", "-n", OTHER_APP, "-o", "json").stdout)[
                "items"
            ]
            if p["status"].get("podIP")
        ],
        f"a pod of {OTHER_APP} with an IP",
    )[0]
    add_route(
        live.monitor / "pod-network.json",
        f"{pod['status']['podIP']}:8080",
        f"127.0.0.1:{live.cluster.env['LOCAL_MONITOR_APP_PORT']}",
        f"{OTHER_APP}/{pod['metadata']['name']}",
    )
    # And the first app's Role gone.
    role = f"{DEMO.name}-prometheus-discovery"
    live.cluster.kubectl("delete", "role", role, "-n", DEMO.namespace)
    other_job = f"serviceMonitor/{OTHER_APP}/{OTHER_APP}/0"
    wait(lambda: other_job in generated_config(live.cluster), f"the operator generating job {other_job}")

    live.cluster.script("monitor")  # a Prometheus that starts with neither Role
    config = get_json(f"{live.prometheus.base}/api/v1/status/config")["data"]["yaml"]
    assert f"job_name: {other_job}" in config and f"job_name: serviceMonitor/{DEMO.namespace}/" in config
    wait(lambda: live.targets(job="node-exporter"), "Prometheus discovering nodes")
    wait(
        lambda: (
            forbidden_in(live.log("prometheus"), DEMO.namespace)
            and forbidden_in(live.log("prometheus"), OTHER_APP)
        ),
        "discovery refused in both apps' namespaces",
    )
    time.sleep(ROUND)  # a scrape round: nothing appears late
    assert live.targets(job=APP_JOB) == [] and live.targets(job=OTHER_APP) == []

    live.stack.pulumi("up", "--yes", "--skip-preview", "--refresh")
    assert live.cluster.get("role", role, DEMO.namespace) is not None
    # The same Prometheus finds the app once the Role is back (its discovery retries).
    # (client-go's list retries back off up to 30 s, then a scrape interval)
    wait(
        lambda: [t for t in live.targets(job=APP_JOB) if t["health"] == "up"],
        "the app's target back",
        3 * ROUND,
    )
    assert live.targets(job=OTHER_APP) == []


def generated_alertmanager_config(cluster: Cluster) -> str:
    """The Alertmanager config the operator generated (its `alertmanager-main-generated` Secret)."""
    secret = cluster.get("secret", "alertmanager-main-generated", NAMESPACE)
    assert secret is not None
    (key,) = [k for k in secret["data"] if k.startswith("alertmanager.yaml")]
    data = base64.b64decode(secret["data"][key])
    return (gzip.decompress(data) if key.endswith(".gz") else data).decode()


def test_the_operator_takes_the_team_route_into_a_valid_config(live, tmp_path):
    config = generated_alertmanager_config(live.cluster)
    parsed = yaml.safe_load(config)
    team = f"{DEMO.namespace}/{DEMO.name}/team"  # the operator's name for the config's receiver
    first = parsed["route"]["routes"][0]
    assert first["receiver"] == team and first["continue"] is True
    assert [m.replace(" ", "") for m in first["matchers"]] == [f'namespace="{DEMO.namespace}"']
    [receiver] = [r for r in parsed["receivers"] if r["name"] == team]
    assert receiver["webhook_configs"][0]["url"].endswith(live.team_path)  # read from the team's Secret
    (tmp_path / "alertmanager.yaml").write_text(config)
    check = run(
        [require_pinned("amtool"), "check-config", str(tmp_path / "alertmanager.yaml")],
        live.cluster.env,
        check=False,
    )
    assert check.returncode == 0, check.stdout + check.stderr


def paths_of(live: Live, alertname: str) -> set[str]:
    """The webhook paths the notifications holding `alertname` went to."""
    return {
        record["path"]
        for record in live.notifications()
        if any(a["labels"]["alertname"] == alertname for a in record["notification"]["alerts"])
    }


def test_app_target_down_reaches_the_team_not_the_platform_and_watchdog_no_one(live):
    live.stop("stand-in-app")

    def firing(name: str) -> list[dict[str, Any]]:
        alerts = get_json(f"{live.prometheus.base}/api/v1/alerts")["data"]["alerts"]
        return [a for a in alerts if a["labels"]["alertname"] == name and a["state"] == "firing"]

    wait(lambda: [t for t in live.targets(job=APP_JOB) if t["health"] == "down"], "the app's target down")
    wait(lambda: firing("AppTargetDown"), "AppTargetDown firing", 3 * ROUND)
    assert firing("Watchdog")

    def received() -> list[dict[str, Any]]:
        return [
            alert
            for record in live.notifications()
            for alert in record["notification"]["alerts"]
            if alert["labels"]["alertname"] == "AppTargetDown"
        ]

    (alert, *_) = wait(received, "AppTargetDown at the webhook receiver", 3 * ROUND)
    assert alert["status"] == "firing"
    assert alert["labels"]["namespace"] == DEMO.namespace
    assert alert["labels"]["job"] == APP_JOB
    assert alert["labels"]["severity"] == "critical"
    assert alert["labels"]["cluster"] == local_config()["pks-monitoring:cluster"]  # external label
    # The team's secret URL, through its AlertmanagerConfig; the platform's receiver got nothing
    # of it (group_wait has passed: a notification to the platform would have gone with it).
    assert paths_of(live, "AppTargetDown") == {live.team_path}
    records = [r for r in live.notifications() if r["path"] == live.team_path]
    assert {r["notification"]["receiver"] for r in records} == {f"{DEMO.namespace}/{DEMO.name}/team"}
    # Watchdog reached Alertmanager and went to upstream's "Watchdog" receiver, which notifies no one.
    watchdog = [
        a for a in get_json(f"{live.alertmanager}/api/v2/alerts") if a["labels"]["alertname"] == "Watchdog"
    ]
    assert watchdog and all(a["receivers"] == [{"name": "Watchdog"}] for a in watchdog)
    config = yaml.safe_load(get_json(f"{live.alertmanager}/api/v2/status")["config"]["original"])
    assert [r for r in config["receivers"] if r["name"] == "Watchdog"] == [{"name": "Watchdog"}]
    assert paths_of(live, "Watchdog") == set()
