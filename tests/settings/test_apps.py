"""`pks-monitoring:apps` and `pks-monitoring:demoApp`: defaults, what reaches AppMonitorArgs, and
one clear line for each kind of bad input."""

from __future__ import annotations

import pytest

from pks_monitoring.components.app_monitor import AppMonitorArgs, apps_to_monitor, team_namespaces
from pks_monitoring.settings import Settings, SettingsError, plain_text_secrets
from tests.helpers.settings import BASE, assert_one_line_error

APPS = "pks-monitoring:apps"
DEMO = "pks-monitoring:demoApp"
HELLO = {"name": "hello-pks", "namespace": "hello", "selector": {"app": "hello-pks"}, "port": "http"}


@pytest.fixture
def base(manifests_dir) -> dict:
    return {**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}}


def test_defaults(base):
    settings = Settings.from_raw(base)
    assert settings.apps == [] and settings.demo_app.enabled is False
    assert apps_to_monitor(settings) == ()

    app = Settings.from_raw({**base, APPS: [HELLO]}).apps[0]
    assert (app.path, app.interval, app.scheme) == ("/actuator/prometheus", "30s", "http")
    assert app.tls_config is None and app.namespace_selector is None


def test_what_reaches_the_app_monitor(base):
    account = {"namespace": "monitoring", "name": "prometheus-k8s"}
    app = Settings.from_raw(
        {
            **base,
            APPS: [
                {
                    **HELLO,
                    "scheme": "https",
                    "interval": "1h30m",
                    "tlsConfig": {"insecureSkipVerify": True, "serverName": "hello-pks.hello.svc"},
                    "namespaceSelector": {"matchNames": ["hello", "hello-canary"]},
                }
            ],
        }
    ).apps[0]
    args = AppMonitorArgs.from_settings(app, account, "EndpointSlice")
    assert (args.app, args.namespace, args.port, args.path, args.interval, args.scheme) == (
        "hello-pks",
        "hello",
        "http",
        "/actuator/prometheus",
        "1h30m",
        "https",
    )
    assert args.selector == {"app": "hello-pks"}
    assert args.namespaces == ("hello", "hello-canary")
    assert args.tls_config == {"insecureSkipVerify": True, "serverName": "hello-pks.hello.svc"}
    assert (args.prometheus_service_account, args.discovery_role) == (account, "EndpointSlice")
    # Without a namespaceSelector, Prometheus discovers the Service in the app's own namespace.
    assert AppMonitorArgs.from_settings(
        Settings.from_raw({**base, APPS: [HELLO]}).apps[0], account, "Endpoints"
    ).namespaces == ("hello",)


def test_demo_app_adds_its_own_entry(base):
    settings = Settings.from_raw({**base, "pks-monitoring:demoApp": {"enabled": True}})
    (demo,) = apps_to_monitor(settings)
    assert (demo.name, demo.namespace, demo.selector, demo.port, demo.path) == (
        "hello-pks",
        "hello",
        {"app": "hello-pks"},
        "http",
        "/actuator/prometheus",
    )
    other = {**HELLO, "name": "orders"}
    assert [
        a.name
        for a in apps_to_monitor(
            Settings.from_raw({**settings_raw(base, other), "pks-monitoring:demoApp": {"enabled": True}})
        )
    ] == ["orders", "hello-pks"]


def settings_raw(base: dict, *apps: dict) -> dict:
    return {**base, APPS: list(apps)}


