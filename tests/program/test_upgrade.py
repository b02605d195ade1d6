"""Moving to another kube-prometheus release: when the release lacks something the program
builds on, the render (and `pulumi up`) stops with one line naming it, before any resource.

tests/offline/test_render.py covers the Prometheus `k8s` resource; here: every other required
object, several at once, and setup/ without its Namespace or CRDs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pks_monitoring.kube_yaml import iter_objects, load_documents
from pks_monitoring.offline.render import main
from pks_monitoring.settings import MANIFESTS_ENV
from pks_monitoring.upstream import REQUIRED_OBJECTS, KubePrometheus

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

KEY = "pks-monitoring:kubePrometheus.manifests"


@pytest.fixture(autouse=True)
def manifests_from_the_stack(monkeypatch):
    """The environment variable would override the stack's manifests path under test."""
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)


def file_of(manifests_dir: Path, kind: str, name: str) -> str:
    """The upstream file holding the object, which must be all that file holds (so removing the
    file removes exactly that object)."""
    for path in sorted(manifests_dir.glob("*.yaml")):
        objects = [o for d in load_documents(path.read_text()) for o in iter_objects(d)]
        if any(o["kind"] == kind and o["metadata"]["name"] == name for o in objects):
            assert len(objects) == 1, f"{path.name} holds more than {kind} {name}"
            return path.name
    raise AssertionError(f"the pinned release has no {kind} {name}")


def render_against(manifests: Path, write_stack, tmp_path, capsys) -> str:
    """Renders the dev stack against `manifests`; asserts it fails as bad input, writes nothing
    and says so in one line; returns that line."""
    stack = write_stack({"pks-monitoring:kubePrometheus": {"manifests": str(manifests)}})
    out = tmp_path / "out"
    assert main(["--config", str(stack), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {KEY}: "), err
    assert not out.exists()
    return err


@pytest.mark.parametrize(
    "kind, name",
    [o for o in REQUIRED_OBJECTS if o != ("Prometheus", "k8s")],
    ids=lambda value: value,
)
def test_missing_required_object_is_named(
    kind, name, manifests_dir, broken_manifests, write_stack, tmp_path, capsys
):
    manifests = broken_manifests(without=[file_of(manifests_dir, kind, name)])
    err = render_against(manifests, write_stack, tmp_path, capsys)
    assert f"lacks {kind} {name}, which this program builds on" in err


def test_every_missing_object_is_named_in_the_one_line(
    manifests_dir, broken_manifests, write_stack, tmp_path, capsys
):
    manifests = broken_manifests(
        without=[
            file_of(manifests_dir, "Service", "grafana"),
            file_of(manifests_dir, "DaemonSet", "node-exporter"),
        ]
    )
    err = render_against(manifests, write_stack, tmp_path, capsys)
    assert "lacks Service grafana, DaemonSet node-exporter, which" in err


def test_setup_without_namespace_is_named(broken_manifests, write_stack, tmp_path, capsys):
    manifests = broken_manifests(without=["setup/namespace.yaml"])
    err = render_against(manifests, write_stack, tmp_path, capsys)
    assert "has no Namespace or no CustomResourceDefinitions" in err


def test_setup_without_crds_is_named(manifests_dir, broken_manifests, write_stack, tmp_path, capsys):
    crds = [f"setup/{p.name}" for p in (manifests_dir / "setup").glob("*CustomResourceDefinition.yaml")]
    manifests = broken_manifests(without=crds)
    err = render_against(manifests, write_stack, tmp_path, capsys)
    assert "has no Namespace or no CustomResourceDefinitions" in err


def test_control_an_unbroken_copy_is_accepted(broken_manifests):
    """The copy the cases above start from passes the check: what fails them is the removal."""
    kube_prometheus = KubePrometheus.open(broken_manifests(without=[]))
    assert kube_prometheus.find("Prometheus", "k8s")


@pytest.mark.parametrize(
    "file, old, new, named",
    [
        (
            "prometheus-service.yaml",
            "  - name: web\n",
            "  - name: webui\n",
            "port web of Service prometheus-k8s",
        ),
        (
            "prometheus-prometheus.yaml",
            "  serviceAccountName: prometheus-k8s\n",
            "",
            "spec.serviceAccountName of Prometheus k8s",
        ),
        # The dashboards, the admin Secret and the NetworkPolicy rule all go into the grafana container.
        (
            "grafana-deployment.yaml",
            "        name: grafana\n",
            "        name: grafana-server\n",
            "container grafana of Deployment grafana",
        ),
        (
            "grafana-deployment.yaml",
            "          name: http\n",
            "          name: web\n",
            "port http of the grafana container",
        ),
        # kubectl top node: the adapter's CPU rule takes the node mapping of its memory rule.
        (
            "prometheusAdapter-configMap.yaml",
            '            "instance":\n',
            '            "host":\n',
            "the cpu and memory rules (memory's instance -> node) of ConfigMap adapter-config",
        ),
    ],
)
def test_a_changed_field_the_program_reads_is_named(
    file, old, new, named, write_stack, broken_manifests, tmp_path, capsys
):
    manifests = broken_manifests(without=[])
    text = (manifests / file).read_text()
    assert old in text
    (manifests / file).write_text(text.replace(old, new))
    stack = write_stack({"pks-monitoring:kubePrometheus": {"manifests": str(manifests)}})
    assert main(["--config", str(stack), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and named in err, err
