"""The production switches of issue 5 through the whole program and the offline render.

Four renders cover every switch at least once on and once off: the dev stack (every switch off,
storage at its defaults) and three variants built with `write_stack`, whose objects are validated
against the Kubernetes and CRD schemas (those that differ from the dev render's, which
tests/program/test_render_schemas.py validates):
- nodeport: Grafana as a NodePort Service; storage with a StorageClass and claim retention
  policies; explicit retention time and size; resources, nodeSelector and tolerations for
  Prometheus, Alertmanager and Grafana; Alertmanager receivers of every type (`secure:` values,
  which the render passes as the placeholder);
- loadbalancer: Grafana as a LoadBalancer Service; SecurityContextDeny with the storage it rules
  out turned off (so no retentionSize either); the node-exporter addon (`secure:` BOSH
  credentials); monitored apps and the demo app;
- ingress: Grafana behind an Ingress (host, TLS, class, controller by pods and by addresses);
  `platform: upstream`, the negative case of the PKS control-plane patch set.
Plus the issue 3 checks on the dev render: the additional scrape configs, node discovery, and no
kube-scheduler/kube-controller-manager monitors or alerts.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.offline.render import _as_sent, render
from pks_monitoring.settings import PROJECT_ROOT, SECRET_PLACEHOLDER
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom, validate_render

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

SECURE = {"secure": "v1:AAAA-offline-render-placeholder"}
GRAFANA_LOGIN = {"adminUser": "admin", "adminPassword": SECURE}
NS = "k8s/monitoring"

# What the SecurityContextDeny admission plugin rejects (kubernetes plugin/pkg/admission/
# securitycontext/scdeny/admission.go): in a pod's securityContext, and in a container's.
DENIED_IN_POD = {"supplementalGroups", "seLinuxOptions", "runAsUser", "fsGroup"}
DENIED_IN_CONTAINER = {"seLinuxOptions", "runAsUser"}
# Kinds whose pods come from spec.template; Prometheus and Alertmanager: from spec.
POD_TEMPLATES = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}
OPERATED = {"Prometheus", "Alertmanager"}

PLACED = {
    "resources": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": 2, "memory": "2Gi"}},
    "nodeSelector": {"example.com/pool": "monitoring"},
    "tolerations": [{"key": "dedicated", "operator": "Equal", "value": "monitoring", "effect": "NoSchedule"}],
}
PLACED_RESOURCES = {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}
PLACED_NODE_SELECTOR = {"kubernetes.io/os": "linux", "example.com/pool": "monitoring"}
ANY_IPV4 = {"ipBlock": {"cidr": "0.0.0.0/0"}}

NODEPORT = {
    "pks-monitoring:grafana": {
        **GRAFANA_LOGIN,
        **PLACED,
        "expose": {"type": "NodePort", "nodePort": 30300, "annotations": {"example.com/owner": "ops"}},
        "tolerations": [
            {"key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ],
        "storage": {"size": "5Gi", "storageClass": "fast"},
    },
    "pks-monitoring:prometheus": {
        **PLACED,
        "retention": {"time": "30d", "size": "80GB"},
        "storage": {
            "size": "100Gi",
            "storageClass": "fast",
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
        },
    },
    "pks-monitoring:alertmanager": {
        **PLACED,
        "tolerations": [{"operator": "Exists"}],
        "storage": {
            "size": "2Gi",
            "storageClass": "fast",
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Delete"},
        },
        "receivers": [
            {"name": "ops-slack", "type": "slack", "channel": "#alerts", "apiUrl": SECURE},
            {"name": "hook", "type": "webhook", "url": SECURE, "sendResolved": False},
            {
                "name": "mail",
                "type": "email",
                "to": "ops@example.com",
                "from": "am@example.com",
                "smarthost": "smtp.example.com:587",
                "authUsername": "am",
                "authPassword": SECURE,
            },
            {"name": "pager", "type": "pagerduty", "routingKey": SECURE},
            {"name": "pager-v1", "type": "pagerduty", "serviceKey": SECURE},
        ],
        "defaultReceiver": "ops-slack",
        "routes": [
            {"receiver": "pager", "severity": "critical"},
            {"receiver": "hook", "namespace": "shop", "continue": True},
            {"receiver": "mail", "matchers": ['alertname =~ "Kube.*"']},
        ],
        "groupBy": ["namespace", "alertname"],
        "repeatInterval": "4h",
    },
}
LOADBALANCER = {
    "pks-monitoring:grafana": {
        **GRAFANA_LOGIN,
        "storage": {"enabled": False},
        "expose": {"type": "LoadBalancer", "nodePort": 30301, "loadBalancerSourceRanges": ["10.0.0.0/8"]},
    },
    "pks-monitoring:podSecurity": {"securityContextDeny": True},
    "pks-monitoring:prometheus": {"storage": {"enabled": False}, "retention": {"time": "7d"}},
    "pks-monitoring:alertmanager": {"storage": {"enabled": False}},
    "pks-monitoring:nodeExporter": {
        "addon": {
            "enabled": True,
            "rollout": True,
            "bosh": {
                "environment": "https://10.0.0.6:25555",
                "client": "ops_manager",
                "clientSecret": SECURE,
                "caCert": SECURE,
            },
        }
    },
    "pks-monitoring:apps": [
        {"name": "orders", "namespace": "shop", "selector": {"app": "orders"}, "port": "http"}
    ],
    "pks-monitoring:demoApp": {"enabled": True},
}
INGRESS_CONTROLLER = {
    "namespace": "ingress-nginx",
    "podLabels": {"app.kubernetes.io/name": "ingress-nginx"},
    "cidrs": ["192.168.10.0/24"],
}
INGRESS = {
    "pks-monitoring:grafana": {
        **GRAFANA_LOGIN,
        "expose": {
            "type": "Ingress",
            "host": "grafana.example.com",
            "tlsSecretName": "grafana-tls",
            "ingressClassName": "nginx",
            "annotations": {"nginx.ingress.kubernetes.io/ssl-redirect": "true"},
            "ingressController": INGRESS_CONTROLLER,
        },
    },
    "pks-monitoring:platform": "upstream",
}
CONTROL_PLANE_MONITORS = ("kube-scheduler", "kube-controller-manager")
CONTROL_PLANE_ALERTS = {"KubeSchedulerDown", "KubeControllerManagerDown"}


# --- helpers ------------------------------------------------------------------------------------


def read(out: Path, relative: str) -> dict[str, Any]:
    return load_documents((out / relative).read_text())[0]  # JSON as sent, or a Secret's YAML


def rendered_objects(out: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    for path in sorted((out / "k8s").rglob("*.yaml")):
        yield str(path.relative_to(out)), read(out, str(path.relative_to(out)))


def render_variant(write_stack, tmp_path: Path, changes: dict, dev: Path, manifests_dir: Path) -> Path:
    """Renders the dev stack with `changes` and validates every object that differs from the dev
    render's: identical bytes, identical verdict, and tests/program/test_render_schemas.py validates
    the dev render itself."""
    out = tmp_path / "render"
    render(write_stack(changes), out)
    changed = tmp_path / "changed"
    for path in (out / "k8s").rglob("*.yaml"):
        relative = path.relative_to(out)
        if not (dev / relative).is_file() or (dev / relative).read_bytes() != path.read_bytes():
            (changed / relative).parent.mkdir(parents=True, exist_ok=True)
            (changed / relative).write_bytes(path.read_bytes())
    assert (changed / NS / "NetworkPolicy_grafana.yaml").is_file()  # every variant exposes Grafana
    errors = validate_render(changed, manifests_dir)
    assert errors == [], f"{len(errors)} schema errors:\n" + "\n".join(errors[:20])
    return out


def pod_specs(obj: dict[str, Any]) -> list[dict[str, Any]]:
    """The pod spec(s) an object makes: its template's, or (Prometheus, Alertmanager) its spec."""
    if obj.get("kind") in POD_TEMPLATES:
        return [obj["spec"]["template"]["spec"]]
    if obj.get("kind") in OPERATED:
        return [obj["spec"]]
    return []


