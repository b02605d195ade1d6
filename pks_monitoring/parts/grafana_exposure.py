"""How Grafana is reached from outside the cluster (`grafana.expose`).

The upstream `grafana` Service becomes a NodePort or LoadBalancer Service, or an Ingress in front
of it is added. Upstream's `grafana` NetworkPolicy admits only Prometheus, to port 3000. Exposing
Grafana adds exactly one ingress rule: Grafana's http port, from the exposure path. For an Ingress
that is the controller (its pods by namespace and labels, or the addresses of a controller outside
the pod network). For NodePort and LoadBalancer it is any IPv4 address: kube-proxy masquerades
connections to a node port (externalTrafficPolicy Cluster), so the policy sees a node's address
rather than the client's and cannot tell the exposure path from other sources; who may connect is
decided where the Service is reached (loadBalancerSourceRanges, the network in front of the
nodes). With `none` the policy is left exactly as upstream ships it.
"""

from __future__ import annotations

from functools import partial
from typing import Any, Optional

from pks_monitoring.manifests import Manifest, Transformation, is_object, named
from pks_monitoring.settings.grafana import GrafanaExposeSettings
from pks_monitoring.upstream import GRAFANA, GRAFANA_HTTP_PORT, GRAFANA_LABELS

# The label the API server sets on every namespace (Kubernetes >= 1.21) to its name.
_NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
_ANY_IPV4 = "0.0.0.0/0"


def grafana_ingress(namespace: str, expose: GrafanaExposeSettings) -> Optional[Manifest]:
    """The Ingress in front of the `grafana` Service (networking.k8s.io/v1), or None when
    Grafana is not exposed through one."""
    if expose.type != "Ingress":
        return None
    metadata: dict[str, Any] = {
        "name": GRAFANA,
        "namespace": namespace,
        "labels": dict(GRAFANA_LABELS),
    }
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
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": spec,
    }


def expose_service(obj: Manifest, *, expose: GrafanaExposeSettings) -> None:
    """The `grafana` Service as a NodePort or LoadBalancer Service (an Ingress uses it as is)."""
    if expose.type not in ("NodePort", "LoadBalancer") or not is_object(obj, "Service", GRAFANA):
        return
    spec = obj["spec"]
    spec["type"] = expose.type
    port = named(spec["ports"], GRAFANA_HTTP_PORT)  # KubePrometheus.open checked it
    if expose.node_port is not None and port is not None:
        port["nodePort"] = expose.node_port
    if expose.load_balancer_source_ranges:
        spec["loadBalancerSourceRanges"] = list(expose.load_balancer_source_ranges)
    if expose.annotations:
        obj["metadata"].setdefault("annotations", {}).update(expose.annotations)


def _exposure_sources(expose: GrafanaExposeSettings) -> list[dict[str, Any]]:
    """The NetworkPolicy peers the exposure's connections come from (empty: not exposed)."""
    if expose.type in ("NodePort", "LoadBalancer"):
        return [{"ipBlock": {"cidr": _ANY_IPV4}}]
    controller = expose.ingress_controller
    if expose.type != "Ingress" or controller is None:
        return []
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


def patches(expose: GrafanaExposeSettings, port: int) -> list[Transformation]:
    """`port`: the port Grafana listens on (its container port named http), what a
    NetworkPolicy sees after the Service has forwarded the connection."""
    return [
        partial(expose_service, expose=expose),
        partial(admit_exposure, expose=expose, port=port),
    ]
