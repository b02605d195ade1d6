"""AppMonitor and the demo app under the mock engine (preview=False): the rendered ServiceMonitor,
Role and RoleBinding validate against the CRD and Kubernetes schemas, and the Role grants exactly
what the deployed Prometheus' service discovery reads."""

from __future__ import annotations

import copy
import dataclasses
import shutil

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml

from pks_monitoring.components.app_monitor import (
    AppMonitor,
    AppMonitorArgs,
    app_objects,
    check_apps_against_upstream,
    discovery_rules,
    service_account_subject,
    service_discovery_role,
)
from pks_monitoring.components.demo_app import CONTAINER_PORT, DemoApp, DemoAppArgs
from pks_monitoring.settings import Settings, SettingsError
from pks_monitoring.settings.apps import AppSettings
from pks_monitoring.upstream import KubePrometheus
from tests.helpers.app_monitor import ENDPOINT_SLICE_GRANTS, ENDPOINTS_GRANTS, grants, objects
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom
from tests.helpers.settings import BASE, RELEASE_MANIFESTS, one_line_error

PROMETHEUS_SA = {"namespace": "monitoring", "name": "prometheus-k8s"}
# Every option set: https with a CA from a Secret, a label key with a prefix, a compound interval.
ORDERS = AppSettings.model_validate(
    {
        "name": "orders",
        "namespace": "shop",
        "selector": {"app.kubernetes.io/name": "orders", "tier": "backend"},
        "port": "metrics",
        "path": "/manage/prometheus",
        "interval": "1m30s",
        "scheme": "https",
        "tlsConfig": {
            "serverName": "orders.shop.svc",
            "ca": {"secret": {"name": "orders-ca", "key": "ca.crt"}},
        },
    }
)
HELLO = DemoAppArgs().monitored_app()


@pytest.fixture(scope="module")
def schemas(manifests_dir):
    return crd_schemas(manifests_dir)


@pytest.fixture
def provider_opts(monitor):
    return pulumi.ResourceOptions(providers={"kubernetes": k8s.Provider("test-k8s", context="demo")})


def build(opts, app: AppSettings = ORDERS, account=PROMETHEUS_SA, role="EndpointSlice") -> AppMonitor:
    return AppMonitor(f"demo-app-{app.name}", AppMonitorArgs.from_settings(app, account, role), opts=opts)


def registered(*resources: pulumi.Resource) -> pulumi.Output:
    """Resolves once every resource given (and the children of every AppMonitor) is registered."""
    flat = []
    for resource in resources:
        flat += (
            [resource.service_monitor, *resource.roles, *resource.role_bindings]
            if isinstance(resource, AppMonitor)
            else [resource]
        )
    return pulumi.Output.all(*[r.urn for r in flat])


@pulumi.runtime.test
def test_rendered_objects_validate_against_the_crd_and_kubernetes_schemas(monitor, provider_opts, schemas):
    app = build(provider_opts)

    def check(_):
        found = objects(monitor.mocks)
        assert set(found) == {
            ("ServiceMonitor", "shop", "orders"),
            ("Role", "shop", "orders-prometheus-discovery"),
            ("RoleBinding", "shop", "orders-prometheus-discovery"),
        }
        service_monitor = found["ServiceMonitor", "shop", "orders"]
        assert validate_custom(service_monitor, schemas) == []
        assert service_monitor["spec"] == {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "orders", "tier": "backend"}},
            "namespaceSelector": {"matchNames": ["shop"]},
            "endpoints": [
                {
                    "port": "metrics",
                    "path": "/manage/prometheus",
                    "interval": "1m30s",
                    "scheme": "https",
                    "tlsConfig": {
                        "insecureSkipVerify": False,
                        "serverName": "orders.shop.svc",
                        "ca": {"secret": {"name": "orders-ca", "key": "ca.crt"}},
                    },
                    # The job label is the app's name, which the app alerts select on.
                    "relabelings": [{"targetLabel": "job", "replacement": "orders"}],
                }
            ],
        }
        for kind in ("Role", "RoleBinding"):
            assert validate_core(found[kind, "shop", "orders-prometheus-discovery"]) == [], kind

        # The checks bite: a misspelt rule field and a bare-number interval are reported.
        role = copy.deepcopy(found["Role", "shop", "orders-prometheus-discovery"])
        role["rules"][0]["verb"] = role["rules"][0].pop("verbs")
        assert validate_core(role)
        bad = copy.deepcopy(service_monitor)
        bad["spec"]["endpoints"][0]["interval"] = "30"
        assert any(e.startswith("spec.endpoints.0.interval:") for e in validate_custom(bad, schemas))

    return registered(app).apply(check)


