"""Stack files (`Pulumi.<stack>.yaml`, and Pulumi.yaml's project config) read strictly: only what
Pulumi's own YAML reading takes the same way, and everything else refused in one line naming the
file and the key (`StackFileError`, a SettingsError), never a traceback.

Refused: bytes that are not UTF-8; duplicate keys (Pulumi refuses them; PyYAML keeps the last);
keys that are not strings (`on:`, `1:`); tags other than the plain scalars, mappings and lists
(YAML dates, `!!binary`, `!!set`, python tags, merge keys `<<`); nesting deeper than
`MAX_DEPTH`; aliases beyond `MAX_ALIASES` or repeating more than `MAX_ALIASED_WEIGHT` values and
characters in all (an alias bomb is refused under any key, even one the program ignores); a
document or a `config:` that is not a mapping; a path that is not a regular file.
"""

from __future__ import annotations

import os
import stat
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from pks_monitoring.settings.types import SettingsError

MAX_DEPTH = 32
MAX_ALIASES = 16
# Nodes and scalar characters that aliases repeat, summed over every alias: bounds what an
# alias can expand to (nested aliases included) to a size the file could have written out.
MAX_ALIASED_WEIGHT = 100_000

_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null")}
_MAP_TAG, _SEQ_TAG = "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"
_TAG_ADVICE = {
    "tag:yaml.org,2002:timestamp": "a YAML date or time; quote it to make it a string",
    "tag:yaml.org,2002:merge": "a merge key (<<); write the keys out",
}


class StackFileError(SettingsError):
    """One line: the stack file, the key, what is wrong and the fix."""


def shown(text: str) -> str:
    """A file name or key as it goes in an error line: quoted when it holds a newline or
    another character that would break the line."""
    return text if text.isprintable() else repr(text)


def _error(file: Path, problem: str, path: tuple[str | int, ...] | None = None) -> StackFileError:
    where = shown(str(file)) if path is None else f"{shown(str(file))}: {key_path(path)}"
    return StackFileError(f"{where}: {problem}")


def key_path(path: tuple[str | int, ...]) -> str:
    """A place in the file as the operator names it: the config key and its `--path` below
    (`pks-monitoring:grafana.adminPassword`, `...apps[0]`), or the document's own key."""
    parts = list(path[1:] if path[:1] == ("config",) and len(path) > 1 else path)
    if not parts:
        return "(the document)"
    return shown(str(parts[0]) + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts[1:]))


class _Loader(yaml.SafeLoader):
    """SafeLoader's composer, counting depth and aliases as it goes (before anything deep or
    expanded is built), with the key path of the node being composed."""

    def __init__(self, text: str, file: Path) -> None:
        super().__init__(text)
        self.file = file
        self.path: list[str | int] = []
        self.depth = 0
        self.in_key = 0
        self.aliases = 0
        self.aliased_weight = 0
        self._weights: dict[int, int] = {}

    def fail(self, problem: str) -> StackFileError:
        return _error(self.file, problem, tuple(self.path))

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # A mapping's value (index: its key's node) or a list's item (its position) is named by
        # its path; what is inside a key (`? {a: ...}`) is named by the mapping holding the key.
        pushed = isinstance(index, (ScalarNode, int)) and not self.in_key
        if pushed:
            self.path.append(index.value if isinstance(index, ScalarNode) else index)
        self.in_key += index is None and isinstance(parent, MappingNode)
        self.depth += 1  # keys count too
        if self.depth > MAX_DEPTH:
            raise self.fail(f"nested deeper than {MAX_DEPTH} levels; flatten the value")
        if self.check_event(yaml.AliasEvent):
            self._count_alias(self.peek_event().anchor)  # type: ignore[no-untyped-call]
        node = super().compose_node(parent, index)
        self.depth -= 1
        self.in_key -= index is None and isinstance(parent, MappingNode)
        if pushed:
            self.path.pop()
        return node

    def _count_alias(self, anchor: str) -> None:
        self.aliases += 1
        target = self.anchors.get(anchor)
        if target is not None and target.end_mark is None:  # `&a [*a]`: a value holding itself
            raise self.fail("an alias inside the value it names; write the value out")
        self.aliased_weight += self._weight(target) if target is not None else 0
        if self.aliases > MAX_ALIASES or self.aliased_weight > MAX_ALIASED_WEIGHT:
            raise self.fail(
                f"too many aliases (at most {MAX_ALIASES}, repeating at most "
                f"{MAX_ALIASED_WEIGHT} values and characters in all); write the values out"
            )

    def _weight(self, node: Node) -> int:
        """Values and characters `node` stands for, its aliases expanded (memoized: linear)."""
        if id(node) not in self._weights:
            if isinstance(node, ScalarNode):
                weight = 1 + len(node.value)
            elif isinstance(node, SequenceNode):
                weight = 1 + sum(self._weight(n) for n in node.value)
            else:
                weight = 1 + sum(self._weight(k) + self._weight(v) for k, v in node.value)
            self._weights[id(node)] = weight
        return self._weights[id(node)]


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", type(None): "empty", int: "an integer"}
    return names.get(type(value), f"a {type(value).__name__}")


