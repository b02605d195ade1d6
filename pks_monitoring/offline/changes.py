"""What two renders differ in, as a reviewer reads it first: objects added, changed (with the
field paths that changed) and removed, BOSH changes, and the changes that lose data or reach every
VM called out. Works on any file of a render: `k8s/<namespace>/<Kind>_<name>.yaml` objects,
`bosh/...` (the director's side), and the rest (`outputs.json`)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any, Optional

import yaml

# Deleting one of these deletes data with it: a claim its volume, a CRD every custom resource of
# its kind, a Namespace everything in it, a StorageClass what provisions the claims.
DATA_BEARING_KINDS = ("PersistentVolumeClaim", "CustomResourceDefinition", "Namespace", "StorageClass")
# Changed field paths shown per object before "and N more".
FIELDS_SHOWN = 5
ADDED, CHANGED, REMOVED = "added", "changed", "removed"


@dataclass(frozen=True)
class FileChange:
    path: str  # relative to the render, e.g. "k8s/monitoring/Prometheus_k8s.yaml"
    status: str  # ADDED, CHANGED or REMOVED
    fields: tuple[str, ...] = ()  # a changed file's field paths, when both sides parse

    @property
    def area(self) -> str:
        """ "k8s", "bosh", or "" for a file at the top of the render."""
        parts = PurePosixPath(self.path).parts
        return parts[0] if len(parts) > 1 else ""

    @property
    def kind(self) -> Optional[str]:
        """The Kubernetes kind of an object file, from its name (kinds have no "_")."""
        parts = PurePosixPath(self.path).parts
        if self.area != "k8s" or len(parts) != 3:
            return None
        return parts[2].partition("_")[0]

    @property
    def label(self) -> str:
        """An object as `kubectl` names it (`Prometheus monitoring/k8s`), any other file by its path."""
        parts = PurePosixPath(self.path).parts
        if self.kind is None:
            return self.path
        name = PurePosixPath(parts[2]).stem.partition("_")[2]
        return f"{self.kind} {name}" if parts[1] == "_cluster" else f"{self.kind} {parts[1]}/{name}"


def changed_paths(before: Any, after: Any, prefix: str = "") -> list[str]:
    """The field paths at which two JSON values differ (`spec.replicas`, `data.alertmanager.yaml`,
    `spec.containers[0].image`), sorted; a key added or removed is named once, and so is a list
    whose length changed (its items moved: naming each index would say nothing)."""
    if isinstance(before, dict) and isinstance(after, dict):
        paths = []
        for key in sorted(set(before) | set(after)):
            path = f"{prefix}.{key}" if prefix else str(key)
            if key not in before or key not in after:
                paths.append(path)
            else:
                paths.extend(changed_paths(before[key], after[key], path))
        return paths
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            p for i, (b, a) in enumerate(zip(before, after)) for p in changed_paths(b, a, f"{prefix}[{i}]")
        ]
    return [] if before == after and type(before) is type(after) else [prefix or "."]


def _parsed(text: str) -> Any:
    """A rendered file's value (JSON is YAML), or None for text that is not a document."""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def file_change(path: str, before: Optional[str], after: Optional[str]) -> Optional[FileChange]:
    """One file's change from its text on each side (None: the file is not on that side)."""
    if before == after:
        return None
    if before is None:
        return FileChange(path, ADDED)
    if after is None:
        return FileChange(path, REMOVED)
    old, new = _parsed(before), _parsed(after)
    structured = isinstance(old, (dict, list)) and isinstance(new, (dict, list))
    return FileChange(path, CHANGED, tuple(changed_paths(old, new)) if structured else ())


def _fields(paths: tuple[str, ...] | list[str]) -> str:
    shown = ", ".join(paths[:FIELDS_SHOWN])
    more = len(paths) - FIELDS_SHOWN
    return f"{shown}, and {more} more" if more > 0 else shown


def headline(changes: list[FileChange]) -> str:
    """One line: `1 added, 1 changed (spec.replicas)`, then BOSH and other files; "no changes"."""
    objects = [c for c in changes if c.kind is not None]
    parts = []
    for status in (ADDED, CHANGED, REMOVED):
        chosen = [c for c in objects if c.status == status]
        if not chosen:
            continue
        paths = list(dict.fromkeys(p for c in chosen for p in c.fields))
        parts.append(f"{len(chosen)} {status}" + (f" ({_fields(paths)})" if paths else ""))
    bosh = [c for c in changes if c.area == "bosh"]
    if bosh:
        parts.append("BOSH: " + ", ".join(f"{c.path} {c.status}" for c in bosh))
    parts += [f"{c.path} {c.status}" for c in changes if c.kind is None and c.area != "bosh"]
    return ", ".join(parts) or "no changes"


def warnings(changes: list[FileChange]) -> list[str]:
    """The changes to read before anything else: data lost with a deleted object, and any change
    of the BOSH side (the runtime config runs as root on every VM of the director)."""
    lines = [
        f"deletes {c.label}: what it holds goes with it"
        for c in changes
        if c.status == REMOVED and c.kind in DATA_BEARING_KINDS
    ]
    bosh = [c.path for c in changes if c.area == "bosh"]
    if bosh:
        lines.append("changes the BOSH side (runs as root on every VM of the director): " + ", ".join(bosh))
    return lines


def object_rows(changes: list[FileChange]) -> list[tuple[str, str, str]]:
    """(what, change, changed fields) per changed file: objects, then BOSH, then the rest."""
    order = {"k8s": 0, "bosh": 1}
    ranked = sorted(changes, key=lambda c: (order.get(c.area, 2), c.path))
    return [(c.label, c.status, _fields(c.fields)) for c in ranked]


def inventory(paths: list[str]) -> str:
    """What a render holds, in one line: objects per kind (most first), then the files of every
    other folder, then the files at its top."""
    files = [FileChange(path, ADDED) for path in paths]
    kinds = Counter(f.kind for f in files if f.kind)
    folders = Counter(f.area for f in files if f.kind is None and f.area)
    parts = []
    if kinds:
        by_kind = ", ".join(
            f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kn: (-kn[1], kn[0]))
        )
        parts.append(f"{sum(kinds.values())} objects ({by_kind})")
    parts += [f"{area}/ ({n} file{'s' if n != 1 else ''})" for area, n in sorted(folders.items())]
    parts += sorted(f.path for f in files if not f.area)
    return ", ".join(parts)


def text_report(changes: list[FileChange], unified: str) -> str:
    """The render --diff output: warnings, the headline and one line per changed file, then the
    unified diff; empty when nothing changed."""
    if not changes:
        return ""
    lines = [f"warning: {line}" for line in warnings(changes)]
    lines.append(headline(changes))
    lines += [
        f"  {status:<8} {what}" + (f": {fields}" if fields else "")
        for what, status, fields in object_rows(changes)
    ]
    return "\n".join(lines) + "\n\n" + unified
