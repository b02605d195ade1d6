"""A stand-in for a Spring Boot app: GET /actuator/prometheus answers a real Micrometer payload
(tests/fixtures/micrometer_metrics.txt), its counters multiplied by the number of scrapes so far,
so that rate() sees traffic; any other path is 404.

Usage: python -m tools.monitor.stand_in_app HOST:PORT [PAYLOAD]
"""

from __future__ import annotations

import itertools
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

PAYLOAD = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "micrometer_metrics.txt"
METRICS_PATH = "/actuator/prometheus"


def is_cumulative(sample: str, types: dict[str, str]) -> bool:
    """A counter, or the _count/_sum/_bucket of a summary or histogram."""
    if types.get(sample) == "counter":
        return True
    base, _, suffix = sample.rpartition("_")
    return suffix in ("count", "sum", "bucket") and types.get(base) in ("summary", "histogram")


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


def actuator(text: str) -> type[BaseHTTPRequestHandler]:
    scrapes = itertools.count(1)

    class Actuator(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?", 1)[0] != METRICS_PATH:
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

    return Actuator


def main(argv: list[str]) -> int:
    if len(argv) not in (1, 2):
        print(__doc__.split("Usage: ")[1].strip(), file=sys.stderr)
        return 2
    host, _, port = argv[0].rpartition(":")
    text = Path(argv[1] if len(argv) == 2 else PAYLOAD).read_text()
    ThreadingHTTPServer((host, int(port)), actuator(text)).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
