import threading
import time

from pks_monitoring.fleet.plan import Fleet, StackEntry, Wave
from pks_monitoring.fleet.rollout import Step, exit_code, roll_out, summary


def fleet(*waves: list[str], concurrency: int = 1) -> Fleet:
    return Fleet(
        tuple(Wave(f"w{i}", tuple(StackEntry(n) for n in names)) for i, names in enumerate(waves)),
        concurrency,
    )


class FakeRunner:
    """Records every call in order; fails the steps it is told to."""

    def __init__(self, failing_previews=(), failing_ups=(), up_seconds=0.0):
        self.calls: list[tuple[str, str]] = []
        self.failing_previews, self.failing_ups = set(failing_previews), set(failing_ups)
        self.up_seconds = up_seconds
        self.lock = threading.Lock()
        self.running = self.most_running = 0

    def record(self, what, entry):
        with self.lock:
            self.calls.append((what, entry.name))

    def preview(self, entry):
        self.record("preview", entry)
        if entry.name in self.failing_previews:
            return Step(False, error="error: preview refused")
        return Step(True, {"create": 2, "same": 5})

    def up(self, entry):
        self.record("up", entry)
        with self.lock:
            self.running += 1
            self.most_running = max(self.most_running, self.running)
        time.sleep(self.up_seconds)
        with self.lock:
            self.running -= 1
        if entry.name in self.failing_ups:
            return Step(False, error="error: up failed")
        return Step(True, {"create": 2})


def gate_recording(runner, unhealthy=()):
    def gate(entry):
        runner.record("gate", entry)
        return "Prometheus k8s: no Available condition yet" if entry.name in unhealthy else None

    return gate


def test_everything_is_previewed_before_any_up_and_waves_go_in_order():
    runner = FakeRunner()
    rows = roll_out(fleet(["dev"], ["prod-east", "prod-west"]), runner, gate_recording(runner))
    kinds = [what for what, _ in runner.calls]
    assert kinds[:3] == ["preview"] * 3
    assert [c for c in runner.calls if c[0] != "preview"] == [
        ("up", "dev"),
        ("gate", "dev"),
        ("up", "prod-east"),
        ("gate", "prod-east"),
        ("up", "prod-west"),
        ("gate", "prod-west"),
    ]
    assert exit_code(rows) == 0
    assert {(r.stack, r.preview, r.up, r.health, r.changes) for r in rows} == {
        (n, "ok", "ok", "ok", "create 2") for n in ("dev", "prod-east", "prod-west")
    }


def test_a_failed_preview_stops_before_any_up():
    runner = FakeRunner(failing_previews={"prod-east"})
    rows = roll_out(fleet(["dev"], ["prod-east"]), runner, gate_recording(runner))
    assert {what for what, _ in runner.calls} == {"preview"}
    assert exit_code(rows) == 1
    assert [(r.stack, r.preview, r.up) for r in rows] == [("dev", "ok", "-"), ("prod-east", "failed", "-")]


def test_dry_run_is_previews_only():
    runner = FakeRunner()
    rows = roll_out(fleet(["dev"], ["prod"]), runner, gate_recording(runner), dry_run=True)
    assert {what for what, _ in runner.calls} == {"preview"}
    assert exit_code(rows) == 0


def test_a_failed_health_gate_stops_the_rollout_and_later_waves_are_not_touched():
    runner = FakeRunner()
    rows = roll_out(fleet(["dev"], ["prod"]), runner, gate_recording(runner, unhealthy={"dev"}))
    assert ("up", "prod") not in runner.calls
    dev, prod = rows
    assert (dev.up, dev.health, prod.up, prod.health) == ("ok", "failed", "-", "-")
    assert "dev: Prometheus k8s: no Available condition yet" in summary(rows)
    assert exit_code(rows) == 1


def test_a_failed_up_skips_its_gate_and_no_further_stack_of_the_wave_starts():
    runner = FakeRunner(failing_ups={"a"})
    rows = roll_out(fleet(["a", "b", "c"]), runner, gate_recording(runner))
    assert [c for c in runner.calls if c[0] != "preview"] == [("up", "a")]
    assert [(r.stack, r.up) for r in rows] == [("a", "failed"), ("b", "-"), ("c", "-")]


def test_concurrency_limits_the_stacks_of_a_wave_running_at_once():
    runner = FakeRunner(up_seconds=0.05)
    roll_out(fleet(["a", "b", "c", "d", "e"], concurrency=2), runner, gate_recording(runner))
    assert runner.most_running == 2


def test_summary_is_a_table_of_every_stack():
    runner = FakeRunner(failing_ups={"prod"})
    table = summary(roll_out(fleet(["dev"], ["prod"]), runner, gate_recording(runner))).splitlines()
    assert table[0].split() == ["stack", "wave", "preview", "up", "health", "changes"]
    assert table[1].split() == ["dev", "w0", "ok", "ok", "ok", "create", "2"]
    assert table[2].split() == ["prod", "w1", "ok", "failed", "-", "create", "2"]
    assert table[3] == "prod: error: up failed"
