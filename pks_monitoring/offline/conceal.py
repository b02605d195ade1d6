"""What the render shows of secret data: all of it, with every value that came from secret config
replaced by the placeholder in place, in every form the value can take inside a text.

A Secret's data is one Pulumi secret as a whole (pulumi-kubernetes makes it so), yet most of it is
not secret at all: scrape jobs, routes, datasource URLs. Masking it whole hid every change of it
from the render diff. The secret values in it come from the stack's secret settings (the
`SecretStr` fields of the settings model): the offline render gets them as the placeholder (it
cannot decrypt `secure:` config), and a run with real values (the secrets audit) must show none.
So each secret value is replaced where it stands: as is, JSON-escaped (a JSON document in a
value), YAML-quoted (a YAML document in a value), and inside base64 (a docker config's `auth`, a
Secret's `data`). A text that still holds one after that (say, a YAML scalar folded over two
lines) is masked whole.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Collection, Iterator
from typing import Any

import yaml
from pulumi.runtime import rpc
from pydantic import BaseModel, SecretStr

from pks_monitoring.settings import SECRET_PLACEHOLDER, Settings
from pks_monitoring.settings.loader import decoded

# A run of the base64 alphabet: a candidate for text whose decoded form holds a secret.
_BASE64 = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}")
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml's, where PyYAML has it


def plain(value: Any, secrets: Collection[str] | None = None) -> Any:
    """Engine values as the API server gets them, whole numbers as integers (the engine's wire
    format carries every number as a double). A Pulumi secret is masked whole; with `secrets`
    (the values of secret config), it is shown with those values concealed instead."""
    if rpc.is_rpc_secret(value):
        if secrets is None:
            return SECRET_PLACEHOLDER
        return plain(conceal_values(rpc.unwrap_rpc_secret(value), secrets), secrets)
    if isinstance(value, dict):
        return {k: plain(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v, secrets) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def secret_config(config: dict[str, str]) -> list[str]:
    """The values of the secret settings of `config` (as the engine hands config to the program,
    which has validated it), as `secret_settings` lists them."""
    return secret_settings(Settings.from_raw({key: decoded(value) for key, value in config.items()}))


def secret_settings(settings: Any) -> list[str]:
    """The value of every SecretStr setting in a settings model, longest first (a secret that
    holds another is concealed whole); the placeholder and empty values left out."""
    return sorted(set(_secret_values(settings)) - {"", SECRET_PLACEHOLDER}, key=lambda v: (-len(v), v))


def _secret_values(value: Any) -> Iterator[str]:
    if isinstance(value, SecretStr):
        yield value.get_secret_value()
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _secret_values(getattr(value, name))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _secret_values(item)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from _secret_values(item)


def forms(value: str) -> list[str]:
    """How `value` can stand inside a text: as is, JSON-escaped (`ensure_ascii` either way),
    between YAML single quotes and between YAML double quotes; longest first."""
    double = yaml.safe_dump(value, default_style='"', width=float("inf"), allow_unicode=True).strip()
    found = {
        value,
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
        value.replace("'", "''"),
        double[1:-1],
    }
    return sorted(found, key=lambda f: (-len(f), f))


def conceal(text: str, secrets: Collection[str]) -> str:
    """`text` with every form of every secret replaced by the placeholder, and each base64 run
    whose decoded text holds one re-encoded from that text concealed. A secret that is a whole
    YAML plain scalar (`key: value`, `- value`) becomes the quoted placeholder: `[secret]` bare
    would read as a list."""
    for secret in secrets:
        text = re.sub(rf"(?m)(?<=: |- ){re.escape(secret)}$", f"'{SECRET_PLACEHOLDER}'", text)
        for form in forms(secret):
            text = text.replace(form, SECRET_PLACEHOLDER)
    return _BASE64.sub(lambda match: _conceal_base64(match[0], secrets), text)


def _decoded(token: str) -> str | None:
    try:
        return base64.b64decode(token, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None


def _conceal_base64(token: str, secrets: Collection[str]) -> str:
    decoded = _decoded(token)
    if decoded is None:
        return token
    concealed = conceal(decoded, secrets)  # shorter than the token: the recursion ends
    return token if concealed == decoded else base64.b64encode(concealed.encode()).decode()


def shows(text: str, secrets: Collection[str]) -> bool:
    """Whether `text` still holds a secret: in one of its forms, or inside base64."""
    if any(form in text for secret in secrets for form in forms(secret)):
        return True
    return any(shows(d, secrets) for t in _BASE64.findall(text) if (d := _decoded(t)) is not None)


def same_document(text: str, concealed: str, secrets: Collection[str]) -> bool:
    """Whether `concealed` is the YAML (or JSON) document `text` is with each of its strings
    concealed: no secret left however the document wrote it (a scalar folded over two lines),
    and nothing else changed by concealing the text. True for a text that is no such document."""
    try:
        before = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        return True
    try:
        after = yaml.load(concealed, Loader=_LOADER)
    except yaml.YAMLError:
        return False
    return bool(after == _each_string_concealed(before, secrets))


def _each_string_concealed(value: Any, secrets: Collection[str]) -> Any:
    if isinstance(value, str):
        return conceal(value, secrets)
    if isinstance(value, dict):
        return {
            _each_string_concealed(k, secrets): _each_string_concealed(v, secrets) for k, v in value.items()
        }
    if isinstance(value, list):
        return [_each_string_concealed(v, secrets) for v in value]
    return value


def shown(text: str, secrets: Collection[str]) -> str:
    """`text` concealed, or the placeholder alone if concealing in place could not hide it all
    (or would change what the rest of the text says)."""
    if not secrets:
        return text
    concealed = conceal(text, secrets)
    if shows(concealed, secrets) or not same_document(text, concealed, secrets):
        return SECRET_PLACEHOLDER
    return concealed


def conceal_values(value: Any, secrets: Collection[str]) -> Any:
    """Every string in `value` (maps and lists walked, nested Pulumi secrets too) as `shown`."""
    if rpc.is_rpc_secret(value):
        return conceal_values(rpc.unwrap_rpc_secret(value), secrets)
    if isinstance(value, str):
        return shown(value, secrets)
    if isinstance(value, dict):
        return {k: conceal_values(v, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [conceal_values(v, secrets) for v in value]
    return value
