"""TeamRoute under the mock engine (preview=False), built by AppMonitor for an app with its own
receiver: the AlertmanagerConfig validates against the CRD and names only keys the Secret beside
it holds; the receiver's secrets are in that Secret, a Pulumi secret, and nowhere else."""

from __future__ import annotations

import copy
import json

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.runtime import rpc

from pks_monitoring.components.app_monitor import AppMonitor, AppMonitorArgs, app_objects
from pks_monitoring.offline.render import plain
from pks_monitoring.parts.alertmanager import TEAM_ROUTE_LABEL
from pks_monitoring.settings.apps import AppSettings
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom

ACCOUNT = {"namespace": "monitoring", "name": "prometheus-k8s"}
# One receiver per type, every secret a marker; and where the CRD wants each secret.
RECEIVERS = {
    "webhook": ({"name": "team", "type": "webhook", "url": "https://hooks.example/MARKER-url"}, "urlSecret"),
    "slack": (
        {"name": "team", "type": "slack", "apiUrl": "https://slack.example/MARKER-api", "channel": "#t"},
        "apiURL",
    ),
    "email": (
        {
            "name": "team",
            "type": "email",
            "to": "team@example.com",
            "from": "am@example.com",
            "smarthost": "smtp.example.com:587",
            "authUsername": "am",
            "authPassword": "MARKER-password",
            "requireTls": True,
            "sendResolved": False,
        },
        "authPassword",
    ),
    "pagerduty": ({"name": "team", "type": "pagerduty", "routingKey": "MARKER-routing"}, "routingKey"),
    "pagerduty-v1": ({"name": "team", "type": "pagerduty", "serviceKey": "MARKER-service"}, "serviceKey"),
}


def app(receiver: dict | None) -> AppSettings:
    return AppSettings.model_validate(
        {
            "name": "orders",
            "namespace": "shop",
            "selector": {"app": "orders"},
            "port": "http",
            "receiver": receiver,
        }
    )


@pytest.fixture(scope="module")
def schemas(manifests_dir):
    return crd_schemas(manifests_dir)


def build(settings: AppSettings, opts: pulumi.ResourceOptions | None = None) -> AppMonitor:
    provider = k8s.Provider("test-k8s", context="demo")
    opts = pulumi.ResourceOptions.merge(pulumi.ResourceOptions(providers={"kubernetes": provider}), opts)
    return AppMonitor(
        "demo-app-orders", AppMonitorArgs.from_settings(settings, ACCOUNT, "Endpoints"), opts=opts
    )


def registered(monitor_: AppMonitor) -> pulumi.Output:
    route = monitor_.team_route
    assert route is not None
    return pulumi.Output.all(route.secret.urn, route.alertmanager_config.urn, monitor_.service_monitor.urn)


@pytest.mark.parametrize("kind", list(RECEIVERS))
@pulumi.runtime.test
def test_the_config_validates_and_its_secret_holds_what_it_names(monitor, schemas, kind):
    receiver, secret_field = RECEIVERS[kind]
    settings = app(receiver)
    secret_value = next(v for k, v in receiver.items() if str(v).find("MARKER") >= 0)

    def check(_):
        found = {
            (r.inputs["kind"], r.inputs["metadata"]["name"]): r for r in monitor.mocks.kubernetes_objects()
        }
        config = plain(found["AlertmanagerConfig", "orders"].inputs)
        secret = found["Secret", "orders-alertmanager-receiver"].inputs
        assert config["metadata"] == {"name": "orders", "namespace": "shop", "labels": TEAM_ROUTE_LABEL}
        assert validate_custom(config, schemas) == []
        # Every alert of the namespace to the one receiver.
        assert config["spec"]["route"] == {"receiver": "team"}
        [spec_receiver] = config["spec"]["receivers"]
        [(integrations, [integration])] = [(k, v) for k, v in spec_receiver.items() if k != "name"]
        assert integrations == f"{receiver['type']}Configs"
        # The secret: a key of the Secret beside the config, which holds the value in a Pulumi secret.
        reference = integration[secret_field]
        assert reference["name"] == "orders-alertmanager-receiver"
        assert rpc.is_rpc_secret(secret["stringData"])
        assert rpc.unwrap_rpc_secret(secret["stringData"]) == {reference["key"]: secret_value}
        assert secret["metadata"]["namespace"] == "shop"
        assert validate_core({**plain(secret), "stringData": {reference["key"]: "x"}}) == []
        # Nothing in clear anywhere but inside that secret.
        shown = json.dumps([plain(r.inputs) for r in monitor.mocks.kubernetes_objects()])
        assert "MARKER" not in shown
        # The check bites: a misspelt integration field is refused by the CRD's schema.
        bad = copy.deepcopy(config)
        bad["spec"]["receivers"][0][integrations][0]["urlSecrets"] = reference
        assert validate_custom(bad, schemas)

    return registered(build(settings)).apply(check)


@pulumi.runtime.test
def test_plain_settings_reach_the_integration(monitor):
    receiver, _ = RECEIVERS["email"]

    def check(_):
        [config] = [r for r in monitor.mocks.kubernetes_objects() if r.inputs["kind"] == "AlertmanagerConfig"]
        [integration] = config.inputs["spec"]["receivers"][0]["emailConfigs"]
        assert {k: v for k, v in integration.items() if k != "authPassword"} == {
            "to": "team@example.com",
            "from": "am@example.com",
            "smarthost": "smtp.example.com:587",
            "authUsername": "am",
            "requireTLS": True,
            "sendResolved": False,
        }

    return registered(build(app(receiver))).apply(check)


@pulumi.runtime.test
def test_the_route_waits_for_what_the_monitor_waits_for_and_the_config_for_its_secret(monitor):
    provider = k8s.Provider("ns-k8s", context="demo")
    namespace = k8s.core.v1.Namespace(
        "shop", metadata={"name": "shop"}, opts=pulumi.ResourceOptions(provider=provider)
    )
    built = build(app(RECEIVERS["webhook"][0]), pulumi.ResourceOptions(depends_on=[namespace]))

    def check(_):
        deps = {name: urns for (_, name), urns in monitor.dependencies.items()}
        secret = "demo-app-orders/team-route/secret"
        config = "demo-app-orders/team-route/alertmanagerconfig"
        assert any(urn.endswith("::shop") for urn in deps[secret])
        assert any(urn.endswith("::shop") for urn in deps[config])
        assert any(urn.endswith("::" + secret) for urn in deps[config])

    return registered(built).apply(check)


@pulumi.runtime.test
def test_without_a_receiver_there_is_no_route(monitor):
    built = build(app(None))
    assert built.team_route is None
    assert [k for k, _, _ in app_objects(app(None))] == ["ServiceMonitor", "Role", "RoleBinding"]

    def check(_):
        kinds = {r.inputs["kind"] for r in monitor.mocks.kubernetes_objects()}
        assert kinds == {"ServiceMonitor", "Role", "RoleBinding"}

    return pulumi.Output.all(built.service_monitor.urn, *[r.urn for r in built.role_bindings]).apply(check)


def test_app_objects_name_the_route_s_objects():
    assert app_objects(app(RECEIVERS["webhook"][0]))[-2:] == [
        ("AlertmanagerConfig", "shop", "orders"),
        ("Secret", "shop", "orders-alertmanager-receiver"),
    ]
