"""The e2e tier: the real Pulumi engine, the real Kubernetes provider and a real API server.

Each module gets a local control plane of its own (tools/local-cluster.sh, on loopback addresses
and ports apart from a developer's `tools/local-stack.sh up` cluster, which can keep running),
started for it and removed after it: a destroyed stack leaves what it retains (the namespace, the
CRDs), which the next module's stack must not find. One Pulumi file backend serves the whole tier.
Without the built toolchain the tier skips, except under CI, where it fails.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.e2e import GROUPS, Cluster, local_cluster, toolchain_bins
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


@pytest.fixture(scope="module")
def cluster(toolchain_path, tmp_path_factory) -> Iterator[Cluster]:
    """The local TKGI-like control plane, started for the module and stopped (state removed,
    `monitor`'s processes too) after."""
    with local_cluster(tmp_path_factory.mktemp("local-cluster"), toolchain_path) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def backend(tmp_path_factory) -> Path:
    """One file backend for the tier: stacks of several projects on it see each other."""
    return tmp_path_factory.mktemp("pulumi-state")
