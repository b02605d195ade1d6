"""tools.apps_stack: the stack file the benchmark renders for the cost per app."""

from __future__ import annotations

import json

import pytest
import yaml

from pks_monitoring.components.app_monitor import apps_to_monitor
from pks_monitoring.offline.mock_engine import stack_config
from pks_monitoring.settings import Settings
from tools.apps_stack import apps_stack_config, main


def stack_config_of(config: dict, tmp=None):
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "Pulumi.apps.yaml"
        path.write_text(yaml.safe_dump({"config": config}))
        return stack_config(path)


def test_dev_config_plus_n_valid_apps(dev_stack_file):
    config = apps_stack_config(200)
    dev = yaml.safe_load(dev_stack_file.read_text())["config"]
    assert {k: v for k, v in config.items() if k != "pks-monitoring:apps"} == dev
    # As the engine passes them: the dev stack's `secure:` values arrive as the offline placeholder.
    engine_config, _ = stack_config_of(config)
    apps = apps_to_monitor(
        Settings.from_raw({k: json.loads(v) if v[:1] in "{[" else v for k, v in engine_config.items()})
    )
    assert len(apps) == 200 and len({a.name for a in apps}) == 200
    assert len({a.namespace for a in apps}) == 20


def test_writes_a_stack_file_the_engine_reads(tmp_path):
    out = tmp_path / "Pulumi.apps.yaml"
    assert main(["3", str(out)]) == 0
    config, secret_keys = stack_config(out)
    assert secret_keys == ["pks-monitoring:grafana"]  # the dev stack's Grafana password
    assert [a["name"] for a in json.loads(config["pks-monitoring:apps"])] == ["app-000", "app-001", "app-002"]


def test_refuses_no_apps(tmp_path, capsys):
    with pytest.raises(SystemExit) as caught:
        main(["0", str(tmp_path / "Pulumi.apps.yaml")])
    assert caught.value.code == 2 and "N must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "Pulumi.apps.yaml").exists()
