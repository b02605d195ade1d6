"""Upstream's alerts tuned by name and their runbooks pointed elsewhere
(`pks_monitoring.parts.alerts`), checked on the release's own PrometheusRules, and the custom
rules' PrometheusRule."""

from __future__ import annotations

import copy
from collections import Counter
from typing import Any

import pytest

from pks_monitoring.parts.alerts import PART, custom_rule
from pks_monitoring.parts.part import StackInputs
from pks_monitoring.rules import RuleFile
from pks_monitoring.settings import Settings, SettingsError
from pks_monitoring.upstream import PROMETHEUS
from tests.helpers.schemas import crd_schemas, validate_custom
from tests.helpers.settings import BASE, one_line_error


def inputs(kube_prometheus, alerts: dict[str, Any], platform: str = "pks") -> StackInputs:
    raw = {**BASE, "pks-monitoring:alerts": alerts, "pks-monitoring:platform": platform}
    return StackInputs(Settings.from_raw(raw), kube_prometheus)


def patched_rules(kube_prometheus, alerts: dict[str, Any]) -> list[dict[str, Any]]:
    """Upstream's PrometheusRules after the alerts part's patches."""
    rules = [copy.deepcopy(o) for o in kube_prometheus.objects if o["kind"] == "PrometheusRule"]
    for patch in PART.patches(inputs(kube_prometheus, alerts)):
        for obj in rules:
            patch(obj)
    return rules


def alert_rules(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r for o in objects for g in o["spec"]["groups"] for r in g["rules"] if "alert" in r]


@pytest.fixture(scope="module")
def upstream_rules(kube_prometheus) -> list[dict[str, Any]]:
    return alert_rules([o for o in kube_prometheus.objects if o["kind"] == "PrometheusRule"])


@pytest.fixture(scope="module")
def repeated(upstream_rules) -> str:
    """An alert upstream writes as more than one rule (one per threshold)."""
    name, count = Counter(r["alert"] for r in upstream_rules).most_common(1)[0]
    assert count > 1
    return name


def test_a_tuning_changes_every_rule_of_the_alert_and_nothing_else(kube_prometheus, upstream_rules, repeated):
    tuning = {"for": "42m", "severity": "info", "labels": {"team": "platform"}}
    after = alert_rules(patched_rules(kube_prometheus, {"tune": {repeated: tuning}}))
    tuned = [r for r in after if r["alert"] == repeated]
    assert len(tuned) == sum(r["alert"] == repeated for r in upstream_rules)
    for rule in tuned:
        assert rule["for"] == "42m"
        assert rule["labels"]["severity"] == "info" and rule["labels"]["team"] == "platform"
        assert rule["expr"] and rule["annotations"]  # the rest stays
    others = [r for r in after if r["alert"] != repeated]
    assert others == [r for r in upstream_rules if r["alert"] != repeated]


def test_a_disabled_alert_is_gone_from_every_group(kube_prometheus, upstream_rules, repeated):
    after = alert_rules(patched_rules(kube_prometheus, {"tune": {repeated: {"disabled": True}}}))
    assert repeated not in {r["alert"] for r in after}
    assert len(after) == len(upstream_rules) - sum(r["alert"] == repeated for r in upstream_rules)


def test_a_group_left_without_rules_goes(kube_prometheus):
    rule = next(o for o in kube_prometheus.objects if o["kind"] == "PrometheusRule")
    group = next(g for g in rule["spec"]["groups"] if all("alert" in r for r in g["rules"]))
    tune = {r["alert"]: {"disabled": True} for r in group["rules"]}
    after = patched_rules(kube_prometheus, {"tune": tune})
    names = [g["name"] for o in after for g in o["spec"]["groups"]]
    assert group["name"] not in names and names


def test_runbook_links_point_under_the_base_with_their_path(kube_prometheus, upstream_rules):
    after = alert_rules(patched_rules(kube_prometheus, {"runbookUrlBase": "https://wiki.example.com/rb/"}))
    upstream_base = "https://runbooks.prometheus-operator.dev/runbooks/"
    paths = [r["annotations"]["runbook_url"].removeprefix(upstream_base) for r in upstream_rules]
    assert all(not path.startswith("https://") for path in paths)  # every upstream link has the base
    assert [r["annotations"]["runbook_url"] for r in after] == [
        f"https://wiki.example.com/rb/{p}" for p in paths
    ]


def test_an_alert_the_release_lacks_is_one_line(kube_prometheus):
    settings = inputs(kube_prometheus, {"tune": {"KubePodCrashloping": {"disabled": True}}})
    one_line_error(
        lambda: PART.patches(settings),
        "pks-monitoring:alerts.tune.KubePodCrashloping",
        "has no alert of that name",
    )


def test_an_alert_the_pks_platform_drops_is_refused_and_taken_on_upstream(kube_prometheus):
    tune = {"tune": {"KubeSchedulerDown": {"for": "1h"}}}
    one_line_error(
        lambda: PART.patches(inputs(kube_prometheus, tune)),
        "pks-monitoring:alerts.tune.KubeSchedulerDown",
        "the pks platform drops this alert",
    )
    patches = PART.patches(inputs(kube_prometheus, tune, platform="upstream"))
    assert patches


def test_an_upstream_alert_is_taken(kube_prometheus):
    # Not a SettingsError: the check knows the release's names, not a list of its own.
    PART.patches(inputs(kube_prometheus, {"tune": {"Watchdog": {"labels": {"team": "ops"}}}}))
    with pytest.raises(SettingsError):
        PART.patches(inputs(kube_prometheus, {"tune": {"watchdog": {}}}))


def test_a_custom_rule_file_is_a_prometheus_rule_the_stack_prometheus_selects(kube_prometheus, manifests_dir):
    groups = [{"name": "g", "rules": [{"alert": "A", "expr": "up == 0", "for": "5m"}]}]
    obj = custom_rule(RuleFile("bosh-vms", groups), "monitoring")
    assert obj["metadata"]["name"] == "pks-custom-bosh-vms" and obj["metadata"]["namespace"] == "monitoring"
    assert obj["spec"]["groups"] == groups
    selector = kube_prometheus.find("Prometheus", PROMETHEUS)["spec"]["ruleSelector"]
    assert selector.get("matchLabels", {}).items() <= obj["metadata"]["labels"].items()
    # The labels older releases select on, as on every upstream PrometheusRule.
    upstream = next(o for o in kube_prometheus.objects if o["kind"] == "PrometheusRule")
    for key in ("prometheus", "role"):
        assert obj["metadata"]["labels"][key] == upstream["metadata"]["labels"][key]
    assert validate_custom(obj, crd_schemas(manifests_dir)) == []
