"""NodeExporterAddon: the runtime config as data, and its commands executed against a stand-in
`bosh` (and `tkgi`) exactly as pulumi_command would run them: the recorded interpreter, the
recorded command string, the recorded environment and stdin."""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pulumi
import pytest
import yaml
from pulumi.runtime import rpc

from pks_monitoring.components.node_exporter_addon import (
    APPLY,
    DELETE,
    ROLLOUT,
    NodeExporterAddon,
    NodeExporterAddonArgs,
    render,
    runtime_config,
)
from pks_monitoring.offline.mock_engine import Recorder, RecordingMonitor, reveal
from pks_monitoring.settings import PROJECT, Settings
from pks_monitoring.settings.node_exporter import AddonSettings
from tests.helpers.settings import BASE

FAKE_CLI = Path(__file__).resolve().parent.parent / "fixtures" / "fake_cli.py"
COMMAND = "command:local:Command"
PORT = 9100  # node_exporter's port: nodeExporter.port

# Markers that must only ever appear in the commands' environment.
CREDENTIALS = {
    "BOSH_ENVIRONMENT": "https://10.0.0.6:25555",
    "BOSH_CLIENT": "ops-manager-client",
    "BOSH_CLIENT_SECRET": "S3CRET-client-secret",
    "BOSH_CA_CERT": "-----BEGIN CERTIFICATE-----\nMIIB-CA-MARKER\n-----END CERTIFICATE-----\n",
}
BOSH = {
    "environment": CREDENTIALS["BOSH_ENVIRONMENT"],
    "client": CREDENTIALS["BOSH_CLIENT"],
    "clientSecret": CREDENTIALS["BOSH_CLIENT_SECRET"],
    "caCert": CREDENTIALS["BOSH_CA_CERT"],
}


def addon_settings(**raw) -> AddonSettings:
    return AddonSettings.model_validate({"enabled": True, "bosh": BOSH, **raw})


def make_args(addon: AddonSettings | None = None, port: int = PORT, **overrides) -> NodeExporterAddonArgs:
    addon = addon or addon_settings()
    args = dict(
        cluster="demo",
        config_name=addon.config_name,
        runtime_config=runtime_config(addon, port),
        bosh_environment=CREDENTIALS["BOSH_ENVIRONMENT"],
        bosh_client=CREDENTIALS["BOSH_CLIENT"],
        bosh_client_secret=CREDENTIALS["BOSH_CLIENT_SECRET"],
        bosh_ca_cert=CREDENTIALS["BOSH_CA_CERT"],
        delete_on_destroy=addon.delete_on_destroy,
        rollout=addon.rollout,
    )
    args.update(overrides)
    return NodeExporterAddonArgs(**args)


# --- the engine: the project's mock engine, also keeping each registration request -------------


class CapturingMonitor(RecordingMonitor):
    """RecordingMonitor plus the raw requests, for the resource options (additional secret
    outputs, retainOnDelete, replaceOnChanges) that the Recorder does not see."""

    def __init__(self, recorder: Recorder) -> None:
        super().__init__(recorder)
        self.requests = {}

    def RegisterResource(self, request):
        self.requests[request.type, request.name] = request
        return super().RegisterResource(request)


@pytest.fixture
def engine() -> CapturingMonitor:
    """Like conftest's `monitor` (mocks installed, preview=False), keeping the requests."""
    recording = CapturingMonitor(Recorder())
    pulumi.runtime.set_mocks(recording.mocks, project=PROJECT, stack="test", preview=False, monitor=recording)
    return recording


def commands(engine: CapturingMonitor) -> dict[str, dict]:
    """The Command resources' inputs as registered, secrets still wrapped, by resource name."""
    return {r.name: r.inputs for r in engine.mocks.resources if r.type == COMMAND}


def registered(*addons: NodeExporterAddon) -> pulumi.Output:
    """Resolves once every child of the addons has been registered."""
    children = [a.command.urn for a in addons] + [a.rollout.urn for a in addons if a.rollout]
    return pulumi.Output.all(*[a.urn for a in addons], *children)


# --- the stand-in CLIs ----------------------------------------------------------------------------


