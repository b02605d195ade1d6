"""The app alerts (`pks_monitoring.parts.apps`): a PrometheusRule the CRD and the stack's Prometheus
accept, and `promtool test rules` showing that each alert fires when it should and only then.

The promtool test file is generated from the same thresholds as the rule: each "fires" case sits
clearly above its threshold, each "quiet" case below it, so other thresholds mean other series
and other expectations. Metric and label names are Micrometer's (Spring Boot Actuator's
`/actuator/prometheus`); a target's labels are those a ServiceMonitor gives it.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from pks_monitoring.parts.apps import NAME, app_alert_rule
from pks_monitoring.settings.apps import AppAlertSettings
from tests.helpers.prometheus_tools import require, run_tool
from tests.helpers.schemas import crd_schemas, validate_custom

NAMESPACE = "shop"  # the apps'; the rule itself lives in the stack's namespace
ALERTS = ["AppTargetDown", "AppHeapUsageHigh", "AppHttp5xxRatioHigh", "AppLongGcPauses"]
# The monitored apps: one per case below, named for what it shows. `shop.v2` is a job renamed by
# a relabeling; its `.` must not match `shopxv2`.
JOBS = [
    "hello-pks",
    "shop.v2",
    "heap-high",
    "heap-low",
    "heap-edge",
    "http-errors",
    "http-quiet",
    "http-low-traffic",
    "gc-long",
    "gc-short",
]
RULE_FILE = "app-alerts.yaml"  # next to the promtool test file
GIB = 1 << 30
REQUESTS_PER_MINUTE = 600

DEFAULTS = AppAlertSettings()
# Every threshold and duration different from the defaults.
OTHERS = AppAlertSettings(
    heap_usage_ratio=0.7,
    http5xx_ratio=0.2,
    http5xx_min_request_rate=1,
    gc_pause_seconds=2,
    window="3m",
    target_down_for="2m",
    heap_usage_for="3m",
    http5xx_for="4m",
    gc_pause_for="6m",
)


# ---------------------------------------------------------------- the promtool test file


def minutes(duration: str) -> int:
    """The scenarios use whole minutes (`5m`), so evaluation times are plain sums."""
    assert re.fullmatch(r"[1-9][0-9]*m", duration), duration
    return int(duration[:-1])


def target(job: str, pod: int = 1) -> dict[str, str]:
    """The labels of one scrape target of a ServiceMonitor on the Service `job`."""
    return {
        "namespace": NAMESPACE,
        "service": job,
        "endpoint": "http",
        "job": job,
        "pod": f"{job}-7d9f8b6c5-{pod}",
        "container": job,
        "instance": f"10.200.1.{pod}:8080",
    }


def alert_rules(thresholds: AppAlertSettings) -> dict[str, dict[str, Any]]:
    """The rule's alerts for JOBS, by name."""
    rule = app_alert_rule(thresholds, JOBS, "monitoring")
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


def write_rule_file(path: Path, thresholds: AppAlertSettings) -> Path:
    """The rule's spec: what prometheus-operator hands Prometheus as a rule file."""
    spec = app_alert_rule(thresholds, JOBS, "monitoring")["spec"]
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def humanize_percentage(value: float) -> str:
    return "%.4g%%" % (value * 100)  # Prometheus' template function: fmt.Sprintf("%.4g%%", v*100)


def humanize_duration(seconds: float) -> str:
    # Prometheus' template function, for the only range these tests produce.
    assert 1 <= seconds < 60, seconds
    return f"{seconds:.4g}s"


_TEMPLATE = re.compile(r"\{\{ \$(?:labels\.(\w+)|value \| (humanizePercentage|humanizeDuration)) \}\}")
_HUMANIZE: dict[str, Callable[[float], str]] = {
    "humanizePercentage": humanize_percentage,
    "humanizeDuration": humanize_duration,
}


def expand(template: str, labels: dict[str, str], value: float) -> str:
    """What Prometheus makes of an annotation template for an alert with `labels` and `value`."""
    text = _TEMPLATE.sub(lambda m: labels[m[1]] if m[1] else _HUMANIZE[m[2]](value), template)
    assert "{{" not in text, f"a template construct these tests do not know: {template}"
    return text


def series(metric: str, labels: dict[str, str], values: str) -> dict[str, str]:
    matchers = ",".join(f'{name}="{value}"' for name, value in labels.items())
    return {"series": f"{metric}{{{matchers}}}", "values": values}


