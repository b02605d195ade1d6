"""The Alertmanager config built from the upstream Secret and the alerting settings, proven with
the real amtool: accepted for each receiver type, and alerts land where the settings route them."""

from __future__ import annotations

import copy
import json
from functools import partial

import pulumi
import pulumi_kubernetes as k8s
import pytest
import yaml
from pulumi.runtime import rpc

from pks_monitoring.offline.render import plain
from pks_monitoring.parts.alertmanager import (
    alertmanager_config,
    alertmanager_secret_text,
    configure_alertmanager,
    render,
    select_team_routes,
    upstream_config,
)
from pks_monitoring.settings import SettingsError
from pks_monitoring.settings.alertmanager import AlertmanagerSettings
from pks_monitoring.upstream import ALERTMANAGER_CONFIG_KEY as CONFIG_KEY
from pks_monitoring.upstream import ALERTMANAGER_SECRET as SECRET
from tests.helpers.prometheus_tools import require, run_tool
from tests.helpers.schemas import crd_schemas, validate_custom

# One receiver per type; every secret holds a marker that must never show in clear.
RECEIVERS = {
    "slack": {
        "name": "ops-slack",
        "type": "slack",
        "channel": "#alerts",
        "sendResolved": True,
        "apiUrl": "https://hooks.slack.example/services/T0/B0/MARKER-slack",
    },
    "webhook": {
        "name": "team-a-hook",
        "type": "webhook",
        "url": "https://hooks.example/alert?token=MARKER-webhook",
    },
    "email": {
        "name": "mail",
        "type": "email",
        "to": "ops@example.com",
        "from": "alertmanager@example.com",
        "smarthost": "smtp.example.com:587",
        "authUsername": "alertmanager",
        "authPassword": "MARKER-smtp",
        "requireTls": True,
        "sendResolved": False,
    },
    "pagerduty": {"name": "oncall", "type": "pagerduty", "routingKey": "MARKER-pagerduty-v2"},
    "pagerduty-v1": {"name": "legacy-pager", "type": "pagerduty", "serviceKey": "MARKER-pagerduty-v1"},
}
# Where each type's secret lands in Alertmanager's config.
SECRET_FIELDS = {
    "slack": "api_url",
    "webhook": "url",
    "email": "auth_password",
    "pagerduty": "routing_key",
    "pagerduty-v1": "service_key",
}
MARKERS = [
    r[k]
    for r in RECEIVERS.values()
    for k in ("apiUrl", "url", "authPassword", "routingKey", "serviceKey")
    if k in r
]

ROUTED = {
    "receivers": list(RECEIVERS.values()),
    "defaultReceiver": "ops-slack",
    "routes": [
        {"receiver": "oncall", "severity": "critical"},
        {"receiver": "team-a-hook", "namespace": "team-a", "continue": True},
        {"receiver": "mail", "severity": "warning", "matchers": ['alertname =~ "Kube.*"']},
    ],
}


