"""Grafana access: the admin Secret, exposure, and what Grafana's NetworkPolicy admits.

The transformations run on the real upstream manifests; the NetworkPolicy is judged by a small
evaluator of the Kubernetes NetworkPolicy semantics (below), not by reading its fields.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Union

import pulumi
import pulumi_kubernetes as k8s
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pulumi.runtime import rpc
from pydantic import SecretStr

from pks_monitoring.dashboards import DASHBOARDS_DIR, load_dashboards
from pks_monitoring.manifests import rename_namespace
from pks_monitoring.offline.mock_engine import reveal
from pks_monitoring.parts import grafana_exposure
from pks_monitoring.parts.grafana import admin_password, admin_secret, use_admin_secret, with_cluster_label
from pks_monitoring.parts.grafana_exposure import grafana_ingress
from pks_monitoring.settings import SettingsError
from pks_monitoring.settings.grafana import GrafanaExposeSettings, GrafanaSettings
from tests.helpers.dashboards import panel_queries
from tests.helpers.schemas import validate_core

PASSWORD = "MARKER-grafana-pw-7f3a"
PROMETHEUS_LABELS = {"app.kubernetes.io/name": "prometheus", "prometheus": "k8s"}
CONTROLLER_LABELS = {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"}

EXPOSURES = {
    "none": {},
    "NodePort": {"type": "NodePort", "nodePort": 30300},
    "LoadBalancer": {
        "type": "LoadBalancer",
        "loadBalancerSourceRanges": ["203.0.113.0/24"],
        "annotations": {"example.com/internal": "true"},
    },
    "Ingress": {
        "type": "Ingress",
        "host": "grafana.example.com",
        "tlsSecretName": "grafana-tls",
        "ingressClassName": "nginx",
        "annotations": {"cert-manager.io/cluster-issuer": "ca"},
        "ingressController": {"namespace": "ingress-nginx", "podLabels": CONTROLLER_LABELS},
    },
    "Ingress-cidrs": {
        "type": "Ingress",
        "host": "grafana.example.com",
        "ingressController": {"cidrs": ["10.40.0.0/24"]},
    },
}


def access(exposure: str = "none", **grafana) -> GrafanaSettings:
    return GrafanaSettings.model_validate(
        {"adminPassword": PASSWORD, "expose": EXPOSURES[exposure], **grafana}
    )


def access_patches(grafana: GrafanaSettings, kube_prometheus):
    """Grafana's admin login and exposure patches, as the grafana part applies them."""
    port = kube_prometheus.grafana_http_port()
    return [use_admin_secret, *grafana_exposure.patches(grafana.expose, port)]


def grafana_objects(kube_prometheus, grafana: GrafanaSettings) -> dict[str, dict]:
    """The upstream Deployment, Service and NetworkPolicy `grafana`, transformed."""
    found = {
        kind: copy.deepcopy(kube_prometheus.find(kind, "grafana"))
        for kind in ("Deployment", "Service", "NetworkPolicy")
    }
    for obj in found.values():
        for transformation in access_patches(grafana, kube_prometheus):
            transformation(obj)
    return found


# --- A NetworkPolicy evaluator ------------------------------------------------------------------
# Kubernetes semantics, for ingress to a pod the policy selects: a connection is admitted when one
# rule admits both its source (no `from`: any source) and its port (no `ports`: any port). A peer
# with podSelector alone means pods of the policy's namespace; with namespaceSelector, pods in the
# selected namespaces (both: both must match); ipBlock means addresses outside the pod network.


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    namespace_labels: dict[str, str] = field(default_factory=dict)

    def all_namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace, **self.namespace_labels}


@dataclass(frozen=True)
class Address:
    ip: str


Source = Union[Pod, Address]


def selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        present = key in labels
        if not {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]:
            return False
    return True


