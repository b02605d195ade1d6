"""YAML for review: keys sorted, every multi-line string a literal block, so that a one-line
change of a script or of a config text inside a value is a one-line change of the file."""

from __future__ import annotations

from typing import Any

import yaml


class _Dumper(yaml.SafeDumper):
    pass


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    # PyYAML falls back to a quoted style where a block cannot hold the text as it is (trailing
    # spaces on a line, control characters): the value is the same either way.
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def dump(value: Any) -> str:
    return yaml.dump(value, Dumper=_Dumper, sort_keys=True, width=float("inf"), allow_unicode=True)