# The alertmanager.yaml ROUTED must give, written out by hand from upstream's Secret (v0.18.0) and
# Alertmanager's config format: upstream's global and inhibit rules; its Watchdog and InfoInhibitor
# routes first, with their do-nothing receivers; then ours, secrets in clear (the whole text is a
# Pulumi secret).
ROUTED_CONFIG = {
    "global": {"resolve_timeout": "5m"},
    "inhibit_rules": [
        {
            "equal": ["namespace", "alertname"],
            "source_matchers": ["severity = critical"],
            "target_matchers": ["severity =~ warning|info"],
        },
        {
            "equal": ["namespace", "alertname"],
            "source_matchers": ["severity = warning"],
            "target_matchers": ["severity = info"],
        },
        {
            "equal": ["namespace"],
            "source_matchers": ["alertname = InfoInhibitor"],
            "target_matchers": ["severity = info"],
        },
    ],
    "receivers": [
        {"name": "Watchdog"},
        {"name": "null"},
        {
            "name": "ops-slack",
            "slack_configs": [
                {
                    "api_url": "https://hooks.slack.example/services/T0/B0/MARKER-slack",
                    "channel": "#alerts",
                    "send_resolved": True,
                }
            ],
        },
        {
            "name": "team-a-hook",
            "webhook_configs": [{"url": "https://hooks.example/alert?token=MARKER-webhook"}],
        },
        {
            "name": "mail",
            "email_configs": [
                {
                    "to": "ops@example.com",
                    "from": "alertmanager@example.com",
                    "smarthost": "smtp.example.com:587",
                    "auth_username": "alertmanager",
                    "auth_password": "MARKER-smtp",
                    "require_tls": True,
                    "send_resolved": False,
                }
            ],
        },
        {"name": "oncall", "pagerduty_configs": [{"routing_key": "MARKER-pagerduty-v2"}]},
        {"name": "legacy-pager", "pagerduty_configs": [{"service_key": "MARKER-pagerduty-v1"}]},
    ],
    "route": {
        "group_by": ["namespace"],
        "group_interval": "5m",
        "group_wait": "30s",
        "receiver": "ops-slack",
        "repeat_interval": "12h",
        "routes": [
            {"matchers": ["alertname = Watchdog"], "receiver": "Watchdog"},
            {"matchers": ["alertname = InfoInhibitor"], "receiver": "null"},
            {"receiver": "oncall", "matchers": ['severity="critical"']},
            {"receiver": "team-a-hook", "matchers": ['namespace="team-a"'], "continue": True},
            {"receiver": "mail", "matchers": ['severity="warning"', 'alertname =~ "Kube.*"']},
        ],
    },
}


def alerting(values: dict) -> AlertmanagerSettings:
    return AlertmanagerSettings.model_validate(values)


@pytest.fixture(scope="module")
def upstream(kube_prometheus) -> dict:
    return upstream_config(kube_prometheus)


def write(tmp_path, config: dict, name: str = "alertmanager.yaml"):
    path = tmp_path / name
    path.write_text(render(config))
    return path


def check_config(path):
    return run_tool([require("amtool"), "check-config", str(path)])


# --- amtool check-config --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(RECEIVERS))
def test_amtool_accepts_each_receiver_type(kind, upstream, tmp_path):
    receiver = RECEIVERS[kind]
    config = alertmanager_config(
        upstream, alerting({"receivers": [receiver], "defaultReceiver": receiver["name"]})
    )
    result = check_config(write(tmp_path, config))
    assert result.returncode == 0 and "SUCCESS" in result.stdout, result.stdout + result.stderr
    ours = next(r for r in config["receivers"] if r["name"] == receiver["name"])
    [integration] = ours[f"{receiver['type']}_configs"]
    secret_key = next(
        k for k in ("apiUrl", "url", "authPassword", "routingKey", "serviceKey") if k in receiver
    )
    assert integration[SECRET_FIELDS[kind]] == receiver[secret_key]
    assert integration.get("send_resolved") == receiver.get("sendResolved")


def test_amtool_accepts_the_routed_config(upstream, tmp_path):
    result = check_config(write(tmp_path, alertmanager_config(upstream, alerting(ROUTED))))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "7 receivers" in result.stdout  # Watchdog, null and our five


@pytest.mark.parametrize(
    "breakage, words",
    [
        # The default receiver no longer defined.
        (lambda c: c["receivers"].pop(), "undefined receiver"),
        # An email integration without a smarthost (and no global one).
        (lambda c: c["receivers"][-1]["email_configs"][0].pop("smarthost"), "smarthost"),
    ],
    ids=["undefined-default-receiver", "email-without-smarthost"],
)
def test_amtool_rejects_a_broken_config(breakage, words, upstream, tmp_path):
    config = alertmanager_config(
        upstream, alerting({"receivers": [RECEIVERS["email"]], "defaultReceiver": "mail"})
    )
    breakage(config)
    result = check_config(write(tmp_path, config))
    assert result.returncode != 0
    assert words in result.stdout + result.stderr


# --- amtool config routes test: one case per route --------------------------------------------------


@pytest.fixture(scope="module")
def routed_file(upstream, tmp_path_factory):
    return write(tmp_path_factory.mktemp("routed"), alertmanager_config(upstream, alerting(ROUTED)))


