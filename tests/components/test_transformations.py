"""The manifest transformations as plain functions on dicts, no Pulumi involved."""
from __future__ import annotations

import copy
from functools import partial

import yaml
from hypothesis import given, settings, strategies as st

from components import transformations as t


def manifest(kind="ConfigMap", name="x", namespace="monitoring", labels=None, **top):
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    if labels:
        obj["metadata"]["labels"] = labels
    obj.update(top)
    return obj


def test_set_replicas_changes_only_the_named_object(kube_prometheus):
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    t.set_replicas(prometheus, kind="Prometheus", name="k8s", replicas=1)
    assert prometheus["spec"]["replicas"] == 1
    other = copy.deepcopy(kube_prometheus.find("Alertmanager", "main"))
    before = copy.deepcopy(other)
    t.set_replicas(other, kind="Prometheus", name="k8s", replicas=1)
    assert other == before


def test_a_single_replica_loses_its_disruption_budget_and_two_keep_it(kube_prometheus):
    budget = kube_prometheus.find("PodDisruptionBudget", "prometheus-k8s")
    assert budget["spec"]["minAvailable"] == 1  # upstream's: no eviction at all with one pod
    one = copy.deepcopy(budget)
    t.drop_disruption_budget(one, name="prometheus-k8s", replicas=1)
    assert one == {"apiVersion": "v1", "kind": "List", "items": []}
    two = copy.deepcopy(budget)
    t.drop_disruption_budget(two, name="prometheus-k8s", replicas=2)
    assert two == budget


def test_drop_disruption_budget_leaves_other_budgets_and_kinds_alone(kube_prometheus):
    others = [copy.deepcopy(kube_prometheus.find("PodDisruptionBudget", "prometheus-adapter")),
              copy.deepcopy(kube_prometheus.find("Prometheus", "k8s")),
              manifest(kind="ConfigMap", name="prometheus-k8s")]
    for obj in others:
        before = copy.deepcopy(obj)
        t.drop_disruption_budget(obj, name="prometheus-k8s", replicas=1)
        assert obj == before


def adapter_rules(config_map: dict) -> dict:
    return yaml.safe_load(config_map["data"]["config.yaml"])["resourceRules"]


def test_adapter_reads_node_cpu_by_instance_as_it_reads_node_memory(kube_prometheus):
    upstream = kube_prometheus.find("ConfigMap", "adapter-config")
    before = adapter_rules(upstream)
    assert "on(namespace, pod)" in before["cpu"]["nodeQuery"]  # the join BOSH VMs cannot satisfy
    patched = copy.deepcopy(upstream)
    t.adapter_reads_nodes_by_instance(patched)
    after = adapter_rules(patched)
    assert after["cpu"]["resources"]["overrides"] == {
        "instance": {"resource": "node"}, "namespace": {"resource": "namespace"}, "pod": {"resource": "pod"}}
    query = after["cpu"]["nodeQuery"]
    assert "kube_pod_info" not in query and "windows" not in query
    assert 'node_cpu_seconds_total{mode="idle",job="node-exporter",<<.LabelMatchers>>}' in query
    # Everything else as upstream has it.
    assert after["memory"] == before["memory"]
    assert after["cpu"]["containerQuery"] == before["cpu"]["containerQuery"]
    assert {k: v for k, v in after.items() if k not in ("cpu", "memory")} == {
        k: v for k, v in before.items() if k not in ("cpu", "memory")}
    patched["data"].pop("config.yaml")
    assert {k: v for k, v in upstream.items() if k != "data"} == {k: v for k, v in patched.items() if k != "data"}


