"""Helpers for tests that run the real Prometheus tools (prometheus, promtool, amtool, node_exporter).

- `require(tool)`: the tool's path. Missing tool: the test is skipped on a developer machine, but
  fails under CI (env var `CI` set), so CI can never go green by silently skipping.
- `free_port()`: a free TCP port on 127.0.0.1 (the only network these tests use).
- `start(...)` / `Process`: a background process with its output in a log file; `stop()` is
  idempotent and bounded (SIGTERM, then SIGKILL). Register it as a finalizer right after starting.
- `wait_until(...)`: bounded polling, no fixed sleeps.
- `get_json(...)` / `PrometheusAPI`: the few HTTP API calls the tests need.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import pytest

T = TypeVar("T")

LOOPBACK = "127.0.0.1"

# Executable names per tool, first match wins (Debian packages node_exporter under another name).
TOOL_NAMES: dict[str, tuple[str, ...]] = {
    "prometheus": ("prometheus",),
    "promtool": ("promtool",),
    "amtool": ("amtool",),
    "node_exporter": ("prometheus-node-exporter", "node_exporter"),
    "prometheus-node-exporter": ("prometheus-node-exporter", "node_exporter"),
}


def in_ci() -> bool:
    """True when the environment variable CI is set (to anything): real-tool tests must run."""
    return "CI" in os.environ


def missing(message: str) -> NoReturn:
    """Skip the calling test for a missing real tool, unless under CI: then fail it."""
    if in_ci():
        pytest.fail(f"{message}; CI is set, so this test must not be skipped", pytrace=False)
    pytest.skip(f"{message} (this test is never skipped when CI is set)")


def find_tool(tool: str) -> str | None:
    """The path of `tool` on PATH, None if not installed."""
    for name in TOOL_NAMES.get(tool, (tool,)):
        path = shutil.which(name)
        if path:
            return path
    return None


def require(tool: str) -> str:
    """The path of `tool`; skips the calling test if it is missing, unless under CI: then fails."""
    path = find_tool(tool)
    if path:
        return path
    missing(" or ".join(TOOL_NAMES.get(tool, (tool,))) + " not found on PATH")


def require_pinned(tool: str) -> str:
    """`tool` of the pinned toolchain's monitoring group (Prometheus 3 with every discoverer:
    Debian's 2.x has no Kubernetes discovery); skips like `require` when it is not built."""
    from tests.helpers.e2e import toolchain_bins

    for folder in toolchain_bins(("monitoring",)):
        if (folder / tool).is_file():
            return str(folder / tool)
    missing(f"{tool} of the pinned toolchain is not built: run `bash tools/setup.sh`")


def run_tool(args: Sequence[str], timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """Runs a short-lived tool (promtool, amtool) with a bounded time; output is captured."""
    return subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, check=False)


