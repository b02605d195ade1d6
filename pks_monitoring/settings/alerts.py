"""`alerts`: upstream's alert rules tuned by alert name (`tune`: disable one, change its `for`,
severity or labels) and where their runbook links point (`runbookUrlBase`). Which names exist is
the release's business: parts/alerts.py checks them against the rules the stack keeps."""

from __future__ import annotations

import re
from typing import Literal, Optional

from pydantic import Field, field_validator

from pks_monitoring.settings.prometheus_syntax import LABEL_NAME
from pks_monitoring.settings.types import Model, prometheus_duration

# The severities upstream's rules and Alertmanager config speak: its inhibit rules and routes
# match these values, so free text would route an alert nowhere anyone expects. (`none` is
# Watchdog's and InfoInhibitor's, which are not paging alerts.)
Severity = Literal["info", "warning", "critical"]
# Labels an alert's rule may not set here: `severity` has its own key, `alertname` would rename
# the alert (and no longer match the key).
_OWN_KEYS = {"severity": "set severity instead", "alertname": "it is the alert's name"}


class AlertTuning(Model):
    """What changes in every rule of upstream's named alert."""

    disabled: bool = False
    for_: Optional[str] = Field(default=None, alias="for")  # how long the condition holds first
    severity: Optional[Severity] = None
    labels: dict[str, str] = {}  # added to (or replacing) the rule's labels

    @field_validator("for_")
    @classmethod
    def _duration(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else prometheus_duration(value)

    @field_validator("labels")
    @classmethod
    def _label_names(cls, value: dict[str, str]) -> dict[str, str]:
        for name in value:
            if not re.fullmatch(LABEL_NAME, name) or name.startswith("__"):
                raise ValueError(
                    f"{name!r} is not a label name Prometheus takes on a rule; use letters, digits "
                    "and _, not first a digit, not starting with __"
                )
            if name in _OWN_KEYS:
                raise ValueError(f"{name!r}: not settable as a label here ({_OWN_KEYS[name]})")
        return value


class AlertsSettings(Model):
    tune: dict[str, AlertTuning] = {}  # upstream alert name (KubePodCrashLooping) -> its changes
    # Replaces https://runbooks.prometheus-operator.dev/runbooks in every upstream runbook_url,
    # the path below it kept (a mirror of the runbooks, or a wiki with the same layout).
    runbook_url_base: Optional[str] = Field(default=None, pattern=r"^https?://[^\s/]+(/\S*)?$")

    @field_validator("runbook_url_base")
    @classmethod
    def _no_trailing_slash(cls, value: Optional[str]) -> Optional[str]:
        return None if value is None else value.rstrip("/")
