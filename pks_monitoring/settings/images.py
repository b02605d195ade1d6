"""`images`: where the stack's images come from, for clusters that reach no public registry
(TKGI ships Harbor for that): one registry mirror for every image, per-image overrides, and the
pull secret the pods use."""

from __future__ import annotations

import re
from typing import Optional

from pydantic import Field, SecretStr, field_validator, model_validator

from pks_monitoring.settings.types import Model

# The reference grammar of distribution/reference (the one container runtimes parse): a
# registry host with optional port, path components, then an optional tag and digest.
_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?"
REGISTRY = re.compile(rf"{_HOST}(?:/{_COMPONENT})*")
REPOSITORY = re.compile(rf"(?:{_HOST}/)?{_COMPONENT}(?:/{_COMPONENT})*")
IMAGE = re.compile(rf"{REPOSITORY.pattern}(?::[\w][\w.-]{{0,127}})?(?:@sha256:[0-9a-f]{{64}})?")


def _fullmatch(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise ValueError(f"{value[:80]!r} is not {what}")
    return value


class PullSecretSettings(Model):
    """A registry login, made into a `kubernetes.io/dockerconfigjson` Secret the stack's pods
    pull with."""

    server: Optional[str] = None  # default: the host of `images.registry`
    username: str = Field(min_length=1)
    password: SecretStr

    @field_validator("server")
    @classmethod
    def _host(cls, value: Optional[str]) -> Optional[str]:
        return (
            None
            if value is None
            else _fullmatch(REGISTRY, value, "a registry host (harbor.example.org[:port])")
        )


class ImagesSettings(Model):
    # Every image the stack runs comes from here: the source registry's host is replaced, the
    # path and tag kept (quay.io/prometheus/prometheus:v3.5.0 -> <registry>/prometheus/prometheus:v3.5.0),
    # as a Harbor project replicating or proxying those registries serves them.
    registry: Optional[str] = None
    # Source repository (as in `images` of the stack outputs, without the tag) -> the image to
    # run instead (a whole reference; takes precedence over the registry).
    overrides: dict[str, str] = {}
    pull_secret: Optional[PullSecretSettings] = None

    @field_validator("registry")
    @classmethod
    def _registry(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        return _fullmatch(
            REGISTRY,
            value,
            "a registry host with an optional path, without a scheme (harbor.example.org/monitoring)",
        )

    @field_validator("overrides")
    @classmethod
    def _references(cls, value: dict[str, str]) -> dict[str, str]:
        for source, image in value.items():
            _fullmatch(REPOSITORY, source, "a source repository without tag (quay.io/prometheus/prometheus)")
            _fullmatch(IMAGE, image, f"an image reference (for {source}: registry/path:tag[@sha256:digest])")
        return value

    @model_validator(mode="after")
    def _login_names_its_registry(self) -> ImagesSettings:
        if self.pull_secret is not None and self.pull_secret.server is None and self.registry is None:
            raise ValueError(
                "pullSecret.server is required without images.registry: the registry host the login is for"
            )
        return self
