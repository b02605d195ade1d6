"""Settings helpers: the smallest valid config and the one-line error assertion."""

from __future__ import annotations

import os

import pytest

from pks_monitoring.settings import PROJECT_ROOT, Settings, SettingsError
from pks_monitoring.stack_file import read_config

# The one pin of the kube-prometheus release: Pulumi.yaml's project config, as every stack reads it.
PINNED_MANIFESTS: str = read_config(PROJECT_ROOT / "Pulumi.yaml")["pks-monitoring:kubePrometheus"]["value"][
    "manifests"
]
# The release the suite runs against: the pin, or another shared release named by
# PKS_TEST_RELEASE (tools/test.sh runs the suite once per shared release). conftest points the
# program at its manifests through KUBE_PROMETHEUS_MANIFESTS.
SHARED_RELEASES = PROJECT_ROOT.parent / "shared" / "kube-prometheus"
RELEASE_MANIFESTS: str = (
    f"../shared/kube-prometheus/{os.environ['PKS_TEST_RELEASE']}/manifests"
    if os.environ.get("PKS_TEST_RELEASE")
    else PINNED_MANIFESTS
)
# A Kubernetes minor every shared release is tested on (the dev stack's too).
KUBERNETES_VERSION = "1.33"

BASE = {
    "kubernetes:context": "demo",
    "pks-monitoring:cluster": "demo",
    "pks-monitoring:kubernetesVersion": KUBERNETES_VERSION,
    "pks-monitoring:kubePrometheus": {"manifests": RELEASE_MANIFESTS},
    # TKGI has no default StorageClass: platform pks refuses claims without one.
    "pks-monitoring:storage": {"storageClass": "thin"},
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
