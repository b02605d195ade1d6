"""Settings helpers: the smallest valid config and the one-line error assertion."""

from __future__ import annotations

import os

import pytest

from pks_monitoring.offline import mock_engine
from pks_monitoring.settings import PROJECT, PROJECT_ROOT, Settings, SettingsError
from pks_monitoring.stack_file import read_config

# The one pin of the kube-prometheus release: Pulumi.yaml's project config, as every stack reads it.
PIN: dict[str, str] = read_config(PROJECT_ROOT / "Pulumi.yaml")["pks-monitoring:kubePrometheus"]["value"]
PINNED_MANIFESTS: str = PIN["manifests"]
PINNED_RELEASE: str = PIN["release"]
# The release the suite runs against: the pin, or another shared release named by
# PKS_TEST_RELEASE (tools/test.sh runs the suite once per shared release). conftest makes it the
# pin every stack of the suite inherits (pin_the_release_under_test).
SHARED_RELEASES = PROJECT_ROOT.parent / "shared" / "kube-prometheus"
RELEASE: str = os.environ.get("PKS_TEST_RELEASE") or PINNED_RELEASE
RELEASE_MANIFESTS: str = (
    f"../shared/kube-prometheus/{RELEASE}/manifests" if RELEASE != PINNED_RELEASE else PINNED_MANIFESTS
)
RELEASE_PIN = {"manifests": RELEASE_MANIFESTS, "release": RELEASE}
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

# A secret setting as `pulumi config set --secret` writes it: the offline render cannot decrypt it
# and passes the placeholder.
SECURE = {"secure": "v1:placeholder"}


def addon_config(client_secret: object, ca_cert: object, **more: object) -> dict:
    """nodeExporter.addon owned by the stack, rolled out and deleted on destroy, on one director."""
    return {
        "enabled": True,
        "rollout": True,
        "deleteOnDestroy": True,
        "bosh": {
            "environment": "https://10.0.0.6:25555",
            "client": "ops_manager",
            "clientSecret": client_secret,
            "caCert": ca_cert,
        },
        **more,
    }


def pin_the_release_under_test() -> None:
    """Under PKS_TEST_RELEASE, the stacks this process runs inherit that release's pin in place
    of Pulumi.yaml's (KUBE_PROMETHEUS_MANIFESTS cannot swap the release: the lock refuses it)."""
    if RELEASE == PINNED_RELEASE:
        return
    project_config = mock_engine.project_config
    mock_engine.project_config = lambda: {**project_config(), f"{PROJECT}:kubePrometheus": RELEASE_PIN}


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
