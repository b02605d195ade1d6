"""What a part of the stack is: the patches it applies to upstream's objects and the objects it
adds, both computed from the stack's inputs before any resource is registered."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pks_monitoring.dashboards import Dashboard
from pks_monitoring.manifests import Manifest, Transformation
from pks_monitoring.rules import RuleFile
from pks_monitoring.settings import Settings
from pks_monitoring.upstream import KubePrometheus


@dataclass(frozen=True)
class StackInputs:
    """Everything a part may read: the validated settings and what was read from disk."""

    settings: Settings
    upstream: KubePrometheus
    dashboards: tuple[Dashboard, ...] = ()  # ours, from dashboards/
    app_jobs: tuple[str, ...] = ()  # the scrape job of every monitored app
    rules: tuple[RuleFile, ...] = ()  # ours, from rules/
    team_namespaces: tuple[str, ...] = ()  # where apps route their own alerts (sorted, once each)

    @property
    def namespace(self) -> str:
        return self.settings.kube_prometheus.namespace


@dataclass(frozen=True)
class Added:
    """An object a part adds to the stack, registered as `<stack>-<resource_name>`."""

    manifest: Manifest
    resource_name: str = ""  # default: the object's name
    # Upstream's objects wait for it (Grafana's pod for its admin Secret, rather than failing
    # until it exists).
    awaited: bool = False

    @property
    def name(self) -> str:
        return self.resource_name or str(self.manifest["metadata"]["name"])


def _nothing(inputs: StackInputs) -> list[Added]:
    return []


@dataclass(frozen=True)
class Part:
    """One part of the stack (kube-prometheus' `components/<part>`), named as its config key."""

    name: str
    patches: Callable[[StackInputs], list[Transformation]]
    objects: Callable[[StackInputs], list[Added]] = field(default=_nothing)


@dataclass(frozen=True)
class PartPlan:
    """What one part does to the stack, computed (and so checked) up front."""

    name: str
    patches: tuple[Transformation, ...]
    objects: tuple[Added, ...]

    @classmethod
    def of(cls, part: Part, inputs: StackInputs) -> PartPlan:
        return cls(part.name, tuple(part.patches(inputs)), tuple(part.objects(inputs)))
