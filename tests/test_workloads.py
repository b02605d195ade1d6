"""Storage, retention, placement and SecurityContextDeny as plain functions on the upstream
manifests: what each changes, that it changes nothing else, and that the result still validates
against the Kubernetes and CRD schemas."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pks_monitoring.parts import grafana, stack_parts
from pks_monitoring.parts.grafana import use_grafana_claim
from pks_monitoring.parts.part import StackInputs
from pks_monitoring.parts.pod_security import deny_security_context
from pks_monitoring.parts.prometheus import set_retention
from pks_monitoring.settings import Settings
from pks_monitoring.upstream import KubePrometheus
from pks_monitoring.workloads import set_placement, use_volume_claim_template
from tests.conftest import UPSTREAM
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom
from tests.helpers.settings import BASE

ON = {
    "prometheus": {
        "storage": {
            "size": "100Gi",
            "storageClass": "thin-disk",
            "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Delete", "whenScaled": "Retain"},
        },
        "retention": {"time": "30d", "size": "80GB"},
        "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}, "limits": {"memory": "4Gi"}},
        "nodeSelector": {"node.kubernetes.io/role": "infra"},
        "tolerations": [
            {"key": "dedicated", "operator": "Equal", "value": "monitoring", "effect": "NoSchedule"}
        ],
    },
    "alertmanager": {
        "storage": {"size": "2Gi", "persistentVolumeClaimRetentionPolicy": {"whenScaled": "Delete"}},
        "resources": {
            "requests": {"cpu": "10m", "memory": "64Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
        "tolerations": [{"operator": "Exists"}],
    },
    "grafana": {
        "storage": {"size": "5Gi", "storageClass": "thin-disk"},
        "resources": {"requests": {"cpu": 1, "memory": "256Mi"}},
        "nodeSelector": {"node.kubernetes.io/role": "infra"},
        "tolerations": [
            {"key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
        ],
    },
}
OFF = {app: {"storage": {"enabled": False}} for app in ("prometheus", "alertmanager", "grafana")}
TARGETS = {("Prometheus", "k8s"), ("Alertmanager", "main"), ("Deployment", "grafana")}


# The patches of storage, retention, placement and SecurityContextDeny, whichever part applies them.
WORKLOAD_PATCHES = {
    set_retention,
    set_placement,
    use_volume_claim_template,
    use_grafana_claim,
    deny_security_context,
}


def workloads(raw: dict) -> Settings:
    """The settings with prometheus, alertmanager and grafana from `raw`, and
    podSecurity.securityContextDeny from its securityContextDeny."""
    config = {f"pks-monitoring:{part}": value for part, value in raw.items() if part != "securityContextDeny"}
    grafana_login = {"adminPassword": "x-grafana"}
    config["pks-monitoring:grafana"] = {**grafana_login, **config.get("pks-monitoring:grafana", {})}
    if "securityContextDeny" in raw:
        config["pks-monitoring:podSecurity"] = {"securityContextDeny": raw["securityContextDeny"]}
    return Settings.from_raw({**BASE, **config})


def workload_patches(settings: Settings, kube_prometheus: KubePrometheus) -> list:
    """The storage, retention, placement and SecurityContextDeny patches of every part, in the
    order the stack applies them."""
    inputs = StackInputs(settings, kube_prometheus)
    patches = [patch for part in stack_parts(inputs) for patch in part.patches(inputs)]
    return [patch for patch in patches if getattr(patch, "func", patch) in WORKLOAD_PATCHES]


def grafana_claims(settings: Settings, kube_prometheus: KubePrometheus) -> list[dict[str, Any]]:
    """The PersistentVolumeClaims the grafana part adds."""
    added = grafana.objects(StackInputs(settings, kube_prometheus))
    return [a.manifest for a in added if a.manifest["kind"] == "PersistentVolumeClaim"]


def transformed(kube_prometheus, raw: dict) -> list[dict[str, Any]]:
    """Deep copies of every upstream object after the transformations `raw` calls for."""
    transformations = workload_patches(workloads(raw), kube_prometheus)
    objects = copy.deepcopy(list(kube_prometheus.objects))
    for obj in objects:
        for transformation in transformations:
            transformation(obj)
    return objects


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def dumps(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


@pytest.fixture(scope="module")
def schemas(manifests_dir):
    return crd_schemas(manifests_dir)


# --- storage ------------------------------------------------------------------------------------


def test_prometheus_and_alertmanager_get_claim_templates(kube_prometheus):
    objects = transformed(kube_prometheus, ON)
    prometheus = find(objects, "Prometheus", "k8s")["spec"]
    assert prometheus["storage"] == {
        "volumeClaimTemplate": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "100Gi"}},
                "storageClassName": "thin-disk",
            }
        }
    }
    assert prometheus["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Delete",
        "whenScaled": "Retain",
    }
    alertmanager = find(objects, "Alertmanager", "main")["spec"]
    # No storageClass of its own: the stack's (BASE: storage.storageClass thin).
    assert alertmanager["storage"] == {
        "volumeClaimTemplate": {
            "spec": {
                "accessModes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": "2Gi"}},
                "storageClassName": "thin",
            }
        }
    }
    assert alertmanager["persistentVolumeClaimRetentionPolicy"] == {
        "whenDeleted": "Retain",
        "whenScaled": "Delete",
    }


def test_claim_retention_policy_is_left_to_kubernetes_unless_set(kube_prometheus):
    objects = transformed(kube_prometheus, {})
    for kind, name in (("Prometheus", "k8s"), ("Alertmanager", "main")):
        spec = find(objects, kind, name)["spec"]
        assert "volumeClaimTemplate" in spec["storage"]
        assert "persistentVolumeClaimRetentionPolicy" not in spec


def test_storage_off_leaves_emptydirs(kube_prometheus):
    objects = transformed(kube_prometheus, OFF)
    for kind, name in (("Prometheus", "k8s"), ("Alertmanager", "main")):
        assert "storage" not in find(objects, kind, name)["spec"]
    assert find(objects, "Deployment", "grafana") == kube_prometheus.find("Deployment", "grafana")


def test_grafana_storage_becomes_the_claim(kube_prometheus):
    upstream = kube_prometheus.find("Deployment", "grafana")
    upstream_volumes = upstream["spec"]["template"]["spec"]["volumes"]
    assert {"name": "grafana-storage", "emptyDir": {}} in upstream_volumes
    grafana = copy.deepcopy(upstream)
    use_grafana_claim(grafana, claim="grafana-storage")
    volumes = grafana["spec"]["template"]["spec"]["volumes"]
    assert [v for v in volumes if v["name"] == "grafana-storage"] == [
        {"name": "grafana-storage", "persistentVolumeClaim": {"claimName": "grafana-storage"}}
    ]
    assert [v for v in volumes if v["name"] != "grafana-storage"] == [
        v for v in upstream_volumes if v["name"] != "grafana-storage"
    ]
    assert grafana["spec"]["strategy"] == {"type": "Recreate"}
    # The mount at /var/lib/grafana is upstream's, now backed by the claim.
    assert (
        grafana["spec"]["template"]["spec"]["containers"]
        == upstream["spec"]["template"]["spec"]["containers"]
    )

    other = copy.deepcopy(kube_prometheus.find("Deployment", "kube-state-metrics"))
    before = copy.deepcopy(other)
    use_grafana_claim(other, claim="grafana-storage")
    assert other == before


def test_grafana_pvc(kube_prometheus):
    claim = grafana.grafana_claim("observability", workloads(ON).grafana)
    assert claim == {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": "grafana-storage",
            "namespace": "observability",
            "labels": {
                "app.kubernetes.io/component": "grafana",
                "app.kubernetes.io/name": "grafana",
                "app.kubernetes.io/part-of": "kube-prometheus",
            },
        },
        "spec": {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": "5Gi"}},
            "storageClassName": "thin-disk",
        },
    }
    # The claim's labels are those Grafana's own objects carry.
    labels = kube_prometheus.find("Deployment", "grafana")["metadata"]["labels"]
    assert claim["metadata"]["labels"].items() <= labels.items()
    assert "storageClassName" not in grafana.grafana_claim("monitoring", workloads({}).grafana)["spec"]
    assert grafana_claims(workloads(OFF), kube_prometheus) == []
    assert len(grafana_claims(workloads({}), kube_prometheus)) == 1


# --- retention ----------------------------------------------------------------------------------


def test_retention_defaults_to_15d_and_85_percent_of_the_volume(kube_prometheus):
    spec = find(transformed(kube_prometheus, {}), "Prometheus", "k8s")["spec"]
    assert "retention" not in kube_prometheus.find("Prometheus", "k8s")["spec"]  # operator: 24h
    assert (spec["retention"], spec["retentionSize"]) == ("15d", "43520MiB")  # 0.85 * 50Gi
    # Without a volume there is no size to keep under: time only.
    spec = find(transformed(kube_prometheus, OFF), "Prometheus", "k8s")["spec"]
    assert spec["retention"] == "15d" and "retentionSize" not in spec
    spec = find(transformed(kube_prometheus, ON), "Prometheus", "k8s")["spec"]
    assert (spec["retention"], spec["retentionSize"]) == ("30d", "80GB")


def test_retention_is_for_prometheus_k8s_only(kube_prometheus):
    alertmanager = copy.deepcopy(kube_prometheus.find("Alertmanager", "main"))
    before = copy.deepcopy(alertmanager)
    set_retention(alertmanager, time="30d", size="1GB")
    assert alertmanager == before


# --- placement and size -------------------------------------------------------------------------


def test_placement_of_prometheus_and_alertmanager(kube_prometheus):
    objects = transformed(kube_prometheus, ON)
    prometheus = find(objects, "Prometheus", "k8s")["spec"]
    assert prometheus["resources"] == {
        "requests": {"cpu": "500m", "memory": "2Gi"},
        "limits": {"memory": "4Gi"},
    }
    assert prometheus["nodeSelector"] == {"kubernetes.io/os": "linux", "node.kubernetes.io/role": "infra"}
    assert prometheus["tolerations"] == [
        {"key": "dedicated", "operator": "Equal", "value": "monitoring", "effect": "NoSchedule"}
    ]
    alertmanager = find(objects, "Alertmanager", "main")["spec"]
    assert alertmanager["resources"] == {
        "requests": {"cpu": "10m", "memory": "64Mi"},
        "limits": {"cpu": "200m", "memory": "128Mi"},
    }
    assert alertmanager["nodeSelector"] == {"kubernetes.io/os": "linux"}  # none set: upstream's
    assert alertmanager["tolerations"] == [{"operator": "Exists"}]


def test_placement_of_grafana(kube_prometheus):
    grafana = find(transformed(kube_prometheus, ON), "Deployment", "grafana")
    pod = grafana["spec"]["template"]["spec"]
    assert pod["containers"][0]["name"] == "grafana"
    assert pod["containers"][0]["resources"] == {"requests": {"cpu": "1", "memory": "256Mi"}}
    assert pod["nodeSelector"] == {"kubernetes.io/os": "linux", "node.kubernetes.io/role": "infra"}
    assert pod["tolerations"] == [
        {"key": "dedicated", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 300}
    ]
    assert "resources" not in grafana["spec"]  # on the container, not the Deployment


def test_unset_placement_keeps_upstreams(kube_prometheus):
    objects = transformed(kube_prometheus, OFF)
    for kind, name in (("Prometheus", "k8s"), ("Alertmanager", "main")):
        spec, upstream = find(objects, kind, name)["spec"], kube_prometheus.find(kind, name)["spec"]
        for field in ("resources", "nodeSelector", "tolerations"):
            assert spec.get(field) == upstream.get(field), (kind, field)


# --- schema validation, features on and off -----------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("raw", [ON, OFF, {}], ids=["on", "off", "defaults"])
def test_transformed_objects_validate(kube_prometheus, schemas, raw):
    objects = transformed(kube_prometheus, raw)
    for kind, name in (("Prometheus", "k8s"), ("Alertmanager", "main")):
        assert validate_custom(find(objects, kind, name), schemas) == [], kind
    assert validate_core(find(objects, "Deployment", "grafana")) == []
    claim = grafana.grafana_claim("monitoring", workloads(raw).grafana)
    assert claim is None or validate_core(claim) == []


def test_schema_validation_catches_a_bad_claim_template(kube_prometheus, schemas):
    # The checks above can fail: a misspelt field in the claim template or the claim is refused.
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    claim = {"accesModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}
    use_volume_claim_template(prometheus, kind="Prometheus", name="k8s", claim=claim, retention_policy=None)
    assert validate_custom(prometheus, schemas) != []
    pvc = grafana.grafana_claim("monitoring", workloads({}).grafana)
    pvc["spec"]["storageClass"] = "thin-disk"
    assert validate_core(pvc) != []


# --- SecurityContextDeny ------------------------------------------------------------------------


def pod_specs(obj: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pod specs of an object as the admission plugin will see them."""
    if obj.get("kind") in ("Prometheus", "Alertmanager"):
        yield obj["spec"]
    elif isinstance((obj.get("spec") or {}).get("template"), dict):
        yield obj["spec"]["template"]["spec"]


