"""The pod network of the played pods: an HTTP proxy on loopback, Prometheus' `proxy_url`.

kwok gives pods addresses from the pod CIDR (10.200.0.0/16): Endpoints refuse loopback ones, and
nothing listens on them. A request through this proxy for <podIP>:<port> that the route table
names goes to the process playing that pod (tools.monitor.pods adds the route); a loopback
address (a simulated node's node_exporter) is dialled as it is; anything else answers 502, as an
unreachable pod fails a scrape: nothing leaves this machine. Targets keep their labels and
`instance` (the pod address): only the way to them is this machine's.

The table is JSON, {"10.200.0.7:9093": {"to": "127.0.0.1:39093", "pod": "monitoring/alertmanager-main-0"}},
read again whenever it changes.

Usage: python -m tools.monitor.pod_network HOST:PORT TABLE        serve
       python -m tools.monitor.pod_network route TABLE PODIP:PORT HOST:PORT NAMESPACE/POD
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import json
import os
import select
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

# Not forwarded: they describe this hop, not the request (RFC 9110 7.6.1).
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authorization", "te", "upgrade"}


def add_route(table: Path, address: str, to: str, pod: str) -> None:
    """Route `address` (<podIP>:<port>) to `to` (HOST:PORT on loopback); written atomically."""
    routes = load(table)
    routes[address] = {"to": to, "pod": pod}
    partial = table.with_name(table.name + ".new")
    partial.write_text(json.dumps(routes, indent=2, sort_keys=True))
    os.replace(partial, table)


def load(table: Path) -> dict[str, Any]:
    try:
        routes: dict[str, Any] = json.loads(table.read_text())
    except FileNotFoundError:
        return {}
    return routes


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def destination(routes: dict[str, Any], host: str, port: int) -> tuple[str, int] | None:
    """Where a request for host:port goes on this machine; None: nowhere (502)."""
    route = routes.get(f"{host}:{port}")
    if route is not None:
        to_host, _, to_port = route["to"].rpartition(":")
        return to_host, int(to_port)
    if _is_loopback(host):
        return host, port
    return None


class Routes:
    """The table, reloaded when its modification time changes."""

    def __init__(self, table: Path) -> None:
        self.table, self.mtime, self.routes = table, -1.0, {}

    def current(self) -> dict[str, Any]:
        with contextlib.suppress(FileNotFoundError):
            mtime = self.table.stat().st_mtime
            if mtime != self.mtime:
                self.routes, self.mtime = load(self.table), mtime
        return self.routes


def handler(routes: Routes) -> type[BaseHTTPRequestHandler]:
    class Proxy(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass  # one line per scrape would drown the log; errors are answered, not logged

        def _refuse(self, host: str, port: int | None, why: str) -> None:
            self.send_error(502, f"{host}:{port}: {why}")

        def _forward(self) -> None:
            url = urlsplit(self.path)
            host, port = url.hostname or "", url.port or 80
            where = destination(routes.current(), host, port)
            if where is None:
                self._refuse(host, port, "not on this machine's pod network")
                return
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
            target = url.path + (f"?{url.query}" if url.query else "")
            try:
                connection = http.client.HTTPConnection(*where, timeout=15)
                connection.request(self.command, target or "/", body=body, headers=headers)
                answer = connection.getresponse()
                data = answer.read()
            except OSError as error:
                self._refuse(host, port, f"{error.__class__.__name__}: {error}")
                return
            self.send_response(answer.status, answer.reason)
            for key, value in answer.getheaders():
                if key.lower() not in HOP_BY_HOP | {"transfer-encoding", "content-length"}:
                    self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            connection.close()

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _forward

        def do_CONNECT(self) -> None:  # https targets: a tunnel to where the address leads
            host, _, port_text = self.path.rpartition(":")
            where = destination(routes.current(), host.strip("[]"), int(port_text))
            if where is None:
                self._refuse(host, int(port_text), "not on this machine's pod network")
                return
            try:
                upstream = socket.create_connection(where, timeout=15)
            except OSError as error:
                self._refuse(host, int(port_text), f"{error.__class__.__name__}: {error}")
                return
            self.send_response(200, "Connection established")
            self.end_headers()
            sockets = [self.connection, upstream]
            with upstream:
                while True:
                    ready, _, _ = select.select(sockets, [], [], 30)
                    if not ready:
                        return
                    for sock in ready:
                        data = sock.recv(65536)
                        if not data:
                            return
                        (upstream if sock is self.connection else self.connection).sendall(data)

    return Proxy


def main(argv: list[str]) -> int:
    if len(argv) == 5 and argv[0] == "route":
        add_route(Path(argv[1]), argv[2], argv[3], argv[4])
        return 0
    if len(argv) != 2:
        print(__doc__.split("Usage: ")[1].strip(), file=sys.stderr)
        return 2
    host, _, port = argv[0].rpartition(":")
    server = ThreadingHTTPServer((host, int(port)), handler(Routes(Path(argv[1]))))
    server.daemon_threads = True
    server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
