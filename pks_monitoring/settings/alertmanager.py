"""`alertmanager`: the Alertmanager `main` resource (replicas, storage, resources, placement) and
its routing: receivers, routes, the default receiver and the grouping timers."""

from __future__ import annotations

from typing import Any, Literal, Optional

from pydantic import Field, SecretStr, field_validator, model_validator

from pks_monitoring.settings.prometheus_syntax import alertmanager_group_by, alertmanager_matchers
from pks_monitoring.settings.types import Dns1123Label, Model, prometheus_duration, undecrypted, unique_names
from pks_monitoring.settings.workloads import ReplicatedWorkload

# What each receiver type takes besides name, type and sendResolved (Python names): required,
# optional. A setting of another type would be ignored by Alertmanager's config without a word.
ALERT_RECEIVER_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "slack": (frozenset({"api_url"}), frozenset({"channel"})),
    "webhook": (frozenset({"url"}), frozenset()),
    "email": (
        frozenset({"to", "from_", "smarthost"}),
        frozenset({"auth_username", "auth_password", "require_tls"}),
    ),
    "pagerduty": (frozenset(), frozenset({"routing_key", "service_key"})),  # exactly one of them
}
ALERT_RECEIVER_SECRETS = ("api_url", "url", "auth_password", "routing_key", "service_key")
# The routing keys: without receivers none of them may be set.
_ROUTING = {
    "receivers", "default_receiver", "routes",
    "group_by", "group_wait", "group_interval", "repeat_interval",
}  # fmt: skip


