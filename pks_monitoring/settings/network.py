"""`network`: the cluster's container network, as chosen in the TKGI tile's Networking pane
(`nsx-t`: NSX-T with the NSX Container Plugin, NCP; `antrea` or `flannel` otherwise). On NSX-T
the program refuses what NCP does not serve and what it cannot turn into firewall rules.

The facts, from VMware's NCP documentation (NSX Container Plugin 3.2 / 4.1, "Configuring
Network Resources" and the NCP overview):
- NCP implements Services of type ClusterIP and LoadBalancer (an NSX-T load balancer virtual
  server), not NodePort; and in TKGI's NAT topology the nodes sit on a NAT'd logical switch that
  is reached from outside only through DNAT rules (TKGI "NSX-T Deployment Topologies").
- NCP copies labels to NSX-T tags: a tag's scope (the label key) holds at most 128 characters and
  its value at most 256, longer ones are truncated and a firewall rule on them "might not be
  applied as expected"; a podSelector or namespaceSelector takes at most 4 matchLabels, and
  matchExpressions are not supported in Manager mode.
"""

from __future__ import annotations

from typing import Literal

from pks_monitoring.settings.grafana import GrafanaExposeSettings
from pks_monitoring.settings.types import PROJECT, SettingsError

Network = Literal["flannel", "antrea", "nsx-t"]

NSX_T_TAG_SCOPE_LENGTH = 128  # a label key becomes a tag scope
NSX_T_TAG_VALUE_LENGTH = 256  # a label value becomes a tag value
NSX_T_MATCH_LABELS = 4  # per podSelector or namespaceSelector


def check_grafana_on_nsx_t(expose: GrafanaExposeSettings) -> None:
    """Raises SettingsError (one line) for a Grafana exposure NSX-T cannot serve or police."""
    if expose.type == "NodePort":
        raise SettingsError(
            f"{PROJECT}:grafana.expose.type: NodePort is not usable on NSX-T (network: nsx-t): NCP "
            "serves ClusterIP and LoadBalancer Services only and TKGI's NAT topology puts the nodes "
            "behind NAT; set it to LoadBalancer (NCP creates an NSX-T load balancer) or Ingress"
        )
    controller = expose.ingress_controller
    if controller is None:
        return
    key = f"{PROJECT}:grafana.expose.ingressController.podLabels"
    if len(controller.pod_labels) > NSX_T_MATCH_LABELS:
        raise SettingsError(
            f"{key}: {len(controller.pod_labels)} labels, and NCP takes at most "
            f"{NSX_T_MATCH_LABELS} matchLabels in a podSelector (network: nsx-t); keep the "
            f"{NSX_T_MATCH_LABELS} that select the controller pods"
        )
    for label, value in controller.pod_labels.items():
        if len(label) > NSX_T_TAG_SCOPE_LENGTH or len(value) > NSX_T_TAG_VALUE_LENGTH:
            raise SettingsError(
                f"{key}: {label!r} is longer than NSX-T takes (network: nsx-t: NCP copies label keys "
                f"to tag scopes of at most {NSX_T_TAG_SCOPE_LENGTH} characters, values to tags of "
                f"at most {NSX_T_TAG_VALUE_LENGTH}, and truncates the rest); select the controller "
                "pods by a shorter label"
            )
