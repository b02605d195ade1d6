"""NodeExporterAddon: node_exporter on every BOSH VM of the director, as a runtime-config addon.

On PKS/TKGI node_exporter belongs on the VMs (BOSH), not in a Kubernetes DaemonSet. This component
renders the BOSH runtime config and applies it with the `bosh` CLI through pulumi_command.

How the commands are built (and why):
- The command strings are constants. Everything that comes from settings reaches the shell as
  data: the YAML on stdin, the config name, the cluster and the credentials as environment
  variables, quoted where they are used. So no value (spaces, quotes, `$(...)`, newlines) can
  change the command that runs, and no secret is ever part of a command string, which the
  provider prints when a command fails.
- Secrets: the four BOSH_* variables are Pulumi secrets, which makes the whole `environment` input
  secret (the SDK lifts secretness to the map). That is why the YAML travels on `stdin` instead: a
  plain input, so `pulumi preview --diff` shows what changes in the runtime config. stdout/stderr
  are secret outputs and the command's logging is off.
- Preflight: before `update-runtime-config` the script runs pks_monitoring/addon_preflight.py,
  which refuses (one line, non-zero exit, so `pulumi up` fails before the update) when another
  runtime config of the director already adds a `node_exporter` job or a `node-exporter` release
  at another version. It runs with this program's own interpreter (`PKS_MONITORING_PYTHON`, the
  stack's virtualenv: pyyaml and this package are there), not a `python3` from PATH: the Command
  runs in the pulumi-command provider's environment (the operator's, plus `environment`), where
  `python3`, if there is one, is not the venv's. `PKS_MONITORING_PATH` (the directory holding this
  package) makes the package importable even in a venv made by `pulumi install` alone, which does
  not install it. Both are paths of this machine: `pulumi up` from another checkout or venv path is
  an update (the same YAML applied again, the preflight run again).
- Update, not replace: pulumi_command replaces a Command only when `triggers` change; any other
  input change is an update that runs `update`. The YAML is `stdin`, so an edit of the runtime
  config re-runs `bosh update-runtime-config` in place. `triggers` holds only the
  config name: the name is the identity of the config on the director, so a rename is a replace
  (the new config is created, then the old one deleted, if deleteOnDestroy says so).
- Retain on destroy: the runtime config is director-wide, shared by every cluster. By default the
  Command has no `delete` at all, so when the resource goes away (stack destroyed, addon disabled,
  renamed) the provider runs nothing; its Delete is a no-op without a delete command. We do not use
  the `retain_on_delete` option instead: it would leave a `delete-config` in the state that never
  runs, and the state would claim a behaviour the stack does not have. With deleteOnDestroy the
  command is `bosh -n delete-config --type=runtime --name=<name>`. Either way, destroy runs what
  the state recorded at the last `pulumi up`: change the setting, then `pulumi up`, then destroy.
  With deleteOnDestroy, do not rename this component (or its parent) without an alias: Pulumi
  would create the "new" Command (re-applying the config) and then delete the old one, whose
  `delete-config` removes the very config just applied.
"""

from __future__ import annotations

import hashlib
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import pulumi
import yaml
from pulumi_command import local

import pks_monitoring
from pks_monitoring.addon_preflight import JOB, NAME_ENV, RELEASE
from pks_monitoring.settings import Settings
from pks_monitoring.settings.node_exporter import AddonSettings

# The interpreter the provider would pick on Linux anyway, spelled out so tests run exactly this.
INTERPRETER = ["/bin/sh", "-c"]

# Copies the YAML from stdin to a private temp file (mktemp: mode 0600), checks the director's
# other runtime configs against it (the preflight: exits non-zero on a conflict, and `set -e`
# stops the script there), then hands bosh the file. `-P`: nothing from the working directory is
# imported; PYTHONPATH is this package's directory only.
APPLY = """set -eu
file=$(mktemp)
trap 'rm -f "$file"' EXIT
cat > "$file"
PYTHONPATH="$PKS_MONITORING_PATH" "$PKS_MONITORING_PYTHON" -P -m pks_monitoring.addon_preflight "$file"
bosh -n update-runtime-config --name="$RUNTIME_CONFIG_NAME" "$file"
"""
DELETE = 'bosh -n delete-config --type=runtime --name="$RUNTIME_CONFIG_NAME"'
# A runtime config reaches VMs on their next deploy; for a TKGI cluster that is an upgrade. Only
# this stack's cluster: the others on the director get it at their own next upgrade. tkgi uses
# the session of an earlier `tkgi login` (~/.pks/creds.yml).
ROLLOUT = 'tkgi upgrade-cluster "$TKGI_CLUSTER" --non-interactive --wait'

# The preflight's interpreter and package (see the module docstring): the ones running this program.
PREFLIGHT_ENV = {
    "PKS_MONITORING_PYTHON": sys.executable,  # not resolved: a venv's python is a symlink
    "PKS_MONITORING_PATH": str(Path(pks_monitoring.__file__).resolve().parent.parent),
}

# Everything bosh prints can end up in the state (stdout/stderr) and the logs: keep both secret.
_SECRET_OUTPUTS = ["stdout", "stderr"]


