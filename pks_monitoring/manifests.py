"""What every patch of a manifest shares: the object as a dict, how to tell which upstream object
it is, how to drop it, and the move of the whole stack to the namespace setting.

A patch (a `Transformation`) takes the object as `pulumi_kubernetes.yaml.ConfigFile` hands it over
(camelCase keys, `apiVersion`/`kind` present) and changes it in place, touching nothing outside its
concern. ConfigFile calls it on a `*List` document and then on each item, so it acts on items only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

Manifest = dict[str, Any]
Transformation = Callable[[Manifest], None]


def is_list(obj: Manifest) -> bool:
    return str(obj.get("kind", "")).endswith("List")


def is_object(obj: Manifest, kind: str, name: str) -> bool:
    """`obj` is the upstream object `kind` `name`: what a transformation acts on."""
    return obj.get("kind") == kind and (obj.get("metadata") or {}).get("name") == name


def labels(obj: Manifest) -> dict[str, str]:
    return (obj.get("metadata") or {}).get("labels") or {}


def drop(obj: Manifest) -> None:
    """Omit `obj`: an empty List is how a ConfigFile transformation leaves an object out."""
    obj.clear()
    obj.update({"apiVersion": "v1", "kind": "List", "items": []})


def named(entries: list[dict[str, Any]] | None, name: str) -> dict[str, Any] | None:
    """The entry called `name` of a Kubernetes list of named entries (containers, ports), or
    None."""
    return next((entry for entry in entries or [] if entry.get("name") == name), None)


def rename_namespace(obj: Manifest, *, old: str, new: str) -> None:
    """Move the stack from upstream's namespace to ours, everywhere upstream names it.

    That is the Namespace object itself, `namespace:` fields (metadata, RoleBinding subjects, the
    Prometheus resource's Alertmanager reference), `namespace="..."` label matchers in alert rules
    and dashboards, and `<service>.<namespace>.svc` addresses (Grafana's datasource). Other
    namespaces (`default`, `kube-system`) are left alone, and so are values that are not plain
    data (a secret Output passes through untouched).
    """
    if old == new or is_list(obj):
        return
    matcher = re.compile(rf'namespace(=~?)(\\?)"{re.escape(old)}(\\?)"')
    address = re.compile(rf"\.{re.escape(old)}\.svc\b")

    def rename(value: Any, key: str = "") -> Any:
        if isinstance(value, dict):
            return {k: rename(v, k) for k, v in value.items()}
        if isinstance(value, list):
            return [rename(v, key) for v in value]
        if isinstance(value, str):
            if key == "namespace" and value == old:
                return new
            value = matcher.sub(lambda m: f'namespace{m[1]}{m[2]}"{new}{m[3]}"', value)
            return address.sub(f".{new}.svc", value)
        return value

    renamed = rename(obj)
    if is_object(renamed, "Namespace", old):
        renamed["metadata"]["name"] = new
    obj.clear()
    obj.update(renamed)
