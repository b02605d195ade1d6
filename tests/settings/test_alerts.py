"""`alerts`: tuning upstream's alerts by name, and the runbook URL base."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring:alerts"


def test_a_tuning_is_read_from_its_camel_case_keys():
    raw = {
        **BASE,
        KEY: {
            "tune": {"KubePodCrashLooping": {"for": "30m", "severity": "info", "labels": {"team": "apps"}}},
            "runbookUrlBase": "https://wiki.example.com/runbooks/",
        },
    }
    alerts = Settings.from_raw(raw).alerts
    tuning = alerts.tune["KubePodCrashLooping"]
    assert (tuning.for_, tuning.severity, tuning.labels, tuning.disabled) == (
        "30m",
        "info",
        {"team": "apps"},
        False,
    )
    assert alerts.runbook_url_base == "https://wiki.example.com/runbooks"  # the path joins with one /


@pytest.mark.parametrize(
    ("tuning", "where", "words"),
    [
        ({"for": "5 minutes"}, "for", "not a Prometheus duration"),
        ({"for": "0s"}, "for", "not a Prometheus duration"),
        ({"severity": "page"}, "severity", "'info', 'warning' or 'critical'"),
        ({"labels": {"team-name": "a"}}, "labels", "not a label name"),
        ({"labels": {"__name__": "a"}}, "labels", "not a label name"),
        ({"labels": {"severity": "critical"}}, "labels", "set severity instead"),
        ({"labels": {"alertname": "Other"}}, "labels", "alert's name"),
        ({"disable": True}, "disable", "unknown key"),
    ],
)
def test_a_bad_tuning_is_one_line_naming_the_alert(tuning, where, words):
    raw = {**BASE, KEY: {"tune": {"KubePodCrashLooping": tuning}}}
    assert_one_line_error(raw, f"{KEY}.tune.KubePodCrashLooping.{where}", words)


@pytest.mark.parametrize("base", ["wiki.example.com/runbooks", "https://", "https://wiki example.com"])
def test_a_runbook_base_must_be_a_url(base):
    assert_one_line_error({**BASE, KEY: {"runbookUrlBase": base}}, f"{KEY}.runbookUrlBase", "match pattern")
