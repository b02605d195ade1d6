"""The fleet: which stacks, in which waves, how many at once. Read from a fleet file or from
`--stacks`, checked whole before any stack is touched (a bad fleet is one line, exit 2)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

import yaml

# Pulumi's own rule for a stack name (letters, digits, `-`, `_`, `.`), optionally org/project/.
STACK_NAME = re.compile(r"^([A-Za-z0-9_.-]+/){0,2}[A-Za-z0-9_.-]+$")
FLEET_KEYS = {"concurrency", "waves"}
WAVE_KEYS = {"name", "stacks"}
STACK_KEYS = {"name", "configFile", "kubeconfig"}


class FleetError(ValueError):
    """Bad input: the message is the one line the command prints."""


@dataclass(frozen=True)
class StackEntry:
    name: str
    # Where the stack's settings are, when not in the project's Pulumi.<stack>.yaml.
    config_file: Optional[Path] = None
    # The kubeconfig the health gate reads the cluster with (default: kubectl's own).
    kubeconfig: Optional[Path] = None


@dataclass(frozen=True)
class Wave:
    name: str
    stacks: tuple[StackEntry, ...]


@dataclass(frozen=True)
class Fleet:
    waves: tuple[Wave, ...]
    concurrency: int = 1

    @property
    def stacks(self) -> list[StackEntry]:
        """Every stack, in rollout order."""
        return [entry for wave in self.waves for entry in wave.stacks]


def from_stack_list(text: str, concurrency: int = 1) -> Fleet:
    """`--stacks dev,prod-east`: one wave per stack, in the order given."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise FleetError("--stacks: an empty stack name; give names separated by commas, e.g. dev,prod-east")
    waves = tuple(Wave(name, (StackEntry(stack_name(name, "--stacks")),)) for name in names)
    return checked(Fleet(waves, concurrency))


def load_fleet_file(path: Path, concurrency: Optional[int] = None) -> Fleet:
    """A fleet file (YAML); relative paths in it are relative to the file."""
    try:
        raw = yaml.safe_load(path.read_text())
    except OSError as error:
        raise FleetError(f"--fleet {path}: cannot read it ({error.strerror})") from None
    except yaml.YAMLError as error:
        first = str(error).splitlines()[0]
        raise FleetError(f"--fleet {path}: not valid YAML ({first})") from None
    fleet = parse_fleet(raw, path.parent)
    if concurrency is not None:
        fleet = Fleet(fleet.waves, concurrency)
    return checked(fleet)


def parse_fleet(raw: Any, base: Path) -> Fleet:
    mapping(raw, "the fleet file", FLEET_KEYS)
    waves = raw.get("waves")
    if not isinstance(waves, list) or not waves:
        raise FleetError(
            "waves: must be a non-empty list of {name, stacks}, e.g. waves: [{name: dev, stacks: [dev]}]"
        )
    concurrency = raw.get("concurrency", 1)
    if isinstance(concurrency, bool) or not isinstance(concurrency, int):
        raise FleetError(
            f"concurrency: must be a whole number of stacks at once (1 or more), not {concurrency!r}"
        )
    return Fleet(tuple(parse_wave(wave, f"waves[{i}]", base) for i, wave in enumerate(waves)), concurrency)


def parse_wave(raw: Any, where: str, base: Path) -> Wave:
    mapping(raw, where, WAVE_KEYS)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise FleetError(f"{where}.name: every wave needs a name (e.g. dev, prod)")
    stacks = raw.get("stacks")
    if not isinstance(stacks, list) or not stacks:
        raise FleetError(
            f"{where}.stacks: must be a non-empty list of stack names or {{name, configFile, kubeconfig}}"
        )
    return Wave(
        name, tuple(parse_stack(stack, f"{where}.stacks[{i}]", base) for i, stack in enumerate(stacks))
    )


def parse_stack(raw: Any, where: str, base: Path) -> StackEntry:
    if isinstance(raw, str):
        return StackEntry(stack_name(raw, where))
    mapping(raw, where, STACK_KEYS)
    name = raw.get("name")
    if not isinstance(name, str):
        raise FleetError(f"{where}.name: the stack's name is required")
    return StackEntry(
        stack_name(name, f"{where}.name"),
        file_path(raw.get("configFile"), f"{where}.configFile", base),
        file_path(raw.get("kubeconfig"), f"{where}.kubeconfig", base),
    )


def mapping(raw: Any, where: str, keys: set[str]) -> None:
    if not isinstance(raw, dict):
        raise FleetError(f"{where}: must be a mapping with keys {', '.join(sorted(keys))}")
    unknown = sorted(set(raw) - keys)
    if unknown:
        raise FleetError(f"{where}: unknown key {unknown[0]!r}; the keys are {', '.join(sorted(keys))}")


def stack_name(name: str, where: str) -> str:
    if not STACK_NAME.match(name):
        raise FleetError(f"{where}: {name!r} is not a stack name (letters, digits, -, _ and .)")
    return name


def file_path(raw: Any, where: str, base: Path) -> Optional[Path]:
    if raw is None:
        return None
    if not isinstance(raw, str) or not raw:
        raise FleetError(f"{where}: must be a file path")
    path = base / Path(raw).expanduser()
    if not path.is_file():
        raise FleetError(f"{where}: {path} does not exist")
    return path


def checked(fleet: Fleet) -> Fleet:
    """What no single entry shows: a stack twice, a concurrency below one."""
    if fleet.concurrency < 1:
        raise FleetError(f"concurrency: must be 1 or more, not {fleet.concurrency}")
    seen: set[str] = set()
    for entry in fleet.stacks:
        if entry.name in seen:
            raise FleetError(f"stack {entry.name} is listed twice; each stack is rolled out once")
        seen.add(entry.name)
    return fleet
