"""The local stack (Pulumi.local.yaml) through the real engine, in the order an operator lives it:
preview, up, a no-op up, a settings change, an app team's stack reading it, destroy. The tests of
this module share one stack and run in this order; each asserts the state the previous ones left.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pks_monitoring.dashboards import CONFIG_MAP_DATA_LIMIT
from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.settings.types import PROJECT_ROOT
from tests.helpers.e2e import Cluster, Stack, local_config, marker, new_stack, run
from tests.helpers.settings import PINNED_MANIFESTS

STACK = "e2e-local"
# Set by the API server on every object it stores (kubectl hides managedFields).
SERVER_METADATA = {"creationTimestamp", "resourceVersion", "uid"}


def settings() -> dict[str, Any]:
    """Pulumi.local.yaml's, plus a receiver: the stack then holds a second kind of secret (its
    URL) beside the password."""
    config = local_config()
    config["pks-monitoring:alertmanager"].update(
        {"receivers": [{"name": "team", "type": "webhook"}], "defaultReceiver": "team"}
    )
    return config


@pytest.fixture(scope="module")
def stack(cluster: Cluster, backend: Path, tmp_path_factory) -> Stack:
    stack = new_stack(
        PROJECT_ROOT, STACK, backend, cluster, tmp_path_factory.mktemp("local-stack"), settings()
    )
    stack.set_secret("pks-monitoring:grafana.adminPassword", marker("password"))
    stack.set_secret(
        "pks-monitoring:alertmanager.receivers[0].url", f"http://127.0.0.1:9/{marker('webhook')}"
    )
    return stack


def render(stack: Stack, out: Path) -> dict[Path, dict[str, Any]]:
    """The offline render of the stack's config file: relative path -> object."""
    run(
        [
            sys.executable,
            "-m",
            "pks_monitoring.offline.render",
            "--config",
            str(stack.config_file),
            "--out",
            str(out),
        ],
        stack.env,
    )
    # JSON as sent, Secrets as YAML (their texts as blocks): one object each.
    return {
        p.relative_to(out): load_documents(p.read_text())[0] for p in sorted((out / "k8s").rglob("*.yaml"))
    }


def resource_ref(obj: dict[str, Any]) -> str:
    """`Kind.version.group/name` for kubectl get: exact, whatever else serves that kind."""
    group, _, version = obj["apiVersion"].rpartition("/")
    return f"{obj['kind']}.{version}.{group}/{obj['metadata']['name']}"


def live_objects(cluster: Cluster, rendered: dict[Path, dict[str, Any]]) -> dict[Path, dict[str, Any]]:
    """What the API server holds for each rendered object (one kubectl call per namespace)."""
    by_namespace: dict[str, list[Path]] = {}
    for path, obj in rendered.items():
        by_namespace.setdefault(obj["metadata"].get("namespace", ""), []).append(path)
    live: dict[Path, dict[str, Any]] = {}
    for namespace, paths in by_namespace.items():
        where = ["-n", namespace] if namespace else []
        result = cluster.kubectl("get", *where, "-o", "json", *(resource_ref(rendered[p]) for p in paths))
        items = json.loads(result.stdout)["items"]
        live.update(zip(paths, items, strict=True))
    return live


def differences(sent: Any, held: Any, where: str = "") -> list[str]:
    """Where what the program sent is not in what the server holds (the server may add fields)."""
    if isinstance(sent, dict) and isinstance(held, dict):
        return [
            d
            for key, value in sent.items()
            for d in differences(value, held.get(key, _MISSING), f"{where}.{key}")
        ]
    if isinstance(sent, list) and isinstance(held, list) and len(sent) == len(held):
        return [
            d
            for i, (a, b) in enumerate(zip(sent, held, strict=True))
            for d in differences(a, b, f"{where}[{i}]")
        ]
    if held is _MISSING and sent in (False, 0, "", None):
        return []  # a zero value the API server does not store (Go's omitempty): `readOnly: false`
    return [] if sent == held else [f"{where}: sent {sent!r:.80}, held {held!r:.80}"]