def route(path, labels: list[str], expected: str):
    return run_tool(
        [
            require("amtool"),
            "config",
            "routes",
            "test",
            f"--config.file={path}",
            f"--verify.receivers={expected}",
            *labels,
        ]
    )


@pytest.mark.parametrize(
    "labels, expected",
    [
        # routes[0]: severity critical pages, and stops there (even in team-a).
        (["alertname=KubePodCrashLooping", "severity=critical", "namespace=team-a"], "oncall"),
        # routes[1]: team-a's alerts go to its hook, and on (continue) to the next routes.
        (["alertname=TeamAAppDown", "severity=warning", "namespace=team-a"], "team-a-hook"),
        (["alertname=KubePodCrashLooping", "severity=warning", "namespace=team-a"], "team-a-hook,mail"),
        # routes[2]: severity and matchers together.
        (["alertname=KubePodCrashLooping", "severity=warning", "namespace=default"], "mail"),
        # No route: the default receiver.
        (["alertname=NodeClockNotSynchronising", "severity=warning", "namespace=default"], "ops-slack"),
        (["alertname=KubeQuotaAlmostFull", "severity=info", "namespace=default"], "ops-slack"),
        # Upstream's routes come first: Watchdog and InfoInhibitor never page anyone.
        (["alertname=Watchdog", "severity=none"], "Watchdog"),
        (["alertname=Watchdog", "severity=critical", "namespace=team-a"], "Watchdog"),
        (["alertname=InfoInhibitor", "severity=none", "namespace=team-a"], "null"),
    ],
)
def test_alerts_land_where_the_settings_route_them(labels, expected, routed_file):
    result = route(routed_file, labels, expected)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == expected


def test_route_check_fails_on_the_wrong_receiver(routed_file):
    result = route(routed_file, ["alertname=KubePodCrashLooping", "severity=critical"], "ops-slack")
    assert result.returncode != 0
    assert result.stdout.splitlines()[0] == "oncall"


def test_watchdog_and_info_inhibitor_receivers_notify_no_one(upstream):
    config = alertmanager_config(upstream, alerting(ROUTED))
    receivers = {r["name"]: r for r in config["receivers"]}
    assert receivers["Watchdog"] == {"name": "Watchdog"}
    assert receivers["null"] == {"name": "null"}
    # Upstream's Default and Critical receivers (no integration) are gone with their routes.
    assert "Default" not in receivers and "Critical" not in receivers


# --- what is kept from upstream ------------------------------------------------------------------


def test_upstream_global_inhibit_rules_and_routes_are_kept(upstream, kube_prometheus):
    secret = kube_prometheus.find("Secret", SECRET)
    shipped = yaml.safe_load(secret["stringData"][CONFIG_KEY])
    before = copy.deepcopy(upstream)
    config = alertmanager_config(upstream, alerting(ROUTED))
    assert upstream == before  # not changed in place
    assert config["inhibit_rules"] == shipped["inhibit_rules"] and len(shipped["inhibit_rules"]) == 3
    assert config["global"] == shipped["global"]
    watchdog, info_inhibitor, *ours = config["route"]["routes"]
    assert [watchdog, info_inhibitor] == [
        r for r in shipped["route"]["routes"] if r["receiver"] in ("Watchdog", "null")
    ]
    assert ours == [
        {"receiver": "oncall", "matchers": ['severity="critical"']},
        {"receiver": "team-a-hook", "matchers": ['namespace="team-a"'], "continue": True},
        {"receiver": "mail", "matchers": ['severity="warning"', 'alertname =~ "Kube.*"']},
    ]


def test_group_settings_default_to_upstream_and_can_be_set(upstream):
    shipped = upstream["route"]
    default = alertmanager_config(upstream, alerting(ROUTED))["route"]
    for key in ("group_by", "group_wait", "group_interval", "repeat_interval"):
        assert default[key] == shipped[key]
    assert default["receiver"] == "ops-slack"
    tuned = alertmanager_config(
        upstream,
        alerting(
            {
                **ROUTED,
                "groupBy": ["alertname", "namespace"],
                "groupWait": "1m",
                "groupInterval": "10m",
                "repeatInterval": "4h",
            }
        ),
    )["route"]
    assert (tuned["group_by"], tuned["group_wait"], tuned["group_interval"], tuned["repeat_interval"]) == (
        ["alertname", "namespace"],
        "1m",
        "10m",
        "4h",
    )


