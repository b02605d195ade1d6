"""The mock engine refuses what the Pulumi engine refuses: two resources with one URN."""

from __future__ import annotations

import pytest

from pks_monitoring.offline.mock_engine import DuplicateUrnError, run_program

# A ComponentResource type of its own, so the URNs depend on nothing else in the project.
PROGRAM = """
import pulumi

class Part(pulumi.ComponentResource):
    def __init__(self, type_, name, opts=None):
        super().__init__(type_, name, None, opts)
        self.register_outputs({{}})

group = Part("test:index:Group", "group")
{registrations}
"""


def run(tmp_path, *registrations: str):
    program = tmp_path / "__main__.py"
    program.write_text(PROGRAM.format(registrations="\n".join(registrations)))
    return run_program({}, [], stack="test", program=program)


def test_same_type_name_and_parent_is_a_duplicate_urn(tmp_path):
    child = 'Part("test:index:Part", "a", pulumi.ResourceOptions(parent=group))'
    with pytest.raises(DuplicateUrnError) as caught:
        run(tmp_path, child, child)
    assert str(caught.value) == (
        "Duplicate resource URN 'urn:pulumi:test::pks-monitoring::test:index:Group$test:index:Part::a'; "
        "try giving it a unique name"
    )
    # The failed run leaves nothing behind that fails the next one.
    assert [r.name for r in run(tmp_path, child).recorder.resources] == ["group", "a"]


def test_same_name_under_another_type_or_parent_is_not(tmp_path):
    result = run(
        tmp_path,
        'Part("test:index:Part", "a", pulumi.ResourceOptions(parent=group))',
        'Part("test:index:Other", "a", pulumi.ResourceOptions(parent=group))',
        'Part("test:index:Part", "a")',  # the stack as parent: another URN
    )
    # The SDK registers from a thread pool: in no set order.
    assert sorted((r.type, r.name) for r in result.recorder.resources) == [
        ("test:index:Group", "group"),
        ("test:index:Other", "a"),
        ("test:index:Part", "a"),
        ("test:index:Part", "a"),
    ]