@pulumi.runtime.test
def test_role_grants_exactly_what_endpointslice_discovery_reads(
    monitor, provider_opts, manifests_with_discovery_role
):
    role = service_discovery_role(manifests_with_discovery_role("EndpointSlice").find("Prometheus", "k8s"))
    assert role == "EndpointSlice"
    app = build(provider_opts, role=role)

    def check(_):
        found = objects(monitor.mocks)
        ours = found["Role", "shop", "orders-prometheus-discovery"]
        assert grants(ours) == ENDPOINT_SLICE_GRANTS
        assert grants(ours) != ENDPOINTS_GRANTS

    return registered(app).apply(check)


@pulumi.runtime.test
def test_role_grants_what_upstream_grants_prometheus_for_its_own_discovery(
    monitor, provider_opts, kube_prometheus
):
    """With the discovery role of the release under test, an app's Role grants what upstream
    grants Prometheus in the namespaces it watches itself, but ingresses (which only the Ingress
    discovery of Probes reads)."""
    app = build(provider_opts, role=service_discovery_role(kube_prometheus.find("Prometheus", "k8s")))

    def check(_):
        ours = objects(monitor.mocks)["Role", "shop", "orders-prometheus-discovery"]
        upstream = next(
            o
            for o in kube_prometheus.objects
            if o["kind"] == "Role"
            and o["metadata"]["name"] == "prometheus-k8s"
            and o["metadata"]["namespace"] == "default"
        )
        assert grants(ours) == {g for g in grants(upstream) if g[1] != "ingresses"}

    return registered(app).apply(check)


@pytest.fixture(scope="module")
def manifests_with_discovery_role(tmp_path_factory, manifests_dir):
    """A copy of the manifests under test whose Prometheus resource sets serviceDiscoveryRole to
    `role` (v0.18.0 sets EndpointSlice), or does not set it (None: as v0.16.0 and releases before
    EndpointSlice)."""

    def copy(role: str | None) -> KubePrometheus:
        target = tmp_path_factory.mktemp("role") / "manifests"
        shutil.copytree(manifests_dir, target)
        path = target / "prometheus-prometheus.yaml"
        prometheus = yaml.safe_load(path.read_text())
        prometheus["spec"].pop("serviceDiscoveryRole", None)
        if role:
            prometheus["spec"]["serviceDiscoveryRole"] = role
        path.write_text(yaml.safe_dump(prometheus))
        return KubePrometheus.open(target)

    return copy


@pulumi.runtime.test
def test_role_follows_manifests_without_a_discovery_role(
    monitor, provider_opts, manifests_with_discovery_role
):
    role = service_discovery_role(manifests_with_discovery_role(None).find("Prometheus", "k8s"))
    assert role == "Endpoints"  # prometheus-operator's default
    app = build(provider_opts, role=role)

    def check(_):
        ours = objects(monitor.mocks)["Role", "shop", "orders-prometheus-discovery"]
        assert grants(ours) == ENDPOINTS_GRANTS
        assert not any(resource == "endpointslices" for _, resource, _ in grants(ours))

    return registered(app).apply(check)