def security_contexts(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """'pod' and each (init)container by name -> its securityContext ({} when unset)."""
    contexts = {"pod": pod.get("securityContext") or {}}
    for part in ("initContainers", "containers"):
        for container in pod.get(part) or []:
            contexts[f"{part}/{container['name']}"] = container.get("securityContext") or {}
    return contexts


def shipped_contexts(pod: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """security_contexts of an upstream pod as the program means to leave them: as shipped, plus
    the RuntimeDefault seccomp profile on a pod that names none (Pod Security `restricted`)."""
    contexts = security_contexts(pod)
    contexts["pod"] = {"seccompProfile": {"type": "RuntimeDefault"}, **contexts["pod"]}
    return contexts


def denied(pod: dict[str, Any]) -> list[str]:
    """The fields of one pod spec SecurityContextDeny rejects."""
    found = []
    for where, context in security_contexts(pod).items():
        for field in sorted((DENIED_IN_POD if where == "pod" else DENIED_IN_CONTAINER) & set(context)):
            found.append(f"{where}.securityContext.{field}")
    return found


def without_security_contexts(obj: dict[str, Any]) -> dict[str, Any]:
    obj = copy.deepcopy(obj)
    for pod in pod_specs(obj):
        pod.pop("securityContext", None)
        for part in ("initContainers", "containers"):
            for container in pod.get(part) or []:
                container.pop("securityContext", None)
    return obj


def alert_names(out: Path) -> set[str]:
    return {
        rule["alert"]
        for _, obj in rendered_objects(out)
        if obj["kind"] == "PrometheusRule"
        for group in obj["spec"]["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def grafana_policy_with(upstream_policy: dict[str, Any], peers: list[dict[str, Any]]) -> dict[str, Any]:
    """Upstream's grafana NetworkPolicy plus the one rule an exposure adds: Grafana's port from `peers`."""
    expected = copy.deepcopy(upstream_policy)
    expected["spec"]["ingress"].append({"from": peers, "ports": [{"port": 3000, "protocol": "TCP"}]})
    return expected


@pytest.fixture(scope="module")
def upstream(kube_prometheus) -> dict[str, dict[str, Any]]:
    """Upstream objects by '<Kind>/<name>' (the manifests as shipped, namespace `monitoring`)."""
    return {f"{o['kind']}/{o['metadata']['name']}": o for o in kube_prometheus.objects}


@pytest.fixture(scope="module")
def upstream_policy(manifests_dir) -> dict[str, Any]:
    policy = yaml.safe_load((manifests_dir / "grafana-networkPolicy.yaml").read_text())
    assert policy["metadata"]["namespace"] == "monitoring"  # the dev stack's namespace too
    return policy


@pytest.fixture(scope="module")
def dev(tmp_path_factory, manifests_dir) -> Path:
    out = tmp_path_factory.mktemp("matrix") / "dev"
    render(PROJECT_ROOT / "Pulumi.dev.yaml", out)
    return out


# --- dev: every switch off ------------------------------------------------------------------------


def test_dev_has_the_default_storage_and_retention_and_upstream_placement(dev, upstream):
    prometheus = read(dev, f"{NS}/Prometheus_k8s.yaml")["spec"]
    # Every claim of the dev stack is of the class the stack creates for vSphere CSI.
    csi = "pks-monitoring"
    assert read(dev, f"k8s/_cluster/StorageClass_{csi}.yaml")["provisioner"] == "csi.vsphere.vmware.com"
    assert prometheus["storage"] == {
        "volumeClaimTemplate": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "50Gi"}},
                "storageClassName": csi,
            }
        }
    }
    assert "persistentVolumeClaimRetentionPolicy" not in prometheus
    assert prometheus["retention"] == "15d"
    assert prometheus["retentionSize"] == "43520MiB"  # 85% of 50Gi
    for kind, name, relative in (
        ("Prometheus", "k8s", "Prometheus_k8s"),
        ("Alertmanager", "main", "Alertmanager_main"),
    ):
        spec, shipped = read(dev, f"{NS}/{relative}.yaml")["spec"], upstream[f"{kind}/{name}"]["spec"]
        for field in ("resources", "nodeSelector", "tolerations"):
            assert spec.get(field) == shipped.get(field), (kind, field)
    grafana = read(dev, f"{NS}/Deployment_grafana.yaml")["spec"]["template"]["spec"]
    shipped = upstream["Deployment/grafana"]["spec"]["template"]["spec"]
    assert grafana["containers"][0]["resources"] == shipped["containers"][0]["resources"]
    assert "tolerations" not in grafana and grafana["nodeSelector"] == shipped["nodeSelector"]
    assert read(dev, f"{NS}/PersistentVolumeClaim_grafana-storage.yaml")["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "1Gi"}},
        "storageClassName": csi,
    }