def scenario(thresholds: AppAlertSettings) -> dict[str, Any]:
    """A promtool test file for the rule of `thresholds` and JOBS: every case's series, and the
    alerts expected when each alert's `for` has not yet passed (none) and long after (exactly the
    "fires" cases)."""
    rules = alert_rules(thresholds)
    waits = {alert: minutes(rule["for"]) for alert, rule in rules.items()}
    window = minutes(thresholds.window)
    late = max(waits.values()) + window + 2  # minutes; every "fires" case is firing by then
    input_series: list[dict[str, str]] = []
    expected: dict[str, list[dict[str, Any]]] = {alert: [] for alert in rules}

    def constant(value: float) -> str:
        return f"{value!r}x{late}"

    def counter(per_minute: float) -> str:
        return f"0+{per_minute!r}x{late}"

    def fires(alert: str, labels: dict[str, str], value: float) -> None:
        rule = rules[alert]
        expected[alert].append(
            {
                "exp_labels": {**labels, **rule["labels"]},
                "exp_annotations": {
                    name: expand(template, labels, value) for name, template in rule["annotations"].items()
                },
            }
        )

    def app(labels: dict[str, str]) -> dict[str, str]:
        return {k: labels[k] for k in ("namespace", "job")}

    def instance(labels: dict[str, str]) -> dict[str, str]:
        return {k: labels[k] for k in ("namespace", "job", "pod", "instance")}

    # AppTargetDown: a down pod of an app fires, its sibling that is up does not; down targets
    # of jobs that are not apps (and of a job the escaped `shop.v2` must not match) do not.
    for labels, up in [
        (target("hello-pks", 1), 0),
        (target("hello-pks", 2), 1),
        (target("shop.v2"), 0),
        (target("kube-state-metrics"), 0),
        (target("shopxv2"), 0),
    ]:
        input_series.append(series("up", labels, constant(up)))
        if up == 0 and labels["job"] in JOBS:
            fires("AppTargetDown", labels, 0)

    # AppHeapUsageHigh, on G1's layout: eden and survivor report max -1 (no limit of their own),
    # old gen's max is the whole heap's. Non-heap pools, one nearly full, never count.
    def jvm(labels: dict[str, str], heap_used: int) -> None:
        eden, survivor = heap_used // 4, 8 << 20
        for area, pool, used, limit in [
            ("heap", "G1 Eden Space", eden, -1),
            ("heap", "G1 Survivor Space", survivor, -1),
            ("heap", "G1 Old Gen", heap_used - eden - survivor, GIB),
            ("nonheap", "Metaspace", 120 << 20, -1),
            ("nonheap", "CodeHeap 'non-nmethods'", 5_720_064, 5_836_800),
        ]:
            pool_labels = {**labels, "area": area, "id": pool}
            input_series.append(series("jvm_memory_used_bytes", pool_labels, constant(used)))
            input_series.append(series("jvm_memory_max_bytes", pool_labels, constant(limit)))

    ratio = thresholds.heap_usage_ratio
    high = int((1 + ratio) / 2 * GIB)  # 95% of the heap for 0.9
    jvm(target("heap-high"), high)
    fires("AppHeapUsageHigh", instance(target("heap-high")), high / GIB)
    jvm(target("heap-low"), int(ratio / 2 * GIB))
    # Right at the threshold: quiet, but two -1 maxima counted into the heap's max would
    # shrink it by 2 bytes and tip the ratio over.
    edge = math.floor(ratio * GIB)
    assert not edge / GIB > ratio and edge / (GIB - 2) > ratio
    jvm(target("heap-edge"), edge)
    jvm(target("reporting"), int(0.99 * GIB))  # not an app of the rule

    # AppHttp5xxRatioHigh: the ratio is the app's, over its pods; 4xx are no server errors.
    def http(job: str, per_minute: dict[tuple[int, str], float]) -> None:
        for (pod, status), rate in per_minute.items():
            outcome = {"2": "SUCCESS", "4": "CLIENT_ERROR", "5": "SERVER_ERROR"}[status[0]]
            exception = "IllegalStateException" if status == "500" else "none"
            uri = "NOT_FOUND" if status == "404" else "/orders"
            input_series.append(
                series(
                    "http_server_requests_seconds_count",
                    {
                        **target(job, pod),
                        "error": exception,
                        "exception": exception,
                        "method": "GET",
                        "outcome": outcome,
                        "status": status,
                        "uri": uri,
                    },
                    counter(rate),
                )
            )

    def requests(errors_ratio: float) -> dict[tuple[int, str], float]:
        errors, client_errors = errors_ratio * REQUESTS_PER_MINUTE, REQUESTS_PER_MINUTE / 4
        ok = (REQUESTS_PER_MINUTE - errors - client_errors) / 2
        assert ok > 0
        return {(1, "200"): ok, (1, "500"): errors, (2, "200"): ok, (2, "404"): client_errors}

    ratio = thresholds.http5xx_ratio
    assert thresholds.http5xx_min_request_rate <= REQUESTS_PER_MINUTE / 60
    http("http-errors", requests(2 * ratio))  # 10% for 5%
    fires("AppHttp5xxRatioHigh", app(target("http-errors")), 2 * ratio)
    http("http-quiet", requests(ratio / 5))  # 1% for 5% (plus 25% 4xx)
    # Half the requests fail, but there are only half as many requests as the guard asks for.
    quiet_rate = thresholds.http5xx_min_request_rate * 60 / 2
    assert quiet_rate > 0 and ratio < 0.5
    http("http-low-traffic", {(1, "200"): quiet_rate / 2, (1, "500"): quiet_rate / 2})

    # AppLongGcPauses: Micrometer's `_max` shows a pause for a scrape or two, then decays to 0;
    # a long major pause every 4 minutes keeps the alert firing, short ones never do.
    def gc(labels: dict[str, str], major_pause: float) -> None:
        assert window >= 3  # a window that always holds the last long pause
        pauses = " ".join(repr(major_pause if minute % 4 < 2 else 0.0) for minute in range(late + 1))
        for action, cause, collector, values in [
            ("end of major GC", "G1 Compaction Pause", "G1 Old Generation", pauses),
            ("end of minor GC", "G1 Evacuation Pause", "G1 Young Generation", constant(0.02)),
        ]:
            input_series.append(
                series(
                    "jvm_gc_pause_seconds_max",
                    {**labels, "action": action, "cause": cause, "gc": collector},
                    values,
                )
            )

    pause = thresholds.gc_pause_seconds
    gc(target("gc-long"), 4 * pause)  # 2s for 0.5s
    fires("AppLongGcPauses", instance(target("gc-long")), 4 * pause)
    gc(target("gc-short"), pause / 5)  # 0.1s for 0.5s

    alert_rule_test = [
        # Each condition holds from the first evaluation (minute 1 for the 5xx rates): a minute
        # before its `for` has passed, the alert is pending, not firing.
        *(
            {"eval_time": f"{wait - 1}m", "alertname": alert, "exp_alerts": []}
            for alert, wait in waits.items()
        ),
        *(
            {"eval_time": f"{late}m", "alertname": alert, "exp_alerts": firing}
            for alert, firing in expected.items()
        ),
    ]
    return {
        "rule_files": [RULE_FILE],
        "evaluation_interval": "1m",
        "tests": [{"interval": "1m", "input_series": input_series, "alert_rule_test": alert_rule_test}],
    }