def peer_admits(peer: dict[str, Any], source: Source, namespace: str) -> bool:
    if "ipBlock" in peer:
        if not isinstance(source, Address):
            return False
        ip = ipaddress.ip_address(source.ip)
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except") or []
        )
    if not isinstance(source, Pod):
        return False
    if "namespaceSelector" in peer:
        in_namespace = selects(peer["namespaceSelector"], source.all_namespace_labels())
    else:
        in_namespace = source.namespace == namespace
    return in_namespace and selects(peer.get("podSelector") or {}, source.labels)


def port_admits(entry: dict[str, Any], port: int, protocol: str, named_ports: dict[str, int]) -> bool:
    if entry.get("protocol", "TCP") != protocol:
        return False
    if "port" not in entry:
        return True
    start = named_ports.get(entry["port"]) if isinstance(entry["port"], str) else entry["port"]
    return start is not None and start <= port <= entry.get("endPort", start)


def admits(
    policy: dict[str, Any],
    source: Source,
    port: int,
    protocol: str = "TCP",
    named_ports: dict[str, int] | None = None,
) -> bool:
    spec = policy["spec"]
    if "Ingress" not in spec.get("policyTypes", ["Ingress"]):
        return True
    namespace = policy["metadata"]["namespace"]
    for rule in spec.get("ingress") or []:
        sources = rule.get("from") or []
        ports = rule.get("ports") or []
        if (not sources or any(peer_admits(p, source, namespace) for p in sources)) and (
            not ports or any(port_admits(p, port, protocol, named_ports or {}) for p in ports)
        ):
            return True
    return False


PROMETHEUS = Pod("monitoring", PROMETHEUS_LABELS)
CONTROLLER = Pod("ingress-nginx", CONTROLLER_LABELS)
STRANGERS = [
    Pod("default", {"app": "shell"}),
    Pod("ingress-nginx", {"app": "other"}),  # the controller's namespace, not its pods
    Pod("default", CONTROLLER_LABELS),  # the controller's labels, in another namespace
    Pod("prometheus-elsewhere", PROMETHEUS_LABELS),  # Prometheus' labels, in another namespace
    Address("198.51.100.7"),
]


def test_upstream_policy_admits_prometheus_only(kube_prometheus):
    policy = kube_prometheus.find("NetworkPolicy", "grafana")
    # Policies add up: this is the only one that selects Grafana's pods.
    grafana_pod = kube_prometheus.find("Deployment", "grafana")["spec"]["template"]["metadata"]["labels"]
    selecting = [
        p["metadata"]["name"]
        for p in kube_prometheus.objects
        if p["kind"] == "NetworkPolicy" and selects(p["spec"]["podSelector"], grafana_pod)
    ]
    assert selecting == ["grafana"]
    assert admits(policy, PROMETHEUS, 3000)
    assert not admits(policy, PROMETHEUS, 3001)
    assert not admits(policy, PROMETHEUS, 3000, "UDP")
    for stranger in [*STRANGERS, CONTROLLER]:
        assert not admits(policy, stranger, 3000), stranger


# --- NetworkPolicy, per exposure -----------------------------------------------------------------


def test_not_exposed_leaves_the_policy_and_service_byte_identical(kube_prometheus):
    found = grafana_objects(kube_prometheus, access("none"))
    for kind in ("NetworkPolicy", "Service"):
        upstream = kube_prometheus.find(kind, "grafana")
        assert json.dumps(found[kind], sort_keys=True) == json.dumps(upstream, sort_keys=True), kind


def test_ingress_admits_the_controller_pods_and_still_prometheus(kube_prometheus):
    policy = grafana_objects(kube_prometheus, access("Ingress"))["NetworkPolicy"]
    assert admits(policy, CONTROLLER, 3000)
    assert admits(policy, PROMETHEUS, 3000)
    assert not admits(policy, CONTROLLER, 8080)
    assert not admits(policy, CONTROLLER, 3000, "UDP")
    for stranger in STRANGERS:
        assert not admits(policy, stranger, 3000), stranger
    upstream = kube_prometheus.find("NetworkPolicy", "grafana")
    assert policy["spec"]["ingress"][:-1] == upstream["spec"]["ingress"]  # one rule added, nothing changed


