"""`nodeExporter`: node_exporter on the BOSH VMs: the port it listens on, the director-wide
runtime-config addon that puts it there (`addon`), and the VMs outside Kubernetes Prometheus
scrapes besides every node (the cluster's masters, `staticTargets`, `fileSdFiles`)."""

from __future__ import annotations

import ipaddress
import re
import socket
from pathlib import Path
from typing import Annotated, Any, Literal, Optional
from urllib.parse import urlsplit

from pydantic import BeforeValidator, Field, SecretStr, ValidationInfo, field_validator, model_validator

from pks_monitoring.settings.prometheus_syntax import file_sd_path
from pks_monitoring.settings.types import (
    PROJECT,
    PROJECT_ROOT,
    Dns1123Label,
    Dns1123Subdomain,
    Model,
    undecrypted,
)

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
    [
        "arp",
        "bcache",
        "bonding",
        "btrfs",
        "buddyinfo",
        "conntrack",
        "cpu",
        "cpufreq",
        "diskstats",
        "dmi",
        "drbd",
        "edac",
        "entropy",
        "ethtool",
        "fibrechannel",
        "filefd",
        "filesystem",
        "hwmon",
        "infiniband",
        "interrupts",
        "ipvs",
        "ksmd",
        "loadavg",
        "logind",
        "mdadm",
        "meminfo",
        "meminfo_numa",
        "mountstats",
        "netclass",
        "netdev",
        "netstat",
        "nfs",
        "nfsd",
        "ntp",
        "nvme",
        "os",
        "perf",
        "powersupplyclass",
        "pressure",
        "processes",
        "qdisc",
        "rapl",
        "runit",
        "schedstat",
        "selinux",
        "sockstat",
        "softnet",
        "stat",
        "supervisord",
        "systemd",
        "tapestats",
        "tcpstat",
        "textfile",
        "thermal_zone",
        "time",
        "timex",
        "udp_queues",
        "uname",
        "vmstat",
        "wifi",
        "xfs",
        "zfs",
    ]
)


def no_director_variable(value: Any) -> Any:
    """`value`, unless it is a string holding `((` or `))`.

    The director interpolates `((name))` in the runtime config from its config server (CredHub)
    before it uses the config: a release url with `((/p-bosh/...))` in it would send a director
    secret to whoever serves that url. Checked before any other rule, so this is the message."""
    if isinstance(value, str) and ("((" in value or "))" in value):
        raise ValueError(
            "holds `((` or `))`, which the director would replace with a CredHub variable "
            "(a director secret) before using the runtime config; remove them"
        )
    return value


# Every free-form string of these settings that reaches the runtime config (or the bosh command);
# collectors and stemcells are closed lists.
RuntimeConfigStr = Annotated[str, BeforeValidator(no_director_variable)]
# BOSH names (deployments, configs): no whitespace, quotes or shell syntax, so nothing an
# operator types can look like more than one word anywhere it is shown or pasted.
BOSH_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"
BoshName = Annotated[RuntimeConfigStr, Field(pattern=BOSH_NAME)]
# Host names that always mean this machine (RFC 6761): on the director, the director itself.
LOCAL_HOST_NAMES = re.compile(r"(.+\.)?localhost", re.IGNORECASE)