class AlertReceiver(Model):
    """Where Alertmanager sends notifications: one integration of one type. URLs, keys and
    passwords are secrets: `pulumi config set --secret --path ...`."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    type: Literal["slack", "webhook", "email", "pagerduty"]
    send_resolved: Optional[bool] = None  # unset: the integration's default (Alertmanager's)
    api_url: Optional[SecretStr] = None  # slack: the incoming-webhook URL
    channel: Optional[str] = Field(default=None, min_length=1)  # slack; unset: the webhook's own
    url: Optional[SecretStr] = None  # webhook
    to: Optional[str] = Field(default=None, pattern=r"^\S+@\S+$")  # email
    from_: Optional[str] = Field(default=None, alias="from", pattern=r"^\S+@\S+$")
    smarthost: Optional[str] = None  # host:port of the SMTP server
    auth_username: Optional[str] = Field(default=None, min_length=1)
    auth_password: Optional[SecretStr] = None
    require_tls: Optional[bool] = None  # unset: Alertmanager's default, true
    routing_key: Optional[SecretStr] = None  # pagerduty Events API v2 integration key
    service_key: Optional[SecretStr] = None  # pagerduty Events API v1 (legacy) service key

    @field_validator(*ALERT_RECEIVER_SECRETS, mode="before")
    @classmethod
    def _secret_text(cls, value: Any) -> Any:
        # Refused here, in our words: pydantic's own message would echo the (secret) value.
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError("must be a non-empty string (the value is secret and not shown)")
        return value

    @field_validator("api_url", "url")
    @classmethod
    def _http_url(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is None or undecrypted(value):
            return value
        text = value.get_secret_value()
        scheme, _, rest = text.partition("://")
        if (
            scheme.lower() not in ("http", "https")
            or not rest
            or rest[0] in "/?#"
            or any(c.isspace() for c in text)
        ):
            raise ValueError("not an http(s) URL (the value is secret and not shown)")
        return value

    @field_validator("smarthost")
    @classmethod
    def _host_and_port(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        if not host or any(c.isspace() for c in host) or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port of an SMTP server (e.g. smtp.example.com:587)")
        return value

    @model_validator(mode="after")
    def _settings_of_its_type(self) -> AlertReceiver:
        required, optional = ALERT_RECEIVER_FIELDS[self.type]
        alias = {name: field.alias or name for name, field in type(self).model_fields.items()}
        stray = sorted(self.model_fields_set - {"name", "type", "send_resolved"} - required - optional)
        if stray:
            takes = ", ".join(sorted(alias[f] for f in required | optional))
            raise ValueError(
                f"{alias[stray[0]]} is not a setting of receiver type {self.type} "
                f"(it takes {takes}); remove it"
            )
        for field in sorted(required):
            if getattr(self, field) is None:
                secret = "--secret " if field in ALERT_RECEIVER_SECRETS else ""
                raise ValueError(
                    f"receiver type {self.type} needs {alias[field]}; set it with "
                    f"`pulumi config set {secret}--path '<this key>.{alias[field]}' <value>`"
                )
        if self.type == "pagerduty" and (self.routing_key is None) == (self.service_key is None):
            raise ValueError(
                "receiver type pagerduty needs exactly one of routingKey (Events API v2) or "
                "serviceKey (v1), set with `pulumi config set --secret --path ...`"
            )
        if self.auth_password is not None and self.auth_username is None:
            raise ValueError("authPassword without authUsername; set both or neither")
        return self


class AlertRoute(Model):
    """Alerts matching every condition given go to `receiver`; the first matching route wins
    unless it says `continue`."""

    receiver: str
    severity: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    namespace: Optional[Dns1123Label] = None
    matchers: list[str] = []  # Alertmanager matchers: `alertname =~ "Kube.*"`
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("matchers")
    @classmethod
    def _matcher_syntax(cls, value: list[str]) -> list[str]:
        # Parsed as Alertmanager parses them, regexes compiled as Go compiles them: a matcher
        # it refuses would fail the whole config at reload, and Alertmanager keep the old one.
        for matcher in value:
            alertmanager_matchers(matcher)
        return value

    @model_validator(mode="after")
    def _matches_something(self) -> AlertRoute:
        if self.severity is None and self.namespace is None and not self.matchers:
            raise ValueError(
                "a route needs severity, namespace or matchers; alerts no route matches go to defaultReceiver"
            )
        return self


class AlertmanagerSettings(ReplicatedWorkload):
    """The Alertmanager `main` resource and its routing (the `alertmanager-main` Secret).
    Without receivers the upstream config stays as it is, and alerts reach no one."""

    receivers: list[AlertReceiver] = []
    default_receiver: Optional[str] = None  # for alerts no route matches; required with receivers
    routes: list[AlertRoute] = []
    # Unset: the upstream route's (kube-prometheus: [namespace], 30s, 5m, 12h).
    group_by: Optional[list[str]] = None
    group_wait: Optional[str] = None
    group_interval: Optional[str] = None
    repeat_interval: Optional[str] = None

    @field_validator("receivers")
    @classmethod
    def _unique_names(cls, value: list[AlertReceiver]) -> list[AlertReceiver]:
        unique_names([r.name for r in value], "receivers")
        return value

    @field_validator("group_by")
    @classmethod
    def _label_names(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        return None if value is None else alertmanager_group_by(value)

    @field_validator("group_wait", "group_interval", "repeat_interval")
    @classmethod
    def _duration(cls, value: Optional[str]) -> Optional[str]:
        # Alertmanager's timers take Prometheus' duration syntax.
        return None if value is None else prometheus_duration(value)

    @model_validator(mode="after")
    def _routes_name_receivers(self) -> AlertmanagerSettings:
        if not self.receivers:
            if self.model_fields_set & (_ROUTING - {"receivers"}):
                raise ValueError(
                    "routing without receivers has no effect; define receivers or remove the "
                    "other routing keys (defaultReceiver, routes, groupBy, group timers)"
                )
            return self
        if self.default_receiver is None:
            raise ValueError(
                "defaultReceiver is required once receivers are set: name the receiver of the "
                "alerts no route matches"
            )
        known = [r.name for r in self.receivers]
        named = [("defaultReceiver", self.default_receiver)]
        named += [(f"routes[{i}].receiver", route.receiver) for i, route in enumerate(self.routes)]
        for where, name in named:
            if name not in known:
                raise ValueError(
                    f"{where} {name!r} is not one of receivers ({', '.join(known)}); "
                    "fix the name or define that receiver"
                )
        return self