def rejected(pod: dict[str, Any]) -> list[str]:
    """What SecurityContextDeny's Validate() refuses in a pod spec (written from its source,
    independently of the transformation)."""
    found = [
        f"securityContext.{f}"
        for f in ("supplementalGroups", "seLinuxOptions", "runAsUser", "fsGroup")
        if f in (pod.get("securityContext") or {})
    ]
    for container in pod.get("initContainers", []) + pod.get("containers", []):
        context = container.get("securityContext") or {}
        found += [
            f"{container['name']}.securityContext.{f}"
            for f in ("seLinuxOptions", "runAsUser")
            if f in context
        ]
    return found


def effective(pod: dict[str, Any], container: dict[str, Any], field: str) -> Any:
    return (container.get("securityContext") or {}).get(field, (pod.get("securityContext") or {}).get(field))


def test_security_context_deny_leaves_nothing_the_plugin_rejects(kube_prometheus):
    upstream_pods = [pod for obj in kube_prometheus.objects for pod in pod_specs(obj)]
    assert len(upstream_pods) >= 8  # 6 Deployments/DaemonSets, Prometheus, Alertmanager
    assert sum(1 for pod in upstream_pods if rejected(pod)) >= 6  # what the plugin refuses today

    objects = transformed(kube_prometheus, {"securityContextDeny": True, **OFF})
    pods = [(obj["metadata"]["name"], pod) for obj in objects for pod in pod_specs(obj)]
    assert len(pods) == len(upstream_pods)
    assert {name: rejected(pod) for name, pod in pods if rejected(pod)} == {}


