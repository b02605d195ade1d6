"""Shared fixtures: the upstream manifests, stack configs, and the mock engine."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pulumi
import pytest
import yaml

from pks_monitoring.offline.mock_engine import Recorder, RecordingMonitor, run_program, stack_config
from pks_monitoring.settings import MANIFESTS_ENV, PROJECT, PROJECT_ROOT
from pks_monitoring.stack_file import read_document
from pks_monitoring.upstream import KubePrometheus
from tests.helpers.micrometer import app_prometheus, spring_boot_app  # noqa: F401 (fixtures)
from tests.helpers.settings import PINNED_MANIFESTS, RELEASE_MANIFESTS, pin_the_release_under_test

# The release under test: the pin (Pulumi.yaml), or PKS_TEST_RELEASE's, which every program run
# of the suite in this process then inherits as its pin (children: tests that start them say how).
UPSTREAM = (PROJECT_ROOT / RELEASE_MANIFESTS).resolve()
if RELEASE_MANIFESTS != PINNED_MANIFESTS and not UPSTREAM.is_dir():
    raise pytest.UsageError(f"PKS_TEST_RELEASE: no manifests at {UPSTREAM}")
pin_the_release_under_test()
# A relocation set in the caller's shell would stand in for the stack's manifests in every run.
os.environ.pop(MANIFESTS_ENV, None)


@pytest.fixture(scope="session")
def manifests_dir() -> Path:
    return UPSTREAM


@pytest.fixture(scope="session")
def kube_prometheus(manifests_dir) -> KubePrometheus:
    return KubePrometheus.open(manifests_dir)


@pytest.fixture(scope="session")
def dev_stack_file() -> Path:
    return PROJECT_ROOT / "Pulumi.dev.yaml"


def load_stack_file(path: Path) -> dict:
    return read_document(path)


@pytest.fixture
def write_stack(tmp_path, dev_stack_file):
    """Writes a variant of the dev stack file: `changes` maps config keys to new values
    (None removes the key); returns its path."""

    def write(changes: dict, name: str = "Pulumi.variant.yaml") -> Path:
        config = dict(load_stack_file(dev_stack_file)["config"])
        for key, value in changes.items():
            if value is None:
                config.pop(key, None)
            else:
                config[key] = value
        path = tmp_path / name
        path.write_text(yaml.safe_dump({"config": config}, sort_keys=False))
        return path

    return write


@pytest.fixture
def run_stack():
    """Runs __main__.py under the mock engine with a stack file's config."""

    def run(stack_file: Path, preview: bool = False):
        config, secret_keys = stack_config(stack_file)
        return run_program(config, secret_keys, preview=preview, stack_file=stack_file)

    return run


@pytest.fixture
def monitor() -> RecordingMonitor:
    """The mock engine for tests that build components directly (not through __main__.py);
    `monitor.mocks` is the Recorder of registrations."""
    recording = RecordingMonitor(Recorder())
    pulumi.runtime.set_mocks(recording.mocks, project=PROJECT, stack="test", preview=False, monitor=recording)
    return recording


@pytest.fixture
def broken_manifests(tmp_path, manifests_dir):
    """A copy of the upstream manifests with some files removed (never committed)."""

    def copy(without: list[str]) -> Path:
        target = tmp_path / "manifests"
        shutil.copytree(manifests_dir, target)
        for name in without:
            (target / name).unlink()
        return target

    return copy
