"""The namespace guard's provider, as the engine calls it: Check with the last deployment's
inputs (empty for a new stack) and the program's."""

from __future__ import annotations

import pytest

from pks_monitoring.namespace_guard import _Guard


def check(olds: dict, news: dict) -> list[tuple[str, str]]:
    result = _Guard().check(olds, news)
    assert result.inputs == news
    return [(failure.property, failure.reason) for failure in result.failures]


def test_a_new_stack_takes_any_namespace():
    assert check({}, {"namespace": "observability", "move": False}) == []


def test_the_same_namespace_passes():
    assert check({"namespace": "monitoring", "move": False}, {"namespace": "monitoring", "move": False}) == []


def test_a_new_namespace_is_refused_in_one_line_naming_both_keys_and_the_data():
    failures = check(
        {"namespace": "monitoring", "move": False}, {"namespace": "observability", "move": False}
    )
    assert len(failures) == 1
    key, reason = failures[0]
    assert key == "namespace"
    assert "\n" not in reason
    assert "kubePrometheus.namespace changed from monitoring to observability" in reason
    assert "kubePrometheus.moveNamespace: true" in reason
    assert "metrics history" in reason


def test_the_move_flag_lets_it_move():
    assert (
        check({"namespace": "monitoring", "move": False}, {"namespace": "observability", "move": True}) == []
    )


@pytest.mark.parametrize(
    ("olds", "news", "changed"),
    [
        ({"namespace": "a", "move": False}, {"namespace": "a", "move": False}, False),
        ({"namespace": "a", "move": False}, {"namespace": "b", "move": True}, True),
        ({"namespace": "a", "move": True}, {"namespace": "a", "move": False}, True),
    ],
)
def test_the_state_follows_the_inputs(olds, news, changed):
    """A moved stack records the new namespace: the next change is judged from there."""
    guard = _Guard()
    assert guard.diff("a", olds, news).changes is changed
    assert guard.diff("a", olds, news).replaces == []
    assert guard.update("a", olds, news).outs == news