def test_security_context_deny_keeps_what_the_plugin_allows(kube_prometheus):
    objects = transformed(kube_prometheus, {"securityContextDeny": True, **OFF})
    grafana = find(objects, "Deployment", "grafana")["spec"]["template"]["spec"]
    assert grafana["securityContext"] == {"runAsGroup": 65534}
    assert (
        grafana["containers"][0]["securityContext"]
        == (
            kube_prometheus.find("Deployment", "grafana")["spec"]["template"]["spec"]["containers"][0][
                "securityContext"
            ]
        )
    )
    operator = find(objects, "Deployment", "prometheus-operator")["spec"]["template"]["spec"]
    assert operator["securityContext"] == {"runAsGroup": 65534, "seccompProfile": {"type": "RuntimeDefault"}}
    # prometheus-adapter sets runAsNonRoot without runAsUser (its image's user is numeric): untouched.
    adapter = "prometheus-adapter"
    assert find(objects, "Deployment", adapter) == kube_prometheus.find("Deployment", adapter)
    assert find(objects, "Prometheus", "k8s")["spec"]["securityContext"] == {}


def test_security_context_deny_never_leaves_an_unverifiable_run_as_non_root(kube_prometheus):
    # The kubelet refuses a container whose effective runAsNonRoot it cannot check: no runAsUser
    # and an image USER given by name. After the cut, runAsNonRoot stays only where upstream
    # already did without a runAsUser (and so relies on a numeric image user).
    objects = transformed(kube_prometheus, {"securityContextDeny": True, **OFF})
    for obj in objects:
        for pod in pod_specs(obj):
            upstream_pod = next(pod_specs(kube_prometheus.find(obj["kind"], obj["metadata"]["name"])))
            upstream_containers = {c["name"]: c for c in upstream_pod.get("containers", [])}
            for container in pod.get("containers", []):
                if effective(pod, container, "runAsNonRoot"):
                    upstream = upstream_containers[container["name"]]
                    assert effective(upstream_pod, upstream, "runAsUser") is None, container["name"]


