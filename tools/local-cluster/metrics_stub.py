"""A stand-in for TKGI's metrics-server behind APIService v1beta1.metrics.k8s.io.

The local cluster keeps TKGI's metrics-server objects (Deployment, Service, APIService); its pods
are kwok's, so nothing would answer the aggregator, the APIService would stay unavailable, and
every namespace deletion would then stall on the discovery failure. This serves the group's
discovery, a fixed NodeMetrics for each worker named on its command line (so that `kubectl top
nodes` answers, as it does through TKGI's metrics-server) and empty PodMetrics lists over TLS on
the Service's ClusterIP (a loopback address: the local cluster's service network is in
127.0.0.0/8). No real metrics: the numbers are constants.

Usage: python3 metrics_stub.py HOST PORT CERT KEY [NODE ...]
"""

import json
import ssl
import sys
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
GV = f"{GROUP}/{VERSION}"

RESOURCES = {
    "kind": "APIResourceList",
    "apiVersion": "v1",
    "groupVersion": GV,
    "resources": [
        {
            "name": "nodes",
            "singularName": "",
            "namespaced": False,
            "kind": "NodeMetrics",
            "verbs": ["get", "list"],
        },
        {
            "name": "pods",
            "singularName": "",
            "namespaced": True,
            "kind": "PodMetrics",
            "verbs": ["get", "list"],
        },
    ],
}
GROUP_DOC = {
    "kind": "APIGroup",
    "apiVersion": "v1",
    "name": GROUP,
    "versions": [{"groupVersion": GV, "version": VERSION}],
    "preferredVersion": {"groupVersion": GV, "version": VERSION},
}


OPENAPI_INFO = {"title": "metrics-stub", "version": VERSION}
OPENAPI_V2 = {"swagger": "2.0", "info": OPENAPI_INFO, "paths": {}}
OPENAPI_V3_PATH = f"/openapi/v3/apis/{GV}"
OPENAPI_V3_INDEX = {"paths": {f"apis/{GV}": {"serverRelativeURL": OPENAPI_V3_PATH}}}
OPENAPI_V3 = {"openapi": "3.0.0", "info": OPENAPI_INFO, "paths": {}}


NODES: list[str] = []


def empty_list(kind):
    return {"kind": kind, "apiVersion": GV, "metadata": {}, "items": []}


def node_metrics():
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    items = [
        {
            "metadata": {"name": node},
            "timestamp": now,
            "window": "30s",
            "usage": {"cpu": "100m", "memory": "512Mi"},
        }
        for node in NODES
    ]
    return {**empty_list("NodeMetricsList"), "items": items}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _send(self, code, doc):
        body = json.dumps(doc).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0].rstrip("/")
        prefix = f"/apis/{GV}"
        if path in ("/healthz", "/readyz", "/livez"):
            body = b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/openapi/v2":  # the aggregator merges the backends' OpenAPI documents
            self._send(200, OPENAPI_V2)
        elif path == "/openapi/v3":
            self._send(200, OPENAPI_V3_INDEX)
        elif path == OPENAPI_V3_PATH:
            self._send(200, OPENAPI_V3)
        elif path == "/apis":
            self._send(200, {"kind": "APIGroupList", "apiVersion": "v1", "groups": [GROUP_DOC]})
        elif path == f"/apis/{GROUP}":
            self._send(200, GROUP_DOC)
        elif path == prefix:
            self._send(200, RESOURCES)
        elif path == f"{prefix}/nodes":
            self._send(200, node_metrics())
        elif path == f"{prefix}/pods" or (
            path.startswith(f"{prefix}/namespaces/") and path.endswith("/pods")
        ):
            self._send(200, empty_list("PodMetricsList"))
        else:
            self._send(
                404,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "status": "Failure",
                    "reason": "NotFound",
                    "code": 404,
                    "message": "the metrics stub serves no metrics",
                },
            )

    def log_message(self, fmt, *args):  # quiet: one line per request is noise here
        pass


def main():
    host, port, cert, key = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    NODES.extend(sys.argv[5:])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server = ThreadingHTTPServer((host, port), Handler)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    print(f"metrics stub serving {GV} on https://{host}:{port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
