"""The custom rules of `rules/` (pks_monitoring.rules): each file read strictly, and each
checked by promtool and unit-tested by its `<name>.test.yaml`, on the groups the stack deploys."""

from __future__ import annotations

import os
import shutil

import pytest
import yaml

from pks_monitoring.rules import RULES_DIR, TEST_SUFFIX, load_rules
from tests.helpers.prometheus_tools import require, run_tool
from tests.helpers.settings import one_line_error

GROUP = {"name": "g", "rules": [{"alert": "A", "expr": "up == 0"}]}


def test_every_rule_file_has_its_unit_tests_and_every_test_its_file():
    names = {
        p.name.removesuffix(".yaml") for p in RULES_DIR.glob("*.yaml") if not p.name.endswith(TEST_SUFFIX)
    }
    tests = {p.name.removesuffix(TEST_SUFFIX) for p in RULES_DIR.glob(f"*{TEST_SUFFIX}")}
    assert names and names == tests
    assert {r.name for r in load_rules(RULES_DIR)} == names


@pytest.mark.slow  # a real tool
@pytest.mark.parametrize("rule_file", load_rules(RULES_DIR), ids=lambda r: r.name)
def test_promtool_checks_and_unit_tests_the_deployed_groups(rule_file, tmp_path):
    promtool = require("promtool")
    test_file = RULES_DIR / f"{rule_file.name}{TEST_SUFFIX}"
    assert yaml.safe_load(test_file.read_text())["rule_files"] == [f"{rule_file.name}.yaml"]
    # What the stack deploys (the groups as read), not the file as written.
    (tmp_path / f"{rule_file.name}.yaml").write_text(yaml.safe_dump({"groups": rule_file.groups}))
    shutil.copy(test_file, tmp_path)
    checked = run_tool([promtool, "check", "rules", str(tmp_path / f"{rule_file.name}.yaml")])
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = run_tool([promtool, "test", "rules", str(tmp_path / test_file.name)])
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_a_rule_file_is_read_as_its_groups_and_tests_are_left_out(tmp_path):
    (tmp_path / "b.yaml").write_text(yaml.safe_dump({"groups": [GROUP]}))
    (tmp_path / "a.yaml").write_text(yaml.safe_dump({"groups": [GROUP]}))
    (tmp_path / f"a{TEST_SUFFIX}").write_text("rule_files: [a.yaml]\n")
    (tmp_path / "notes.txt").write_text("not a rule file")
    loaded = load_rules(tmp_path)
    assert [(r.name, r.prometheus_rule_name, r.groups) for r in loaded] == [
        ("a", "pks-custom-a", [GROUP]),
        ("b", "pks-custom-b", [GROUP]),
    ]
    assert load_rules(tmp_path / "none") == []


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        ("Bad_Name.yaml", yaml.safe_dump({"groups": [GROUP]}), "rename the file"),
        ("x.yaml", "groups: [\n", "not valid YAML"),
        ("x.yaml", "groups: []\n", "groups: is empty"),
        ("x.yaml", yaml.safe_dump({"apiVersion": "v1", "groups": [GROUP]}), "only the groups: key"),
        ("x.yaml", "- 1\n", "only the groups: key"),
        ("x.yaml", yaml.safe_dump({"groups": [GROUP, GROUP]}), "used twice"),
        ("x.yaml", yaml.safe_dump({"groups": [{"name": "g", "rules": []}]}), "rules: is empty"),
        (
            "x.yaml",
            yaml.safe_dump({"groups": [{"name": "g", "rules": [{"expr": "up"}]}]}),
            "alert: or record:",
        ),
        ("x.yaml", yaml.safe_dump({"groups": [{"name": "g", "rules": [{"alert": "A"}]}]}), "no expr"),
        ("x.yaml", "groups:\n  - name: g\n    name: h\n", "appears twice"),
        ("x.yaml", "groups: !!python/object:os.system {}\n", "not taken"),
    ],
)
def test_a_bad_rule_file_is_one_line_naming_it(tmp_path, name, text, words):
    (tmp_path / name).write_text(text)
    one_line_error(lambda: load_rules(tmp_path), str(tmp_path / name), words)


def test_a_symlink_or_an_oversized_file_is_refused_before_reading(tmp_path):
    outside = tmp_path / "outside.yaml"
    outside.write_text(yaml.safe_dump({"groups": [GROUP]}))
    folder = tmp_path / "rules"
    folder.mkdir()
    os.symlink(outside, folder / "linked.yaml")
    one_line_error(lambda: load_rules(folder), str(folder / "linked.yaml"), "a symlink")
    (folder / "linked.yaml").unlink()
    (folder / "big.yaml").write_bytes(b"#" * (1024 * 1024 + 1))
    one_line_error(lambda: load_rules(folder), str(folder / "big.yaml"), "1048577 bytes")


def test_a_rules_folder_that_is_a_symlink_is_refused(tmp_path):
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", tmp_path / "rules")
    one_line_error(lambda: load_rules(tmp_path / "rules"), str(tmp_path / "rules"), "not a folder")