def promtool_test_rules(tmp_path: Path, thresholds: AppAlertSettings, test_file: dict[str, Any]):
    """Runs `promtool test rules` on `test_file` against the rule of `thresholds`."""
    write_rule_file(tmp_path / RULE_FILE, thresholds)
    path = tmp_path / "app-alerts.test.yaml"
    path.write_text(yaml.safe_dump(test_file, sort_keys=False))
    return run_tool([require("promtool"), "test", "rules", str(path)], timeout=60)


# ---------------------------------------------------------------- the rule object


def test_no_rule_without_apps_or_when_disabled():
    assert app_alert_rule(DEFAULTS, None, "monitoring") is None
    assert app_alert_rule(DEFAULTS, [], "monitoring") is None
    assert app_alert_rule(AppAlertSettings(enabled=False), JOBS, "monitoring") is None
    assert app_alert_rule(DEFAULTS, ["hello-pks"], "monitoring") is not None


def test_every_alert_has_a_wait_a_severity_and_words_for_the_operator():
    rule = app_alert_rule(DEFAULTS, JOBS, "observability")
    assert rule["metadata"]["name"] == NAME and rule["metadata"]["namespace"] == "observability"
    rules = rule["spec"]["groups"][0]["rules"]
    assert [r["alert"] for r in rules] == ALERTS
    assert {r["alert"]: r["labels"]["severity"] for r in rules} == {
        "AppTargetDown": "critical",
        "AppHeapUsageHigh": "warning",
        "AppHttp5xxRatioHigh": "critical",
        "AppLongGcPauses": "warning",
    }
    assert [r["for"] for r in rules] == ["5m", "15m", "5m", "10m"]
    for r in rules:
        assert set(r["annotations"]) == {"summary", "description"}, r["alert"]


