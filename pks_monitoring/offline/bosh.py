"""The BOSH side of a render: what the stack's `pulumi_command` Commands would run.

For each Command resource, `bosh/Command_<name>.yaml` holds its inputs as the provider gets them
(the create, update and delete command strings, the interpreter, the triggers, the names of the
environment variables) and `bosh/Command_<name>.stdin` the exact text on its standard input: for
the node-exporter addon, the runtime config as the director receives it. A swapped release URL or
checksum then shows in the render diff like any other change.

An environment that is a Pulumi secret (the BOSH credentials make the addon's whole map one)
shows its names, each with the placeholder as its value: the render cannot tell the secret
values in it from the plain ones, and the plain ones there are paths of the machine that renders.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pulumi.runtime import rpc

from pks_monitoring.offline import block_yaml
from pks_monitoring.offline.conceal import plain
from pks_monitoring.offline.mock_engine import Registration
from pks_monitoring.settings import SECRET_PLACEHOLDER

FOLDER = Path("bosh")
COMMAND_TYPES = "command:"  # the pulumi_command package's resource types


def environment(value: Any) -> Any:
    """The environment as shown: a secret map by its names, each value the placeholder."""
    if rpc.is_rpc_secret(value):
        return {name: SECRET_PLACEHOLDER for name in rpc.unwrap_rpc_secret(value) or {}}
    return plain(value)


def stdin_name(command: Registration) -> Path:
    return FOLDER / f"Command_{command.name}.stdin"


def command(command: Registration) -> dict[str, Any]:
    """A Command's inputs as shown: stdin by the file holding it, the environment by its names."""
    shown = {
        key: plain(value) for key, value in command.inputs.items() if key not in ("stdin", "environment")
    }
    if "environment" in command.inputs:
        shown["environment"] = environment(command.inputs["environment"])
    if "stdin" in command.inputs:
        shown["stdin"] = f"{stdin_name(command).name} (the text on its standard input)"
    return {"type": command.type, "name": command.name, "inputs": shown}


def command_files(resources: list[Registration]) -> dict[Path, str]:
    """The bosh/ files of a run: two per Command (its inputs, its stdin), one when it has no stdin."""
    files: dict[Path, str] = {}
    for registration in resources:
        if not registration.type.startswith(COMMAND_TYPES):
            continue
        path = FOLDER / f"Command_{registration.name}.yaml"
        if path in files:
            raise RuntimeError(f"two commands render to {path}")
        files[path] = block_yaml.dump(command(registration))
        if "stdin" in registration.inputs:
            stdin = plain(registration.inputs["stdin"])
            files[stdin_name(registration)] = stdin if isinstance(stdin, str) else SECRET_PLACEHOLDER
    return files
