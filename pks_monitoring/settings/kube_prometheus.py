"""`kubePrometheus`: the kube-prometheus release in use and the namespace it goes to.

Which release fits which Kubernetes is pks_monitoring.releases' business; here only the shape."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

from pydantic import Field, field_validator

from pks_monitoring.settings.types import PROJECT_ROOT, Dns1123Label, Model

MANIFESTS_ENV = "KUBE_PROMETHEUS_MANIFESTS"
# Namespaces the cluster's own software lives in: Kubernetes' (and its reserved `kube-` prefix),
# TKGI's (pks-system: its sinks and observability), NSX-T's NCP, Tanzu Mission Control's agents.
# Upstream's per-namespace Roles and its NetworkPolicies would land among theirs, and the
# Namespace resource would claim (and on destroy retain or delete) one the cluster owns.
SYSTEM_NAMESPACES = frozenset({"default", "pks-system", "nsx-system", "vmware-system-tmc"})


class KubePrometheusSettings(Model):
    manifests: Path = Field(
        default=Path("kube-prometheus/manifests"),
        description="kube-prometheus manifests/ directory (relative to the project root); "
        f"the {MANIFESTS_ENV} environment variable relocates it (same release, same bytes)",
    )
    namespace: Dns1123Label = "monitoring"
    # The tag the manifests are, for releases the program does not tell by their manifests
    # (pks_monitoring.releases.OPERATOR_VERSION); checked against them where it can.
    release: Optional[Annotated[str, Field(pattern=r"^v0\.\d+\.\d+$")]] = None
    # Run a release upstream did not test on the cluster's Kubernetes minor: the operator's call.
    allow_untested_kubernetes: bool = False
    # Pulumi `protect` on what outlives the stack anyway (the Namespace, the CRDs, the claims):
    # for production stacks, where even a deliberate `pulumi destroy` should stop first.
    protect: bool = False
    # A new namespace on an existing stack leaves all stored data behind: refused unless set
    # (pks_monitoring.namespace_guard).
    move_namespace: bool = False

    @field_validator("namespace")
    @classmethod
    def _not_a_system_namespace(cls, value: str) -> str:
        if value in SYSTEM_NAMESPACES or value.startswith("kube-"):
            raise ValueError(
                f"{value!r} is a namespace of the cluster's own (Kubernetes, TKGI, NSX-T or TMC); "
                "give the stack a namespace of its own, e.g. monitoring"
            )
        return value

    def manifests_dir(self) -> Path:
        """The directory the program reads: where the environment relocates the stack's."""
        return self.relocated_manifests_dir() or self.stack_manifests_dir()

    def stack_manifests_dir(self) -> Path:
        return _from_project_root(self.manifests)

    def relocated_manifests_dir(self) -> Optional[Path]:
        """Where KUBE_PROMETHEUS_MANIFESTS puts the pinned release (CI fetches it there);
        pks_monitoring.lock checks it holds the release the stack pins."""
        value = os.environ.get(MANIFESTS_ENV)
        return _from_project_root(Path(value)) if value else None


def _from_project_root(path: Path) -> Path:
    path = path.expanduser()
    return path if path.is_absolute() else PROJECT_ROOT / path
