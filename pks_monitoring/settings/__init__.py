"""The stack's settings: one model per top-level config key (`pks-monitoring:<key>`), the root
`Settings` that holds them, and the loader that turns the engine's config into it.

Config is read once, at the edge (`Settings.from_pulumi_config`), into typed objects that the
components trust. A bad value becomes one `SettingsError` line naming the config key and the fix,
raised before any resource is registered.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from pks_monitoring.settings import loader
from pks_monitoring.settings.alertmanager import AlertmanagerSettings
from pks_monitoring.settings.alerts import AlertsSettings
from pks_monitoring.settings.apps import DEMO_NAMESPACE, AppAlertSettings, AppSettings, DemoAppSettings
from pks_monitoring.settings.grafana import GrafanaSettings
from pks_monitoring.settings.images import ImagesSettings
from pks_monitoring.settings.kube_prometheus import MANIFESTS_ENV, KubePrometheusSettings
from pks_monitoring.settings.network import Network, check_grafana_on_nsx_t
from pks_monitoring.settings.node_exporter import NodeExporterSettings
from pks_monitoring.settings.pod_security import PodSecuritySettings
from pks_monitoring.settings.prometheus import PrometheusSettings
from pks_monitoring.settings.provider import KubernetesTarget
from pks_monitoring.settings.storage import StorageSettings
from pks_monitoring.settings.types import (
    PROJECT,
    PROJECT_ROOT,
    SECRET_PLACEHOLDER,
    Dns1123Label,
    Model,
    SettingsError,
)

__all__ = [
    "MANIFESTS_ENV",
    "PROJECT",
    "PROJECT_ROOT",
    "SECRET_PLACEHOLDER",
    "Settings",
    "SettingsError",
    "plain_text_secrets",
]


# The parts with a volume of their own (`<part>.storage`), which the checks below read.
_STORED_PARTS = ("prometheus", "alertmanager", "grafana")


class Settings(Model):
    cluster: Dns1123Label
    # The platform patch set (pks_monitoring.platforms): `pks` drops the monitors and alerts of
    # the control plane that PKS/TKGI runs on BOSH masters, out of Prometheus' reach.
    platform: Literal["pks", "upstream"] = "pks"
    # The cluster's container network (pks_monitoring.settings.network); before grafana, whose
    # check reads it. `nsx-t` refuses what NCP does not serve (a NodePort Grafana).
    network: Network = "flannel"
    # The Kubernetes minor of the cluster (`kubectl version`; TKGI 1.23 runs 1.32): which
    # kube-prometheus releases fit it (pks_monitoring.releases).
    kubernetes_version: str
    kube_prometheus: KubePrometheusSettings = KubePrometheusSettings()
    prometheus: PrometheusSettings = PrometheusSettings()
    alertmanager: AlertmanagerSettings = AlertmanagerSettings()
    alerts: AlertsSettings = AlertsSettings()  # upstream's alerts tuned by name (parts.alerts)
    grafana: GrafanaSettings = GrafanaSettings()
    # After platform, prometheus, alertmanager and grafana: its check reads their storage.
    storage: StorageSettings = Field(default_factory=StorageSettings, validate_default=True)
    node_exporter: NodeExporterSettings = NodeExporterSettings()
    apps: list[AppSettings] = []  # names unique, also against the demo app: components.app_monitor
    app_alerts: AppAlertSettings = AppAlertSettings()
    demo_app: DemoAppSettings = DemoAppSettings()
    # After prometheus, alertmanager and grafana: its check reads their storage.
    pod_security: PodSecuritySettings = PodSecuritySettings()
    # Where every image comes from (a registry mirror for air-gapped sites) and the pull secret.
    images: ImagesSettings = ImagesSettings()
    kubernetes: KubernetesTarget = KubernetesTarget()

    @field_validator("kubernetes_version")
    @classmethod
    def _minor_as_written(cls, value: str) -> str:
        if not re.fullmatch(r"1\.\d+", value):
            raise ValueError(f'the Kubernetes minor, as "1.32" (got {value!r}): `kubectl version` shows it')
        # YAML reads an unquoted 1.30 as the number 1.3: no Kubernetes this program runs on.
        if int(value.split(".")[1]) < 20:
            raise ValueError(
                f"Kubernetes {value} is no minor this program runs on; write the minor quoted "
                '(kubernetesVersion: "1.30": unquoted, YAML reads 1.30 as 1.3)'
            )
        return value

    @field_validator("grafana")
    @classmethod
    def _fits_the_network(cls, value: GrafanaSettings, info: ValidationInfo) -> GrafanaSettings:
        if info.data.get("network") == "nsx-t":
            check_grafana_on_nsx_t(value.expose)  # SettingsError naming the grafana.expose key
        return value

    @field_validator("storage")
    @classmethod
    def _claims_bind(cls, value: StorageSettings, info: ValidationInfo) -> StorageSettings:
        # TKGI creates no default StorageClass: a claim without a class stays Pending, and
        # `pulumi up` waits out Grafana's Deployment, then fails.
        if info.data.get("platform") != "pks" or value.default_class() is not None:
            return value
        classless = [
            p
            for p in _STORED_PARTS
            if p in info.data and info.data[p].storage.enabled and info.data[p].storage.storage_class is None
        ]
        if classless:
            raise ValueError(
                f"TKGI creates no default StorageClass, so the claims of {', '.join(classless)} would stay "
                "Pending; set storage.storageClass to a class the cluster has (`kubectl get storageclass`), "
                "or storage.vsphereCsi to have the stack create one for vSphere CSI, or "
                f"{' / '.join(f'{p}.storage.enabled' for p in classless)} to false (data then lives in emptyDir)"
            )
        return value

    @field_validator("demo_app")
    @classmethod
    def _demo_namespace_apart(cls, value: DemoAppSettings, info: ValidationInfo) -> DemoAppSettings:
        # Both the stack and the demo app create their namespace: one Namespace, two owners.
        stack = info.data.get("kube_prometheus")
        if value.enabled and stack is not None and stack.namespace == DEMO_NAMESPACE:
            raise ValueError(
                f"the demo app creates namespace {DEMO_NAMESPACE}, which is the stack's "
                "(kubePrometheus.namespace); give the stack another namespace or turn the demo app off"
            )
        return value

    @field_validator("pod_security")
    @classmethod
    def _volumes_stay_writable(cls, value: PodSecuritySettings, info: ValidationInfo) -> PodSecuritySettings:
        # Without fsGroup, which SecurityContextDeny rejects, the kubelet leaves a new volume
        # owned by root, and Prometheus, Alertmanager and Grafana (non-root) fail with permission
        # denied.
        stored = [p for p in _STORED_PARTS if p in info.data and info.data[p].storage.enabled]
        if value.security_context_deny and stored:
            keys = ", ".join(f"{part}.storage.enabled" for part in stored)
            raise ValueError(
                "securityContextDeny drops fsGroup, so new volumes stay owned by root and the "
                f"non-root {', '.join(stored)} cannot write them; set {keys} to false (their "
                "data is then lost when a pod is recreated) or turn SecurityContextDeny off in "
                "the plan"
            )
        return value

    @field_validator("kubernetes")
    @classmethod
    def _one_target(cls, value: KubernetesTarget) -> KubernetesTarget:
        if value.context is None and value.kubeconfig is None:
            raise ValueError(
                "no cluster to deploy to: set kubernetes:context "
                "(`pulumi config set kubernetes:context <cluster>` after `tkgi get-credentials`) "
                "or kubernetes:kubeconfig as a secret"
            )
        return value

    @classmethod
    def from_pulumi_config(cls) -> Settings:
        """Validate the stack's config; raises SettingsError with one line on bad input."""
        settings = loader.from_pulumi_config(cls)
        settings.check_paths()
        return settings

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> Settings:
        """`raw` maps full config keys (`pks-monitoring:cluster`) to their values."""
        settings = loader.from_raw(cls, raw)
        settings.check_paths()
        return settings

    def check_paths(self) -> None:
        manifests = self.kube_prometheus.manifests_dir()
        if not manifests.is_dir():
            raise SettingsError(
                f"{PROJECT}:kubePrometheus.manifests: {manifests} is not a directory; "
                "fetch the pinned kube-prometheus tag (see README) and point this key "
                f"(or {MANIFESTS_ENV}) at its manifests/ directory"
            )


def plain_text_secrets(
    raw_config: dict[str, Any], secret_keys: set[str], written: dict[str, Any] | None = None
) -> list[str]:
    """loader.plain_text_secrets for the stack's settings."""
    return loader.plain_text_secrets(Settings, raw_config, secret_keys, written)
