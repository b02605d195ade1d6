"""A kube-prometheus release that fits the cluster's Kubernetes: each shared release told by its
manifests, a release upstream did not test on the stack's minor refused with one line naming the
one to pin, the operator's override, and the TKGI 1.23 stack as it renders by default."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from pks_monitoring.offline.mock_engine import Recorder, run_program
from pks_monitoring.releases import check_fits, identify
from pks_monitoring.settings import PROJECT_ROOT, Settings, SettingsError
from pks_monitoring.upstream import KubePrometheus
from tests.helpers.settings import (
    BASE,
    PINNED_MANIFESTS,
    SHARED_RELEASES,
    assert_one_line_error,
    one_line_error,
)

MANIFESTS_KEY = "pks-monitoring:kubePrometheus.manifests"


def manifests(release: str) -> str:
    return f"../shared/kube-prometheus/{release}/manifests"


def stack(tag: str, minor: str, **kube_prometheus: object) -> Settings:
    """A stack on Kubernetes `minor` with the manifests of release `tag`."""
    return Settings.from_raw(
        {
            **BASE,
            "pks-monitoring:kubernetesVersion": minor,
            "pks-monitoring:kubePrometheus": {"manifests": manifests(tag), **kube_prometheus},
        }
    )


def opened(release: str) -> KubePrometheus:
    return KubePrometheus.open(PROJECT_ROOT / manifests(release))


@pytest.mark.parametrize(
    "release", sorted(p.name for p in SHARED_RELEASES.iterdir() if (p / "manifests").is_dir())
)
def test_each_shared_release_is_told_by_its_manifests(release):
    # The folder is named after the tag its SOURCE.md says it is.
    assert f"tag `{release}`" in (SHARED_RELEASES / release / "SOURCE.md").read_text()
    assert identify(stack(release, "1.33"), opened(release)).tag == release


def test_the_pin_is_the_release_for_the_tkgi_releases_in_support():
    # TKGI 1.22 runs Kubernetes 1.31, TKGI 1.23 runs 1.32 (their release notes).
    assert manifests("v0.16.0") == PINNED_MANIFESTS
    for minor in ("1.31", "1.32"):
        assert check_fits(stack("v0.16.0", minor), opened("v0.16.0")).tag == "v0.16.0"


@pytest.mark.parametrize("minor", ["1.31", "1.32"])
def test_v0_18_on_a_tkgi_minor_is_refused_naming_the_release_to_pin(minor):
    message = one_line_error(
        lambda: check_fits(stack("v0.18.0", minor), opened("v0.18.0")), MANIFESTS_KEY, "v0.18.0"
    )
    assert f"not tested on Kubernetes {minor}" in message
    assert "v0.16.0" in message and "release-0.16" in message
    assert "allowUntestedKubernetes" in message


def test_the_override_runs_an_untested_release():
    settings = stack("v0.18.0", "1.32", allowUntestedKubernetes=True)
    assert check_fits(settings, opened("v0.18.0")).tag == "v0.18.0"


@pytest.mark.parametrize(
    "release, minor, fits",
    [
        ("v0.16.0", "1.34", True),
        ("v0.16.0", "1.35", False),
        ("v0.16.0", "1.30", False),
        ("v0.18.0", "1.33", True),
        ("v0.18.0", "1.36", True),
    ],
)
def test_upstreams_table_decides(release, minor, fits):
    if fits:
        assert check_fits(stack(release, minor), opened(release)).tag == release
    else:
        one_line_error(
            lambda: check_fits(stack(release, minor), opened(release)), MANIFESTS_KEY, "not tested"
        )


@pytest.fixture
def other_release(tmp_path) -> Path:
    """v0.16.0's manifests with another operator version: a tag the program does not tell by
    its manifests (as v0.15.0's would be)."""
    target = tmp_path / "manifests"
    shutil.copytree(PROJECT_ROOT / manifests("v0.16.0"), target)
    path = target / "prometheusOperator-deployment.yaml"
    deployment = yaml.safe_load(path.read_text())
    deployment["metadata"]["labels"]["app.kubernetes.io/version"] = "0.81.0"
    path.write_text(yaml.safe_dump(deployment))
    return target


def other(target: Path, minor: str, **kube_prometheus: object) -> Settings:
    return Settings.from_raw(
        {
            **BASE,
            "pks-monitoring:kubernetesVersion": minor,
            "pks-monitoring:kubePrometheus": {"manifests": str(target), **kube_prometheus},
        }
    )


def test_manifests_the_program_cannot_tell_need_the_release_named(other_release):
    kp = KubePrometheus.open(other_release)
    one_line_error(
        lambda: check_fits(other(other_release, "1.32"), kp),
        "pks-monitoring:kubePrometheus.release",
        "set kubePrometheus.release to the tag you fetched",
    )
    assert check_fits(other(other_release, "1.32", release="v0.15.0"), kp).tag == "v0.15.0"
    message = one_line_error(
        lambda: check_fits(other(other_release, "1.34", release="v0.15.0"), kp), MANIFESTS_KEY, "v0.15.0"
    )
    assert "release-0.16, release-0.18" in message
    one_line_error(
        lambda: check_fits(other(other_release, "1.32", release="v0.13.0"), kp),
        "pks-monitoring:kubePrometheus.release",
        "not in the compatibility table",
    )


def test_a_stated_release_must_be_the_manifests():
    one_line_error(
        lambda: check_fits(stack("v0.18.0", "1.33", release="v0.16.0"), opened("v0.18.0")),
        "pks-monitoring:kubePrometheus.release",
        "holds v0.18.0's manifests",
    )
    assert check_fits(stack("v0.16.0", "1.33", release="v0.16.0"), opened("v0.16.0")).tag == "v0.16.0"


@pytest.mark.parametrize(
    "minor, words",
    [
        ("1.3", 'write the minor quoted (kubernetesVersion: "1.30"'),
        ("1.32.4", 'the Kubernetes minor, as "1.32"'),
        ("v1.32", 'the Kubernetes minor, as "1.32"'),
    ],
)
def test_kubernetes_version_is_a_minor_as_written(minor, words):
    assert_one_line_error(
        {**BASE, "pks-monitoring:kubernetesVersion": minor}, "pks-monitoring:kubernetesVersion", words
    )


def test_kubernetes_version_is_required():
    raw = {k: v for k, v in BASE.items() if k != "pks-monitoring:kubernetesVersion"}
    assert_one_line_error(raw, "pks-monitoring:kubernetesVersion", "required")


# --- the program ----------------------------------------------------------------------------------

TKGI_1_23 = {
    "kubernetes:context": "tkgi-123",
    "pks-monitoring:cluster": "tkgi-123",
    "pks-monitoring:kubernetesVersion": "1.32",
    "pks-monitoring:storage": json.dumps({"storageClass": "thin"}),
    "pks-monitoring:grafana": json.dumps({"adminPassword": "[secret]"}),
}


@pytest.mark.slow
def test_a_tkgi_1_23_stack_renders_v0_16_without_the_adapters_api_service(monkeypatch):
    monkeypatch.delenv("KUBE_PROMETHEUS_MANIFESTS", raising=False)
    config = {**TKGI_1_23, "pks-monitoring:kubePrometheus": json.dumps({"manifests": manifests("v0.16.0")})}
    run = run_program(config, ["pks-monitoring:grafana"])
    assert run.outputs["kubePrometheusRelease"] == "v0.16.0"
    kinds = {(r.inputs.get("kind"), r.inputs["metadata"]["name"]) for r in run.recorder.kubernetes_objects()}
    assert ("Prometheus", "k8s") in kinds
    assert not [k for k in kinds if k[0] == "APIService"]
    assert ("Deployment", "prometheus-adapter") not in kinds


@pytest.mark.slow
def test_the_same_stack_with_v0_18_is_refused_before_any_resource(monkeypatch):
    monkeypatch.delenv("KUBE_PROMETHEUS_MANIFESTS", raising=False)
    config = {**TKGI_1_23, "pks-monitoring:kubePrometheus": json.dumps({"manifests": manifests("v0.18.0")})}
    recorder = Recorder()
    with pytest.raises(SettingsError) as caught:
        run_program(config, ["pks-monitoring:grafana"], mocks=recorder)
    assert recorder.resources == []
    assert str(caught.value).startswith(
        f"{MANIFESTS_KEY}: kube-prometheus v0.18.0 is not tested on Kubernetes 1.32"
    )
    assert "v0.16.0" in str(caught.value)