def test_dev_grafana_is_not_exposed_and_its_policy_is_upstream_byte_for_byte(dev, upstream, upstream_policy):
    assert (dev / f"{NS}/NetworkPolicy_grafana.yaml").read_text() == _as_sent(upstream_policy)
    assert read(dev, f"{NS}/Service_grafana.yaml")["spec"] == upstream["Service/grafana"]["spec"]
    assert not list(dev.rglob("Ingress_*.yaml"))


def test_dev_security_contexts_are_upstream(dev, upstream):
    """SecurityContextDeny off: every pod's securityContexts as upstream ships them (plus the
    seccomp default), the fields the plugin rejects included (so the check with it on below is
    not vacuous)."""
    compared, rejected = 0, []
    for relative, obj in rendered_objects(dev):
        shipped = upstream.get(f"{obj['kind']}/{obj['metadata']['name']}")
        for pod, shipped_pod in zip(pod_specs(obj), pod_specs(shipped) if shipped else []):
            assert security_contexts(pod) == shipped_contexts(shipped_pod), relative
            compared += 1
            rejected += denied(pod)
    assert compared >= 6  # 4 Deployments (no adapter on TKGI), Prometheus, Alertmanager
    assert {"pod.securityContext.runAsUser", "pod.securityContext.fsGroup"} <= set(rejected)
    assert "containers/grafana.securityContext.runAsUser" not in rejected  # upstream sets it per pod
    assert any(r.startswith("containers/") for r in rejected), rejected


