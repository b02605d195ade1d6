"""tools/monitor/outside_the_pod.py: what Prometheus takes from being in a pod, told explicitly."""

from __future__ import annotations

import copy

import pytest
import yaml

from tests.helpers.prometheus_tools import require_pinned, run_tool
from tools.monitor.outside_the_pod import prepare

GENERATED = {
    "global": {"scrape_interval": "30s"},
    "scrape_configs": [
        {
            "job_name": "serviceMonitor/hello/hello-pks/0",
            "kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": ["hello"]}}],
        },
        {"job_name": "static", "static_configs": [{"targets": ["127.0.0.1:9"]}]},
        {
            "job_name": "elsewhere",
            "kubernetes_sd_configs": [{"role": "node", "api_server": "https://other:6443"}],
        },
    ],
    "alerting": {
        "alertmanagers": [
            {"kubernetes_sd_configs": [{"role": "endpoints", "namespaces": {"names": ["monitoring"]}}]}
        ]
    },
}


def prepared(tmp_path, proxy: str | None = "http://127.0.0.1:38888"):
    token, ca = tmp_path / "token", tmp_path / "ca.crt"
    return prepare(
        GENERATED,
        api_server="https://127.0.0.1:36443",
        token_file=str(token),
        ca_file=str(ca),
        proxy_url=proxy,
    )


def test_discovery_is_told_the_api_server_and_the_pods_credentials(tmp_path):
    config = prepared(tmp_path)
    (app, static, elsewhere) = config["scrape_configs"]
    assert app["kubernetes_sd_configs"] == [
        {
            "role": "endpoints",
            "namespaces": {"names": ["hello"]},
            "api_server": "https://127.0.0.1:36443",
            "authorization": {"type": "Bearer", "credentials_file": str(tmp_path / "token")},
            "tls_config": {"ca_file": str(tmp_path / "ca.crt")},
        }
    ]
    assert "kubernetes_sd_configs" not in static
    assert elsewhere["kubernetes_sd_configs"] == GENERATED["scrape_configs"][2]["kubernetes_sd_configs"]
    (alertmanagers,) = config["alerting"]["alertmanagers"]
    assert alertmanagers["kubernetes_sd_configs"][0]["api_server"] == "https://127.0.0.1:36443"


def test_every_scrape_and_alert_push_goes_through_the_pod_network(tmp_path):
    config = prepared(tmp_path)
    clients = [*config["scrape_configs"], *config["alerting"]["alertmanagers"]]
    assert {c.get("proxy_url") for c in clients} == {"http://127.0.0.1:38888"}
    assert all("proxy_url" not in c for c in prepared(tmp_path, proxy=None)["scrape_configs"])


def test_nothing_else_changes_and_the_input_stays(tmp_path):
    before = copy.deepcopy(GENERATED)
    config = prepared(tmp_path)
    assert before == GENERATED
    assert config["global"] == GENERATED["global"]
    assert [j["job_name"] for j in config["scrape_configs"]] == [
        j["job_name"] for j in GENERATED["scrape_configs"]
    ]


@pytest.mark.slow
def test_promtool_accepts_the_prepared_config(tmp_path):
    (tmp_path / "token").write_text("t")
    (tmp_path / "ca.crt").write_text("")
    path = tmp_path / "prometheus.yaml"
    path.write_text(yaml.safe_dump(prepared(tmp_path)))
    checked = run_tool([require_pinned("promtool"), "check", "config", "--syntax-only", str(path)])
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_remote_write_goes_out_directly(tmp_path):
    # A central store is outside the pod network: no proxy_url, nothing else changed either.
    remote_write = [
        {"url": "http://127.0.0.1:45678/api/v1/write", "basic_auth": {"username": "u", "password": "p"}}
    ]
    config = prepare(
        {**GENERATED, "remote_write": remote_write},
        api_server="https://127.0.0.1:36443",
        token_file=str(tmp_path / "token"),
        ca_file=str(tmp_path / "ca.crt"),
        proxy_url="http://127.0.0.1:38888",
    )
    assert config["remote_write"] == remote_write
