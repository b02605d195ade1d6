"""MonitoringStack: kube-prometheus deployed from its manifests with our transformations."""
from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, Sequence

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import grafana_access
from components import transformations as t
from components.alertmanager_config import configure_alertmanager
from components.dashboards import Dashboard, dashboard_config_map, mount_dashboards
from components.manifests import WEB_SERVICES, KubePrometheus
from components.production import grafana_pvc, production_transformations
from components.scrape_configs import node_scrape_configs
from components.settings import WorkloadsSettings

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
    grafana: grafana_access.GrafanaAccessArgs  # the admin Secret (no stack runs on admin/admin), exposure
    node_scrape: NodeScrape = NodeScrape()
    platform: str = "pks"  # a key of transformations.PLATFORM_PATCHES
    dashboards: tuple[Dashboard, ...] = ()  # ours, mounted next to upstream's
    alertmanager_config: pulumi.Input[str] | None = None  # alertmanager.yaml (secret); None: upstream's
    app_alert_rule: dict[str, Any] | None = None  # components.app_alerts.app_alert_rule(...)
    workloads: WorkloadsSettings = WorkloadsSettings()  # storage, retention, placement, SecurityContextDeny
    kube_context: str | None = None  # for the ready-to-paste kubectl commands


def _wait_for(dependencies: Sequence[pulumi.Resource]):
    """Every object of the ConfigGroup waits for `dependencies` (the namespace, the CRDs...)."""

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
            t.adapter_reads_nodes_by_instance,
            partial(t.set_replicas, kind="Prometheus", name="k8s", replicas=args.prometheus_replicas),
            partial(t.set_replicas, kind="Alertmanager", name="main", replicas=args.alertmanager_replicas),
            partial(t.drop_disruption_budget, name="prometheus-k8s", replicas=args.prometheus_replicas),
            partial(t.drop_disruption_budget, name="alertmanager-main", replicas=args.alertmanager_replicas),
            t.grant_node_discovery,
            partial(t.use_additional_scrape_configs, secret=SCRAPE_CONFIGS_SECRET, key=SCRAPE_CONFIGS_KEY),
            partial(mount_dashboards, dashboards=args.dashboards),
            *t.PLATFORM_PATCHES[args.platform],
            *grafana_access.grafana_transformations(args.grafana, kp),
            *production_transformations(args.workloads),
            *namespace_transformations,
        ]
        if args.alertmanager_config is not None:
            # Last: the config is a secret Output, which the transformations before it would walk into.
            transformations.append(partial(configure_alertmanager, config_text=args.alertmanager_config))

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
        self.crds = crds = k8s.yaml.v2.ConfigGroup(
            f"{name}-crds",
            files=[str(path) for path in kp.crd_files],
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[namespace])
        node = args.node_scrape
        scrape_configs = node_scrape_configs(node.port, node.static_targets, node.file_sd_files)
        self.scrape_configs = k8s.core.v1.Secret(
            f"{name}-{SCRAPE_CONFIGS_SECRET}",
            metadata={"name": SCRAPE_CONFIGS_SECRET, "namespace": args.namespace},
            string_data={SCRAPE_CONFIGS_KEY: yaml.safe_dump(scrape_configs, sort_keys=True)},
            opts=in_namespace,
        )
        # The Grafana Deployment does not wait for its claim: with a WaitForFirstConsumer storage
        # class the claim binds only once the pod exists.
        grafana_claim = grafana_pvc(args.namespace, args.workloads)
        if grafana_claim is not None:
            k8s.core.v1.PersistentVolumeClaim(
                f"{name}-grafana-storage",
                metadata=grafana_claim["metadata"],
                spec=grafana_claim["spec"],
                opts=in_namespace,
            )
        for dashboard in args.dashboards:
            config_map = dashboard_config_map(dashboard, args.namespace)
            k8s.core.v1.ConfigMap(
                f"{name}-{config_map['metadata']['name']}",
                metadata=config_map["metadata"],
                data=config_map["data"],
                opts=in_namespace,
            )
        grafana_admin = k8s.core.v1.Secret(
            f"{name}-{grafana_access.ADMIN_SECRET}",
            **grafana_access.grafana_admin_secret_args(args.namespace, args.grafana),
            opts=in_namespace,
        )
        ingress = grafana_access.grafana_ingress(args.namespace, args.grafana.expose)
        if ingress:
            k8s.networking.v1.Ingress(
                f"{name}-grafana-ingress", metadata=ingress["metadata"], spec=ingress["spec"], opts=in_namespace
            )
        if args.app_alert_rule is not None:
            rule = args.app_alert_rule
            k8s.apiextensions.CustomResource(
                f"{name}-{rule['metadata']['name']}",
                api_version=rule["apiVersion"],
                kind=rule["kind"],
                metadata=rule["metadata"],
                spec=rule["spec"],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, crds]),
            )

        # One YAML stream rather than `files=`: the same objects and transformations, without a
        # ConfigFile component (and a merge of its outputs) per upstream file.
        self.objects = k8s.yaml.ConfigGroup(
            f"{name}-kube-prometheus",
            yaml=[kp.yaml_stream()],
            # Grafana's pod waits for its admin Secret too, rather than failing until it exists.
            transformations=[*transformations, _wait_for([namespace, crds, grafana_admin])],
            opts=pulumi.ResourceOptions(parent=self),
        )

        ns = args.namespace
        kubectl = f"kubectl --context {args.kube_context}" if args.kube_context else "kubectl"
        urls, port_forward = {}, {}
        for app, (service, port_name) in WEB_SERVICES.items():
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
