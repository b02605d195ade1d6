"""DemoApp: a Spring Boot app with Micrometer (making/hello-pks) for a new user to watch its
Prometheus target appear. Opt-in (`demoApp.enabled`); its entry among the monitored apps is
`DemoAppArgs.monitored_app()` (pks_monitoring.components.app_monitor.apps_to_monitor adds it)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s

from pks_monitoring.manifests import Manifest
from pks_monitoring.parts.images import PULL_SECRET, mirrored, pull_secret
from pks_monitoring.settings import Settings
from pks_monitoring.settings.alertmanager import AlertReceiver
from pks_monitoring.settings.apps import DEMO_APP_IMAGE, DEMO_NAMESPACE, AppSettings

PORT_NAME = "http"  # the ServiceMonitor selects the Service port by this name
CONTAINER_PORT = 8080  # Spring Boot's default server.port


@dataclass(frozen=True)
class DemoAppArgs:
    namespace: str = DEMO_NAMESPACE
    name: str = "hello-pks"
    image: str = DEMO_APP_IMAGE
    # The registry login its pod pulls with (`images.pullSecret`), as a Secret of its namespace.
    pull_secret: Optional[Manifest] = field(default=None, hash=False, compare=False)
    receiver: Optional[AlertReceiver] = field(default=None, hash=False, compare=False)  # the team's

    @classmethod
    def from_settings(cls, settings: Settings) -> Optional[DemoAppArgs]:
        """None unless `demoApp.enabled`; its image from the stack's mirror like the others."""
        if not settings.demo_app.enabled:
            return None
        images, namespace = settings.images, cls.namespace
        login = pull_secret(namespace, images) if images.pull_secret else None
        receiver = settings.demo_app.receiver
        return cls(image=mirrored(DEMO_APP_IMAGE, images), pull_secret=login, receiver=receiver)

    @property
    def labels(self) -> dict[str, str]:
        return {"app": self.name}

    def monitored_app(self) -> AppSettings:
        """Scraped through its Service's named port at Micrometer's actuator path (the default)."""
        return AppSettings(
            name=self.name,
            namespace=self.namespace,
            selector=self.labels,
            port=PORT_NAME,
            receiver=self.receiver,
        )


class DemoApp(pulumi.ComponentResource):
    namespace: k8s.core.v1.Namespace  # what the demo app's AppMonitor waits for
    deployment: k8s.apps.v1.Deployment
    service: k8s.core.v1.Service

    def __init__(self, name: str, args: DemoAppArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pks-monitoring:index:DemoApp", name, None, opts)
        self.namespace = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": args.namespace},
            opts=pulumi.ResourceOptions(parent=self),
        )
        in_namespace = pulumi.ResourceOptions(parent=self, depends_on=[self.namespace])
        # Any: the SDK's typed dicts do not take these plain dicts (they are the same shape).
        metadata: Any = {"name": args.name, "namespace": args.namespace, "labels": args.labels}
        container: Any = {
            "name": args.name,
            "image": args.image,
            "ports": [{"name": PORT_NAME, "containerPort": CONTAINER_PORT}],
            # A JVM that is not container-aware sizes its heap from the node's memory and gets
            # OOM-killed at the limit; pin the heap well inside it.
            "env": [{"name": "JAVA_TOOL_OPTIONS", "value": "-Xmx256m"}],
            "resources": {
                "requests": {"cpu": "100m", "memory": "384Mi"},
                "limits": {"memory": "512Mi"},
            },
            # Ready once Tomcat listens: then the Service has an endpoint and the target appears.
            "readinessProbe": {
                "tcpSocket": {"port": PORT_NAME},
                "initialDelaySeconds": 10,
                "periodSeconds": 5,
            },
        }
        pod: Any = {"containers": [container]}
        if args.pull_secret is not None:
            k8s.core.v1.Secret(
                f"{name}-registry",
                metadata=args.pull_secret["metadata"],
                type=args.pull_secret["type"],
                string_data=args.pull_secret["stringData"],
                opts=in_namespace,
            )
            pod["imagePullSecrets"] = [{"name": PULL_SECRET}]
        deployment: Any = {
            "replicas": 1,
            "selector": {"matchLabels": args.labels},
            "template": {"metadata": {"labels": args.labels}, "spec": pod},
        }
        self.deployment = k8s.apps.v1.Deployment(
            f"{name}-deployment", metadata=metadata, spec=deployment, opts=in_namespace
        )
        service: Any = {
            "selector": args.labels,
            "ports": [{"name": PORT_NAME, "port": CONTAINER_PORT, "targetPort": PORT_NAME}],
        }
        self.service = k8s.core.v1.Service(
            f"{name}-service", metadata=metadata, spec=service, opts=in_namespace
        )

        self.register_outputs({"namespace": args.namespace, "service": args.name})