def test_ingress_controller_outside_the_pod_network_by_address(kube_prometheus):
    policy = grafana_objects(kube_prometheus, access("Ingress-cidrs"))["NetworkPolicy"]
    assert admits(policy, Address("10.40.0.17"), 3000)
    assert admits(policy, PROMETHEUS, 3000)
    assert not admits(policy, Address("10.40.1.17"), 3000)
    assert not admits(policy, Address("10.40.0.17"), 22)
    for stranger in [*STRANGERS, CONTROLLER]:
        assert not admits(policy, stranger, 3000), stranger


@pytest.mark.parametrize("exposure", ["NodePort", "LoadBalancer"])
def test_node_port_and_load_balancer_open_the_http_port_only(kube_prometheus, exposure):
    policy = grafana_objects(kube_prometheus, access(exposure))["NetworkPolicy"]
    # kube-proxy masquerades node-port connections: the policy sees any address, on port 3000.
    for address in ("198.51.100.7", "10.0.0.3"):
        assert admits(policy, Address(address), 3000)
    assert admits(policy, PROMETHEUS, 3000)
    for port, protocol in ((3001, "TCP"), (22, "TCP"), (3000, "UDP")):
        assert not admits(policy, Address("198.51.100.7"), port, protocol), (port, protocol)
        assert not admits(policy, PROMETHEUS, port, protocol), (port, protocol)
    assert len(policy["spec"]["ingress"]) == 2


# --- Service, Ingress, Deployment ------------------------------------------------------------------


def test_service_types(kube_prometheus):
    node_port = grafana_objects(kube_prometheus, access("NodePort"))["Service"]["spec"]
    assert node_port["type"] == "NodePort"
    assert node_port["ports"] == [{"name": "http", "port": 3000, "targetPort": "http", "nodePort": 30300}]
    balancer = grafana_objects(kube_prometheus, access("LoadBalancer"))["Service"]
    assert balancer["spec"]["type"] == "LoadBalancer"
    assert balancer["spec"]["loadBalancerSourceRanges"] == ["203.0.113.0/24"]
    assert "nodePort" not in balancer["spec"]["ports"][0]  # unset: the cluster picks one
    assert balancer["metadata"]["annotations"] == {"example.com/internal": "true"}
    ingress = grafana_objects(kube_prometheus, access("Ingress"))["Service"]
    assert ingress == kube_prometheus.find("Service", "grafana")  # the Ingress' backend, as is


