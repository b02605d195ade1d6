"""__main__.py with `alerts` set: the engine gets upstream's rules tuned and the custom rules of
`rules/` as PrometheusRules, valid against the CRD."""

from __future__ import annotations

import json

import pytest

from pks_monitoring.offline.mock_engine import Recorder, run_program, stack_config
from pks_monitoring.offline.render import plain
from pks_monitoring.rules import RULES_DIR, load_rules
from pks_monitoring.settings import SettingsError
from tests.helpers.schemas import crd_schemas, validate_custom

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

ALERTS = {
    "tune": {
        "KubePodCrashLooping": {"for": "45m", "severity": "info", "labels": {"team": "apps"}},
        "Watchdog": {"disabled": True},
    },
    "runbookUrlBase": "https://wiki.example.com/runbooks",
}


def test_the_engine_gets_tuned_upstream_rules_and_the_custom_rules(dev_stack_file, manifests_dir):
    config, secret_keys = stack_config(dev_stack_file)
    config["pks-monitoring:alerts"] = json.dumps(ALERTS)
    run = run_program(config, secret_keys)
    rules = {
        r.inputs["metadata"]["name"]: plain(r.inputs)
        for r in run.recorder.kubernetes_objects()
        if r.inputs["kind"] == "PrometheusRule"
    }
    every = [rule for obj in rules.values() for group in obj["spec"]["groups"] for rule in group["rules"]]
    crash = [rule for rule in every if rule.get("alert") == "KubePodCrashLooping"]
    assert crash and all(
        r["for"] == "45m" and r["labels"] == {"severity": "info", "team": "apps"} for r in crash
    )
    assert not [rule for rule in every if rule.get("alert") == "Watchdog"]
    assert (
        crash[0]["annotations"]["runbook_url"]
        == "https://wiki.example.com/runbooks/kubernetes/kubepodcrashlooping"
    )
    custom = load_rules(RULES_DIR)
    assert custom
    for rule_file in custom:
        obj = rules[rule_file.prometheus_rule_name]
        assert obj["spec"]["groups"] == rule_file.groups
        assert obj["metadata"]["namespace"] == run.outputs["namespace"]
    schemas = crd_schemas(manifests_dir)
    assert {name: validate_custom(obj, schemas) for name, obj in rules.items()} == {
        name: [] for name in rules
    }


def test_an_unknown_alert_stops_the_program_before_any_resource(dev_stack_file):
    config, secret_keys = stack_config(dev_stack_file)
    config["pks-monitoring:alerts"] = json.dumps({"tune": {"NoSuchAlert": {"disabled": True}}})
    recorder = Recorder()
    with pytest.raises(SettingsError) as caught:
        run_program(config, secret_keys, mocks=recorder)
    assert str(caught.value).startswith("pks-monitoring:alerts.tune.NoSuchAlert: kube-prometheus ")
    assert "\n" not in str(caught.value)
    assert recorder.resources == []
