"""tools/toolchain/build.sh uses a Pulumi CLI and Kubernetes provider already installed at the
pinned versions instead of building them, and builds them when they are not (or no longer) there.

Fakes stand in for the installed tools, and PATH holds no Go: a build that starts fails at once,
so "built" shows as a failure that names the group.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pks_monitoring.settings import PROJECT_ROOT

BUILD = PROJECT_ROOT / "tools" / "toolchain" / "build.sh"
PINS = dict(
    line.split("=", 1)
    for line in (PROJECT_ROOT / "tools" / "toolchain" / "versions.env").read_text().splitlines()
    if line and not line.startswith("#")
)
RELEASE_BINARIES = (
    "pulumi",
    "pulumi-language-python",
    "pulumi-language-python-exec",
    "pulumi-resource-pulumi-python",
)


def executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(0o755)
    return path


@pytest.fixture
def installed(tmp_path: Path) -> dict[str, Path]:
    """An official-release layout (the CLI and its Python host side by side) and the provider
    plugin folder `pulumi plugin install` makes."""
    release = tmp_path / "pulumi-release"
    executable(release / "pulumi", f'#!/bin/sh\n[ "$1" = version ] && echo v{PINS["PULUMI_VERSION"]}\n')
    for name in RELEASE_BINARIES[1:]:
        executable(release / name, "#!/bin/sh\n")
    home = tmp_path / "pulumi-home"
    plugin = executable(
        home
        / "plugins"
        / f"resource-kubernetes-v{PINS['PULUMI_KUBERNETES_VERSION']}"
        / "pulumi-resource-kubernetes",
        "#!/bin/sh\n",
    )
    return {"release": release, "home": home, "plugin": plugin, "cache": tmp_path / "cache"}


def build(installed: dict[str, Path], **extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        **extra,
        "HOME": str(installed["home"].parent),
        "PATH": f"{installed['release']}:/usr/bin:/bin",  # no Go
        "PULUMI_HOME": str(installed["home"]),
        "PKS_TOOLCHAIN_CACHE": str(installed["cache"]),
    }
    return subprocess.run(["bash", str(BUILD), "pulumi"], env=env, capture_output=True, text=True, timeout=60)


def entry(installed: dict[str, Path]) -> Path:
    (found,) = (p for p in installed["cache"].glob("pulumi-*") if p.suffix != ".partial")
    return found / "bin"


def test_installed_pinned_tools_are_linked_not_built(installed):
    done = build(installed)
    assert done.returncode == 0, done.stderr
    assert "used, not built" in done.stderr and "building" not in done.stderr
    bin_dir = entry(installed)
    for name in RELEASE_BINARIES:
        assert (bin_dir / name).resolve() == (installed["release"] / name).resolve(), name
    assert (bin_dir / "pulumi-resource-kubernetes").resolve() == installed["plugin"].resolve()
    # Warm: the entry is reused.
    again = build(installed)
    assert again.returncode == 0 and again.stderr == ""


def test_another_cli_version_is_built(installed):
    executable(installed["release"] / "pulumi", "#!/bin/sh\necho v3.1.0\n")
    done = build(installed)
    assert done.returncode != 0
    assert "toolchain: building pulumi" in done.stderr


def test_no_provider_plugin_at_the_pin_is_built(installed):
    installed["plugin"].unlink()
    done = build(installed)
    assert done.returncode != 0
    assert "toolchain: building pulumi" in done.stderr


def test_links_to_a_removed_install_are_rebuilt(installed):
    assert build(installed).returncode == 0
    installed["plugin"].unlink()
    done = build(installed)
    assert done.returncode != 0
    assert "toolchain: building pulumi" in done.stderr


def test_opting_out_builds(installed):
    done = build(installed, PKS_PULUMI_INSTALLED="false")
    assert done.returncode != 0
    assert "toolchain: building pulumi" in done.stderr
