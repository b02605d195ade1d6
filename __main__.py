"""pks-monitoring: wires the stack's settings to the components. Nothing else lives here."""

import pulumi

from pks_monitoring.components.app_monitor import (
    AppMonitor,
    AppMonitorArgs,
    apps_to_monitor,
    check_apps_against_upstream,
    service_discovery_role,
    team_namespaces,
)
from pks_monitoring.components.demo_app import DemoApp, DemoAppArgs
from pks_monitoring.components.monitoring_stack import MonitoringStack, MonitoringStackArgs
from pks_monitoring.components.node_exporter_addon import NodeExporterAddon, NodeExporterAddonArgs
from pks_monitoring.dashboards import DASHBOARDS_DIR, load_dashboards, shipped_dashboards
from pks_monitoring.lock import pinned
from pks_monitoring.parts.images import pulled_images
from pks_monitoring.parts.part import StackInputs
from pks_monitoring.provider import kubernetes_provider
from pks_monitoring.releases import check_fits
from pks_monitoring.rules import RULES_DIR, load_rules
from pks_monitoring.settings import Settings
from pks_monitoring.settings.apps import DEMO_APP_IMAGE
from pks_monitoring.upstream import PROMETHEUS, KubePrometheus

# Everything that can refuse the settings runs before the first resource is registered.
settings = Settings.from_pulumi_config()
apps = apps_to_monitor(settings)
# The manifests are the bytes kube-prometheus.lock.json records for their release, checked
# before a line of them is parsed.
manifests = pinned(settings)
upstream = KubePrometheus.open(manifests.root)
check_apps_against_upstream(settings, upstream)
release = check_fits(settings, upstream)
dashboards = load_dashboards(DASHBOARDS_DIR, shipped=shipped_dashboards(upstream.objects))
rules = load_rules(RULES_DIR)
discovery_role = service_discovery_role(upstream.find("Prometheus", PROMETHEUS))
stack_args = MonitoringStackArgs.prepare(
    StackInputs(
        settings,
        upstream,
        tuple(dashboards),
        tuple(app.name for app in apps),
        tuple(rules),
        team_namespaces(apps),
    )
)
demo_args = DemoAppArgs.from_settings(settings)
addon_args = NodeExporterAddonArgs.from_settings(settings)

provider = kubernetes_provider(f"{settings.cluster}-k8s", settings)
kubernetes = pulumi.ResourceOptions(providers={"kubernetes": provider})
stack = MonitoringStack(settings.cluster, stack_args, opts=kubernetes)

# Applications Prometheus scrapes: each ServiceMonitor needs the CRDs; the demo app's monitor
# also needs the demo namespace.
demo = DemoApp(f"{settings.cluster}-demo-app", demo_args, opts=kubernetes) if demo_args else None
for app in apps:
    waits: list[pulumi.Resource] = [stack.crds]
    if demo and demo_args and app.namespace == demo_args.namespace:
        waits.append(demo.namespace)
    AppMonitor(
        f"{settings.cluster}-app-{app.name}",
        AppMonitorArgs.from_settings(app, stack.prometheus_service_account, discovery_role),
        opts=pulumi.ResourceOptions.merge(kubernetes, pulumi.ResourceOptions(depends_on=waits)),
    )

# node_exporter on every BOSH VM: director-wide, so only the one stack that owns it has it.
if addon_args is not None:
    # Named for what it is, not the cluster: a new `cluster` keeps its identity (a new name
    # would apply the config anew, then delete the old resource, with deleteOnDestroy the
    # director-wide runtime config just applied). The alias takes over stacks deployed under the
    # cluster's name.
    addon = NodeExporterAddon(
        "node-exporter",
        addon_args,
        opts=pulumi.ResourceOptions(aliases=[pulumi.Alias(name=f"{settings.cluster}-node-exporter")]),
    )
    pulumi.export("rolloutCommand", addon.rollout_command)

# What an air-gapped site mirrors: every image the stack's pods run, the demo app's included.
images = pulled_images(stack_args.parts, upstream.objects)
if demo_args:
    images[demo_args.image] = DEMO_APP_IMAGE
pulumi.export("images", dict(sorted(images.items())))
pulumi.export("kubePrometheusRelease", release.tag)
pulumi.export("kubePrometheusDigest", manifests.digest)
pulumi.export("namespace", stack.namespace)
pulumi.export("prometheusUrl", stack.prometheus_url)
pulumi.export("alertmanagerUrl", stack.alertmanager_url)
pulumi.export("grafanaUrl", stack.grafana_url)
pulumi.export("prometheusServiceAccount", stack.prometheus_service_account)
pulumi.export("prometheusServiceDiscoveryRole", discovery_role)
pulumi.export("portForward", stack.port_forward)
