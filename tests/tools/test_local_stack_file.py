"""Pulumi.local.yaml: the local cluster's stack, committed without anything of one machine's."""

from __future__ import annotations

import yaml

from pks_monitoring.offline.render_diff import LOCAL_STACK, stacks_in
from pks_monitoring.settings import Settings
from pks_monitoring.settings.types import PROJECT_ROOT
from tests.helpers.settings import PINNED_MANIFESTS

LOCAL = PROJECT_ROOT / f"Pulumi.{LOCAL_STACK}.yaml"


def test_no_secret_and_no_salt_is_committed():
    # The passphrase, its salt and the password are this machine's: tools/local-stack.sh sets them
    # in a copy under .state (a salt committed by mistake would break every other machine's stack).
    document = yaml.safe_load(LOCAL.read_text())
    assert set(document) == {"config"}
    assert "secure" not in LOCAL.read_text()


def test_its_settings_are_valid_but_for_the_secret_set_on_each_machine():
    raw = {
        **yaml.safe_load(LOCAL.read_text())["config"],
        "pks-monitoring:kubePrometheus": {"manifests": PINNED_MANIFESTS},
    }
    settings = Settings.from_raw(raw)
    assert settings.grafana.admin_password is None
    # No StorageClass on the local cluster (nor on a stock TKGI one): nothing may wait on a claim.
    assert not any(
        part.storage.enabled for part in (settings.prometheus, settings.alertmanager, settings.grafana)
    )


def test_it_is_no_cluster_stack_for_the_render_diff_and_the_preview_jobs():
    assert LOCAL.is_file()
    assert LOCAL_STACK not in stacks_in(PROJECT_ROOT)
    assert {"dev", "prod-east"} <= set(stacks_in(PROJECT_ROOT))
