"""The offline render's contract: files, determinism, --diff, exit codes, secrets."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml

from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.offline.render import RENDER_MARK, UnsafeRender, diff, main, object_path
from pks_monitoring.settings import MANIFESTS_ENV, PROJECT_ROOT, SECRET_PLACEHOLDER
from tests.helpers.diffs import changed_files, changed_lines
from tests.helpers.schemas import validate_core
from tests.helpers.settings import RELEASE, RELEASE_MANIFESTS, SECURE

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def dev_render(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render") / "dev"
    assert main(["--stack", "dev", "--out", str(out)]) == 0
    return out


def read(render_dir: Path, relative: str) -> dict:
    return yaml.safe_load((render_dir / relative).read_text())


def test_dev_render_layout_and_content(dev_render):
    files = tree(dev_render)
    assert "outputs.json" in files
    assert "k8s/_cluster/CustomResourceDefinition_prometheuses.monitoring.coreos.com.yaml" in files
    assert "k8s/_cluster/Namespace_monitoring.yaml" in files
    assert read(dev_render, "k8s/monitoring/Prometheus_k8s.yaml")["spec"]["replicas"] == 1
    assert read(dev_render, "k8s/monitoring/Alertmanager_main.yaml")["spec"]["replicas"] == 1
    # A budget in front of one replica would block every node drain.
    assert not [
        n
        for n in files
        if "PodDisruptionBudget_prometheus-k8s" in n or "PodDisruptionBudget_alertmanager-main" in n
    ]
    names = set(files)
    assert not [
        n for n in names if n.endswith("_node-exporter.yaml")
    ]  # DaemonSet, Service, ServiceMonitor...
    rule = read(dev_render, "k8s/monitoring/PrometheusRule_node-exporter-rules.yaml")
    assert sum("alert" in r for g in rule["spec"]["groups"] for r in g["rules"]) == 26
    # Each file holds one object exactly as sent (JSON, which is also YAML), keys sorted.
    deployment_text = (dev_render / "k8s/monitoring/Deployment_grafana.yaml").read_text()
    deployment = json.loads(deployment_text)
    assert deployment == yaml.safe_load(deployment_text)
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert isinstance(deployment["spec"]["replicas"], int)
    assert list(deployment) == sorted(deployment) and list(deployment["spec"]) == sorted(deployment["spec"])


def test_outputs_for_other_stacks(dev_render):
    outputs = json.loads((dev_render / "outputs.json").read_text())
    assert outputs["namespace"] == "monitoring"
    assert outputs["prometheusUrl"] == "http://prometheus-k8s.monitoring.svc:9090"
    assert outputs["alertmanagerUrl"] == "http://alertmanager-main.monitoring.svc:9093"
    assert outputs["grafanaUrl"] == "http://grafana.monitoring.svc:3000"
    assert outputs["prometheusServiceAccount"] == {"namespace": "monitoring", "name": "prometheus-k8s"}
    assert (
        outputs["portForward"]["prometheus"]
        == "kubectl --context demo -n monitoring port-forward svc/prometheus-k8s 9090"
    )


def test_render_is_byte_identical_across_runs(dev_render, tmp_path):
    again = tmp_path / "again"
    assert main(["--stack", "dev", "--out", str(again)]) == 0
    assert tree(again) == tree(dev_render)
    assert main(["--stack", "dev", "--out", str(tmp_path / "third"), "--diff", str(dev_render)]) == 0


def test_replicas_change_shows_only_in_prometheus_and_its_disruption_budget(
    dev_render, write_stack, tmp_path, capsys
):
    stack = write_stack({"pks-monitoring:prometheus": {"replicas": 2}})
    out = tmp_path / "replicas"
    assert main(["--config", str(stack), "--out", str(out), "--diff", str(dev_render)]) == 1
    captured = capsys.readouterr()
    changes = captured.out
    old, new = tree(dev_render), tree(out)
    # With two replicas, upstream's budget comes back: one may be evicted, one stays.
    budget = "k8s/monitoring/PodDisruptionBudget_prometheus-k8s.yaml"
    assert set(new) - set(old) == {budget} and set(old) <= set(new)
    assert json.loads(new[budget])["spec"]["minAvailable"] == 1
    assert [name for name in old if old[name] != new[name]] == ["k8s/monitoring/Prometheus_k8s.yaml"]
    assert '-    "replicas": 1,\n+    "replicas": 2,\n' in changes
    # What changed comes first, then the diff; what was written goes to stderr, one line.
    summary, unified = changes.split("\n\n", 1)
    assert summary.splitlines() == [
        "1 added, 1 changed (spec.replicas)",
        "  added    PodDisruptionBudget monitoring/prometheus-k8s",
        "  changed  Prometheus monitoring/k8s: spec.replicas",
    ]
    assert unified.startswith(f"--- a/{budget}\n")
    assert captured.err.count("\n") == 1 and captured.err.startswith(f"rendered {out}: ")
    assert "2 PodDisruptionBudget" not in captured.err and "1 PodDisruptionBudget" in captured.err


def test_namespace_change_shows_everywhere_and_only_as_the_namespace(dev_render, write_stack, tmp_path):
    stack = write_stack(
        {
            "pks-monitoring:kubePrometheus": {
                "manifests": RELEASE_MANIFESTS,  # the release the dev render runs under test
                "release": RELEASE,
                "namespace": "observability",
            }
        }
    )
    out = tmp_path / "ns"
    assert main(["--config", str(stack), "--out", str(out)]) == 0
    renamed = tree(out)
    assert (
        json.loads(renamed["k8s/_cluster/Namespace_observability.yaml"])["metadata"]["name"]
        == "observability"
    )
    # What still says "monitoring" outside the CRDs' prose is the operator's API group and an
    # upstream rule name (and our project's name in labels), not the namespace.
    text = b"".join(body for name, body in renamed.items() if "CustomResourceDefinition" not in name).decode()
    leftovers = set(re.findall(r"[\w.-]*monitoring[\w.-]*", text))
    assert {w for w in leftovers if "monitoring.coreos.com" not in w} == {
        "kubernetes-monitoring-rules",
        "pks-monitoring",
    }
    # Undo the rename: what is left must be the dev render, byte for byte.
    undone = {
        name.replace("observability", "monitoring"): body.replace(b"observability", b"monitoring")
        for name, body in renamed.items()
    }
    assert undone == tree(dev_render)


def test_program_survives_preview_unknowns(run_stack, dev_stack_file):
    run = run_stack(dev_stack_file, preview=True)
    assert run.recorder.kubernetes_objects()
    assert run.outputs["namespace"] == "monitoring"


BAD_INPUTS = [
    ({"pks-monitoring:prometheus": {"replicas": -1}}, "pks-monitoring:prometheus.replicas"),
    ({"pks-monitoring:prometheus": {"replicas": "two"}}, "pks-monitoring:prometheus.replicas"),
    ({"pks-monitoring:alertmanager": 3}, "pks-monitoring:alertmanager"),
    ({"pks-monitoring:grafanna": {"x": 1}}, "pks-monitoring:grafanna"),
    (
        {"pks-monitoring:kubePrometheus": {"manifests": "/nonexistent"}},
        "pks-monitoring:kubePrometheus.manifests",
    ),
    ({"pks-monitoring:kubePrometheus": {"manifests": "tests"}}, "pks-monitoring:kubePrometheus.manifests"),
    (
        {"pks-monitoring:kubePrometheus": {"manifests": "x", "namespace": "-bad-"}},
        "pks-monitoring:kubePrometheus.namespace",
    ),
    ({"pks-monitoring:kubePrometheus": {"manifest": "x"}}, "pks-monitoring:kubePrometheus.manifest"),
    ({"pks-monitoring:cluster": None}, "pks-monitoring:cluster"),
    ({"kubernetes:context": None}, "kubernetes"),
    ({"pks-monitoring:provider": {"enablePatchForce": True}}, "pks-monitoring:provider"),
]


@pytest.mark.parametrize("change, key", BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(change, key, write_stack, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)  # the manifests are the stack's (tools/test.sh sets it)
    stack = write_stack(change)
    assert main(["--config", str(stack), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"error: {key}:"), err
    assert not (tmp_path / "out").exists()


def test_manifests_unlike_the_lock_are_named(write_stack, broken_manifests, tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)
    manifests = broken_manifests(without=["prometheus-prometheus.yaml"])
    stack = write_stack({"pks-monitoring:kubePrometheus": {"manifests": str(manifests)}})
    assert main(["--config", str(stack), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(missing prometheus-prometheus.yaml)" in err, err
    assert not (tmp_path / "out").exists()


def test_bad_input_under_the_engine_raises_run_error_before_any_resource(write_stack, run_stack):
    stack = write_stack({"pks-monitoring:prometheus": {"replicas": 0}})
    with pytest.raises(pulumi.RunError, match=r"^pks-monitoring:prometheus.replicas: "):
        run_stack(stack)


def test_command_line_has_no_traceback(write_stack, tmp_path):
    stack = write_stack({"pks-monitoring:prometheus": {"replicas": "many"}})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pks_monitoring.offline.render",
            "--config",
            str(stack),
            "--out",
            str(tmp_path / "o"),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "ignore"},
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: pks-monitoring:prometheus.replicas:")
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1


def test_rerender_replaces_an_earlier_render_whole(dev_render, tmp_path):
    out = tmp_path / "earlier"
    shutil.copytree(dev_render, out)
    (out / "k8s/monitoring/ConfigMap_gone.yaml").write_text("{}\n")
    assert main(["--stack", "dev", "--out", str(out)]) == 0
    assert tree(out) == tree(dev_render)


def refused(argv: list[str], capsys) -> str:
    """The one error line of a refused render (exit code 2)."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err