def test_adapter_pods_roll_onto_the_new_query(kube_prometheus):
    """The adapter reads its config at start-up: the pod template's checksum must change with the
    query (a changed template restarts the pods) and stay put from one render to the next."""
    def checksum(deployment):
        return deployment["spec"]["template"]["metadata"]["annotations"]["checksum.config/md5"]

    upstream = kube_prometheus.find("Deployment", "prometheus-adapter")
    patched, again = copy.deepcopy(upstream), copy.deepcopy(upstream)
    t.adapter_reads_nodes_by_instance(patched)
    t.adapter_reads_nodes_by_instance(again)
    assert checksum(patched) != checksum(upstream) and checksum(patched) == checksum(again)
    assert len(checksum(patched)) == 32  # an md5, as upstream writes it
    del patched["spec"]["template"]["metadata"]["annotations"]["checksum.config/md5"]
    expected = copy.deepcopy(upstream)
    del expected["spec"]["template"]["metadata"]["annotations"]["checksum.config/md5"]
    assert patched == expected


def test_adapter_patch_leaves_other_objects_alone(kube_prometheus):
    for kind, name in (("ConfigMap", "grafana-dashboards"), ("ConfigMap", "blackbox-exporter-configuration"),
                       ("Deployment", "grafana"), ("Deployment", "kube-state-metrics")):
        obj = copy.deepcopy(kube_prometheus.find(kind, name))
        before = copy.deepcopy(obj)
        t.adapter_reads_nodes_by_instance(obj)
        assert obj == before


def test_drop_node_exporter_keeps_its_prometheus_rule(kube_prometheus):
    node_objects = [
        copy.deepcopy(o)
        for o in kube_prometheus.objects
        if o["metadata"].get("labels", {}).get("app.kubernetes.io/name") == "node-exporter"
    ]
    kinds = {o["kind"] for o in node_objects}
    assert {"DaemonSet", "Service", "ServiceMonitor", "ServiceAccount", "ClusterRole",
            "ClusterRoleBinding", "NetworkPolicy", "PrometheusRule"} <= kinds
    for obj in node_objects:
        kind = obj["kind"]
        t.drop_node_exporter(obj)
        if kind == "PrometheusRule":
            assert obj["kind"] == "PrometheusRule" and obj["spec"]["groups"]
        else:
            assert obj == {"apiVersion": "v1", "kind": "List", "items": []}, kind


def test_node_exporter_rule_has_the_upstream_node_alerts(kube_prometheus):
    rule = kube_prometheus.find("PrometheusRule", "node-exporter-rules")
    alerts = [r["alert"] for g in rule["spec"]["groups"] for r in g["rules"] if "alert" in r]
    assert len(alerts) == 26


def test_rename_namespace_everywhere_upstream_names_it(kube_prometheus):
    rename = partial(t.rename_namespace, old="monitoring", new="observability")
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    rename(prometheus)
    assert prometheus["metadata"]["namespace"] == "observability"
    assert prometheus["spec"]["alerting"]["alertmanagers"][0]["namespace"] == "observability"

    rule = copy.deepcopy(kube_prometheus.find("PrometheusRule", "alertmanager-main-rules"))
    rename(rule)
    exprs = " ".join(r["expr"] for g in rule["spec"]["groups"] for r in g["rules"])
    assert 'namespace="observability"' in exprs and 'namespace="monitoring"' not in exprs

    datasources = copy.deepcopy(kube_prometheus.find("Secret", "grafana-datasources"))
    rename(datasources)
    assert "http://prometheus-k8s.observability.svc:9090" in datasources["stringData"]["datasources.yaml"]


def test_rename_namespace_renames_the_namespace_object(kube_prometheus):
    namespace = kube_prometheus.namespace_manifest()
    t.rename_namespace(namespace, old="monitoring", new="observability")
    assert namespace["metadata"]["name"] == "observability"
    other = manifest(kind="Namespace", name="kube-system", namespace=None)
    t.rename_namespace(other, old="monitoring", new="observability")
    assert other["metadata"]["name"] == "kube-system"


