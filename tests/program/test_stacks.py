"""Every stack file renders, and renders the same whatever the clock, the randomness and the hash
ordering of the process: so a second `pulumi up` with unchanged settings changes nothing.

How: all stacks are run twice under the mock engine, each time in a fresh interpreter
(tests/program/determinism_probe.py), the second time in the reverse order (so that no state one
stack's run leaves in the process can shape another's unnoticed):
- hash ordering: PYTHONHASHSEED 1 and 2, so that anything built from iterating a set (or a dict
  filled from one) comes out in another order;
- the clock: the second run's clocks (time.*, datetime.*) run 400 days, 1 hour and 1 second
  ahead, so a value derived from the time, the date, the month or the year differs;
- randomness: every fresh interpreter seeds `random`, and os.urandom/uuid4/secrets are fresh
  anyway, so a value drawn from them differs between any two runs.
The two runs must agree byte for byte on the render, and on every registered resource (not only
the rendered Kubernetes objects: providers and commands too) by type, name, provider,
dependencies and inputs with secret values included. Each run also reports what it saw of the
clock and of set ordering: the test checks the perturbations really happened.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pulumi.runtime import rpc

from pks_monitoring.offline.mock_engine import Recorder, RecordingMonitor, Registration, Run
from pks_monitoring.offline.render_diff import stacks_in
from pks_monitoring.settings import PROJECT_ROOT
from tests.program.determinism_probe import digest, fingerprint

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

CLOCK_SHIFT = 400 * 86400 + 3600 + 1
RUNS = {"first": {"seed": "1", "shift": 0}, "second": {"seed": "2", "shift": CLOCK_SHIFT}}
STACKS = stacks_in(PROJECT_ROOT)


def probe(out: Path, stack_files: list[Path], seed: str, shift: int) -> None:
    env = {**os.environ, "PYTHONHASHSEED": seed}
    args = [sys.executable, "-m", "tests.program.determinism_probe", str(out), *map(str, stack_files)]
    if shift:
        args += ["--shift-clock", str(shift)]
    result = subprocess.run(args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    """{run: its output directory}: every stack file, rendered twice."""
    tmp = tmp_path_factory.mktemp("stacks")
    stack_files = list(STACKS.values())
    orders = {"first": stack_files, "second": stack_files[::-1]}

    def run(name: str) -> Path:
        probe(tmp / name, orders[name], RUNS[name]["seed"], RUNS[name]["shift"])
        return tmp / name

    with ThreadPoolExecutor(max_workers=len(RUNS)) as pool:
        return dict(zip(RUNS, pool.map(run, RUNS)))


def fingerprints(runs: dict[str, Path], stack: str) -> list[dict]:
    return [json.loads((runs[name] / stack / "fingerprint.json").read_text()) for name in RUNS]


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("stack", STACKS)
def test_two_renders_are_byte_identical(runs, stack):
    first, second = (tree(runs[name] / stack / "render") for name in RUNS)
    assert "outputs.json" in first and any(name.startswith("k8s/") for name in first)
    assert first == second, sorted(
        name for name in first.keys() | second.keys() if first.get(name) != second.get(name)
    )


@pytest.mark.parametrize("stack", STACKS)
def test_no_resource_depends_on_time_randomness_or_ordering(runs, stack):
    first, second = fingerprints(runs, stack)
    assert first["outputs"] == second["outputs"]
    assert first["resources"] == second["resources"], "these differ: " + ", ".join(
        sorted(
            {f"{r['type']} {r['name']}" for r in first["resources"] if r not in second["resources"]}
            | {f"{r['type']} {r['name']}" for r in second["resources"] if r not in first["resources"]}
        )
    )
    assert "pulumi:providers:kubernetes" in {r["type"] for r in first["resources"]}


def test_the_addon_owner_is_covered(runs):
    """The BOSH commands (and their secret environment) are among the resources compared."""
    first, _ = fingerprints(runs, "prod-east")
    assert "command:local:Command" in {r["type"] for r in first["resources"]}


def test_the_runs_really_differed(runs):
    first, second = (json.loads((runs[name] / "probe.json").read_text()) for name in RUNS)
    assert first["set_order"] != second["set_order"]
    assert second["time"] - first["time"] > CLOCK_SHIFT - 600
    assert second["now"][:4] != first["now"][:4]  # another year


def test_the_stacks_differ_where_the_clusters_do(runs):
    """The second example stack is another cluster: its own context, name, replicas, storage and
    the director-wide addon, which only one stack owns."""

    def read(stack: str, name: str) -> dict:
        return json.loads((runs["first"] / stack / "render" / name).read_text())

    outputs = {stack: read(stack, "outputs.json") for stack in STACKS}
    assert outputs["prod-east"]["portForward"]["prometheus"].startswith("kubectl --context prod-east ")
    assert outputs["dev"]["portForward"]["prometheus"].startswith("kubectl --context demo ")
    assert [stack for stack in STACKS if "rolloutCommand" in outputs[stack]] == ["prod-east"]
    prometheus = {stack: read(stack, "k8s/monitoring/Prometheus_k8s.yaml")["spec"] for stack in STACKS}
    assert {stack: spec["replicas"] for stack, spec in prometheus.items()} == {"dev": 1, "prod-east": 2}
    claims = {stack: spec["storage"]["volumeClaimTemplate"]["spec"] for stack, spec in prometheus.items()}
    assert claims["dev"]["storageClassName"] == "pks-monitoring"  # the class dev creates for vSphere CSI
    assert claims["prod-east"]["storageClassName"] == "vsphere-prod-east"


# The comparison can fail: a changed input, even a secret one, changes the fingerprint.


def registration(inputs: dict) -> Run:
    recorder = Recorder([Registration("kubernetes:core/v1:Secret", "s", inputs, None, True)])
    return Run(recorder, RecordingMonitor(recorder), {})


def secret(value: str) -> dict:
    """A secret as the engine hands it to the mocks."""
    return {rpc._special_sig_key: rpc._special_secret_sig, "value": value}


def test_fingerprint_sees_every_input_and_secret_values():
    base = fingerprint(registration({"metadata": {"name": "s"}, "stringData": secret("a")}))
    assert base == fingerprint(registration({"stringData": secret("a"), "metadata": {"name": "s"}}))
    assert base != fingerprint(registration({"metadata": {"name": "s"}, "stringData": secret("b")}))
    assert base != fingerprint(registration({"metadata": {"name": "t"}, "stringData": secret("a")}))
    assert digest({"a": [1, 2]}) != digest({"a": [2, 1]})
