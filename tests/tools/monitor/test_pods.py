"""tools/monitor/pods.py: a pod's volumes and command line as the kubelet would give them."""

from __future__ import annotations

import base64
import gzip
import stat
from pathlib import Path
from typing import Any

import pytest

from tools.monitor.pods import (
    PodError,
    container_args,
    container_env,
    expand,
    find_container,
    kubeconfig,
    local_path,
    localize,
    mounts,
    reload_config,
    set_flag,
    volume_files,
    write_volumes,
)


def b64(text: str | bytes) -> str:
    return base64.b64encode(text if isinstance(text, bytes) else text.encode()).decode()


CONFIG = "global:\n  external_labels:\n    prometheus_replica: $(POD_NAME)\n"
OBJECTS: dict[tuple[str, str], dict[str, Any]] = {
    ("secret", "prometheus-k8s"): {
        "kind": "Secret",
        "data": {"prometheus.yaml.gz": b64(gzip.compress(CONFIG.encode()))},
    },
    ("secret", "web"): {"kind": "Secret", "data": {"web-config.yaml": b64("{}\n"), "other": b64("x")}},
    ("configmap", "rules"): {
        "kind": "ConfigMap",
        "data": {"a.yaml": "groups: []\n"},
        "binaryData": {"b.bin": b64(b"\0")},
    },
    ("configmap", "kube-root-ca.crt"): {"kind": "ConfigMap", "data": {"ca.crt": "CA"}},
}


@pytest.fixture
def pod() -> dict[str, Any]:
    """A Prometheus pod shaped as prometheus-operator and the ServiceAccount admission make it."""
    return {
        "metadata": {
            "name": "prometheus-k8s-0",
            "namespace": "monitoring",
            "uid": "u-1",
            "labels": {"app": "p"},
        },
        "spec": {
            "serviceAccountName": "prometheus-k8s",
            "initContainers": [{"name": "init-config-reloader", "args": ["--watch-interval=0"]}],
            "containers": [
                {
                    "name": "prometheus",
                    "args": [
                        "--config.file=/etc/prometheus/config_out/prometheus.env.yaml",
                        "--storage.tsdb.path=/prometheus",
                        "--web.listen-address=$(POD_IP):9090",
                        "--web.enable-lifecycle",
                    ],
                    "env": [
                        {"name": "POD_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                        {"name": "GREETING", "value": "at $(POD_IP)"},
                    ],
                    "ports": [{"name": "web", "containerPort": 9090}],
                    "volumeMounts": [
                        {"name": "config-out", "mountPath": "/etc/prometheus/config_out"},
                        {"name": "rules", "mountPath": "/etc/prometheus/rules/rules/"},
                        {"name": "db", "mountPath": "/prometheus", "subPath": "prometheus-db"},
                        {
                            "name": "web",
                            "mountPath": "/etc/prometheus/web_config/web-config.yaml",
                            "subPath": "web-config.yaml",
                        },
                        {
                            "name": "kube-api-access",
                            "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                        },
                    ],
                },
                {
                    "name": "config-reloader",
                    "args": [
                        "--config-file=/etc/prometheus/config/prometheus.yaml.gz",
                        "--config-envsubst-file=/etc/prometheus/config_out/prometheus.env.yaml",
                    ],
                    "env": [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
                    "volumeMounts": [
                        {"name": "config", "mountPath": "/etc/prometheus/config"},
                        {"name": "config-out", "mountPath": "/etc/prometheus/config_out"},
                    ],
                },
            ],
            "volumes": [
                {"name": "config", "secret": {"secretName": "prometheus-k8s"}},
                {"name": "config-out", "emptyDir": {"medium": "Memory"}},
                {"name": "rules", "configMap": {"name": "rules"}},
                {"name": "db", "emptyDir": {}},
                {
                    "name": "web",
                    "secret": {
                        "secretName": "web",
                        "items": [{"key": "web-config.yaml", "path": "web-config.yaml"}],
                    },
                },
                {
                    "name": "kube-api-access",
                    "projected": {
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "name": "kube-root-ca.crt",
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                }
                            },
                            {
                                "downwardAPI": {
                                    "items": [
                                        {"path": "namespace", "fieldRef": {"fieldPath": "metadata.namespace"}}
                                    ]
                                }
                            },
                        ]
                    },
                },
            ],
        },
        "status": {"podIP": "10.200.1.5"},
    }


def read(kind: str, name: str) -> dict[str, Any]:
    return OBJECTS[(kind, name)]


def token_for(asked: list[tuple[int, str | None]]):
    def token(seconds: int, audience: str | None) -> str:
        asked.append((seconds, audience))
        return "TOKEN"

    return token


def test_expand_replaces_defined_variables_keeps_others_and_unescapes():
    assert expand("$(A)-$(B)-$$(A)-$", {"A": "1"}) == "1-$(B)-$(A)-$"


def test_env_has_values_that_refer_to_earlier_ones_and_downward_fields(pod):
    env = container_env(pod, find_container(pod, "prometheus"))
    assert env == {"POD_IP": "10.200.1.5", "GREETING": "at 10.200.1.5"}


