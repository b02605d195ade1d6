"""Moving to another kube-prometheus release: when the release lacks something the program
builds on, recording it in kube-prometheus.lock.json stops with one line naming it (the program
runs no release the lock does not record, and checks the same again before any resource).

Every required object, several at once, and setup/ without its Namespace or CRDs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pks_monitoring.kube_yaml import iter_objects, load_documents
from pks_monitoring.lock import main
from pks_monitoring.upstream import REQUIRED_OBJECTS, KubePrometheus
from tests.helpers.settings import RELEASE

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

KEY = "pks-monitoring:kubePrometheus.manifests"


def file_of(manifests_dir: Path, kind: str, name: str) -> str:
    """The upstream file holding the object, which must be all that file holds (so removing the
    file removes exactly that object)."""
    for path in sorted(manifests_dir.glob("*.yaml")):
        objects = [o for d in load_documents(path.read_text()) for o in iter_objects(d)]
        if any(o["kind"] == kind and o["metadata"]["name"] == name for o in objects):
            assert len(objects) == 1, f"{path.name} holds more than {kind} {name}"
            return path.name
    raise AssertionError(f"the pinned release has no {kind} {name}")


def record(manifests: Path, tmp_path, capsys) -> str:
    """Records `manifests` as a release (`python -m pks_monitoring.lock --write`); asserts it
    fails as bad input, writes nothing and says so in one line; returns that line."""
    lock = tmp_path / "lock.json"
    assert main(["--write", RELEASE, str(manifests), "--lock", str(lock)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {KEY}: "), err
    assert not lock.exists()
    return err


@pytest.mark.parametrize("kind, name", REQUIRED_OBJECTS, ids=lambda value: value)
def test_missing_required_object_is_named(kind, name, manifests_dir, broken_manifests, tmp_path, capsys):
    manifests = broken_manifests(without=[file_of(manifests_dir, kind, name)])
    err = record(manifests, tmp_path, capsys)
    assert f"lacks {kind} {name}, which this program builds on" in err


def test_every_missing_object_is_named_in_the_one_line(manifests_dir, broken_manifests, tmp_path, capsys):
    manifests = broken_manifests(
        without=[
            file_of(manifests_dir, "Service", "grafana"),
            file_of(manifests_dir, "DaemonSet", "node-exporter"),
        ]
    )
    err = record(manifests, tmp_path, capsys)
    assert "lacks Service grafana, DaemonSet node-exporter, which" in err


def test_setup_without_namespace_is_named(broken_manifests, tmp_path, capsys):
    manifests = broken_manifests(without=["setup/namespace.yaml"])
    err = record(manifests, tmp_path, capsys)
    assert "has no Namespace or no CustomResourceDefinitions" in err


def test_setup_without_crds_is_named(manifests_dir, broken_manifests, tmp_path, capsys):
    crds = [f"setup/{p.name}" for p in (manifests_dir / "setup").glob("*CustomResourceDefinition.yaml")]
    manifests = broken_manifests(without=crds)
    err = record(manifests, tmp_path, capsys)
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
    file, old, new, named, broken_manifests, tmp_path, capsys
):
    manifests = broken_manifests(without=[])
    text = (manifests / file).read_text()
    assert old in text
    (manifests / file).write_text(text.replace(old, new))
    assert named in record(manifests, tmp_path, capsys)
