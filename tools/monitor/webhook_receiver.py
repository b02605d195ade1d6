"""An Alertmanager webhook receiver on loopback: every notification POSTed to it is appended,
as one JSON line, to a file (the test and the README read it); answers 200.

Usage: python -m tools.monitor.webhook_receiver HOST:PORT FILE
"""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


def receiver(record: Path) -> type[BaseHTTPRequestHandler]:
    lock = threading.Lock()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                notification = json.loads(body)
            except ValueError:
                self.send_error(400, "not JSON")
                return
            with lock, record.open("a") as out:
                out.write(json.dumps({"path": self.path, "notification": notification}) + "\n")
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    return Receiver


def notifications(record: Path) -> list[dict[str, Any]]:
    """What the receiver got so far, oldest first."""
    if not record.exists():
        return []
    return [json.loads(line) for line in record.read_text().splitlines() if line]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.split("Usage: ")[1].strip(), file=sys.stderr)
        return 2
    host, _, port = argv[0].rpartition(":")
    ThreadingHTTPServer((host, int(port)), receiver(Path(argv[1]))).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
