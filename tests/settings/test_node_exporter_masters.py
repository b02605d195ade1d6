"""`nodeExporter.masters`: the cluster's master VMs, scraped by TKGI's per-master BOSH DNS names
(`master-<index>.etcd.cfcr.internal`), and one clear line for each kind of bad input."""

from __future__ import annotations

import pytest

from pks_monitoring.settings import Settings
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring:nodeExporter"


def node_exporter(**values) -> Settings:
    return Settings.from_raw({**BASE, KEY: values})


def targets(settings: Settings) -> list[tuple[str, str]]:
    return [(t.name, t.address) for t in settings.node_exporter.vm_targets()]


def test_masters_are_off_by_default():
    settings = node_exporter()
    assert settings.node_exporter.masters.count == 0
    assert targets(settings) == []


def test_each_master_by_its_tkgi_dns_name_instance_its_index():
    assert targets(node_exporter(masters={"count": 3})) == [
        ("master-0", "master-0.etcd.cfcr.internal"),
        ("master-1", "master-1.etcd.cfcr.internal"),
        ("master-2", "master-2.etcd.cfcr.internal"),
    ]


def test_masters_come_before_the_static_targets_and_take_another_suffix():
    settings = node_exporter(
        masters={"count": 1, "dnsSuffix": "etcd.cfcr.example"},
        staticTargets=[{"name": "pks-api", "address": "10.0.0.5"}],
    )
    assert targets(settings) == [("master-0", "master-0.etcd.cfcr.example"), ("pks-api", "10.0.0.5")]


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"masters": {"count": -1}}, f"{KEY}.masters.count", "greater than or equal to 0"),
        ({"masters": {"count": "three"}}, f"{KEY}.masters.count", "integer"),
        ({"masters": {"count": 3, "dnsSuffix": "Etcd.CFCR.internal"}}, f"{KEY}.masters.dnsSuffix", "pattern"),
        (
            {"masters": {"count": 3, "dnsSuffix": "etcd.cfcr.internal."}},
            f"{KEY}.masters.dnsSuffix",
            "pattern",
        ),
        ({"masters": {"count": 3, "dnsSuffix": "x:9100"}}, f"{KEY}.masters.dnsSuffix", "pattern"),
        (
            {"masters": {"dnsSuffix": "etcd.cfcr.internal"}},
            f"{KEY}.masters",
            "count is 0, so no master is scraped; set count",
        ),
        ({"masters": {"names": ["master-0"]}}, f"{KEY}.masters.names", "unknown key"),
        (
            {
                "masters": {"count": 3},
                "staticTargets": [
                    {"name": "pks-api", "address": "10.0.0.5"},
                    {"name": "master-2", "address": "10.0.0.12"},
                ],
            },
            f"{KEY}.staticTargets",
            "[1].name 'master-2' is also the instance of a master",
        ),
    ],
)
def test_bad_masters_input_is_one_line_naming_the_key(values, key, words):
    assert_one_line_error({**BASE, KEY: values}, key, words)


def test_a_static_target_may_use_a_master_name_when_masters_are_off():
    settings = node_exporter(staticTargets=[{"name": "master-0", "address": "10.0.0.11"}])
    assert targets(settings) == [("master-0", "10.0.0.11")]