def _value(loader: _Loader, node: Node, path: tuple[str | int, ...]) -> Any:
    """`node` as plain Python (dict, list, str, int, float, bool, None), or one line why not."""

    def fail(problem: str) -> StackFileError:
        return _error(loader.file, problem, path)

    if isinstance(node, MappingNode) and node.tag == _MAP_TAG:
        mapping: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _value(loader, key_node, path) if isinstance(key_node, ScalarNode) else None
            if not isinstance(key, str):
                shown = (
                    "a mapping or a list"
                    if key is None and not isinstance(key_node, ScalarNode)
                    else _kind(key)
                )
                raise fail(f"a key that is {shown}, not a string; quote the key")
            if key in mapping:
                raise fail(f"the key {key!r} appears twice; keep one")
            mapping[key] = _value(loader, value_node, (*path, key))
        return mapping
    if isinstance(node, SequenceNode) and node.tag == _SEQ_TAG:
        return [_value(loader, item, (*path, i)) for i, item in enumerate(node.value)]
    if isinstance(node, ScalarNode) and node.tag in _PLAIN_TAGS:
        try:
            return loader.construct_object(node)
        except (ValueError, KeyError):  # `!!int abc`, `!!bool maybe`, an int of 5000 digits
            raise fail(f"not a valid {node.tag.rpartition(':')[2]}; fix the value or quote it") from None
    advice = _TAG_ADVICE.get(node.tag, "write a plain string, number, true/false, mapping or list")
    raise fail(f"a value tagged {node.tag.replace('tag:yaml.org,2002:', '!!')} is not taken; {advice}")


def read_text(file: Path) -> str:
    """The file's text: a regular file (not a directory, device or symlink loop) of UTF-8."""
    try:
        if not stat.S_ISREG(os.stat(file).st_mode):
            raise _error(file, "not a regular file; point at a stack file")
        data = file.read_bytes()
    except OSError as error:
        raise _error(file, f"cannot be read ({error.strerror}); point at a stack file") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise _error(file, f"byte {error.start} is not UTF-8; save the file as UTF-8") from None


def read_document(file: Path) -> dict[str, Any]:
    """The file's one YAML document, a mapping (an empty file is an empty one)."""
    document = load_yaml(read_text(file), file)
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise _error(file, f"the file is {_kind(document)}; it must be a mapping (config: ...)")
    return document


def load_yaml(text: str, file: Path) -> Any:
    """`text`, the one YAML document of `file`, as plain Python (None when empty), read as
    strictly as a stack file; errors name `file`."""
    loader = None
    try:
        loader = _Loader(text, file)  # its reader refuses control characters
        node = loader.get_single_node()
        document = None if node is None else _value(loader, node, ())
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = (getattr(error, "problem", None) or str(error)).splitlines()[0]
        raise _error(file, f"not valid YAML{where}: {problem}; fix the syntax") from None
    finally:
        if loader is not None:
            loader.dispose()
    return document


def read_config(file: Path) -> dict[str, Any]:
    """The `config:` mapping of a stack file or of Pulumi.yaml (empty when there is none)."""
    config = read_document(file).get("config")
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise _error(file, f"config: is {_kind(config)}; it must be a mapping of config keys")
    return config


def is_secure(value: Any) -> bool:
    """A `secure:` leaf: a value only the Pulumi CLI can decrypt."""
    return isinstance(value, dict) and set(value) == {"secure"}


# The stack file the engine read. The Pulumi CLI does not tell the program (not even with
# `--config-file`), so the program looks where the CLI looks by default; the mock engine, which
# reads the file itself, says which.
ENGINE_STACK_FILE: ContextVar[Path | None] = ContextVar("ENGINE_STACK_FILE", default=None)


def engine_stack_file(root: Path, stack: str) -> Path | None:
    """The stack file of `stack` in the project at `root`, if the engine said or it is there."""
    told = ENGINE_STACK_FILE.get()
    if told is not None:
        return told
    project = root / "Pulumi.yaml"
    folder = read_document(project).get("stackConfigDir") if project.is_file() else None
    path = root / str(folder or ".") / f"Pulumi.{stack}.yaml"
    return path if path.exists() or path.is_symlink() else None
