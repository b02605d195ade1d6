"""pks-monitoring: wires the stack's settings to the components. Nothing else lives here."""
import pulumi

from components.alertmanager_config import alertmanager_secret_text, upstream_config
from components.app_alerts import app_alert_rule
from components.app_monitor import AppMonitor, AppMonitorArgs, apps_to_monitor, service_discovery_role
from components.dashboards import DASHBOARDS_DIR, load_dashboards, shipped_dashboards
from components.demo_app import DemoApp, DemoAppArgs
from components.grafana_access import GrafanaAccessArgs
from components.manifests import KubePrometheus
from components.monitoring_stack import MonitoringStack, MonitoringStackArgs, NodeScrape
from components.node_exporter_addon import NodeExporterAddon, NodeExporterAddonArgs
from components.provider import kubernetes_provider
from components.settings import Settings

# Everything that can refuse the settings runs before the first resource is registered.
settings = Settings.from_pulumi_config()
apps = apps_to_monitor(settings)
grafana = GrafanaAccessArgs.from_settings(settings.grafana)
manifests = KubePrometheus.open(settings.kube_prometheus.manifests_dir())
dashboards = load_dashboards(DASHBOARDS_DIR, shipped=shipped_dashboards(manifests.objects))
discovery_role = service_discovery_role(manifests.find("Prometheus", "k8s"))
alertmanager_config = (
    alertmanager_secret_text(upstream_config(manifests), settings.alerting)
    if settings.alerting.receivers
    else None
)
demo_args = DemoAppArgs.from_settings(settings)
addon_args = NodeExporterAddonArgs.from_settings(settings)
namespace = settings.kube_prometheus.namespace

provider = kubernetes_provider(f"{settings.cluster}-k8s", settings)
kubernetes = pulumi.ResourceOptions(providers={"kubernetes": provider})
stack = MonitoringStack(
    settings.cluster,
    MonitoringStackArgs(
        manifests=manifests,
        namespace=namespace,
        prometheus_replicas=settings.prometheus.replicas,
        alertmanager_replicas=settings.alertmanager.replicas,
        node_scrape=NodeScrape(
            port=settings.node_exporter_addon.port,
            static_targets=tuple(t.model_dump() for t in settings.node_scrape.static_targets),
            file_sd_files=tuple(settings.node_scrape.file_sd_files),
        ),
        platform=settings.platform,
        dashboards=tuple(dashboards),
        grafana=grafana,
        alertmanager_config=alertmanager_config,
        app_alert_rule=app_alert_rule(settings.app_alerts, [app.name for app in apps], namespace),
        workloads=settings.workloads,
        kube_context=settings.kubernetes.context,
    ),
    opts=kubernetes,
)

# Applications Prometheus scrapes: each ServiceMonitor needs the CRDs; the demo app's monitor
# also needs the demo namespace.
demo = DemoApp(f"{settings.cluster}-demo-app", demo_args, opts=kubernetes) if demo_args else None
for app in apps:
    waits = [stack.crds] + ([demo.namespace] if demo and app.namespace == demo_args.namespace else [])
    AppMonitor(
        f"{settings.cluster}-app-{app.name}",
        AppMonitorArgs.from_settings(app, stack.prometheus_service_account, discovery_role),
        opts=pulumi.ResourceOptions.merge(kubernetes, pulumi.ResourceOptions(depends_on=waits)),
    )

# node_exporter on every BOSH VM: director-wide, so only the one stack that owns it has it.
if addon_args is not None:
    addon = NodeExporterAddon(f"{settings.cluster}-node-exporter", addon_args)
    pulumi.export("rolloutCommand", addon.rollout_command)

pulumi.export("namespace", stack.namespace)
pulumi.export("prometheusUrl", stack.prometheus_url)
pulumi.export("alertmanagerUrl", stack.alertmanager_url)
pulumi.export("grafanaUrl", stack.grafana_url)
pulumi.export("prometheusServiceAccount", stack.prometheus_service_account)
pulumi.export("prometheusServiceDiscoveryRole", discovery_role)
pulumi.export("portForward", stack.port_forward)