def test_rename_namespace_rewrites_escaped_matchers_in_dashboard_json():
    dashboard = manifest(data={"d.json": r'{"expr": "up{namespace=\"monitoring\"}"}'})
    t.rename_namespace(dashboard, old="monitoring", new="obs")
    assert dashboard["data"]["d.json"] == r'{"expr": "up{namespace=\"obs\"}"}'


def test_rename_namespace_leaves_other_namespaces_and_lookalikes():
    binding = manifest(
        kind="RoleBinding", namespace="kube-system",
        subjects=[{"kind": "ServiceAccount", "name": "prometheus-k8s", "namespace": "monitoring"}],
        data={"q": 'up{namespace="monitoring-2"} or up{namespace="kube-system"}', "host": "a.monitoring-x.svc"},
    )
    t.rename_namespace(binding, old="monitoring", new="obs")
    assert binding["metadata"]["namespace"] == "kube-system"
    assert binding["subjects"][0]["namespace"] == "obs"
    assert binding["data"] == {
        "q": 'up{namespace="monitoring-2"} or up{namespace="kube-system"}', "host": "a.monitoring-x.svc"
    }


def test_lists_are_left_for_their_items():
    items = [manifest(kind="RoleBinding", labels={"app.kubernetes.io/name": "node-exporter"})]
    listing = {"apiVersion": "v1", "kind": "RoleBindingList", "items": items}
    before = copy.deepcopy(listing)
    for transformation in (t.drop_node_exporter, partial(t.rename_namespace, old="monitoring", new="obs")):
        transformation(listing)
    assert listing == before


# Property tests: whatever the object, a transformation changes nothing outside its concern.
names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(names, c, max_size=3), max_leaves=10)
kinds = st.sampled_from(["ConfigMap", "Deployment", "Service", "Prometheus", "Alertmanager", "PrometheusRule",
                         "Secret", "ClusterRole", "ClusterRoleBinding", "ServiceMonitor"])
# The objects the transformations change, and lookalikes sharing their kind or name: random names
# alone would almost never hit a target, and the tests would only ever check the "untouched" half.
PROMETHEUS = ("Prometheus", "k8s")
PROMETHEUS_ROLE = ("ClusterRole", "prometheus-k8s")
LOOKALIKES = [("Prometheus", "prometheus-k8s"), ("ClusterRole", "k8s"), ("Alertmanager", "k8s"),
              ("ClusterRoleBinding", "prometheus-k8s"), ("Role", "prometheus-k8s")]
identities = st.one_of(st.sampled_from([PROMETHEUS, PROMETHEUS_ROLE]), st.sampled_from(LOOKALIKES), st.tuples(kinds, names))
objects = st.builds(
    lambda identity, ns, app, body: {**manifest(*identity, ns, {"app.kubernetes.io/name": app}), "spec": body},
    identities, names, st.sampled_from(["grafana", "prometheus", "node-exporter", "kube-state-metrics"]),
    st.dictionaries(names, values, max_size=4),
)


def identity(obj) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]


@settings(max_examples=300)
@given(objects)
def test_set_replicas_touches_only_its_object(obj):
    before = copy.deepcopy(obj)
    t.set_replicas(obj, kind="Prometheus", name="k8s", replicas=3)
    if identity(before) == PROMETHEUS:
        assert obj["spec"].pop("replicas") == 3
        before["spec"].pop("replicas", None)  # a generated spec may hold one already
    assert obj == before


@settings(max_examples=300)
@given(objects)
def test_drop_node_exporter_touches_only_node_exporter_objects(obj):
    before = copy.deepcopy(obj)
    t.drop_node_exporter(obj)
    labelled = before["metadata"]["labels"]["app.kubernetes.io/name"] == "node-exporter"
    if labelled and before["kind"] != "PrometheusRule":
        assert obj == {"apiVersion": "v1", "kind": "List", "items": []}
    else:
        assert obj == before


