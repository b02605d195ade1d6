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


# What the offline render (no Pulumi CLI, so no decryption) passes for every `secure:` value.
SECRET_PLACEHOLDER = "[secret]"


def _undecrypted(value: SecretStr) -> bool:
    """A secret the offline render could not decrypt: its format is left to `pulumi preview`,
    which sees the real value (the render shows it as the placeholder anyway)."""
    return value.get_secret_value() == SECRET_PLACEHOLDER


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
        if value is None or _undecrypted(value):
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


# --- monitored applications (components/app_monitor.py, components/demo_app.py) ----------------

# Names Kubernetes accepts for ConfigMaps, Secrets and hosts (DNS-1123 subdomains).
Dns1123Subdomain = Annotated[
    str,
    Field(pattern=r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$", max_length=253),
]
# Label keys (`[prefix/]name`, the prefix a DNS subdomain) and values, as Kubernetes accepts them.
_LABEL_NAME = r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?"
LabelKey = Annotated[str, Field(pattern=rf"^([a-z0-9]([-a-z0-9.]{{0,251}}[a-z0-9])?/)?{_LABEL_NAME}$")]
LabelValue = Annotated[str, Field(pattern=rf"^({_LABEL_NAME})?$")]
# The units of a Prometheus duration, largest first: each at most once, in this order.
PROMETHEUS_DURATION_UNITS = ("y", "w", "d", "h", "m", "s", "ms")


def prometheus_duration(value: str) -> str:
    """`value` if it is a Prometheus duration (30s, 1m, 1h30m), else a ValueError saying so."""
    # Prometheus' own syntax (model.ParseDuration): <number><unit> parts, largest unit first.
    problem = ValueError(
        f"{value!r} is not a Prometheus duration; write a positive number with a unit, "
        "largest unit first: 30s, 1m, 1h30m (units: y w d h m s ms)"
    )
    units = PROMETHEUS_DURATION_UNITS
    rest, last, total = value, -1, 0
    while rest:
        digits = len(rest) - len(rest.lstrip("0123456789"))
        number, rest = rest[:digits], rest[digits:]
        unit = "ms" if rest.startswith("ms") else rest[:1]
        rest = rest[len(unit):]
        position = units.index(unit) if number and unit in units else -1
        if position <= last:
            raise problem
        last, total = position, total + int(number)
    if not total:
        raise problem
    return value


class KeyReference(_Model):
    """A key of a ConfigMap or Secret in the app's namespace (prometheus-operator reads it)."""

    name: Dns1123Subdomain
    key: str = Field(pattern=r"^[-._a-zA-Z0-9]+$")


class TlsCaSettings(_Model):
    """The CA Prometheus verifies the app's certificate with."""

    config_map: Optional[KeyReference] = None
    secret: Optional[KeyReference] = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "TlsCaSettings":
        if (self.config_map is None) == (self.secret is None):
            raise ValueError("give exactly one of configMap or secret (a {name, key} reference)")
        return self


class AppTlsSettings(_Model):
    """The ServiceMonitor endpoint's tlsConfig (scheme https)."""

    insecure_skip_verify: bool = False
    server_name: Optional[Dns1123Subdomain] = None
    ca: Optional[TlsCaSettings] = None


class AppNamespaceSelector(_Model):
    """The namespaces Prometheus discovers the app's Services in; each gets the Role and
    RoleBinding that let Prometheus do so."""

    match_names: list[Dns1123Label] = Field(min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _no_any(cls, data: Any) -> Any:
        if isinstance(data, dict) and "any" in data:
            raise ValueError(
                "any: Prometheus would need read access in every namespace; "
                "list the app's namespaces in matchNames instead"
            )
        return data

    @field_validator("match_names")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("a namespace is listed twice; list each once")
        return value


class AppSettings(_Model):
    """One application Prometheus scrapes through a ServiceMonitor (components/app_monitor.py)."""

    name: Dns1123Label  # the ServiceMonitor's name; unique among the apps of a stack
    namespace: Dns1123Label  # the app's: its ServiceMonitor, Role and RoleBinding live there
    selector: dict[LabelKey, LabelValue]  # labels of the app's Service (matchLabels)
    port: Dns1123Label  # the NAME of the Service port (spec.ports[].name)
    path: str = Field(default="/actuator/prometheus", pattern=r"^/\S*$")
    interval: str = "30s"
    scheme: Literal["http", "https"] = "http"
    tls_config: Optional[AppTlsSettings] = None
    namespace_selector: Optional[AppNamespaceSelector] = None  # default: the app's namespace

    @field_validator("port", mode="before")
    @classmethod
    def _port_name(cls, value: Any) -> Any:
        # A number is ambiguous (the Service port or the container port behind it?); ServiceMonitor
        # endpoints name the Service port, which is also what survives a port renumbering.
        number = isinstance(value, int) and not isinstance(value, bool)
        if number or (isinstance(value, str) and value.isdigit()):
            raise ValueError(
                f"{value} is a port number; a ServiceMonitor selects the Service port by its name "
                "(spec.ports[].name, e.g. http): give that name, naming the port in the Service first"
            )
        return value

    @field_validator("selector")
    @classmethod
    def _selects_something(cls, value: dict[str, str]) -> dict[str, str]:
        if not value:
            raise ValueError(
                "empty: it would select every Service in the namespace; give the labels of the "
                "app's Service, e.g. {app: hello-pks}"
            )
        return value

    @field_validator("interval")
    @classmethod
    def _interval(cls, value: str) -> str:
        return prometheus_duration(value)

    @model_validator(mode="after")
    def _tls_over_https(self) -> "AppSettings":
        if self.tls_config is not None and self.scheme != "https":
            raise ValueError("tlsConfig applies to scheme https only; set scheme: https or remove it")
        return self


class DemoAppSettings(_Model):
    """making/hello-pks in namespace `hello`, monitored (components/demo_app.py)."""

    enabled: bool = False


# --- Grafana access (components/grafana_access.py) -----------------------------------------------


class GrafanaIngressController(_Model):
    """Where the Ingress controller's connections to Grafana come from: what Grafana's
    NetworkPolicy admits besides Prometheus."""

    # Controller pods in the cluster (ingress-nginx, Contour...): their namespace and pod labels.
    namespace: Optional[Dns1123Label] = None
    pod_labels: dict[LabelKey, LabelValue] = {}
    # A controller outside the pod network (TKGI's NSX-T load balancer, a controller on the host
    # network): the IPv4 ranges its connections come from.
    cidrs: list[str] = []

    @field_validator("cidrs")
    @classmethod
    def _ipv4_networks(cls, value: list[str]) -> list[str]:
        return [_ipv4_network(cidr) for cidr in value]

    @model_validator(mode="after")
    def _names_the_controller(self) -> "GrafanaIngressController":
        if (self.namespace is None) != (not self.pod_labels):
            raise ValueError(
                "namespace and podLabels go together: the controller pods' namespace and their "
                "labels (a namespace alone would admit every pod in it)"
            )
        if self.namespace is None and not self.cidrs:
            raise ValueError(
                "name the controller: namespace and podLabels of its pods, or the cidrs its "
                "connections come from"
            )
        return self


class GrafanaExposeSettings(_Model):
    """How Grafana is reached from outside the cluster (`none`: `kubectl port-forward` only)."""

    type: Literal["none", "NodePort", "LoadBalancer", "Ingress"] = "none"
    # Within the API server's default --service-node-port-range; unset: the cluster picks one.
    node_port: Optional[int] = Field(default=None, ge=30000, le=32767)
    load_balancer_source_ranges: list[str] = []
    host: Optional[Dns1123Subdomain] = None
    tls_secret_name: Optional[Dns1123Subdomain] = None
    ingress_class_name: Optional[Dns1123Subdomain] = None
    annotations: dict[str, str] = {}  # of the exposing object: the Service or the Ingress
    ingress_controller: Optional[GrafanaIngressController] = None

    @field_validator("load_balancer_source_ranges")
    @classmethod
    def _ipv4_networks(cls, value: list[str]) -> list[str]:
        return [_ipv4_network(cidr) for cidr in value]

    @field_validator("host")
    @classmethod
    def _not_an_address(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and all(label.isdigit() for label in value.split(".")):
            raise ValueError(f"{value} is an IP address; an Ingress rule needs a DNS name")
        return value

    @model_validator(mode="after")
    def _fits_the_type(self) -> "GrafanaExposeSettings":
        if self.type == "Ingress" and self.host is None:
            raise ValueError(
                "host is required when type is Ingress; set it with "
                f"`pulumi config set --path {PROJECT}:grafana.expose.host grafana.example.com`"
            )
        if self.type == "Ingress" and self.ingress_controller is None:
            raise ValueError(
                "ingressController is required when type is Ingress: the namespace and podLabels "
                "of the controller pods, or the cidrs its connections come from (Grafana's "
                "NetworkPolicy admits those and nothing else)"
            )
        # An option of another type would be ignored without a word: refuse it instead.
        allowed = {
            "none": set(),
            "NodePort": {"node_port", "annotations"},
            "LoadBalancer": {"node_port", "load_balancer_source_ranges", "annotations"},
            "Ingress": {"host", "tls_secret_name", "ingress_class_name", "annotations", "ingress_controller"},
        }[self.type]
        given = {f for f in type(self).model_fields if f != "type" and getattr(self, f) not in (None, [], {})}
        stray = sorted(given - allowed)
        if stray:
            raise ValueError(
                f"{to_camel(stray[0])} does not apply to type {self.type}; remove it or change the type"
            )
        return self


class GrafanaSettings(_Model):
    """Grafana's admin login and how it is reached (components/grafana_access.py)."""

    admin_user: str = Field(default="admin", pattern=r"^\S+$")
    # Optional in the model, required by the program (grafana_access.GrafanaAccessArgs): Grafana
    # would otherwise start with admin/admin.
    admin_password: Optional[SecretStr] = None
    expose: GrafanaExposeSettings = GrafanaExposeSettings()

    @field_validator("admin_password")
    @classmethod
    def _not_a_default(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        # Never echo the value: it is secret config.
        if value is not None and value.get_secret_value() in ("", "admin"):
            raise ValueError(
                "empty or Grafana's well-known default; set another with "
                f"`pulumi config set --secret --path {PROJECT}:grafana.adminPassword <password>`"
            )
        return value


def _ipv4_network(cidr: str) -> str:
    """`cidr` as an IPv4 network (`10.0.0.0/24`; a bare address is a /32), or one line saying why not."""
    import ipaddress

    try:
        return str(ipaddress.IPv4Network(cidr))
    except ValueError as error:
        raise ValueError(f"{cidr!r} is not an IPv4 network ({error})") from None


class AppAlertSettings(_Model):
    """The alerts on the monitored apps (components/app_alerts.py): when each fires, and how
    long its condition must hold first (the `...For` durations)."""

    enabled: bool = True
    heap_usage_ratio: float = Field(default=0.9, gt=0, le=1)  # heap used / heap max
    # to_camel would spell these `http5Xx...`: the aliases keep the keys as operators write them.
    http5xx_ratio: float = Field(default=0.05, gt=0, le=1, alias="http5xxRatio")
    # Requests per second below which an app's 5xx ratio is not judged (2 failures out of 3
    # requests are no outage); 0 judges every app.
    http5xx_min_request_rate: float = Field(
        default=0.1, ge=0, allow_inf_nan=False, alias="http5xxMinRequestRate"
    )
    gc_pause_seconds: float = Field(default=0.5, gt=0, allow_inf_nan=False)
    # Look-back of the 5xx ratio and of the longest GC pause: a few of the apps' scrape intervals.
    window: str = "5m"
    target_down_for: str = "5m"
    heap_usage_for: str = "15m"
    http5xx_for: str = Field(default="5m", alias="http5xxFor")
    gc_pause_for: str = "10m"

    @field_validator("window", "target_down_for", "heap_usage_for", "http5xx_for", "gc_pause_for")
    @classmethod
    def _prometheus_duration(cls, value: str) -> str:
        return prometheus_duration(value)  # the same syntax as an app's interval


# --- Alertmanager routing (components/alertmanager_config.py) ------------------------------------

# What each receiver type takes besides name, type and sendResolved (Python names): required,
# optional. A setting of another type would be ignored by Alertmanager's config without a word.
ALERT_RECEIVER_FIELDS: dict[str, tuple[frozenset[str], frozenset[str]]] = {
    "slack": (frozenset({"api_url"}), frozenset({"channel"})),
    "webhook": (frozenset({"url"}), frozenset()),
    "email": (
        frozenset({"to", "from_", "smarthost"}),
        frozenset({"auth_username", "auth_password", "require_tls"}),
    ),
    "pagerduty": (frozenset(), frozenset({"routing_key", "service_key"})),  # exactly one of them
}
ALERT_RECEIVER_SECRETS = ("api_url", "url", "auth_password", "routing_key", "service_key")
# Matcher operators, longest first so that `=~` is not read as `=`.
ALERT_MATCHER_OPERATORS = ("=~", "!~", "!=", "=")


class AlertReceiver(_Model):
    """Where Alertmanager sends notifications: one integration of one type. URLs, keys and
    passwords are secrets: `pulumi config set --secret --path ...`."""

    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    type: Literal["slack", "webhook", "email", "pagerduty"]
    send_resolved: Optional[bool] = None  # unset: the integration's default (Alertmanager's)
    api_url: Optional[SecretStr] = None  # slack: the incoming-webhook URL
    channel: Optional[str] = Field(default=None, min_length=1)  # slack; unset: the webhook's own
    url: Optional[SecretStr] = None  # webhook
    to: Optional[str] = Field(default=None, pattern=r"^\S+@\S+$")  # email
    from_: Optional[str] = Field(default=None, alias="from", pattern=r"^\S+@\S+$")
    smarthost: Optional[str] = None  # host:port of the SMTP server
    auth_username: Optional[str] = Field(default=None, min_length=1)
    auth_password: Optional[SecretStr] = None
    require_tls: Optional[bool] = None  # unset: Alertmanager's default, true
    routing_key: Optional[SecretStr] = None  # pagerduty Events API v2 integration key
    service_key: Optional[SecretStr] = None  # pagerduty Events API v1 (legacy) service key

    @field_validator(*ALERT_RECEIVER_SECRETS, mode="before")
    @classmethod
    def _secret_text(cls, value: Any) -> Any:
        # Refused here, in our words: pydantic's own message would echo the (secret) value.
        if value is not None and (not isinstance(value, str) or not value):
            raise ValueError("must be a non-empty string (the value is secret and not shown)")
        return value

    @field_validator("api_url", "url")
    @classmethod
    def _http_url(cls, value: Optional[SecretStr]) -> Optional[SecretStr]:
        if value is None or _undecrypted(value):
            return value
        text = value.get_secret_value()
        scheme, _, rest = text.partition("://")
        if scheme.lower() not in ("http", "https") or not rest or rest[0] in "/?#" or any(
            c.isspace() for c in text
        ):
            raise ValueError("not an http(s) URL (the value is secret and not shown)")
        return value

    @field_validator("smarthost")
    @classmethod
    def _host_and_port(cls, value: Optional[str]) -> Optional[str]:
        if value is None:
            return None
        host, _, port = value.rpartition(":")
        if not host or any(c.isspace() for c in host) or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"{value!r} is not host:port of an SMTP server (e.g. smtp.example.com:587)")
        return value

    @model_validator(mode="after")
    def _settings_of_its_type(self) -> "AlertReceiver":
        required, optional = ALERT_RECEIVER_FIELDS[self.type]
        alias = {name: field.alias or name for name, field in type(self).model_fields.items()}
        stray = sorted(self.model_fields_set - {"name", "type", "send_resolved"} - required - optional)
        if stray:
            takes = ", ".join(sorted(alias[f] for f in required | optional))
            raise ValueError(
                f"{alias[stray[0]]} is not a setting of receiver type {self.type} (it takes {takes}); remove it"
            )
        for field in sorted(required):
            if getattr(self, field) is None:
                secret = "--secret " if field in ALERT_RECEIVER_SECRETS else ""
                raise ValueError(
                    f"receiver type {self.type} needs {alias[field]}; set it with "
                    f"`pulumi config set {secret}--path '<this key>.{alias[field]}' <value>`"
                )
        if self.type == "pagerduty" and (self.routing_key is None) == (self.service_key is None):
            raise ValueError(
                "receiver type pagerduty needs exactly one of routingKey (Events API v2) or "
                "serviceKey (v1), set with `pulumi config set --secret --path ...`"
            )
        if self.auth_password is not None and self.auth_username is None:
            raise ValueError("authPassword without authUsername; set both or neither")
        return self


class AlertRoute(_Model):
    """Alerts matching every condition given go to `receiver`; the first matching route wins
    unless it says `continue`."""

    receiver: str
    severity: Optional[str] = Field(default=None, pattern=r"^[A-Za-z0-9_.-]+$")
    namespace: Optional[Dns1123Label] = None
    matchers: list[str] = []  # Alertmanager matchers: `alertname =~ "Kube.*"`
    continue_: bool = Field(default=False, alias="continue")

    @field_validator("matchers")
    @classmethod
    def _matcher_syntax(cls, value: list[str]) -> list[str]:
        # The shape only (`<label> <op> <value>`); amtool and Alertmanager parse the value.
        for matcher in value:
            at = min((matcher.find(op) for op in ALERT_MATCHER_OPERATORS if op in matcher), default=-1)
            label = matcher[:at].strip() if at > 0 else ""
            if not (label.isascii() and label.isidentifier()):
                raise ValueError(
                    f"{matcher!r} is not a matcher; write <label> <op> <value> with op one of "
                    f"{' '.join(ALERT_MATCHER_OPERATORS)}, e.g. 'alertname =~ \"Kube.*\"'"
                )
        return value

    @model_validator(mode="after")
    def _matches_something(self) -> "AlertRoute":
        if self.severity is None and self.namespace is None and not self.matchers:
            raise ValueError(
                "a route needs severity, namespace or matchers; alerts no route matches go to "
                "defaultReceiver"
            )
        return self


class AlertingSettings(_Model):
    """Alertmanager's routing (the `alertmanager-main` Secret). Without receivers the upstream
    config stays as it is, and alerts reach no one."""

    receivers: list[AlertReceiver] = []
    default_receiver: Optional[str] = None  # for alerts no route matches; required with receivers
    routes: list[AlertRoute] = []
    # Unset: the upstream route's (kube-prometheus: [namespace], 30s, 5m, 12h).
    group_by: Optional[list[str]] = None
    group_wait: Optional[str] = None
    group_interval: Optional[str] = None
    repeat_interval: Optional[str] = None

    @field_validator("receivers")
    @classmethod
    def _unique_names(cls, value: list[AlertReceiver]) -> list[AlertReceiver]:
        names = [r.name for r in value]
        twice = next((n for n in names if names.count(n) > 1), None)
        if twice is not None:
            raise ValueError(f"two receivers are named {twice!r}; give each its own name")
        return value

    @field_validator("group_by")
    @classmethod
    def _label_names(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        for label in value or []:
            if label != "..." and not (label.isascii() and label.isidentifier()):
                raise ValueError(f"{label!r} is not a label name (or '...', every label)")
        return value

    @field_validator("group_wait", "group_interval", "repeat_interval")
    @classmethod
    def _duration(cls, value: Optional[str]) -> Optional[str]:
        # Alertmanager's timers take Prometheus' duration syntax.
        return None if value is None else prometheus_duration(value)

    @model_validator(mode="after")
    def _routes_name_receivers(self) -> "AlertingSettings":
        if not self.receivers:
            if self.model_fields_set - {"receivers"}:
                raise ValueError(
                    "routing without receivers has no effect; define receivers or remove the other keys"
                )
            return self
        if self.default_receiver is None:
            raise ValueError(
                "defaultReceiver is required once receivers are set: name the receiver of the "
                "alerts no route matches"
            )
        known = [r.name for r in self.receivers]
        named = [("defaultReceiver", self.default_receiver)]
        named += [(f"routes[{i}].receiver", route.receiver) for i, route in enumerate(self.routes)]
        for where, name in named:
            if name not in known:
                raise ValueError(
                    f"{where} {name!r} is not one of receivers ({', '.join(known)}); "
                    "fix the name or define that receiver"
                )
        return self


def plain_text_secrets(raw_config: dict[str, Any], secret_keys: set[str]) -> list[str]:
    """One line per secret setting (a SecretStr field of the model) given in plain text: set in
    `raw_config` (full config keys to values, as `Settings.from_raw` takes them) under a key that
    is not in `secret_keys` (the keys the engine marks secret).

    The engine marks a whole top-level key secret as soon as one value in it is, so a key holding
    both a secret value and a plain-text one passes this check unnoticed.
    """
    from types import UnionType
    from typing import Union, get_args, get_origin

    def secret_paths(annotation: Any, value: Any, path: str) -> list[str]:
        origin = get_origin(annotation)
        if value is None:
            return []
        if annotation is SecretStr:
            return [path]
        if origin is Annotated:
            return secret_paths(get_args(annotation)[0], value, path)
        if origin in (Union, UnionType):
            return [p for arg in get_args(annotation) for p in secret_paths(arg, value, path)]
        if origin is list and isinstance(value, list):
            item = get_args(annotation)[0]
            return [p for i, v in enumerate(value) for p in secret_paths(item, v, f"{path}[{i}]")]
        if isinstance(annotation, type) and issubclass(annotation, BaseModel) and isinstance(value, dict):
            fields = [(f.alias or n, f.annotation) for n, f in annotation.model_fields.items()]
            return [p for key, a in fields if key in value for p in secret_paths(a, value[key], f"{path}.{key}")]
        return []

    models = {PROJECT: Settings, "kubernetes": KubernetesTarget}
    lines = []
    for key, value in raw_config.items():
        namespace, _, name = key.partition(":")
        model = models.get(namespace)
        if model is None or key in secret_keys:
            continue
        fields = {f.alias or n: f.annotation for n, f in model.model_fields.items()}
        for path in secret_paths(fields.get(name), value, key):
            lines.append(
                f"{path}: a secret given in plain text; set it with "
                f"`pulumi config set --secret --path '{path}' <value>`"
            )
    return lines


# --- workloads: storage, retention, resources and placement, SecurityContextDeny ----------------
# (components/production.py)

# A Kubernetes quantity, unsigned: the pattern the prometheus-operator CRDs give quantities.
_QUANTITY = (
    r"(?P<number>[0-9]+(\.[0-9]*)?|\.[0-9]+)"
    r"(?P<suffix>[KMGTPE]i|[eE][+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)|[numkMGTPE])?"
)
_DECIMAL_EXPONENT = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
# spec.retentionSize of the v0.18.0 Prometheus CRD, anchored at both ends: the CRD's own pattern,
# `(^0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$`, has no `^` on its second branch and takes `x10GB`.
# Prometheus reads every unit as a power of 1024 (KB = KiB).
PROMETHEUS_SIZE = r"^(0|([0-9]*[.])?[0-9]+((K|M|G|T|E|P)i?)?B)$"
# Prometheus' share of its volume when retention.size is unset: headroom for compaction and the WAL,
# which retention.size does not bound as tightly as the blocks.
PROMETHEUS_VOLUME_SHARE = "0.85"


def quantity_value(text: str) -> Any:
    """The Decimal value of a Kubernetes quantity (`500m` = 0.5, `2Gi` = 2147483648), None if
    `text` is not one."""
    import re
    from decimal import Decimal

    match = re.fullmatch(_QUANTITY, text)
    if match is None:
        return None
    number, suffix = Decimal(match["number"]), match["suffix"] or ""
    if suffix.endswith("i"):
        return number * 1024 ** ("KMGTPE".index(suffix[0]) + 1)
    if suffix not in _DECIMAL_EXPONENT:  # an exponent, e.g. 5e3
        return number * Decimal(10) ** Decimal(suffix[1:])
    return number * Decimal(10) ** _DECIMAL_EXPONENT[suffix]


def prometheus_size_value(text: str) -> Any:
    """The Decimal number of bytes of a Prometheus size (`10GB` = `10GiB` = 10 * 1024**3)."""
    from decimal import Decimal

    number = text.rstrip("KMGTPEiB")
    unit = text[len(number):].rstrip("iB")
    return Decimal(number) * 1024 ** ("_KMGTPE".index(unit) if unit else 0)


def _quantity(value: Any, *, size: bool) -> Any:
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


class ResourceAmounts(_Model):
    cpu: Optional[str] = None  # cores: 500m, 2
    memory: Optional[str] = None  # bytes: 512Mi, 2Gi

    @field_validator("cpu", mode="before")
    @classmethod
    def _cpu(cls, value: Any) -> Any:
        return _quantity(value, size=False)

    @field_validator("memory", mode="before")
    @classmethod
    def _memory(cls, value: Any) -> Any:
        return _quantity(value, size=True)


class ResourceSettings(_Model):
    """A container's requests and limits; they replace upstream's."""

    requests: ResourceAmounts = ResourceAmounts()
    limits: ResourceAmounts = ResourceAmounts()

    @model_validator(mode="after")
    def _requests_within_limits(self) -> "ResourceSettings":
        for name in ("cpu", "memory"):
            request, limit = getattr(self.requests, name), getattr(self.limits, name)
            if request and limit and quantity_value(request) > quantity_value(limit):
                raise ValueError(
                    f"requests.{name} {request} is more than limits.{name} {limit}; "
                    "the API server refuses such a pod: raise the limit or lower the request"
                )
        return self


class Toleration(_Model):
    key: Optional[LabelKey] = None  # unset: every taint (operator Exists)
    operator: Literal["Equal", "Exists"] = "Equal"
    value: Optional[LabelValue] = None
    effect: Optional[Literal["NoSchedule", "PreferNoSchedule", "NoExecute"]] = None
    toleration_seconds: Optional[int] = None

    @model_validator(mode="after")
    def _as_kubernetes_validates_it(self) -> "Toleration":
        if self.key is None and self.operator != "Exists":
            raise ValueError("a toleration without key matches every taint: it needs operator: Exists")
        if self.operator == "Exists" and self.value is not None:
            raise ValueError("operator Exists takes no value; remove value or use operator: Equal")
        if self.toleration_seconds is not None and self.effect != "NoExecute":
            raise ValueError("tolerationSeconds applies to effect NoExecute only")
        return self


class WorkloadPlacement(_Model):
    """Where and how big one of the stack's pods is. Unset: upstream's."""

    resources: Optional[ResourceSettings] = None  # replaces upstream's requests and limits
    node_selector: dict[LabelKey, LabelValue] = {}  # added to upstream's kubernetes.io/os: linux
    tolerations: list[Toleration] = []  # upstream has none


class ClaimRetentionPolicy(_Model):
    """What happens to the StatefulSet's claims (needs StatefulSetAutoDeletePVC: beta and on by
    default from Kubernetes 1.27; older API servers drop it and keep the claims)."""

    when_deleted: Literal["Retain", "Delete"] = "Retain"
    when_scaled: Literal["Retain", "Delete"] = "Retain"


class VolumeSettings(_Model):
    """A ReadWriteOnce claim instead of an emptyDir. On by default: without it the data is lost
    whenever the pod is recreated (rescheduled, evicted, upgraded)."""

    enabled: bool = True
    size: str = "1Gi"
    storage_class: Optional[Dns1123Subdomain] = None  # unset: the cluster's default StorageClass

    @field_validator("size", mode="before")
    @classmethod
    def _size(cls, value: Any) -> Any:
        return _quantity(value, size=True)


class StatefulVolumeSettings(VolumeSettings):
    # Unset: Kubernetes' default, both Retain (a deleted or scaled-down Prometheus keeps its data).
    persistent_volume_claim_retention_policy: Optional[ClaimRetentionPolicy] = None


class PrometheusVolume(StatefulVolumeSettings):
    size: str = "50Gi"


class RetentionSettings(_Model):
    """How long and how much Prometheus keeps; the older blocks go first."""

    # prometheus-operator's default is 24h when neither is set; 15d is Prometheus' own.
    time: str = "15d"
    # Unset: PROMETHEUS_VOLUME_SHARE of the volume when storage is on, else no size limit.
    size: Optional[str] = None

    @field_validator("time")
    @classmethod
    def _duration(cls, value: str) -> str:
        return prometheus_duration(value)

    @field_validator("size")
    @classmethod
    def _prometheus_size(cls, value: Optional[str]) -> Optional[str]:
        import re

        if value is not None and not re.fullmatch(PROMETHEUS_SIZE, value):
            raise ValueError(
                f"{value!r} is not a Prometheus size; write a number and one of B, KB, MB, GB, TB, "
                "PB, EB (or KiB, MiB...: Prometheus counts both in powers of 1024), e.g. 40GB"
            )
        return value


class PrometheusWorkload(WorkloadPlacement):
    storage: PrometheusVolume = PrometheusVolume()
    retention: RetentionSettings = RetentionSettings()

    @model_validator(mode="after")
    def _retention_fits_the_volume(self) -> "PrometheusWorkload":
        size, volume = self.retention.size, self.storage.size
        if self.storage.enabled and size and prometheus_size_value(size) >= quantity_value(volume):
            raise ValueError(
                f"retention.size {size} does not fit storage.size {volume}: the volume fills up "
                "before Prometheus deletes old blocks; lower it or remove it (the default is "
                f"{float(PROMETHEUS_VOLUME_SHARE):.0%} of the volume)"
            )
        return self

    def retention_size(self) -> Optional[str]:
        """spec.retentionSize: retention.size, else a share of the volume (in MiB), else none."""
        from decimal import Decimal

        if self.retention.size is not None or not self.storage.enabled:
            return self.retention.size
        share = quantity_value(self.storage.size) * Decimal(PROMETHEUS_VOLUME_SHARE)
        return f"{max(int(share) // 1024**2, 1)}MiB"


class AlertmanagerWorkload(WorkloadPlacement):
    storage: StatefulVolumeSettings = StatefulVolumeSettings()


class GrafanaWorkload(WorkloadPlacement):
    storage: VolumeSettings = VolumeSettings()


class WorkloadsSettings(_Model):
    """Storage, retention, resources and placement of Prometheus, Alertmanager and Grafana, and
    the PKS/TKGI SecurityContextDeny switch (components/production.py)."""

    prometheus: PrometheusWorkload = PrometheusWorkload()
    alertmanager: AlertmanagerWorkload = AlertmanagerWorkload()
    grafana: GrafanaWorkload = GrafanaWorkload()
    # Plans of PKS/TKGI <= 1.17 with the SecurityContextDeny admission plugin on (Kubernetes
    # deprecated it in 1.27 and removed it in 1.30): strip what it rejects from every pod.
    security_context_deny: bool = False

    @model_validator(mode="after")
    def _volumes_stay_writable(self) -> "WorkloadsSettings":
        # Without fsGroup, which SecurityContextDeny rejects, the kubelet leaves a new volume owned
        # by root, and Prometheus, Alertmanager and Grafana (non-root) fail with permission denied.
        stored = [app for app in ("prometheus", "alertmanager", "grafana") if getattr(self, app).storage.enabled]
        if self.security_context_deny and stored:
            keys = ", ".join(f"{app}.storage.enabled" for app in stored)
            raise ValueError(
                "securityContextDeny drops fsGroup, so new volumes stay owned by root and the "
                f"non-root {', '.join(stored)} cannot write them; set {keys} to false (their data "
                "is then lost when a pod is recreated) or turn SecurityContextDeny off in the plan"
            )
        return self


class Settings(_Model):
    cluster: Dns1123Label
    # The platform patch set (transformations.PLATFORM_PATCHES): `pks` drops the monitors and
    # alerts of the control plane that PKS/TKGI runs on BOSH masters, out of Prometheus' reach.
    platform: Literal["pks", "upstream"] = "pks"
    node_scrape: NodeScrapeSettings = NodeScrapeSettings()
    workloads: WorkloadsSettings = WorkloadsSettings()
    alerting: AlertingSettings = AlertingSettings()
    grafana: GrafanaSettings = GrafanaSettings()
    app_alerts: AppAlertSettings = AppAlertSettings()
    apps: list[AppSettings] = []  # names unique, also against the demo app: app_monitor.apps_to_monitor
    demo_app: DemoAppSettings = DemoAppSettings()
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
        from pulumi.runtime.config import is_config_secret

        raw = _raw_config()
        settings = cls.from_raw(raw)
        plain = plain_text_secrets(raw, {key for key in raw if is_config_secret(key)})
        if plain:
            raise SettingsError(plain[0])
        return settings

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
            # Config keys are the camelCase names only: a snake_case spelling would slip past the
            # plain-text-secret check, which reads the documented names.
            settings = cls.model_validate(data, by_alias=True, by_name=False)
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


def _secret_setting(loc: tuple) -> bool:
    """Whether a validation error's location names a SecretStr setting (its input is never shown)."""
    from types import UnionType
    from typing import Union, get_args, get_origin

    def unwrap(annotation: Any) -> Any:
        while get_origin(annotation) in (Union, UnionType, Annotated):
            annotation = next(a for a in get_args(annotation) if a is not type(None))
        return annotation

    annotation: Any = Settings
    for part in loc:
        annotation = unwrap(annotation)
        if isinstance(part, int) and get_origin(annotation) is list:
            annotation = get_args(annotation)[0]
        elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
            fields = {f.alias or n: f.annotation for n, f in annotation.model_fields.items()}
            if part not in fields:
                return False
            annotation = fields[part]
        else:
            return False
    return unwrap(annotation) is SecretStr


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
        if not isinstance(shown, (dict, list)) and not _secret_setting(first["loc"]):
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