def test_security_context_deny_off_leaves_upstream_values_untouched(kube_prometheus):
    transformations = workload_patches(workloads({}), kube_prometheus)
    assert deny_security_context not in transformations
    objects = transformed(kube_prometheus, {})
    for obj, upstream in zip(objects, kube_prometheus.objects):
        key = (obj["kind"], obj["metadata"]["name"])
        if key not in TARGETS:
            assert dumps(obj) == dumps(upstream), key
            continue
        for pod, upstream_pod in zip(pod_specs(obj), pod_specs(upstream)):
            assert dumps(pod.get("securityContext")) == dumps(upstream_pod.get("securityContext")), key
            assert dumps([c.get("securityContext") for c in pod.get("containers", [])]) == dumps(
                [c.get("securityContext") for c in upstream_pod.get("containers", [])]
            ), key


def test_security_context_deny_on_strips_the_unverifiable_check_from_a_container():
    # A container whose runAsUser goes loses its runAsNonRoot with it, as does the pod's;
    # a sibling that never named a user keeps its own.
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {
            "template": {
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "seLinuxOptions": {"level": "s0"},
                        "supplementalGroups": [1],
                    },
                    "initContainers": [
                        {"name": "init", "securityContext": {"runAsUser": 10, "runAsNonRoot": True}}
                    ],
                    "containers": [
                        {"name": "a", "securityContext": {"runAsNonRoot": True, "privileged": False}}
                    ],
                }
            }
        },
    }
    deny_security_context(deployment)
    assert deployment["spec"]["template"]["spec"] == {
        "securityContext": {},
        "initContainers": [{"name": "init", "securityContext": {}}],
        "containers": [{"name": "a", "securityContext": {"runAsNonRoot": True, "privileged": False}}],
    }