# --- issue 3 on the dev render --------------------------------------------------------------------


def test_prometheus_reads_the_additional_scrape_configs_secret(dev, upstream):
    spec = read(dev, f"{NS}/Prometheus_k8s.yaml")["spec"]
    assert spec["additionalScrapeConfigs"] == {
        "name": "additional-scrape-configs",
        "key": "prometheus-additional.yaml",
    }
    secret = read(dev, f"{NS}/Secret_additional-scrape-configs.yaml")
    assert secret["kind"] == "Secret" and secret["metadata"]["namespace"] == "monitoring"
    assert "additionalScrapeConfigs" not in upstream["Prometheus/k8s"]["spec"]  # ours, not upstream's


def node_rules(cluster_role: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        r for r in cluster_role["rules"] if "" in r.get("apiGroups", []) and "nodes" in r.get("resources", [])
    ]


def test_prometheus_may_list_and_watch_nodes(dev, upstream):
    rules = node_rules(read(dev, "k8s/_cluster/ClusterRole_prometheus-k8s.yaml"))
    assert any({"list", "watch"} <= set(r["verbs"]) for r in rules), rules
    shipped = node_rules(upstream["ClusterRole/prometheus-k8s"])
    assert not any({"list", "watch"} <= set(r["verbs"]) for r in shipped)  # upstream cannot


def test_no_control_plane_monitors_or_alerts_on_pks(dev, upstream):
    for name in CONTROL_PLANE_MONITORS:
        assert f"ServiceMonitor/{name}" in upstream
        assert not (dev / f"{NS}/ServiceMonitor_{name}.yaml").exists(), name
    alerts = alert_names(dev)
    assert not alerts & CONTROL_PLANE_ALERTS
    assert {"KubeletDown", "KubeAPIDown", "NodeFilesystemAlmostOutOfSpace"} <= alerts  # the rest stays


# --- the variants -----------------------------------------------------------------------------


