"""The GitHub Actions workflows: actionlint finds nothing in them (and does find a broken one),
the tests workflow runs the suite through `.ci/run` under CI, and the PR preview covers every
cluster stack with the kube-prometheus release the tests use."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pks_monitoring.offline.render_diff import stacks_in
from pks_monitoring.settings import PROJECT, PROJECT_ROOT
from pks_monitoring.stack_file import read_config
from tests.helpers.prometheus_tools import require
from tests.helpers.settings import PINNED_MANIFESTS

WORKFLOWS = sorted(
    p for p in (PROJECT_ROOT / ".github" / "workflows").iterdir() if p.suffix in (".yml", ".yaml")
)
PREVIEW = PROJECT_ROOT / ".github" / "workflows" / "preview.yml"
TESTS = PROJECT_ROOT / ".github" / "workflows" / "tests.yml"
STACKS = stacks_in(PROJECT_ROOT)


def actionlint() -> str:
    """actionlint from the venv's bin (the requirements install it there), else from PATH;
    missing: skipped on a developer machine, a failure under CI."""
    return shutil.which("actionlint", path=str(Path(sys.executable).parent)) or require("actionlint")


def lint(*paths: Path, cwd: Path = PROJECT_ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", "-oneline", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_there_are_workflows():
    assert PREVIEW in WORKFLOWS
    assert TESTS in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_actionlint_passes(workflow):
    result = lint(workflow)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_reports_a_broken_workflow(tmp_path):
    broken = tmp_path / ".github" / "workflows" / "broken.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(
        "on: pull_request\n"
        "jobs:\n"
        "  diff:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: render\n"  # no such job
        "    steps:\n"
        "      - run: echo ${{ github.shaa }}\n"  # no such property
    )
    result = lint(broken, cwd=tmp_path)
    assert result.returncode == 1
    assert 'needs job "render" which does not exist' in result.stdout, result.stdout
    assert 'property "shaa" is not defined' in result.stdout, result.stdout


def load(workflow: Path) -> dict:
    # YAML 1.1 reads the `on:` key as True.
    return yaml.safe_load(workflow.read_text())


def test_tests_workflow_runs_ci_run_under_ci():
    """What the README says CI checks (real-tool tests not skipped, a matrix entry per stack,
    schema validation, the secrets audit) holds only if every PR and main run the suite the way
    `.ci/run` does, with CI set so that a missing tool fails instead of skipping."""
    workflow = load(TESTS)
    triggers = workflow[True]
    assert "pull_request" in triggers
    assert "main" in triggers["push"]["branches"]
    runs = [
        (job, step)
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if ".ci/run" in step.get("run", "")
    ]
    assert len(runs) == 1, runs
    [(job, step)] = runs
    assert shlex.split(step["run"]) == ["bash", ".ci/run"]
    assert "CI" in {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}


def test_preview_runs_for_every_cluster_stack():
    """A new Pulumi.<stack>.yaml needs its matrix entry (and its kubeconfig secret)."""
    matrix = load(PREVIEW)["jobs"]["preview"]["strategy"]["matrix"]["include"]
    assert sorted(entry["stack"] for entry in matrix) == sorted(STACKS)
    secrets = [entry["kubeconfig-secret"] for entry in matrix]
    assert len(set(secrets)) == len(secrets)


def test_one_kube_prometheus_release_everywhere():
    """The workflows fetch the release the tests run against and every configured manifests
    path names: an upgrade that misses one of them fails here."""
    pins = {workflow.name: load(workflow)["env"]["KUBE_PROMETHEUS_VERSION"] for workflow in (PREVIEW, TESTS)}
    assert len(set(pins.values())) == 1, pins
    version = pins[PREVIEW.name]
    assert version in Path(PINNED_MANIFESTS).parts
    for stack, stack_file in STACKS.items():
        # The committed files, not the pin the suite runs another release under (PKS_TEST_RELEASE).
        config = {k: json.dumps(v) for k, v in read_config(stack_file).items()}
        configured = config.get(f"{PROJECT}:kubePrometheus")
        if configured and "manifests" in yaml.safe_load(configured):
            assert version in Path(yaml.safe_load(configured)["manifests"]).parts, stack
