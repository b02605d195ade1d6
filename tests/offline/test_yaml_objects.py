"""The mock provider's out-of-process YAML reading gives what reading in process gives."""

from __future__ import annotations

import pytest

from pks_monitoring.kube_yaml import read_objects
from pks_monitoring.offline.yaml_objects import read_objects_elsewhere


@pytest.mark.slow
def test_the_crds_read_elsewhere_equal_the_crds_read_here(kube_prometheus):
    files = [str(path) for path in kube_prometheus.crd_files]
    objects = read_objects_elsewhere(files)
    assert len(objects) == 10
    assert objects == read_objects(files)


def test_relative_paths_are_relative_to_the_callers_directory(tmp_path, monkeypatch):
    (tmp_path / "cm.yaml").write_text("kind: ConfigMap\nmetadata: {name: x}\ndata: {k: '='}\n")
    monkeypatch.chdir(tmp_path)
    assert read_objects_elsewhere(["cm.yaml"]) == [
        {"kind": "ConfigMap", "metadata": {"name": "x"}, "data": {"k": "="}}
    ]


def test_a_file_that_cannot_be_read_is_one_line_naming_it(tmp_path):
    missing = tmp_path / "gone.yaml"
    with pytest.raises(RuntimeError) as error:
        read_objects_elsewhere([str(missing)])
    message = str(error.value)
    assert "\n" not in message
    assert str(missing) in message and "FileNotFoundError" in message