def test_unknown_discovery_role_is_one_line_naming_the_manifests():
    prometheus = {"kind": "Prometheus", "metadata": {"name": "k8s"}, "spec": {"serviceDiscoveryRole": "Pod"}}
    with pytest.raises(SettingsError) as caught:
        service_discovery_role(prometheus)
    message = str(caught.value)
    assert "\n" not in message and message.startswith("pks-monitoring:kubePrometheus.manifests: ")
    assert "'Pod'" in message and "Endpoints and EndpointSlice" in message
    with pytest.raises(ValueError, match="discovery role 'Pod'"):
        discovery_rules("Pod")


@pulumi.runtime.test
def test_rolebinding_subject_is_the_service_account_from_a_stack_reference(monitor, provider_opts):
    # What StackReference.get_output hands over: Outputs, resolved only when the engine runs.
    account = pulumi.Output.from_input({"namespace": "observability", "name": "prometheus-main"})
    role = pulumi.Output.from_input("Endpoints")
    app = build(provider_opts, account=account, role=role)

    def check(_):
        found = objects(monitor.mocks)
        binding = found["RoleBinding", "shop", "orders-prometheus-discovery"]
        assert binding["subjects"] == [
            {"kind": "ServiceAccount", "namespace": "observability", "name": "prometheus-main"}
        ]
        assert binding["roleRef"] == {
            "apiGroup": "rbac.authorization.k8s.io",
            "kind": "Role",
            "name": "orders-prometheus-discovery",
        }
        assert grants(found["Role", "shop", "orders-prometheus-discovery"]) == ENDPOINTS_GRANTS

    return registered(app).apply(check)


def test_a_service_account_without_a_name_is_refused():
    assert service_account_subject(PROMETHEUS_SA) == {"kind": "ServiceAccount", **PROMETHEUS_SA}
    for bad in ({"namespace": "monitoring"}, "prometheus-k8s", None):
        with pytest.raises(ValueError, match=r"^prometheus_service_account: expected \{namespace, name\}"):
            service_account_subject(bad)


@pulumi.runtime.test
def test_every_discovered_namespace_gets_the_role(monitor, provider_opts):
    canary = AppSettings.model_validate(
        {**ORDERS.model_dump(by_alias=True), "namespaceSelector": {"matchNames": ["shop", "shop-canary"]}}
    )
    app = build(provider_opts, canary)

    def check(_):
        found = objects(monitor.mocks)
        assert found["ServiceMonitor", "shop", "orders"]["spec"]["namespaceSelector"] == {
            "matchNames": ["shop", "shop-canary"]
        }
        rbac = {(kind, namespace) for kind, namespace, _ in found if kind != "ServiceMonitor"}
        assert rbac == {(kind, ns) for kind in ("Role", "RoleBinding") for ns in ("shop", "shop-canary")}

    return registered(app).apply(check)


@pulumi.runtime.test
def test_apps_whose_name_and_namespace_join_alike_get_children_of_their_own(monitor, provider_opts):
    # Joined with "-", both Roles were `demo-app-a-b-c-role`: one URN, which the engine refuses.
    first = build(provider_opts, AppSettings(name="a-b", namespace="c", selector={"app": "a-b"}, port="http"))
    second = build(provider_opts, AppSettings(name="a", namespace="b-c", selector={"app": "a"}, port="http"))

    def check(urns):
        role = "urn:pulumi:test::pks-monitoring::pks-monitoring:index:AppMonitor$kubernetes:rbac.authorization.k8s.io/v1:Role::"
        assert {role + "demo-app-a-b/c/role", role + "demo-app-a/b-c/role"} <= set(urns)
        assert len(set(urns)) == len(urns) == 6
        rbac = {key for key in objects(monitor.mocks) if key[0] != "ServiceMonitor"}
        assert rbac == {
            (kind, namespace, f"{app}-prometheus-discovery")
            for kind in ("Role", "RoleBinding")
            for app, namespace in (("a-b", "c"), ("a", "b-c"))
        }

    return registered(first, second).apply(check)


