"""What Prometheus, Alertmanager and Grafana take alike (storage, resources, placement), the
Prometheus retention, and podSecurity: defaults, one clear line per bad input, and the retention
syntax checked against the Prometheus CRD's patterns and a real Prometheus."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.settings import Settings
from pks_monitoring.settings.prometheus import RetentionSettings
from pks_monitoring.settings.types import PROMETHEUS_SIZE, prometheus_duration, quantity_value
from tests.helpers.prometheus_tools import require, run_tool
from tests.helpers.settings import BASE, assert_one_line_error

KEY = "pks-monitoring"


def raw(workloads: dict) -> dict:
    """Raw config with each part's settings (prometheus, alertmanager, grafana) and
    securityContextDeny (podSecurity) from `workloads`."""
    parts = {f"{KEY}:{part}": value for part, value in workloads.items() if part != "securityContextDeny"}
    if "securityContextDeny" in workloads:
        parts[f"{KEY}:podSecurity"] = {"securityContextDeny": workloads["securityContextDeny"]}
    return {**BASE, **parts}


def test_defaults():
    workloads = Settings.from_raw(BASE)
    prometheus, alertmanager, grafana = workloads.prometheus, workloads.alertmanager, workloads.grafana
    assert (prometheus.storage.enabled, prometheus.storage.size, prometheus.storage.storage_class) == (
        True,
        "50Gi",
        None,
    )
    assert (alertmanager.storage.enabled, alertmanager.storage.size) == (True, "1Gi")
    assert (grafana.storage.enabled, grafana.storage.size) == (True, "1Gi")
    assert prometheus.storage.persistent_volume_claim_retention_policy is None
    assert (prometheus.retention.time, prometheus.retention_size()) == ("15d", "43520MiB")
    assert workloads.pod_security.security_context_deny is False
    for workload in (prometheus, alertmanager, grafana):
        assert (workload.resources, workload.node_selector, workload.tolerations) == (None, {}, [])


def test_overriding_one_storage_key_keeps_the_apps_other_defaults():
    workloads = Settings.from_raw(raw({"prometheus": {"storage": {"storageClass": "thin"}}}))
    assert (workloads.prometheus.storage.size, workloads.prometheus.storage.storage_class) == ("50Gi", "thin")


def test_quantities_as_yaml_numbers_and_in_any_spelling():
    workloads = Settings.from_raw(
        raw(
            {
                "grafana": {
                    "resources": {
                        "requests": {"cpu": 0.5, "memory": "1e9"},
                        "limits": {"cpu": 2, "memory": "1G"},
                    }
                },
            }
        )
    )
    assert workloads.grafana.resources.requests.cpu == "0.5"
    assert workloads.grafana.resources.limits.cpu == "2"
    # 1e9 bytes = 1G: equal is within the limit.
    assert quantity_value("1e9") == quantity_value("1G") == 10**9
    assert quantity_value("500m") * 2 == 1 and quantity_value("2Gi") == 2 * 1024**3
    assert quantity_value("2gi") is None


def test_retention_size_of_a_small_volume_and_without_storage():
    workloads = Settings.from_raw(raw({"prometheus": {"storage": {"size": "10G"}}}))
    assert workloads.prometheus.retention_size() == f"{int(10**10 * 0.85) // 2**20}MiB"
    workloads = Settings.from_raw(raw({"prometheus": {"storage": {"enabled": False}}}))
    assert workloads.prometheus.retention_size() is None


def test_security_context_deny_without_storage_is_accepted():
    off = {app: {"storage": {"enabled": False}} for app in ("prometheus", "alertmanager", "grafana")}
    assert Settings.from_raw(raw({"securityContextDeny": True, **off})).pod_security.security_context_deny


@pytest.mark.parametrize(
    "workloads, key, words",
    [
        (
            {"prometheus": {"retention": {"time": "15x"}}},
            f"{KEY}:prometheus.retention.time",
            "'15x' is not a Prometheus duration",
        ),
        (
            {"prometheus": {"retention": {"size": "10Gb"}}},
            f"{KEY}:prometheus.retention.size",
            "'10Gb' is not a Prometheus size",
        ),
        (
            {"prometheus": {"retention": {"size": "10"}}},
            f"{KEY}:prometheus.retention.size",
            "not a Prometheus size",
        ),
        (
            {"prometheus": {"retention": {"size": "60GB"}}},
            f"{KEY}:prometheus",
            "retention.size 60GB does not fit storage.size 50Gi",
        ),
        (
            {"prometheus": {"storage": {"size": "50gi"}}},
            f"{KEY}:prometheus.storage.size",
            "'50gi' is not a Kubernetes quantity",
        ),
        ({"grafana": {"storage": {"size": "0"}}}, f"{KEY}:grafana.storage.size", "not positive"),
        (
            {"alertmanager": {"storage": {"size": "1Gi", "class": "x"}}},
            f"{KEY}:alertmanager.storage.class",
            "unknown key",
        ),
        (
            {"grafana": {"storage": {"storageClass": "Thin_Disk"}}},
            f"{KEY}:grafana.storage.storageClass",
            "pattern",
        ),
        (
            {"alertmanager": {"storage": {"persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Keep"}}}},
            f"{KEY}:alertmanager.storage.persistentVolumeClaimRetentionPolicy.whenDeleted",
            "'Retain' or 'Delete'",
        ),
        (
            {"grafana": {"storage": {"persistentVolumeClaimRetentionPolicy": {}}}},
            f"{KEY}:grafana.storage.persistentVolumeClaimRetentionPolicy",
            "unknown key",
        ),
        (
            {"grafana": {"resources": {"requests": {"cpu": "fast"}}}},
            f"{KEY}:grafana.resources.requests.cpu",
            "'fast' is not a Kubernetes quantity",
        ),
        (
            {"prometheus": {"resources": {"limits": {"memory": "500m"}}}},
            f"{KEY}:prometheus.resources.limits.memory",
            "fraction of a byte",
        ),
        (
            {"prometheus": {"resources": {"requests": {"gpu": "1"}}}},
            f"{KEY}:prometheus.resources.requests.gpu",
            "unknown key",
        ),
        (
            {"alertmanager": {"resources": {"requests": {"memory": "200Mi"}, "limits": {"memory": "100Mi"}}}},
            f"{KEY}:alertmanager.resources",
            "requests.memory 200Mi is more than limits.memory 100Mi",
        ),
        (
            {"grafana": {"tolerations": [{"value": "x"}]}},
            f"{KEY}:grafana.tolerations[0]",
            "needs operator: Exists",
        ),
        (
            {"grafana": {"tolerations": [{"key": "a", "operator": "Exists", "value": "x"}]}},
            f"{KEY}:grafana.tolerations[0]",
            "takes no value",
        ),
        (
            {"grafana": {"tolerations": [{"key": "a", "effect": "NoSchedule", "tolerationSeconds": 60}]}},
            f"{KEY}:grafana.tolerations[0]",
            "NoExecute only",
        ),
        (
            {"grafana": {"tolerations": [{"key": "a", "effect": "Never"}]}},
            f"{KEY}:grafana.tolerations[0].effect",
            "NoSchedule",
        ),
        (
            {"prometheus": {"nodeSelector": {"role": "in fra"}}},
            f"{KEY}:prometheus.nodeSelector.role",
            "pattern",
        ),
        ({"securityContextDeny": "yes please"}, f"{KEY}:podSecurity.securityContextDeny", "boolean"),
        ({"securityContextDeny": True}, f"{KEY}:podSecurity", "securityContextDeny drops fsGroup"),
        ({"prometheus": {"retension": {"time": "15d"}}}, f"{KEY}:prometheus.retension", "unknown key"),
    ],
)
def test_bad_input_is_one_line_naming_the_key(workloads, key, words):
    assert_one_line_error(raw(workloads), key, words)


def test_security_context_deny_names_each_app_left_with_a_volume():
    message = assert_one_line_error(
        raw({"securityContextDeny": True, "prometheus": {"storage": {"enabled": False}}}),
        f"{KEY}:podSecurity",
        "alertmanager.storage.enabled",
    )
    assert "grafana.storage.enabled" in message and "prometheus.storage.enabled" not in message


# --- the retention syntax against the CRD and Prometheus itself ----------------------------------


@pytest.fixture(scope="module")
def crd_patterns(manifests_dir) -> dict[str, str]:
    """spec.retention and spec.retentionSize patterns of the Prometheus CRD."""
    crd = load_documents((manifests_dir / "setup/0prometheusCustomResourceDefinition.yaml").read_text())[0]
    spec = crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]
    return {field: spec[field]["pattern"] for field in ("retention", "retentionSize")}


def accepted(validate, value: str) -> bool:
    try:
        validate(value)
    except ValueError:
        return False
    return True


def is_duration(value: str) -> bool:
    return accepted(prometheus_duration, value)


def is_size(value: str) -> bool:
    return accepted(RetentionSettings._prometheus_size, value)


def test_size_pattern_is_the_crds_anchored(crd_patterns):
    # JSON Schema patterns search: the CRD's own takes `x10GB` (no ^ on its second branch).
    pattern = crd_patterns["retentionSize"]
    assert re.search(pattern, "x10GB") and not is_size("x10GB")
    assert "^" + pattern.replace("(^0|", "(0|") == PROMETHEUS_SIZE


@hypothesis_settings(max_examples=300)
@given(st.text(alphabet="0123456789.KMGTPEiBbywdhms", max_size=8))
def test_what_we_accept_the_crd_accepts(crd_patterns, text):
    if is_duration(text):
        assert re.search(crd_patterns["retention"], text)
    if is_size(text):
        assert re.search(crd_patterns["retentionSize"], text)


GOOD_TIMES = ["15d", "12h", "1y", "2w", "1d12h", "90m", "1y2w3d4h5m6s7ms"]
BAD_TIMES = ["15x", "", "d", "1.5d", "12h1d", "15 d", "-1d", "0"]
GOOD_SIZES = ["0", "10GB", "10GiB", "1.5TB", "512MB", "100B", "1EB", ".5PB"]
BAD_SIZES = ["10Gb", "10", "10kB", "10 GB", "x10GB", "10G", "-1GB"]


def test_examples_are_judged_as_intended():
    assert [t for t in GOOD_TIMES if not is_duration(t)] == []
    assert [t for t in BAD_TIMES if is_duration(t)] == []
    assert [s for s in GOOD_SIZES if not is_size(s)] == []
    assert [s for s in BAD_SIZES if is_size(s)] == []


@pytest.mark.slow
def test_prometheus_takes_what_we_accept(tmp_path):
    # Prometheus parses its flags first, then loads the config: a config file that does not exist
    # tells a flag it took ("Error loading config") from one it refused ("Error parsing
    # commandline arguments"), without starting anything. This is Prometheus 2.42; the images
    # (3.x) parse these flags with the same libraries, behind the CRD's patterns.
    prometheus = require("prometheus")

    def takes(flag: str, value: str) -> bool:
        result = run_tool(
            [prometheus, f"--config.file={tmp_path}/absent.yml", f"--{flag}={value}"], timeout=20
        )
        assert result.returncode != 0, result
        refused = "Error parsing commandline arguments" in result.stderr
        assert refused or "Error loading config" in result.stderr, result.stderr
        return not refused

    assert [t for t in GOOD_TIMES if not takes("storage.tsdb.retention.time", t)] == []
    assert [s for s in GOOD_SIZES if not takes("storage.tsdb.retention.size", s)] == []
    # Prometheus is laxer on some (0, -1GB), which the CRD refuses or makes meaningless; on
    # these it agrees that they are wrong.
    assert [t for t in ("15x", "", "1.5d", "12h1d") if takes("storage.tsdb.retention.time", t)] == []
    assert [s for s in ("10Gb", "10", "10kB", "x10GB") if takes("storage.tsdb.retention.size", s)] == []
