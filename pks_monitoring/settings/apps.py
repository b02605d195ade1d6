"""`apps`, `appAlerts`, `demoApp`: the applications Prometheus scrapes through a ServiceMonitor,
the alerts on them, and the demo app."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field, field_validator, model_validator

from pks_monitoring.settings.alertmanager import AlertReceiver
from pks_monitoring.settings.types import (
    Dns1123Label,
    Dns1123Subdomain,
    LabelKey,
    LabelValue,
    Model,
    prometheus_duration,
)


class KeyReference(Model):
    """A key of a ConfigMap or Secret in the app's namespace (prometheus-operator reads it)."""

    name: Dns1123Subdomain
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$")


class TlsCaSettings(Model):
    """The CA Prometheus verifies the app's certificate with."""

    config_map: Optional[KeyReference] = None
    secret: Optional[KeyReference] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> TlsCaSettings:
        if (self.config_map is None) == (self.secret is None):
            raise ValueError("give exactly one of configMap or secret (a {name, key} reference)")
        return self


class AppTlsSettings(Model):
    """The ServiceMonitor endpoint's tlsConfig (scheme https)."""

    insecure_skip_verify: bool = False
    server_name: Optional[Dns1123Subdomain] = None
    ca: Optional[TlsCaSettings] = None


class AppNamespaceSelector(Model):
    """The namespaces Prometheus discovers the app's Services in; each gets the Role and
    RoleBinding that let Prometheus do so."""

    match_names: list[Dns1123Label] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _no_any(cls, data: Any) -> Any:
        if isinstance(data, dict) and "any" in data:
            raise ValueError(
                "any: Prometheus would need read access in every namespace; "
                "list the app's namespaces in matchNames instead"
            )
        return data

    @field_validator("match_names")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a namespace is listed twice; list each once")
        return value


class AppSettings(Model):
    """One application Prometheus scrapes through a ServiceMonitor (pks_monitoring/components/app_monitor.py)."""

    name: Dns1123Label  # the ServiceMonitor's name; unique among the apps of a stack
    namespace: Dns1123Label  # the app's: its ServiceMonitor, Role and RoleBinding live there
    selector: dict[LabelKey, LabelValue]  # labels of the app's Service (matchLabels)
    port: Dns1123Label  # the NAME of the Service port (spec.ports[].name)
    path: str = Field(default="/actuator/prometheus", pattern=r"^/\S*$")
    interval: str = "30s"
    scheme: Literal["http", "https"] = "http"
    tls_config: Optional[AppTlsSettings] = None
    namespace_selector: Optional[AppNamespaceSelector] = None  # default: the app's namespace
    # The team's own receiver: the alerts of the app's namespace go there, not to the platform's
    # (pks_monitoring/components/team_route.py). The same settings as alertmanager.receivers.
    receiver: Optional[AlertReceiver] = None

    @field_validator("port", mode="before")
    @classmethod
    def _port_name(cls, value: Any) -> Any:
        # A number is ambiguous (the Service port or the container port behind it?);
        # ServiceMonitor endpoints name the Service port, which also survives a renumbering.
        number = isinstance(value, int) and not isinstance(value, bool)
        if number or (isinstance(value, str) and value.isdigit()):
            raise ValueError(
                f"{value} is a port number; a ServiceMonitor selects the Service port by its "
                "name (spec.ports[].name, e.g. http): give that name, naming the port in the "
                "Service first"
            )
        return value

    @field_validator("selector")
    @classmethod
    def _selects_something(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError(
                "empty: it would select every Service in the namespace; give the labels of the "
                "app's Service, e.g. {app: hello-pks}"
            )
        return value

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        return prometheus_duration(value)

    @model_validator(mode="after")
    def _tls_over_https(self) -> AppSettings:
        if self.tls_config is not None and self.scheme != "https":
            raise ValueError("tlsConfig applies to scheme https only; set scheme: https or remove it")
        return self


class AppAlertSettings(Model):
    """The alerts on the monitored apps (parts/apps.py): when each fires, and how long its
    condition must hold first (the `...For` durations)."""

    enabled: bool = True
    heap_usage_ratio: float = Field(default=0.9, gt=0, le=1)  # heap used / heap max
    # to_camel would spell these `http5Xx...`: the aliases keep the keys as operators write them.
    http5xx_ratio: float = Field(default=0.05, gt=0, le=1, alias="http5xxRatio")
    # Requests per second below which an app's 5xx ratio is not judged (2 failures out of 3
    # requests are no outage); 0 judges every app.
    http5xx_min_request_rate: float = Field(
        default=0.1, ge=0, allow_inf_nan=False, alias="http5xxMinRequestRate"
    )
    gc_pause_seconds: float = Field(default=0.5, gt=0, allow_inf_nan=False)
    # Look-back of the 5xx ratio and of the longest GC pause: a few of the apps' scrape intervals.
    window: str = "5m"
    target_down_for: str = "5m"
    heap_usage_for: str = "15m"
    http5xx_for: str = Field(default="5m", alias="http5xxFor")
    gc_pause_for: str = "10m"

    @field_validator("window", "target_down_for", "heap_usage_for", "http5xx_for", "gc_pause_for")
    @classmethod
    def _prometheus_duration(cls, value: str) -> str:
        return prometheus_duration(value)  # the same syntax as an app's interval


# The demo app's image (its `images` entry; the registry mirror rewrites it like the others).
DEMO_APP_IMAGE = "making/hello-pks:0.0.2"
# The demo app's namespace, which the demo app creates (and deletes with the stack).
DEMO_NAMESPACE = "hello"


class DemoAppSettings(Model):
    """making/hello-pks in namespace `hello`, monitored (pks_monitoring/components/demo_app.py)."""

    enabled: bool = False
    receiver: Optional[AlertReceiver] = None  # as apps[].receiver: the demo team's own receiver