@pytest.mark.parametrize(
    "app, key, words",
    [
        ({"name": "Hello_PKS"}, f"{APPS}[0].name", "pattern"),
        ({"name": "x" * 64}, f"{APPS}[0].name", "pattern"),
        ({"namespace": "Hello"}, f"{APPS}[0].namespace", "pattern"),
        ({"namespace": "-hello"}, f"{APPS}[0].namespace", "pattern"),
        ({"name": None}, f"{APPS}[0].name", "required"),
        (
            {"port": 8080},
            f"{APPS}[0].port",
            "8080 is a port number; a ServiceMonitor selects the Service port by its name",
        ),
        ({"port": "8080"}, f"{APPS}[0].port", "8080 is a port number"),
        ({"port": "HTTP"}, f"{APPS}[0].port", "pattern"),
        ({"port": None}, f"{APPS}[0].port", "required"),
        (
            {"interval": "30"},
            f"{APPS}[0].interval",
            "'30' is not a Prometheus duration; write a positive number with a unit",
        ),
        ({"interval": "30x"}, f"{APPS}[0].interval", "'30x' is not a Prometheus duration"),
        ({"interval": "1m1h"}, f"{APPS}[0].interval", "largest unit first"),
        ({"interval": "1h1h"}, f"{APPS}[0].interval", "not a Prometheus duration"),
        ({"interval": "0s"}, f"{APPS}[0].interval", "positive"),
        ({"interval": "1.5m"}, f"{APPS}[0].interval", "not a Prometheus duration"),
        ({"interval": ""}, f"{APPS}[0].interval", "not a Prometheus duration"),
        ({"selector": {}}, f"{APPS}[0].selector", "empty: it would select every Service in the namespace"),
        ({"selector": None}, f"{APPS}[0].selector", "required"),
        ({"selector": {"app name": "x"}}, f"{APPS}[0].selector.app name.[key]", "pattern"),
        ({"selector": {"app": "a b"}}, f"{APPS}[0].selector.app", "pattern"),
        ({"path": "actuator/prometheus"}, f"{APPS}[0].path", "pattern"),
        ({"scheme": "ftp"}, f"{APPS}[0].scheme", "'http' or 'https'"),
        ({"tlsConfig": {"insecureSkipVerify": True}}, f"{APPS}[0]", "tlsConfig applies to scheme https only"),
        (
            {"scheme": "https", "tlsConfig": {"insecureSkipverify": True}},
            f"{APPS}[0].tlsConfig.insecureSkipverify",
            "unknown key",
        ),
        (
            {"scheme": "https", "tlsConfig": {"ca": {}}},
            f"{APPS}[0].tlsConfig.ca",
            "exactly one of configMap or secret",
        ),
        (
            {"scheme": "https", "tlsConfig": {"ca": {"secret": {"name": "ca"}}}},
            f"{APPS}[0].tlsConfig.ca.secret.key",
            "required",
        ),
        (
            {"namespaceSelector": {"any": True}},
            f"{APPS}[0].namespaceSelector",
            "any: Prometheus would need read access in every namespace",
        ),
        ({"namespaceSelector": {"matchNames": []}}, f"{APPS}[0].namespaceSelector.matchNames", "at least 1"),
        (
            {"namespaceSelector": {"matchNames": ["a", "a"]}},
            f"{APPS}[0].namespaceSelector.matchNames",
            "listed twice",
        ),
        (
            {"namespaceSelector": {"matchNames": ["Shop"]}},
            f"{APPS}[0].namespaceSelector.matchNames[0]",
            "pattern",
        ),
        ({"intervall": "30s"}, f"{APPS}[0].intervall", "unknown key"),
    ],
)
def test_bad_app_is_one_line_naming_the_key(base, app, key, words):
    entry = {k: v for k, v in {**HELLO, **app}.items() if v is not None}
    assert_one_line_error(settings_raw(base, entry), key, words)


@pytest.mark.parametrize(
    "change, key, words",
    [
        ({APPS: {"name": "hello-pks"}}, APPS, "valid list"),
        ({"pks-monitoring:demoApp": {"enabled": "sometimes"}}, "pks-monitoring:demoApp.enabled", "boolean"),
        (
            {"pks-monitoring:demoApp": {"enabled": True, "image": "x"}},
            "pks-monitoring:demoApp.image",
            "unknown key",
        ),
    ],
)
def test_bad_shapes_are_one_line_naming_the_key(base, change, key, words):
    assert_one_line_error({**base, **change}, key, words)


