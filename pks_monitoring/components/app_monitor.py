"""AppMonitor: Prometheus scrapes one application, from the application's own namespace.

Per app: a ServiceMonitor (monitoring.coreos.com/v1) next to the app, selecting its Service by
labels and the Service port by name; and in every namespace Prometheus discovers the app in, a
Role and RoleBinding that let the Prometheus service account read exactly what its service
discovery reads there. The discovery role is the deployed Prometheus resource's
(`service_discovery_role`), so the Role follows the kube-prometheus release in use.

Other Pulumi projects can use it with this stack's outputs, read through a StackReference (the
service account and the discovery role are Inputs):

    ref = pulumi.StackReference("<org>/pks-monitoring/<cluster>")
    app = AppSettings.model_validate(
        {"name": "orders", "namespace": "shop", "selector": {"app": "orders"}, "port": "http"})
    AppMonitor("orders", AppMonitorArgs.from_settings(
        app, ref.get_output("prometheusServiceAccount"),
        ref.get_output("prometheusServiceDiscoveryRole")))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from pks_monitoring.components.demo_app import DemoAppArgs
from pks_monitoring.components.team_route import TeamRoute, TeamRouteArgs, secret_name
from pks_monitoring.manifests import Manifest
from pks_monitoring.settings import PROJECT, Settings, SettingsError
from pks_monitoring.settings.alertmanager import AlertReceiver
from pks_monitoring.settings.apps import AppSettings
from pks_monitoring.upstream import KubePrometheus

# What Prometheus' Kubernetes service discovery lists and watches in a namespace to find a
# ServiceMonitor's targets: the objects of its discovery role (API group, resource)...
DISCOVERY_RESOURCES = {
    "Endpoints": ("", "endpoints"),
    "EndpointSlice": ("discovery.k8s.io", "endpointslices"),
}
# ...and the Services and Pods those point at (target labels, the port-name match).
_TARGET_RESOURCES = ["services", "pods"]
_READ = ["get", "list", "watch"]


def service_discovery_role(prometheus: Manifest) -> str:
    """The discovery role of a Prometheus resource (kube-prometheus' `k8s`) as prometheus-operator
    reads it: unset means Endpoints, the operator's default (v0.18.0 sets EndpointSlice)."""
    role = str((prometheus.get("spec") or {}).get("serviceDiscoveryRole", "Endpoints"))
    if role not in DISCOVERY_RESOURCES:
        name = prometheus.get("metadata", {}).get("name")
        raise SettingsError(
            f"{PROJECT}:kubePrometheus.manifests: the Prometheus {name} resource has "
            f"serviceDiscoveryRole {role!r}, which AppMonitor cannot grant; it knows "
            f"{' and '.join(DISCOVERY_RESOURCES)}"
        )
    return role


def discovery_rules(role: str) -> list[dict[str, Any]]:
    """The Role rules for one discovery role: get/list/watch on its objects, Services and Pods."""
    if role not in DISCOVERY_RESOURCES:
        raise ValueError(
            f"discovery role {role!r}: use {' or '.join(DISCOVERY_RESOURCES)} "
            "(the stack output prometheusServiceDiscoveryRole)"
        )
    group, resource = DISCOVERY_RESOURCES[role]
    return [
        {"apiGroups": [group], "resources": [resource], "verbs": list(_READ)},
        {"apiGroups": [""], "resources": list(_TARGET_RESOURCES), "verbs": list(_READ)},
    ]


def service_account_subject(account: Any) -> dict[str, str]:
    """The RoleBinding subject for the stack output prometheusServiceAccount."""
    if not isinstance(account, Mapping) or not account.get("namespace") or not account.get("name"):
        raise ValueError(
            "prometheus_service_account: expected {namespace, name} "
            f"(the stack output prometheusServiceAccount), got {account!r}"
        )
    return {"kind": "ServiceAccount", "namespace": account["namespace"], "name": account["name"]}


def apps_to_monitor(settings: Settings) -> tuple[AppSettings, ...]:
    """`apps`, plus the demo app's entry when `demoApp.enabled`; raises SettingsError when two
    share a name (it names their ServiceMonitors, Roles and Pulumi resources). Call it before any
    resource is registered."""
    seen: dict[str, int] = {}
    for index, app in enumerate(settings.apps):
        if app.name in seen:
            raise SettingsError(
                f"{PROJECT}:apps[{index}].name: {app.name!r} is also the name of "
                f"apps[{seen[app.name]}]; give every app its own name"
            )
        seen[app.name] = index
    demo = DemoAppArgs.from_settings(settings)
    if demo is None:
        return tuple(settings.apps)
    if demo.name in seen:
        raise SettingsError(
            f"{PROJECT}:apps[{seen[demo.name]}].name: {demo.name!r} is the demo app's name "
            "(demoApp.enabled); rename the app or turn the demo app off"
        )
    return (*settings.apps, demo.monitored_app())


def discovery_role_name(app: str) -> str:
    """The name of the Role and RoleBinding that let Prometheus discover `app`."""
    return f"{app}-prometheus-discovery"


def discovery_namespaces(app: AppSettings) -> tuple[str, ...]:
    """Where Prometheus discovers the app's Service: its namespaceSelector, else its namespace."""
    selector = app.namespace_selector
    return tuple(selector.match_names) if selector else (app.namespace,)


def app_objects(app: AppSettings) -> list[tuple[str, str, str]]:
    """(kind, namespace, name) of every object AppMonitor creates for `app`."""
    role = discovery_role_name(app.name)
    roles = [(kind, ns, role) for ns in discovery_namespaces(app) for kind in ("Role", "RoleBinding")]
    team = [("AlertmanagerConfig", app.namespace, app.name), ("Secret", app.namespace, secret_name(app.name))]
    return [("ServiceMonitor", app.namespace, app.name), *roles, *(team if app.receiver else [])]


def team_namespaces(apps: tuple[AppSettings, ...]) -> tuple[str, ...]:
    """The namespaces of the apps with their own receiver: the `main` Alertmanager takes their
    AlertmanagerConfigs, and the platform's receivers no longer get their alerts."""
    return tuple(sorted({app.namespace for app in apps if app.receiver is not None}))


def check_apps_against_upstream(settings: Settings, upstream: KubePrometheus) -> None:
    """SettingsError when an app's ServiceMonitor, Role or RoleBinding is an object upstream
    deploys (an app named `grafana` in the stack's namespace): one of the two would overwrite
    the other. Call it before any resource is registered."""

    def where(obj: Manifest) -> str:
        namespace = str(obj.get("metadata", {}).get("namespace", ""))
        return settings.kube_prometheus.namespace if namespace == upstream.namespace else namespace

    taken = {(o.get("kind"), where(o), o.get("metadata", {}).get("name")) for o in upstream.objects}
    for index, app in enumerate(settings.apps):
        clash = next((o for o in app_objects(app) if o in taken), None)
        if clash is not None:
            kind, namespace, name = clash
            raise SettingsError(
                f"{PROJECT}:apps[{index}].name: {app.name!r} makes {kind} {name} in namespace "
                f"{namespace}, which kube-prometheus deploys already; give the app another name"
            )


@dataclass(frozen=True)
class AppMonitorArgs:
    app: str  # names the ServiceMonitor
    namespace: str  # the app's namespace: the ServiceMonitor lives there
    selector: Mapping[str, str]  # labels of the app's Service
    port: str  # the Service port's name
    path: str
    interval: str  # a Prometheus duration
    scheme: str  # http or https
    namespaces: tuple[str, ...]  # where Prometheus discovers the Service; each gets a Role
    # {namespace, name}: the stack output prometheusServiceAccount, or a StackReference's Output.
    prometheus_service_account: pulumi.Input[Mapping[str, str]]
    discovery_role: pulumi.Input[str]  # service_discovery_role() of the Prometheus in use
    tls_config: Optional[Mapping[str, Any]] = None  # the endpoint's tlsConfig, as the CRD has it
    receiver: Optional[AlertReceiver] = None  # the team's: a TeamRoute in the app's namespace

    @classmethod
    def from_settings(
        cls,
        app: AppSettings,
        prometheus_service_account: pulumi.Input[Mapping[str, str]],
        discovery_role: pulumi.Input[str],
    ) -> AppMonitorArgs:
        return cls(
            app=app.name,
            namespace=app.namespace,
            selector=dict(app.selector),
            port=app.port,
            path=app.path,
            interval=app.interval,
            scheme=app.scheme,
            namespaces=discovery_namespaces(app),
            prometheus_service_account=prometheus_service_account,
            discovery_role=discovery_role,
            tls_config=app.tls_config.model_dump(by_alias=True, exclude_none=True)
            if app.tls_config
            else None,
            receiver=app.receiver,
        )


class AppMonitor(pulumi.ComponentResource):
    service_monitor: k8s.apiextensions.CustomResource
    roles: list[k8s.rbac.v1.Role]
    role_bindings: list[k8s.rbac.v1.RoleBinding]
    team_route: Optional[TeamRoute]  # with the app's own receiver

    def __init__(self, name: str, args: AppMonitorArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pks-monitoring:index:AppMonitor", name, None, opts)
        depends_on = opts.depends_on if opts else None

        def child(*parts: str) -> dict[str, Any]:
            """The resource name and options of the child `name/parts...`. "/" cannot occur in a
            Kubernetes name or namespace, so two AppMonitors' children never share a name: with
            "-", app a-b watching namespace c and app a watching b-c both made `...-a-b-c-role`,
            a duplicate URN the engine refuses. The alias is the name the child had then: without
            it a stack deployed before would try to create every object again."""
            return {
                "resource_name": "/".join((name, *parts)),
                # Children wait for what the component waits for (the CRDs, the app's namespace):
                # the engine does not hand a component's dependencies down to its children.
                "opts": pulumi.ResourceOptions(
                    parent=self,
                    depends_on=depends_on,
                    aliases=[pulumi.Alias(name="-".join((name, *parts)))],
                ),
            }

        endpoint: dict[str, Any] = {
            "port": args.port,
            "path": args.path,
            "interval": args.interval,
            "scheme": args.scheme,
            # job = the app's name, not the Service's (the operator's default): the app alerts
            # and the dashboard's job variable find the app by the name in settings.
            "relabelings": [{"targetLabel": "job", "replacement": args.app}],
        }
        if args.tls_config:
            endpoint["tlsConfig"] = dict(args.tls_config)
        # No spec.serviceDiscoveryRole: the ServiceMonitor discovers with the Prometheus
        # resource's role, which is the one the Roles below grant.
        self.service_monitor = k8s.apiextensions.CustomResource(
            **child("servicemonitor"),
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata={"name": args.app, "namespace": args.namespace},
            spec={
                "selector": {"matchLabels": dict(args.selector)},
                "namespaceSelector": {"matchNames": list(args.namespaces)},
                "endpoints": [endpoint],
            },
        )

        # Any: the SDK's typed dicts do not take these plain dicts (they are the same shape).
        rules: Any = pulumi.Output.from_input(args.discovery_role).apply(discovery_rules)
        subject: Any = pulumi.Output.from_input(args.prometheus_service_account).apply(
            service_account_subject
        )
        role_name = discovery_role_name(args.app)
        role_ref: Any = {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role_name}
        self.roles, self.role_bindings = [], []
        for namespace in args.namespaces:
            metadata: Any = {"name": role_name, "namespace": namespace}
            self.roles.append(k8s.rbac.v1.Role(**child(namespace, "role"), metadata=metadata, rules=rules))
            self.role_bindings.append(
                k8s.rbac.v1.RoleBinding(
                    **child(namespace, "rolebinding"),
                    metadata=metadata,
                    role_ref=role_ref,
                    subjects=[subject],
                )
            )

        self.team_route = None
        if args.receiver is not None:
            self.team_route = TeamRoute(
                f"{name}/team-route",
                TeamRouteArgs(app=args.app, namespace=args.namespace, receiver=args.receiver),
                opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on),
            )

        self.register_outputs(
            {
                "service_monitor": {"namespace": args.namespace, "name": args.app},
                "discovery_namespaces": list(args.namespaces),
            }
        )
