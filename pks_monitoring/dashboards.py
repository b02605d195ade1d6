"""Grafana dashboards as code: every `dashboards/*.json`, read and checked on its own, against
the others and against the dashboards kube-prometheus ships (parts/grafana.py mounts them)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from pks_monitoring.manifests import Manifest
from pks_monitoring.project_files import folder_files, read_bytes, shown
from pks_monitoring.settings import PROJECT_ROOT, SettingsError

DASHBOARDS_DIR = PROJECT_ROOT / "dashboards"
CONFIG_MAP_PREFIX = "grafana-dashboard-"

# The file name names the ConfigMap and the volume `grafana-dashboard-<name>`; a volume name is a
# DNS-1123 label (at most 63 characters), which leaves 45 for the name. Both patterns are used
# with fullmatch: `$` would also match before a trailing newline.
_NAME = re.compile(r"[a-z0-9]([-a-z0-9]{0,43}[a-z0-9])?")
# What Grafana accepts as a dashboard uid; it refuses to provision a dashboard with another.
_UID = re.compile(r"[A-Za-z0-9_-]{1,40}")
# What the API server lets a ConfigMap's data hold: ValidateConfigMap (pkg/apis/core/validation)
# adds up the bytes of every value of `data` and `binaryData` (keys are not counted) and refuses
# more than core.MaxSecretSize. A dashboard's ConfigMap holds one value, the file's text, so the
# file's size is that total.
CONFIG_MAP_DATA_LIMIT = 1024 * 1024


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


def _read_bytes(path: Path) -> bytes:
    return read_bytes(
        path,
        limit=CONFIG_MAP_DATA_LIMIT,
        fix="keep only regular dashboard JSON files in the folder (copy the file instead of linking)",
        too_big=f"more than a ConfigMap's data may hold ({CONFIG_MAP_DATA_LIMIT} bytes, 1 MiB); split the dashboard",
    )


def _read(path: Path) -> Dashboard:
    where = shown(path)
    name = path.name.removesuffix(".json")
    if not _NAME.fullmatch(name):
        raise SettingsError(
            f"{where}: the file name names the ConfigMap {CONFIG_MAP_PREFIX}<name>, so it must be "
            "lowercase letters, digits and '-' (at most 45 before .json); rename the file"
        )
    raw = _read_bytes(path)
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
    except RecursionError:
        # Python's decoder recurses per level: no dashboard Grafana exports nests that deep.
        raise SettingsError(
            f"{where}: JSON nested too deeply to be a dashboard; export the dashboard again (Grafana: Share > Export)"
        ) from None
    if not isinstance(model, dict):
        raise SettingsError(
            f"{where}: a JSON {type(model).__name__}, not a dashboard object; "
            "export the dashboard's JSON model (Grafana: Share > Export)"
        )
    uid, title = model.get("uid"), model.get("title")
    if not uid:
        raise SettingsError(f"{where}: no `uid`; give the dashboard a unique uid")
    if not isinstance(uid, str) or not _UID.fullmatch(uid):
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
    for path in folder_files(directory, ".json", "dashboards"):
        dashboard = _read(path)
        for field, fix in (
            ("name", "rename the file"),
            ("uid", "give each dashboard its own uid"),
            ("title", "give each dashboard its own title"),
        ):
            value = getattr(dashboard, field)
            if value in taken[field]:
                raise SettingsError(
                    f"{shown(path)}: {field} {value!r} is also the {field} of {taken[field][value]}; {fix}"
                )
            taken[field][value] = shown(path)
        dashboards.append(dashboard)
    return dashboards