def test_an_env_source_that_is_not_played_is_refused(pod):
    container = find_container(pod, "prometheus")
    container["env"].append({"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}})
    with pytest.raises(PodError, match="env S"):
        container_env(pod, container)


def test_a_missing_container_names_the_ones_there(pod):
    with pytest.raises(PodError, match=r"has no container 'grafana' .*prometheus, config-reloader"):
        find_container(pod, "grafana")


def test_volume_files_as_the_kubelet_writes_them(pod):
    asked: list[tuple[int, str | None]] = []
    volumes = {v["name"]: volume_files(pod, v, read, token_for(asked)) for v in pod["spec"]["volumes"]}
    assert volumes["config-out"] == {} and volumes["db"] == {}
    assert volumes["rules"] == {"a.yaml": b"groups: []\n", "b.bin": b"\0"}
    assert volumes["web"] == {"web-config.yaml": b"{}\n"}  # items: only the key named
    assert volumes["kube-api-access"] == {"token": b"TOKEN", "ca.crt": b"CA", "namespace": b"monitoring"}
    assert asked == [(3607, None)]


def test_a_volume_kind_that_is_not_played_is_refused(pod):
    with pytest.raises(PodError, match="hostPath"):
        volume_files(pod, {"name": "h", "hostPath": {"path": "/"}}, read, token_for([]))


def test_paths_under_a_mount_are_local_others_unchanged(pod, tmp_path):
    where = mounts(find_container(pod, "prometheus"), tmp_path)
    volumes = tmp_path / "volumes"
    assert local_path("/etc/prometheus/rules/rules/a.yaml", where) == f"{volumes}/rules/a.yaml"
    assert local_path("/prometheus", where) == f"{volumes}/db/prometheus-db"
    assert local_path("/etc/prometheus/web_config/web-config.yaml", where) == f"{volumes}/web/web-config.yaml"
    assert local_path("/etc/prometheus/config_outside", where) == "/etc/prometheus/config_outside"
    assert local_path("/etc/hosts", where) == "/etc/hosts"
    config = {"rule_files": ["/etc/prometheus/rules/rules/*.yaml"], "job": {"ca_file": "relative/ca"}, "n": 1}
    assert localize(config, where) == {
        "rule_files": [f"{volumes}/rules/*.yaml"],
        "job": {"ca_file": "relative/ca"},
        "n": 1,
    }


def test_args_are_expanded_and_localized(pod, tmp_path):
    container = find_container(pod, "prometheus")
    args = container_args(pod, container, mounts(container, tmp_path))
    assert args == [
        f"--config.file={tmp_path}/volumes/config-out/prometheus.env.yaml",
        f"--storage.tsdb.path={tmp_path}/volumes/db/prometheus-db",
        "--web.listen-address=10.200.1.5:9090",
        "--web.enable-lifecycle",
    ]


def test_set_flag_replaces_adds_and_drops():
    args = ["--a=1", "--b", "--c=3"]
    assert set_flag(args, "--a", "2") == ["--b", "--c=3", "--a=2"]
    assert set_flag(args, "--b", "") == ["--a=1", "--c=3", "--b="]
    assert set_flag(args, "--c", None) == ["--a=1", "--b"]
    assert set_flag(args, "--d", "4") == [*args, "--d=4"]


def test_write_volumes_writes_private_files_anew(pod, tmp_path):
    write_volumes(pod, tmp_path, read, token_for([]))
    token = tmp_path / "volumes" / "kube-api-access" / "token"
    assert token.read_text() == "TOKEN" and stat.S_IMODE(token.stat().st_mode) == 0o600
    assert (tmp_path / "volumes" / "config-out").is_dir()
    (tmp_path / "volumes" / "rules" / "gone.yaml").write_text("old")
    (tmp_path / "volumes" / "config-out" / "kept").write_text("an emptyDir keeps what was written")
    write_volumes(pod, tmp_path, read, token_for([]))
    assert not (tmp_path / "volumes" / "rules" / "gone.yaml").exists()
    assert (tmp_path / "volumes" / "config-out" / "kept").exists()


def test_reload_config_does_the_config_reloaders_job(pod, tmp_path):
    write_volumes(pod, tmp_path, read, token_for([]))
    out = reload_config(pod, find_container(pod, "config-reloader"), tmp_path)
    assert out == tmp_path / "volumes" / "config-out" / "prometheus.env.yaml"
    assert out.read_text() == CONFIG.replace("$(POD_NAME)", "prometheus-k8s-0")


def test_reload_config_needs_the_reloaders_flags(pod, tmp_path):
    with pytest.raises(PodError, match="--config-envsubst-file"):
        reload_config(pod, find_container(pod, "prometheus"), tmp_path)


def test_kubeconfig_uses_the_pods_token_and_ca(pod, tmp_path):
    where = mounts(find_container(pod, "prometheus"), tmp_path)
    config = kubeconfig("https://127.0.0.1:6443", where)
    access = Path(tmp_path, "volumes", "kube-api-access")
    assert config["clusters"][0]["cluster"] == {
        "server": "https://127.0.0.1:6443",
        "certificate-authority": str(access / "ca.crt"),
    }
    assert config["users"][0]["user"] == {"tokenFile": str(access / "token")}
