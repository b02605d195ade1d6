"""Alert rules (`alerts`): upstream's alerts tuned by name and their runbook links pointed at the
site's runbooks, plus the custom rules of `rules/` (pks_monitoring.rules), one PrometheusRule
each.

A tuned name must be an alert the stack keeps: one the release does not have is a typo (or a
rule that moved away in an upgrade), and one the platform's patch set drops (PKS:
KubeSchedulerDown, KubeControllerManagerDown) would never fire anyway. Both are refused, so a
`tune` entry never silently does nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from functools import partial
from typing import Any

from pks_monitoring import platforms
from pks_monitoring.manifests import Manifest, Transformation
from pks_monitoring.parts import apps
from pks_monitoring.parts.part import Added, Part, StackInputs
from pks_monitoring.rules import RuleFile
from pks_monitoring.settings import PROJECT, SettingsError
from pks_monitoring.settings.alerts import AlertTuning

KEY = f"{PROJECT}:alerts.tune"
# Where every upstream runbook_url points, `<base>/<group>/<alertname-lowercase>`.
UPSTREAM_RUNBOOKS = "https://runbooks.prometheus-operator.dev/runbooks"
# Upstream's rule labels (which every Prometheus `k8s` ruleSelector takes), as on the apps' rule.
CUSTOM_LABELS = {**apps.LABELS, "app.kubernetes.io/component": "custom-rules"}


def _alert_names(objects: Iterable[Manifest]) -> set[str]:
    """The alert of every rule in every group of the PrometheusRules among `objects`."""
    return {
        rule["alert"]
        for obj in objects
        if obj.get("kind") == "PrometheusRule"
        for group in (obj.get("spec") or {}).get("groups") or []
        for rule in group.get("rules") or []
        if "alert" in rule
    }


def _kept_by_platform(inputs: StackInputs) -> set[str]:
    """The upstream alerts left once the platform's patch set has dropped its rule groups."""
    rules = [copy.deepcopy(obj) for obj in inputs.upstream.objects if obj.get("kind") == "PrometheusRule"]
    for patch in platforms.PLATFORMS[inputs.settings.platform].patches(inputs):
        for obj in rules:
            patch(obj)
    return _alert_names(rules)


def check_tuned_names(inputs: StackInputs) -> None:
    """Every `tune` name is an alert of the release that the stack keeps; else one line."""
    shipped = _alert_names(inputs.upstream.objects)
    kept = _kept_by_platform(inputs)
    release = inputs.settings.kube_prometheus.release or f"at {inputs.upstream.root}"
    for name in inputs.settings.alerts.tune:
        if name not in shipped:
            raise SettingsError(
                f"{KEY}.{name}: kube-prometheus {release} has no alert of that name; fix the spelling "
                "(names are case-sensitive, as in KubePodCrashLooping) or remove the entry"
            )
        if name not in kept:
            raise SettingsError(
                f"{KEY}.{name}: the {inputs.settings.platform} platform drops this alert (its rule "
                "group watches what Prometheus cannot reach there), so tuning it does nothing; remove the entry"
            )


def tuned_rule(rule: dict[str, Any], tuning: AlertTuning) -> dict[str, Any] | None:
    """`rule` with its tuning applied; None when the tuning disables it."""
    if tuning.disabled:
        return None
    tuned = copy.deepcopy(rule)
    if tuning.for_ is not None:
        tuned["for"] = tuning.for_
    labels = {**tuned.get("labels", {}), **tuning.labels}
    if tuning.severity is not None:
        labels["severity"] = tuning.severity
    if labels:
        tuned["labels"] = labels
    return tuned


def tune_alerts(obj: Manifest, *, tune: dict[str, AlertTuning]) -> None:
    """Every rule of a tuned alert, in every group of every upstream PrometheusRule, changed or
    left out; a group left with no rule goes too (Prometheus has nothing to evaluate in it)."""
    if obj.get("kind") != "PrometheusRule" or not tune:
        return
    spec = obj.get("spec") or {}
    groups = []
    for group in spec.get("groups") or []:
        rules = [
            tuned_rule(rule, tune[rule["alert"]]) if rule.get("alert") in tune else rule
            for rule in group.get("rules") or []
        ]
        kept = [rule for rule in rules if rule is not None]
        if kept:
            groups.append({**group, "rules": kept})
    if "groups" in spec:
        spec["groups"] = groups


def point_runbooks(obj: Manifest, *, base: str) -> None:
    """Upstream's runbook links point under `base`, the path below upstream's base kept."""
    if obj.get("kind") != "PrometheusRule":
        return
    for group in (obj.get("spec") or {}).get("groups") or []:
        for rule in group.get("rules") or []:
            annotations = rule.get("annotations") or {}
            url = annotations.get("runbook_url")
            if isinstance(url, str) and url.startswith(f"{UPSTREAM_RUNBOOKS}/"):
                annotations["runbook_url"] = base + url.removeprefix(UPSTREAM_RUNBOOKS)


def custom_rule(rule_file: RuleFile, namespace: str) -> Manifest:
    """The PrometheusRule of one `rules/<name>.yaml`, in the stack's namespace."""
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": rule_file.prometheus_rule_name,
            "namespace": namespace,
            "labels": dict(CUSTOM_LABELS),
        },
        "spec": {"groups": copy.deepcopy(rule_file.groups)},
    }


def patches(inputs: StackInputs) -> list[Transformation]:
    check_tuned_names(inputs)
    settings = inputs.settings.alerts
    found: list[Transformation] = [partial(tune_alerts, tune=settings.tune)]
    if settings.runbook_url_base is not None:
        found.append(partial(point_runbooks, base=settings.runbook_url_base))
    return found


def objects(inputs: StackInputs) -> list[Added]:
    return [Added(custom_rule(rule_file, inputs.namespace)) for rule_file in inputs.rules]


PART = Part("alerts", patches, objects)