class FakeCli:
    """`bosh` and `tkgi` on PATH that log each call (tests/fixtures/fake_cli.py)."""

    def __init__(self, root: Path) -> None:
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "calls.jsonl"
        self.workdir = root / "work"
        self.workdir.mkdir()
        for program in ("bosh", "tkgi"):
            script = self.bin / program
            script.write_text(
                f'#!/bin/sh\nexec {shlex.quote(sys.executable)} {shlex.quote(str(FAKE_CLI))} {program} "$@"\n'
            )
            script.chmod(0o755)

    def run(self, inputs: dict, step: str) -> list[dict]:
        """Runs the `create`/`update`/`delete` command as the provider does: interpreter +
        command string, the process environment plus `environment`, `stdin` when not empty.
        A step with no command runs nothing (the provider's behaviour). Returns the calls but
        the preflight's read-only `bosh configs` query (test_node_exporter_addon_preflight.py)."""
        command = inputs.get(step)
        if not command:
            return []
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOSH_", "TKGI_"))}
        env.update(reveal(inputs.get("environment") or {}))
        env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"
        env["FAKE_CLI_LOG"] = str(self.log)
        before = self.calls()
        subprocess.run(
            [*inputs["interpreter"], command],
            env=env,
            input=inputs.get("stdin") or None,
            stdin=None if inputs.get("stdin") else subprocess.DEVNULL,
            text=True,
            check=True,
            cwd=self.workdir,
        )
        return [c for c in self.calls()[len(before) :] if c["argv"][:1] != ["configs"]]

    def calls(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def fake_cli(tmp_path) -> FakeCli:
    return FakeCli(tmp_path)


# --- 1. the runtime config, a pure function ------------------------------------------------------


def test_runtime_config_defaults():
    config = runtime_config(addon_settings(), PORT)
    assert config["releases"] == [
        {
            "name": "node-exporter",
            "version": "5.8.0",
            "url": "https://github.com/cloudfoundry/node-exporter-boshrelease/releases/download/v5.8.0/node-exporter-5.8.0.tgz",
            "sha1": "fe95651a07029512516061113d4ff92c114ae58a",
        }
    ]
    assert len(config["addons"]) == 1
    addon = config["addons"][0]
    assert addon["jobs"] == [
        {
            "name": "node_exporter",
            "release": "node-exporter",
            "properties": {"node_exporter": {"web": {"port": 9100}}},
        }
    ]
    assert addon["include"] == {"stemcell": [{"os": "ubuntu-xenial"}, {"os": "ubuntu-jammy"}]}
    assert "exclude" not in addon
    assert {job["release"] for job in addon["jobs"]} <= {r["name"] for r in config["releases"]}


def test_runtime_config_from_settings():
    addon = addon_settings(
        release={"version": "5.10", "url": "https://example.test/ne-5.10.tgz", "sha1": "sha256:" + "ab" * 32},
        collectors={"systemd": True, "wifi": False},
        stemcells=["ubuntu-jammy"],
        includeDeployments=["service-instance_0a1b"],
        excludeDeployments=["harbor-container-registry"],
    )
    config = runtime_config(addon, 9110)
    assert config["releases"][0] == {
        "name": "node-exporter",
        "version": "5.10",
        "url": "https://example.test/ne-5.10.tgz",
        "sha1": "sha256:" + "ab" * 32,
    }
    (entry,) = config["addons"]
    assert entry["jobs"][0]["properties"] == {
        "node_exporter": {
            "web": {"port": 9110},
            "collector": {"systemd": {"enabled": True}, "wifi": {"enabled": False}},
        }
    }
    assert entry["include"] == {
        "stemcell": [{"os": "ubuntu-jammy"}],
        "deployments": ["service-instance_0a1b"],
    }
    assert entry["exclude"] == {"deployments": ["harbor-container-registry"]}
    # A list of collectors enables them.
    listed = runtime_config(addon_settings(collectors=["ntp", "systemd"]), PORT)
    assert listed["addons"][0]["jobs"][0]["properties"]["node_exporter"]["collector"] == {
        "ntp": {"enabled": True},
        "systemd": {"enabled": True},
    }


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"release": {"version": "5.10", "url": "https://x.test/ne-5.10.tgz", "sha1": "0" * 40}},
        {"collectors": {"cpu": False}, "excludeDeployments": ["a", "b"]},
    ],
)
def test_runtime_config_round_trips_through_yaml(raw):
    config = runtime_config(addon_settings(**raw), PORT)
    assert yaml.safe_load(yaml.safe_dump(config)) == config
    assert yaml.safe_load(render(config)) == config
    # "5.10" stays the string BOSH needs, not the float 5.1.
    assert isinstance(yaml.safe_load(render(config))["releases"][0]["version"], str)


