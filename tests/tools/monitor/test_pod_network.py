"""tools/monitor/pod_network.py: the proxy that leads a played pod's address to its process."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tools.monitor.pod_network import Routes, add_route, destination, handler


class Echo(BaseHTTPRequestHandler):
    """Answers what it was asked: method, path, Host header, body."""

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        out = json.dumps(
            {"method": self.command, "path": self.path, "host": self.headers["Host"], "body": body}
        )
        self.send_response(201)
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out.encode())

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


def serve(server: ThreadingHTTPServer) -> Iterator[str]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def echo() -> Iterator[str]:
    yield from serve(ThreadingHTTPServer(("127.0.0.1", 0), Echo))


@pytest.fixture
def table(tmp_path) -> Path:
    return tmp_path / "pod-network.json"


@pytest.fixture
def proxy(table) -> Iterator[str]:
    yield from serve(ThreadingHTTPServer(("127.0.0.1", 0), handler(Routes(table))))


def through(proxy: str, url: str, data: bytes | None = None) -> tuple[int, Any]:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({"http": f"http://{proxy}"}))
    try:
        with opener.open(urllib.request.Request(url, data=data), timeout=5) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_routed_pod_address_reaches_its_process(proxy, table, echo):
    add_route(table, "10.200.1.5:9093", echo, "monitoring/alertmanager-main-0")
    status, seen = through(proxy, "http://10.200.1.5:9093/api/v2/alerts?x=1", data=b'[{"labels":{}}]')
    assert status == 201
    assert seen == {
        "method": "POST",
        "path": "/api/v2/alerts?x=1",
        "host": "10.200.1.5:9093",
        "body": '[{"labels":{}}]',
    }


def test_loopback_is_dialled_as_it_is(proxy, echo):
    status, seen = through(proxy, f"http://{echo}/metrics")
    assert status == 201 and seen["path"] == "/metrics"


def test_other_addresses_are_refused_without_leaving_the_machine(proxy, table, echo):
    add_route(table, "10.200.1.5:9093", echo, "monitoring/alertmanager-main-0")
    for url in ("http://10.200.1.5:9090/", "http://192.0.2.1/", "http://master-0.etcd.cfcr.internal:9100/"):
        status, text = through(proxy, url)
        assert status == 502 and "not on this machine's pod network" in text, url


def test_a_route_added_while_it_runs_is_used(proxy, table, echo):
    assert through(proxy, "http://10.200.2.9:8080/")[0] == 502
    add_route(table, "10.200.2.9:8080", echo, "hello/hello-pks-1")
    assert through(proxy, "http://10.200.2.9:8080/")[0] == 201


def test_a_stopped_process_is_a_failed_scrape(table):
    add_route(table, "10.200.1.5:9093", "127.0.0.1:9", "monitoring/alertmanager-main-0")
    routes = Routes(table).current()
    assert destination(routes, "10.200.1.5", 9093) == ("127.0.0.1", 9)
    assert destination(routes, "10.200.1.5", 9094) is None
    assert destination(routes, "127.0.3.11", 9100) == ("127.0.3.11", 9100)