# --- property tests: each transformation touches only its objects --------------------------------

names = st.from_regex(r"[a-z][a-z0-9-]{0,8}", fullmatch=True)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
values = st.one_of(scalars, st.dictionaries(names, scalars, max_size=2), st.lists(scalars, max_size=2))
kinds = st.sampled_from(
    ["Prometheus", "Alertmanager", "Deployment", "DaemonSet", "StatefulSet", "ConfigMap", "Service"]
)
object_names = st.sampled_from(["k8s", "main", "grafana", "kube-state-metrics"])
security_fields = st.sampled_from(
    [
        "runAsUser",
        "runAsGroup",
        "runAsNonRoot",
        "fsGroup",
        "supplementalGroups",
        "seLinuxOptions",
        "seccompProfile",
        "readOnlyRootFilesystem",
    ]
)
security_contexts = st.dictionaries(security_fields, values, max_size=5)
containers = st.builds(
    lambda name, context, body: {**body, "name": name, "securityContext": context},
    st.one_of(st.just("grafana"), names),
    security_contexts,
    st.dictionaries(names, values, max_size=2),
)
pods = st.builds(
    lambda context, inits, main, body: {
        **body,
        "securityContext": context,
        "initContainers": inits,
        "containers": main,
    },
    security_contexts,
    st.lists(containers, max_size=2),
    st.lists(containers, min_size=1, max_size=3),
    st.dictionaries(names, values, max_size=2),
)