def free_port() -> int:
    """A TCP port that was free on 127.0.0.1 a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


@dataclass
class Process:
    """A background process whose stdout and stderr go to `log_path`."""

    name: str
    args: list[str]
    log_path: Path
    popen: subprocess.Popen = field(repr=False)

    @property
    def running(self) -> bool:
        return self.popen.poll() is None

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def check_running(self) -> None:
        """Raises (with the log's tail) if the process has exited."""
        if not self.running:
            raise RuntimeError(
                f"{self.name} exited with code {self.popen.returncode}; args: {self.args}\n"
                f"--- log ---\n{self.log()}"
            )

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Safe to call more than once."""
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=timeout)


def start(name: str, args: Sequence[str], log_path: Path, cwd: Path | None = None) -> Process:
    """Starts `args` in the background. The caller must arrange `stop()` (e.g. a finalizer)."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "wb") as log:
        popen = subprocess.Popen(
            list(args),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            close_fds=True,
        )
    return Process(name=name, args=list(args), log_path=log_path, popen=popen)


def wait_until(
    probe: Callable[[], T],
    timeout: float,
    what: str,
    interval: float = 0.1,
    processes: Sequence[Process] = (),
) -> T:
    """Calls `probe` until it returns something truthy (returned) or `timeout` seconds pass.

    Exceptions from `probe` count as "not yet" (the last one is reported on timeout). If one of
    `processes` exits meanwhile, fails at once with its log instead of waiting out the timeout.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        for process in processes:
            process.check_running()
        try:
            result = probe()
            if result:
                return result
            last = result
        except Exception as error:
            last = error
        if time.monotonic() >= deadline:
            logs = "".join(f"\n--- {p.name} log ---\n{p.log()}" for p in processes)
            raise TimeoutError(f"timed out after {timeout}s waiting for {what}; last: {last!r}{logs}")
        time.sleep(interval)


def get(url: str, timeout: float = 5, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    """HTTP GET; returns (status, body) also for 4xx/5xx answers."""
    try:
        with urllib.request.urlopen(
            urllib.request.Request(url, headers=headers or {}), timeout=timeout
        ) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def get_json(url: str, timeout: float = 5, headers: dict[str, str] | None = None) -> Any:
    return json.loads(get(url, timeout, headers)[1])


def wait_http_ok(
    url: str, process: Process, timeout: float = 15, headers: dict[str, str] | None = None
) -> None:
    """Waits until `url` answers 200 (e.g. Prometheus' /-/ready, node_exporter's /metrics)."""
    wait_until(
        lambda: get(url, timeout=2, headers=headers)[0] == 200,
        timeout,
        f"{process.name} at {url}",
        processes=[process],
    )


def basic_auth(username: str, password: str) -> tuple[dict[str, Any], dict[str, str]]:
    """A Prometheus web config (`--web.config.file`) that admits only `username` with `password`,
    and the request headers that pass it."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # Python 3.11's; bcrypt is what the web config takes (exporter-toolkit)

        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH))
    token = base64.b64encode(f"{username}:{password}".encode()).decode()
    return {"basic_auth_users": {username: hashed}}, {"Authorization": f"Basic {token}"}


@dataclass(frozen=True)
class PrometheusAPI:
    """The HTTP API of a Prometheus at `base` (http://127.0.0.1:<port>), run by `process`."""

    base: str
    process: Process | None = None
    headers: dict[str, str] = field(default_factory=dict)  # e.g. basic auth (`basic_auth`)

    def poll(self, probe: Callable[[], T], what: str, timeout: float = 30) -> T:
        """`wait_until` that gives up at once if the Prometheus process has died."""
        return wait_until(
            probe, timeout, what, interval=0.2, processes=[self.process] if self.process else []
        )

    def query(self, promql: str) -> dict[str, Any]:
        """The JSON answer of an instant query (also when the status is "error")."""
        query = urllib.parse.urlencode({"query": promql})
        return get_json(f"{self.base}/api/v1/query?{query}", headers=self.headers)

    def vector(self, promql: str) -> list[dict[str, Any]]:
        """The result of an instant query that must succeed."""
        answer = self.query(promql)
        if answer.get("status") != "success":
            raise AssertionError(f"query {promql!r} failed: {answer}")
        return answer["data"]["result"]

    def targets(self) -> list[dict[str, Any]]:
        return get_json(f"{self.base}/api/v1/targets?state=active", headers=self.headers)["data"][
            "activeTargets"
        ]

    def rule_groups(self) -> list[dict[str, Any]]:
        return get_json(f"{self.base}/api/v1/rules", headers=self.headers)["data"]["groups"]


def start_prometheus(
    config: Path,
    root: Path,
    request,
    *,
    binary: str | None = None,
    flags: Sequence[str] = (),
    headers: dict[str, str] | None = None,
) -> PrometheusAPI:
    """A real Prometheus (`binary`, else Debian's on PATH) on a free loopback port with `config`
    and `flags`, its data under `root`, stopped when the requesting fixture's scope ends; returns
    once it is ready (asked with `headers`, e.g. when its web config demands basic auth)."""
    binary = binary or require("prometheus")
    port = free_port()
    process = start(
        "prometheus",
        [
            binary,
            f"--config.file={config}",
            f"--storage.tsdb.path={root / 'data'}",
            f"--web.listen-address={LOOPBACK}:{port}",
            *flags,
        ],
        root / "prometheus.log",
        cwd=root,
    )
    request.addfinalizer(process.stop)
    base = f"http://{LOOPBACK}:{port}"
    wait_http_ok(f"{base}/-/ready", process, timeout=20, headers=headers)
    return PrometheusAPI(base, process, dict(headers or {}))
