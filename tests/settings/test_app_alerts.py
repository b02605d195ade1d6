"""`pks-monitoring:appAlerts`: defaults, the keys as operators write them, and one clear line for
each kind of bad input."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring:appAlerts"


def test_defaults(manifests_dir):
    alerts = Settings.from_raw(
        {**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}}
    ).app_alerts
    assert alerts.enabled is True
    assert (alerts.heap_usage_ratio, alerts.http5xx_ratio, alerts.gc_pause_seconds) == (0.9, 0.05, 0.5)
    assert alerts.http5xx_min_request_rate == 0.1
    assert (
        alerts.window,
        alerts.target_down_for,
        alerts.heap_usage_for,
        alerts.http5xx_for,
        alerts.gc_pause_for,
    ) == ("5m", "5m", "15m", "5m", "10m")


def test_keys_as_operators_write_them(manifests_dir):
    raw = {
        **BASE,
        "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)},
        KEY: {
            "enabled": False,
            "heapUsageRatio": 1,
            "http5xxRatio": 0.2,
            "http5xxMinRequestRate": 0,
            "gcPauseSeconds": 2,
            "window": "2m30s",
            "targetDownFor": "1h",
            "heapUsageFor": "90s",
            "http5xxFor": "1m",
            "gcPauseFor": "500ms",
        },
    }
    alerts = Settings.from_raw(raw).app_alerts
    assert alerts.enabled is False and alerts.heap_usage_ratio == 1 and alerts.http5xx_ratio == 0.2
    assert alerts.http5xx_min_request_rate == 0 and alerts.gc_pause_seconds == 2
    assert (
        alerts.window,
        alerts.target_down_for,
        alerts.heap_usage_for,
        alerts.http5xx_for,
        alerts.gc_pause_for,
    ) == ("2m30s", "1h", "90s", "1m", "500ms")


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"heapUsageRatio": 1.5}, "heapUsageRatio", "less than or equal to 1"),
        ({"heapUsageRatio": 0}, "heapUsageRatio", "greater than 0"),
        ({"http5xxRatio": 1.5}, "http5xxRatio", "less than or equal to 1"),
        ({"http5xxMinRequestRate": -1}, "http5xxMinRequestRate", "greater than or equal to 0"),
        ({"gcPauseSeconds": -0.5}, "gcPauseSeconds", "greater than 0"),
        ({"gcPauseSeconds": "inf"}, "gcPauseSeconds", "finite number"),
        ({"heapUsageFor": "5x"}, "heapUsageFor", "not a Prometheus duration"),
        ({"http5xxFor": "m5"}, "http5xxFor", "not a Prometheus duration"),
        ({"window": "0m"}, "window", "not a Prometheus duration"),
        ({"gcPauseFor": "5"}, "gcPauseFor", "not a Prometheus duration"),
        ({"http5XxRatio": 0.1}, "http5XxRatio", "unknown key"),  # to_camel's spelling
    ],
)
def test_bad_app_alert_input_is_one_line_naming_the_key(values, key, words):
    assert_one_line_error({**BASE, KEY: values}, f"{KEY}.{key}", words)
