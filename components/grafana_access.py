"""Grafana access: an admin login from secret config, and optional exposure outside the cluster.

Upstream Grafana starts with admin/admin and is reachable only through `kubectl port-forward`.
- The admin user and password live in the `grafana-admin` Secret the stack owns; the Deployment
  reads them through `secretKeyRef` (GF_SECURITY_ADMIN_USER / GF_SECURITY_ADMIN_PASSWORD, which
  override grafana.ini), so the password is in the cluster Secret and nowhere else: not in the
  Deployment, not in a stack output. Grafana applies them only when it creates its database: on
  emptyDir storage at every pod start, on a persistent volume once. A later change therefore
  needs `grafana cli admin reset-admin-password` in the pod (a rollout alone keeps the old one).
- Exposure (`grafana.expose.type`): the upstream `grafana` Service becomes a NodePort or
  LoadBalancer Service, or an Ingress in front of it is added.
- Upstream's `grafana` NetworkPolicy admits only Prometheus, to port 3000. Exposing Grafana adds
  exactly one ingress rule: Grafana's http port, from the exposure path. For an Ingress that is the
  controller (its pods by namespace and labels, or the addresses of a controller outside the pod
  network). For NodePort and LoadBalancer it is any IPv4 address: kube-proxy masquerades
  connections to a node port (externalTrafficPolicy Cluster), so the policy sees a node's address
  rather than the client's and cannot tell the exposure path from other sources; who may connect
  is decided where the Service is reached (loadBalancerSourceRanges, the network in front of the
  nodes). With `none` the policy is left exactly as upstream ships it.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Optional

import pulumi
from pydantic import SecretStr

from components.manifests import GRAFANA, GRAFANA_HTTP_PORT, GRAFANA_LABELS, KubePrometheus, grafana_container, named
from components.settings import PROJECT, GrafanaExposeSettings, GrafanaSettings, SettingsError
from components.transformations import Manifest, Transformation, is_object

ADMIN_SECRET = "grafana-admin"
ADMIN_USER_KEY = "admin-user"
ADMIN_PASSWORD_KEY = "admin-password"
_ADMIN_ENV = {"GF_SECURITY_ADMIN_USER": ADMIN_USER_KEY, "GF_SECURITY_ADMIN_PASSWORD": ADMIN_PASSWORD_KEY}
# The label the API server sets on every namespace (Kubernetes >= 1.21) to its name.
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_ANY_IPV4 = "0.0.0.0/0"


@dataclass(frozen=True)
class GrafanaAccessArgs:
    admin_user: str
    admin_password: SecretStr
    expose: GrafanaExposeSettings

    @classmethod
    def from_settings(cls, grafana: GrafanaSettings) -> "GrafanaAccessArgs":
        """Raises SettingsError (one line) without an admin password: no stack runs on admin/admin."""
        if grafana.admin_password is None:
            key = f"{PROJECT}:grafana.adminPassword"
            raise SettingsError(
                f"{key}: required, or Grafana keeps its default admin/admin; set it with "
                f"`pulumi config set --secret --path {key} <password>`"
            )
        return cls(grafana.admin_user, grafana.admin_password, grafana.expose)


def grafana_admin_secret_args(namespace: str, access: GrafanaAccessArgs) -> dict[str, Any]:
    """Arguments of the `grafana-admin` Secret (k8s.core.v1.Secret(name, **args, opts=...)).

    The password is a Pulumi secret from here on: encrypted in the state, masked in diffs.
    """
    return {
        "metadata": {"name": ADMIN_SECRET, "namespace": namespace, "labels": dict(GRAFANA_LABELS)},
        "type": "Opaque",
        "string_data": {
            ADMIN_USER_KEY: access.admin_user,
            ADMIN_PASSWORD_KEY: pulumi.Output.secret(access.admin_password.get_secret_value()),
        },
    }


def grafana_ingress(namespace: str, expose: GrafanaExposeSettings) -> Optional[Manifest]:
    """The Ingress in front of the `grafana` Service (networking.k8s.io/v1), or None when Grafana
    is not exposed through one."""
    if expose.type != "Ingress":
        return None
    metadata: dict[str, Any] = {"name": GRAFANA, "namespace": namespace, "labels": dict(GRAFANA_LABELS)}
    if expose.annotations:
        metadata["annotations"] = dict(expose.annotations)
    backend = {"service": {"name": GRAFANA, "port": {"name": GRAFANA_HTTP_PORT}}}
    spec: dict[str, Any] = {
        "rules": [
            {
                "host": expose.host,
                "http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]},
            }
        ]
    }
    if expose.ingress_class_name:
        spec["ingressClassName"] = expose.ingress_class_name
    if expose.tls_secret_name:
        spec["tls"] = [{"hosts": [expose.host], "secretName": expose.tls_secret_name}]
    return {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": metadata, "spec": spec}


def use_admin_secret(obj: Manifest) -> None:
    """The `grafana` container takes its admin user and password from the `grafana-admin` Secret."""
    if not is_object(obj, "Deployment", GRAFANA):
        return
    container = grafana_container(obj)
    env = [e for e in container.get("env") or [] if e.get("name") not in _ADMIN_ENV]
    env += [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": ADMIN_SECRET, "key": key}}}
        for var, key in _ADMIN_ENV.items()
    ]
    container["env"] = env


def expose_service(obj: Manifest, *, expose: GrafanaExposeSettings) -> None:
    """The `grafana` Service as a NodePort or LoadBalancer Service (an Ingress uses it as is)."""
    if expose.type not in ("NodePort", "LoadBalancer") or not is_object(obj, "Service", GRAFANA):
        return
    spec = obj["spec"]
    spec["type"] = expose.type
    if expose.node_port is not None:
        named(spec["ports"], GRAFANA_HTTP_PORT)["nodePort"] = expose.node_port  # checked by KubePrometheus.open
    if expose.load_balancer_source_ranges:
        spec["loadBalancerSourceRanges"] = list(expose.load_balancer_source_ranges)
    if expose.annotations:
        obj["metadata"].setdefault("annotations", {}).update(expose.annotations)


def _exposure_sources(expose: GrafanaExposeSettings) -> list[dict[str, Any]]:
    """The NetworkPolicy peers the exposure's connections come from (empty: not exposed)."""
    if expose.type in ("NodePort", "LoadBalancer"):
        return [{"ipBlock": {"cidr": _ANY_IPV4}}]
    if expose.type != "Ingress":
        return []
    controller = expose.ingress_controller
    peers: list[dict[str, Any]] = []
    if controller.namespace is not None:
        peers.append(
            {
                "namespaceSelector": {"matchLabels": {_NAMESPACE_NAME_LABEL: controller.namespace}},
                "podSelector": {"matchLabels": dict(controller.pod_labels)},
            }
        )
    peers += [{"ipBlock": {"cidr": cidr}} for cidr in controller.cidrs]
    return peers


