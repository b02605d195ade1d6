"""Manifest helpers: a small object maker and hypothesis strategies of arbitrary objects, with
the targets of the patches and their lookalikes among them."""

from __future__ import annotations

from hypothesis import strategies as st


def manifest(kind="ConfigMap", name="x", namespace="monitoring", labels=None, **top):
    obj = {"apiVersion": "v1", "kind": kind, "metadata": {"name": name, "namespace": namespace}}
    if labels:
        obj["metadata"]["labels"] = labels
    obj.update(top)
    return obj


# Property tests: whatever the object, a transformation changes nothing outside its concern.
names = st.from_regex(r"[a-z][a-z0-9-]{0,20}", fullmatch=True)


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=30))


values = st.recursive(
    scalars, lambda c: st.lists(c, max_size=3) | st.dictionaries(names, c, max_size=3), max_leaves=10
)


kinds = st.sampled_from(
    [
        "ConfigMap",
        "Deployment",
        "Service",
        "Prometheus",
        "Alertmanager",
        "PrometheusRule",
        "Secret",
        "ClusterRole",
        "ClusterRoleBinding",
        "ServiceMonitor",
    ]
)


# The objects the transformations change, and lookalikes sharing their kind or name: random names
# alone would almost never hit a target, and the tests would only ever check the "untouched" half.
PROMETHEUS = ("Prometheus", "k8s")


PROMETHEUS_ROLE = ("ClusterRole", "prometheus-k8s")


LOOKALIKES = [
    ("Prometheus", "prometheus-k8s"),
    ("ClusterRole", "k8s"),
    ("Alertmanager", "k8s"),
    ("ClusterRoleBinding", "prometheus-k8s"),
    ("Role", "prometheus-k8s"),
]


identities = st.one_of(
    st.sampled_from([PROMETHEUS, PROMETHEUS_ROLE]), st.sampled_from(LOOKALIKES), st.tuples(kinds, names)
)


objects = st.builds(
    lambda identity, ns, app, body: {
        **manifest(*identity, ns, {"app.kubernetes.io/name": app}),
        "spec": body,
    },
    identities,
    names,
    st.sampled_from(["grafana", "prometheus", "node-exporter", "kube-state-metrics"]),
    st.dictionaries(names, values, max_size=4),
)


def identity(obj) -> tuple[str, str]:
    return obj["kind"], obj["metadata"]["name"]
