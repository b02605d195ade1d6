"""The Automation-API runner against a fake `pulumi.automation` stack: what it asks the engine
for, and what it makes of the answers."""

from types import SimpleNamespace

import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from pks_monitoring.fleet import automation
from pks_monitoring.fleet.automation import AutomationRunner
from pks_monitoring.fleet.plan import FleetError, StackEntry


class FakeStack:
    def __init__(self, name, fail=None):
        self.name, self.fail, self.calls = name, fail, []

    def run(self, what, kwargs):
        self.calls.append((what, kwargs))
        kwargs["on_output"](
            "Previewing update (dev)\n     + kubernetes:core/v1:Namespace monitoring create\n"
        )
        if self.fail == what:
            raise auto.CommandError(
                CommandResult("", "error: update failed\n  error: Secret grafana-admin: boom", 255)
            )

    def preview(self, **kwargs):
        self.run("preview", kwargs)
        return SimpleNamespace(change_summary={"create": 3, "same": 1})

    def up(self, **kwargs):
        self.run("up", kwargs)
        return SimpleNamespace(summary=SimpleNamespace(resource_changes={"update": 1}))

    def outputs(self):
        return {"namespace": auto.OutputValue("monitoring", False)}


@pytest.fixture
def stacks(monkeypatch):
    made: dict[str, FakeStack] = {}

    def select_stack(name, work_dir):
        if name == "nosuch":
            raise auto.StackNotFoundError(CommandResult("", "error: no stack named 'nosuch' found", 255))
        made[name] = FakeStack(name, fail=name.split("-fails-")[-1] if "-fails-" in name else None)
        return made[name]

    monkeypatch.setattr(automation.auto, "select_stack", select_stack)
    return made


def runner(tmp_path):
    lines: list[str] = []
    return AutomationRunner(tmp_path, echo=lines.append), lines


def test_an_unknown_stack_is_bad_input_before_anything_runs(stacks, tmp_path):
    r, _ = runner(tmp_path)
    with pytest.raises(FleetError, match="stack nosuch does not exist"):
        r.open([StackEntry("dev"), StackEntry("nosuch")])


def test_preview_and_up_ask_for_no_diff_and_no_secrets_and_pass_the_config_file(stacks, tmp_path):
    r, lines = runner(tmp_path)
    entry = StackEntry("dev", config_file=tmp_path / "Pulumi.dev.yaml")
    r.open([entry])
    assert r.preview(entry).changes == {"create": 3, "same": 1}
    assert r.up(entry).changes == {"update": 1}
    (_, preview), (_, up) = stacks["dev"].calls
    assert preview["config_file"] == up["config_file"] == str(tmp_path / "Pulumi.dev.yaml")
    assert "diff" not in preview and "diff" not in up
    assert up["show_secrets"] is False
    assert lines[:2] == [
        "[dev] Previewing update (dev)",
        "[dev]      + kubernetes:core/v1:Namespace monitoring create",
    ]


def test_a_failed_step_is_the_engines_last_error_line(stacks, tmp_path):
    r, _ = runner(tmp_path)
    entry = StackEntry("dev-fails-up")
    r.open([entry])
    assert r.preview(entry).ok
    step = r.up(entry)
    assert not step.ok
    assert step.error == "error: Secret grafana-admin: boom"


def test_outputs_are_plain_values(stacks, tmp_path):
    r, _ = runner(tmp_path)
    r.open([StackEntry("dev")])
    assert r.outputs(StackEntry("dev")) == {"namespace": "monitoring"}
