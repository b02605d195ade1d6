"""MonitoringStack under the mock engine (preview=False): what reaches each resource."""
from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from tools.render import plain


def build(kube_prometheus, **overrides):
    args = dict(manifests=kube_prometheus, namespace="monitoring", prometheus_replicas=1,
                alertmanager_replicas=1, kube_context="demo")
    args.update(overrides)
    provider = k8s.Provider("test-k8s", context="demo")
    return MonitoringStack("demo", MonitoringStackArgs(**args),
                           opts=pulumi.ResourceOptions(providers={"kubernetes": provider}))


def registered(stack: MonitoringStack) -> pulumi.Output:
    """Resolves once every child of the stack has been registered with the engine."""
    return stack.objects.resources.apply(
        lambda resources: pulumi.Output.all(*[r.urn for r in resources.values()])
    )


def objects(mocks) -> dict[tuple[str, str], dict]:
    return {(r.inputs["kind"], r.inputs["metadata"]["name"]): plain(r.inputs) for r in mocks.kubernetes_objects()}


@pulumi.runtime.test
def test_replicas_and_node_exporter(monitor, kube_prometheus):
    stack = build(kube_prometheus, prometheus_replicas=2, alertmanager_replicas=3)

    def check(_):
        found = objects(monitor.mocks)
        assert found["Prometheus", "k8s"]["spec"]["replicas"] == 2
        assert found["Alertmanager", "main"]["spec"]["replicas"] == 3
        node_exporter = {k for k, o in found.items() if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "node-exporter"}
        assert node_exporter == {("PrometheusRule", "node-exporter-rules")}
        # Everything else upstream ships is there, plus the namespace and the CRDs.
        upstream = {(o["kind"], o["metadata"]["name"]) for o in kube_prometheus.objects}
        assert set(found) - {("Namespace", "monitoring")} - {k for k in found if k[0] == "CustomResourceDefinition"} \
            == upstream - {k for k in upstream if k[1] == "node-exporter"}
        assert len([k for k in found if k[0] == "CustomResourceDefinition"]) == len(kube_prometheus.crd_files)

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_every_object_goes_through_the_stack_provider_and_waits_for_setup(monitor, kube_prometheus):
    stack = build(kube_prometheus)

    def check(_):
        kube = monitor.mocks.kubernetes_objects()
        assert kube and all(r.provider and "::test-k8s::" in r.provider for r in kube)
        setup = {"kubernetes:core/v1:Namespace", "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition"}
        waiting = [r for r in kube if r.type not in setup]
        assert len(waiting) > 100
        for r in waiting:
            names = {urn.rsplit("::", 1)[1] for urn in monitor.dependencies[r.type, r.name]}
            assert {"demo-namespace", "demo-crds"} <= names, r.name

    return registered(stack).apply(check)


@pulumi.runtime.test
def test_outputs_point_at_the_upstream_services(monitor, kube_prometheus):
    stack = build(kube_prometheus, namespace="observability")

    def check(values):
        url, port_forward, account = values
        assert url == "http://prometheus-k8s.observability.svc:9090"
        assert port_forward["grafana"] == "kubectl --context demo -n observability port-forward svc/grafana 3000"
        assert account == {"namespace": "observability", "name": "prometheus-k8s"}

    return pulumi.Output.all(stack.prometheus_url, stack.port_forward, stack.prometheus_service_account).apply(check)