def runtime_config(addon: AddonSettings, port: int) -> dict[str, Any]:
    """The BOSH runtime config: the release and one addon with the node_exporter job on `port`."""
    release = addon.release
    properties: dict[str, Any] = {"web": {"port": port}}
    if addon.collectors:
        properties["collector"] = {
            name: {"enabled": enabled} for name, enabled in sorted(addon.collectors.items())
        }
    include: dict[str, Any] = {"stemcell": [{"os": os} for os in addon.stemcells]}
    if addon.include_deployments:
        include["deployments"] = list(addon.include_deployments)
    entry: dict[str, Any] = {
        "name": JOB,
        "jobs": [{"name": JOB, "release": RELEASE, "properties": {"node_exporter": properties}}],
        "include": include,
    }
    if addon.exclude_deployments:
        entry["exclude"] = {"deployments": list(addon.exclude_deployments)}
    return {
        "releases": [{"name": RELEASE, "version": release.version, "url": release.url, "sha1": release.sha1}],
        "addons": [entry],
    }


def render(config: dict[str, Any]) -> str:
    """The YAML bosh receives; deterministic, so unchanged settings mean unchanged inputs."""
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def rollout_command(cluster: str) -> str:
    return f"tkgi upgrade-cluster {shlex.quote(cluster)} --non-interactive --wait"


@dataclass(frozen=True)
class NodeExporterAddonArgs:
    cluster: str  # this stack's TKGI cluster: the one the optional roll-out upgrades
    config_name: str
    runtime_config: dict[str, Any]
    bosh_environment: pulumi.Input[str]
    bosh_client: pulumi.Input[str]
    bosh_client_secret: pulumi.Input[str]
    bosh_ca_cert: pulumi.Input[str]  # PEM text or a file path: the CLI takes either
    delete_on_destroy: bool = False
    rollout: bool = False

    @classmethod
    def from_settings(cls, settings: Settings) -> Optional[NodeExporterAddonArgs]:
        """None when the stack does not own the addon (`nodeExporter.addon.enabled` is false)."""
        addon = settings.node_exporter.addon
        if not addon.enabled:
            return None
        bosh = addon.bosh
        # All four are there: the settings refuse enabled without them.
        assert bosh.environment and bosh.client and bosh.client_secret and bosh.ca_cert
        return cls(
            cluster=settings.cluster,
            config_name=addon.config_name,
            runtime_config=runtime_config(addon, settings.node_exporter.port),
            bosh_environment=bosh.environment,
            bosh_client=bosh.client,
            bosh_client_secret=bosh.client_secret.get_secret_value(),
            bosh_ca_cert=bosh.ca_cert.get_secret_value(),
            delete_on_destroy=addon.delete_on_destroy,
            rollout=addon.rollout,
        )


class NodeExporterAddon(pulumi.ComponentResource):
    config_name: pulumi.Output[str]
    runtime_config: pulumi.Output[str]
    runtime_config_sha256: pulumi.Output[str]
    rollout_command: pulumi.Output[str]

    def __init__(
        self, name: str, args: NodeExporterAddonArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pks-monitoring:index:NodeExporterAddon", name, None, opts)
        text = render(args.runtime_config)
        digest = hashlib.sha256(text.encode()).hexdigest()
        # Secret whatever the caller passed: the engine then encrypts them in the state and
        # masks them in diffs. Never part of a command string (see the module docstring).
        credentials = {
            "BOSH_ENVIRONMENT": pulumi.Output.secret(args.bosh_environment),
            "BOSH_CLIENT": pulumi.Output.secret(args.bosh_client),
            "BOSH_CLIENT_SECRET": pulumi.Output.secret(args.bosh_client_secret),
            "BOSH_CA_CERT": pulumi.Output.secret(args.bosh_ca_cert),
        }
        self.command = local.Command(
            f"{name}-runtime-config",
            interpreter=INTERPRETER,
            create=APPLY,
            update=APPLY,
            delete=DELETE if args.delete_on_destroy else None,
            environment={**credentials, **PREFLIGHT_ENV, NAME_ENV: args.config_name},
            stdin=text,  # the update-driving input: an edit of the YAML is an update
            triggers=[args.config_name],  # the config's identity: a rename is a replace
            logging=local.Logging.NONE,
            add_previous_output_in_env=False,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=_SECRET_OUTPUTS),
        )
        self.rollout = None
        if args.rollout:
            # Re-runs (as an update) whenever the runtime config changes, after it is applied.
            self.rollout = local.Command(
                f"{name}-rollout",
                interpreter=INTERPRETER,
                create=ROLLOUT,
                update=ROLLOUT,
                environment={"TKGI_CLUSTER": args.cluster, "RUNTIME_CONFIG_SHA256": digest},
                add_previous_output_in_env=False,
                # Logged (the default): an upgrade takes long and shows progress; no credentials
                # are in this command's environment, tkgi reads its own session.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    depends_on=[self.command],
                    additional_secret_outputs=_SECRET_OUTPUTS,
                ),
            )

        self.config_name = pulumi.Output.from_input(args.config_name)
        self.runtime_config = pulumi.Output.from_input(text)
        self.runtime_config_sha256 = pulumi.Output.from_input(digest)
        self.rollout_command = pulumi.Output.from_input(rollout_command(args.cluster))
        self.register_outputs(
            {
                "config_name": self.config_name,
                "runtime_config": self.runtime_config,
                "runtime_config_sha256": self.runtime_config_sha256,
                "rollout_command": self.rollout_command,
            }
        )