_MISSING = object()


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The rendered object without what the render cannot know: the values of Secrets."""
    obj = json.loads(json.dumps(obj))
    if obj["kind"] == "Secret":
        obj.pop("data", None)
        obj.pop("stringData", None)
    return obj


def planned(stack: Stack) -> set[tuple[str, str, str, str]]:
    """What `pulumi preview` plans for the Kubernetes objects: (op, kind, namespace, name)."""
    steps = json.loads(stack.pulumi("preview", "--json").stdout)["steps"]
    plan = set()
    for step in steps:
        state = step.get("newState") or step.get("oldState")
        if state.get("custom") and state["type"].startswith("kubernetes:"):
            metadata = state["inputs"]["metadata"]
            kind = state["type"].rsplit(":", 1)[-1]
            plan.add((step["op"], kind, metadata.get("namespace", ""), metadata["name"]))
    return plan


def identity(obj: dict[str, Any]) -> tuple[str, str, str]:
    return obj["kind"], obj["metadata"].get("namespace", ""), obj["metadata"]["name"]


def test_preview_then_up_matches_the_offline_render(stack, cluster, tmp_path):
    diff = stack.pulumi("preview", "--diff")
    assert "+ kubernetes:monitoring.coreos.com/v1:Prometheus" in diff.stdout
    rendered = render(stack, tmp_path / "render")
    assert planned(stack) == {("create", *identity(obj)) for obj in rendered.values()}

    stack.pulumi("up", "--yes", "--skip-preview")

    live = live_objects(cluster, rendered)
    problems = {
        str(path): found
        for path, obj in rendered.items()
        if (found := differences(comparable(obj), live[path]))
    }
    assert problems == {}
    for obj in live.values():
        assert set(obj["metadata"]) >= SERVER_METADATA  # really the server's objects
    deployments = [o for o in live.values() if o["kind"] == "Deployment"]
    assert deployments
    for deployment in deployments:
        conditions = {c["type"]: c["status"] for c in deployment["status"].get("conditions", [])}
        assert conditions.get("Available") == "True", deployment["metadata"]["name"]

    outputs = stack.outputs()
    expected = json.loads((tmp_path / "render" / "outputs.json").read_text())
    assert outputs == expected


def test_second_up_changes_nothing(stack):
    result = stack.pulumi("up", "--yes", "--expect-no-changes")
    assert "unchanged" in result.stdout


def test_state_holds_no_secret_in_plain_text(stack, backend):
    stack.pulumi("stack", "export", "--file", str(backend / "export.json"))
    exported = (backend / "export.json").read_text()
    assert '"4dabf18193072939515e22adb298388d"' in exported  # the engine's secret signature
    for value in stack.secrets.values():
        for path in backend.rglob("*"):
            if path.is_file():
                assert value.encode() not in path.read_bytes(), f"{value} in plain text in {path}"
        assert value not in stack.config_file.read_text()


def test_a_new_namespace_is_refused_before_anything_changes(stack, cluster):
    """The engine's Check of the guard, with the namespace of the last deployment, refuses the
    move in one line at preview and at up; the cluster keeps everything where it was."""
    config = settings()
    # The stack's value replaces the project's whole: the manifests come along.
    config["pks-monitoring:kubePrometheus"] = {
        "manifests": str(PINNED_MANIFESTS),
        "namespace": "observability",
    }
    stack.write_config(config)
    for command in (["preview"], ["up", "--yes", "--skip-preview"]):
        result = stack.pulumi(*command, check=False)
        assert result.returncode != 0, command
        output = result.stdout + result.stderr
        assert "kubePrometheus.namespace changed from monitoring to observability" in output, command
        assert "kubePrometheus.moveNamespace: true" in output, command
        assert "Traceback" not in output, command
    assert cluster.get("namespace", "observability") is None
    assert cluster.get("Prometheus.v1.monitoring.coreos.com", "k8s", "monitoring") is not None
    stack.write_config(settings())
    stack.pulumi("preview", "--expect-no-changes")


def test_the_dashboard_limit_is_the_api_servers(cluster, tmp_path):
    """pks_monitoring.dashboards refuses a dashboard over CONFIG_MAP_DATA_LIMIT bytes: the real API
    server takes a ConfigMap holding exactly that many bytes under a dashboard's key and refuses
    one byte more (a server-side dry run: nothing is stored)."""

    def dry_run(size: int) -> subprocess.CompletedProcess[str]:
        config_map = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "grafana-dashboard-limit", "namespace": "default"},
            "data": {"a-dashboard-named-up-to-the-longest-name-we-take.json": "x" * size},
        }
        manifest = tmp_path / f"limit-{size}.json"
        manifest.write_text(json.dumps(config_map))
        return cluster.kubectl("create", "--dry-run=server", "-f", str(manifest), check=False)

    assert dry_run(CONFIG_MAP_DATA_LIMIT).returncode == 0
    refused = dry_run(CONFIG_MAP_DATA_LIMIT + 1)
    assert refused.returncode != 0 and "Too long" in refused.stderr, refused.stderr


def test_a_settings_change_is_previewed_and_applied_as_updates_and_creates(stack, cluster):
    config = settings()
    config["pks-monitoring:prometheus"]["replicas"] = 2
    config["pks-monitoring:apps"] = [
        {"name": "orders", "namespace": "default", "selector": {"app": "orders"}, "port": "http"}
    ]
    stack.write_config(config)

    diff = stack.pulumi("preview", "--diff")
    assert "~ kubernetes:monitoring.coreos.com/v1:Prometheus" in diff.stdout
    changed = {step for step in planned(stack) if step[0] != "same"}
    assert changed == {
        ("update", "Prometheus", "monitoring", "k8s"),
        # With 2 replicas, upstream's disruption budget comes back (1 replica: dropped).
        ("create", "PodDisruptionBudget", "monitoring", "prometheus-k8s"),
        # The app: its monitor and the RBAC that lets Prometheus discover it.
        ("create", "ServiceMonitor", "default", "orders"),
        ("create", "Role", "default", "orders-prometheus-discovery"),
        ("create", "RoleBinding", "default", "orders-prometheus-discovery"),
        # The first app brings the app alerts (none without apps).
        ("create", "PrometheusRule", "monitoring", "pks-app-alerts"),
    }

    stack.pulumi("up", "--yes", "--skip-preview")
    prometheus = cluster.get("Prometheus.v1.monitoring.coreos.com", "k8s", "monitoring")
    assert prometheus is not None and prometheus["spec"]["replicas"] == 2
    assert cluster.get("ServiceMonitor.v1.monitoring.coreos.com", "orders", "default") is not None


def test_app_team_reads_the_stack_through_a_stack_reference(stack, cluster, backend, tmp_path):
    project = PROJECT_ROOT / "examples" / "app-team"
    team = new_stack(
        project,
        "e2e-team",
        backend,
        cluster,
        tmp_path,
        {
            "kubernetes:context": "local-tkgi",
            "app-team:monitoringStack": f"organization/pks-monitoring/{STACK}",
            "app-team:app": {
                "name": "shop",
                "namespace": "default",
                "selector": {"app": "shop"},
                "port": "http",
            },
        },
    )
    team.pulumi("up", "--yes", "--skip-preview")
    monitor = cluster.get("ServiceMonitor.v1.monitoring.coreos.com", "shop", "default")
    assert monitor is not None
    role_binding = cluster.get(
        "RoleBinding.v1.rbac.authorization.k8s.io", "shop-prometheus-discovery", "default"
    )
    assert role_binding is not None
    # The subject is the stack's output, read through the reference: the account the Prometheus
    # resource in the cluster runs as.
    subject = stack.outputs()["prometheusServiceAccount"]
    prometheus = cluster.get("Prometheus.v1.monitoring.coreos.com", "k8s", "monitoring")
    assert prometheus is not None
    assert subject == {"namespace": "monitoring", "name": prometheus["spec"]["serviceAccountName"]}
    assert {"name": subject["name"], "namespace": subject["namespace"]} in [
        {"name": s["name"], "namespace": s["namespace"]} for s in role_binding["subjects"]
    ]
    team.pulumi("destroy", "--yes")
    assert cluster.get("ServiceMonitor.v1.monitoring.coreos.com", "shop", "default") is None


# An app team's own monitor, applied with kubectl: the stack's destroy must not take it along.
TEAM_MONITOR = {
    "apiVersion": "monitoring.coreos.com/v1",
    "kind": "ServiceMonitor",
    "metadata": {"name": "team-own", "namespace": "default"},
    "spec": {"selector": {"matchLabels": {"app": "team-own"}}, "endpoints": [{"port": "http"}]},
}


def test_destroy_keeps_the_crds_the_namespace_and_app_teams_monitors(stack, cluster, tmp_path):
    manifest = tmp_path / "team-monitor.json"
    manifest.write_text(json.dumps(TEAM_MONITOR))
    cluster.kubectl("apply", "-f", str(manifest))
    crds = json.loads(cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    ours = {
        c["metadata"]["name"]: c["metadata"]["uid"]
        for c in crds
        if c["spec"]["group"] == "monitoring.coreos.com"
    }
    assert len(ours) >= 10
    namespace = cluster.get("Namespace", "monitoring")
    assert namespace is not None and cluster.get("Deployment.v1.apps", "grafana", "monitoring") is not None
    before = cluster.get("APIService.v1.apiregistration.k8s.io", "v1beta1.metrics.k8s.io")
    assert before is not None
    stack.pulumi("destroy", "--yes")
    # The stack's own objects are gone; what is shared with the rest of the cluster stays.
    assert cluster.get("Deployment.v1.apps", "grafana", "monitoring") is None
    left = json.loads(cluster.kubectl("get", "crd", "-o", "json").stdout)["items"]
    assert {
        c["metadata"]["name"]: c["metadata"]["uid"] for c in left if c["metadata"]["name"] in ours
    } == ours
    kept = cluster.get("Namespace", "monitoring")
    assert kept is not None and kept["metadata"]["uid"] == namespace["metadata"]["uid"]
    assert kept.get("status", {}).get("phase") == "Active"
    assert cluster.get("ServiceMonitor.v1.monitoring.coreos.com", "team-own", "default") is not None
    # metrics-server keeps the metrics API: kubectl top answers through it.
    after = cluster.get("APIService.v1.apiregistration.k8s.io", "v1beta1.metrics.k8s.io")
    assert after is not None and after["spec"]["service"] == {
        "name": "metrics-server",
        "namespace": "kube-system",
        "port": 443,
    }
    assert after["metadata"]["uid"] == before["metadata"]["uid"]
    top = cluster.kubectl("top", "nodes", check=False)
    assert top.returncode == 0, top.stderr
    assert json.loads(stack.pulumi("stack", "export").stdout)["deployment"].get("resources") in (None, [])


# What kubectl applied that the program leaves out or cuts, with the local stack's settings
# (platform pks, 1 replica each), as the README's adoption steps list them: a later
# server-side apply cannot remove what kubectl's field managers still own.
RECIPE_LEFTOVERS = (
    "prometheusrule/kubernetes-monitoring-rules",
    "servicemonitor/kube-controller-manager",
    "servicemonitor/kube-scheduler",
    "poddisruptionbudget/prometheus-k8s",
    "poddisruptionbudget/alertmanager-main",
)
METRICS_SERVER_API = '{"spec":{"service":{"name":"metrics-server","namespace":"kube-system"}}}'


def test_up_adopts_what_the_manual_recipe_installed(stack, cluster, tmp_path):
    """The recipe the program replaces: kube-prometheus applied by hand with the node-exporter
    files moved aside, then patched. The first `up`, with patch force on for that run only, takes
    the objects over in place (same uid, no delete and create) and keeps the patched values the
    settings carry, as the README says. Without force it fails on the fields kubectl owns."""
    manifests = tmp_path / "manifests"
    shutil.copytree(PROJECT_ROOT / PINNED_MANIFESTS, manifests)
    for aside in manifests.glob("nodeExporter-*"):
        aside.unlink()
    # A cluster that never had the stack: the README's full teardown of what the destroy above
    # kept (the namespace and the CRDs, whose labels are Pulumi's field manager's: kubectl's
    # server-side apply of setup/ would conflict on them).
    cluster.kubectl("delete", "namespace", "monitoring", "--wait=true", "--timeout=120s")
    cluster.kubectl(
        "delete", "-f", str(manifests / "setup"), "--ignore-not-found", "--wait=true", "--timeout=120s"
    )
    assert cluster.get("Namespace", "monitoring") is None
    assert (
        cluster.get("CustomResourceDefinition.v1.apiextensions.k8s.io", "prometheuses.monitoring.coreos.com")
        is None
    )
    cluster.kubectl("apply", "--server-side", "-f", str(manifests / "setup"))
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=60s", "crd", "--all")
    cluster.kubectl("apply", "-f", str(manifests))
    patches = {
        ("prometheus", "k8s"): {"spec": {"replicas": 1, "retention": "15d"}},
        ("alertmanager", "main"): {"spec": {"replicas": 1}},
    }
    for (kind, name), patch in patches.items():
        cluster.kubectl("-n", "monitoring", "patch", kind, name, "--type", "merge", "-p", json.dumps(patch))
    before = {
        "namespace": cluster.get("Namespace", "monitoring"),
        "prometheus": cluster.get("Prometheus.v1.monitoring.coreos.com", "k8s", "monitoring"),
        "alertmanager": cluster.get("Alertmanager.v1.monitoring.coreos.com", "main", "monitoring"),
        "grafana": cluster.get("Deployment.v1.apps", "grafana", "monitoring"),
    }
    # The README's step 3: what the program leaves out or cuts (kubectl's fields would stay).
    cluster.kubectl("-n", "monitoring", "delete", *RECIPE_LEFTOVERS)
    adapter = [
        str(f) for f in sorted(manifests.glob("prometheusAdapter-*.yaml")) if "apiService" not in f.name
    ]
    cluster.kubectl("delete", *(arg for f in adapter for arg in ("-f", f)))
    cluster.kubectl(
        "patch", "apiservice", "v1beta1.metrics.k8s.io", "--type", "merge", "-p", METRICS_SERVER_API
    )
    stack.write_config(settings())

    refused = stack.pulumi("up", "--yes", "--skip-preview", check=False)
    assert refused.returncode != 0 and "field conflict" in refused.stdout
    stack.pulumi("up", "--yes", "--skip-preview", env={"PULUMI_K8S_ENABLE_PATCH_FORCE": "true"})

    after = {
        "namespace": cluster.get("Namespace", "monitoring"),
        "prometheus": cluster.get("Prometheus.v1.monitoring.coreos.com", "k8s", "monitoring"),
        "alertmanager": cluster.get("Alertmanager.v1.monitoring.coreos.com", "main", "monitoring"),
        "grafana": cluster.get("Deployment.v1.apps", "grafana", "monitoring"),
    }
    for name, obj in after.items():
        assert obj is not None and obj["metadata"]["uid"] == before[name]["metadata"]["uid"], name
    assert after["prometheus"]["spec"]["replicas"] == 1 and after["prometheus"]["spec"]["retention"] == "15d"
    assert after["alertmanager"]["spec"]["replicas"] == 1
    # Now the stack's: the settings' values from here on, and a second up changes nothing.
    stack.pulumi("up", "--yes", "--expect-no-changes")
    rules = cluster.get(
        "PrometheusRule.v1.monitoring.coreos.com", "kubernetes-monitoring-rules", "monitoring"
    )
    assert rules is not None
    assert "kubernetes-system-scheduler" not in {g["name"] for g in rules["spec"]["groups"]}
    assert cluster.get("PodDisruptionBudget.v1.policy", "prometheus-k8s", "monitoring") is None
    api = cluster.get("APIService.v1.apiregistration.k8s.io", "v1beta1.metrics.k8s.io")
    assert api is not None and api["spec"]["service"]["name"] == "metrics-server"
