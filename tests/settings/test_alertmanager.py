"""The `pks-monitoring:alertmanager` routing settings: one clear line for each kind of bad input, secrets never
echoed, and secret settings refused when given in plain text."""

from __future__ import annotations

import json

import pytest

from pks_monitoring.offline.mock_engine import stack_config
from pks_monitoring.settings import Settings, plain_text_secrets
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring:alertmanager"
SECRET_URL = "https://hooks.example/alert?token=MARKER-41"
HOOK = {"name": "hook", "type": "webhook", "url": SECRET_URL}
SLACK = {"name": "ops", "type": "slack", "apiUrl": "https://hooks.slack.example/services/MARKER-42"}
PAGER = {"name": "pager", "type": "pagerduty", "routingKey": "MARKER-43"}
MAIL = {
    "name": "mail",
    "type": "email",
    "to": "ops@example.com",
    "from": "am@example.com",
    "smarthost": "smtp.example.com:587",
    "authUsername": "am",
    "authPassword": "MARKER-44",
}


def routing(**values) -> dict:
    """Raw config with `alerting` set to a valid routing, changed by `values` (None removes)."""
    alerting = {
        "receivers": [HOOK, SLACK, PAGER, MAIL],
        "defaultReceiver": "hook",
        "routes": [{"receiver": "pager", "severity": "critical"}],
    }
    alerting.update(values)
    return {**BASE, KEY: {k: v for k, v in alerting.items() if v is not None}}


def test_no_alerting_by_default():
    assert Settings.from_raw(BASE).alertmanager.receivers == []


def test_a_full_routing_is_read_and_keeps_its_secrets(manifests_dir):
    raw = routing(
        routes=[
            {"receiver": "pager", "severity": "critical"},
            {
                "receiver": "ops",
                "namespace": "team-a",
                "matchers": ['alertname =~ "Kube.*"'],
                "continue": True,
            },
        ],
        groupBy=["alertname", "namespace"],
        groupWait="1m",
        repeatInterval="4h",
    )
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    alerting = Settings.from_raw(raw).alertmanager
    assert [r.type for r in alerting.receivers] == ["webhook", "slack", "pagerduty", "email"]
    assert alerting.routes[1].continue_ is True and alerting.receivers[3].from_ == "am@example.com"
    assert alerting.receivers[0].url.get_secret_value() == SECRET_URL
    assert "MARKER" not in repr(alerting)


def receiver(index: int, **values) -> list:
    """The routing's receivers with receivers[index] changed by `values` (None removes a key)."""
    receivers = [dict(r) for r in (HOOK, SLACK, PAGER, MAIL)]
    receivers[index].update(values)
    receivers[index] = {k: v for k, v in receivers[index].items() if v is not None}
    return receivers


