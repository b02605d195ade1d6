"""The stack's namespace stays put unless the operator says move (`kubePrometheus.moveNamespace`).

A new `kubePrometheus.namespace` on an existing stack re-creates every object in the new namespace
and leaves every claim, with all metrics history, silences and Grafana's database, in the old one
(retained, see MonitoringStack). Only the engine knows what the namespace was: the guard is a
dynamic resource whose inputs are the namespace and the move flag, and whose Check (which the
engine calls with the inputs of the last deployment, at preview and at up, before any step)
refuses the change in one line. The Namespace and the CRDs depend on it, and every other object
of the stack on them, so nothing has changed when the refusal comes.
"""

from __future__ import annotations

from typing import Any, Optional

import pulumi
from pulumi.dynamic import (
    CheckFailure,
    CheckResult,
    CreateResult,
    DiffResult,
    Resource,
    ResourceProvider,
    UpdateResult,
)

NAMESPACE, MOVE = "namespace", "move"


def move_refusal(before: Optional[str], now: str, move: bool) -> Optional[str]:
    """Why a stack may not go from namespace `before` (None: a new stack) to `now`."""
    if before is None or before == now or move:
        return None
    return (
        f"kubePrometheus.namespace changed from {before} to {now} on an existing stack: every object "
        f"would be re-created in {now}, empty, and the claims with all metrics history, silences and "
        f"Grafana's database stay in {before}; set it back to {before}, or set "
        "kubePrometheus.moveNamespace: true to move anyway (README: Destroy, and the full teardown)"
    )


class _Guard(ResourceProvider):
    # Its only state is the namespace and the flag: nothing secret to hide in the state.
    serialize_as_secret_always = False

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> CheckResult:
        refusal = move_refusal(olds.get(NAMESPACE), news[NAMESPACE], bool(news.get(MOVE)))
        return CheckResult(news, [CheckFailure(NAMESPACE, refusal)] if refusal else [])

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(props[NAMESPACE], props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changes = [key for key in (NAMESPACE, MOVE) if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changes), replaces=[], delete_before_replace=False)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(news)


class NamespaceGuard(Resource, module="pks-monitoring", name="NamespaceGuard"):
    def __init__(
        self, name: str, namespace: str, move: bool, opts: Optional[pulumi.ResourceOptions] = None
    ) -> None:
        super().__init__(_Guard(), name, {NAMESPACE: namespace, MOVE: move}, opts)
