"""The node-exporter addon's preflight: before `bosh update-runtime-config`, refuse when another
runtime config of the director already brings node_exporter.

Two runtime configs that each add a `node_exporter` job to the same VMs (the tile's host
monitoring, another team's addon, this stack's own config under an earlier name) make every later
deploy on the director fail, and so does a second `node-exporter` release at another version. The
runtime config this stack owns (its own name) is what the update replaces: not a conflict.

    python -m pks_monitoring.addon_preflight OURS.yml

OURS.yml is the runtime config about to be applied, `RUNTIME_CONFIG_NAME` its name; `bosh` gets
the BOSH_* credentials from the environment. Exit 0: no conflict. Exit 1: one line on stderr
naming the conflicting config and the fix. Exit 2: the director's runtime configs could not be
read (refused too: an unchecked update is what this is here to prevent).

What it asks the director (bosh CLI v2+, `--json`: the JSON UI prints every table as
`{"Tables": [{"Content", "Header", "Rows": [{<header key>: <cell>}], "Notes"}], "Blocks", "Lines"}`,
header keys lower-cased with `_` for spaces):
- `bosh configs --type=runtime --json`: the active runtime configs, one row each with `id` (`3*`
  for the current one), `type`, `name`, `team`, `created_at`;
- `bosh config --type=runtime --name=<name> --json`: one row with `id`, `type`, `name`,
  `created_at` and `content`, the YAML (CLIs before the config table printed the content alone,
  in `Blocks`).
bosh runs with an argument list, never through a shell, so no name on the director can become a
command; and what it prints is never echoed (other configs may hold their own secrets, and the
provider puts a failed command's output into the error `pulumi up` shows).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple, Optional

import yaml

RELEASE = "node-exporter"
JOB = "node_exporter"
NAME_ENV = "RUNTIME_CONFIG_NAME"
ENABLED_KEY = "pks-monitoring:nodeExporter.addon.enabled"


class Conflict(NamedTuple):
    config: str  # the other runtime config's name
    what: str  # what it adds that collides with ours


class PreflightError(Exception):
    """The director's runtime configs could not be read or understood."""


def release_version(config: Mapping[str, Any]) -> Optional[str]:
    for release in config.get("releases") or []:
        if isinstance(release, Mapping) and release.get("name") == RELEASE:
            return str(release.get("version"))
    return None


def conflict_in(name: str, config: Mapping[str, Any], version: Optional[str]) -> Optional[Conflict]:
    """What the runtime config `name` adds that collides with ours (release at `version`)."""
    for addon in config.get("addons") or []:
        if not isinstance(addon, Mapping):
            continue
        for job in addon.get("jobs") or []:
            if isinstance(job, Mapping) and job.get("name") == JOB:
                return Conflict(name, f"job {JOB} (addon '{addon.get('name')}')")
    other = release_version(config)
    if other is not None and other != version:
        return Conflict(name, f"release {RELEASE} {other} (this stack's is {version})")
    return None


def find_conflict(
    own_name: str, own_config: Mapping[str, Any], others: Iterable[tuple[str, Mapping[str, Any]]]
) -> Optional[Conflict]:
    """The first runtime config, other than ours, that already brings node_exporter."""
    version = release_version(own_config)
    for name, config in others:
        if name == own_name:
            continue
        found = conflict_in(name, config, version)
        if found:
            return found
    return None


def refusal(conflict: Conflict, own_name: str) -> str:
    """One line: the config, what collides, and the two ways out."""
    return (
        f"node-exporter addon refused: runtime config '{conflict.config}' on the director already "
        f"adds {conflict.what}, and with this stack's '{own_name}' too every deploy on the director "
        f"would fail. Remove it there (turn the tile's node exporter off, or `bosh delete-config "
        f"--type=runtime --name={conflict.config}` if that config holds nothing else), or set "
        f"{ENABLED_KEY} to false on this stack."
    )


# --- the director, through the bosh CLI ------------------------------------------------------------


def bosh_json(*args: str) -> dict[str, Any]:
    """`bosh <args> --json`, parsed. Its output is kept, never printed."""
    argv = ["bosh", *args, "--json"]
    shown = " ".join(argv)
    try:
        done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as error:
        raise PreflightError(f"`{shown}` could not run ({error.strerror})") from None
    if done.returncode != 0:
        raise PreflightError(f"`{shown}` failed (exit {done.returncode})")
    try:
        answer = json.loads(done.stdout)
    except ValueError:
        raise PreflightError(f"`{shown}` did not print JSON") from None
    if not isinstance(answer, dict):
        raise PreflightError(f"`{shown}` printed no JSON object")
    return answer


def rows(answer: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return [row for table in answer.get("Tables") or [] for row in table.get("Rows") or []]


def runtime_config_names() -> list[str]:
    return [
        row["name"]
        for row in rows(bosh_json("configs", "--type=runtime"))
        if row.get("type", "runtime") == "runtime" and row.get("name")
    ]


def runtime_config(name: str) -> Mapping[str, Any]:
    answer = bosh_json("config", "--type=runtime", f"--name={name}")
    contents = [row["content"] for row in rows(answer) if "content" in row] or answer.get("Blocks") or []
    if not contents:
        raise PreflightError(f"`bosh config --type=runtime --name={name} --json` showed no content")
    try:
        config = yaml.safe_load(contents[0])
    except yaml.YAMLError:
        raise PreflightError(f"runtime config '{name}' is not YAML this check can read") from None
    return config if isinstance(config, Mapping) else {}


def main(argv: list[str]) -> int:
    (own_file,) = argv
    own_name = os.environ[NAME_ENV]
    with open(own_file, encoding="utf-8") as f:
        own_config = yaml.safe_load(f)
    try:
        others = ((name, runtime_config(name)) for name in runtime_config_names() if name != own_name)
        conflict = find_conflict(own_name, own_config, others)
    except PreflightError as error:
        print(
            f"node-exporter addon refused: cannot check the director's runtime configs: {error}; "
            "check by hand with `bosh configs --type runtime`.",
            file=sys.stderr,
        )
        return 2
    if conflict:
        print(refusal(conflict, own_name), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
