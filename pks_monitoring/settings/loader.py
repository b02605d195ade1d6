"""From the engine's config to a validated settings model: raw config read once, camelCase keys
only, keys that moved refused with their new place, plain-text secrets refused, and every
failure one line naming the config key and the fix (`SettingsError`)."""

from __future__ import annotations

import json
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, SecretStr, ValidationError

from pks_monitoring.settings.provider import KubernetesTarget
from pks_monitoring.settings.types import PROJECT, PROJECT_ROOT, SECRET_PLACEHOLDER, SettingsError
from pks_monitoring.stack_file import engine_stack_file, is_secure, read_config

M = TypeVar("M", bound=BaseModel)

# Config keys of earlier layouts: where their settings live now.
MOVED_KEYS = {
    "workloads": "prometheus, alertmanager and grafana (storage, retention, resources, "
    "nodeSelector, tolerations under each) and podSecurity.securityContextDeny",
    "alerting": "alertmanager (receivers, defaultReceiver, routes, groupBy, group timers)",
    "nodeScrape": "nodeExporter (staticTargets, fileSdFiles)",
    "nodeExporterAddon": "nodeExporter.addon (its port: nodeExporter.port)",
}
# The provider switches of pulumi-kubernetes 4.29 and later: the provider this program runs
# (4.25.0, the one the toolchain builds) does not have them, and passing them would fail in the
# engine. 4.25 adopts an existing object on create (server-side apply) by itself; forcing the
# fields kubectl owns is its environment variable, for the one adopting `pulumi up`.
RETIRED_KEYS = {
    "provider": "the pinned Kubernetes provider (4.25.0) has no upsertExistingObjects or "
    "enablePatchForce: it adopts objects that exist on create by itself, and for the first "
    "`pulumi up` over a cluster set up with kubectl run it as `PULUMI_K8S_ENABLE_PATCH_FORCE=true "
    "pulumi up` (README: adopting a cluster)",
}
_TARGET_KEYS = ("kubernetes:context", "kubernetes:kubeconfig")


def known_keys(model: type[BaseModel]) -> list[str]:
    return sorted(f.alias or n for n, f in model.model_fields.items() if n != "kubernetes")


def from_raw(model: type[M], raw: dict[str, Any]) -> M:
    """`raw` maps full config keys (`pks-monitoring:cluster`) to their values."""
    data: dict[str, Any] = {}
    target: dict[str, Any] = {}
    for key, value in raw.items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            data[name] = value
        elif key in _TARGET_KEYS:
            target[name] = value
    data["kubernetes"] = target
    for name in sorted(data):
        if name in MOVED_KEYS:
            raise SettingsError(
                f"{PROJECT}:{name}: this key moved; set its settings under {MOVED_KEYS[name]} "
                "(the README's config reference) and remove it"
            )
        if name in RETIRED_KEYS:
            raise SettingsError(f"{PROJECT}:{name}: {RETIRED_KEYS[name]}; remove the key")
    unknown = sorted(set(data) - {f.alias or n for n, f in model.model_fields.items()})
    if unknown:
        key = f"{PROJECT}:{unknown[0]}"
        raise SettingsError(
            f"{key}: unknown config key; remove it (`pulumi config rm {key}`) "
            f"or fix its spelling (known keys: {', '.join(known_keys(model))})"
        )
    try:
        # Config keys are the camelCase names only: a snake_case spelling would slip past the
        # plain-text-secret check, which reads the documented names.
        return model.model_validate(data, by_alias=True, by_name=False)
    except ValidationError as error:
        raise SettingsError(one_line(model, error)) from None


def from_pulumi_config(model: type[M]) -> M:
    """Validate the stack's config; raises SettingsError with one line on bad input."""
    from pulumi.runtime.config import is_config_secret

    raw = raw_config()
    written = written_config()
    settings = from_raw(model, as_written(raw, written))
    plain = plain_text_secrets(model, raw, {key for key in raw if is_config_secret(key)}, written)
    if plain:
        raise SettingsError(plain[0])
    return settings


def written_config() -> dict[str, Any]:
    """The stack file's config as written (YAML types, `secure:` leaves), when the program can
    find the file the engine read (stack_file.engine_stack_file); else empty."""
    import pulumi

    root = Path(pulumi.get_root_directory() or PROJECT_ROOT)
    if not (root / "Pulumi.yaml").is_file():  # the SDK's mocks have a placeholder, "root_directory"
        root = PROJECT_ROOT
    path = engine_stack_file(root, pulumi.get_stack())
    return read_config(path) if path is not None else {}


def _engine_texts(value: Any) -> set[str]:
    """The texts the engine may hand for a top-level scalar written as `value`."""
    texts = {json.dumps(value), str(value)}
    return texts | {""} if value is None else texts


def as_written(raw: dict[str, Any], written: dict[str, Any]) -> dict[str, Any]:
    """`raw` with each top-level scalar the engine turned into text given back its written
    type, where the file agrees with the engine: `cluster: true` is the YAML true, not a
    cluster named "true" (nor `cluster:` one named "null")."""
    typed = dict(raw)
    for key, value in raw.items():
        original = written.get(key, value)
        scalar = isinstance(original, (bool, int, float, type(None)))
        if isinstance(value, str) and scalar and value in _engine_texts(original):
            typed[key] = original
    return typed


def config_key(loc: tuple[int | str, ...]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "kubernetes":
        return "kubernetes:" + ".".join(parts[1:]) if len(parts) > 1 else "kubernetes"
    head, rest = (parts[0], parts[1:]) if parts else ("", [])
    path = head + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)
    return f"{PROJECT}:{path}"