def test_the_operator_reads_the_app_the_value_and_the_threshold():
    template = alert_rules(DEFAULTS)["AppHeapUsageHigh"]["annotations"]["description"]
    description = expand(template, target("heap-high"), 0.95)
    assert description == (
        "10.200.1.1:8080 of shop/heap-high uses 95% of its maximum heap (alert above 90% for 15m)."
    )


@pytest.mark.slow
def test_the_rule_fits_the_prometheus_rule_crd(manifests_dir):
    schemas = crd_schemas(manifests_dir)
    rule = app_alert_rule(OTHERS, JOBS, "monitoring")
    assert validate_custom(rule, schemas) == []
    broken = copy.deepcopy(rule)
    broken["spec"]["groups"][0]["rules"][0]["for"] = "5x"
    broken["spec"]["groups"][0]["rules"][1]["severity"] = "warning"  # belongs under labels
    errors = validate_custom(broken, schemas)
    assert any("rules.0.for" in e for e in errors), errors
    assert any("severity" in e for e in errors), errors


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector selects `labels` (an empty selector selects all)."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    tests = {
        "In": lambda key, values: labels.get(key) in values,
        "NotIn": lambda key, values: labels.get(key) not in values,
        "Exists": lambda key, values: key in labels,
        "DoesNotExist": lambda key, values: key not in labels,
    }
    return all(
        tests[e["operator"]](e["key"], e.get("values", [])) for e in selector.get("matchExpressions", [])
    )


def test_the_stack_prometheus_selects_the_rule(kube_prometheus):
    """By the selectors of the manifests in use (v0.18.0: `{}`, every rule in every namespace)."""
    spec = kube_prometheus.find("Prometheus", "k8s")["spec"]
    labels = app_alert_rule(DEFAULTS, JOBS, kube_prometheus.namespace)["metadata"]["labels"]
    assert selects(spec["ruleSelector"], labels)
    # The rule lives in the Prometheus' namespace: unset means that namespace, `{}` all of them.
    assert spec.get("ruleNamespaceSelector") in (None, {})
    # The selectors upstream's older releases used select it too; another role does not.
    assert selects({"matchLabels": {"prometheus": "k8s", "role": "alert-rules"}}, labels)
    assert not selects({"matchLabels": {"role": "recording-rules"}}, labels)


# ---------------------------------------------------------------- promtool


def test_promtool_checks_the_rules(tmp_path):
    promtool = require("promtool")
    path = write_rule_file(tmp_path / RULE_FILE, DEFAULTS)
    result = run_tool([promtool, "check", "rules", str(path)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in result.stdout
    # Job names with regex characters stand for themselves: an unbalanced `(` would be refused.
    odd = tmp_path / "odd-jobs.yaml"
    odd.write_text(yaml.safe_dump(app_alert_rule(DEFAULTS, ["a(b", "c|d"], "monitoring")["spec"]))
    assert run_tool([promtool, "check", "rules", str(odd)]).returncode == 0
    odd.write_text(odd.read_text().replace("a\\\\(b", "a(b"))
    result = run_tool([promtool, "check", "rules", str(odd)])
    assert result.returncode != 0 and "missing closing )" in result.stdout + result.stderr


@pytest.mark.parametrize("thresholds", [DEFAULTS, OTHERS], ids=["defaults", "others"])
def test_each_alert_fires_when_it_should_and_only_then(tmp_path, thresholds):
    test_file = scenario(thresholds)
    firing = {test["alertname"] for test in test_file["tests"][0]["alert_rule_test"] if test["exp_alerts"]}
    assert firing == set(ALERTS)  # every alert has a case that fires...
    result = promtool_test_rules(tmp_path, thresholds, test_file)
    # ...and promtool saw exactly the expected alerts at every evaluation time.
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.slow
def test_a_wrong_expectation_fails(tmp_path):
    """The unit tests can fail: expecting a quiet case to fire, or thresholds the rule does not
    have, makes promtool fail."""
    test_file = scenario(DEFAULTS)
    late = next(
        t
        for t in test_file["tests"][0]["alert_rule_test"]
        if t["alertname"] == "AppHeapUsageHigh" and t["exp_alerts"]
    )
    wrong = copy.deepcopy(late["exp_alerts"][0])
    wrong["exp_labels"].update(job="heap-low", pod="heap-low-7d9f8b6c5-1")
    late["exp_alerts"].append(wrong)
    result = promtool_test_rules(tmp_path, DEFAULTS, test_file)
    assert result.returncode != 0
    assert "AppHeapUsageHigh" in result.stdout + result.stderr

    result = promtool_test_rules(tmp_path, DEFAULTS, scenario(OTHERS))
    assert result.returncode != 0, result.stdout
