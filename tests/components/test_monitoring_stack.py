"""MonitoringStack under the mock engine (preview=False): what reaches each resource."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from pulumi.runtime import rpc

from pks_monitoring.components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from pks_monitoring.offline.render import plain
from pks_monitoring.parts.part import StackInputs
from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


def build(kube_prometheus, config: dict | None = None):
    """The stack of the `demo` cluster with `config` (pks-monitoring keys to values) over BASE."""
    raw = {**BASE, "pks-monitoring:grafana": {"adminPassword": "correct-horse-battery"}}
    for key, value in (config or {}).items():
        raw[f"pks-monitoring:{key}"] = value
    raw["pks-monitoring:kubePrometheus"] = {
        **raw["pks-monitoring:kubePrometheus"],
        "manifests": str(kube_prometheus.root),
        **(config or {}).get("kubePrometheus", {}),
    }
    args = MonitoringStackArgs.prepare(StackInputs(Settings.from_raw(raw), kube_prometheus))
    provider = k8s.Provider("test-k8s", context="demo")
    return MonitoringStack("demo", args, opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))


def registered(stack: MonitoringStack) -> pulumi.Output:
    """Resolves once every child of the stack has been registered with the engine."""
    return stack.objects.resources.apply(
        lambda resources: pulumi.Output.all(*[r.urn for r in resources.values()])
    )


def objects(mocks) -> dict[tuple[str, str], dict]:
    return {
        (r.inputs["kind"], r.inputs["metadata"]["name"]): plain(r.inputs) for r in mocks.kubernetes_objects()
    }


@pulumi.runtime.test
def test_replicas_and_node_exporter(monitor, kube_prometheus):
    stack = build(kube_prometheus, {"prometheus": {"replicas": 2}, "alertmanager": {"replicas": 3}})

    def check(_):
        found = objects(monitor.mocks)
        assert found["Prometheus", "k8s"]["spec"]["replicas"] == 2
        assert found["Alertmanager", "main"]["spec"]["replicas"] == 3
        # Every series sent elsewhere and every alert says which cluster.
        assert found["Prometheus", "k8s"]["spec"]["externalLabels"] == {"cluster": "demo"}
        node_exporter = {
            k
            for k, o in found.items()
            if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "node-exporter"
        }
        assert node_exporter == {("PrometheusRule", "node-exporter-rules")}
        # Everything else upstream ships is there (but the PKS platform patch's drops), plus the
        # namespace, the CRDs and the additional scrape configs.
        upstream = {(o["kind"], o["metadata"]["name"]) for o in kube_prometheus.objects}
        # TKGI's metrics-server owns the metrics API: the adapter goes whole, APIService included.
        adapter = {
            (o["kind"], o["metadata"]["name"])
            for o in kube_prometheus.objects
            if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "prometheus-adapter"
        }
        assert ("APIService", "v1beta1.metrics.k8s.io") in adapter
        dropped = (
            {k for k in upstream if k[1] == "node-exporter"}
            | adapter
            | {("ServiceMonitor", "kube-scheduler"), ("ServiceMonitor", "kube-controller-manager")}
        )
        ours = {
            ("Namespace", "monitoring"),
            ("Secret", "additional-scrape-configs"),
            ("PersistentVolumeClaim", "grafana-storage"),
            ("Secret", "grafana-admin"),
        }
        assert (
            set(found) - ours - {k for k in found if k[0] == "CustomResourceDefinition"} == upstream - dropped
        )
        assert len([k for k in found if k[0] == "CustomResourceDefinition"]) == len(kube_prometheus.crd_files)

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_every_object_goes_through_the_stack_provider_and_waits_for_setup(monitor, kube_prometheus):
    stack = build(kube_prometheus)

    def check(_):
        kube = monitor.mocks.kubernetes_objects()
        assert kube and all(r.provider and "::test-k8s::" in r.provider for r in kube)
        setup = {
            "kubernetes:core/v1:Namespace",
            "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
        }
        # Upstream's objects (named by the ConfigGroup after their namespace/name) wait for the
        # namespace, the CRDs and Grafana's admin Secret; the stack's own objects ("demo-...")
        # for the namespace.
        upstream = [r for r in kube if r.type not in setup and not r.name.startswith("demo-")]
        ours = [r for r in kube if r.type not in setup and r.name.startswith("demo-")]
        assert len(upstream) > 90 and ours
        for r in upstream:
            names = {urn.rsplit("::", 1)[1] for urn in monitor.dependencies[r.type, r.name]}
            assert {"demo-namespace", "demo-crds", "demo-grafana-admin"} <= names, r.name
        for r in ours:
            names = {urn.rsplit("::", 1)[1] for urn in monitor.dependencies[r.type, r.name]}
            assert "demo-namespace" in names, r.name

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_the_namespace_and_the_crds_wait_for_the_namespace_guard(monitor, kube_prometheus):
    """Everything of the stack waits for the Namespace or the CRDs (above), and they for the guard:
    a refused namespace change stops the run before any object changes."""
    stack = build(kube_prometheus, {"kubePrometheus": {"namespace": "observability", "moveNamespace": True}})

    def check(_):
        guard = next(r for r in monitor.mocks.resources if r.name == "demo-namespace-guard")
        assert guard.type == "pulumi-python:dynamic/pks-monitoring:NamespaceGuard"
        assert (guard.inputs["namespace"], guard.inputs["move"]) == ("observability", True)
        for kind, name in [
            ("kubernetes:core/v1:Namespace", "demo-namespace"),
            ("kubernetes:yaml/v2:ConfigGroup", "demo-crds"),
        ]:
            names = {urn.rsplit("::", 1)[1] for urn in monitor.dependencies[kind, name]}
            assert "demo-namespace-guard" in names, name

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_outputs_point_at_the_upstream_services(monitor, kube_prometheus):
    stack = build(kube_prometheus, {"kubePrometheus": {"namespace": "observability"}})

    def check(values):
        url, port_forward, account = values
        assert url == "http://prometheus-k8s.observability.svc:9090"
        assert (
            port_forward["grafana"] == "kubectl --context demo -n observability port-forward svc/grafana 3000"
        )
        assert account == {"namespace": "observability", "name": "prometheus-k8s"}

    return pulumi.Output.all(
        stack.prometheus_url, stack.port_forward, stack.prometheus_service_account
    ).apply(check)


@pulumi.runtime.test
def test_scrape_wiring_and_platform_patch(monitor, kube_prometheus):
    node = {
        "port": 9101,
        "staticTargets": [{"name": "pks-api", "address": "10.0.0.5"}],
        "fileSdFiles": ["/etc/prometheus/file_sd/bosh-vms.json"],
    }
    stack = build(kube_prometheus, {"nodeExporter": node})

    def check(_):
        found = objects(monitor.mocks)
        secret = next(
            r
            for r in monitor.mocks.kubernetes_objects()
            if r.inputs["kind"] == "Secret" and r.inputs["metadata"]["name"] == "additional-scrape-configs"
        )
        # Secret data stays a Pulumi secret; unwrapped here to check what Prometheus will read.
        string_data = rpc.unwrap_rpc_secret(secret.inputs["stringData"])
        jobs = yaml.safe_load(string_data["prometheus-additional.yaml"])
        # Both jobs label targets as upstream's node-exporter ServiceMonitor does (job
        # "node-exporter", instance = node or VM name), so the upstream node alerts and dashboards
        # work unchanged.
        assert jobs == [
            {
                "job_name": "node-exporter",
                "kubernetes_sd_configs": [{"role": "node"}],
                "relabel_configs": [
                    {
                        "source_labels": ["__meta_kubernetes_node_address_InternalIP"],
                        "regex": "(.+)",
                        "replacement": "${1}:9101",
                        "target_label": "__address__",
                    },
                    {"source_labels": ["__meta_kubernetes_node_name"], "target_label": "instance"},
                ],
            },
            {
                "job_name": "node-exporter-vms",
                "relabel_configs": [
                    {"target_label": "job", "replacement": "node-exporter"},
                    {"source_labels": ["name"], "regex": "(.+)", "target_label": "instance"},
                    {"regex": "name", "action": "labeldrop"},
                ],
                "static_configs": [{"targets": ["10.0.0.5:9101"], "labels": {"name": "pks-api"}}],
                "file_sd_configs": [{"files": ["/etc/prometheus/file_sd/bosh-vms.json"]}],
            },
        ]
        assert found["Prometheus", "k8s"]["spec"]["additionalScrapeConfigs"] == {
            "name": "additional-scrape-configs",
            "key": "prometheus-additional.yaml",
        }
        assert {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]} in found[
            "ClusterRole", "prometheus-k8s"
        ]["rules"]
        assert ("ServiceMonitor", "kube-scheduler") not in found and ("ServiceMonitor", "kubelet") in found

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_upstream_platform_keeps_control_plane_monitors(monitor, kube_prometheus):
    stack = build(kube_prometheus, {"platform": "upstream"})

    def check(_):
        found = objects(monitor.mocks)
        assert ("ServiceMonitor", "kube-scheduler") in found and (
            "ServiceMonitor",
            "kube-controller-manager",
        ) in found

    return registered(stack).apply(check)


def delete_time_options(monitor) -> dict[tuple[str, str], object]:
    """(kind, name) of every Kubernetes object to the options the engine acts on at delete time."""
    return {
        (r.inputs["kind"], r.inputs["metadata"]["name"]): monitor.options[r.type, r.name]
        for r in monitor.mocks.kubernetes_objects()
    }


SHARED_KINDS = ("Namespace", "CustomResourceDefinition", "PersistentVolumeClaim")


@pulumi.runtime.test
def test_destroy_keeps_the_namespace_the_crds_and_the_claims(monitor, kube_prometheus):
    stack = build(kube_prometheus, {"grafana": {"adminPassword": "x", "storage": {"enabled": True}}})

    def check(_):
        options = delete_time_options(monitor)
        shared = {k for k in options if k[0] in SHARED_KINDS}
        # Every CRD of the release, the stack's namespace and Grafana's claim.
        assert len([k for k in shared if k[0] == "CustomResourceDefinition"]) == len(
            kube_prometheus.crd_files
        )
        assert {("Namespace", "monitoring"), ("PersistentVolumeClaim", "grafana-storage")} <= shared
        for key in shared:
            assert options[key].retain_on_delete and not options[key].protect, key
        # The rest is the stack's own: destroy deletes it.
        assert not [k for k, o in options.items() if k not in shared and (o.retain_on_delete or o.protect)]

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_protect_guards_the_shared_objects_only(monitor, kube_prometheus):
    stack = build(
        kube_prometheus,
        {
            "grafana": {"adminPassword": "x", "storage": {"enabled": True}},
            "kubePrometheus": {"protect": True},
        },
    )

    def check(_):
        options = delete_time_options(monitor)
        protected = {k for k, o in options.items() if o.protect}
        assert protected == {k for k in options if k[0] in SHARED_KINDS}
        assert ("PersistentVolumeClaim", "grafana-storage") in protected

    return registered(stack).apply(check)
