"""Kubernetes YAML read as the Kubernetes provider reads it.

Only PyYAML here: the mock engine reads files with this in a process of its own, which should
start in a blink.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml


class ManifestLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """YAML 1.1 safe loading as the Kubernetes provider does it.

    The prometheus-operator CRDs hold the plain scalar `=` (a label-matcher enum). PyYAML resolves
    it to the YAML 1.1 "value" tag, which its safe loader refuses; the provider's Go YAML decoder
    reads it as the string "=". So do we.
    """


ManifestLoader.add_constructor("tag:yaml.org,2002:value", yaml.constructor.SafeConstructor.construct_yaml_str)


def load_documents(text: str) -> list[dict[str, Any]]:
    """All non-empty documents of a YAML stream, as the provider's `kubernetes:yaml:decode`."""
    return [doc for doc in yaml.load_all(text, Loader=ManifestLoader) if doc]


def iter_objects(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The objects of a document, with `*List` kinds expanded to their items."""
    if str(document.get("kind", "")).endswith("List"):
        for item in document.get("items") or []:
            yield from iter_objects(item)
    else:
        yield document


def read_objects(paths: Iterable[str | Path]) -> list[dict[str, Any]]:
    """The objects in YAML files, `*List` kinds expanded, in file order."""
    return [
        obj
        for path in paths
        for document in load_documents(Path(path).read_text())
        for obj in iter_objects(document)
    ]