@settings(max_examples=300)
@given(objects, names)
def test_rename_namespace_is_a_no_op_without_the_old_name(obj, new):
    before = copy.deepcopy(obj)
    t.rename_namespace(obj, old="zz-absent", new=new)
    assert obj == before


@settings(max_examples=300)
@given(objects, st.sampled_from(["monitoring", "default", "kube-system"]), st.sampled_from(["obs", "prom-a"]))
def test_rename_namespace_there_and_back_restores_the_object(obj, namespace, new):
    obj["metadata"]["namespace"] = namespace
    obj["spec"]["expr"] = f'up{{namespace="{namespace}"}}'
    before = copy.deepcopy(obj)
    t.rename_namespace(obj, old="monitoring", new=new)
    assert (obj["metadata"]["namespace"] == new) == (namespace == "monitoring")
    t.rename_namespace(obj, old=new, new="monitoring")
    assert obj == before


def test_grant_node_discovery_adds_list_watch_nodes_once(kube_prometheus):
    role = copy.deepcopy(kube_prometheus.find("ClusterRole", "prometheus-k8s"))
    upstream_rules = copy.deepcopy(role["rules"])
    assert not any("nodes" in r.get("resources", []) and "list" in r["verbs"] for r in upstream_rules)
    t.grant_node_discovery(role)
    t.grant_node_discovery(role)
    assert role["rules"] == [*upstream_rules, {"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]}]
    other = copy.deepcopy(kube_prometheus.find("ClusterRole", "kube-state-metrics"))
    before = copy.deepcopy(other)
    t.grant_node_discovery(other)
    assert other == before


def test_use_additional_scrape_configs_on_prometheus_k8s_only(kube_prometheus):
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", "k8s"))
    t.use_additional_scrape_configs(prometheus, secret="additional-scrape-configs", key="k.yaml")
    assert prometheus["spec"]["additionalScrapeConfigs"] == {"name": "additional-scrape-configs", "key": "k.yaml"}
    alertmanager = copy.deepcopy(kube_prometheus.find("Alertmanager", "main"))
    before = copy.deepcopy(alertmanager)
    t.use_additional_scrape_configs(alertmanager, secret="s", key="k")
    assert alertmanager == before


def test_drop_control_plane_monitors(kube_prometheus):
    for name in ("kube-controller-manager", "kube-scheduler"):
        monitor = copy.deepcopy(kube_prometheus.find("ServiceMonitor", name))
        t.drop_control_plane_monitors(monitor)
        assert monitor["kind"] == "List" and monitor["items"] == []
    kept = copy.deepcopy(kube_prometheus.find("ServiceMonitor", "kubelet"))
    before = copy.deepcopy(kept)
    t.drop_control_plane_monitors(kept)
    assert kept == before

    rules = copy.deepcopy(kube_prometheus.find("PrometheusRule", "kubernetes-monitoring-rules"))
    upstream = [g["name"] for g in rules["spec"]["groups"]]
    t.drop_control_plane_monitors(rules)
    alerts = {r["alert"] for g in rules["spec"]["groups"] for r in g["rules"] if "alert" in r}
    assert {"KubeControllerManagerDown", "KubeSchedulerDown"}.isdisjoint(alerts)
    assert [g["name"] for g in rules["spec"]["groups"]] == [
        g for g in upstream if g not in ("kubernetes-system-controller-manager", "kubernetes-system-scheduler")
    ]
    assert "KubeAPIDown" in alerts


@settings(max_examples=200)
@given(objects)
def test_scrape_wiring_touches_only_its_objects(obj):
    before = copy.deepcopy(obj)
    t.grant_node_discovery(obj)
    t.use_additional_scrape_configs(obj, secret="s", key="k")
    if identity(before) == PROMETHEUS:
        assert obj["spec"].pop("additionalScrapeConfigs") == {"name": "s", "key": "k"}
    if identity(before) == PROMETHEUS_ROLE:
        assert obj.pop("rules") == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["list", "watch"]}]
    assert obj == before