@st.composite
def objects(draw):
    kind, name = draw(kinds), draw(object_names)
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": "monitoring"}}
    if kind in ("Deployment", "DaemonSet", "StatefulSet"):
        obj["spec"] = {**draw(st.dictionaries(names, values, max_size=2)), "template": {"spec": draw(pods)}}
    elif kind in ("Prometheus", "Alertmanager"):
        obj["spec"] = draw(pods)
    else:
        obj["spec"] = draw(st.dictionaries(names, values, max_size=4))
    return obj


def changes(before: Any, after: Any, path: tuple = ()) -> list[tuple]:
    """The paths where `after` differs from `before`."""
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            c
            for key in before.keys() | after.keys()
            for c in changes(before.get(key, KeyError), after.get(key, KeyError), (*path, key))
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [c for i, (b, a) in enumerate(zip(before, after)) for c in changes(b, a, (*path, i))]
    return [] if before == after else [path]


# The fields each target's transformations own (paths from the object's root).
_CR_FIELDS = ("storage", "persistentVolumeClaimRetentionPolicy", "resources", "nodeSelector", "tolerations")
OWNED = {
    ("Prometheus", "k8s"): {("spec", f) for f in (*_CR_FIELDS, "retention", "retentionSize")},
    ("Alertmanager", "main"): {("spec", f) for f in _CR_FIELDS},
    ("Deployment", "grafana"): {("spec", "strategy")}
    | {("spec", "template", "spec", f) for f in ("nodeSelector", "tolerations", "volumes")},
}


def owned(obj: dict[str, Any], path: tuple) -> bool:
    key = (obj["kind"], obj["metadata"]["name"])
    if any(path[: len(prefix)] == prefix for prefix in OWNED.get(key, ())):
        return True
    # The grafana container's resources.
    if key == ("Deployment", "grafana") and path[:4] == ("spec", "template", "spec", "containers"):
        return (
            path[5:] == ("resources",)
            and obj["spec"]["template"]["spec"]["containers"][path[4]]["name"] == "grafana"
        )
    return False


ALL_ON = workload_patches(workloads(ON), KubePrometheus.open(UPSTREAM))


@pytest.mark.slow
@hypothesis_settings(max_examples=150)
@given(objects())
def test_storage_retention_and_placement_touch_only_their_fields(obj):
    before = copy.deepcopy(obj)
    for transformation in ALL_ON:
        transformation(obj)
    assert [path for path in changes(before, obj) if not owned(obj, path)] == []


@pytest.mark.slow
@hypothesis_settings(max_examples=100)
@given(objects())
def test_grafana_claim_touches_only_the_grafana_deployment(obj):
    before = copy.deepcopy(obj)
    use_grafana_claim(obj, claim="grafana-storage")
    if (before["kind"], before["metadata"]["name"]) != ("Deployment", "grafana"):
        assert obj == before
    else:
        assert {path[:1] for path in changes(before, obj)} <= {("spec",)}
        assert obj["spec"]["strategy"] == {"type": "Recreate"}


@pytest.mark.slow
@hypothesis_settings(max_examples=200)
@given(objects())
def test_security_context_deny_removes_only_security_context_fields(obj):
    before = copy.deepcopy(obj)
    deny_security_context(obj)
    for pod in pod_specs(obj):
        assert rejected(pod) == []
    removable = {"supplementalGroups", "seLinuxOptions", "runAsUser", "fsGroup", "runAsNonRoot"}
    for path in changes(before, obj):
        # Only removals, only of these fields, only inside a securityContext.
        assert path[-1] in removable and path[-2] == "securityContext", path
        if path[-1] == "runAsNonRoot":  # it goes only with the user it was checked against
            assert "runAsUser" in json.dumps(before), path
    if obj["kind"] not in ("Deployment", "DaemonSet", "StatefulSet", "Prometheus", "Alertmanager"):
        assert obj == before


def test_lists_are_left_for_their_items(kube_prometheus):
    items = [copy.deepcopy(kube_prometheus.find("Deployment", "grafana"))]
    listing = {"apiVersion": "v1", "kind": "DeploymentList", "items": items}
    before = copy.deepcopy(listing)
    for transformation in workload_patches(workloads({**ON, "securityContextDeny": False}), kube_prometheus):
        transformation(listing)
    deny_security_context(listing)
    assert listing == before
