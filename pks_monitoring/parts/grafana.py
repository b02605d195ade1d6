"""Grafana (`grafana`): an admin login from secret config, our dashboards next to upstream's,
optional exposure outside the cluster, storage, resources and placement.

- Admin login: upstream Grafana starts with admin/admin. The admin user and password live in the
  `grafana-admin` Secret the stack owns; the Deployment reads them through `secretKeyRef`
  (GF_SECURITY_ADMIN_USER / GF_SECURITY_ADMIN_PASSWORD, which override grafana.ini), so the
  password is in the cluster Secret and nowhere else: not in the Deployment, not in a stack
  output. Grafana applies them only when it creates its database: on emptyDir storage at every
  pod start, on a persistent volume once. A later change therefore needs
  `grafana cli admin reset-admin-password` in the pod (a rollout alone keeps the old one).
- Dashboards: kube-prometheus provisions Grafana with one file provider reading
  `/grafana-dashboard-definitions/0` and mounts each of its dashboard ConfigMaps
  `grafana-dashboard-<name>` at `/grafana-dashboard-definitions/0/<name>`. Ours are mounted the
  same way, and a pod-template checksum of their contents rolls Grafana whenever one changes.
- Exposure (`grafana.expose`, parts/grafana_exposure.py).
- Storage: a claim of its own instead of upstream's emptyDir.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from functools import partial
from typing import Optional

import pulumi
from pydantic import SecretStr

from pks_monitoring.dashboards import Dashboard
from pks_monitoring.manifests import Manifest, Transformation, is_object
from pks_monitoring.parts import grafana_exposure
from pks_monitoring.parts.part import Added, Part, StackInputs
from pks_monitoring.settings import PROJECT, SettingsError
from pks_monitoring.settings.grafana import GrafanaSettings
from pks_monitoring.upstream import GRAFANA, GRAFANA_LABELS, grafana_container
from pks_monitoring.workloads import claim_spec, placement, set_placement

ADMIN_SECRET = "grafana-admin"
ADMIN_USER_KEY = "admin-user"
ADMIN_PASSWORD_KEY = "admin-password"
_ADMIN_ENV = {
    "GF_SECURITY_ADMIN_USER": ADMIN_USER_KEY,
    "GF_SECURITY_ADMIN_PASSWORD": ADMIN_PASSWORD_KEY,
}
# The folder upstream's dashboard provider reads; each dashboard is a directory below it.
PROVIDER_PATH = "/grafana-dashboard-definitions/0"
CHECKSUM_ANNOTATION = "checksum/dashboards"
# Upstream Grafana's emptyDir volume at /var/lib/grafana (SQLite database: users, dashboards
# saved in the UI, preferences, annotations), and the claim that replaces it.
GRAFANA_VOLUME = "grafana-storage"
GRAFANA_CLAIM = "grafana-storage"


def admin_password(grafana: GrafanaSettings) -> SecretStr:
    """Raises SettingsError (one line) without an admin password: no stack runs on admin/admin."""
    if grafana.admin_password is None:
        key = f"{PROJECT}:grafana.adminPassword"
        raise SettingsError(
            f"{key}: required, or Grafana keeps its default admin/admin; set it with "
            f"`pulumi config set --secret --path {key} <password>`"
        )
    return grafana.admin_password


def admin_secret(namespace: str, grafana: GrafanaSettings) -> Manifest:
    """The `grafana-admin` Secret. The password is a Pulumi secret from here on: encrypted in the
    state, masked in diffs."""
    password = admin_password(grafana).get_secret_value()
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": ADMIN_SECRET, "namespace": namespace, "labels": dict(GRAFANA_LABELS)},
        "type": "Opaque",
        "stringData": {
            ADMIN_USER_KEY: grafana.admin_user,
            ADMIN_PASSWORD_KEY: pulumi.Output.secret(password),
        },
    }


def use_admin_secret(obj: Manifest) -> None:
    """The `grafana` container takes its admin user and password from the `grafana-admin`
    Secret."""
    container = grafana_container(obj) if is_object(obj, "Deployment", GRAFANA) else None
    if container is None:
        return
    env = [e for e in container.get("env") or [] if e.get("name") not in _ADMIN_ENV]
    env += [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": key}}}
        for var, key in _ADMIN_ENV.items()
    ]
    container["env"] = env


def dashboard_config_map(dashboard: Dashboard, namespace: str) -> Manifest:
    """The ConfigMap holding one dashboard, named and keyed as upstream names its own."""
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": dashboard.config_map_name,
            "namespace": namespace,
            "labels": {
                "app.kubernetes.io/component": "grafana",
                "app.kubernetes.io/name": "grafana",
                "app.kubernetes.io/part-of": PROJECT,
            },
        },
        "data": {dashboard.file_name: dashboard.text},
    }


def dashboards_checksum(dashboards: Iterable[Dashboard]) -> str:
    """sha256 over every dashboard's file name and text: changes when any dashboard does."""
    content = sorted((d.file_name, d.text) for d in dashboards)
    return hashlib.sha256(json.dumps(content).encode()).hexdigest()


