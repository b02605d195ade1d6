"""Dashboard helpers: the queries of a dashboard, with its template variables filled in as Grafana
would, and the checks promtool and a real Prometheus make of them."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from pks_monitoring.dashboards import Dashboard
from tests.helpers.micrometer import APP
from tests.helpers.prometheus_tools import PrometheusAPI, require, run_tool

# Grafana's built-in variables, as Grafana would fill them in for a 1 h dashboard at 1 s scrapes.
BUILT_INS = {
    "__rate_interval": "30s",
    "__interval": "15s",
    "__interval_ms": "15000",
    "__range": "1h",
    "__range_s": "3600",
    "__range_ms": "3600000",
}


FILTERS = ('cluster=~"$cluster"', 'namespace="$namespace"', 'job="$job"', 'instance=~"$instance"')
# The cluster variable as Grafana sets it on a cluster's own Prometheus, whose series carry no
# cluster label (it is an external label): All, whose value is the variable's allValue.
ALL_CLUSTERS = {"cluster": ".*"}


def _key(dashboard: Dashboard) -> str:
    """The dashboard's part of a query's name: its uid (upstream's remote-write one has none: its
    name), as a metric name may spell it."""
    return re.sub(r"\W", "_", dashboard.uid or dashboard.name)


def panel_queries(dashboard: Dashboard) -> dict[str, str]:
    """A metric name for every panel query of `dashboard` -> its PromQL, variables unsubstituted."""
    uid = _key(dashboard)
    return {
        # Grafana gives a target without refId the letter of its place (upstream's have none).
        f"dashboard:{uid}:panel_{panel['id']}_{target.get('refId') or chr(ord('A') + index)}": target["expr"]
        for panel in panels(json.loads(dashboard.text))
        for index, target in enumerate(panel.get("targets", []))
        if target.get("expr")
    }


def variable_queries(dashboard: Dashboard) -> dict[str, tuple[str, str]]:
    """Each query variable's `label_values(selector, label)` -> (variable name, PromQL that yields
    the same label values: `group by (label) (selector)`)."""
    found = {}
    for variable in json.loads(dashboard.text).get("templating", {}).get("list", []):
        if variable.get("type") != "query":
            continue
        query = variable["query"]
        query = query["query"] if isinstance(query, dict) else query
        match = _LABEL_VALUES.match(query)
        assert match, (
            f"{dashboard.file_name}: variable {variable['name']}: {query!r} is not label_values(...)"
        )
        selector = match["selector"] or f'{{{match["label"]}!=""}}'
        uid = _key(dashboard)
        found[f"dashboard:{uid}:variable_{variable['name']}"] = (
            variable["name"],
            f"group by ({match['label']}) ({selector})",
        )
    return found


def substitute(expr: str, variables: dict[str, str]) -> str:
    """`expr` with every Grafana variable ($x, ${x}, ${x:fmt}, [[x]]) replaced; an unknown one fails."""

    def value(match: re.Match) -> str:
        name = next(group for group in match.groups() if group)
        assert name in variables, f"unknown template variable ${name} in {expr!r}"
        return variables[name]

    return _VARIABLE.sub(value, expr)


def every_query(dashboards: list[Dashboard]) -> dict[str, str]:
    queries = {}
    for dashboard in dashboards:
        queries.update(panel_queries(dashboard))
        queries.update({name: expr for name, (_, expr) in variable_queries(dashboard).items()})
    return queries


def check_rules(path: Path, queries: dict[str, str]):
    rules = [{"record": name, "expr": expr} for name, expr in queries.items()]
    path.write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard-queries", "rules": rules}]}, sort_keys=False)
    )
    return run_tool([require("promtool"), "check", "rules", str(path)])


SOMEWHERE = {**BUILT_INS, **APP, **ALL_CLUSTERS, "instance": "10.0.0.7:8080", "datasource": "prometheus"}


def filter_problems(expr: str) -> list[str]:
    """What keeps `expr` from being limited to the selected cluster, namespace, job and
    instances: a selector without all four matchers, or a metric named without a selector."""
    problems = [
        f"{metric}{{{matchers}}} lacks {f}"
        for metric, matchers in re.findall(r"([a-zA-Z_:][a-zA-Z0-9_:]*)?\{([^}]*)\}", expr)
        for f in FILTERS
        if f not in matchers
    ]
    bare = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)  # strings
    bare = re.sub(r"\{[^}]*\}|\[[^\]]*\]", "{}", bare)  # matchers, ranges
    bare = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", bare)
    problems += [
        f"{m[1]} has no selector"
        for m in re.finditer(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\b(?!\s*[({])", bare)
        if m[1] not in _KEYWORDS
    ]
    return problems


def has_data(api: PrometheusAPI, expr: str) -> bool:
    """The instant query succeeds with at least one sample whose value is a number."""
    answer = api.query(expr)
    assert answer.get("status") == "success", f"query {expr!r} failed: {answer}"
    data = answer["data"]
    if data["resultType"] == "scalar":  # `time()`, a number: always a value
        return math.isfinite(float(data["result"][1]))
    return any(math.isfinite(float(sample["value"][1])) for sample in data["result"])


def panels(node: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, also those inside (collapsed) rows."""
    for panel in node.get("panels", []):
        yield panel
        yield from panels(panel)


_LABEL_VALUES = re.compile(r"^label_values\(\s*(?:(?P<selector>.+?)\s*,\s*)?(?P<label>\w+)\s*\)$")


_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")


_KEYWORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}
