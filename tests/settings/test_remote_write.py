"""`prometheus.remoteWrite`: the central stores, refused in one line naming the key when malformed.

Which relabel configs and queue settings Prometheus itself takes is checked with promtool in
tests/parts/test_remote_write.py, on the same tables."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring:prometheus.remoteWrite"
CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
KEY_PEM = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n"
ENDPOINT: dict[str, Any] = {"name": "central", "url": "https://store.example/api/v1/write"}

# Write relabel configs Prometheus takes (promtool agrees: tests/parts/test_remote_write.py).
ACCEPTED_RELABELINGS: list[dict[str, Any]] = [
    {"sourceLabels": ["__name__"], "regex": "go_.*", "action": "drop"},
    {"sourceLabels": ["__name__"], "regex": "up|node_.*", "action": "Keep"},
    {"sourceLabels": ["instance"], "targetLabel": "host", "regex": "(.*):.*", "replacement": "$1"},
    {"sourceLabels": ["instance"], "targetLabel": "${1}_copy", "regex": "(.*)"},
    {"sourceLabels": ["instance"], "targetLabel": "shard", "modulus": 4, "action": "hashmod"},
    {"regex": "pod_template_hash|id", "action": "labeldrop"},
    {"regex": "__meta_(.+)", "action": "labelmap"},
    {"sourceLabels": ["job"], "targetLabel": "job", "action": "lowercase"},
    {"sourceLabels": ["a"], "targetLabel": "b", "action": "keepequal"},
]
# Refused, with the words the line says after the item's key (promtool refuses each too).
REFUSED_RELABELINGS: list[tuple[dict[str, Any], str, str]] = [
    ({"sourceLabels": ["x"], "action": "hashmod", "targetLabel": "s"}, "", "needs modulus"),
    ({"sourceLabels": ["x"], "regex": "(.*)"}, "", "needs targetLabel"),
    ({"sourceLabels": ["x"], "targetLabel": "my-label"}, "", "is not a label name"),
    ({"sourceLabels": ["my-label"], "targetLabel": "x"}, ".sourceLabels", "is not a label name"),
    ({"sourceLabels": ["x"], "action": "labeldrop", "regex": "x"}, "", "takes only regex"),
    (
        {"sourceLabels": ["x"], "targetLabel": "y", "action": "lowercase", "replacement": "z"},
        "",
        "takes no replacement",
    ),
    (
        {"sourceLabels": ["a"], "targetLabel": "b", "action": "dropequal", "regex": "x"},
        "",
        "takes only sourceLabels",
    ),
    ({"regex": "(.*)", "replacement": "bad-name", "action": "labelmap"}, "", "for labelmap's replacement"),
    ({"sourceLabels": ["x"], "action": "delete"}, ".action", "Input should be"),
    ({"sourceLabels": ["x"], "regex": "(unclosed", "action": "drop"}, ".regex", "missing )"),
]
ACCEPTED_QUEUES: list[dict[str, Any]] = [
    {"capacity": 10000, "maxShards": 50, "minShards": 1, "maxSamplesPerSend": 2000},
    {"batchSendDeadline": "5s", "minBackoff": "30ms", "maxBackoff": "5s", "retryOnRateLimit": True},
    {"batchSendDeadline": "1m30s"},
]


def with_endpoints(*endpoints: dict[str, Any]) -> dict[str, Any]:
    return {**BASE, "pks-monitoring:prometheus": {"remoteWrite": [copy.deepcopy(e) for e in endpoints]}}


def endpoint(**fields: Any) -> dict[str, Any]:
    return {**ENDPOINT, **fields}


def test_no_remote_write_by_default():
    assert Settings.from_raw(BASE).prometheus.remote_write == []


def test_an_endpoint_with_every_setting_is_taken():
    raw = with_endpoints(
        endpoint(
            basicAuth={"username": "pks", "password": "s3cret"},
            tls={"ca": CA, "cert": CA, "key": KEY_PEM, "serverName": "store.example"},
            writeRelabelConfigs=ACCEPTED_RELABELINGS,
            queueConfig=ACCEPTED_QUEUES[0],
        ),
        {"name": "backup", "url": "http://10.0.0.9:9090/api/v1/write", "bearerToken": "t0ken"},
    )
    central, backup = Settings.from_raw(raw).prometheus.remote_write
    assert central.basic_auth is not None and central.basic_auth.password.get_secret_value() == "s3cret"
    assert central.tls is not None and central.tls.key is not None
    assert [c.action for c in central.write_relabel_configs][:2] == ["drop", "keep"]  # lowercased
    assert central.queue_config is not None and central.queue_config.max_shards == 50
    assert backup.bearer_token is not None and backup.bearer_token.get_secret_value() == "t0ken"


@pytest.mark.parametrize("relabeling", ACCEPTED_RELABELINGS)
def test_relabelings_prometheus_takes_are_taken(relabeling):
    Settings.from_raw(with_endpoints(endpoint(writeRelabelConfigs=[relabeling])))


@pytest.mark.parametrize(("relabeling", "field", "words"), REFUSED_RELABELINGS)
def test_relabelings_prometheus_refuses_are_refused(relabeling, field, words):
    raw = with_endpoints(endpoint(writeRelabelConfigs=[ACCEPTED_RELABELINGS[0], relabeling]))
    assert_one_line_error(raw, f"{KEY}[0].writeRelabelConfigs[1]{field}", words)


@pytest.mark.parametrize(
    ("fields", "key", "words"),
    [
        ({"url": "ftp://store.example/write"}, "url", "not an http(s) URL"),
        ({"url": "https:///api/v1/write"}, "url", "not an http(s) URL"),
        ({"url": "https://store.example/a b"}, "url", "not an http(s) URL"),
        ({"name": "Central"}, "name", "match pattern"),
        ({"tls": {"ca": "not a pem"}}, "tls.ca", "not a PEM certificate"),
        ({"tls": {"cert": CA}}, "tls", "cert and key go together"),
        ({"tls": {"insecureSkipVerify": "sometimes"}}, "tls.insecureSkipVerify", "valid boolean"),
        ({"basicAuth": {"password": "p"}}, "basicAuth.username", "required"),
        ({"basicAuth": {"username": "u"}}, "basicAuth.password", "required"),
        ({"queueConfig": {"maxShards": 0}}, "queueConfig.maxShards", "greater than or equal to 1"),
        (
            {"queueConfig": {"batchSendDeadline": "5 seconds"}},
            "queueConfig.batchSendDeadline",
            "not a Prometheus duration",
        ),
        ({"queueConfig": {"minShards": 5, "maxShards": 2}}, "queueConfig", "above maxShards"),
        ({"queueConfig": {"maxRetries": 3}}, "queueConfig.maxRetries", "unknown key"),
        ({"queueConfig": {"sampleAgeLimit": "1h"}}, "queueConfig.sampleAgeLimit", "unknown key"),
        ({"headers": {"X-Scope-OrgID": "a"}}, "headers", "unknown key"),
    ],
)
def test_a_malformed_endpoint_is_refused_naming_the_key(fields, key, words):
    assert_one_line_error(with_endpoints(endpoint(**fields)), f"{KEY}[0].{key}", words)


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"basicAuth": {"username": "u", "password": "p"}, "bearerToken": "t"}, "exclusive"),
        ({"url": "http://store.example/write", "tls": {"ca": CA}}, "tls is for an https:// URL"),
    ],
)
def test_settings_that_exclude_each_other_are_refused(fields, words):
    assert_one_line_error(with_endpoints(endpoint(**fields)), f"{KEY}[0]", words)


def test_credentials_in_the_url_are_refused_without_showing_them():
    raw = with_endpoints(endpoint(url="https://pks:hunter2@store.example/api/v1/write"))
    message = assert_one_line_error(raw, f"{KEY}[0].url", "set basicAuth")
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("fields", "key"),
    [
        ({"bearerToken": ""}, "bearerToken"),
        ({"bearerToken": 73194625}, "bearerToken"),
        ({"basicAuth": {"username": "u", "password": " "}}, "basicAuth.password"),
        ({"tls": {"cert": CA, "key": "MIIE-73194625"}}, "tls.key"),
    ],
)
def test_a_bad_secret_is_refused_without_showing_it(fields, key):
    message = assert_one_line_error(with_endpoints(endpoint(**fields)), f"{KEY}[0].{key}", "")
    assert "73194625" not in message


def test_endpoint_names_are_unique():
    raw = with_endpoints(ENDPOINT, endpoint(url="https://other.example/api/v1/write"))
    assert_one_line_error(raw, KEY, "two endpoints are named 'central'")


@pytest.mark.parametrize("queue", ACCEPTED_QUEUES)
def test_queue_settings_are_taken(queue):
    Settings.from_raw(with_endpoints(endpoint(queueConfig=queue)))
