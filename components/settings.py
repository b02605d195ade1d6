"""The one settings model: every config key of the stack, its type, default and validation.

Config is read once, at the edge (`Settings.from_pulumi_config`), into typed objects that the
components trust. A bad value becomes one `SettingsError` line naming the config key and the fix,
raised before any resource is registered.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Optional

import pulumi
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.alias_generators import to_camel

PROJECT = "pks-monitoring"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFESTS_ENV = "KUBE_PROMETHEUS_MANIFESTS"

# A DNS-1123 label: what Kubernetes accepts as a namespace or object name.
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
Dns1123Label = Annotated[str, Field(pattern=DNS1123_LABEL)]


class SettingsError(pulumi.RunError):
    """One line naming the config key and the fix; `pulumi up` prints it without a traceback."""


class _Model(BaseModel):
    # camelCase in YAML (what operators write), snake_case in Python; unknown keys are refused
    # so a typo never silently falls back to a default.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class KubePrometheusSettings(_Model):
    manifests: Path = Field(
        default=Path("kube-prometheus/manifests"),
        description="kube-prometheus manifests/ directory (relative to the project root); "
        f"the {MANIFESTS_ENV} environment variable overrides it",
    )
    namespace: Dns1123Label = "monitoring"

    def manifests_dir(self) -> Path:
        path = Path(os.environ.get(MANIFESTS_ENV) or self.manifests).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path


class ReplicaSettings(_Model):
    replicas: int = Field(default=1, ge=1, le=10)


class ProviderSettings(_Model):
    """How the explicit Kubernetes provider treats objects that already exist in the cluster."""

    # Adopting a cluster set up by hand with kubectl: pulumi-kubernetes >= 4.29 refuses to create
    # an object that already exists unless told to upsert it.
    upsert_existing_objects: bool = False
    # Take over fields another field manager (kubectl) owns instead of failing on the conflict.
    enable_patch_force: bool = False


class KubernetesTarget(_Model):
    """Read from the `kubernetes:` namespace, which operators already set for the cluster."""

    context: Optional[str] = Field(default=None, min_length=1)
    kubeconfig: Optional[SecretStr] = None


class Settings(_Model):
    cluster: Dns1123Label
    kube_prometheus: KubePrometheusSettings = KubePrometheusSettings()
    prometheus: ReplicaSettings = ReplicaSettings()
    alertmanager: ReplicaSettings = ReplicaSettings()
    provider: ProviderSettings = ProviderSettings()
    kubernetes: KubernetesTarget = KubernetesTarget()

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
    def from_pulumi_config(cls) -> "Settings":
        """Validate the stack's config; raises SettingsError with one line on bad input."""
        return cls.from_raw(_raw_config())

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> "Settings":
        """`raw` maps full config keys (`pks-monitoring:cluster`) to their values."""
        data: dict[str, Any] = {}
        target: dict[str, Any] = {}
        for key, value in raw.items():
            namespace, _, name = key.partition(":")
            if namespace == PROJECT:
                data[name] = value
            elif key in ("kubernetes:context", "kubernetes:kubeconfig"):
                target[name] = value
        data["kubernetes"] = target
        unknown = sorted(set(data) - {f.alias or n for n, f in cls.model_fields.items()})
        if unknown:
            key = f"{PROJECT}:{unknown[0]}"
            raise SettingsError(
                f"{key}: unknown config key; remove it (`pulumi config rm {key}`) "
                f"or fix its spelling (known keys: {', '.join(_known_keys())})"
            )
        try:
            settings = cls.model_validate(data)
        except ValidationError as error:
            raise SettingsError(_one_line(error)) from None
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


def _known_keys() -> list[str]:
    return sorted(f.alias or n for n, f in Settings.model_fields.items() if n != "kubernetes")


def _config_key(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "kubernetes":
        return "kubernetes:" + ".".join(parts[1:]) if len(parts) > 1 else "kubernetes"
    head, rest = (parts[0], parts[1:]) if parts else ("", [])
    path = head + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)
    return f"{PROJECT}:{path}"


def _one_line(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    key = _config_key(first["loc"])
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key; remove it or fix its spelling"
    elif first["type"] == "missing":
        message = "required; set it with `pulumi config set`"
    elif "input" in first and first["type"] not in ("value_error",):
        shown = first["input"]
        if not isinstance(shown, (dict, list)) and "secret" not in key.lower():
            message += f" (got {shown!r})"
    if first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{key}: {message}"


def _raw_config() -> dict[str, Any]:
    """Every config key the engine (or the mock engine) passed to the program, JSON decoded."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    for key in sorted(keys):
        value = runtime_config.get_config(key)
        # Structured values (objects, lists) arrive as JSON text; scalars stay the strings they
        # are, so a cluster named "123" is not turned into a number.
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                pass  # not JSON after all: validation reports the key with its type
        raw[key] = value
    return raw