def test_a_receiver_may_not_take_the_name_of_a_kept_upstream_receiver(upstream):
    settings = alerting({"receivers": [{**RECEIVERS["webhook"], "name": "null"}], "defaultReceiver": "null"})
    with pytest.raises(SettingsError) as caught:
        alertmanager_config(upstream, settings)
    assert str(caught.value).startswith(
        "pks-monitoring:alertmanager.receivers[0].name: 'null' is the upstream receiver"
    )


def test_an_upstream_config_without_the_watchdog_route_is_refused(upstream):
    changed = copy.deepcopy(upstream)
    changed["route"]["routes"] = [r for r in changed["route"]["routes"] if r["receiver"] != "Watchdog"]
    with pytest.raises(SettingsError) as caught:
        alertmanager_config(changed, alerting(ROUTED))
    assert str(caught.value).startswith("pks-monitoring:kubePrometheus.manifests:")
    assert "alertname=Watchdog" in str(caught.value)


def test_without_receivers_there_is_nothing_to_build(upstream):
    with pytest.raises(ValueError):
        alertmanager_config(upstream, AlertmanagerSettings())


# --- the transformation and the secret -------------------------------------------------------------


def test_configure_alertmanager_changes_only_the_secret_config(kube_prometheus):
    for obj in kube_prometheus.objects:
        changed = copy.deepcopy(obj)
        configure_alertmanager(changed, config_text="route: {}")
        if (obj["kind"], obj["metadata"]["name"]) == ("Secret", SECRET):
            assert changed["stringData"] == {CONFIG_KEY: "route: {}"}
            assert {k: v for k, v in changed.items() if k != "stringData"} == {
                k: v for k, v in obj.items() if k != "stringData"
            }
        else:
            assert changed == obj
    listed = {
        "apiVersion": "v1",
        "kind": "List",
        "items": [copy.deepcopy(kube_prometheus.find("Secret", SECRET))],
    }
    before = copy.deepcopy(listed)
    configure_alertmanager(listed, config_text="route: {}")
    assert listed == before  # ConfigFile hands the items over one by one


@pulumi.runtime.test
def test_secret_text_is_a_pulumi_secret(monitor, upstream):
    text = alertmanager_secret_text(upstream, alerting(ROUTED))

    def check(values):
        is_secret, value = values
        assert is_secret is True
        assert yaml.safe_load(value) == ROUTED_CONFIG

    return pulumi.Output.all(pulumi.Output.from_input(text.is_secret()), text).apply(check)


@pulumi.runtime.test
def test_the_secret_reaches_the_cluster_secret_and_nothing_else_in_clear(monitor, kube_prometheus, upstream):
    text = alertmanager_secret_text(upstream, alerting(ROUTED))
    provider = k8s.Provider("test-k8s", context="demo")
    secret_file = k8s.yaml.ConfigFile(
        "alertmanager-secret",
        file=str(kube_prometheus.root / "alertmanager-secret.yaml"),
        transformations=[partial(configure_alertmanager, config_text=text)],
        opts=pulumi.ResourceOptions(provider=provider),
    )

    def check(_):
        [registration] = [
            r for r in monitor.mocks.kubernetes_objects() if r.inputs["metadata"]["name"] == SECRET
        ]
        string_data = registration.inputs["stringData"]
        assert rpc.is_rpc_secret(string_data)
        assert yaml.safe_load(rpc.unwrap_rpc_secret(string_data)[CONFIG_KEY]) == ROUTED_CONFIG
        # What a render writes: the config masked, the rest of the upstream object as shipped.
        shown = json.dumps(plain(registration.inputs))
        assert all(marker not in shown for marker in MARKERS)
        assert registration.inputs["metadata"] == kube_prometheus.find("Secret", SECRET)["metadata"]

    return secret_file.resources.apply(
        lambda resources: pulumi.Output.all(*[r.urn for r in resources.values()])
    ).apply(check)


