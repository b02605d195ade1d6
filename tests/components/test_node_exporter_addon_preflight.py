"""The addon's preflight, proven through the command that really runs: the `create`/`update`
script, interpreter and environment of the registered Command (mock engine), executed against a
stand-in `bosh` whose director holds the runtime configs of each case (tests/helpers/fake_bosh.py).

Another runtime config that adds a `node_exporter` job, or a `node-exporter` release at another
version, is refused before `update-runtime-config`: one line naming it, a non-zero exit (so
`pulumi up` fails there). The stack's own config (its name) and unrelated configs are not."""

from __future__ import annotations

import json

import pulumi
import pytest
import yaml

from pks_monitoring.components.node_exporter_addon import NodeExporterAddon, render, runtime_config
from pks_monitoring.offline.mock_engine import reveal
from tests.components.test_node_exporter_addon import (
    CREDENTIALS,
    PORT,
    addon_settings,
    commands,
    make_args,
    registered,
)
from tests.helpers.fake_bosh import FakeDirector

OURS = "node-exporter"  # nodeExporter.addon.configName's default


def config_yaml(releases: list[dict], addons: list[dict]) -> str:
    return yaml.safe_dump({"releases": releases, "addons": addons}, sort_keys=False)


def node_exporter_addon(name: str = "host-monitoring", release: str = "node-exporter") -> dict:
    return {
        "name": name,
        "jobs": [{"name": "node_exporter", "release": release, "properties": {}}],
        "include": {"stemcell": [{"os": "ubuntu-jammy"}]},
    }


# What a director holds: this stack's config from an earlier `up` (an older release, the same job),
# and configs of others that do not touch node_exporter.
OWN_EARLIER = config_yaml(
    [{"name": "node-exporter", "version": "5.7.0", "url": "https://x.test/ne-5.7.0.tgz", "sha1": "0" * 40}],
    [node_exporter_addon("node_exporter")],
)
UNRELATED = {
    "default": config_yaml(
        [{"name": "bosh-dns", "version": "1.39.0"}],
        [{"name": "bosh-dns", "jobs": [{"name": "bosh-dns", "release": "bosh-dns"}]}],
    ),
    "syslog": config_yaml(
        [{"name": "syslog", "version": "12"}],
        [{"name": "syslog_forwarder", "jobs": [{"name": "syslog_forwarder", "release": "syslog"}]}],
    ),
    # The same release at the same version, no job: nothing collides.
    "pinned-releases": config_yaml([{"name": "node-exporter", "version": "5.8.0"}], []),
}
# The tile's host monitoring: job node_exporter, from the very release and version this stack uses
# (so only the job can be what is refused).
TILE_JOB = config_yaml([{"name": "node-exporter", "version": "5.8.0"}], [node_exporter_addon()])
# Only the release, at another version, for an addon of its own under another job name.
OTHER_RELEASE = config_yaml(
    [{"name": "node-exporter", "version": "5.9.1"}],
    [{"name": "exporter", "jobs": [{"name": "custom_exporter", "release": "node-exporter"}]}],
)


def apply(monitor, tmp_path, configs: dict[str, str], step: str = "create", **director) -> pulumi.Output:
    """Registers the addon, then runs its `step` script against a director holding `configs`;
    resolves to (the finished process, the director)."""
    addon = NodeExporterAddon("demo", make_args(addon_settings()))

    def run(_):
        inputs = commands(monitor)["demo-runtime-config"]
        fake = FakeDirector(tmp_path, configs, **director)
        done = fake.run(inputs["interpreter"], inputs[step], reveal(inputs["environment"]), inputs["stdin"])
        return done, fake

    return registered(addon).apply(run)


def assert_refused(done, fake: FakeDirector, *words: str) -> str:
    assert done.returncode != 0
    assert done.stdout == ""
    (line,) = done.stderr.splitlines()
    for word in words:
        assert word in line, line
    assert fake.updates() == [], "update-runtime-config ran despite the refusal"
    assert any(call["argv"][:1] == ["configs"] for call in fake.calls()), "the director was not asked"
    for secret in CREDENTIALS.values():
        assert secret.strip() not in done.stderr
    return line


