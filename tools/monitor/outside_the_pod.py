"""What Prometheus' generated config takes from running in a pod, told to it explicitly.

In a pod, Kubernetes discovery without `api_server` uses client-go's in-cluster config: the API
server from KUBERNETES_SERVICE_HOST/PORT and the credentials at the service-account mount. Here
every `kubernetes_sd_configs` entry without an `api_server` gets those three things explicitly:
the API server's URL and the pod's own token and CA (written by `tools.monitor.pods`), so RBAC
decides what it discovers exactly as in the pod. And in a pod, scrapes and alert pushes go out
over the pod network; here every scrape job and Alertmanager endpoint goes through `proxy_url`,
the pod network of the played pods (`tools.monitor.pod_network`). `remote_write` is left as it
is: a store outside the cluster is dialled directly from a pod too, and the pod-network proxy
leads only pod IPs (a store on loopback, as the e2e tier's, is reached as it is). Nothing else changes: jobs,
relabelings, intervals and rule files are the operator's (paths already localized by `pods`).
"""

from __future__ import annotations

import copy
from typing import Any


def in_cluster(discovery: dict[str, Any], api_server: str, token_file: str, ca_file: str) -> dict[str, Any]:
    """One kubernetes_sd_configs entry; one that names its own api_server is left alone."""
    if discovery.get("api_server"):
        return discovery
    return {
        **discovery,
        "api_server": api_server,
        "authorization": {"type": "Bearer", "credentials_file": token_file},
        "tls_config": {"ca_file": ca_file},
    }


def prepare(
    config: dict[str, Any], *, api_server: str, token_file: str, ca_file: str, proxy_url: str | None
) -> dict[str, Any]:
    """The config as Prometheus needs it outside the pod (a copy)."""
    config = copy.deepcopy(config)
    clients = [
        *(config.get("scrape_configs") or []),
        *((config.get("alerting") or {}).get("alertmanagers") or []),
    ]
    for client in clients:
        if "kubernetes_sd_configs" in client:
            client["kubernetes_sd_configs"] = [
                in_cluster(d, api_server, token_file, ca_file) for d in client["kubernetes_sd_configs"]
            ]
        if proxy_url:
            client["proxy_url"] = proxy_url
    return config