@pytest.mark.parametrize(
    "raw, key, words",
    [
        # Receivers.
        (
            routing(receivers=receiver(0, type="teams")),
            f"{KEY}.receivers[0].type",
            "'slack', 'webhook', 'email' or 'pagerduty'",
        ),
        (
            routing(receivers=receiver(0, url=None)),
            f"{KEY}.receivers[0]",
            "receiver type webhook needs url; set it with `pulumi config set --secret --path",
        ),
        (
            routing(receivers=receiver(1, apiUrl=None)),
            f"{KEY}.receivers[1]",
            "receiver type slack needs apiUrl",
        ),
        (
            routing(receivers=receiver(3, smarthost=None)),
            f"{KEY}.receivers[3]",
            "receiver type email needs smarthost",
        ),
        (
            routing(receivers=receiver(2, routingKey=None)),
            f"{KEY}.receivers[2]",
            "exactly one of routingKey (Events API v2) or serviceKey",
        ),
        (
            routing(receivers=receiver(2, serviceKey="MARKER-45")),
            f"{KEY}.receivers[2]",
            "exactly one of routingKey",
        ),
        (
            routing(receivers=receiver(0, channel="#x")),
            f"{KEY}.receivers[0]",
            "channel is not a setting of receiver type webhook (it takes url); remove it",
        ),
        (
            routing(receivers=receiver(0, url="ftp://hooks.example/MARKER-46")),
            f"{KEY}.receivers[0].url",
            "not an http(s) URL",
        ),
        (
            routing(receivers=receiver(1, apiUrl="hooks.slack.example/MARKER-47")),
            f"{KEY}.receivers[1].apiUrl",
            "not an http(s) URL",
        ),
        (
            routing(receivers=receiver(2, routingKey=1234567)),
            f"{KEY}.receivers[2].routingKey",
            "must be a non-empty string",
        ),
        (
            routing(receivers=receiver(3, authUsername=None)),
            f"{KEY}.receivers[3]",
            "authPassword without authUsername",
        ),
        (
            routing(receivers=receiver(3, smarthost="smtp.example.com")),
            f"{KEY}.receivers[3].smarthost",
            "not host:port",
        ),
        (routing(receivers=receiver(3, to="ops")), f"{KEY}.receivers[3].to", "pattern"),
        (routing(receivers=receiver(0, name="my hook")), f"{KEY}.receivers[0].name", "pattern"),
        (routing(receivers=receiver(1, name="hook")), f"{KEY}.receivers", "two receivers are named 'hook'"),
        # Routes and the default receiver.
        (
            routing(routes=[{"receiver": "pagerdty", "severity": "critical"}]),
            KEY,
            "routes[0].receiver 'pagerdty' is not one of receivers (hook, ops, pager, mail)",
        ),
        (routing(defaultReceiver="slack"), KEY, "defaultReceiver 'slack' is not one of receivers"),
        (routing(defaultReceiver=None), KEY, "defaultReceiver is required once receivers are set"),
        (
            routing(routes=[{"receiver": "pager"}]),
            f"{KEY}.routes[0]",
            "a route needs severity, namespace or matchers",
        ),
        (
            routing(routes=[{"receiver": "pager", "matchers": ["severity critical"]}]),
            f"{KEY}.routes[0].matchers",
            "is not a matcher",
        ),
        (
            routing(routes=[{"receiver": "pager", "namespace": "Team_A"}]),
            f"{KEY}.routes[0].namespace",
            "pattern",
        ),
        (
            routing(routes=[{"receiver": "pager", "severity": "critical", "contine": True}]),
            f"{KEY}.routes[0].contine",
            "unknown key",
        ),
        # Grouping.
        (routing(groupWait="15x"), f"{KEY}.groupWait", "'15x' is not a Prometheus duration"),
        (routing(repeatInterval="0s"), f"{KEY}.repeatInterval", "positive number"),
        (routing(groupInterval="5m1h"), f"{KEY}.groupInterval", "largest unit first"),
        (routing(groupBy=["namespace", "team-name"]), f"{KEY}.groupBy", "'team-name' is not a label name"),
        ({**BASE, KEY: {"groupWait": "1m"}}, KEY, "routing without receivers has no effect"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(raw, key, words):
    message = assert_one_line_error(raw, key, words)
    assert "MARKER" not in message and "1234567" not in message


# --- secrets given in plain text -------------------------------------------------------------------


def test_plain_text_secrets_names_each_one():
    raw = routing(receivers=[HOOK, PAGER, {k: v for k, v in MAIL.items() if k != "authPassword"}])
    assert plain_text_secrets(raw, set()) == [
        f"{KEY}.receivers[0].url: a secret given in plain text; set it with "
        f"`pulumi config set --secret --path '{KEY}.receivers[0].url' <value>`",
        f"{KEY}.receivers[1].routingKey: a secret given in plain text; set it with "
        f"`pulumi config set --secret --path '{KEY}.receivers[1].routingKey' <value>`",
    ]
    assert all("MARKER" not in line for line in plain_text_secrets(raw, set()))


def test_plain_text_secrets_accepts_secret_keys_and_settings_without_secrets():
    assert plain_text_secrets(routing(), {KEY}) == []
    assert (
        plain_text_secrets(
            {
                **BASE,
                KEY: {
                    "receivers": [{k: v for k, v in MAIL.items() if k != "authPassword"}],
                    "defaultReceiver": "mail",
                },
            },
            set(),
        )
        == []
    )
    assert plain_text_secrets(BASE, set()) == []


def test_plain_text_secrets_covers_every_secret_setting():
    raw = {
        **BASE,
        "kubernetes:kubeconfig": "apiVersion: v1",
        "pks-monitoring:nodeExporter": {"addon": {"bosh": {"clientSecret": "x", "client": "ops"}}},
        "pks-monitoring:grafana": {"adminPassword": "x"},
    }
    assert [line.partition(": a secret")[0] for line in plain_text_secrets(raw, set())] == [
        "kubernetes:kubeconfig",
        "pks-monitoring:nodeExporter.addon.bosh.clientSecret",
        "pks-monitoring:grafana.adminPassword",
    ]


def test_plain_text_secrets_with_the_keys_the_engine_marks_secret(write_stack):
    # `pulumi config set --secret --path` stores the value as `secure:`; the engine then marks the
    # whole top-level key secret (the mock engine's stack_config does the same).
    secure = write_stack(
        {KEY: {"receivers": [{**HOOK, "url": {"secure": "AAAA"}}], "defaultReceiver": "hook"}}
    )
    config, secret_keys = stack_config(secure)
    assert KEY in secret_keys
    assert plain_text_secrets({KEY: json.loads(config[KEY])}, set(secret_keys)) == []
    plain = write_stack({KEY: {"receivers": [HOOK], "defaultReceiver": "hook"}}, name="Pulumi.plain.yaml")
    config, secret_keys = stack_config(plain)
    assert KEY not in secret_keys
    [line] = plain_text_secrets({KEY: json.loads(config[KEY])}, set(secret_keys))
    assert line.startswith(f"{KEY}.receivers[0].url: a secret given in plain text")
