"""The kube-prometheus release in use: its files, the objects in them, and the whole contract the
program builds on (objects, ports, container names), checked once when the release is opened, so
an upstream change fails with one line, not a KeyError."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pks_monitoring.kube_yaml import load_documents, read_objects
from pks_monitoring.manifests import Manifest, named
from pks_monitoring.settings import PROJECT, SettingsError

KEY = f"{PROJECT}:kubePrometheus.manifests"
_CRD_DOCUMENT = re.compile(r"^kind:\s*CustomResourceDefinition\s*$", re.MULTILINE)

# Upstream's Grafana: the name of its Deployment, the Deployment's container, its Service and
# NetworkPolicy; the name of the container's and the Service's port; the Service's selector,
# which the objects the stack adds for Grafana carry too.
GRAFANA = "grafana"
GRAFANA_HTTP_PORT = "http"
GRAFANA_LABELS = {
    "app.kubernetes.io/component": "grafana",
    "app.kubernetes.io/name": "grafana",
    "app.kubernetes.io/part-of": "kube-prometheus",
}
# The Prometheus and Alertmanager resources upstream deploys.
PROMETHEUS = "k8s"
ALERTMANAGER = "main"
# The Secret the Alertmanager `main` resource reads its config from, and the key of the config.
ALERTMANAGER_SECRET = "alertmanager-main"
ALERTMANAGER_CONFIG_KEY = "alertmanager.yaml"

# The web UIs operators open, by the upstream Service and its port name (stack outputs).
WEB_SERVICES = {
    "prometheus": ("prometheus-k8s", "web"),
    "alertmanager": ("alertmanager-main", "web"),
    "grafana": (GRAFANA, GRAFANA_HTTP_PORT),
}

# Objects the program builds on: transformations edit them and outputs point at them.
REQUIRED_OBJECTS = (
    ("Prometheus", PROMETHEUS),
    ("Alertmanager", ALERTMANAGER),
    ("ServiceAccount", "prometheus-k8s"),
    ("ClusterRole", "prometheus-k8s"),
    ("Service", "prometheus-k8s"),
    ("Service", "alertmanager-main"),
    ("Service", GRAFANA),
    ("Deployment", GRAFANA),
    ("PrometheusRule", "node-exporter-rules"),
    ("DaemonSet", "node-exporter"),
    ("ConfigMap", "adapter-config"),
    ("Deployment", "prometheus-adapter"),
)


def grafana_container(deployment: Manifest) -> dict[str, Any] | None:
    """The grafana container of upstream's Grafana Deployment (KubePrometheus.open checks that
    the pinned release has it, with its http port)."""
    return named(deployment["spec"]["template"]["spec"].get("containers"), GRAFANA)


def _adapter_maps_instance_to_node(config_map: Manifest) -> bool:
    """prometheus-adapter's config has the CPU and memory rules that
    parts.prometheus_adapter.adapter_reads_nodes_by_instance rewrites and copies from."""
    documents = load_documents((config_map.get("data") or {}).get("config.yaml") or "")
    rules = (documents[0] if documents else {}).get("resourceRules") or {}
    overrides = ((rules.get("memory") or {}).get("resources") or {}).get("overrides") or {}
    return "nodeQuery" in (rules.get("cpu") or {}) and overrides.get("instance") == {"resource": "node"}


def _namespace_object(path: Path) -> Manifest | None:
    return next((d for d in load_documents(path.read_text()) if d.get("kind") == "Namespace"), None)


def _lacks(root: Path, missing: list[str]) -> SettingsError:
    return SettingsError(
        f"{KEY}: {root} lacks {', '.join(missing)}, which this program builds on; "
        "use the kube-prometheus release the README pins, or update the parts that use them"
    )


@dataclass(frozen=True)
class KubePrometheus:
    """One kube-prometheus `manifests/` directory, checked once."""

    root: Path
    namespace: str  # the namespace upstream deploys into (setup/namespace.yaml)
    namespace_file: Path
    crd_files: tuple[Path, ...]
    files: tuple[Path, ...]  # everything under manifests/ but setup/
    objects: tuple[Manifest, ...]  # the parsed objects of `files`

    @classmethod
    def open(cls, root: Path) -> KubePrometheus:
        setup = root / "setup"
        files = tuple(sorted(root.glob("*.yaml")))
        if not setup.is_dir() or not files:
            raise SettingsError(
                f"{KEY}: {root} is not a kube-prometheus manifests/ directory (no setup/ or no "
                "*.yaml); point it at manifests/ of the pinned kube-prometheus tag"
            )
        namespace_file, crd_files = None, []
        for path in sorted(setup.glob("*.yaml")):
            text = path.read_text()
            if _CRD_DOCUMENT.search(text):
                crd_files.append(path)
            elif _namespace_object(path):
                namespace_file = path
        namespace_object = _namespace_object(namespace_file) if namespace_file else None
        if namespace_file is None or namespace_object is None or not crd_files:
            raise SettingsError(
                f"{KEY}: {setup} has no Namespace or no CustomResourceDefinitions; "
                "point the key at manifests/ of the pinned kube-prometheus tag"
            )
        objects = tuple(read_objects(files))
        found = {(o.get("kind"), o.get("metadata", {}).get("name")) for o in objects}
        missing = [f"{kind} {name}" for kind, name in REQUIRED_OBJECTS if (kind, name) not in found]
        if missing:
            raise _lacks(root, missing)
        namespace = namespace_object["metadata"]["name"]
        kp = cls(root, namespace, namespace_file, tuple(crd_files), files, objects)
        missing = [
            f"port {port} of Service {service}"
            for service, port in WEB_SERVICES.values()
            if named(kp.find("Service", service)["spec"].get("ports"), port) is None
        ]
        if not kp.find("Prometheus", PROMETHEUS).get("spec", {}).get("serviceAccountName"):
            missing.append(f"spec.serviceAccountName of Prometheus {PROMETHEUS}")
        if not _adapter_maps_instance_to_node(kp.find("ConfigMap", "adapter-config")):
            missing.append("the cpu and memory rules (memory's instance -> node) of ConfigMap adapter-config")
        grafana = grafana_container(kp.find("Deployment", GRAFANA))
        if grafana is None:
            missing.append(f"container {GRAFANA} of Deployment {GRAFANA}")
        elif named(grafana.get("ports"), GRAFANA_HTTP_PORT) is None:
            missing.append(f"port {GRAFANA_HTTP_PORT} of the {GRAFANA} container")
        if missing:
            raise _lacks(root, missing)
        return kp

    def yaml_stream(self) -> str:
        """Every file but setup/'s as one YAML stream, in file order."""
        return "\n---\n".join(path.read_text() for path in self.files)

    def namespace_manifest(self) -> Manifest:
        """A fresh copy of setup/'s Namespace object, free for a transformation to change."""
        namespace = _namespace_object(self.namespace_file)
        assert namespace is not None  # open() checked it
        return namespace

    def find(self, kind: str, name: str) -> Manifest:
        return next(o for o in self.objects if o["kind"] == kind and o["metadata"]["name"] == name)

    def service_port(self, service: str, port_name: str) -> int:
        port = named(self.find("Service", service)["spec"]["ports"], port_name)
        assert port is not None  # open() checked every web service port
        return int(port["port"])

    def grafana_http_port(self) -> int:
        """The port Grafana listens on (the container port named http): what a NetworkPolicy
        sees, after the Service has forwarded the connection."""
        container = grafana_container(self.find("Deployment", GRAFANA))
        port = named((container or {}).get("ports"), GRAFANA_HTTP_PORT)
        assert port is not None  # open() checked it
        return int(port["containerPort"])

    def prometheus_service_account(self) -> str:
        return str(self.find("Prometheus", PROMETHEUS)["spec"]["serviceAccountName"])
