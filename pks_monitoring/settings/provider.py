"""`provider` and the `kubernetes:` target: the cluster the stack deploys to, and how the
explicit Kubernetes provider treats objects that already exist there."""

from __future__ import annotations

from typing import Optional

from pydantic import Field, SecretStr

from pks_monitoring.settings.types import Model


class ProviderSettings(Model):
    """How the explicit Kubernetes provider treats objects that already exist in the cluster."""

    # Adopting a cluster set up by hand with kubectl: pulumi-kubernetes >= 4.29 refuses to create
    # an object that already exists unless told to upsert it.
    upsert_existing_objects: bool = False
    # Take over fields another field manager (kubectl) owns instead of failing on the conflict.
    enable_patch_force: bool = False


class KubernetesTarget(Model):
    """Read from the `kubernetes:` namespace, which operators already set for the cluster."""

    context: Optional[str] = Field(default=None, min_length=1)
    kubeconfig: Optional[SecretStr] = None
