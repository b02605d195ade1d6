"""`prometheus.remoteWrite`: the central stores Prometheus sends every series to, with their
credentials and TLS material (secrets), write relabeling and queue settings.

The URL is plain config: prometheus-operator takes it as a plain string (it lands in the
Prometheus resource and its generated config), so credentials in the URL itself are refused and
go to `basicAuth` or `bearerToken`, which the stack keeps in a Secret the resource references."""

from __future__ import annotations

import re
from typing import Any, Literal, Optional
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator

from pks_monitoring.settings.prometheus_syntax import go_regex_problem
from pks_monitoring.settings.types import Model, prometheus_duration, undecrypted

# Prometheus' classic label names (model.LabelName.IsValid without UTF-8): what both Prometheus 2
# and 3 take, and the pattern of the v0.16.0 CRD's sourceLabels.
LABEL_NAME = r"^[a-zA-Z_][a-zA-Z0-9_]*$"
# A replace action's target_label may name capture groups ($1, ${name}): Prometheus' relabelTarget.
RELABEL_TARGET = r"^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$"
# Actions that write `target_label` (Prometheus refuses them without one).
_TARGETED = ("replace", "hashmod", "lowercase", "uppercase", "keepequal", "dropequal")
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
RemoteWriteAction = Literal[
    "replace", "keep", "drop", "hashmod", "labelmap", "labeldrop", "labelkeep",
    "lowercase", "uppercase", "keepequal", "dropequal",
]  # fmt: skip


def _non_empty_secret(value: Any) -> Any:
    # Refused in our words: pydantic's own message would echo the (secret) value.
    if value is not None and (not isinstance(value, str) or not value.strip()):
        raise ValueError("must be a non-empty string (the value is secret and not shown)")
    return value


class BasicAuth(Model):
    username: str = Field(min_length=1)
    password: SecretStr

    @field_validator("password", mode="before")
    @classmethod
    def _secret_text(cls, value: Any) -> Any:
        return _non_empty_secret(value)