@pytest.mark.parametrize("step", ["create", "update"])
@pulumi.runtime.test
def test_another_config_adding_job_node_exporter_is_refused(monitor, tmp_path, step):
    configs = {OURS: OWN_EARLIER, **UNRELATED, "tile-host-monitoring": TILE_JOB}

    def check(result):
        done, fake = result
        line = assert_refused(done, fake, "'tile-host-monitoring'", "job node_exporter", "'host-monitoring'")
        assert done.returncode == 1
        # The fix: the other addon goes, or this stack's is turned off.
        assert "bosh delete-config --type=runtime --name=tile-host-monitoring" in line
        assert "pks-monitoring:nodeExporter.addon.enabled to false" in line

    return apply(monitor, tmp_path, configs, step).apply(check)


@pytest.mark.parametrize(
    "name, content, shape, words",
    [
        pytest.param(
            "team-exporters",
            OTHER_RELEASE,
            "table",
            ["release node-exporter 5.9.1", "this stack's is 5.8.0"],
            id="release-at-another-version",
        ),
        # CLIs before the config table printed a config's content alone, as a block.
        pytest.param("tile-host-monitoring", TILE_JOB, "blocks", ["job node_exporter"], id="older-cli"),
    ],
)
@pulumi.runtime.test
def test_other_configs_that_bring_node_exporter_are_refused(monitor, tmp_path, name, content, shape, words):
    def check(result):
        assert_refused(*result, f"'{name}'", *words)

    return apply(monitor, tmp_path, {**UNRELATED, name: content}, shape=shape).apply(check)


@pytest.mark.parametrize("step", ["create", "update"])
@pulumi.runtime.test
def test_own_and_unrelated_configs_let_the_update_run_once(monitor, tmp_path, step):
    pwned = tmp_path / "pwned"
    # A name on the director is data for the check, never shell: bosh gets it as one argument.
    hostile = f"x $(touch {pwned}) `touch {pwned}`; touch {pwned}"
    configs = {OURS: OWN_EARLIER, **UNRELATED, hostile: UNRELATED["syslog"]}

    def check(result):
        done, fake = result
        assert done.returncode == 0, done.stderr
        (update,) = fake.updates()
        assert update["argv"][:3] == ["-n", "update-runtime-config", f"--name={OURS}"]
        assert yaml.safe_load(update["files"][update["argv"][3]]) == runtime_config(addon_settings(), PORT)
        assert update["files"][update["argv"][3]] == render(runtime_config(addon_settings(), PORT))
        # After the check, which asked for the list and for every other config by name.
        calls = fake.calls()
        assert calls[-1]["argv"] == update["argv"]
        asked = [c["argv"] for c in calls[:-1]]
        assert asked[0] == ["configs", "--type=runtime", "--json"]
        assert sorted(asked[1:]) == sorted(
            ["config", "--type=runtime", f"--name={name}", "--json"] for name in configs if name != OURS
        )
        # Every call got the credentials from the environment, none in an argument.
        assert [c["env"] for c in calls] == [CREDENTIALS] * len(calls)
        for secret in CREDENTIALS.values():
            assert secret not in json.dumps([c["argv"] for c in calls])
        assert not pwned.exists()

    return apply(monitor, tmp_path, configs, step).apply(check)


@pytest.mark.parametrize("failing", ["configs", "config"])
@pulumi.runtime.test
def test_a_director_that_cannot_be_read_refuses_the_update(monitor, tmp_path, failing):
    def check(result):
        done, fake = result
        line = assert_refused(done, fake, f"`bosh {failing} --type=runtime", "bosh configs --type runtime")
        assert done.returncode == 2
        assert "Director responded" not in line  # bosh's own output is never echoed

    return apply(monitor, tmp_path, {**UNRELATED}, fail=[failing]).apply(check)
