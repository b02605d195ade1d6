"""A stand-in for a Spring Boot app (Micrometer's Prometheus output from tests/fixtures) and a real
Prometheus scraping it, as a ServiceMonitor's job would label it."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer

import pytest
import yaml

from tests.helpers.prometheus_tools import LOOPBACK, PrometheusAPI, start_prometheus
from tools.monitor.stand_in_app import METRICS_PATH, actuator, scaled
from tools.monitor.stand_in_app import PAYLOAD as FIXTURE

__all__ = ["FIXTURE", "METRICS_PATH", "scaled"]

APP = {"job": "hello-pks", "namespace": "hello"}


@pytest.fixture(scope="module")
def spring_boot_app(request) -> str:
    """A stand-in for a Spring Boot app on 127.0.0.1: GET /actuator/prometheus answers the
    Micrometer fixture, its counters scaled by the number of scrapes so far. Returns host:port."""
    server = ThreadingHTTPServer((LOOPBACK, 0), actuator(FIXTURE.read_text()))
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    request.addfinalizer(stop)
    return f"{LOOPBACK}:{server.server_address[1]}"


@pytest.fixture(scope="module")
def app_prometheus(request, tmp_path_factory, spring_boot_app) -> PrometheusAPI:
    """A real Prometheus scraping the stand-in every second as a ServiceMonitor's job would
    label it (job, namespace; instance = the target address)."""
    root = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [
            {
                "job_name": APP["job"],
                "metrics_path": METRICS_PATH,
                "static_configs": [{"targets": [spring_boot_app], "labels": {"namespace": APP["namespace"]}}],
            }
        ],
    }
    (root / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    api = start_prometheus(root / "prometheus.yml", root, request)
    # Prometheus applies new targets after ~5 s; rate() needs two scrapes of the target.
    api.poll(
        lambda: api.vector(f'rate(jvm_gc_memory_allocated_bytes_total{{job="{APP["job"]}"}}[30s]) > 0'),
        "two scrapes of the stand-in",
        timeout=25,
    )
    return api
