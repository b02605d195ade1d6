"""The explicit Kubernetes provider every object of the stack goes through."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from pks_monitoring.settings import Settings


def kubernetes_provider(name: str, settings: Settings) -> k8s.Provider:
    """The cluster named by the stack's settings, never the ambient kubeconfig's current context.

    `clusterIdentifier` keeps a kubeconfig refresh (new token from `tkgi get-credentials`) from
    replacing the provider, and with it every object of the stack.
    """
    target = settings.kubernetes
    kubeconfig = pulumi.Output.secret(target.kubeconfig.get_secret_value()) if target.kubeconfig else None
    return k8s.Provider(
        name,
        context=target.context,
        kubeconfig=kubeconfig,
        cluster_identifier=f"pks:{settings.cluster}",
    )
