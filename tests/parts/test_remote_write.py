"""Remote write (`parts.remote_write`): `spec.remoteWrite` of the Prometheus `k8s` resource names
its credentials in the `prometheus-remote-write` Secret and nowhere holds them; it is valid
against the pinned CRD; and what the settings take as write relabeling and queue settings,
Prometheus takes (promtool on the remote_write block the operator generates from it)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pulumi
import pytest
import yaml

from pks_monitoring.parts.remote_write import (
    REMOTE_WRITE_SECRET,
    remote_write_secret,
    remote_write_spec,
    secret_data,
    set_remote_write,
)
from pks_monitoring.settings import Settings
from pks_monitoring.settings.remote_write import RemoteWriteEndpoint
from pks_monitoring.upstream import PROMETHEUS
from tests.conftest import UPSTREAM
from tests.helpers.prometheus_tools import basic_auth, require, run_tool, start_prometheus
from tests.helpers.schemas import crd_schemas, validate_custom
from tests.settings.test_remote_write import (
    ACCEPTED_QUEUES,
    ACCEPTED_RELABELINGS,
    CA,
    KEY_PEM,
    REFUSED_RELABELINGS,
    with_endpoints,
)

SECRETS = {"password": "pw-71", "token": "tok-72", "key": KEY_PEM.replace("MIIE", "key-73")}
ENDPOINTS = [
    {
        "name": "central",
        "url": "https://store.example/api/v1/write",
        "basicAuth": {"username": "pks", "password": SECRETS["password"]},
        "tls": {"ca": CA, "cert": CA, "key": SECRETS["key"], "serverName": "store.example"},
        "writeRelabelConfigs": ACCEPTED_RELABELINGS,
        "queueConfig": ACCEPTED_QUEUES[0],
    },
    {"name": "backup", "url": "https://backup.example/push", "bearerToken": SECRETS["token"]},
    {"name": "plain", "url": "http://10.0.0.9:9090/api/v1/write"},
]


def endpoints(*raw: dict[str, Any]) -> list[RemoteWriteEndpoint]:
    return list(Settings.from_raw(with_endpoints(*(raw or ENDPOINTS))).prometheus.remote_write)


def selectors(value: Any) -> list[dict[str, Any]]:
    """Every SecretKeySelector of our Secret inside `value`."""
    if isinstance(value, dict):
        if value.get("name") == REMOTE_WRITE_SECRET and "key" in value:
            return [value]
        return [s for v in value.values() for s in selectors(v)]
    if isinstance(value, list):
        return [s for v in value for s in selectors(v)]
    return []


def test_every_credential_is_a_reference_into_the_secret():
    specs = [remote_write_spec(e) for e in endpoints()]
    central, backup, plain = specs
    data = secret_data(endpoints())
    assert data["central-password"] == SECRETS["password"]
    assert data["backup-bearer-token"] == SECRETS["token"]
    assert data["central-tls.key"] == SECRETS["key"]
    assert central["basicAuth"]["password"] == {"name": REMOTE_WRITE_SECRET, "key": "central-password"}
    assert backup["authorization"]["type"] == "Bearer"
    assert central["tlsConfig"]["keySecret"]["key"] == "central-tls.key"
    # Every reference resolves, and every key of the Secret is referenced.
    referenced = {s["key"] for s in selectors(specs)}
    assert referenced == set(data)
    assert selectors(plain) == [] and "plain-username" not in data
    # No secret value anywhere in the resource's spec (nor the deprecated plain bearerToken).
    text = json.dumps(specs)
    assert not [name for name, value in SECRETS.items() if value in text]
    assert "bearerToken" not in text


def test_settings_reach_the_spec_as_the_operator_names_them():
    central = remote_write_spec(endpoints()[0])
    assert central["url"] == ENDPOINTS[0]["url"] and central["name"] == "central"
    assert central["queueConfig"] == ACCEPTED_QUEUES[0]
    assert central["writeRelabelConfigs"][0] == {
        "sourceLabels": ["__name__"],
        "regex": "go_.*",
        "action": "drop",
    }
    assert central["writeRelabelConfigs"][1]["action"] == "keep"
    assert central["tlsConfig"]["serverName"] == "store.example"


def test_the_prometheus_resource_takes_the_endpoints_and_is_valid_against_the_crd(kube_prometheus):
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", PROMETHEUS))
    set_remote_write(prometheus, endpoints=endpoints())
    assert [e["name"] for e in prometheus["spec"]["remoteWrite"]] == ["central", "backup", "plain"]
    assert validate_custom(prometheus, crd_schemas(UPSTREAM)) == []


def test_the_schema_check_sees_a_wrong_reference(kube_prometheus):
    # The negative control of the check above: a credential given as a value is refused.
    prometheus = copy.deepcopy(kube_prometheus.find("Prometheus", PROMETHEUS))
    set_remote_write(prometheus, endpoints=endpoints())
    prometheus["spec"]["remoteWrite"][0]["basicAuth"]["password"] = SECRETS["password"]
    assert validate_custom(prometheus, crd_schemas(UPSTREAM)) != []


def test_other_objects_are_left_alone(kube_prometheus):
    others = copy.deepcopy([o for o in kube_prometheus.objects if o["kind"] != "Prometheus"])
    for obj in others:
        set_remote_write(obj, endpoints=endpoints())
    assert others == [o for o in kube_prometheus.objects if o["kind"] != "Prometheus"]


def test_the_secret_is_in_the_stack_namespace_and_a_pulumi_secret():
    secret = remote_write_secret("observability", endpoints())
    assert secret["metadata"] == {"name": REMOTE_WRITE_SECRET, "namespace": "observability"}
    assert isinstance(secret["stringData"], pulumi.Output)


# --- promtool: Prometheus takes what the settings take -------------------------------------------

# prometheus-operator's names in the generated config (promcfg.go GenerateRemoteWriteConfig).
_OPERATOR_NAMES = {"retryOnRateLimit": "retry_on_http_429"}


def _snake(name: str) -> str:
    return _OPERATOR_NAMES.get(name) or re.sub(r"(?<!^)([A-Z])", r"_\1", name).lower()


def generated(endpoint: RemoteWriteEndpoint) -> dict[str, Any]:
    """The remote_write entry prometheus-operator generates from `remote_write_spec(endpoint)`,
    with the Secret's values put in (TLS left out: promtool would read its files)."""
    spec, data = remote_write_spec(endpoint), secret_data([endpoint])
    entry: dict[str, Any] = {"url": spec["url"], "name": spec["name"]}
    if "basicAuth" in spec:
        auth = spec["basicAuth"]
        entry["basic_auth"] = {k: data[auth[k]["key"]] for k in ("username", "password")}
    if "authorization" in spec:
        entry["authorization"] = {
            "type": "Bearer",
            "credentials": data[spec["authorization"]["credentials"]["key"]],
        }
    relabelings = spec.get("writeRelabelConfigs") or []
    if relabelings:
        entry["write_relabel_configs"] = [{_snake(k): v for k, v in r.items()} for r in relabelings]
    if "queueConfig" in spec:
        entry["queue_config"] = {_snake(k): v for k, v in spec["queueConfig"].items()}
    return entry


