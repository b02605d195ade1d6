from pathlib import Path

import pytest
import yaml

from pks_monitoring.fleet.plan import FleetError, StackEntry, from_stack_list, load_fleet_file


def fleet_file(tmp_path: Path, raw) -> Path:
    path = tmp_path / "fleet.yaml"
    path.write_text(yaml.safe_dump(raw) if not isinstance(raw, str) else raw)
    return path


def test_stacks_flag_is_one_wave_per_stack_in_the_order_given():
    fleet = from_stack_list("prod-east, dev")
    assert [[e.name for e in w.stacks] for w in fleet.waves] == [["prod-east"], ["dev"]]
    assert fleet.concurrency == 1


def test_fleet_file_waves_keep_their_order_and_paths_are_relative_to_the_file(tmp_path):
    (tmp_path / "b.yaml").write_text("config: {}\n")
    raw = {
        "concurrency": 2,
        "waves": [
            {"name": "dev", "stacks": ["dev"]},
            {"name": "prod", "stacks": [{"name": "prod-east", "configFile": "b.yaml"}, "prod-west"]},
        ],
    }
    fleet = load_fleet_file(fleet_file(tmp_path, raw))
    assert [w.name for w in fleet.waves] == ["dev", "prod"]
    assert fleet.stacks == [
        StackEntry("dev"),
        StackEntry("prod-east", config_file=tmp_path / "b.yaml"),
        StackEntry("prod-west"),
    ]
    assert fleet.concurrency == 2
    assert load_fleet_file(fleet_file(tmp_path, raw), concurrency=5).concurrency == 5


@pytest.mark.parametrize(
    "raw, words",
    [
        ("waves: [", "not valid YAML"),
        ([], "the fleet file: must be a mapping"),
        ({"waves": []}, "waves: must be a non-empty list"),
        ({"waves": [{"name": "dev", "stacks": ["dev"]}], "paralel": 2}, "unknown key 'paralel'"),
        ({"waves": [{"name": "dev", "stacks": ["dev"]}], "concurrency": 0}, "concurrency: must be 1 or more"),
        (
            {"waves": [{"name": "dev", "stacks": ["dev"]}], "concurrency": "2"},
            "concurrency: must be a whole number",
        ),
        ({"waves": [{"stacks": ["dev"]}]}, "waves[0].name"),
        ({"waves": [{"name": "dev", "stacks": []}]}, "waves[0].stacks"),
        (
            {"waves": [{"name": "dev", "stacks": ["no spaces"]}]},
            "waves[0].stacks[0]: 'no spaces' is not a stack name",
        ),
        (
            {"waves": [{"name": "a", "stacks": ["dev"]}, {"name": "b", "stacks": ["dev"]}]},
            "dev is listed twice",
        ),
        ({"waves": [{"name": "a", "stacks": [{"name": "dev", "configFile": "nope.yaml"}]}]}, "configFile"),
        ({"waves": [{"name": "a", "stacks": [{"name": "dev", "context": "x"}]}]}, "unknown key 'context'"),
    ],
)
def test_a_bad_fleet_file_is_one_line_naming_the_key(tmp_path, raw, words):
    with pytest.raises(FleetError) as error:
        load_fleet_file(fleet_file(tmp_path, raw))
    assert words in str(error.value)
    assert "\n" not in str(error.value)


def test_a_missing_fleet_file_is_one_line(tmp_path):
    with pytest.raises(FleetError, match=r"--fleet .*nope.yaml: cannot read it"):
        load_fleet_file(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text", ["dev,,prod", "dev,a b"])
def test_a_bad_stacks_flag_is_refused(text):
    with pytest.raises(FleetError, match="--stacks"):
        from_stack_list(text)


def test_a_path_may_start_at_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "kubeconfig").write_text("apiVersion: v1\n")
    raw = {"waves": [{"name": "a", "stacks": [{"name": "dev", "kubeconfig": "~/kubeconfig"}]}]}
    assert load_fleet_file(fleet_file(tmp_path, raw)).stacks == [
        StackEntry("dev", kubeconfig=tmp_path / "kubeconfig")
    ]
