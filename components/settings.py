"""The one settings model: every config key of the stack, its type, default and validation.

Config is read once, at the edge (`Settings.from_pulumi_config`), into typed objects that the
components trust. A bad value becomes one `SettingsError` line naming the config key and the fix,
raised before any resource is registered.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Optional

import pulumi
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

PROJECT = "pks-monitoring"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
MANIFESTS_ENV = "KUBE_PROMETHEUS_MANIFESTS"

# A DNS-1123 label: what Kubernetes accepts as a namespace or object name.
DNS1123_LABEL = r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"
Dns1123Label = Annotated[str, Field(pattern=DNS1123_LABEL)]


class SettingsError(pulumi.RunError):
    """One line naming the config key and the fix; `pulumi up` prints it without a traceback."""


class _Model(BaseModel):
    # camelCase in YAML (what operators write), snake_case in Python; unknown keys are refused
    # so a typo never silently falls back to a default.
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", frozen=True
    )


class KubePrometheusSettings(_Model):
    manifests: Path = Field(
        default=Path("kube-prometheus/manifests"),
        description="kube-prometheus manifests/ directory (relative to the project root); "
        f"the {MANIFESTS_ENV} environment variable overrides it",
    )
    namespace: Dns1123Label = "monitoring"

    def manifests_dir(self) -> Path:
        path = Path(os.environ.get(MANIFESTS_ENV) or self.manifests).expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path


class ReplicaSettings(_Model):
    replicas: int = Field(default=1, ge=1, le=10)


class ProviderSettings(_Model):
    """How the explicit Kubernetes provider treats objects that already exist in the cluster."""

    # Adopting a cluster set up by hand with kubectl: pulumi-kubernetes >= 4.29 refuses to create
    # an object that already exists unless told to upsert it.
    upsert_existing_objects: bool = False
    # Take over fields another field manager (kubectl) owns instead of failing on the conflict.
    enable_patch_force: bool = False


class KubernetesTarget(_Model):
    """Read from the `kubernetes:` namespace, which operators already set for the cluster."""

    context: Optional[str] = Field(default=None, min_length=1)
    kubeconfig: Optional[SecretStr] = None


# --- node_exporter as a BOSH addon (components/node_exporter_addon.py) --------------------------

NODE_EXPORTER_RELEASE = {
    "version": "5.8.0",
    "url": "https://github.com/cloudfoundry/node-exporter-boshrelease/releases/download/v5.8.0/"
    "node-exporter-5.8.0.tgz",
    "sha1": "fe95651a07029512516061113d4ff92c114ae58a",
}
STEMCELL_OS = Literal["ubuntu-xenial", "ubuntu-jammy", "ubuntu-bionic", "ubuntu-noble", "windows2019"]
# The collectors the job's bin/node_exporter_ctl.erb turns into --[no-]collector.<name> from the
# property node_exporter.collector.<name>.enabled (cloudfoundry/node-exporter-boshrelease). A name
# outside this list would be accepted by the director and silently ignored by the job.
NODE_EXPORTER_COLLECTORS = frozenset(
    "arp bcache bonding btrfs buddyinfo conntrack cpu cpufreq diskstats dmi drbd edac entropy "
    "ethtool fibrechannel filefd filesystem hwmon infiniband interrupts ipvs ksmd loadavg logind "
    "mdadm meminfo meminfo_numa mountstats netclass netdev netstat nfs nfsd ntp nvme os perf "
    "powersupplyclass pressure processes qdisc rapl runit schedstat selinux sockstat softnet stat "
    "supervisord systemd tapestats tcpstat textfile thermal_zone time timex udp_queues uname "
    "vmstat wifi xfs zfs".split()
)
# BOSH names (deployments, configs): no whitespace, quotes or shell syntax, so nothing an
# operator types can look like more than one word anywhere it is shown or pasted.
BOSH_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
BoshName = Annotated[str, Field(pattern=BOSH_NAME)]
PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"


class BoshReleaseSettings(_Model):
    # semver-like, as BOSH release versions are (`5.8.0`, `12`, `1.2.0+dev.3`); never `latest`,
    # which a runtime config with a url cannot resolve.
    version: str = Field(
        default=NODE_EXPORTER_RELEASE["version"], pattern=r"^\d+(\.\d+){0,2}([-+][0-9A-Za-z.-]+)?$"
    )
    url: str = Field(default=NODE_EXPORTER_RELEASE["url"], pattern=r"^https?://\S+$")
    # What the director checks the tarball against: a SHA-1, or `sha256:<hex>` (multi-digest).
    sha1: str = Field(
        default=NODE_EXPORTER_RELEASE["sha1"], pattern=r"^([0-9a-f]{40}|sha256:[0-9a-f]{64})$"
    )

    @model_validator(mode="after")
    def _all_or_nothing(self) -> "BoshReleaseSettings":
        # A new version with the default url or digest would make the director fetch the wrong
        # tarball or fail its check: the three describe one tarball and change together.
        given = self.model_fields_set
        if given and given != {"version", "url", "sha1"}:
            missing = ", ".join(sorted({"version", "url", "sha1"} - given))
            raise ValueError(
                f"version, url and sha1 describe one tarball: set them together (missing: {missing})"
            )
        return self


class BoshCredentials(_Model):
    """What the `bosh` CLI reads from BOSH_ENVIRONMENT, BOSH_CLIENT, BOSH_CLIENT_SECRET, BOSH_CA_CERT."""

    environment: Optional[str] = Field(default=None, min_length=1)
    client: Optional[str] = Field(default=None, min_length=1)
    client_secret: Optional[SecretStr] = None
    # PEM text or the path of a file holding it (the CLI accepts both); a relative path is
    # resolved against the project root and passed on absolute.
    ca_cert: Optional[SecretStr] = None

    @field_validator("client_secret")
    @classmethod
    def _not_empty(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is not None and not value.get_secret_value():
            raise ValueError("empty; set it with `pulumi config set --secret --path ...`")
        return value

    @field_validator("ca_cert")
    @classmethod
    def _pem_or_file(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        # Never echo the value in a message: it is secret config.
        if value is None:
            return None
        text = value.get_secret_value()
        if PEM_CERTIFICATE in text:
            return value
        path = None
        if text and "\n" not in text and len(text) < 4096:
            path = Path(text).expanduser()
            path = path if path.is_absolute() else PROJECT_ROOT / path
        if path is None or not path.is_file():
            raise ValueError(
                f"neither a PEM certificate ({PEM_CERTIFICATE}) nor an existing file; "
                "set the director's CA certificate or the path of a file holding it"
            )
        if PEM_CERTIFICATE not in path.read_text(errors="replace"):
            raise ValueError(f"the file it names holds no PEM certificate ({PEM_CERTIFICATE})")
        return SecretStr(str(path))


class NodeExporterAddonSettings(_Model):
    """node_exporter on every BOSH VM through a director-wide runtime config. Opt-in: exactly one
    stack per director should own it."""

    enabled: bool = False
    config_name: BoshName = "node-exporter"
    release: BoshReleaseSettings = BoshReleaseSettings()
    port: int = Field(default=9100, ge=1, le=65535)
    # Collector name -> enabled (node_exporter.collector.<name>.enabled); a list enables names.
    collectors: dict[str, bool] = {}
    stemcells: list[STEMCELL_OS] = Field(default=["ubuntu-xenial", "ubuntu-jammy"], min_length=1)
    include_deployments: Optional[list[BoshName]] = None
    exclude_deployments: Optional[list[BoshName]] = None
    # The runtime config is shared by every cluster on the director: destroying this stack
    # leaves it in place unless this says otherwise.
    delete_on_destroy: bool = False
    # Run `tkgi upgrade-cluster` for this stack's cluster after a change (else: rolloutCommand).
    rollout: bool = False
    bosh: BoshCredentials = BoshCredentials()

    @field_validator("collectors", mode="before")
    @classmethod
    def _list_enables(cls, value: Any) -> Any:
        return {name: True for name in value} if isinstance(value, list) else value

    @field_validator("collectors")
    @classmethod
    def _known_collectors(cls, value: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(value) - NODE_EXPORTER_COLLECTORS)
        if unknown:
            raise ValueError(
                f"unknown collector {unknown[0]!r}; the node_exporter job knows: "
                + ", ".join(sorted(NODE_EXPORTER_COLLECTORS))
            )
        return value

    @field_validator("stemcells")
    @classmethod
    def _linux_only(cls, value: list[str]) -> list[str]:
        # A known stemcell, but the node-exporter release ships Linux binaries and scripts only:
        # on a Windows VM its package fails to compile and takes the deploy down with it.
        if "windows2019" in value:
            raise ValueError(
                "windows2019: the node-exporter release is Linux-only; "
                "list only ubuntu-* stemcells (Windows workers are left without the addon)"
            )
        return value

    @field_validator("include_deployments")
    @classmethod
    def _include_something(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value is not None and not value:
            raise ValueError(
                "an empty list includes no deployment; remove the key to include every deployment"
            )
        return value

    @model_validator(mode="after")
    def _credentials_when_enabled(self) -> "NodeExporterAddonSettings":
        if self.enabled:
            for field, alias, secret in (
                ("environment", "environment", ""),
                ("client", "client", ""),
                ("client_secret", "clientSecret", "--secret "),
                ("ca_cert", "caCert", "--secret "),
            ):
                if getattr(self.bosh, field) is None:
                    raise ValueError(
                        f"bosh.{alias} is required when enabled is true; set it with "
                        f"`pulumi config set {secret}--path "
                        f"{PROJECT}:nodeExporterAddon.bosh.{alias} <value>`"
                    )
        return self


class VmTarget(_Model):
    name: Dns1123Label  # becomes the `instance` label, as a node name does
    address: str = Field(pattern=r"^[A-Za-z0-9.-]+$")  # IPv4 address or host name, no port


class NodeScrapeSettings(_Model):
    """Where Prometheus finds node_exporter besides every Kubernetes node (its port is
    nodeExporterAddon.port, the director-wide addon's, whichever stack owns the addon)."""

    static_targets: list[VmTarget] = []  # VMs outside Kubernetes (the PKS/TKGI API VM...)
    file_sd_files: list[str] = []  # file_sd files inside the Prometheus pod


class Settings(_Model):
    cluster: Dns1123Label
    # The platform patch set (transformations.PLATFORM_PATCHES): `pks` drops the monitors and
    # alerts of the control plane that PKS/TKGI runs on BOSH masters, out of Prometheus' reach.
    platform: Literal["pks", "upstream"] = "pks"
    node_scrape: NodeScrapeSettings = NodeScrapeSettings()
    kube_prometheus: KubePrometheusSettings = KubePrometheusSettings()
    prometheus: ReplicaSettings = ReplicaSettings()
    alertmanager: ReplicaSettings = ReplicaSettings()
    provider: ProviderSettings = ProviderSettings()
    kubernetes: KubernetesTarget = KubernetesTarget()
    node_exporter_addon: NodeExporterAddonSettings = NodeExporterAddonSettings()

    @field_validator("kubernetes")
    @classmethod
    def _one_target(cls, value: KubernetesTarget) -> KubernetesTarget:
        if value.context is None and value.kubeconfig is None:
            raise ValueError(
                "no cluster to deploy to: set kubernetes:context "
                "(`pulumi config set kubernetes:context <cluster>` after `tkgi get-credentials`) "
                "or kubernetes:kubeconfig as a secret"
            )
        return value

    @classmethod
    def from_pulumi_config(cls) -> "Settings":
        """Validate the stack's config; raises SettingsError with one line on bad input."""
        return cls.from_raw(_raw_config())

    @classmethod
    def from_raw(cls, raw: dict[str, Any]) -> "Settings":
        """`raw` maps full config keys (`pks-monitoring:cluster`) to their values."""
        data: dict[str, Any] = {}
        target: dict[str, Any] = {}
        for key, value in raw.items():
            namespace, _, name = key.partition(":")
            if namespace == PROJECT:
                data[name] = value
            elif key in ("kubernetes:context", "kubernetes:kubeconfig"):
                target[name] = value
        data["kubernetes"] = target
        unknown = sorted(set(data) - {f.alias or n for n, f in cls.model_fields.items()})
        if unknown:
            key = f"{PROJECT}:{unknown[0]}"
            raise SettingsError(
                f"{key}: unknown config key; remove it (`pulumi config rm {key}`) "
                f"or fix its spelling (known keys: {', '.join(_known_keys())})"
            )
        try:
            settings = cls.model_validate(data)
        except ValidationError as error:
            raise SettingsError(_one_line(error)) from None
        settings.check_paths()
        return settings

    def check_paths(self) -> None:
        manifests = self.kube_prometheus.manifests_dir()
        if not manifests.is_dir():
            raise SettingsError(
                f"{PROJECT}:kubePrometheus.manifests: {manifests} is not a directory; "
                "fetch the pinned kube-prometheus tag (see README) and point this key "
                f"(or {MANIFESTS_ENV}) at its manifests/ directory"
            )


def _known_keys() -> list[str]:
    return sorted(f.alias or n for n, f in Settings.model_fields.items() if n != "kubernetes")


def _config_key(loc: tuple) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] == "kubernetes":
        return "kubernetes:" + ".".join(parts[1:]) if len(parts) > 1 else "kubernetes"
    head, rest = (parts[0], parts[1:]) if parts else ("", [])
    path = head + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in rest)
    return f"{PROJECT}:{path}"


def _one_line(error: ValidationError) -> str:
    first = error.errors(include_url=False)[0]
    key = _config_key(first["loc"])
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = "unknown key; remove it or fix its spelling"
    elif first["type"] == "missing":
        message = "required; set it with `pulumi config set`"
    elif "input" in first and first["type"] not in ("value_error",):
        shown = first["input"]
        if not isinstance(shown, (dict, list)) and "secret" not in key.lower():
            message += f" (got {shown!r})"
    if first["type"] == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{key}: {message}"


def _raw_config() -> dict[str, Any]:
    """Every config key the engine (or the mock engine) passed to the program, JSON decoded."""
    from pulumi.runtime import config as runtime_config

    keys = set(runtime_config.CONFIG.get()) | set(runtime_config.get_config_env())
    raw: dict[str, Any] = {}
    for key in sorted(keys):
        value = runtime_config.get_config(key)
        # Structured values (objects, lists) arrive as JSON text; scalars stay the strings they
        # are, so a cluster named "123" is not turned into a number.
        if isinstance(value, str) and value.lstrip()[:1] in ("{", "["):
            try:
                value = json.loads(value)
            except ValueError:
                pass  # not JSON after all: validation reports the key with its type
        raw[key] = value
    return raw

