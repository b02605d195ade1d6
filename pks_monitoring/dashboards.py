"""Grafana dashboards as code: every `dashboards/*.json`, read and checked on its own, against
the others and against the dashboards kube-prometheus ships (parts/grafana.py mounts them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pks_monitoring.manifests import Manifest
from pks_monitoring.settings import PROJECT_ROOT, SettingsError

DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
CONFIG_MAP_PREFIX = "grafana-dashboard-"

# The file name names the ConfigMap and the volume `grafana-dashboard-<name>`; a volume name is a
# DNS-1123 label (at most 63 characters), which leaves 45 for the name.
_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,43}[a-z0-9])?$")
# What Grafana accepts as a dashboard uid; it refuses to provision a dashboard with another.
_UID = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
_CONFIG_MAP_LIMIT = 1024 * 1024  # bytes of data a ConfigMap may hold


@dataclass(frozen=True)
class Dashboard:
    name: str  # the file name without `.json`
    uid: str
    title: str
    text: str  # the file's JSON text, as written

    @property
    def file_name(self) -> str:
        return f"{self.name}.json"

    @property
    def config_map_name(self) -> str:
        return f"{CONFIG_MAP_PREFIX}{self.name}"


def _shown(path: Path) -> str:
    """The path as operators see it: relative to the project when it is inside it."""
    try:
        return str(path.resolve().relative_to(PROJECT_ROOT))
    except ValueError:
        return str(path)


def _read(path: Path) -> Dashboard:
    where = _shown(path)
    name = path.name.removesuffix(".json")
    if not _NAME.match(name):
        raise SettingsError(
            f"{where}: the file name names the ConfigMap {CONFIG_MAP_PREFIX}<name>, so it must be "
            "lowercase letters, digits and '-' (at most 45 before .json); rename the file"
        )
    raw = path.read_bytes()
    if len(raw) > _CONFIG_MAP_LIMIT:
        raise SettingsError(
            f"{where}: {len(raw)} bytes, more than a ConfigMap holds (1 MiB); split the dashboard"
        )
    try:
        text = raw.decode("utf-8")
        model = json.loads(text)
    except UnicodeDecodeError:
        raise SettingsError(f"{where}: not UTF-8 text; save the dashboard JSON as UTF-8") from None
    except json.JSONDecodeError as error:
        raise SettingsError(
            f"{where}: not JSON ({error.msg} at line {error.lineno} column {error.colno}); "
            "fix it or export the dashboard again (Grafana: Share > Export)"
        ) from None
    if not isinstance(model, dict):
        raise SettingsError(
            f"{where}: a JSON {type(model).__name__}, not a dashboard object; "
            "export the dashboard's JSON model (Grafana: Share > Export)"
        )
    uid, title = model.get("uid"), model.get("title")
    if not uid:
        raise SettingsError(f"{where}: no `uid`; give the dashboard a unique uid")
    if not isinstance(uid, str) or not _UID.match(uid):
        raise SettingsError(
            f"{where}: uid {uid!r} is not one Grafana accepts; use at most 40 letters, digits, '-' or '_'"
        )
    if not isinstance(title, str) or not title.strip():
        raise SettingsError(f"{where}: no `title`; give the dashboard a title")
    return Dashboard(name=name, uid=uid, title=title, text=text)


def shipped_dashboards(objects: Iterable[Manifest]) -> list[Dashboard]:
    """The dashboards kube-prometheus ships (its `grafana-dashboard-*` ConfigMaps)."""
    return [
        Dashboard(
            name=obj["metadata"]["name"].removeprefix(CONFIG_MAP_PREFIX),
            uid=model.get("uid"),
            title=model.get("title"),
            text=text,
        )
        for obj in objects
        if obj.get("kind") == "ConfigMap" and obj["metadata"]["name"].startswith(CONFIG_MAP_PREFIX)
        for text in (obj.get("data") or {}).values()
        for model in (json.loads(text),)
    ]


def load_dashboards(directory: Path, *, shipped: Sequence[Dashboard] = ()) -> list[Dashboard]:
    """Every `*.json` in `directory`, sorted by file name, each checked on its own and against the
    others and the `shipped` upstream dashboards (all share upstream's one provider folder).

    Grafana provisions only one dashboard per uid and per title in a folder and says so only in its
    log, and a second `grafana-dashboard-<name>` would clash with upstream's ConfigMap and volume:
    each of these is one SettingsError line naming the file and the fix.
    """
    taken = {
        field: {getattr(d, field): f"kube-prometheus' {d.file_name}" for d in shipped}
        for field in ("name", "uid", "title")
    }
    dashboards = []
    for path in sorted(directory.glob("*.json")):
        dashboard = _read(path)
        for field, fix in (
            ("name", "rename the file"),
            ("uid", "give each dashboard its own uid"),
            ("title", "give each dashboard its own title"),
        ):
            value = getattr(dashboard, field)
            if value in taken[field]:
                raise SettingsError(
                    f"{_shown(path)}: {field} {value!r} is also the {field} of {taken[field][value]}; {fix}"
                )
            taken[field][value] = _shown(path)
        dashboards.append(dashboard)
    return dashboards
