"""Durations, Alertmanager matchers and group_by, file_sd paths: each table judged by us and by
the real tool on the same value (promtool, amtool), accepted by us exactly when the tool accepts
it; and each refusal is one line naming the config key."""

from __future__ import annotations

import json

import pytest

from pks_monitoring.settings.prometheus_syntax import (
    alertmanager_group_by,
    alertmanager_matchers,
    file_sd_path,
)
from pks_monitoring.settings.types import prometheus_duration
from tests.helpers.prometheus_tools import require, run_tool
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring"


def accepted(validate, value) -> bool:
    try:
        validate(value)
    except ValueError:
        return False
    return True


def tool_accepts(tool: str, command: str, path, document: dict) -> bool:
    """`<tool> <command> <path>` on `document` (JSON is YAML): exit 0, or a refusal (exit 1)."""
    path.write_text(json.dumps(document))
    result = run_tool([require(tool), *command.split(), str(path)])
    assert result.returncode in (0, 1), result.stdout + result.stderr
    return result.returncode == 0


def verdicts(values, ours, theirs) -> list[tuple[object, bool, bool]]:
    """The values on which we and the tool disagree, with both verdicts."""
    return [(v, ours(v), theirs(v)) for v in values if ours(v) != theirs(v)]


# --- durations: model.ParseDuration -------------------------------------------------------------

DURATIONS = [
    "30s", "1m", "1h30m", "15d", "2w", "1y", "1y2w3d4h5m6s7ms", "01s", "1y0d", "90m", "500ms",
    "292y", "106751d", "9223372036854ms",  # the largest time.Duration holds
    "293y", "106752d", "9223372036855ms", "10000000y", "99999999999999999999s",  # overflow
    "30m1h", "1h1h", "1.5s", "15 d", "-1d", "1H", "1h ", " 1h", "d", "", "15x", "1ms1s", "1sm",
]  # fmt: skip
# Zero Prometheus takes, and we refuse: no interval, timer, retention or `for:` here means it.
ZERO_DURATIONS = ["0", "0s", "0d0h"]


def promtool_takes_duration(tmp_path, value: str) -> bool:
    # A scrape interval and an alert's `for:`: the two ways Prometheus reads a duration here.
    config = {"global": {"scrape_interval": value, "evaluation_interval": "1m"}}
    rule = {"alert": "A", "expr": "up == 0", "for": value}
    in_config = tool_accepts("promtool", "check config", tmp_path / "p.yml", config)
    in_rule = tool_accepts(
        "promtool", "check rules", tmp_path / "r.yml", {"groups": [{"name": "g", "rules": [rule]}]}
    )
    assert in_config == in_rule, value
    return in_config


def test_durations_as_promtool_reads_them(tmp_path):
    assert (
        verdicts(
            DURATIONS,
            lambda v: accepted(prometheus_duration, v),
            lambda v: promtool_takes_duration(tmp_path, v),
        )
        == []
    )
    assert [
        v
        for v in ZERO_DURATIONS
        if accepted(prometheus_duration, v) or not promtool_takes_duration(tmp_path, v)
    ] == []


@pytest.mark.parametrize(
    "config, key",
    [
        ({f"{KEY}:prometheus": {"retention": {"time": "10000000y"}}}, f"{KEY}:prometheus.retention.time"),
        ({f"{KEY}:appAlerts": {"targetDownFor": "293y"}}, f"{KEY}:appAlerts.targetDownFor"),
    ],
)
def test_an_overflowing_duration_is_one_line(config, key):
    assert_one_line_error({**BASE, **config}, key, "longer than a Prometheus duration holds")


# --- Alertmanager matchers and group_by ---------------------------------------------------------

MATCHERS = [
    'alertname =~ "Kube.*"', "a=b", "a=", 'a=""', 'a=~""', 'a="b\\"c"', "a==b", 'a="é"',
    'a=~"x{1,2}"', "a=b,c=d", "a=b,", '{a="b"}', "a:b=c", 'a!~"x|"', 'a != "b"',
    'a=~"(?P<n>x)"', 'a=~"\\d+"', 'a =~ "[[:alpha:]]"', 'a=~"\\pL"', 'a=~"\\z"', 'a=~"\\b"',
    'a=~"\\Q.\\E"', 'a=~"(?U)x*"', 'a=~"(?i)x"', 'a=~"\\x{10FFFF}"', 'a="x,y"', "a=\\,",
    'a=~"x)(?:y"',  # anchored as ^(?:x)(?:y)$, which compiles
    # Refused by Alertmanager: unclosed regex or quote, bad label, Go-only regex syntax...
    'alertname=~"(Kube"', 'alertname="x', 'alertname=x"', 'a="b"c"', 'a="b\\\\"c"', "a=~x{1,2}",
    "1a=b", "a.b=c", '"a.b"="c"', "é=x", ",", "a=b,,c=d", "severity critical", "=b",
    'a=~"x++"', 'a=~"(?=x)"', 'a=~"(?<!x)"', 'a=~"\\1"', 'a=~"x**"', 'a=~"a{1001}"',
    'a=~"\\\\"', 'a=~"\\Z"', 'a=~"[a-\\d]"', 'a=~"\\C"', 'a=~"(?<n>x)"',
]  # fmt: skip
# An entry with no matcher Alertmanager takes, and the route then matches every alert.
EMPTY_MATCHERS = ["", " ", "{}"]

