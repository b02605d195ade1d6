"""The `kubernetes:` target: the cluster the stack deploys to."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, SecretStr

from pks_monitoring.settings.types import Model


class KubernetesTarget(Model):
    """Read from the `kubernetes:` namespace, which operators already set for the cluster."""

    context: Optional[str] = Field(default=None, min_length=1)
    kubeconfig: Optional[SecretStr] = None