@pytest.mark.parametrize(
    "apps, demo, key, words",
    [
        (
            [HELLO, {**HELLO, "namespace": "other"}],
            False,
            f"{APPS}[1].name",
            "'hello-pks' is also the name of apps[0]; give every app its own name",
        ),
        (
            [{**HELLO, "name": "a"}, {**HELLO, "name": "b"}, {**HELLO, "name": "a"}],
            False,
            f"{APPS}[2].name",
            "apps[0]",
        ),
        (
            [{**HELLO, "name": "a"}, HELLO],
            True,
            f"{APPS}[1].name",
            "'hello-pks' is the demo app's name (demoApp.enabled)",
        ),
    ],
)
def test_app_names_are_unique(base, apps, demo, key, words):
    settings = Settings.from_raw({**settings_raw(base, *apps), "pks-monitoring:demoApp": {"enabled": demo}})
    with pytest.raises(SettingsError) as caught:
        apps_to_monitor(settings)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{key}: ") and words in message, message


def test_unique_names_pass(base):
    apps = [HELLO, {**HELLO, "name": "orders", "namespace": "hello"}]
    assert [a.name for a in apps_to_monitor(Settings.from_raw(settings_raw(base, *apps)))] == [
        "hello-pks",
        "orders",
    ]


def test_the_demo_app_may_not_share_the_stack_namespace(base):
    # Both would create Namespace hello: the engine finds out only once the first exists.
    demo = {"pks-monitoring:demoApp": {"enabled": True}}
    stack = {**base["pks-monitoring:kubePrometheus"], "namespace": "hello"}
    assert_one_line_error(
        {**base, **demo, "pks-monitoring:kubePrometheus": stack},
        "pks-monitoring:demoApp",
        "the demo app creates namespace hello, which is the stack's",
    )
    Settings.from_raw({**base, "pks-monitoring:kubePrometheus": stack})  # without the demo app: fine


# --- a team's own receiver (apps[].receiver, demoApp.receiver) -----------------------------------

TEAM_HOOK = {"name": "team", "type": "webhook", "url": "https://hooks.example/team-MARKER"}


def test_an_app_receiver_is_an_alertmanager_receiver_and_reaches_the_app_monitor(base):
    settings = Settings.from_raw(
        {**base, APPS: [{**HELLO, "name": "orders", "receiver": TEAM_HOOK}], DEMO: {"enabled": True}}
    )
    orders, demo = apps_to_monitor(settings)
    assert demo.receiver is None and team_namespaces((orders, demo)) == ("hello",)
    args = AppMonitorArgs.from_settings(orders, {"namespace": "monitoring", "name": "p"}, "Endpoints")
    assert args.receiver is not None and args.receiver.url is not None
    assert (args.receiver.type, args.receiver.url.get_secret_value()) == ("webhook", TEAM_HOOK["url"])


def test_the_demo_app_takes_a_receiver_too(base):
    settings = Settings.from_raw({**base, DEMO: {"enabled": True, "receiver": TEAM_HOOK}})
    (demo,) = apps_to_monitor(settings)
    assert demo.receiver is not None and demo.receiver.name == "team"
    assert team_namespaces((demo,)) == ("hello",)


@pytest.mark.parametrize(
    "receiver, key, words",
    [
        ({"name": "team", "type": "webhook"}, f"{APPS}[0].receiver", "receiver type webhook needs url"),
        ({**TEAM_HOOK, "type": "teams"}, f"{APPS}[0].receiver.type", "'slack', 'webhook'"),
        ({**TEAM_HOOK, "channel": "#x"}, f"{APPS}[0].receiver", "channel is not a setting of receiver type"),
        ({**TEAM_HOOK, "url": "ftp://x"}, f"{APPS}[0].receiver.url", "not an http(s) URL"),
    ],
)
def test_a_bad_app_receiver_is_one_line_naming_it(base, receiver, key, words):
    message = assert_one_line_error({**base, APPS: [{**HELLO, "receiver": receiver}]}, key, words)
    assert "MARKER" not in message


def test_an_app_receiver_secret_in_plain_text_is_refused():
    raw = {**BASE, APPS: [{**HELLO, "receiver": TEAM_HOOK}], DEMO: {"enabled": True, "receiver": TEAM_HOOK}}
    assert [line.partition(": a secret")[0] for line in plain_text_secrets(raw, set())] == [
        f"{APPS}[0].receiver.url",
        f"{DEMO}.receiver.url",
    ]