def test_out_that_is_not_a_render_is_refused_and_kept(tmp_path, capsys):
    work = tmp_path / "work"
    work.mkdir()
    (work / "notes.txt").write_text("mine")
    err = refused(["--stack", "dev", "--out", str(work)], capsys)
    assert f"--out {work} is not empty and holds no earlier render" in err
    assert (work / "notes.txt").read_text() == "mine"
    (tmp_path / "file").write_text("mine")
    assert "is a file" in refused(["--stack", "dev", "--out", str(tmp_path / "file")], capsys)
    (tmp_path / "link").symlink_to(tmp_path / "work")
    assert "is a symbolic link" in refused(["--stack", "dev", "--out", str(tmp_path / "link")], capsys)
    assert (work / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("out", [".", "..", "sub/.."])
def test_out_holding_the_current_directory_is_refused(out, tmp_path, monkeypatch, capsys):
    checkout = tmp_path / "checkout"
    (checkout / "sub").mkdir(parents=True)
    # Even marked as a render: the folder the operator works in is never replaced.
    (checkout / RENDER_MARK).write_text("")
    (checkout / ".git").write_text("mine")
    monkeypatch.chdir(checkout)
    assert "holds the current directory" in refused(["--stack", "dev", "--out", out], capsys)
    assert (checkout / ".git").read_text() == "mine"


@pytest.mark.parametrize("out, old", [("r", "r"), ("r/new", "r"), ("r", "r/old")])
def test_out_overlapping_diff_is_refused(out, old, tmp_path, capsys, dev_render):
    shutil.copytree(dev_render, tmp_path / old)
    # Both earlier renders: replacing either would be allowed, were it not for the other.
    (tmp_path / out).mkdir(parents=True, exist_ok=True)
    (tmp_path / out / RENDER_MARK).touch()
    before = tree(tmp_path)
    err = refused(["--stack", "dev", "--out", str(tmp_path / out), "--diff", str(tmp_path / old)], capsys)
    assert f"--out {tmp_path / out} and --diff {tmp_path / old} overlap:" in err
    assert tree(tmp_path) == before


@pytest.mark.parametrize(
    "metadata",
    [
        {"name": "../../escape"},
        {"name": "a/b"},
        {"name": "x", "namespace": ".."},
        {"name": "x", "namespace": "a/../.."},
        {"name": ""},
    ],
)
def test_object_names_cannot_leave_their_folder(metadata):
    with pytest.raises(UnsafeRender, match="cannot be a file name in the render"):
        object_path({"kind": "ConfigMap", "metadata": metadata})


def test_object_path_of_a_plain_name():
    obj = {"kind": "ConfigMap", "metadata": {"name": "a..b", "namespace": "monitoring"}}
    assert object_path(obj) == Path("k8s/monitoring/ConfigMap_a..b.yaml")
    assert object_path({"kind": "Namespace", "metadata": {"name": "monitoring"}}) == Path(
        "k8s/_cluster/Namespace_monitoring.yaml"
    )


# --- a Secret's content in the diff ---------------------------------------------------------------


def render_variant(write_stack, tmp_path: Path, name: str, changes: dict) -> Path:
    out = tmp_path / name
    assert main(["--config", str(write_stack(changes, f"Pulumi.{name}.yaml")), "--out", str(out)]) == 0
    return out


def scrape(address: str) -> dict:
    return {"pks-monitoring:nodeExporter": {"staticTargets": [{"name": "pks-api", "address": address}]}}


def alerting(severity: str) -> dict:
    return {
        "pks-monitoring:alertmanager": {
            "replicas": 1,
            "receivers": [
                {"name": "hook", "type": "webhook", "url": SECURE},
                {"name": "pager", "type": "pagerduty", "routingKey": SECURE},
            ],
            "defaultReceiver": "hook",
            "routes": [{"receiver": "pager", "severity": severity}],
        }
    }


@pytest.mark.parametrize(
    "before, after, changed, old, new",
    [
        (alerting("critical"), alerting("warning"), "Secret_alertmanager-main", "critical", "warning"),
        (scrape("10.0.0.5"), scrape("10.0.0.6"), "Secret_additional-scrape-configs", "10.0.0.5", "10.0.0.6"),
    ],
    ids=["alertmanager route", "scrape target"],
)
def test_a_changed_route_or_scrape_target_is_one_changed_line(
    before, after, changed, old, new, write_stack, tmp_path
):
    changes = diff(
        render_variant(write_stack, tmp_path, "before", before),
        render_variant(write_stack, tmp_path, "after", after),
    )
    assert changed_files(changes) == [f"k8s/monitoring/{changed}.yaml"]
    removed, added = changed_lines(changes)
    assert removed.startswith("-") and old in removed and new not in removed
    assert added == "+" + removed[1:].replace(old, new)
    # The Secret is whole and valid.
    assert (
        validate_core(load_documents((tmp_path / "after" / changed_files(changes)[0]).read_text())[0]) == []
    )


def test_the_alertmanager_config_shows_each_secret_value_as_the_placeholder(write_stack, tmp_path):
    out = render_variant(write_stack, tmp_path, "receivers", alerting("critical"))
    secret = load_documents((out / "k8s/monitoring/Secret_alertmanager-main.yaml").read_text())[0]
    receivers = {r["name"]: r for r in yaml.safe_load(secret["stringData"]["alertmanager.yaml"])["receivers"]}
    assert receivers["hook"]["webhook_configs"][0]["url"] == SECRET_PLACEHOLDER
    assert receivers["pager"]["pagerduty_configs"][0]["routing_key"] == SECRET_PLACEHOLDER
