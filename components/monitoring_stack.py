"""MonitoringStack: kube-prometheus deployed from its manifests with our transformations."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import transformations as t
from components.manifests import KubePrometheus
from components.scrape_configs import node_scrape_configs

SCRAPE_CONFIGS_SECRET = "additional-scrape-configs"
SCRAPE_CONFIGS_KEY = "prometheus-additional.yaml"


@dataclass(frozen=True)
class NodeScrape:
    """Where node_exporter listens: every Kubernetes node, plus VMs outside Kubernetes."""

    port: int = 9100
    static_targets: tuple[dict[str, str], ...] = ()
    file_sd_files: tuple[str, ...] = ()


@dataclass(frozen=True)
class MonitoringStackArgs:
    manifests: KubePrometheus
    namespace: str
    prometheus_replicas: int
    alertmanager_replicas: int
    node_scrape: NodeScrape = NodeScrape()
    platform: str = "pks"  # a key of transformations.PLATFORM_PATCHES
    kube_context: str | None = None  # for the ready-to-paste kubectl commands


# The web UIs operators open, by the upstream Service and its port name.
_WEB_SERVICES = {
    "prometheus": ("prometheus-k8s", "web"),
    "alertmanager": ("alertmanager-main", "web"),
    "grafana": ("grafana", "http"),
}


def _wait_for(dependencies: Sequence[pulumi.Resource]):
    """Every object of the ConfigGroup waits for the CRDs and the namespace to exist."""

    def wait(obj: dict[str, Any], opts: pulumi.ResourceOptions) -> None:
        opts.depends_on = list(dependencies)

    return wait


class MonitoringStack(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    prometheus_url: pulumi.Output[str]
    alertmanager_url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    port_forward: pulumi.Output[dict]
    prometheus_service_account: pulumi.Output[dict]

    def __init__(
        self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pks-monitoring:index:MonitoringStack", name, None, opts)
        kp = args.manifests
        namespace_transformations = [partial(t.rename_namespace, old=kp.namespace, new=args.namespace)]
        transformations = [
            t.drop_node_exporter,
            partial(t.set_replicas, kind="Prometheus", name="k8s", replicas=args.prometheus_replicas),
            partial(t.set_replicas, kind="Alertmanager", name="main", replicas=args.alertmanager_replicas),
            t.grant_node_discovery,
            partial(t.use_additional_scrape_configs, secret=SCRAPE_CONFIGS_SECRET, key=SCRAPE_CONFIGS_KEY),
            *t.PLATFORM_PATCHES[args.platform],
            *namespace_transformations,
        ]

        # manifests/setup/ first: the namespace, then the CRDs. The Namespace is a plain resource
        # so that depending on it means depending on it (a v1 ConfigFile registers its children
        # late, inside an apply). The CRDs go through the provider's own YAML component (yaml/v2):
        # we change nothing in them, and it spares the program from pushing ~5 MB of schema
        # through the SDK's Output machinery.
        namespace_manifest = kp.namespace_manifest()
        for rename in namespace_transformations:
            rename(namespace_manifest)
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata=namespace_manifest["metadata"],
            opts=pulumi.ResourceOptions(parent=self),
        )
        crds = k8s.yaml.v2.ConfigGroup(
            f"{name}-crds",
            files=[str(path) for path in kp.crd_files],
            opts=pulumi.ResourceOptions(parent=self),
        )
        node = args.node_scrape
        scrape_configs = node_scrape_configs(node.port, node.static_targets, node.file_sd_files)
        self.scrape_configs = k8s.core.v1.Secret(
            f"{name}-{SCRAPE_CONFIGS_SECRET}",
            metadata={"name": SCRAPE_CONFIGS_SECRET, "namespace": args.namespace},
            string_data={SCRAPE_CONFIGS_KEY: yaml.safe_dump(scrape_configs, sort_keys=True)},
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace]),
        )
        # One YAML stream rather than `files=`: the same objects and transformations, without a
        # ConfigFile component (and a merge of its outputs) per upstream file.
        self.objects = k8s.yaml.ConfigGroup(
            f"{name}-kube-prometheus",
            yaml=[kp.yaml_stream()],
            transformations=[*transformations, _wait_for([namespace, crds])],
            opts=pulumi.ResourceOptions(parent=self),
        )

        ns = args.namespace
        kubectl = f"kubectl --context {args.kube_context}" if args.kube_context else "kubectl"
        urls, port_forward = {}, {}
        for app, (service, port_name) in _WEB_SERVICES.items():
            port = kp.service_port(service, port_name)
            urls[app] = f"http://{service}.{ns}.svc:{port}"
            port_forward[app] = f"{kubectl} -n {ns} port-forward svc/{service} {port}"
        self.namespace = pulumi.Output.from_input(ns)
        self.prometheus_url = pulumi.Output.from_input(urls["prometheus"])
        self.alertmanager_url = pulumi.Output.from_input(urls["alertmanager"])
        self.grafana_url = pulumi.Output.from_input(urls["grafana"])
        self.port_forward = pulumi.Output.from_input(port_forward)
        self.prometheus_service_account = pulumi.Output.from_input(
            {"namespace": ns, "name": kp.find("Prometheus", "k8s")["spec"]["serviceAccountName"]}
        )
        self.register_outputs(
            {
                "namespace": self.namespace,
                "prometheus_url": self.prometheus_url,
                "alertmanager_url": self.alertmanager_url,
                "grafana_url": self.grafana_url,
                "port_forward": self.port_forward,
                "prometheus_service_account": self.prometheus_service_account,
            }
        )
