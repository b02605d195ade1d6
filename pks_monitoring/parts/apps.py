"""The monitored apps (`apps`, `appAlerts`): the alerts on them, one PrometheusRule with their
thresholds from settings. (Each app's ServiceMonitor and RBAC: components/app_monitor.py.)

Which apps: the scrape jobs listed in `jobs`. A ServiceMonitor gives its targets `job` = the
Service name (or what its relabelings set), so the caller passes the job of every app it monitors
and every alert selects exactly those (`job=~"a|b"`, which Prometheus anchors). No jobs, no rule:
an unscoped `up == 0` would repeat upstream's TargetDown for every platform target, and page
teams that never asked for alerts.

The metrics are Micrometer's (Spring Boot Actuator's `/actuator/prometheus`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from pks_monitoring.manifests import Manifest, Transformation
from pks_monitoring.parts.part import Added, Part, StackInputs
from pks_monitoring.settings.apps import AppAlertSettings

NAME = "pks-app-alerts"
# The labels upstream's PrometheusRules carry (`prometheus: k8s`, `role: alert-rules`): the
# Prometheus `k8s` of v0.18.0 selects every rule (`ruleSelector: {}`), older releases and
# hand-narrowed selectors select on these two.
LABELS = {
    "app.kubernetes.io/component": "app-alerts",
    "app.kubernetes.io/name": "pks-monitoring",
    "app.kubernetes.io/part-of": "pks-monitoring",
    "prometheus": "k8s",
    "role": "alert-rules",
}
# One alert per instance (pod) for what is per JVM; the 5xx ratio is the app's, over all pods.
INSTANCE = "namespace, job, pod, instance"
APP = "namespace, job"

_REGEX_SPECIAL = re.compile(r"([\\.+*?()|\[\]{}^$])")


def _job_matcher(jobs: Sequence[str]) -> str:
    """`job=~"..."` matching exactly these jobs: regex characters in a name stand for
    themselves, and the regex is written as a PromQL string literal."""
    regex = "|".join(_REGEX_SPECIAL.sub(r"\\\1", job) for job in sorted(set(jobs)))
    return 'job=~"' + regex.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _percent(ratio: float) -> str:
    return f"{ratio * 100:g}%"


def app_alert_rule(
    thresholds: AppAlertSettings, jobs: Sequence[str] | None, namespace: str
) -> Manifest | None:
    """The PrometheusRule for the apps scraped as `jobs`, in the stack's `namespace`;
    None when the alerts are disabled or there is no app to alert on."""
    if not thresholds.enabled or not jobs:
        return None
    job = _job_matcher(jobs)
    window = thresholds.window
    requests = f"http_server_requests_seconds_count{{{job}}}"
    server_errors = f'http_server_requests_seconds_count{{{job}, status=~"5.."}}'
    app = "{{ $labels.namespace }}/{{ $labels.job }}"
    rules = [
        {
            "alert": "AppTargetDown",
            "expr": f"up{{{job}}} == 0",
            "for": thresholds.target_down_for,
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "An app does not answer Prometheus' scrapes.",
                "description": f"{{{{ $labels.instance }}}} of {app} has not answered "
                f"Prometheus' scrapes for {thresholds.target_down_for}.",
            },
        },
        {
            "alert": "AppHeapUsageHigh",
            # Micrometer reports max -1 for a pool without its own limit (G1's eden and survivor
            # spaces): such pools count in `used`, and their -1 stays out of the heap's max.
            "expr": f'sum by ({INSTANCE}) (jvm_memory_used_bytes{{{job}, area="heap"}})\n'
            f"/\n"
            f'sum by ({INSTANCE}) (jvm_memory_max_bytes{{{job}, area="heap"}} > 0)\n'
            f"> {thresholds.heap_usage_ratio!r}",
            "for": thresholds.heap_usage_for,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "An app's JVM heap is nearly full.",
                "description": f"{{{{ $labels.instance }}}} of {app} uses "
                "{{ $value | humanizePercentage }} of its maximum heap (alert above "
                f"{_percent(thresholds.heap_usage_ratio)} for {thresholds.heap_usage_for}).",
            },
        },
        {
            "alert": "AppHttp5xxRatioHigh",
            # The request-rate guard keeps a quiet app's 2 failures out of 3 requests from paging.
            "expr": f"sum by ({APP}) (rate({server_errors}[{window}]))\n"
            f"/\n"
            f"sum by ({APP}) (rate({requests}[{window}]))\n"
            f"> {thresholds.http5xx_ratio!r}\n"
            f"and\n"
            f"sum by ({APP}) (rate({requests}[{window}])) >= "
            f"{thresholds.http5xx_min_request_rate!r}",
            "for": thresholds.http5xx_for,
            "labels": {"severity": "critical"},
            "annotations": {
                "summary": "An app answers many HTTP requests with a server error (5xx).",
                "description": "{{ $value | humanizePercentage }} of the HTTP requests to "
                f"{app} failed with a 5xx status over the last {window} (alert above "
                f"{_percent(thresholds.http5xx_ratio)} for {thresholds.http5xx_for}).",
            },
        },
        {
            "alert": "AppLongGcPauses",
            # Micrometer's `_max` is the longest pause of the last minutes only, then decays:
            # the longest over the window keeps one pause in view between scrapes, and `for`
            # makes the alert about pauses that keep coming back.
            "expr": f"max by ({INSTANCE}) "
            f"(max_over_time(jvm_gc_pause_seconds_max{{{job}}}[{window}]))\n"
            f"> {thresholds.gc_pause_seconds!r}",
            "for": thresholds.gc_pause_for,
            "labels": {"severity": "warning"},
            "annotations": {
                "summary": "An app's JVM keeps pausing long for garbage collection.",
                "description": f"{{{{ $labels.instance }}}} of {app} paused "
                "{{ $value | humanizeDuration }} for garbage collection within the last "
                f"{window} (alert above {thresholds.gc_pause_seconds:g}s for "
                f"{thresholds.gc_pause_for}).",
            },
        },
    ]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": NAME, "namespace": namespace, "labels": dict(LABELS)},
        "spec": {"groups": [{"name": "pks-apps", "rules": rules}]},
    }


def patches(inputs: StackInputs) -> list[Transformation]:
    return []


def objects(inputs: StackInputs) -> list[Added]:
    rule = app_alert_rule(inputs.settings.app_alerts, inputs.app_jobs, inputs.namespace)
    return [] if rule is None else [Added(rule)]


PART = Part("apps", patches, objects)