class RemoteWriteTls(Model):
    """TLS to the store: the CA that signs its certificate and a client certificate (PEM)."""

    ca: Optional[str] = None  # PEM; unset: the system's CAs
    cert: Optional[str] = None  # PEM client certificate, with key
    key: Optional[SecretStr] = None  # PEM private key of cert
    insecure_skip_verify: Optional[bool] = None
    server_name: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9.-]+$")

    @field_validator("ca", "cert")
    @classmethod
    def _pem_certificate(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and PEM_CERTIFICATE not in value:
            raise ValueError(f"not a PEM certificate (no {PEM_CERTIFICATE} line); give the file's text")
        return value

    @field_validator("key", mode="before")
    @classmethod
    def _secret_text(cls, value: Any) -> Any:
        return _non_empty_secret(value)

    @field_validator("key")
    @classmethod
    def _pem_key(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None and not undecrypted(value) and "-----BEGIN " not in value.get_secret_value():
            raise ValueError("not a PEM private key (the value is secret and not shown)")
        return value

    @model_validator(mode="after")
    def _cert_with_key(self) -> RemoteWriteTls:
        if (self.cert is None) != (self.key is None):
            raise ValueError(
                "cert and key go together (the client certificate and its key); set both or neither"
            )
        return self


class RelabelConfig(Model):
    """One write relabeling step, in prometheus-operator's RelabelConfig terms; checked as
    Prometheus' relabel.Config.Validate checks it; `regex` in Go's syntax (RE2), anchored as
    Prometheus anchors it."""

    source_labels: Optional[list[str]] = None
    separator: Optional[str] = None
    target_label: Optional[str] = None
    regex: Optional[str] = None
    modulus: Optional[int] = Field(default=None, ge=1)
    replacement: Optional[str] = None
    action: RemoteWriteAction = "replace"

    @field_validator("regex")
    @classmethod
    def _go_regex(cls, value: Optional[str]) -> Optional[str]:
        problem = None if value is None else go_regex_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("action", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        # The CRD takes both spellings (Replace, replace); the operator writes them lowercased.
        return value.lower() if isinstance(value, str) else value

    @field_validator("source_labels")
    @classmethod
    def _label_names(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        for label in value or []:
            if not re.fullmatch(LABEL_NAME, label):
                raise ValueError(f"{label!r} is not a label name (letters, digits and _, not first a digit)")
        return value

    @model_validator(mode="after")
    def _as_prometheus_validates(self) -> RelabelConfig:
        action, target = self.action, self.target_label
        if action == "hashmod" and self.modulus is None:
            raise ValueError("action hashmod needs modulus (a positive number)")
        if action in _TARGETED and not target:
            raise ValueError(f"action {action} needs targetLabel")
        pattern = RELABEL_TARGET if action == "replace" else LABEL_NAME
        if action in _TARGETED and not re.fullmatch(pattern, target or ""):
            raise ValueError(f"{target!r} is not a label name Prometheus takes as targetLabel of {action}")
        if action in ("lowercase", "uppercase", "keepequal", "dropequal") and self.replacement is not None:
            raise ValueError(f"action {action} takes no replacement; remove it")
        if action in ("keepequal", "dropequal") and self.model_fields_set & {"regex", "modulus", "separator"}:
            raise ValueError(f"action {action} takes only sourceLabels and targetLabel")
        if action in ("labeldrop", "labelkeep") and self.model_fields_set - {"regex", "action"}:
            raise ValueError(f"action {action} takes only regex (the label names it matches)")
        if action == "labelmap" and not re.fullmatch(RELABEL_TARGET, self.replacement or "$1"):
            raise ValueError(
                f"{self.replacement!r} is not a label name (or $1...) for labelmap's replacement"
            )
        return self


class QueueConfig(Model):
    """How Prometheus batches and retries what it sends (prometheus-operator's QueueConfig);
    unset fields keep Prometheus' defaults."""

    capacity: Optional[int] = Field(default=None, ge=1)
    min_shards: Optional[int] = Field(default=None, ge=1)
    max_shards: Optional[int] = Field(default=None, ge=1)
    max_samples_per_send: Optional[int] = Field(default=None, ge=1)
    batch_send_deadline: Optional[str] = None
    min_backoff: Optional[str] = None
    max_backoff: Optional[str] = None
    retry_on_rate_limit: Optional[bool] = None

    @field_validator("batch_send_deadline", "min_backoff", "max_backoff")
    @classmethod
    def _duration(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else prometheus_duration(value)

    @model_validator(mode="after")
    def _shards_in_order(self) -> QueueConfig:
        if self.min_shards is not None and self.max_shards is not None and self.min_shards > self.max_shards:
            raise ValueError(f"minShards {self.min_shards} is above maxShards {self.max_shards}")
        return self


class RemoteWriteEndpoint(Model):
    """One store Prometheus sends every series to (with the cluster's external label)."""

    # Names the queue in Prometheus' metrics and logs, and the endpoint's keys in the Secret.
    name: str = Field(pattern=r"^[a-z0-9]([-a-z0-9]{0,40}[a-z0-9])?$")
    url: str
    basic_auth: Optional[BasicAuth] = None
    bearer_token: Optional[SecretStr] = None
    tls: Optional[RemoteWriteTls] = None
    write_relabel_configs: list[RelabelConfig] = []
    queue_config: Optional[QueueConfig] = None

    @field_validator("url")
    @classmethod
    def _http_url_without_credentials(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value):
            raise ValueError(f"{value!r} is not an http(s) URL (e.g. https://store.example/api/v1/write)")
        if parts.username is not None or parts.password is not None:
            # Not shown: the part before @ is a credential.
            raise ValueError(
                "holds credentials (user:password@), which would stand in the Prometheus resource in "
                "plain text; remove them from the URL and set basicAuth (password as a secret)"
            )
        return value

    @field_validator("bearer_token", mode="before")
    @classmethod
    def _secret_text(cls, value: Any) -> Any:
        return _non_empty_secret(value)

    @model_validator(mode="after")
    def _one_authentication(self) -> RemoteWriteEndpoint:
        if self.basic_auth is not None and self.bearer_token is not None:
            raise ValueError("basicAuth and bearerToken are exclusive (Prometheus sends one); keep one")
        if self.tls is not None and not self.url.startswith("https://"):
            raise ValueError("tls is for an https:// URL; use https or remove tls")
        return self