# --- teams' own routes ------------------------------------------------------------------------------


def test_select_team_routes_patches_the_main_alertmanager_only(kube_prometheus, manifests_dir):
    main = copy.deepcopy(kube_prometheus.find("Alertmanager", "main"))
    select_team_routes(main, namespaces=("hello", "shop"))
    spec = main["spec"]
    assert spec["alertmanagerConfigSelector"] == {"matchLabels": {"pks-monitoring/alertmanager": "main"}}
    assert spec["alertmanagerConfigNamespaceSelector"] == {
        "matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": ["hello", "shop"]}
        ]
    }
    assert spec["alertmanagerConfigMatcherStrategy"] == {"type": "OnNamespace"}
    assert validate_custom(main, crd_schemas(manifests_dir)) == []
    # The rest of the resource as shipped; another object untouched.
    shipped = kube_prometheus.find("Alertmanager", "main")
    ours = {k: v for k, v in spec.items() if not k.startswith("alertmanagerConfig")}
    assert ours == {k: v for k, v in shipped["spec"].items() if not k.startswith("alertmanagerConfig")}
    secret = copy.deepcopy(kube_prometheus.find("Secret", SECRET))
    select_team_routes(secret, namespaces=("hello",))
    assert secret == kube_prometheus.find("Secret", SECRET)


def test_team_namespaces_reach_none_of_the_platform_receivers(upstream):
    config = alertmanager_config(upstream, alerting(ROUTED), ("hello", "shop"))
    routes = config["route"]["routes"]
    # After upstream's kept routes, before the settings' routes: a critical alert of a team
    # namespace does not page the platform's oncall either.
    assert routes[2:4] == [
        {"receiver": "null", "matchers": ['namespace="hello"']},
        {"receiver": "null", "matchers": ['namespace="shop"']},
    ]
    assert routes[4:] == ROUTED_CONFIG["route"]["routes"][2:]
    assert alertmanager_config(upstream, alerting(ROUTED)) == ROUTED_CONFIG


def operator_generated(config: dict, namespace: str, receiver: str) -> dict:
    """What prometheus-operator makes of `config` with one team's AlertmanagerConfig (receiver
    webhook), as v0.85.0's pkg/alertmanager/amcfg.go makes it: the team's route first, with the
    `namespace="<ns>"` matcher of OnNamespace and `continue: true`; its receiver named
    `<namespace>/<config>/<receiver>`. The e2e tier runs amtool on the real operator's output."""
    generated = copy.deepcopy(config)
    name = f"{namespace}/orders/{receiver}"
    team = {"receiver": name, "matchers": [f'namespace="{namespace}"'], "continue": True}
    generated["route"]["routes"].insert(0, team)
    generated["receivers"].append({"name": name, "webhook_configs": [{"url": "https://team.example/"}]})
    return generated


@pytest.fixture(scope="module")
def team_file(upstream, tmp_path_factory):
    config = operator_generated(alertmanager_config(upstream, alerting(ROUTED), ("hello",)), "hello", "team")
    path = write(tmp_path_factory.mktemp("team"), config)
    result = check_config(path)
    assert result.returncode == 0, result.stdout + result.stderr
    return path


@pytest.mark.parametrize(
    "labels, expected",
    [
        # The team's namespace: the team's receiver, and on to a receiver that notifies no one.
        (["alertname=AppTargetDown", "severity=critical", "namespace=hello"], "hello/orders/team,null"),
        (["alertname=KubePodCrashLooping", "severity=warning", "namespace=hello"], "hello/orders/team,null"),
        # Another namespace: the platform's routes, never the team.
        (["alertname=AppTargetDown", "severity=critical", "namespace=other"], "oncall"),
        (["alertname=NodeClockNotSynchronising", "severity=warning", "namespace=other"], "ops-slack"),
        # Watchdog comes from the stack's namespace: upstream's route, as before.
        (["alertname=Watchdog", "severity=none", "namespace=monitoring"], "Watchdog"),
    ],
)
def test_a_team_route_sees_its_namespace_and_the_platform_the_others(labels, expected, team_file):
    result = route(team_file, labels, expected)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == expected
