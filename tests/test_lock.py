"""kube-prometheus.lock.json: it records both shared releases byte for byte, and the program
refuses, with one line before any resource, manifests that are not what it records for the
release the stack pins (a byte changed, a file added or removed, a release it does not record,
KUBE_PROMETHEUS_MANIFESTS pointing at another release)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from pks_monitoring.lock import LOCK_FILE, main, pinned
from pks_monitoring.offline.mock_engine import Recorder, run_program, stack_config
from pks_monitoring.settings import MANIFESTS_ENV, PROJECT_ROOT, Settings, SettingsError
from tests.helpers.settings import BASE, RELEASE, SHARED_RELEASES, one_line_error

KEY = "pks-monitoring:kubePrometheus.manifests"
RELEASES = sorted(p.name for p in SHARED_RELEASES.iterdir() if (p / "manifests").is_dir())
OTHER = next(r for r in RELEASES if r != RELEASE)
CLUSTER_ADMIN_BINDING = """\
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata:
  name: grafana-cluster-admin
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: cluster-admin
subjects:
- kind: ServiceAccount
  name: grafana
  namespace: monitoring
"""


def sha256sum_digest(manifests: Path) -> str:
    """The set digest as the lock's documentation says coreutils computes it."""
    listing = subprocess.run(
        "find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs sha256sum | sha256sum",
        shell=True,
        cwd=manifests,
        capture_output=True,
        text=True,
        check=True,
    )
    return "sha256:" + listing.stdout.split()[0]


@pytest.fixture
def copy(tmp_path, manifests_dir) -> Path:
    """The release under test's manifests, in a directory a test may change."""
    target = tmp_path / "manifests"
    shutil.copytree(manifests_dir, target)
    return target


def settings_for(manifests: Path | str, **kube_prometheus: object) -> Settings:
    return Settings.from_raw(
        {**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests), **kube_prometheus}}
    )


def refused(settings: Settings, words: str) -> str:
    return one_line_error(lambda: pinned(settings), KEY, words)


@pytest.mark.parametrize("release", RELEASES)
def test_the_lock_records_each_shared_release_byte_for_byte(release):
    manifests = SHARED_RELEASES / release / "manifests"
    locked = json.loads(LOCK_FILE.read_text())[release]
    files = {p.relative_to(manifests).as_posix(): p for p in manifests.rglob("*") if p.is_file()}
    assert locked["files"] == {name: hashlib.sha256(p.read_bytes()).hexdigest() for name, p in files.items()}
    assert locked["digest"] == sha256sum_digest(manifests)
    assert pinned(settings_for(manifests)).release == release


def test_an_unmodified_copy_is_accepted(copy):
    """The control for the refusals below: what fails them is the change."""
    assert pinned(settings_for(copy)).digest == sha256sum_digest(copy)


def test_one_byte_changed_is_refused(copy):
    path = copy / "prometheusOperator-deployment.yaml"
    data = bytearray(path.read_bytes())
    data[-2] = ord("x") if data[-2] != ord("x") else ord("y")
    path.write_bytes(bytes(data))
    message = refused(settings_for(copy), f"is not kube-prometheus {RELEASE} as kube-prometheus.lock.json")
    assert "(changed prometheusOperator-deployment.yaml)" in message


def test_an_extra_cluster_role_binding_is_refused(copy):
    (copy / "grafana-clusterRoleBinding.yaml").write_text(CLUSTER_ADMIN_BINDING)
    refused(settings_for(copy, release=RELEASE), "(extra grafana-clusterRoleBinding.yaml)")


def test_a_missing_file_is_refused(copy):
    (copy / "setup" / "namespace.yaml").unlink()
    refused(settings_for(copy), "(missing setup/namespace.yaml)")


def test_a_release_the_lock_does_not_record_is_refused(copy):
    refused(
        settings_for(copy, release="v0.15.0"),
        "v0.15.0 (kubePrometheus.release) is not in kube-prometheus.lock.json",
    )