def _ip_literal(host: str) -> Optional[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    """The address `host` spells, in any form a resolver takes as one (`[::1]`, `127.1`,
    `0x7f000001`, `2130706433`), or None for a host name."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        try:  # inet_aton: the legacy IPv4 spellings getaddrinfo accepts too
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):  # not one, or not ASCII / a NUL: no address either
            return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def release_url(value: str) -> str:
    """`value` if the director may download a release from it: https, to a host that is not
    the director itself (loopback, unspecified) nor its link-local neighbours (169.254/16, where
    clouds serve instance metadata and credentials; fe80::/10). Host names are taken as written:
    what a name resolves to on the director is not known here."""
    if not re.fullmatch(r"https://\S+", value):
        raise ValueError(
            "not an https:// URL; the director downloads the release from it, so give the "
            "tarball's https URL (no spaces)"
        )
    try:
        host = (urlsplit(value).hostname or "").rstrip(".")
    except ValueError:  # an unclosed `[` of an IPv6 address
        host = ""
    if not host:
        raise ValueError("names no host the director could download from; give the tarball's https URL")
    address = _ip_literal(host)
    local = LOCAL_HOST_NAMES.fullmatch(host) or (
        address is not None and (address.is_loopback or address.is_link_local or address.is_unspecified)
    )
    if local:
        raise ValueError(
            f"host {host!r} is the director itself or its link-local network (where cloud "
            "metadata and credentials are served); give the tarball's public or mirror https URL"
        )
    return value


PEM_CERTIFICATE = "-----BEGIN CERTIFICATE-----"
ADDON_KEY = f"{PROJECT}:nodeExporter.addon"


class BoshReleaseSettings(Model):
    # semver-like, as BOSH release versions are (`5.8.0`, `12`, `1.2.0+dev.3`); never `latest`,
    # which a runtime config with a url cannot resolve.
    version: RuntimeConfigStr = Field(
        default=NODE_EXPORTER_RELEASE["version"],
        pattern=r"^\d+(\.\d+){0,2}([-+][0-9A-Za-z.-]+)?$",
    )
    url: RuntimeConfigStr = NODE_EXPORTER_RELEASE["url"]
    # What the director checks the tarball against: `sha256:<hex>` (BOSH multi-digest; what the
    # README asks for) or a bare SHA-1 (the built-in 5.8.0 pin).
    sha1: RuntimeConfigStr = Field(
        default=NODE_EXPORTER_RELEASE["sha1"], pattern=r"^([0-9a-f]{40}|sha256:[0-9a-f]{64})$"
    )

    @field_validator("url")
    @classmethod
    def _release_url(cls, value: str) -> str:
        return release_url(value)

    @model_validator(mode="after")
    def _all_or_nothing(self) -> BoshReleaseSettings:
        # A new version with the default url or digest would make the director fetch the wrong
        # tarball or fail its check: the three describe one tarball and change together.
        given = self.model_fields_set
        if given and given != {"version", "url", "sha1"}:
            missing = ", ".join(sorted({"version", "url", "sha1"} - given))
            raise ValueError(
                f"version, url and sha1 describe one tarball: set them together (missing: {missing})"
            )
        return self


class BoshCredentials(Model):
    """What the `bosh` CLI reads from BOSH_ENVIRONMENT, BOSH_CLIENT, BOSH_CLIENT_SECRET,
    BOSH_CA_CERT."""

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
        if value is None or undecrypted(value):
            return value
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


class AddonSettings(Model):
    """node_exporter on every BOSH VM through a director-wide runtime config. Opt-in: exactly one
    stack per director should own it."""

    enabled: bool = False
    config_name: BoshName = "node-exporter"
    release: BoshReleaseSettings = BoshReleaseSettings()
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
    def _credentials_when_enabled(self) -> AddonSettings:
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
                        f"`pulumi config set {secret}--path {ADDON_KEY}.bosh.{alias} <value>`"
                    )
        return self


class VmTarget(Model):
    name: Dns1123Label  # becomes the `instance` label, as a node name does
    address: str = Field(pattern=r"^[A-Za-z0-9.-]+$")  # IPv4 address or host name, no port


# What TKGI names each master VM in BOSH DNS: kubo-release's kubo-dns-aliases job (on every VM
# of a cluster's deployment) aliases `<instance group>-<index>.<etcd.dns_suffix>` to that one
# instance's address, and TKGI's suffix is etcd.cfcr.internal (`master-0.etcd.cfcr.internal`,
# which TKGI documents for Prometheus DNS-based discovery of control plane nodes).
TKGI_MASTER_DNS_SUFFIX = "etcd.cfcr.internal"
MASTERS_KEY = f"{PROJECT}:nodeExporter.masters"


class MastersSettings(Model):
    """The cluster's master VMs, which TKGI does not make Kubernetes nodes: node discovery never
    sees them, so they are scraped by their per-VM BOSH DNS names, `instance` = `master-<index>`.

    Host-name targets rather than dns_sd: Prometheus resolves them on every scrape, so a master
    whose name stops resolving stays a target with `up` 0 (counted by upstream's TargetDown)
    instead of leaving the target list silently, as a DNS-SD target does on NXDOMAIN."""

    count: int = Field(default=0, ge=0)  # the plan's master/etcd instances; 0: masters not scraped
    dns_suffix: Dns1123Subdomain = TKGI_MASTER_DNS_SUFFIX

    @model_validator(mode="after")
    def _suffix_needs_count(self) -> MastersSettings:
        if "dns_suffix" in self.model_fields_set and not self.count:
            raise ValueError(
                "dnsSuffix is set but count is 0, so no master is scraped; set count to the "
                f"number of master VMs (`pulumi config set --path {MASTERS_KEY}.count 3`)"
            )
        return self

    def targets(self) -> list[VmTarget]:
        return [
            VmTarget(name=f"master-{index}", address=f"master-{index}.{self.dns_suffix}")
            for index in range(self.count)
        ]


class NodeExporterSettings(Model):
    # The port of the director-wide addon's node_exporter, whichever stack owns the addon.
    port: int = Field(default=9100, ge=1, le=65535)
    addon: AddonSettings = AddonSettings()
    # Where Prometheus finds node_exporter besides every Kubernetes node (`masters` before
    # `staticTargets`: the targets' names are checked against the masters').
    masters: MastersSettings = MastersSettings()
    static_targets: list[VmTarget] = []  # VMs outside Kubernetes (the PKS/TKGI API VM...)
    file_sd_files: list[str] = []  # file_sd files inside the Prometheus pod

    @field_validator("static_targets")
    @classmethod
    def _not_a_master(cls, value: list[VmTarget], info: ValidationInfo) -> list[VmTarget]:
        # Two targets with one `instance` would write the same series.
        masters = info.data.get("masters")
        taken = {t.name for t in masters.targets()} if masters else set()
        for index, target in enumerate(value):
            if target.name in taken:
                raise ValueError(
                    f"[{index}].name {target.name!r} is also the instance of a master "
                    "(masters.count); masters are scraped already, so remove the entry or rename it"
                )
            first = next(i for i, t in enumerate(value) if t.name == target.name)
            if first < index:
                raise ValueError(
                    f"[{index}].name {target.name!r} is also the name of [{first}]: both VMs would "
                    "be one instance; give each VM its own name"
                )
        return value

    @field_validator("file_sd_files")
    @classmethod
    def _file_sd_paths(cls, value: list[str]) -> list[str]:
        # Prometheus refuses the whole config for one such path: the operator keeps the old one.
        for index, path in enumerate(value):
            try:
                file_sd_path(path)
            except ValueError as error:
                raise ValueError(f"[{index}]: {error}") from None
        return value

    def vm_targets(self) -> list[VmTarget]:
        """Every VM outside Kubernetes scraped by name: the masters, then `staticTargets`."""
        return [*self.masters.targets(), *self.static_targets]
