import pytest
from pulumi import automation as auto
from pulumi.automation._cmd import CommandResult

from pks_monitoring.fleet import cli, health
from pks_monitoring.fleet.rollout import Step


class FakeRunner:
    """Stands in for the Automation-API runner: knows the stacks `known`, records ups."""

    known = {"dev", "prod-east"}

    def __init__(self, work_dir):
        self.ups: list[str] = []

    def open(self, entries):
        for entry in entries:
            if entry.name not in self.known:
                raise cli.FleetError(f"stack {entry.name} does not exist on this backend")

    def preview(self, entry):
        return Step(True, {"create": 1})

    def up(self, entry):
        self.ups.append(entry.name)
        return Step(True, {"create": 1})

    def outputs(self, entry):
        return {
            "namespace": "monitoring",
            "portForward": {"prometheus": "kubectl --context c -n monitoring x"},
        }


@pytest.fixture
def runners(monkeypatch):
    made = []

    def make(work_dir):
        made.append(FakeRunner(work_dir))
        return made[-1]

    monkeypatch.setattr(cli, "AutomationRunner", make)
    return made


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--stacks", "dev,nosuch"], "error: stack nosuch does not exist"),
        (["--stacks", "dev", "--concurrency", "zero"], "error: argument --concurrency"),
        ([], "error: one of the arguments --fleet --stacks is required"),
        (["--fleet", "/nonexistent/fleet.yaml"], "error: --fleet /nonexistent/fleet.yaml: cannot read it"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(runners, capsys, argv, words):
    assert cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(words)
    assert err.count("\n") == 1


def test_dry_run_previews_only_and_prints_the_table(runners, capsys):
    assert cli.main(["--stacks", "dev,prod-east", "--dry-run"]) == 0
    assert runners[0].ups == []
    assert capsys.readouterr().out.splitlines()[1].split() == ["dev", "dev", "ok", "-", "-", "create", "1"]


def test_the_gate_is_aimed_by_the_outputs_and_its_failure_is_exit_1(runners, monkeypatch, capsys):
    seen = []

    def stack_problem(outputs, kubeconfig, *, targets, timeout):
        seen.append((outputs["namespace"], targets, timeout))
        return "Prometheus k8s: no Available condition yet"

    monkeypatch.setattr(health, "stack_problem", stack_problem)
    assert cli.main(["--stacks", "dev,prod-east", "--no-targets", "--health-timeout", "7"]) == 1
    assert runners[0].ups == ["dev"]
    assert seen == [("monitoring", False, 7)]
    assert "dev: Prometheus k8s: no Available condition yet" in capsys.readouterr().out


def test_unreadable_outputs_fail_the_gate_instead_of_the_command(runners, monkeypatch, capsys):
    def outputs(self, entry):
        raise auto.CommandError(CommandResult("", "error: the backend is gone", 255))

    monkeypatch.setattr(FakeRunner, "outputs", outputs)
    assert cli.main(["--stacks", "dev,prod-east"]) == 1
    assert runners[0].ups == ["dev"]
    assert "dev: cannot read the stack outputs: error: the backend is gone" in capsys.readouterr().out
