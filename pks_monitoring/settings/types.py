"""Field types every part's settings share: names Kubernetes accepts, Prometheus durations and
sizes, Kubernetes quantities, IPv4 networks; the model base; the one-line settings error."""

from __future__ import annotations

import ipaddress
import re
from decimal import Decimal
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pulumi
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator
from pydantic.alias_generators import to_camel

PROJECT = "pks-monitoring"
PROJECT_ROOT = Path(__file__).resolve().parents[2]

# What the offline render (no Pulumi CLI, so no decryption) passes for every `secure:` value.
SECRET_PLACEHOLDER = "[secret]"


class SettingsError(pulumi.RunError):
    """One line naming the config key and the fix; `pulumi up` prints it without a traceback."""

    def __init__(self, message: str) -> None:
        # One line whatever it quotes: a key or a file name may hold a newline.
        super().__init__("\\n".join(message.splitlines()))


class Model(BaseModel):
    # camelCase in YAML (what operators write), snake_case in Python; unknown keys are refused
    # so a typo never silently falls back to a default.
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True)

    @field_validator("*", mode="before")
    @classmethod
    def _no_bool_as_number(cls, value: Any, info: ValidationInfo) -> Any:
        # Pydantic takes `true` for 1 (YAML `replicas: true`, JSON true from the engine): a
        # slip, never a count or a port.
        if (
            isinstance(value, bool)
            and info.field_name
            and _numeric(cls.model_fields[info.field_name].annotation)
        ):
            raise ValueError(f"a number, not {str(value).lower()}")
        return value


def _numeric(annotation: Any) -> bool:
    """Whether a field's type is a number (int or float, optional or annotated)."""
    while get_origin(annotation) in (Union, UnionType, Annotated):
        annotation = next(a for a in get_args(annotation) if a is not type(None))
    return annotation in (int, float)


def undecrypted(value: SecretStr) -> bool:
    """A secret the offline render could not decrypt: its format is left to `pulumi preview`,
    which sees the real value (the render shows it as the placeholder anyway)."""
    return value.get_secret_value() == SECRET_PLACEHOLDER


def unique_names(names: list[str], what: str) -> None:
    """A ValueError naming the first name given twice among `names` (of `what`, plural)."""
    twice = next((n for n in names if names.count(n) > 1), None)
    if twice is not None:
        raise ValueError(f"two {what} are named {twice!r}; give each its own name")


