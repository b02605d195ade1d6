"""`kubePrometheus`: the kube-prometheus release in use and the namespace it goes to."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from pks_monitoring.settings.types import PROJECT_ROOT, Dns1123Label, Model

MANIFESTS_ENV = "KUBE_PROMETHEUS_MANIFESTS"


class KubePrometheusSettings(Model):
    manifests: Path = Field(
        default=Path("kube-prometheus/manifests"),
        description="kube-prometheus manifests/ directory (relative to the project root); "
        f"the {MANIFESTS_ENV} environment variable overrides it",
    )
    namespace: Dns1123Label = "monitoring"

    def manifests_dir(self) -> Path:
        path = Path(os.environ.get(MANIFESTS_ENV) or self.manifests).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path