# --- 2. the commands, executed against the stand-in bosh ------------------------------------------


@pulumi.runtime.test
def test_apply_update_and_delete_run_the_exact_bosh_commands(engine, fake_cli):
    addon_config = addon_settings(deleteOnDestroy=True, collectors=["systemd"])
    addon = NodeExporterAddon("demo", make_args(addon_config))
    expected = runtime_config(addon_config, PORT)

    def check(_):
        inputs = commands(engine)["demo-runtime-config"]
        assert (inputs["create"], inputs["update"], inputs["delete"]) == (APPLY, APPLY, DELETE)
        for step in ("create", "update"):
            (call,) = fake_cli.run(inputs, step)
            assert call["program"] == "bosh"
            assert call["argv"][:3] == ["-n", "update-runtime-config", "--name=node-exporter"]
            assert len(call["argv"]) == 4
            path = call["argv"][3]
            assert call["files"][path] == render(expected)
            assert yaml.safe_load(call["files"][path]) == expected
            assert not os.path.exists(path), "the temp file is removed after the call"
            assert call["env"] == CREDENTIALS
        (call,) = fake_cli.run(inputs, "delete")
        assert call["argv"] == ["-n", "delete-config", "--type=runtime", "--name=node-exporter"]
        assert call["env"] == CREDENTIALS

    return registered(addon).apply(check)


@pulumi.runtime.test
def test_config_values_cannot_change_the_command_that_runs(engine, fake_cli, tmp_path):
    pwned = tmp_path / "pwned"
    hostile = f"a b 'single' \"double\" $(touch {pwned}) `touch {pwned}` ; touch {pwned}\nsecond line"
    # Settings refuse such names (test_settings); the component must be safe without that help.
    hostile_config = runtime_config(addon_settings(), PORT)
    hostile_config["addons"][0]["exclude"] = {"deployments": [hostile]}
    hostile_config["addons"][0]["jobs"][0]["properties"]["node_exporter"]["web"]["telemetry_path"] = hostile
    bad = NodeExporterAddon(
        "bad",
        make_args(
            cluster=hostile,
            config_name=hostile,
            runtime_config=hostile_config,
            delete_on_destroy=True,
            rollout=True,
        ),
    )
    good = NodeExporterAddon("good", make_args(delete_on_destroy=True, rollout=True))

    def check(_):
        found = commands(engine)
        for kind in ("runtime-config", "rollout"):
            for step in ("create", "update", "delete"):
                # The command strings do not depend on any value: they are the same constants.
                assert found[f"bad-{kind}"].get(step) == found[f"good-{kind}"].get(step)
        (call,) = fake_cli.run(found["bad-runtime-config"], "create")
        assert call["argv"][:3] == ["-n", "update-runtime-config", f"--name={hostile}"]
        assert len(call["argv"]) == 4
        assert yaml.safe_load(call["files"][call["argv"][3]]) == hostile_config
        (call,) = fake_cli.run(found["bad-runtime-config"], "delete")
        assert call["argv"] == ["-n", "delete-config", "--type=runtime", f"--name={hostile}"]
        (call,) = fake_cli.run(found["bad-rollout"], "create")
        assert (call["program"], call["argv"]) == (
            "tkgi",
            ["upgrade-cluster", hostile, "--non-interactive", "--wait"],
        )
        assert not pwned.exists()
        assert {c["program"] for c in fake_cli.calls()} == {"bosh", "tkgi"}

    return registered(bad, good).apply(check)


