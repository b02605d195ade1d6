"""`pks-monitoring:grafana`: defaults, one clear line per bad input, and secrets set in plain text."""

from __future__ import annotations

import json

import pytest

from pks_monitoring.offline.mock_engine import stack_config
from pks_monitoring.settings import Settings, plain_text_secrets
from tests.helpers.settings import BASE, assert_one_line_error

GRAFANA = "pks-monitoring:grafana"
PASSWORD = "MARKER-grafana-pw-7f3a"
CONTROLLER = {"namespace": "ingress-nginx", "podLabels": {"app.kubernetes.io/name": "ingress-nginx"}}


def grafana(**values) -> dict:
    return {**BASE, GRAFANA: {"adminPassword": PASSWORD, **values}}


def test_defaults():
    settings = Settings.from_raw(BASE).grafana
    assert settings.admin_user == "admin" and settings.admin_password is None
    assert settings.expose.type == "none"


def test_password_is_kept_secret():
    settings = Settings.from_raw(grafana())
    assert PASSWORD not in repr(settings) and PASSWORD not in str(settings.model_dump())
    assert settings.grafana.admin_password.get_secret_value() == PASSWORD


def test_ingress_settings():
    expose = Settings.from_raw(
        grafana(
            expose={
                "type": "Ingress",
                "host": "grafana.example.com",
                "tlsSecretName": "grafana-tls",
                "ingressController": {**CONTROLLER, "cidrs": ["10.40.0.7"]},
            }
        )
    ).grafana.expose
    assert expose.host == "grafana.example.com" and expose.tls_secret_name == "grafana-tls"
    assert expose.ingress_controller.cidrs == ["10.40.0.7/32"]  # an address is a /32


@pytest.mark.parametrize(
    "values, key, words",
    [
        (
            {"expose": {"type": "Ingress", "ingressController": CONTROLLER}},
            f"{GRAFANA}.expose",
            f"host is required when type is Ingress; set it with `pulumi config set --path {GRAFANA}.expose.host",
        ),
        (
            {"expose": {"type": "ClusterIP"}},
            f"{GRAFANA}.expose.type",
            "'none', 'NodePort', 'LoadBalancer' or 'Ingress' (got 'ClusterIP')",
        ),
        ({"expose": {"type": "nodeport"}}, f"{GRAFANA}.expose.type", "(got 'nodeport')"),
        (
            {"expose": {"type": "NodePort", "nodePort": 8080}},
            f"{GRAFANA}.expose.nodePort",
            "greater than or equal to 30000 (got 8080)",
        ),
        (
            {"expose": {"type": "NodePort", "nodePort": 32768}},
            f"{GRAFANA}.expose.nodePort",
            "less than or equal to 32767 (got 32768)",
        ),
        (
            {"expose": {"type": "Ingress", "host": "grafana.example.com"}},
            f"{GRAFANA}.expose",
            "ingressController is required when type is Ingress",
        ),
        (
            {"expose": {"type": "Ingress", "host": "10.0.0.8", "ingressController": CONTROLLER}},
            f"{GRAFANA}.expose.host",
            "IP address",
        ),
        (
            {"expose": {"type": "Ingress", "host": "Grafana_UI", "ingressController": CONTROLLER}},
            f"{GRAFANA}.expose.host",
            "pattern",
        ),
        (
            {
                "expose": {
                    "type": "Ingress",
                    "host": "g.example.com",
                    "ingressController": {"namespace": "ingress-nginx"},
                }
            },
            f"{GRAFANA}.expose.ingressController",
            "namespace and podLabels go together",
        ),
        (
            {"expose": {"type": "Ingress", "host": "g.example.com", "ingressController": {}}},
            f"{GRAFANA}.expose.ingressController",
            "name the controller",
        ),
        (
            {
                "expose": {
                    "type": "Ingress",
                    "host": "g.example.com",
                    "ingressController": {"cidrs": ["10.0.0.1/8"]},
                }
            },
            f"{GRAFANA}.expose.ingressController.cidrs",
            "host bits set",
        ),
        (
            {"expose": {"type": "LoadBalancer", "loadBalancerSourceRanges": ["any"]}},
            f"{GRAFANA}.expose.loadBalancerSourceRanges",
            "'any' is not an IPv4 network",
        ),
        (
            {"expose": {"type": "NodePort", "host": "g.example.com"}},
            f"{GRAFANA}.expose",
            "host does not apply to type NodePort",
        ),
        (
            {"expose": {"loadBalancerSourceRanges": ["10.0.0.0/8"]}},
            f"{GRAFANA}.expose",
            "loadBalancerSourceRanges does not apply to type none",
        ),
        ({"expose": {"type": "NodePort", "hots": "x"}}, f"{GRAFANA}.expose.hots", "unknown key"),
        ({"adminPassword": "admin"}, f"{GRAFANA}.adminPassword", "well-known default"),
        ({"adminPassword": ""}, f"{GRAFANA}.adminPassword", "empty"),
        ({"adminUser": "grafana admin"}, f"{GRAFANA}.adminUser", "pattern"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(values, key, words):
    message = assert_one_line_error(grafana(**values), key, words)
    assert PASSWORD not in message


# --- The password given in plain text (settings.plain_text_secrets, shared by every secret) -----------


def test_password_in_plain_text_is_refused(write_stack):
    plain = write_stack({GRAFANA: {"adminPassword": PASSWORD}}, name="Pulumi.plain.yaml")
    config, secret_keys = stack_config(plain)
    [line] = plain_text_secrets({GRAFANA: json.loads(config[GRAFANA])}, set(secret_keys))
    assert line.startswith(
        f"{GRAFANA}.adminPassword: a secret given in plain text; set it with "
        f"`pulumi config set --secret --path '{GRAFANA}.adminPassword' <value>`"
    )
    assert PASSWORD not in line


def test_password_set_as_a_secret_passes(write_stack):
    # `pulumi config set --secret --path pks-monitoring:grafana.adminPassword` writes `secure:`.
    secure = write_stack({GRAFANA: {"adminPassword": {"secure": "AAAA"}, "expose": {"type": "NodePort"}}})
    config, secret_keys = stack_config(secure)
    assert plain_text_secrets({GRAFANA: json.loads(config[GRAFANA])}, set(secret_keys)) == []
    assert plain_text_secrets({GRAFANA: {"expose": {"type": "NodePort"}}}, set()) == []
