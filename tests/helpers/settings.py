"""Settings helpers: the smallest valid config and the one-line error assertion."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings, SettingsError

BASE = {
    "kubernetes:context": "demo",
    "pks-monitoring:cluster": "demo",
    "pks-monitoring:kubePrometheus": {"manifests": "../shared/kube-prometheus/v0.18.0/manifests"},
}


def assert_one_line_error(raw: dict, key: str, words: str) -> str:
    return one_line_error(lambda: Settings.from_raw(raw), key, words)


def one_line_error(call, key: str, words: str) -> str:
    """`call()` raises a SettingsError of one line that starts with `key:` and says `words`."""
    with pytest.raises(SettingsError) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{key}: "), message
    assert words in message, message
    return message
