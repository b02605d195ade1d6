"""MonitoringStack: kube-prometheus deployed from its manifests, each part's patches applied and
each part's objects added (pks_monitoring.parts)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

import pulumi
import pulumi_kubernetes as k8s
from pydantic.alias_generators import to_snake

from pks_monitoring.kubectl import kubectl
from pks_monitoring.manifests import Manifest, Transformation, rename_namespace
from pks_monitoring.namespace_guard import NamespaceGuard
from pks_monitoring.parts import plan
from pks_monitoring.parts.part import Added, PartPlan, StackInputs
from pks_monitoring.parts.pod_security import label_namespace
from pks_monitoring.settings import Settings
from pks_monitoring.upstream import WEB_SERVICES, KubePrometheus

# The resource classes of the objects parts add; any other kind is a custom resource.
_RESOURCE_CLASSES: dict[str, Any] = {
    "ConfigMap": k8s.core.v1.ConfigMap,
    "PersistentVolumeClaim": k8s.core.v1.PersistentVolumeClaim,
    "Secret": k8s.core.v1.Secret,
    "Ingress": k8s.networking.v1.Ingress,
    "StorageClass": k8s.storage.v1.StorageClass,
}
# What parts add that outlives the stack like the namespace: Grafana's claim, and the
# StorageClass every claim (retained too) was made with.
_SHARED_KINDS = ("PersistentVolumeClaim", "StorageClass")


@dataclass(frozen=True)
class MonitoringStackArgs:
    settings: Settings
    upstream: KubePrometheus
    parts: tuple[PartPlan, ...]  # what each part patches and adds

    @classmethod
    def prepare(cls, inputs: StackInputs) -> MonitoringStackArgs:
        """Every part planned: raises SettingsError before any resource is registered."""
        return cls(inputs.settings, inputs.upstream, plan(inputs))


def _wait_for(dependencies: Sequence[pulumi.Resource]) -> Transformation:
    """Every object of the ConfigGroup waits for `dependencies` (the namespace, the CRDs...)."""

    def wait(obj: Manifest, opts: pulumi.ResourceOptions) -> None:
        opts.depends_on = list(dependencies)

    return wait  # type: ignore[return-value]  # ConfigFile passes the options too


def _fields(manifest: Manifest) -> dict[str, Any]:
    """The resource arguments of an object: its fields but apiVersion and kind, in snake_case."""
    return {to_snake(k): v for k, v in manifest.items() if k not in ("apiVersion", "kind")}


class MonitoringStack(pulumi.ComponentResource):
    namespace: pulumi.Output[str]
    prometheus_url: pulumi.Output[str]
    alertmanager_url: pulumi.Output[str]
    grafana_url: pulumi.Output[str]
    port_forward: pulumi.Output[dict[str, str]]
    prometheus_service_account: pulumi.Output[dict[str, str]]

    def __init__(
        self, name: str, args: MonitoringStackArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("pks-monitoring:index:MonitoringStack", name, None, opts)
        kp, ns = args.upstream, args.settings.kube_prometheus.namespace
        move = partial(rename_namespace, old=kp.namespace, new=ns)

        # manifests/setup/ first: the namespace, then the CRDs. The Namespace is a plain resource
        # so that depending on it means depending on it (a v1 ConfigFile registers its children
        # late, inside an apply). The CRDs go through the provider's own YAML component (yaml/v2):
        # we change nothing in them, and it spares the program from pushing ~5 MB of schema
        # through the SDK's Output machinery.
        #
        # What is not this stack's alone outlives it (retain on delete: `pulumi destroy`, or a
        # change that would replace them, leaves them in the cluster and drops them from the
        # state): the Namespace, with every claim in it (all metrics history, silences, Grafana's
        # database), and the CRDs, whose deletion would delete every ServiceMonitor, PodMonitor
        # and PrometheusRule of the cluster, app teams' own included. The README's full teardown
        # removes them deliberately. kubePrometheus.protect makes Pulumi refuse to drop them too.
        # Both wait for the guard, which refuses a namespace change that would leave the data
        # behind; everything else of the stack waits for them.
        guard = NamespaceGuard(
            f"{name}-namespace-guard",
            ns,
            args.settings.kube_prometheus.move_namespace,
            opts=pulumi.ResourceOptions(parent=self),
        )
        shared = pulumi.ResourceOptions(
            parent=self,
            retain_on_delete=True,
            protect=args.settings.kube_prometheus.protect,
            depends_on=[guard],
        )
        namespace_manifest = kp.namespace_manifest()
        move(namespace_manifest)
        label_namespace(namespace_manifest, args.settings)  # Pod Security Admission's level
        namespace = k8s.core.v1.Namespace(
            f"{name}-namespace", metadata=namespace_manifest["metadata"], opts=shared
        )
        self.crds = crds = k8s.yaml.v2.ConfigGroup(
            f"{name}-crds", files=[str(path) for path in kp.crd_files], opts=shared
        )
        awaited: list[pulumi.Resource] = [namespace, crds]
        for part in args.parts:
            for added in part.objects:
                resource = self._add(name, added, namespace, crds, shared)
                if added.awaited:
                    awaited.append(resource)

        # One YAML stream rather than `files=`: the same objects and transformations, without a
        # ConfigFile component (and a merge of its outputs) per upstream file. The namespace
        # move comes last: it sees every object as the parts left it.
        transformations = [patch for part in args.parts for patch in part.patches]
        self.objects = k8s.yaml.ConfigGroup(
            f"{name}-kube-prometheus",
            yaml=[kp.yaml_stream()],
            # ConfigGroup calls a transformation with the options too when it takes them.
            transformations=cast(Any, [*transformations, move, _wait_for(awaited)]),
            opts=pulumi.ResourceOptions(parent=self),
        )

        urls, port_forward = {}, {}
        for app, (service, port_name) in WEB_SERVICES.items():
            port = kp.service_port(service, port_name)
            urls[app] = f"http://{service}.{ns}.svc:{port}"
            port_forward[app] = kubectl(
                args.settings.kubernetes, "-n", ns, "port-forward", f"svc/{service}", str(port)
            )
        self.namespace = pulumi.Output.from_input(ns)
        self.prometheus_url = pulumi.Output.from_input(urls["prometheus"])
        self.alertmanager_url = pulumi.Output.from_input(urls["alertmanager"])
        self.grafana_url = pulumi.Output.from_input(urls["grafana"])
        self.port_forward = pulumi.Output.from_input(port_forward)
        self.prometheus_service_account = pulumi.Output.from_input(
            {"namespace": ns, "name": kp.prometheus_service_account()}
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

    def _add(
        self,
        name: str,
        added: Added,
        namespace: pulumi.Resource,
        crds: pulumi.Resource,
        shared: pulumi.ResourceOptions,
    ) -> pulumi.Resource:
        """One object a part adds: in the namespace, custom resources after the CRDs too; a
        claim (Grafana's database) and its StorageClass outlive the stack like the namespace."""
        manifest = added.manifest
        resource_class = _RESOURCE_CLASSES.get(manifest["kind"])
        if resource_class is not None:
            base = (
                shared if manifest["kind"] == "PersistentVolumeClaim" else pulumi.ResourceOptions(parent=self)
            )
            return resource_class(  # type: ignore[no-any-return]
                f"{name}-{added.name}",
                **_fields(manifest),
                opts=pulumi.ResourceOptions.merge(base, pulumi.ResourceOptions(depends_on=[namespace])),
            )
        return k8s.apiextensions.CustomResource(
            f"{name}-{added.name}",
            api_version=manifest["apiVersion"],
            kind=manifest["kind"],
            **_fields(manifest),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[namespace, crds]),
        )
