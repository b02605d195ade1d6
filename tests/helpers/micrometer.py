"""A stand-in for a Spring Boot app (Micrometer's Prometheus output from tests/fixtures) and a real
Prometheus scraping it, as a ServiceMonitor's job would label it."""

from __future__ import annotations

import itertools
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.prometheus_tools import LOOPBACK, PrometheusAPI, start_prometheus

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "micrometer_metrics.txt"


METRICS_PATH = "/actuator/prometheus"


APP = {"job": "hello-pks", "namespace": "hello"}


def scaled(text: str, factor: int) -> str:
    """The exposition `text` with every cumulative value multiplied by `factor` (gauges as they
    are): served with the scrape number as factor, counters grow and rate() sees traffic."""
    types: dict[str, str] = {}
    lines = []
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split()
            types[name] = kind
        elif line and not line.startswith("#"):
            series, value = line.rsplit(" ", 1)
            if is_cumulative(series.split("{", 1)[0], types):
                line = f"{series} {float(value) * factor!r}"
        lines.append(line)
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def spring_boot_app(request) -> str:
    """A stand-in for a Spring Boot app on 127.0.0.1: GET /actuator/prometheus answers the
    Micrometer fixture, its counters scaled by the number of scrapes so far. Returns host:port."""
    text, scrapes = FIXTURE.read_text(), itertools.count(1)

    class Actuator(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path != METRICS_PATH:
                self.send_error(404)
                return
            body = scaled(text, next(scrapes)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer((LOOPBACK, 0), Actuator)
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


def is_cumulative(sample: str, types: dict[str, str]) -> bool:
    """A counter, or the _count/_sum/_bucket of a summary or histogram."""
    if types.get(sample) == "counter":
        return True
    base, _, suffix = sample.rpartition("_")
    return suffix in ("count", "sum", "bucket") and types.get(base) in ("summary", "histogram")