def test_manifests_of_no_recorded_release_are_refused(tmp_path):
    (tmp_path / "setup").mkdir()
    refused(settings_for(tmp_path), "holds none of the kube-prometheus releases")


def test_the_environment_relocates_the_pinned_release(copy, monkeypatch, manifests_dir):
    monkeypatch.setenv(MANIFESTS_ENV, str(copy))
    assert pinned(settings_for(manifests_dir)).root == copy
    assert pinned(settings_for("nowhere/manifests", release=RELEASE)).root == copy


def test_the_environment_cannot_swap_the_release(monkeypatch, manifests_dir):
    monkeypatch.setenv(MANIFESTS_ENV, str(SHARED_RELEASES / OTHER / "manifests"))
    refused(settings_for(manifests_dir), f"holds kube-prometheus {OTHER}, but the stack pins {RELEASE}")
    # CI has no ../shared: the stack's tag is what the relocation must hold.
    refused(settings_for("nowhere/manifests", release=RELEASE), f"{OTHER}")
    refused(settings_for("nowhere/manifests"), "can only relocate a release the stack names")


def test_the_environment_cannot_bring_changed_bytes(copy, monkeypatch, manifests_dir):
    (copy / "grafana-clusterRoleBinding.yaml").write_text(CLUSTER_ADMIN_BINDING)
    monkeypatch.setenv(MANIFESTS_ENV, str(copy))
    refused(settings_for(manifests_dir), "(extra grafana-clusterRoleBinding.yaml)")


def test_the_environment_cannot_hide_a_changed_copy_the_stack_points_at(copy, monkeypatch, manifests_dir):
    """A copy committed beside the stack file is what `pulumi up` reads: a relocation of the
    unmodified release must not render in its place."""
    (copy / "grafana-clusterRoleBinding.yaml").write_text(CLUSTER_ADMIN_BINDING)
    monkeypatch.setenv(MANIFESTS_ENV, str(manifests_dir))
    refused(settings_for(copy, release=RELEASE), "(extra grafana-clusterRoleBinding.yaml)")


# --- the program ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_program_refuses_a_changed_copy_before_any_resource(copy, monkeypatch):
    (copy / "grafana-clusterRoleBinding.yaml").write_text(CLUSTER_ADMIN_BINDING)
    config, secret_keys = stack_config(PROJECT_ROOT / "Pulumi.dev.yaml")
    config["pks-monitoring:kubePrometheus"] = json.dumps({"manifests": str(copy)})
    recorder = Recorder()
    with pytest.raises(SettingsError, match=rf"^{KEY}: .*extra grafana-clusterRoleBinding.yaml"):
        run_program(config, secret_keys, mocks=recorder)
    assert recorder.resources == []


@pytest.mark.slow
def test_the_release_and_its_digest_are_stack_outputs(manifests_dir):
    run = run_program(*stack_config(PROJECT_ROOT / "Pulumi.dev.yaml"))
    assert run.outputs["kubePrometheusRelease"] == RELEASE
    assert run.outputs["kubePrometheusDigest"] == sha256sum_digest(manifests_dir)


# --- the tool ---------------------------------------------------------------------------------------


def test_the_tool_records_a_release_and_checks_it(copy, tmp_path, capsys):
    lock = tmp_path / "lock.json"
    assert main(["--write", RELEASE, str(copy), "--lock", str(lock)]) == 0
    assert json.loads(lock.read_text())[RELEASE]["digest"] == sha256sum_digest(copy)
    assert main([RELEASE, str(copy), "--lock", str(lock)]) == 0
    (copy / "grafana-clusterRoleBinding.yaml").write_text(CLUSTER_ADMIN_BINDING)
    capsys.readouterr()
    assert main([RELEASE, str(copy), "--lock", str(lock)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "extra grafana-clusterRoleBinding.yaml" in err, err


def test_the_tool_records_no_release_under_another_tag(manifests_dir, tmp_path, capsys):
    lock = tmp_path / "lock.json"
    assert main(["--write", OTHER, str(manifests_dir), "--lock", str(lock)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"holds {RELEASE}'s manifests, not {OTHER}'s" in err, err
    assert not lock.exists()