@pulumi.runtime.test
def test_secrets_only_in_the_environment(engine, fake_cli):
    addon = NodeExporterAddon("demo", make_args(delete_on_destroy=True, rollout=True))
    secrets = list(CREDENTIALS.values())

    def check(outputs):
        found = commands(engine)
        inputs = found["demo-runtime-config"]
        # The environment reaches the engine as a secret (so state and diffs keep it encrypted).
        assert rpc.is_rpc_secret(inputs["environment"])
        assert {
            k: v for k, v in reveal(inputs["environment"]).items() if k.startswith("BOSH_")
        } == CREDENTIALS
        for name, command_inputs in found.items():
            shown = {k: v for k, v in command_inputs.items() if k != "environment"}
            assert not any(rpc.is_rpc_secret(v) for v in shown.values())
            for secret in secrets:
                assert secret not in json.dumps(shown), (name, secret)
        for step in ("create", "update", "delete"):
            fake_cli.run(inputs, step)
        fake_cli.run(found["demo-rollout"], "create")
        for call in fake_cli.calls():
            for secret in secrets:
                assert secret not in json.dumps(call["argv"]) and secret not in json.dumps(call["files"])
        # create and update: the preflight's query, then the update; delete.
        assert [c["env"] for c in fake_cli.calls() if c["program"] == "bosh"] == [CREDENTIALS] * 5
        # The component's plain outputs hold none of them.
        for secret in secrets:
            assert secret not in json.dumps(outputs)
        # What the commands print is a secret output, and is not logged.
        for name in ("demo-runtime-config", "demo-rollout"):
            request = engine.requests[COMMAND, name]
            assert set(request.additionalSecretOutputs) == {"stdout", "stderr"}
        assert inputs["logging"] == "none"

    return pulumi.Output.all(
        registered(addon), addon.config_name, addon.runtime_config, addon.rollout_command
    ).apply(lambda values: check(values[1:]))


@pulumi.runtime.test
def test_unchanged_settings_change_no_input_and_an_edit_is_an_update(engine):
    base = addon_settings()
    built = {
        "one": NodeExporterAddon("one", make_args(base)),
        "same": NodeExporterAddon("same", make_args(addon_settings())),
        "port": NodeExporterAddon("port", make_args(addon_settings(), port=9200)),
        "collectors": NodeExporterAddon("collectors", make_args(addon_settings(collectors={"wifi": False}))),
        "release": NodeExporterAddon(
            "release",
            make_args(
                addon_settings(
                    release={"version": "5.9.0", "url": "https://x.test/5.9.0.tgz", "sha1": "1" * 40}
                )
            ),
        ),
        "deleting": NodeExporterAddon("deleting", make_args(addon_settings(deleteOnDestroy=True))),
        "renamed": NodeExporterAddon("renamed", make_args(addon_settings(configName="node-exporter-v2"))),
    }

    def changed(name: str) -> set[str]:
        found = commands(engine)
        one, other = reveal(found["one-runtime-config"]), reveal(found[f"{name}-runtime-config"])
        return {k for k in one.keys() | other.keys() if one.get(k) != other.get(k)}

    def check(_):
        # Same settings, same inputs: the engine has nothing to run.
        assert changed("same") == set()
        # An edit of the runtime config changes stdin only: `triggers` (the only input that
        # replaces a Command) is untouched, so the engine runs `update`, not a replace.
        for name in ("port", "collectors", "release"):
            assert changed(name) == {"stdin"}, name
        # Deciding to delete on destroy later is an update too (it re-applies the same config).
        assert changed("deleting") == {"delete"}
        # Renaming the config is a replace on purpose: a new config, then the old one goes
        # (when deleteOnDestroy says so).
        assert changed("renamed") == {"environment", "triggers"}
        # And `triggers` is all that replaces: no other input is marked replace-on-change.
        assert list(engine.requests[COMMAND, "one-runtime-config"].replaceOnChanges) == ["triggers[*]"]

    return registered(*built.values()).apply(check)


# --- 3. the component under the mock engine -------------------------------------------------------


def settings_with(manifests_dir, port: int = PORT, **addon) -> Settings:
    return Settings.from_raw(
        {
            **BASE,
            "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)},
            "pks-monitoring:nodeExporter": {"port": port, "addon": {"enabled": True, "bosh": BOSH, **addon}},
        }
    )


