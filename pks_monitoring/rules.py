"""Custom alerting and recording rules as code: every `rules/<name>.yaml`, a Prometheus rule file
(`groups:`, what promtool and Prometheus' docs read), read and checked on its own; parts/alerts.py
deploys each as the PrometheusRule `pks-custom-<name>`. Beside each, `rules/<name>.test.yaml`
holds its promtool unit tests, which the suite runs (tests/test_rules.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pks_monitoring.project_files import folder_files, read_bytes, shown
from pks_monitoring.settings import PROJECT_ROOT, SettingsError
from pks_monitoring.stack_file import load_yaml

RULES_DIR = PROJECT_ROOT / "rules"
TEST_SUFFIX = ".test.yaml"
PROMETHEUS_RULE_PREFIX = "pks-custom-"
# The file name names the PrometheusRule `pks-custom-<name>`, kept within a DNS-1123 label (63).
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,50}[a-z0-9])?")
# prometheus-operator hands every PrometheusRule to Prometheus through a ConfigMap, which holds
# at most 1 MiB.
RULE_FILE_LIMIT = 1024 * 1024
_RULE_FORM = "a Prometheus rule file: groups: [{name: ..., rules: [{alert: ..., expr: ...}]}]"


@dataclass(frozen=True)
class RuleFile:
    name: str  # the file name without `.yaml`
    groups: list[dict[str, Any]]

    @property
    def prometheus_rule_name(self) -> str:
        return f"{PROMETHEUS_RULE_PREFIX}{self.name}"


def _check_rule(rule: Any, where: str) -> None:
    if not isinstance(rule, dict):
        raise SettingsError(f"{where}: not a mapping; write {_RULE_FORM}")
    kinds = [key for key in ("alert", "record") if key in rule]
    if len(kinds) != 1 or not isinstance(rule[kinds[0]], str) or not rule[kinds[0]]:
        raise SettingsError(f"{where}: give exactly one of alert: or record: (a name)")
    if not isinstance(rule.get("expr"), str) or not rule["expr"].strip():
        raise SettingsError(f"{where}: no expr; give the rule's PromQL expression as a string")


def _check_groups(document: Any, where: str) -> list[dict[str, Any]]:
    """The rule groups of a rule file's document, if it is one Prometheus takes."""
    if not isinstance(document, dict) or set(document) != {"groups"}:
        raise SettingsError(f"{where}: not {_RULE_FORM} (only the groups: key)")
    groups = document["groups"]
    if not isinstance(groups, list) or not groups:
        raise SettingsError(f"{where}: groups: is empty or not a list; list at least one group")
    names: set[Any] = set()
    for index, group in enumerate(groups):
        at = f"{where}: groups[{index}]"
        if not isinstance(group, dict) or not isinstance(group.get("name"), str) or not group["name"]:
            raise SettingsError(f"{at}: a group needs a name: and rules:")
        if group["name"] in names:
            raise SettingsError(
                f"{at}: group name {group['name']!r} is used twice; Prometheus refuses the file"
            )
        names.add(group["name"])
        rules = group.get("rules")
        if not isinstance(rules, list) or not rules:
            raise SettingsError(f"{at}: rules: is empty or not a list; list the group's rules")
        for number, rule in enumerate(rules):
            _check_rule(rule, f"{at}.rules[{number}]")
    return groups


def _read(path: Path) -> RuleFile:
    where = shown(path)
    name = path.name.removesuffix(".yaml")
    if not _NAME.fullmatch(name):
        raise SettingsError(
            f"{where}: the file name names the PrometheusRule {PROMETHEUS_RULE_PREFIX}<name>, so it must "
            "be lowercase letters, digits and '-' (at most 52 before .yaml); rename the file"
        )
    raw = read_bytes(
        path,
        limit=RULE_FILE_LIMIT,
        fix="keep only regular rule files in the folder (copy the file instead of linking)",
        too_big=f"more than prometheus-operator's ConfigMap may hold ({RULE_FILE_LIMIT} bytes, 1 MiB); "
        "split the rules into several files",
    )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise SettingsError(f"{where}: not UTF-8 text; save the rule file as UTF-8") from None
    return RuleFile(name=name, groups=_check_groups(load_yaml(text, Path(where)), where))


def load_rules(directory: Path) -> list[RuleFile]:
    """Every `<name>.yaml` in `directory` but the `*.test.yaml` unit tests, sorted by file
    name, each checked on its own (one SettingsError line naming the file)."""
    paths = folder_files(directory, ".yaml", "rule files")
    return [_read(path) for path in paths if not path.name.endswith(TEST_SUFFIX)]
