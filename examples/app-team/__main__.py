"""An app team's own monitoring on a cluster that runs pks-monitoring (see README.md beside this).

Reads the monitoring stack through a StackReference and, in the team's namespace only, creates the
AppMonitor (ServiceMonitor + the Role/RoleBinding Prometheus discovers with). Its dashboards are
checked with pks-monitoring's own rules; they reach Grafana through a pull request to
pks-monitoring's dashboards/, because Grafana reads only what the monitoring stack mounts.
"""

from pathlib import Path

import pulumi
import pulumi_kubernetes as k8s
from pydantic import ValidationError

from pks_monitoring.components.app_monitor import AppMonitor, AppMonitorArgs
from pks_monitoring.dashboards import load_dashboards
from pks_monitoring.settings import SettingsError
from pks_monitoring.settings.apps import AppSettings

DASHBOARDS_DIR = Path(__file__).resolve().parent / "dashboards"

config = pulumi.Config()


def read_app() -> AppSettings:
    """The app, in the shape of an entry of pks-monitoring's `apps`; one line on bad input."""
    try:
        return AppSettings.model_validate(config.require_object("app"))
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{config.full_key('app')}{path}: {message}") from None


def kubernetes_provider() -> k8s.Provider:
    """The team's cluster from the stack's own config, never the ambient kubeconfig's context."""
    cluster = pulumi.Config("kubernetes")
    context, kubeconfig = cluster.get("context"), cluster.get_secret("kubeconfig")
    if context is None and kubeconfig is None:
        raise SettingsError(
            "kubernetes:context: no cluster to deploy to; set it (`pulumi config set "
            "kubernetes:context <cluster>` after `tkgi get-credentials`) or kubernetes:kubeconfig as a secret"
        )
    return k8s.Provider("app-team-k8s", context=context, kubeconfig=kubeconfig)


# Everything that can refuse the config or a dashboard runs before the first resource.
app = read_app()
dashboards = load_dashboards(DASHBOARDS_DIR)
provider = kubernetes_provider()

# The monitoring stack's outputs are its contract (pks-monitoring README, "Stack outputs").
monitoring = pulumi.StackReference(config.require("monitoringStack"))
monitoring_namespace = monitoring.require_output("namespace")

AppMonitor(
    app.name,
    AppMonitorArgs.from_settings(
        app,
        monitoring.require_output("prometheusServiceAccount"),
        monitoring.require_output("prometheusServiceDiscoveryRole"),
    ),
    opts=pulumi.ResourceOptions(providers={"kubernetes": provider}),
)

# What the monitoring stack serves once a file is in pks-monitoring's dashboards/: the ConfigMap
# it mounts into Grafana, and the dashboard's uid and title there.
pulumi.export(
    "dashboards",
    monitoring_namespace.apply(
        lambda namespace: [
            {
                "file": f"dashboards/{dashboard.file_name}",
                "uid": dashboard.uid,
                "title": dashboard.title,
                "configMap": f"{namespace}/{dashboard.config_map_name}",
            }
            for dashboard in dashboards
        ]
    ),
)