# A DNS-1123 label: what Kubernetes accepts as a namespace or object name.
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
Dns1123Label = Annotated[str, Field(pattern=DNS1123_LABEL)]
# Names Kubernetes accepts for ConfigMaps, Secrets and hosts (DNS-1123 subdomains).
Dns1123Subdomain = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$",
        max_length=253,
    ),
]
# Label keys (`[prefix/]name`, the prefix a DNS subdomain) and values, as Kubernetes accepts them.
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LabelKey = Annotated[str, Field(pattern=rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")]
LabelValue = Annotated[str, Field(pattern=rf"^({_LABEL_NAME})?$")]

# The units of a Prometheus duration, largest first (each at most once, in this order), in
# milliseconds; a duration is a Go time.Duration, int64 nanoseconds: at most about 292 years.
PROMETHEUS_DURATION_UNITS = {
    "y": 365 * 86_400_000, "w": 7 * 86_400_000, "d": 86_400_000, "h": 3_600_000, "m": 60_000,
    "s": 1000, "ms": 1,
}  # fmt: skip
PROMETHEUS_DURATION_MAX_NS = 2**63 - 1


def prometheus_duration(value: str) -> str:
    """`value` if it is a Prometheus duration (30s, 1m, 1h30m), else a ValueError saying so."""
    # Prometheus' own parse (model.ParseDuration): <digits><unit> parts, largest unit first,
    # the sum within time.Duration. Zero (which it takes) is refused: no setting here means it.
    problem = ValueError(
        f"{value!r} is not a Prometheus duration; write a positive number with a unit, "
        "largest unit first: 30s, 1m, 1h30m (units: y w d h m s ms)"
    )
    units = list(PROMETHEUS_DURATION_UNITS)
    rest, last, total = value, -1, 0
    while rest:
        # As Go reads it: the digits, then everything up to the next digit is the unit.
        part = re.match(r"([0-9]*)([^0-9]*)", rest)
        assert part is not None  # both groups may be empty
        number, unit = part.groups()
        rest = rest[part.end() :]
        position = units.index(unit) if number and unit in units else -1
        if position <= last:
            raise problem
        # More than 19 digits overflows anyway (and int() refuses thousands of them).
        significant = number.lstrip("0") or "0"
        count = int(significant) if len(significant) <= 19 else PROMETHEUS_DURATION_MAX_NS
        last, total = position, total + count * PROMETHEUS_DURATION_UNITS[unit]
    if not total:
        raise problem
    if total * 1_000_000 > PROMETHEUS_DURATION_MAX_NS:
        raise ValueError(
            f"{value!r} is longer than a Prometheus duration holds (about 292 years, 292y); "
            "write a shorter one"
        )
    return value


# A Kubernetes quantity, unsigned: the pattern the prometheus-operator CRDs give quantities.
_QUANTITY = (
    r"(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[KMGTPE]i|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)|[numkMGTPE])?"
)
_DECIMAL_EXPONENT = {
    "n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18,
}  # fmt: skip
# spec.retentionSize of the v0.18.0 Prometheus CRD, anchored at both ends: the CRD's own pattern,
# `(^0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$`, has no `^` on its second branch and takes `x10GB`.
# Prometheus reads every unit as a power of 1024 (KB = KiB).
PROMETHEUS_SIZE = r"^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$"


def quantity_value(text: str) -> Decimal | None:
    """The Decimal value of a Kubernetes quantity (`500m` = 0.5, `2Gi` = 2147483648), None if
    `text` is not one."""
    match = re.fullmatch(_QUANTITY, text)
    if match is None:
        return None
    number, suffix = Decimal(match["number"]), match["suffix"] or ""
    if suffix.endswith("i"):
        return number * Decimal(1024) ** ("KMGTPE".index(suffix[0]) + 1)
    if suffix not in _DECIMAL_EXPONENT:  # an exponent, e.g. 5e3
        return number * Decimal(10) ** Decimal(suffix[1:])
    return number * Decimal(10) ** _DECIMAL_EXPONENT[suffix]


def quantity(value: Any, *, size: bool) -> Any:
    """`value` as the text of a positive quantity; `size`: of bytes (memory, a volume)."""
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)  # YAML `cpu: 2`
    example = "512Mi, 2Gi, 50Gi" if size else "500m, 2"
    amount = quantity_value(value) if isinstance(value, str) else None
    if amount is None:
        raise ValueError(f"{value!r} is not a Kubernetes quantity (e.g. {example})")
    if amount <= 0:
        raise ValueError(f"{value!r} is not positive (e.g. {example})")
    if size and value[-1] in "num":
        # Valid for the API server, and a classic slip: 500m of memory is half a byte.
        raise ValueError(
            f"{value!r} is a fraction of a byte (m, u, n are milli, micro, nano); "
            f"write a size such as {example}"
        )
    return value


def prometheus_size(value: str) -> str:
    """`value` if it is a Prometheus size (`40GB`), else a ValueError saying so."""
    if not re.fullmatch(PROMETHEUS_SIZE, value):
        raise ValueError(
            f"{value!r} is not a Prometheus size; write a number and one of B, KB, MB, GB, TB, "
            "PB, EB (or KiB, MiB...: Prometheus counts both in powers of 1024), e.g. 40GB"
        )
    return value


def prometheus_size_value(text: str) -> Decimal:
    """The Decimal number of bytes of a Prometheus size (`10GB` = `10GiB` = 10 * 1024**3)."""
    number = text.rstrip("KMGTPEiB")
    unit = text[len(number) :].rstrip("iB")
    return Decimal(number) * Decimal(1024) ** ("_KMGTPE".index(unit) if unit else 0)


def ipv4_network(cidr: str) -> str:
    """`cidr` as an IPv4 network (`10.0.0.0/24`; a bare address is a /32), or one line saying
    why not."""
    try:
        return str(ipaddress.IPv4Network(cidr))
    except ValueError as error:
        raise ValueError(f"{cidr!r} is not an IPv4 network ({error})") from None
