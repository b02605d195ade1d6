"""pks-monitoring: wires the stack's settings to the components. Nothing else lives here."""
import pulumi

from components.manifests import KubePrometheus
from components.monitoring_stack import MonitoringStack, MonitoringStackArgs, NodeScrape
from components.node_exporter_addon import NodeExporterAddon, NodeExporterAddonArgs
from components.provider import kubernetes_provider
from components.settings import Settings

settings = Settings.from_pulumi_config()
manifests = KubePrometheus.open(settings.kube_prometheus.manifests_dir())

provider = kubernetes_provider(f"{settings.cluster}-k8s", settings)
stack = MonitoringStack(
    settings.cluster,
    MonitoringStackArgs(
        manifests=manifests,
        namespace=settings.kube_prometheus.namespace,
        prometheus_replicas=settings.prometheus.replicas,
        alertmanager_replicas=settings.alertmanager.replicas,
        node_scrape=NodeScrape(
            port=settings.node_exporter_addon.port,
            static_targets=tuple(t.model_dump() for t in settings.node_scrape.static_targets),
            file_sd_files=tuple(settings.node_scrape.file_sd_files),
        ),
        platform=settings.platform,
        kube_context=settings.kubernetes.context,
    ),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
)

pulumi.export("namespace", stack.namespace)
pulumi.export("prometheusUrl", stack.prometheus_url)
pulumi.export("alertmanagerUrl", stack.alertmanager_url)
pulumi.export("grafanaUrl", stack.grafana_url)
pulumi.export("prometheusServiceAccount", stack.prometheus_service_account)
pulumi.export("portForward", stack.port_forward)

# node_exporter on every BOSH VM: director-wide, so only the one stack that owns it has it.
addon_args = NodeExporterAddonArgs.from_settings(settings)
if addon_args is not None:
    addon = NodeExporterAddon(f"{settings.cluster}-node-exporter", addon_args)
    pulumi.export("rolloutCommand", addon.rollout_command)