def test_nodeport_storage_retention_placement_and_receivers(
    write_stack, tmp_path, manifests_dir, upstream_policy, dev
):
    out = render_variant(write_stack, tmp_path, NODEPORT, dev, manifests_dir)

    prometheus = read(out, f"{NS}/Prometheus_k8s.yaml")["spec"]
    assert prometheus["storage"] == {
        "volumeClaimTemplate": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "100Gi"}},
                "storageClassName": "fast",
            }
        }
    }
    assert prometheus["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Retain",
    }
    assert (prometheus["retention"], prometheus["retentionSize"]) == ("30d", "80GB")
    assert prometheus["resources"] == PLACED_RESOURCES
    assert prometheus["nodeSelector"] == PLACED_NODE_SELECTOR
    assert prometheus["tolerations"] == PLACED["tolerations"]

    alertmanager = read(out, f"{NS}/Alertmanager_main.yaml")["spec"]
    assert alertmanager["storage"]["volumeClaimTemplate"]["spec"]["storageClassName"] == "fast"
    assert alertmanager["storage"]["volumeClaimTemplate"]["spec"]["resources"] == {
        "requests": {"storage": "2Gi"}
    }
    assert alertmanager["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Delete",
    }
    assert (alertmanager["resources"], alertmanager["nodeSelector"]) == (
        PLACED_RESOURCES,
        PLACED_NODE_SELECTOR,
    )
    assert alertmanager["tolerations"] == [{"operator": "Exists"}]

    grafana = read(out, f"{NS}/Deployment_grafana.yaml")["spec"]
    pod = grafana["template"]["spec"]
    assert grafana["strategy"] == {"type": "Recreate"}
    assert {"name": "grafana-storage", "persistentVolumeClaim": {"claimName": "grafana-storage"}} in pod[
        "volumes"
    ]
    assert next(c for c in pod["containers"] if c["name"] == "grafana")["resources"] == PLACED_RESOURCES
    assert pod["nodeSelector"] == PLACED_NODE_SELECTOR
    assert pod["tolerations"] == [
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ]
    assert read(out, f"{NS}/PersistentVolumeClaim_grafana-storage.yaml")["spec"] == {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": "5Gi"}},
        "storageClassName": "fast",
    }

    service = read(out, f"{NS}/Service_grafana.yaml")
    assert service["spec"]["type"] == "NodePort"
    assert service["spec"]["ports"] == [
        {"name": "http", "port": 3000, "targetPort": "http", "nodePort": 30300}
    ]
    assert service["metadata"]["annotations"] == {"example.com/owner": "ops"}
    # Exposed: exactly one more rule, from wherever kube-proxy's masqueraded node-port traffic comes.
    assert read(out, f"{NS}/NetworkPolicy_grafana.yaml") == grafana_policy_with(upstream_policy, [ANY_IPV4])

    # The receivers' `secure:` values went in as the placeholder and stand where they are in the
    # config, shown in full (its content is amtool's to judge: tests/components/test_alertmanager_config.py).
    text = read(out, f"{NS}/Secret_alertmanager-main.yaml")["stringData"]["alertmanager.yaml"]
    integrations = {r["name"]: r for r in yaml.safe_load(text)["receivers"]}
    assert [
        integrations[name][f"{kind}_configs"][0][field]
        for name, kind, field in [
            ("ops-slack", "slack", "api_url"),
            ("hook", "webhook", "url"),
            ("mail", "email", "auth_password"),
            ("pager", "pagerduty", "routing_key"),
            ("pager-v1", "pagerduty", "service_key"),
        ]
    ] == [SECRET_PLACEHOLDER] * 5
    assert integrations["ops-slack"]["slack_configs"][0]["channel"] == "#alerts"


def test_a_retention_size_the_crd_refuses_is_caught(dev, manifests_dir):
    # The negative case of the schema check for what the variants set: a wrong size unit.
    prometheus = read(dev, f"{NS}/Prometheus_k8s.yaml")
    schemas = crd_schemas(manifests_dir)
    assert validate_custom(prometheus, schemas) == []
    prometheus["spec"]["retentionSize"] = "10Gb"
    assert any(e.startswith("spec.retentionSize:") for e in validate_custom(prometheus, schemas))