def promtool_check(tmp_path, entries: list[dict[str, Any]]):
    path = tmp_path / "prometheus.yml"
    path.write_text(yaml.safe_dump({"remote_write": entries}))
    return run_tool([require("promtool"), "check", "config", "--syntax-only", str(path)])


@pytest.mark.slow
def test_promtool_takes_every_endpoint_the_settings_take(tmp_path):
    taken = [
        *endpoints(),
        *endpoints(
            *({"name": f"q{i}", "url": "http://s/w", "queueConfig": q} for i, q in enumerate(ACCEPTED_QUEUES))
        ),
    ]
    result = promtool_check(tmp_path, [generated(e) for e in taken])
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
@pytest.mark.parametrize(("relabeling", "field", "words"), REFUSED_RELABELINGS)
def test_promtool_refuses_every_relabeling_the_settings_refuse(tmp_path, relabeling, field, words):
    entry = {"url": "http://s/w", "write_relabel_configs": [{_snake(k): v for k, v in relabeling.items()}]}
    entry["write_relabel_configs"][0]["action"] = str(relabeling.get("action", "replace")).lower()
    result = promtool_check(tmp_path, [entry])
    assert result.returncode != 0, f"promtool takes {relabeling}, which the settings refuse ({words})"


@pytest.mark.slow
def test_a_real_prometheus_delivers_to_a_store_behind_basic_auth(tmp_path, request):
    # Both ends real (Debian's Prometheus): the remote_write entry from the settings' endpoint,
    # its password from the Secret's data, reaches a receiver that demands it; the series carry
    # the external label. The operator's own rendering of it is the e2e tier's
    # (test_the_central_store_receives_every_series_with_the_cluster_label).
    store_root, sender_root = tmp_path / "store", tmp_path / "sender"
    store_root.mkdir()
    sender_root.mkdir()
    web, headers = basic_auth("pks", SECRETS["password"])
    (store_root / "web.yml").write_text(yaml.safe_dump(web))
    (store_root / "prometheus.yml").write_text("global: {}\n")
    store = start_prometheus(
        store_root / "prometheus.yml",
        store_root,
        request,
        flags=["--web.enable-remote-write-receiver", f"--web.config.file={store_root / 'web.yml'}"],
        headers=headers,
    )
    (endpoint,) = endpoints(
        {
            "name": "central",
            "url": f"{store.base}/api/v1/write",
            "basicAuth": {"username": "pks", "password": SECRETS["password"]},
            "queueConfig": {"batchSendDeadline": "1s"},
        }
    )
    sender_config = {
        "global": {"scrape_interval": "1s", "external_labels": {"cluster": "demo"}},
        "scrape_configs": [
            {"job_name": "store", "static_configs": [{"targets": [store.base.split("//")[1]]}]}
        ],
        "remote_write": [generated(endpoint)],
    }
    (sender_root / "prometheus.yml").write_text(yaml.safe_dump(sender_config))
    sender = start_prometheus(sender_root / "prometheus.yml", sender_root, request)
    # The sender scrapes the store, which answers 401 without credentials: up 0, sent all the same.
    received = store.poll(
        lambda: store.vector('up{job="store",cluster="demo"}'), "the sender's series at the store", timeout=30
    )
    assert received[0]["metric"]["instance"] == store.base.split("//")[1]
    assert sender.vector('prometheus_remote_storage_samples_failed_total{remote_name="central"} > 0') == []
