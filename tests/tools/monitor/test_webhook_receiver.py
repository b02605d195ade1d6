"""tools/monitor/webhook_receiver.py: every notification kept, one JSON line each."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer

import pytest

from tools.monitor.webhook_receiver import notifications, receiver


@pytest.fixture
def receiving(tmp_path):
    record = tmp_path / "webhook.jsonl"
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver(record))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", record
    server.shutdown()
    server.server_close()


def post(url: str, body: bytes) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def test_notifications_are_kept_in_order_with_their_path(receiving):
    url, record = receiving
    assert notifications(record) == []
    for n in (1, 2):
        assert post(f"{url}/secret-path", json.dumps({"receiver": "team", "n": n}).encode()) == 200
    assert notifications(record) == [
        {"path": "/secret-path", "notification": {"receiver": "team", "n": 1}},
        {"path": "/secret-path", "notification": {"receiver": "team", "n": 2}},
    ]


def test_a_body_that_is_not_json_is_refused_and_not_kept(receiving):
    url, record = receiving
    assert post(url, b"not json") == 400
    assert notifications(record) == []
