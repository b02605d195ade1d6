"""__main__.py as the engine runs it: settings wired to the components, secrets kept secret."""

from __future__ import annotations

import json

import pytest
from pulumi.runtime import rpc

from pks_monitoring.offline.mock_engine import run_program, stack_config
from pks_monitoring.offline.render import main

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

MARKERS = {
    "environment": "https://10.0.0.6:25555",
    "client": "ops-manager",
    "clientSecret": "MARKER-bosh-secret-41",
    "caCert": "-----BEGIN CERTIFICATE-----\nMARKER-ca-42\n-----END CERTIFICATE-----\n",
}


def test_addon_owner_stack_wires_the_addon_and_keeps_bosh_secrets(dev_stack_file):
    config, secret_keys = stack_config(dev_stack_file)
    config["pks-monitoring:nodeExporter"] = json.dumps(
        {
            "port": 9101,
            "addon": {"enabled": True, "bosh": MARKERS},
            "staticTargets": [{"name": "pks-api", "address": "10.0.0.5"}],
        }
    )
    run = run_program(config, [*secret_keys, "pks-monitoring:nodeExporter"])
    commands = [r for r in run.recorder.resources if r.type == "command:local:Command"]
    assert commands
    assert run.outputs["rolloutCommand"].startswith("tkgi upgrade-cluster")
    # The scrape configs follow node_exporter's port.
    secret = next(
        r
        for r in run.recorder.kubernetes_objects()
        if r.inputs["metadata"]["name"] == "additional-scrape-configs"
    )
    assert "10.0.0.5:9101" in rpc.unwrap_rpc_secret(secret.inputs["stringData"])["prometheus-additional.yaml"]
    # Secrets: never in a command string, an output or a Kubernetes object.
    for marker in ("MARKER-bosh-secret-41", "MARKER-ca-42"):
        assert marker not in json.dumps(run.outputs)
        for command in commands:
            assert all(marker not in str(command.inputs.get(k, "")) for k in ("create", "update", "delete"))
            assert rpc.is_rpc_secret(command.inputs["environment"])
        assert all(marker not in json.dumps(r.inputs, default=str) for r in run.recorder.kubernetes_objects())


def test_a_new_cluster_name_keeps_the_addons_identity(dev_stack_file):
    """The addon's resources are named for the addon, not `cluster`: renaming the cluster leaves
    their URNs (type, name, parent) as they were, so the engine neither re-creates the runtime
    config nor runs the old resource's delete-config. Stacks deployed under the cluster's name
    are taken over through the alias."""
    config, secret_keys = stack_config(dev_stack_file)
    config["pks-monitoring:nodeExporter"] = json.dumps(
        {"addon": {"enabled": True, "deleteOnDestroy": True, "rollout": True, "bosh": MARKERS}}
    )
    identities, aliases = {}, {}
    for cluster in ("demo", "demo-east"):
        config["pks-monitoring:cluster"] = cluster
        run = run_program(config, [*secret_keys, "pks-monitoring:nodeExporter"])
        identities[cluster] = sorted(
            (r.type, r.name)
            for r in run.recorder.resources
            if r.type.startswith(("command:", "pks-monitoring:index:NodeExporter"))
        )
        aliases[cluster] = run.monitor.aliases["pks-monitoring:index:NodeExporterAddon", "node-exporter"]
    assert identities["demo"] == identities["demo-east"]
    assert len(identities["demo"]) == 3  # the component, the runtime config and the roll-out
    assert aliases == {"demo": ["demo-node-exporter"], "demo-east": ["demo-east-node-exporter"]}


def test_an_app_that_is_an_upstream_object_stops_the_render_before_anything(write_stack, tmp_path, capsys):
    # The dev stack's namespace is the project default, `monitoring`, where upstream's Grafana
    # ServiceMonitor lives.
    grafana = {"name": "grafana", "namespace": "monitoring", "selector": {"app": "x"}, "port": "http"}
    stack = write_stack({"pks-monitoring:apps": [grafana]})
    out = tmp_path / "out"
    assert main(["--config", str(stack), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: pks-monitoring:apps[0].name: "), err
    assert "ServiceMonitor grafana in namespace monitoring" in err
    assert not out.exists()
