"""`pks-monitoring:network`: NSX-T refuses a NodePort Grafana and ingress-controller selectors
NCP cannot turn into firewall rules; other networks take them."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

NETWORK = "pks-monitoring:network"
GRAFANA = "pks-monitoring:grafana"
CONTROLLER = {"namespace": "ingress-nginx", "podLabels": {"app.kubernetes.io/name": "ingress-nginx"}}
INGRESS = {"type": "Ingress", "host": "grafana.example.com", "ingressController": CONTROLLER}


def stack(network: str | None, expose: dict) -> dict:
    raw = {**BASE, GRAFANA: {"adminPassword": "s3cret-pw", "expose": expose}}
    if network is not None:
        raw[NETWORK] = network
    return raw


def test_default_is_not_nsx_t_and_takes_a_node_port():
    settings = Settings.from_raw(stack(None, {"type": "NodePort"}))
    assert settings.network == "flannel" and settings.grafana.expose.type == "NodePort"


@pytest.mark.parametrize("network", ["flannel", "antrea"])
def test_other_networks_take_a_node_port(network):
    assert Settings.from_raw(stack(network, {"type": "NodePort", "nodePort": 30300})).network == network


def test_nsx_t_refuses_a_node_port_grafana_naming_the_key_and_the_fix():
    message = assert_one_line_error(
        stack("nsx-t", {"type": "NodePort"}), f"{GRAFANA}.expose.type", "NodePort is not usable on NSX-T"
    )
    assert "set it to LoadBalancer" in message and "or Ingress" in message


@pytest.mark.parametrize(
    "expose",
    [
        {"type": "none"},
        {"type": "LoadBalancer", "loadBalancerSourceRanges": ["10.0.0.0/8"]},
        INGRESS,
        {**INGRESS, "ingressController": {"cidrs": ["192.168.10.0/24"]}},  # the NSX-T LB's SNAT range
    ],
)
def test_nsx_t_takes_the_exposures_ncp_serves(expose):
    assert Settings.from_raw(stack("nsx-t", expose)).network == "nsx-t"


def test_nsx_t_takes_four_pod_labels_and_refuses_five():
    labels = {f"example.com/l{i}": "x" for i in range(5)}
    four = {**INGRESS, "ingressController": {**CONTROLLER, "podLabels": dict(list(labels.items())[:4])}}
    assert Settings.from_raw(stack("nsx-t", four)).network == "nsx-t"
    five = {**INGRESS, "ingressController": {**CONTROLLER, "podLabels": labels}}
    assert_one_line_error(
        stack("nsx-t", five),
        f"{GRAFANA}.expose.ingressController.podLabels",
        "NCP takes at most 4 matchLabels in a podSelector",
    )
    assert Settings.from_raw(stack("flannel", five)).network == "flannel"  # a limit of NSX-T's only


def test_nsx_t_refuses_a_label_key_longer_than_a_tag_scope():
    """A valid Kubernetes label key (prefix up to 253, name up to 63) may exceed NSX-T's
    128-character tag scope; 128 exactly fits."""
    fits = "a" * 60 + ".example.com/" + "n" * 55  # 128 characters
    assert len(fits) == 128
    too_long = "b" + fits
    for key, ok in ((fits, True), (too_long, False)):
        expose = {**INGRESS, "ingressController": {**CONTROLLER, "podLabels": {key: "ingress"}}}
        if ok:
            assert Settings.from_raw(stack("nsx-t", expose)).network == "nsx-t"
        else:
            assert_one_line_error(
                stack("nsx-t", expose),
                f"{GRAFANA}.expose.ingressController.podLabels",
                "tag scopes of at most 128 characters",
            )


def test_an_unknown_network_is_refused():
    assert_one_line_error({**BASE, NETWORK: "nsxt"}, NETWORK, "'flannel', 'antrea' or 'nsx-t' (got 'nsxt')")
