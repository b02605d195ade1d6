"""The e2e tier: the real Pulumi engine, the real Kubernetes provider and a real API server.

One local control plane (tools/local-cluster.sh, on its own loopback addresses and ports so that a
developer's `tools/local-stack.sh up` cluster can keep running) and one Pulumi file backend serve
the whole tier; each module starts from the state its first test sets up. Without the built
toolchain the tier skips, except under CI, where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pks_monitoring.settings.types import PROJECT_ROOT
from tests.helpers.e2e import CLUSTER_ENV, GROUPS, Cluster, run, toolchain_bins
from tests.helpers.prometheus_tools import missing


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.e2e)
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="session")
def toolchain_path() -> str:
    """PATH with the pinned toolchain first; skips (fails under CI) when it is not built."""
    bins = toolchain_bins()
    if len(bins) < len(GROUPS):
        missing("the real toolchain is not built: run `bash tools/setup.sh` (cold: about an hour)")
    return os.pathsep.join([*map(str, bins), os.environ["PATH"]])


@pytest.fixture(scope="session")
def cluster(toolchain_path, tmp_path_factory) -> Iterator[Cluster]:
    """The local TKGI-like control plane, started for the tier and stopped (state removed) after."""
    state = tmp_path_factory.mktemp("local-cluster")
    env = {**os.environ, **CLUSTER_ENV, "PATH": toolchain_path, "LOCAL_CLUSTER_DIR": str(state)}
    script = str(PROJECT_ROOT / "tools" / "local-cluster.sh")
    try:
        up = run(["bash", script, "up"], env, timeout=600)
        assert up.stdout.strip().splitlines()[-1] == f"export KUBECONFIG={state / 'kubeconfig'}"
        yield Cluster(state, {**env, "KUBECONFIG": str(state / "kubeconfig")})
    finally:
        run(["bash", script, "down", "--purge"], env, check=False, timeout=300)


@pytest.fixture(scope="session")
def backend(tmp_path_factory) -> Path:
    """One file backend for the tier: stacks of several projects on it see each other."""
    return tmp_path_factory.mktemp("pulumi-state")
