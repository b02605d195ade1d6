"""`grafana`: Grafana's admin login, how it is reached from outside the cluster, its storage,
resources and placement."""

from __future__ import annotations

from typing import Literal, Optional

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic.alias_generators import to_camel

from pks_monitoring.settings.types import (
    PROJECT,
    Dns1123Label,
    Dns1123Subdomain,
    LabelKey,
    LabelValue,
    Model,
    ipv4_network,
)
from pks_monitoring.settings.workloads import VolumeSettings, WorkloadPlacement


class GrafanaIngressController(Model):
    """Where the Ingress controller's connections to Grafana come from: what Grafana's
    NetworkPolicy admits besides Prometheus."""

    # Controller pods in the cluster (ingress-nginx, Contour...): their namespace and pod labels.
    namespace: Optional[Dns1123Label] = None
    pod_labels: dict[LabelKey, LabelValue] = {}
    # A controller outside the pod network (TKGI's NSX-T load balancer, a controller on the host
    # network): the IPv4 ranges its connections come from.
    cidrs: list[str] = []

    @field_validator("cidrs")
    @classmethod
    def _ipv4_networks(cls, value: list[str]) -> list[str]:
        return [ipv4_network(cidr) for cidr in value]

    @model_validator(mode="after")
    def _names_the_controller(self) -> GrafanaIngressController:
        if (self.namespace is None) != (not self.pod_labels):
            raise ValueError(
                "namespace and podLabels go together: the controller pods' namespace and their "
                "labels (a namespace alone would admit every pod in it)"
            )
        if self.namespace is None and not self.cidrs:
            raise ValueError(
                "name the controller: namespace and podLabels of its pods, or the cidrs its "
                "connections come from"
            )
        return self


# The options each exposure type takes: one of another type would be ignored without a word.
_EXPOSE_OPTIONS = {
    "none": set(),
    "NodePort": {"node_port", "annotations"},
    "LoadBalancer": {"node_port", "load_balancer_source_ranges", "annotations"},
    "Ingress": {
        "host", "tls_secret_name", "ingress_class_name", "annotations", "ingress_controller",
    },
}  # fmt: skip


class GrafanaExposeSettings(Model):
    """How Grafana is reached from outside the cluster (`none`: `kubectl port-forward` only)."""

    type: Literal["none", "NodePort", "LoadBalancer", "Ingress"] = "none"
    # Within the API server's default --service-node-port-range; unset: the cluster picks one.
    node_port: Optional[int] = Field(default=None, ge=30000, le=32767)
    load_balancer_source_ranges: list[str] = []
    host: Optional[Dns1123Subdomain] = None
    tls_secret_name: Optional[Dns1123Subdomain] = None
    ingress_class_name: Optional[Dns1123Subdomain] = None
    annotations: dict[str, str] = {}  # of the exposing object: the Service or the Ingress
    ingress_controller: Optional[GrafanaIngressController] = None

    @field_validator("load_balancer_source_ranges")
    @classmethod
    def _ipv4_networks(cls, value: list[str]) -> list[str]:
        return [ipv4_network(cidr) for cidr in value]

    @field_validator("host")
    @classmethod
    def _not_an_address(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and all(label.isdigit() for label in value.split(".")):
            raise ValueError(f"{value} is an IP address; an Ingress rule needs a DNS name")
        return value

    @model_validator(mode="after")
    def _fits_the_type(self) -> GrafanaExposeSettings:
        if self.type == "Ingress" and self.host is None:
            raise ValueError(
                "host is required when type is Ingress; set it with "
                f"`pulumi config set --path {PROJECT}:grafana.expose.host grafana.example.com`"
            )
        if self.type == "Ingress" and self.ingress_controller is None:
            raise ValueError(
                "ingressController is required when type is Ingress: the namespace and podLabels "
                "of the controller pods, or the cidrs its connections come from (Grafana's "
                "NetworkPolicy admits those and nothing else)"
            )
        given = {f for f in type(self).model_fields if f != "type" and getattr(self, f) not in (None, [], {})}
        stray = sorted(given - _EXPOSE_OPTIONS[self.type])
        if stray:
            raise ValueError(
                f"{to_camel(stray[0])} does not apply to type {self.type}; remove it or change the type"
            )
        return self


class GrafanaSettings(WorkloadPlacement):
    """Grafana's admin login, exposure, storage and placement."""

    admin_user: str = Field(default="admin", pattern=r"^\S+$")
    # Optional in the model, required by the program (parts.grafana.admin_password): Grafana
    # would otherwise start with admin/admin.
    admin_password: Optional[SecretStr] = None
    expose: GrafanaExposeSettings = GrafanaExposeSettings()
    storage: VolumeSettings = VolumeSettings()

    @field_validator("admin_password")
    @classmethod
    def _not_a_default(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        # Never echo the value: it is secret config.
        if value is not None and value.get_secret_value() in ("", "admin"):
            raise ValueError(
                "empty or Grafana's well-known default; set another with "
                f"`pulumi config set --secret --path {PROJECT}:grafana.adminPassword <password>`"
            )
        return value