def test_ingress_object():
    ingress = grafana_ingress("observability", access("Ingress").expose)
    assert ingress["metadata"]["namespace"] == "observability"
    assert ingress["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "ca"}
    assert ingress["spec"] == {
        "ingressClassName": "nginx",
        "rules": [
            {
                "host": "grafana.example.com",
                "http": {
                    "paths": [
                        {
                            "path": "/",
                            "pathType": "Prefix",
                            "backend": {"service": {"name": "grafana", "port": {"name": "http"}}},
                        }
                    ]
                },
            }
        ],
        "tls": [{"hosts": ["grafana.example.com"], "secretName": "grafana-tls"}],
    }
    plain = grafana_ingress("monitoring", access("Ingress-cidrs").expose)
    assert "tls" not in plain["spec"] and "ingressClassName" not in plain["spec"]
    for exposure in ("none", "NodePort", "LoadBalancer"):
        assert grafana_ingress("monitoring", access(exposure).expose) is None


def test_deployment_reads_the_admin_login_from_the_secret(kube_prometheus):
    deployment = grafana_objects(kube_prometheus, access("none"))["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [
        {
            "name": "GF_SECURITY_ADMIN_USER",
            "valueFrom": {"secretKeyRef": {"name": "grafana-admin", "key": "admin-user"}},
        },
        {
            "name": "GF_SECURITY_ADMIN_PASSWORD",
            "valueFrom": {"secretKeyRef": {"name": "grafana-admin", "key": "admin-password"}},
        },
    ]
    assert PASSWORD not in json.dumps(deployment)
    # Everything else is upstream's.
    upstream = copy.deepcopy(kube_prometheus.find("Deployment", "grafana"))
    upstream["spec"]["template"]["spec"]["containers"][0]["env"] = container["env"]
    assert deployment == upstream


def test_admin_env_replaces_earlier_values_and_keeps_others(kube_prometheus):
    deployment = copy.deepcopy(kube_prometheus.find("Deployment", "grafana"))
    deployment["spec"]["template"]["spec"]["containers"][0]["env"] = [
        {"name": "GF_SECURITY_ADMIN_PASSWORD", "value": "admin"},
        {"name": "TZ", "value": "UTC"},
    ]
    use_admin_secret(deployment)
    once = copy.deepcopy(deployment)
    use_admin_secret(deployment)
    assert deployment == once
    env = deployment["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [e["name"] for e in env] == ["TZ", "GF_SECURITY_ADMIN_USER", "GF_SECURITY_ADMIN_PASSWORD"]
    assert all("value" not in e for e in env if e["name"].startswith("GF_"))


def test_http_port_is_the_container_port(kube_prometheus):
    assert kube_prometheus.grafana_http_port() == 3000


def test_no_password_no_stack():
    with pytest.raises(SettingsError) as caught:
        admin_password(GrafanaSettings())
    message = str(caught.value)
    assert message.startswith("pks-monitoring:grafana.adminPassword: required") and "\n" not in message
    assert "--secret" in message


# --- Schemas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("exposure", sorted(EXPOSURES))
def test_transformed_objects_validate(kube_prometheus, exposure):
    grafana = access(exposure)
    found = grafana_objects(kube_prometheus, grafana)
    ingress = grafana_ingress("monitoring", grafana.expose)
    assert (ingress is not None) == exposure.startswith("Ingress")
    for obj in [*found.values(), *([ingress] if ingress else [])]:
        assert validate_core(obj) == [], obj["kind"]


def test_schema_validation_catches_a_bad_object(kube_prometheus):
    # The validation above can fail: a nodePort as a string is refused.
    service = grafana_objects(kube_prometheus, access("NodePort"))["Service"]
    service["spec"]["ports"][0]["nodePort"] = "30300"
    assert validate_core(service)


# --- The admin Secret under the mock engine --------------------------------------------------------


@pulumi.runtime.test
def test_admin_secret_keeps_the_password_secret(monitor, kube_prometheus):
    grafana = access("Ingress")
    manifest = admin_secret("monitoring", grafana)
    provider = k8s.Provider("test-k8s", context="demo")
    secret = k8s.core.v1.Secret(
        "demo-grafana-admin",
        metadata=manifest["metadata"],
        type=manifest["type"],
        string_data=manifest["stringData"],
        opts=pulumi.ResourceOptions(provider=provider),
    )
    ingress = grafana_ingress("monitoring", grafana.expose)
    k8s.networking.v1.Ingress(
        "demo-grafana-ingress",
        metadata=ingress["metadata"],
        spec=ingress["spec"],
        opts=pulumi.ResourceOptions(provider=provider),
    )
    password = manifest["stringData"]["admin-password"]

    def check(values):
        password_is_secret, _ = values
        assert password_is_secret  # secret from the moment it leaves the settings
        registered = {r.inputs["kind"]: r.inputs for r in monitor.mocks.kubernetes_objects()}
        assert rpc.is_rpc_secret(registered["Secret"]["stringData"])
        string_data = reveal(registered["Secret"]["stringData"])
        assert string_data == {"admin-user": "admin", "admin-password": PASSWORD}
        assert validate_core(reveal(registered["Secret"])) == []
        # The Ingress reaches the engine as the manifest (camelCase fields intact) and validates.
        assert registered["Ingress"] == ingress and validate_core(registered["Ingress"]) == []
        assert PASSWORD not in json.dumps(registered["Ingress"])
        for obj in grafana_objects(kube_prometheus, grafana).values():
            assert PASSWORD not in json.dumps(obj)

    return pulumi.Output.all(password.is_secret(), secret.urn).apply(check)


@pulumi.runtime.test
def test_transformations_in_a_config_group_before_the_namespace_rename(monitor, kube_prometheus):
    """As MonitoringStack applies them: through ConfigGroup v1, then the namespace rename."""
    grafana = access("Ingress")
    files = [
        str(kube_prometheus.root / f"grafana-{name}.yaml")
        for name in ("deployment", "service", "networkPolicy")
    ]
    group = k8s.yaml.ConfigGroup(
        "demo-grafana",
        files=files,
        transformations=[
            *access_patches(grafana, kube_prometheus),
            partial(rename_namespace, old="monitoring", new="observability"),
        ],
        opts=pulumi.ResourceOptions(provider=k8s.Provider("test-k8s", context="demo")),
    )

    def check(_):
        found = {r.inputs["kind"]: reveal(r.inputs) for r in monitor.mocks.kubernetes_objects()}
        policy = found["NetworkPolicy"]
        assert policy["metadata"]["namespace"] == "observability"
        assert admits(policy, CONTROLLER, 3000) and admits(
            policy, Pod("observability", PROMETHEUS_LABELS), 3000
        )
        assert not admits(policy, PROMETHEUS, 3000)  # Prometheus moved with the rename
        env = found["Deployment"]["spec"]["template"]["spec"]["containers"][0]["env"]
        assert {e["valueFrom"]["secretKeyRef"]["name"] for e in env} == {"grafana-admin"}

    return group.resources.apply(lambda r: pulumi.Output.all(*[x.urn for x in r.values()])).apply(check)


# --- Property tests: each transformation touches its own object only -------------------------------

names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(names, c, max_size=3), max_leaves=8
)
TARGETS = {("Deployment", "grafana"), ("Service", "grafana"), ("NetworkPolicy", "grafana")}
others = st.builds(
    lambda kind, name, body: {
        "apiVersion": "v1",
        "kind": kind,
        "metadata": {"name": name, "namespace": "monitoring"},
        "spec": body,
    },
    st.sampled_from(
        ["Deployment", "Service", "NetworkPolicy", "Secret", "Ingress", "ServiceList", "Prometheus"]
    ),
    st.one_of(names, st.sampled_from(["grafana", "grafana-config", "prometheus-k8s"])),
    st.dictionaries(names, values, max_size=4),
).filter(lambda o: (o["kind"], o["metadata"]["name"]) not in TARGETS)


def cidrs(min_size: int = 0):
    return st.lists(
        st.sampled_from(["10.0.0.0/8", "192.168.7.0/24", "203.0.113.5/32"]),
        min_size=min_size,
        max_size=2,
        unique=True,
    )


label_maps = st.dictionaries(
    st.from_regex(r"[a-z]{1,8}", fullmatch=True),
    st.from_regex(r"[a-z0-9]{1,8}", fullmatch=True),
    min_size=1,
    max_size=2,
)
exposures = st.one_of(
    st.just({}),
    st.builds(lambda port: {"type": "NodePort", "nodePort": port}, st.none() | st.integers(30000, 32767)),
    st.builds(lambda ranges: {"type": "LoadBalancer", "loadBalancerSourceRanges": ranges}, cidrs()),
    st.builds(
        lambda ns, labels: {
            "type": "Ingress",
            "host": "g.example.com",
            "ingressController": {"namespace": ns, "podLabels": labels},
        },
        st.from_regex(r"[a-z]([-a-z0-9]{0,10}[a-z0-9])?", fullmatch=True),
        label_maps,
    ),
    st.builds(
        lambda c: {"type": "Ingress", "host": "g.example.com", "ingressController": {"cidrs": c}},
        cidrs(min_size=1),
    ),
).map(lambda raw: GrafanaExposeSettings.model_validate({k: v for k, v in raw.items() if v is not None}))


def transformations_for(expose: GrafanaExposeSettings, kube_prometheus):
    grafana = GrafanaSettings(admin_user="admin", admin_password=SecretStr(PASSWORD), expose=expose)
    return access_patches(grafana, kube_prometheus)


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(others, exposures)
def test_other_objects_are_untouched(kube_prometheus, obj, expose):
    before = copy.deepcopy(obj)
    for transformation in transformations_for(expose, kube_prometheus):
        transformation(obj)
    assert obj == before


@settings(max_examples=100, deadline=None)
@given(exposures)
def test_lists_are_left_for_their_items(kube_prometheus, expose):
    items = [copy.deepcopy(kube_prometheus.find(kind, name)) for kind, name in sorted(TARGETS)]
    listing = {"apiVersion": "v1", "kind": "List", "items": items}
    before = copy.deepcopy(listing)
    for transformation in transformations_for(expose, kube_prometheus):
        transformation(listing)
    assert listing == before


@settings(max_examples=100, deadline=None)
@given(exposures)
def test_each_target_changes_only_in_its_concern(kube_prometheus, expose):
    found = grafana_objects(
        kube_prometheus,
        GrafanaSettings(admin_user="admin", admin_password=SecretStr(PASSWORD), expose=expose),
    )
    upstream = {kind: kube_prometheus.find(kind, "grafana") for kind in found}
    # Deployment: only the grafana container's env.
    deployment = copy.deepcopy(found["Deployment"])
    deployment["spec"]["template"]["spec"]["containers"][0]["env"] = []
    assert deployment == upstream["Deployment"]
    # Service: type, the http port's nodePort, source ranges, annotations; only when so exposed.
    service = copy.deepcopy(found["Service"])
    if expose.type in ("NodePort", "LoadBalancer"):
        assert service["spec"].pop("type") == expose.type
        assert service["spec"]["ports"][0].pop("nodePort", None) == expose.node_port
        assert service["spec"].pop("loadBalancerSourceRanges", []) == expose.load_balancer_source_ranges
    assert service == upstream["Service"]
    # NetworkPolicy: upstream's rules, plus exactly one for port 3000/TCP when exposed.
    policy = copy.deepcopy(found["NetworkPolicy"])
    added = policy["spec"]["ingress"][len(upstream["NetworkPolicy"]["spec"]["ingress"]) :]
    del policy["spec"]["ingress"][len(upstream["NetworkPolicy"]["spec"]["ingress"]) :]
    assert policy == upstream["NetworkPolicy"]
    assert len(added) == (expose.type != "none")
    for rule in added:
        assert rule["ports"] == [{"port": 3000, "protocol": "TCP"}] and rule["from"]


def test_our_dashboards_read_the_stacks_cluster_label():
    """With `prometheus.clusterLabel` set, every matcher and the cluster variable's query of our
    dashboards name that label; nothing still reads `cluster`."""
    (dashboard,) = [d for d in load_dashboards(DASHBOARDS_DIR) if d.name == "spring-boot-micrometer"]
    relabelled = with_cluster_label(dashboard, "k8s_cluster")
    queries = panel_queries(relabelled)
    assert len(queries) >= 40
    assert all('k8s_cluster=~"$cluster"' in expr for expr in queries.values()), queries
    variables = {v["name"]: v for v in json.loads(relabelled.text)["templating"]["list"]}
    assert variables["cluster"]["definition"] == "label_values(jvm_memory_used_bytes, k8s_cluster)"
    assert not re.search(r"\bcluster=~|, cluster\)", relabelled.text)
    assert with_cluster_label(dashboard, "cluster") == dashboard