def test_disabled_by_default(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    assert settings.node_exporter.addon.enabled is False
    assert NodeExporterAddonArgs.from_settings(settings) is None


@pulumi.runtime.test
def test_component_from_settings(engine, manifests_dir):
    settings = settings_with(manifests_dir, collectors=["systemd"])
    args = NodeExporterAddonArgs.from_settings(settings)
    addon = NodeExporterAddon(settings.cluster, args)

    def check(values):
        urn, command_urn, name, text, digest, rollout = values
        assert urn.endswith("pks-monitoring:index:NodeExporterAddon::demo")
        # The child is named after the component and parented to it.
        assert (
            "pks-monitoring:index:NodeExporterAddon$command:local:Command::demo-runtime-config" in command_urn
        )
        assert [r.name for r in engine.mocks.resources if r.type == COMMAND] == ["demo-runtime-config"]
        assert name == "node-exporter"
        assert yaml.safe_load(text) == runtime_config(
            settings.node_exporter.addon, settings.node_exporter.port
        )
        assert digest == hashlib.sha256(text.encode()).hexdigest()
        assert rollout == "tkgi upgrade-cluster demo --non-interactive --wait"
        assert addon.rollout is None  # opt-in: without it the stack only outputs the command
        assert (
            reveal(commands(engine)["demo-runtime-config"]["environment"])["BOSH_CA_CERT"]
            == CREDENTIALS["BOSH_CA_CERT"]
        )

    return pulumi.Output.all(
        addon.urn,
        addon.command.urn,
        addon.config_name,
        addon.runtime_config,
        addon.runtime_config_sha256,
        addon.rollout_command,
    ).apply(check)


@pulumi.runtime.test
def test_rollout_upgrades_the_stack_cluster_after_the_config(engine, manifests_dir, fake_cli):
    settings = settings_with(manifests_dir, rollout=True)
    addon = NodeExporterAddon(settings.cluster, NodeExporterAddonArgs.from_settings(settings))
    edited = NodeExporterAddon(
        "edited", NodeExporterAddonArgs.from_settings(settings_with(manifests_dir, rollout=True, port=9200))
    )

    def check(values):
        command_urn = values[0]
        found = commands(engine)
        rollout = found["demo-rollout"]
        assert (rollout["create"], rollout["update"], rollout.get("delete")) == (ROLLOUT, ROLLOUT, None)
        assert "triggers" not in rollout
        # It waits for the runtime config to be applied.
        assert command_urn in engine.dependencies[COMMAND, "demo-rollout"]
        (call,) = fake_cli.run(rollout, "create")
        assert call["program"] == "tkgi"
        assert call["argv"] == ["upgrade-cluster", "demo", "--non-interactive", "--wait"]
        # A config edit changes the rollout's environment (the digest): an update, which re-runs it.
        assert reveal(found["edited-rollout"]["environment"]) != reveal(rollout["environment"])
        assert {k: v for k, v in found["edited-rollout"].items() if k != "environment"} == {
            k: v for k, v in rollout.items() if k != "environment"
        }

    return pulumi.Output.all(addon.command.urn, registered(addon, edited)).apply(check)


# --- 4. destroy keeps the director-wide config unless told otherwise ------------------------------


@pulumi.runtime.test
def test_destroy_keeps_the_runtime_config_by_default(engine, fake_cli):
    """How this is checked: pulumi_command's Delete runs the `delete` command recorded in the
    state and does nothing when there is none (provider/pkg/provider/local/commandController.go:
    `if props.Delete == nil { return nil }`). So the check is that the registered inputs carry
    no `delete`, that nothing hides a delete behind `retain_on_delete`, and that running the
    delete step as the provider would (FakeCli.run: no command, no process) calls no `bosh`;
    with deleteOnDestroy the same step calls `bosh -n delete-config`."""
    kept = NodeExporterAddon("kept", make_args(addon_settings()))
    deleted = NodeExporterAddon("deleted", make_args(addon_settings(deleteOnDestroy=True)))

    def check(_):
        found = commands(engine)
        assert found["kept-runtime-config"].get("delete") is None
        assert not engine.requests[COMMAND, "kept-runtime-config"].retainOnDelete
        assert fake_cli.run(found["kept-runtime-config"], "delete") == []
        assert fake_cli.calls() == []
        (call,) = fake_cli.run(found["deleted-runtime-config"], "delete")
        assert call["argv"] == ["-n", "delete-config", "--type=runtime", "--name=node-exporter"]

    return registered(kept, deleted).apply(check)