@pulumi.runtime.test
def test_children_keep_the_names_they_had_as_aliases(monitor, provider_opts, monkeypatch):
    # A stack deployed when the children were named <component>-<namespace>-<kind> adopts them
    # under the new names instead of creating the objects again (the provider refuses: they exist).
    aliases = {}
    register = monitor.RegisterResource

    def recording(request):
        # Only the ones naming a name: pulumi_kubernetes adds aliases of its own to the Role's
        # older API versions (same name).
        aliases[request.name] = [alias.spec.name for alias in request.aliases if alias.spec.name]
        return register(request)

    monkeypatch.setattr(monitor, "RegisterResource", recording)
    app = build(provider_opts)

    def check(_):
        assert {name: old for name, old in aliases.items() if name.startswith("demo-app-orders/")} == {
            "demo-app-orders/servicemonitor": ["demo-app-orders-servicemonitor"],
            "demo-app-orders/shop/role": ["demo-app-orders-shop-role"],
            "demo-app-orders/shop/rolebinding": ["demo-app-orders-shop-rolebinding"],
        }

    return registered(app).apply(check)


@pulumi.runtime.test
def test_children_wait_for_what_the_monitor_waits_for(monitor, provider_opts):
    namespace = k8s.core.v1.Namespace("shop", metadata={"name": "shop"}, opts=provider_opts)
    waiting = build(
        pulumi.ResourceOptions.merge(provider_opts, pulumi.ResourceOptions(depends_on=[namespace]))
    )
    free = build(provider_opts, HELLO)

    def check(_):
        deps = monitor.dependencies
        for resource in (
            "demo-app-orders/servicemonitor",
            "demo-app-orders/shop/role",
            "demo-app-orders/shop/rolebinding",
        ):
            kind = next(t for t, n in deps if n == resource)
            assert any(urn.endswith("::shop") for urn in deps[kind, resource]), resource
        assert not any(
            urn.endswith("::shop")
            for urn in deps[
                "kubernetes:monitoring.coreos.com/v1:ServiceMonitor", "demo-app-hello-pks/servicemonitor"
            ]
        )

    return registered(waiting, free).apply(check)