GROUP_BY = [
    ["alertname", "namespace"], ["..."], [], ["job", "_x", "A1"],
    ["...", "alertname"], ["alertname", "alertname"], ["team-name"], ["1a"], ["a:b"], [""], ["é"],
]  # fmt: skip


def amtool_takes_route(tmp_path, route: dict) -> bool:
    config = {
        "route": {"receiver": "r", "routes": [{"receiver": "r", **route}]},
        "receivers": [{"name": "r"}],
    }
    return tool_accepts("amtool", "check-config", tmp_path / "am.yml", config)


def test_matchers_as_amtool_reads_them(tmp_path):
    def amtool(matcher: str) -> bool:
        return amtool_takes_route(tmp_path, {"matchers": [matcher]})

    assert verdicts(MATCHERS, lambda v: accepted(alertmanager_matchers, v), amtool) == []
    assert [v for v in EMPTY_MATCHERS if accepted(alertmanager_matchers, v) or not amtool(v)] == []


def test_group_by_as_amtool_reads_it(tmp_path):
    def amtool(labels) -> bool:
        return amtool_takes_route(tmp_path, {"matchers": ["a=b"], "group_by": labels})

    ours = [tuple(v) for v in GROUP_BY if accepted(alertmanager_group_by, v)]
    assert ours == [tuple(v) for v in GROUP_BY if amtool(v)]


def test_matchers_are_read_as_alertmanager_reads_them():
    assert alertmanager_matchers('{a="x,y", b=~"5.." , c!=\\"}') == [
        ("a", "=", "x,y"),
        ("b", "=~", "5.."),
        ("c", "!=", '"'),
    ]


ROUTING = {
    "receivers": [{"name": "pager", "type": "webhook", "url": "https://hooks.example/a"}],
    "defaultReceiver": "pager",
}


@pytest.mark.parametrize(
    "alertmanager, key, words",
    [
        (
            {"routes": [{"receiver": "pager", "matchers": ['alertname=~"(Kube"']}]},
            "routes[0].matchers",
            "missing )",
        ),
        (
            {"routes": [{"receiver": "pager", "matchers": ['team="ops']}]},
            "routes[0].matchers",
            "does not close",
        ),
        ({"routes": [{"receiver": "pager", "matchers": [""]}]}, "routes[0].matchers", "holds no matcher"),
        ({"groupBy": ["...", "alertname"]}, "groupBy", "'...' groups by every label already"),
        ({"groupBy": ["job", "job"]}, "groupBy", "listed twice"),
    ],
)
def test_bad_routing_is_one_line_naming_the_key(alertmanager, key, words):
    config = {**BASE, f"{KEY}:alertmanager": {**ROUTING, **alertmanager}}
    assert_one_line_error(config, f"{KEY}:alertmanager.{key}", words)


# --- file_sd paths: discovery/file's patFileSDName and promtool's glob check ----------------------

FILE_SD_PATHS = [
    "/etc/sd/*.json", "/etc/sd/a.JSON", "/etc/sd/a.yml", "/etc/sd/a.yaml", "a.yaml", ".json",
    "/etc/sd/**.yaml", "/etc/sd/a*b*.json", "/etc/sd/?.json", "/etc/[ab]/x.json", "/etc/sd/[^a]x.json",
    "/etc/sd/[a-c].json", "/etc/sd/\\*.json",
    "/etc/*/x.json", "/etc/sd/a.txt", "/etc/sd/*.json.bak", "/etc/sd/a.Json", "/etc/sd/a.json\n",
    "/etc/sd/[x.json", "/etc/sd/[].json", "/etc/sd/[a-].json", "/etc/sd/[-a].json", "/etc/sd/x.json\\",
    "/etc/sd/*", "",
]  # fmt: skip


def test_file_sd_paths_as_promtool_reads_them(tmp_path):
    def promtool(path: str) -> bool:
        config = {"scrape_configs": [{"job_name": "vms", "file_sd_configs": [{"files": [path]}]}]}
        return tool_accepts("promtool", "check config", tmp_path / "p.yml", config)

    assert verdicts(FILE_SD_PATHS, lambda v: accepted(file_sd_path, v), promtool) == []


@pytest.mark.parametrize(
    "path, words",
    [("/etc/*/vms.json", "a * only in the last path element"), ("/etc/sd/[x.json", "malformed glob")],
)
def test_a_file_sd_path_prometheus_refuses_is_one_line(path, words):
    config = {**BASE, f"{KEY}:nodeExporter": {"fileSdFiles": ["/etc/sd/ok.json", path]}}
    assert_one_line_error(config, f"{KEY}:nodeExporter.fileSdFiles", words)
