"""The BOSH side of the render (bosh/): each Command's command strings and environment names, and
the runtime config exactly as the director receives it; a release swap shows in the diff, and no
BOSH credential reaches a file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pulumi.runtime import rpc

import pks_monitoring.offline.render as render_tool
from pks_monitoring.components.node_exporter_addon import APPLY, DELETE, ROLLOUT
from pks_monitoring.offline.bosh import command_files
from pks_monitoring.offline.mock_engine import Registration
from pks_monitoring.offline.render import diff, main
from pks_monitoring.settings import SECRET_PLACEHOLDER
from tests.helpers.diffs import changed_files, changed_lines
from tests.helpers.settings import SECURE, addon_config

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

RUNTIME_CONFIG = "bosh/Command_node-exporter-runtime-config"
ROLLOUT_FILE = "bosh/Command_node-exporter-rollout.yaml"
CLIENT_SECRET = "CLIENT-SECRET-MARKER-4k"
CA_CERT = "-----BEGIN CERTIFICATE-----\nCA-MARKER-9z\n-----END CERTIFICATE-----\n"
OTHER_RELEASE = {
    "version": "5.9.0",
    "url": "https://mirror.example/node-exporter-5.9.0.tgz",
    "sha1": "sha256:" + "ab" * 32,
}


def addon(release: dict | None = None) -> dict:
    more = {"release": release} if release else {}
    return {"pks-monitoring:nodeExporter": {"addon": addon_config(SECURE, SECURE, **more)}}


def render_addon(write_stack, out: Path, release: dict | None = None) -> Path:
    assert (
        main(["--config", str(write_stack(addon(release), f"Pulumi.{out.name}.yaml")), "--out", str(out)])
        == 0
    )
    return out


def test_the_commands_and_the_runtime_config_are_in_the_render(write_stack, tmp_path):
    out = render_addon(write_stack, tmp_path / "addon")
    assert sorted(p.name for p in (out / "bosh").iterdir()) == [
        "Command_node-exporter-rollout.yaml",
        "Command_node-exporter-runtime-config.stdin",
        "Command_node-exporter-runtime-config.yaml",
    ]
    command = yaml.safe_load((out / f"{RUNTIME_CONFIG}.yaml").read_text())
    assert command["type"] == "command:local:Command"
    inputs = command["inputs"]
    assert (inputs["create"], inputs["update"], inputs["delete"]) == (APPLY, APPLY, DELETE)
    # The environment by its names: the BOSH credentials make the whole map secret.
    assert {"BOSH_CLIENT_SECRET", "BOSH_CA_CERT", "BOSH_ENVIRONMENT", "RUNTIME_CONFIG_NAME"} <= set(
        inputs["environment"]
    )
    assert set(inputs["environment"].values()) == {SECRET_PLACEHOLDER}
    # The runtime config as the director gets it: the text on the command's stdin, as is.
    runtime_config = yaml.safe_load((out / f"{RUNTIME_CONFIG}.stdin").read_text())
    assert [r["name"] for r in runtime_config["releases"]] == ["node-exporter"]
    rollout = yaml.safe_load((out / ROLLOUT_FILE).read_text())["inputs"]
    assert rollout["create"] == ROLLOUT and rollout["environment"]["TKGI_CLUSTER"] == "demo"


def test_a_release_swap_shows_in_the_diff(write_stack, tmp_path):
    old = render_addon(write_stack, tmp_path / "old")
    new = render_addon(write_stack, tmp_path / "new", OTHER_RELEASE)
    changes = diff(old, new)
    # The runtime config, and the roll-out that re-runs on its digest: nothing else.
    assert changed_files(changes) == [ROLLOUT_FILE, f"{RUNTIME_CONFIG}.stdin"]
    added = [line for line in changed_lines(changes) if line.startswith("+")]
    for value in OTHER_RELEASE.values():
        assert any(value in line for line in added), (value, changes)


def test_no_bosh_credential_reaches_a_file(write_stack, tmp_path, monkeypatch):
    # As `pulumi up` would run with the decrypted values: the markers in the engine's config.
    read_config = render_tool.stack_config

    def decrypted(stack_file):
        config, secret_keys = read_config(stack_file)
        node_exporter = json.loads(config["pks-monitoring:nodeExporter"])
        node_exporter["addon"]["bosh"].update(clientSecret=CLIENT_SECRET, caCert=CA_CERT)
        return {**config, "pks-monitoring:nodeExporter": json.dumps(node_exporter)}, secret_keys

    monkeypatch.setattr(render_tool, "stack_config", decrypted)
    out = render_addon(write_stack, tmp_path / "decrypted")
    files = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.parent.name == "bosh" for p in files)
    for path in files:
        text = path.read_text()
        assert "MARKER" not in text, f"{path.relative_to(out)} shows a BOSH credential"


def command(inputs: dict) -> Registration:
    return Registration("command:local:Command", "c", inputs, None, True)


def test_stdin_is_written_as_is_and_a_secret_one_as_the_placeholder():
    text = "releases: []\n# a comment, kept\n"
    files = command_files([command({"create": "cat", "stdin": text})])
    assert files[Path("bosh/Command_c.stdin")] == text
    shown = command_files([command({"create": "cat", "stdin": rpc.wrap_rpc_secret(text)})])
    assert shown[Path("bosh/Command_c.stdin")] == SECRET_PLACEHOLDER


def test_a_plain_environment_shows_its_values_and_a_secret_value_in_it_is_masked():
    environment = {"TKGI_CLUSTER": "demo", "TOKEN": rpc.wrap_rpc_secret("t0ken")}
    files = command_files([command({"create": "run", "environment": environment})])
    shown = yaml.safe_load(files[Path("bosh/Command_c.yaml")])["inputs"]["environment"]
    assert shown == {"TKGI_CLUSTER": "demo", "TOKEN": SECRET_PLACEHOLDER}


def test_other_resources_write_nothing_under_bosh():
    assert command_files([Registration("kubernetes:core/v1:Secret", "s", {}, None, True)]) == {}
