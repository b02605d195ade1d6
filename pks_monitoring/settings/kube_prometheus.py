"""`kubePrometheus`: the kube-prometheus release in use and the namespace it goes to.

Which release fits which Kubernetes is pks_monitoring.releases' business; here only the shape."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

from pydantic import Field

from pks_monitoring.settings.types import PROJECT_ROOT, Dns1123Label, Model

MANIFESTS_ENV = "KUBE_PROMETHEUS_MANIFESTS"


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