def admit_exposure(obj: Manifest, *, expose: GrafanaExposeSettings, port: int) -> None:
    """One more ingress rule on the `grafana` NetworkPolicy: Grafana's http port (TCP) from the
    exposure path, and nothing else. Not exposed: the policy is not touched."""
    sources = _exposure_sources(expose)
    if not sources or not is_object(obj, "NetworkPolicy", GRAFANA):
        return
    rule = {"from": sources, "ports": [{"port": port, "protocol": "TCP"}]}
    if rule not in obj["spec"].setdefault("ingress", []):
        obj["spec"]["ingress"].append(rule)


def grafana_http_port(kp: KubePrometheus) -> int:
    """The port Grafana listens on (the container port named http): what a NetworkPolicy sees,
    after the Service has forwarded the connection."""
    container = grafana_container(kp.find("Deployment", GRAFANA))
    return int(named(container["ports"], GRAFANA_HTTP_PORT)["containerPort"])


def grafana_transformations(access: GrafanaAccessArgs, kp: KubePrometheus) -> list[Transformation]:
    """The transformations for the kube-prometheus ConfigGroup (before the namespace rename)."""
    return [
        use_admin_secret,
        partial(expose_service, expose=access.expose),
        partial(admit_exposure, expose=access.expose, port=grafana_http_port(kp)),
    ]