def _unwrap(annotation: Any) -> Any:
    while get_origin(annotation) in (Union, UnionType, Annotated):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return annotation


def _secret_setting(model: type[BaseModel], loc: tuple[int | str, ...]) -> bool:
    """Whether a validation error's location names a SecretStr setting (its input is never
    shown)."""
    annotation: Any = model
    for part in loc:
        annotation = _unwrap(annotation)
        if isinstance(part, int) and get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f.annotation for n, f in annotation.model_fields.items()}
            if part not in fields:
                return False
            annotation = fields[str(part)]
        else:
            return False
    return _unwrap(annotation) is SecretStr


# How much of a value an error line shows: enough to recognize it, never a whole file's worth.
SHOWN_CHARS = 60


def shortened(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else f"{text[: SHOWN_CHARS - 3]}..."


def _without_input(message: str, value: Any, secret: bool) -> str:
    """`message` (a validator's, which may quote its input) with the input shortened, or
    hidden when it is a secret's."""
    if not isinstance(value, str) or not value:
        return message
    hidden = SECRET_PLACEHOLDER if secret else shortened(value)
    message = message.replace(repr(value), hidden)
    return message.replace(value, hidden) if secret else message


def one_line(model: type[BaseModel], error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    key = config_key(first["loc"])
    message = first["msg"]
    secret = _secret_setting(model, first["loc"])
    if first["type"] == "extra_forbidden":
        message = "unknown key; remove it or fix its spelling"
    elif first["type"] == "missing":
        message = "required; set it with `pulumi config set`"
    elif "input" in first and first["type"] not in ("value_error",):
        shown = first["input"]
        if not isinstance(shown, (dict, list)) and not secret:
            message += f" (got {shortened(shown)})"
        if first["type"] == "string_type":
            message += "; quote the value in the stack file"
    if first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{key}: {_without_input(message, first.get('input'), secret)}"


def raw_config() -> dict[str, Any]:
    """Every config key the engine (or the mock engine) passed to the program, JSON decoded."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    return {key: decoded(runtime_config.get_config(key)) for key in sorted(keys)}


def decoded(value: Any) -> Any:
    """A config value as the engine passes it, JSON decoded: structured values (objects, lists)
    arrive as JSON text; scalars stay the strings they are, so a cluster named "123" is not
    turned into a number."""
    if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
        try:
            return json.loads(value)
        except ValueError:
            pass  # not JSON after all: validation reports the key with its type
    return value


Loc = tuple[str | int, ...]


def _secret_paths(annotation: Any, value: Any, path: str, loc: Loc = ()) -> list[tuple[str, Loc]]:
    """The paths below `path` where `value` sets a SecretStr field of `annotation`, each with
    its place in `value`."""
    origin = get_origin(annotation)
    if value is None:
        return []
    if annotation is SecretStr:
        return [(path, loc)]
    if origin is Annotated:
        return _secret_paths(get_args(annotation)[0], value, path, loc)
    if origin in (Union, UnionType):
        return [p for arg in get_args(annotation) for p in _secret_paths(arg, value, path, loc)]
    if origin is list and isinstance(value, list):
        item = get_args(annotation)[0]
        return [p for i, v in enumerate(value) for p in _secret_paths(item, v, f"{path}[{i}]", (*loc, i))]
    if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
        fields = [(f.alias or n, f.annotation) for n, f in annotation.model_fields.items()]
        return [
            p
            for key, a in fields
            if key in value
            for p in _secret_paths(a, value[key], f"{path}.{key}", (*loc, key))
        ]
    return []


_MISSING = object()


def _at(value: Any, part: str | int) -> Any:
    """`value[part]`, or _MISSING where `value` has no such place."""
    if isinstance(part, int):
        return value[part] if isinstance(value, list) and part < len(value) else _MISSING
    return value.get(part, _MISSING) if isinstance(value, dict) else _MISSING


def _written_in_plain(written: Any, value: Any, loc: Loc) -> bool:
    """Whether the stack file writes the secret at `loc` in plain text: not `secure:`, and the
    value the engine handed (so the file is the one the engine read)."""
    for part in loc:
        written, value = _at(written, part), _at(value, part)
    if written is _MISSING or written is None or is_secure(written):
        return False
    return bool(value == written or value == str(written))


def plain_text_secrets(
    model: type[BaseModel],
    raw_config: dict[str, Any],
    secret_keys: set[str],
    written: dict[str, Any] | None = None,
) -> list[str]:
    """One line per secret setting (a SecretStr field of `model`) given in plain text: set in
    `raw_config` (full config keys to values, as `from_raw` takes them) under a key that is not
    in `secret_keys` (the keys the engine marks secret), or written in plain text in `written`
    (the stack file's config, `written_config`).

    The engine marks a whole top-level key secret as soon as one value in it is: only the stack
    file tells a plain-text value beside a `secure:` one (when the program finds the file).
    """
    models: dict[str, type[BaseModel]] = {PROJECT: model, "kubernetes": KubernetesTarget}
    lines = []
    for key, value in raw_config.items():
        namespace, _, name = key.partition(":")
        owner = models.get(namespace)
        if owner is None:
            continue
        fields = {f.alias or n: f.annotation for n, f in owner.model_fields.items()}
        for path, loc in _secret_paths(fields.get(name), value, key):
            in_file = (written or {}).get(key)
            if key in secret_keys and not _written_in_plain(in_file, value, loc):
                continue
            lines.append(
                f"{path}: a secret given in plain text; set it with "
                f"`pulumi config set --secret --path '{path}' <value>`"
            )
    return lines