@pulumi.runtime.test
def test_demo_app_validates_and_fits_its_monitor(monitor, provider_opts, schemas):
    demo = DemoApp("demo-demo-app", DemoAppArgs(), opts=provider_opts)
    app = build(
        pulumi.ResourceOptions.merge(provider_opts, pulumi.ResourceOptions(depends_on=[demo.namespace])),
        HELLO,
    )

    def check(_):
        found = objects(monitor.mocks)
        namespace = found["Namespace", "", "hello"]
        deployment = found["Deployment", "hello", "hello-pks"]
        service = found["Service", "hello", "hello-pks"]
        service_monitor = found["ServiceMonitor", "hello", "hello-pks"]
        for obj in (
            namespace,
            deployment,
            service,
            found["Role", "hello", "hello-pks-prometheus-discovery"],
            found["RoleBinding", "hello", "hello-pks-prometheus-discovery"],
        ):
            assert validate_core(obj) == [], obj["kind"]
        assert validate_custom(service_monitor, schemas) == []

        container = deployment["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == "making/hello-pks:0.0.2"
        assert container["ports"] == [{"name": "http", "containerPort": CONTAINER_PORT}]
        # The chain Prometheus follows: ServiceMonitor selector -> Service labels, endpoint port
        # name -> a Service port, its targetPort -> the container port, Service selector -> pods.
        endpoint = service_monitor["spec"]["endpoints"][0]
        assert endpoint["path"] == "/actuator/prometheus" and endpoint["interval"] == "30s"
        assert (
            service_monitor["spec"]["selector"]["matchLabels"].items()
            <= service["metadata"]["labels"].items()
        )
        port = next(p for p in service["spec"]["ports"] if p["name"] == endpoint["port"])
        assert port["targetPort"] in {p["name"] for p in container["ports"]}
        assert (
            service["spec"]["selector"].items()
            <= deployment["spec"]["template"]["metadata"]["labels"].items()
        )
        # Everything in the namespace waits for it; so does the monitor handed demo.namespace.
        for resource in (
            "demo-demo-app-deployment",
            "demo-demo-app-service",
            "demo-app-hello-pks/hello/role",
        ):
            kind = next(t for t, n in monitor.dependencies if n == resource)
            assert any(
                urn.endswith("::demo-demo-app-namespace") for urn in monitor.dependencies[kind, resource]
            )

    return registered(demo.namespace, demo.deployment, demo.service, app).apply(check)


@pytest.mark.slow
@pulumi.runtime.test
def test_200_apps_build(monitor, provider_opts):
    apps = [
        build(
            provider_opts,
            AppSettings(
                name=f"app-{i:03d}", namespace=f"team-{i % 20}", selector={"app": f"app-{i:03d}"}, port="http"
            ),
        )
        for i in range(200)
    ]

    def check(_):
        found = objects(monitor.mocks)
        assert len(monitor.mocks.kubernetes_objects()) == 600 == len(found)
        assert sum(kind == "ServiceMonitor" for kind, _, _ in found) == 200

    return registered(*apps).apply(check)


# --- clashes with upstream's objects -------------------------------------------------------------

HELLO_APP = {"name": "hello-pks", "namespace": "hello", "selector": {"app": "x"}, "port": "http"}
WIDE = AppSettings.model_validate(
    {**HELLO_APP, "name": "wide", "namespaceSelector": {"matchNames": ["hello", "shop"]}}
)


@pulumi.runtime.test
def test_app_objects_are_what_the_app_monitor_creates(monitor, provider_opts):
    # The clash check reads app_objects: it must name every object AppMonitor registers.
    app = build(provider_opts, WIDE)

    def check(_):
        assert set(objects(monitor.mocks)) == set(app_objects(WIDE))
        assert len(app_objects(WIDE)) == 5  # the ServiceMonitor, a Role and a binding per namespace

    return registered(app).apply(check)


def upstream_service_monitors(manifests_dir) -> set[str]:
    """The names of upstream's ServiceMonitors, read from the manifests here."""
    return {
        o["metadata"]["name"]
        for path in manifests_dir.glob("*.yaml")
        for o in yaml.safe_load_all(path.read_text())
        if o and o.get("kind") == "ServiceMonitor"
    }


def with_apps(namespace: str, *apps: dict) -> Settings:
    return Settings.from_raw(
        {
            **BASE,
            "pks-monitoring:kubePrometheus": {"manifests": RELEASE_MANIFESTS, "namespace": namespace},
            "pks-monitoring:apps": list(apps),
        }
    )


@pytest.mark.parametrize("name", ["prometheus-k8s", "grafana", "alertmanager-main", "node-exporter"])
@pytest.mark.parametrize("namespace", ["monitoring", "observability"])
def test_an_app_named_like_an_upstream_service_monitor_in_the_stack_namespace_is_refused(
    name, namespace, kube_prometheus, manifests_dir
):
    assert name in upstream_service_monitors(manifests_dir)
    # Second in the list, in the stack's namespace (whatever it is called): apps[1].
    settings = with_apps(namespace, HELLO_APP, {**HELLO_APP, "name": name, "namespace": namespace})
    one_line_error(
        lambda: check_apps_against_upstream(settings, kube_prometheus),
        "pks-monitoring:apps[1].name",
        f"makes ServiceMonitor {name} in namespace {namespace}, which kube-prometheus deploys",
    )


def test_the_same_name_in_an_app_namespace_is_fine(kube_prometheus):
    check_apps_against_upstream(with_apps("monitoring", {**HELLO_APP, "name": "grafana"}), kube_prometheus)


def test_a_discovery_role_upstream_has_is_refused(kube_prometheus):
    role = {"kind": "Role", "metadata": {"name": "wide-prometheus-discovery", "namespace": "kube-system"}}
    upstream = dataclasses.replace(kube_prometheus, objects=(*kube_prometheus.objects, role))
    app = {**HELLO_APP, "name": "wide", "namespaceSelector": {"matchNames": ["hello", "kube-system"]}}
    one_line_error(
        lambda: check_apps_against_upstream(with_apps("monitoring", app), upstream),
        "pks-monitoring:apps[0].name",
        "makes Role wide-prometheus-discovery in namespace kube-system",
    )