def mount_dashboards(obj: Manifest, *, dashboards: Sequence[Dashboard]) -> None:
    """The upstream `grafana` Deployment mounts our dashboard ConfigMaps as it mounts upstream's.

    Grafana reads provisioned dashboards at start-up; the pod-template annotation carries their
    checksum, so a changed dashboard changes the template and Kubernetes rolls Grafana.
    """
    if not dashboards or not is_object(obj, "Deployment", GRAFANA):
        return
    pod = obj["spec"]["template"]
    container = grafana_container(obj)
    assert container is not None  # KubePrometheus.open checked it
    for dashboard in dashboards:
        volume = dashboard.config_map_name
        pod["spec"].setdefault("volumes", []).append({"configMap": {"name": volume}, "name": volume})
        container.setdefault("volumeMounts", []).append(
            {"mountPath": f"{PROVIDER_PATH}/{dashboard.name}", "name": volume, "readOnly": False}
        )
    annotations = pod.setdefault("metadata", {}).setdefault("annotations", {})
    annotations[CHECKSUM_ANNOTATION] = dashboards_checksum(dashboards)


def use_grafana_claim(obj: Manifest, *, claim: str) -> None:
    """Grafana's data volume becomes the claim `claim` (see grafana_claim) instead of an emptyDir.

    The Deployment is recreated rather than rolled: a ReadWriteOnce volume attaches to one node,
    so a new pod scheduled elsewhere while the old one holds it would wait forever (Multi-Attach),
    and two Grafanas must not share one SQLite file anyway.
    """
    if not is_object(obj, "Deployment", GRAFANA):
        return
    for volume in obj["spec"]["template"]["spec"].get("volumes", []):
        if volume.get("name") == GRAFANA_VOLUME:
            volume.clear()
            volume.update({"name": GRAFANA_VOLUME, "persistentVolumeClaim": {"claimName": claim}})
    obj["spec"]["strategy"] = {"type": "Recreate"}


def grafana_claim(namespace: str, grafana: GrafanaSettings, default_class: Optional[str] = None) -> Manifest:
    """The PersistentVolumeClaim use_grafana_claim mounts (of the stack's `storage` class when
    Grafana names none)."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": GRAFANA_CLAIM, "namespace": namespace, "labels": dict(GRAFANA_LABELS)},
        "spec": claim_spec(grafana.storage, default_class),
    }


# How our dashboards name the cluster label in their matchers and their cluster variable's query
# (JSON text: the quotes escaped).
_CLUSTER_MATCHER, _CLUSTER_VALUES = '{cluster=~\\"$cluster\\"', ", cluster)"


def with_cluster_label(dashboard: Dashboard, label: str) -> Dashboard:
    """`dashboard` reading the stack's cluster label (`prometheus.clusterLabel`) where ours read
    `cluster`: a central store's series carry the label under that name."""
    text = dashboard.text.replace(_CLUSTER_MATCHER, f'{{{label}=~\\"$cluster\\"')
    return replace(dashboard, text=text.replace(_CLUSTER_VALUES, f", {label})"))


def stack_dashboards(inputs: StackInputs) -> list[Dashboard]:
    return [with_cluster_label(d, inputs.settings.prometheus.cluster_label) for d in inputs.dashboards]


def patches(inputs: StackInputs) -> list[Transformation]:
    grafana = inputs.settings.grafana
    transformations: list[Transformation] = [
        partial(mount_dashboards, dashboards=stack_dashboards(inputs)),
        use_admin_secret,
        *grafana_exposure.patches(grafana.expose, inputs.upstream.grafana_http_port()),
        partial(set_placement, kind="Deployment", name=GRAFANA, container=GRAFANA, **placement(grafana)),
    ]
    if grafana.storage.enabled:
        transformations.append(partial(use_grafana_claim, claim=GRAFANA_CLAIM))
    return transformations


def objects(inputs: StackInputs) -> list[Added]:
    grafana, namespace = inputs.settings.grafana, inputs.namespace
    added = [Added(admin_secret(namespace, grafana), awaited=True)]
    added += [Added(dashboard_config_map(d, namespace)) for d in stack_dashboards(inputs)]
    ingress = grafana_exposure.grafana_ingress(namespace, grafana.expose)
    if ingress is not None:
        added.append(Added(ingress, resource_name="grafana-ingress"))
    # Upstream's Deployment does not wait for its claim: with a WaitForFirstConsumer storage
    # class the claim binds only once the pod exists.
    if grafana.storage.enabled:
        added.append(Added(grafana_claim(namespace, grafana, inputs.settings.storage.default_class())))
    return added


PART = Part("grafana", patches, objects)