def test_loadbalancer_security_context_deny_addon_and_apps(
    write_stack, tmp_path, manifests_dir, upstream, upstream_policy, dev
):
    out = render_variant(write_stack, tmp_path, LOADBALANCER, dev, manifests_dir)

    # Storage off: emptyDir everywhere, no claim, and no retentionSize without a volume to fit.
    prometheus = read(out, f"{NS}/Prometheus_k8s.yaml")["spec"]
    assert "storage" not in prometheus and "retentionSize" not in prometheus
    assert prometheus["retention"] == "7d"
    assert "storage" not in read(out, f"{NS}/Alertmanager_main.yaml")["spec"]
    grafana_pod = read(out, f"{NS}/Deployment_grafana.yaml")["spec"]["template"]["spec"]
    shipped_volume = next(
        v
        for v in upstream["Deployment/grafana"]["spec"]["template"]["spec"]["volumes"]
        if v["name"] == "grafana-storage"
    )
    assert next(v for v in grafana_pod["volumes"] if v["name"] == "grafana-storage") == shipped_volume
    assert not list(out.rglob("PersistentVolumeClaim_*.yaml"))

    service = read(out, f"{NS}/Service_grafana.yaml")["spec"]
    assert (service["type"], service["loadBalancerSourceRanges"]) == ("LoadBalancer", ["10.0.0.0/8"])
    assert service["ports"][0]["nodePort"] == 30301
    assert read(out, f"{NS}/NetworkPolicy_grafana.yaml") == grafana_policy_with(upstream_policy, [ANY_IPV4])

    # SecurityContextDeny: no pod the render makes carries what the plugin rejects ...
    pods = [(relative, pod) for relative, obj in rendered_objects(out) for pod in pod_specs(obj)]
    assert len(pods) >= 7  # 4 Deployments, Prometheus, Alertmanager, the demo app
    for relative, pod in pods:
        assert denied(pod) == [], relative
    # ... and every other field stays as upstream has it (runAsNonRoot may go with the user it
    # was checked against).
    for relative, obj in rendered_objects(out):
        shipped = upstream.get(f"{obj['kind']}/{obj['metadata']['name']}")
        for pod, shipped_pod in zip(pod_specs(obj), pod_specs(shipped) if shipped else []):
            now, before = security_contexts(pod), shipped_contexts(shipped_pod)
            assert set(now) == set(before), relative
            for where, context in before.items():
                cut = DENIED_IN_POD if where == "pod" else DENIED_IN_CONTAINER
                kept = {k: v for k, v in context.items() if k not in cut | {"runAsNonRoot"}}
                assert {k: v for k, v in now[where].items() if k != "runAsNonRoot"} == kept, (relative, where)
                assert set(now[where]) <= set(context), (relative, where)
    # Objects no other switch of this variant touches differ from dev in their securityContexts only.
    cut = 0
    for name in ("blackbox-exporter", "kube-state-metrics", "prometheus-operator"):
        relative = f"{NS}/Deployment_{name}.yaml"
        before, now = read(dev, relative), read(out, relative)
        assert without_security_contexts(now) == without_security_contexts(before), relative
        assert (now != before) == bool(denied(pod_specs(before)[0])), relative  # changed where it must
        cut += now != before
    assert cut == 3

    # The addon's roll-out command, the demo app and the monitored apps.
    assert (
        json.loads((out / "outputs.json").read_text())["rolloutCommand"]
        == "tkgi upgrade-cluster demo --non-interactive --wait"
    )
    for relative in (
        "k8s/hello/Deployment_hello-pks.yaml",
        "k8s/hello/ServiceMonitor_hello-pks.yaml",
        "k8s/shop/ServiceMonitor_orders.yaml",
    ):
        assert (out / relative).is_file(), relative


def test_ingress_and_upstream_platform(write_stack, tmp_path, manifests_dir, upstream_policy, dev):
    out = render_variant(write_stack, tmp_path, INGRESS, dev, manifests_dir)

    ingress = read(out, f"{NS}/Ingress_grafana.yaml")
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
    assert ingress["metadata"]["annotations"] == {"nginx.ingress.kubernetes.io/ssl-redirect": "true"}
    broken = copy.deepcopy(ingress)
    broken["spec"]["rules"][0]["http"]["paths"][0]["pathType"] = 7
    assert validate_core(ingress) == [] and validate_core(broken)
    # The Service stays as upstream ships it; the policy admits the controller and nothing else new.
    assert read(out, f"{NS}/Service_grafana.yaml") == read(dev, f"{NS}/Service_grafana.yaml")
    controller = [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}},
            "podSelector": {"matchLabels": {"app.kubernetes.io/name": "ingress-nginx"}},
        },
        {"ipBlock": {"cidr": "192.168.10.0/24"}},
    ]
    policy_text = (out / f"{NS}/NetworkPolicy_grafana.yaml").read_text()
    assert policy_text != _as_sent(upstream_policy)
    assert json.loads(policy_text) == grafana_policy_with(upstream_policy, controller)

    # platform: upstream keeps what the pks patch set drops (the negative case of issue 3's check).
    for name in CONTROL_PLANE_MONITORS:
        assert (out / f"{NS}/ServiceMonitor_{name}.yaml").is_file(), name
    assert alert_names(out) >= CONTROL_PLANE_ALERTS
