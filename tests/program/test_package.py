"""pks_monitoring is a package another project installs and imports like any dependency."""

from __future__ import annotations

import ast
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from pks_monitoring.settings import PROJECT_ROOT

EXAMPLE = PROJECT_ROOT / "examples" / "app-team"


def test_the_example_imports_the_package_without_path_edits():
    tree = ast.parse((EXAMPLE / "__main__.py").read_text())
    imported = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert {"pks_monitoring.components.app_monitor", "pks_monitoring.settings.apps"} <= imported
    modules = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert "sys" not in modules and "sys" not in imported  # no sys.path.insert(...)


@pytest.mark.slow
def test_pip_install_e_makes_it_importable_from_another_projects_venv(tmp_path):
    # A venv of its own (another project's), seeing this venv's dependencies only through a .pth
    # line, so the one thing installed into it is pks-monitoring itself.
    env = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    site = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "-e", str(PROJECT_ROOT)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr
    project = tmp_path / "other-project"
    project.mkdir()
    imported = subprocess.run(
        [
            python,
            "-c",
            "import pks_monitoring.components.app_monitor as m, pks_monitoring; "
            "print(m.AppMonitor.__name__, pks_monitoring.__file__)",
        ],
        cwd=project,
        capture_output=True,
        text=True,
    )
    assert imported.returncode == 0, imported.stderr
    name, location = imported.stdout.split()
    assert name == "AppMonitor"
    assert Path(location).resolve() == (PROJECT_ROOT / "pks_monitoring" / "__init__.py").resolve()
    assert sys.prefix not in location  # found through the editable install, not this venv's path
