"""An air-gapped stack rendered whole: with `images.registry` set, no pod template, no resource
the operator builds pods from and no operator flag names another registry; the `images` output
and `python -m pks_monitoring.offline.images` list exactly what the render runs."""

from __future__ import annotations

import json

import pytest

from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.offline import images as images_tool
from pks_monitoring.offline.render import render
from tests.parts.test_images import named_images

pytestmark = pytest.mark.slow

MIRROR = "harbor.example.org/mirror"
GRAFANA = "harbor.example.org/pinned/grafana:12.1.0-patched"


@pytest.fixture
def rendered(write_stack, tmp_path):
    stack = write_stack(
        {
            "pks-monitoring:images": {
                "registry": MIRROR,
                "overrides": {"docker.io/grafana/grafana": GRAFANA},
                "pullSecret": {"username": "robot", "password": {"secure": "v1:placeholder"}},
            },
            "pks-monitoring:demoApp": {"enabled": True},
        }
    )
    out = tmp_path / "render"
    render(stack, out)
    objects = [obj for p in (out / "k8s").rglob("*.yaml") for obj in load_documents(p.read_text())]
    return stack, objects, json.loads((out / "outputs.json").read_text())


def test_nothing_names_a_registry_but_the_mirror(rendered):
    _, objects, _ = rendered
    pulled = {image for obj in objects for image in named_images(obj)}
    assert len(pulled) >= 9
    assert {i for i in pulled if not i.startswith(f"{MIRROR}/")} == {GRAFANA}
    assert f"{MIRROR}/making/hello-pks:0.0.2" in pulled


def test_the_image_list_is_what_the_render_runs(rendered, capsys):
    stack, objects, outputs = rendered
    pulled = {image for obj in objects for image in named_images(obj)}
    assert set(outputs["images"]) == pulled
    upstream = next(i for i in outputs["images"].values() if i.startswith("grafana/grafana:"))
    assert outputs["images"][GRAFANA] == upstream  # the release's own Grafana
    assert images_tool.main(["--config", str(stack)]) == 0
    lines = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert {pulled for _, pulled in lines} == pulled
    assert [f"docker.io/{upstream}", GRAFANA] in lines


def test_every_pod_pulls_with_the_registry_login(rendered):
    _, objects, _ = rendered
    pods = [
        o["spec"]["template"]["spec"]
        if o["kind"] != "Prometheus" and o["kind"] != "Alertmanager"
        else o["spec"]
        for o in objects
        if o["kind"] in ("Deployment", "DaemonSet", "StatefulSet", "Prometheus", "Alertmanager")
    ]
    assert pods and all({"name": "pks-monitoring-registry"} in p["imagePullSecrets"] for p in pods)
    logins = {
        o["metadata"]["namespace"]
        for o in objects
        if o["kind"] == "Secret" and o["metadata"]["name"] == "pks-monitoring-registry"
    }
    assert logins == {"monitoring", "hello"}
