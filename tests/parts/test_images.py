"""Images (`images`): the registry mirror, overrides and the pull secret, on upstream's objects.

What names an image is found here by a walk of its own (every `image` field, every argument
naming a registry), not by the part's code."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from pks_monitoring.offline.mock_engine import reveal
from pks_monitoring.parts.images import (
    check_overrides,
    mirrored,
    normalized,
    pull_secret,
    use_mirror,
    use_pull_secret,
)
from pks_monitoring.settings import Settings, SettingsError
from pks_monitoring.settings.images import ImagesSettings
from tests.helpers.settings import BASE, assert_one_line_error

MIRROR = "harbor.example.org/mirror"
# What names a registry in an argument (the operator's --prometheus-config-reloader=<image>).
REGISTRIES = ("quay.io/", "docker.io/", "ghcr.io/", "registry.k8s.io/", "grafana/", f"{MIRROR}/")


def images(**raw: Any) -> ImagesSettings:
    return ImagesSettings.model_validate(raw)


def named_images(value: Any, key: str = "") -> Iterator[str]:
    """Every `image` value, and every string argument that names a registry."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from named_images(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from named_images(v, key)
    elif isinstance(value, str) and (
        key == "image" or (key == "args" and any(r in value for r in REGISTRIES))
    ):
        yield value.split("=", 1)[-1]


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("quay.io/prometheus/prometheus:v3.5.0", "quay.io/prometheus/prometheus:v3.5.0"),
        ("grafana/grafana:12.1.0", "docker.io/grafana/grafana:12.1.0"),
        ("busybox", "docker.io/library/busybox"),
        ("localhost:5000/x/y:1", "localhost:5000/x/y:1"),
        ("registry.k8s.io/a/b@sha256:" + "a" * 64, "registry.k8s.io/a/b@sha256:" + "a" * 64),
        ("harbor:8443/p/q:v1@sha256:" + "b" * 64, "harbor:8443/p/q:v1@sha256:" + "b" * 64),
    ],
)
def test_references_are_read_as_container_runtimes_read_them(reference, expected):
    assert normalized(reference) == expected


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("quay.io/prometheus/prometheus:v3.5.0", f"{MIRROR}/prometheus/prometheus:v3.5.0"),
        ("grafana/grafana:12.1.0", f"{MIRROR}/grafana/grafana:12.1.0"),
        ("busybox@sha256:" + "c" * 64, f"{MIRROR}/library/busybox@sha256:" + "c" * 64),
    ],
)
def test_the_mirror_keeps_path_tag_and_digest(reference, expected):
    assert mirrored(reference, images(registry=MIRROR)) == expected


def test_an_override_wins_and_no_setting_changes_nothing():
    settings = images(
        registry=MIRROR, overrides={"docker.io/grafana/grafana": "harbor.example.org/g/grafana:12.1.1"}
    )
    assert mirrored("grafana/grafana:12.1.0", settings) == "harbor.example.org/g/grafana:12.1.1"
    assert mirrored("grafana/grafana:12.1.0", images()) == "grafana/grafana:12.1.0"


def test_no_object_names_a_registry_but_the_mirror(kube_prometheus):
    settings = images(registry=MIRROR)
    objects = copy.deepcopy(kube_prometheus.objects)
    before = [image for obj in objects for image in named_images(obj)]
    assert len(before) >= 10 and any("--prometheus-config-reloader=" in json.dumps(o) for o in objects)
    for obj in objects:
        use_mirror(obj, images=settings)
    after = [image for obj in objects for image in named_images(obj)]
    assert len(after) == len(before)
    assert [i for i in after if not i.startswith(f"{MIRROR}/")] == []


def test_every_pod_pulls_with_the_secret(kube_prometheus):
    objects = copy.deepcopy(kube_prometheus.objects)
    for obj in objects:
        use_pull_secret(obj)
        use_pull_secret(obj)  # once only, however often it runs
    pods = [
        (o["spec"]["template"]["spec"] if "template" in o.get("spec", {}) else o["spec"])
        for o in objects
        if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Prometheus", "Alertmanager")
    ]
    assert len(pods) >= 8
    assert all(pod["imagePullSecrets"] == [{"name": "pks-monitoring-registry"}] for pod in pods)


def test_the_pull_secret_is_a_docker_config_in_a_pulumi_secret():
    secret = pull_secret(
        "monitoring", images(registry=MIRROR, pullSecret={"username": "robot$ops", "password": 'p"w\\d'})
    )
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    content = secret["stringData"][".dockerconfigjson"]
    assert content.is_secret is not None
    login = json.loads(reveal(_resolved(content)))["auths"]["harbor.example.org"]
    assert base64.b64decode(login["auth"]).decode() == 'robot$ops:p"w\\d'


def _resolved(output: Any) -> Any:
    from pulumi.runtime.sync_await import _sync_await

    return _sync_await(output.future())


def test_an_override_of_an_image_the_stack_does_not_run_is_refused():
    with pytest.raises(
        SettingsError, match=r"images.overrides: docker.io/grafana/grafanna is no image this stack runs"
    ):
        check_overrides(images(overrides={"docker.io/grafana/grafanna": "x/y:1"}), ["grafana/grafana:12.1.0"])


@pytest.mark.parametrize(
    ("value", "key", "words"),
    [
        ({"registry": "https://harbor.example.org"}, "images.registry", "without a scheme"),
        ({"registry": "harbor.example.org/"}, "images.registry", "without a scheme"),
        ({"overrides": {"quay.io/prometheus/prometheus:v3": "x/y:1"}}, "images.overrides", "without tag"),
        (
            {"overrides": {"quay.io/prometheus/prometheus": "x/Y:1 2"}},
            "images.overrides",
            "an image reference",
        ),
        ({"pullSecret": {"username": "robot", "password": "pw"}}, "images", "pullSecret.server is required"),
    ],
)
def test_malformed_image_settings_are_refused_in_one_line(value, key, words):
    assert_one_line_error({**BASE, "pks-monitoring:images": value}, f"pks-monitoring:{key}", words)


def test_the_pull_secret_takes_the_mirrors_host():
    settings = Settings.from_raw(
        {
            **BASE,
            "pks-monitoring:images": {
                "registry": "harbor.example.org:8443/mirror",
                "pullSecret": {"username": "r", "password": "p"},
            },
        }
    )
    secret = pull_secret("monitoring", settings.images)
    assert (
        "harbor.example.org:8443"
        in json.loads(reveal(_resolved(secret["stringData"][".dockerconfigjson"])))["auths"]
    )
