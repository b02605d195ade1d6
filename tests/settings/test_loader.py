"""The settings model: defaults, and one clear line for each kind of bad input."""

from __future__ import annotations

import json
import re

import pytest
from pydantic import SecretStr, field_validator

from pks_monitoring.offline.mock_engine import run_program, stack_config
from pks_monitoring.settings import MANIFESTS_ENV, Settings, SettingsError, loader
from pks_monitoring.settings.provider import KubernetesTarget
from pks_monitoring.settings.types import Model
from tests.helpers.settings import BASE, assert_one_line_error


def test_defaults(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    assert settings.prometheus.replicas == 1
    assert settings.alertmanager.replicas == 1
    assert settings.kube_prometheus.namespace == "monitoring"
    assert settings.kube_prometheus.manifests_dir() == manifests_dir


def test_environment_overrides_the_manifests_key(monkeypatch, manifests_dir):
    monkeypatch.setenv("KUBE_PROMETHEUS_MANIFESTS", str(manifests_dir))
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": "/nowhere"}})
    assert settings.kube_prometheus.manifests_dir() == manifests_dir


def test_kubeconfig_is_kept_secret():
    settings = Settings.from_raw(
        {**BASE, "kubernetes:context": None, "kubernetes:kubeconfig": "apiVersion: v1 # MARKER"}
    )
    assert "MARKER" not in repr(settings)
    assert settings.kubernetes.kubeconfig.get_secret_value().endswith("MARKER")


@pytest.mark.parametrize(
    "change, key, words",
    [
        (
            {"pks-monitoring:prometheus": {"replicas": -1}},
            "pks-monitoring:prometheus.replicas",
            "greater than or equal to 1",
        ),
        ({"pks-monitoring:prometheus": {"replicas": "two"}}, "pks-monitoring:prometheus.replicas", "integer"),
        ({"pks-monitoring:alertmanager": "1"}, "pks-monitoring:alertmanager", "dictionary"),
        ({"pks-monitoring:prometheos": {"replicas": 1}}, "pks-monitoring:prometheos", "unknown config key"),
        (
            {"pks-monitoring:kubePrometheus": {"namspace": "x"}},
            "pks-monitoring:kubePrometheus.namspace",
            "unknown key",
        ),
        (
            {"pks-monitoring:kubePrometheus": {"manifests": "/does/not/exist"}},
            "pks-monitoring:kubePrometheus.manifests",
            "not a directory",
        ),
        (
            {"pks-monitoring:kubePrometheus": {"manifests": "x", "namespace": "Monitoring_1"}},
            "pks-monitoring:kubePrometheus.namespace",
            "pattern",
        ),
        ({"pks-monitoring:cluster": None}, "pks-monitoring:cluster", "required"),
        ({"pks-monitoring:cluster": "My Cluster"}, "pks-monitoring:cluster", "pattern"),
        ({"kubernetes:context": None}, "kubernetes", "kubernetes:context"),
        (
            {"pks-monitoring:grafana": {"expose": {"type": "none"}, "adminUser": "a b"}},
            "pks-monitoring:grafana.adminUser",
            "pattern",
        ),
        # The switches of pulumi-kubernetes >= 4.29: the provider that runs (4.25) always adopts.
        (
            {"pks-monitoring:provider": {"upsertExistingObjects": True}},
            "pks-monitoring:provider",
            "4.25.0",
        ),
        # Only the documented camelCase spelling: snake_case would dodge the plain-text-secret check.
        (
            {"pks-monitoring:grafana": {"admin_user": "root"}},
            "pks-monitoring:grafana.admin_user",
            "unknown key",
        ),
    ],
)
def test_bad_input_is_one_line_naming_the_key(change, key, words, monkeypatch):
    monkeypatch.delenv(MANIFESTS_ENV, raising=False)  # the manifests are the stack's (tools/test.sh sets it)
    raw = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    assert_one_line_error(raw, key, words)


@pytest.mark.parametrize(
    "change, key",
    [
        ({"pks-monitoring:platform": "gke"}, "pks-monitoring:platform"),
        (
            {
                "pks-monitoring:nodeExporter": {
                    "staticTargets": [{"name": "pks-api", "address": "10.0.0.5:9100 x"}]
                }
            },
            "pks-monitoring:nodeExporter.staticTargets[0].address",
        ),
        (
            {"pks-monitoring:nodeExporter": {"staticTargets": [{"address": "10.0.0.5"}]}},
            "pks-monitoring:nodeExporter.staticTargets[0].name",
        ),
    ],
)
def test_bad_scrape_settings(change, key):
    with pytest.raises(SettingsError, match=rf"^{re.escape(key)}: "):
        Settings.from_raw({**BASE, **change})


# --- strict where YAML's and pydantic's lax types lie -----------------------------------------


@pytest.mark.parametrize(
    "change, key",
    [
        ({"pks-monitoring:prometheus": {"replicas": True}}, "pks-monitoring:prometheus.replicas"),
        (
            {"pks-monitoring:grafana": {"expose": {"type": "NodePort", "nodePort": True}}},
            "pks-monitoring:grafana.expose.nodePort",
        ),
        ({"pks-monitoring:appAlerts": {"http5xxRatio": True}}, "pks-monitoring:appAlerts.http5xxRatio"),
    ],
)
def test_true_is_no_number(change, key):
    assert_one_line_error({**BASE, **change}, key, "a number, not true")


def stack_run_error(run_stack, stack_file) -> str:
    with pytest.raises(SettingsError) as raised:
        run_stack(stack_file)
    return str(raised.value)


@pytest.mark.parametrize("written", ["true", "null", "''", "123", "1.5", "no"])
def test_a_cluster_is_a_written_string(written, tmp_path, dev_stack_file, run_stack):
    # The engine hands top-level scalars as text ("true", "123"): the stack file says what was
    # written.
    text = dev_stack_file.read_text().replace(
        "pks-monitoring:cluster: demo", f"pks-monitoring:cluster: {written}"
    )
    stack = tmp_path / "Pulumi.typed.yaml"
    stack.write_text(text)
    message = stack_run_error(run_stack, stack)
    assert message.startswith("pks-monitoring:cluster: "), message
    assert "\n" not in message
    words = "pattern" if written == "''" else "valid string"
    assert words in message, message


def test_a_date_as_cluster_is_refused(tmp_path, dev_stack_file, run_stack):
    stack = tmp_path / "Pulumi.dated.yaml"
    stack.write_text(dev_stack_file.read_text().replace("cluster: demo", "cluster: 2024-05-01"))
    assert stack_run_error(run_stack, stack) == f"{stack}: pks-monitoring:cluster: " + (
        "a value tagged !!timestamp is not taken; a YAML date or time; quote it to make it a string"
    )


def test_under_the_engine_the_program_reads_the_stack_file_beside_the_project(
    tmp_path, dev_stack_file, monkeypatch
):
    # The Pulumi CLI hands "true" and no file name: the program finds Pulumi.<stack>.yaml in the
    # project root, and uses what it says only where it agrees with the engine.
    monkeypatch.setattr(loader, "PROJECT_ROOT", tmp_path)
    config, secret_keys = stack_config(dev_stack_file)
    config["pks-monitoring:cluster"] = "true"
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  pks-monitoring:cluster: true\n")
    with pytest.raises(SettingsError, match=r"^pks-monitoring:cluster: Input should be a valid string"):
        run_program(config, secret_keys, stack="dev")
    (tmp_path / "Pulumi.dev.yaml").write_text("config:\n  pks-monitoring:cluster: false\n")
    run_program(config, secret_keys, stack="dev")  # a file the engine did not read: not judged


# --- values shown in error lines -------------------------------------------------------------


@pytest.mark.parametrize(
    "change, key",
    [
        ({"pks-monitoring:kubePrometheus": {"manifests": "x", "namespace": "x" * 10**6}}, "namespace"),
        ({"pks-monitoring:prometheus": {"retention": {"time": "9" * 10**6}}}, "retention.time"),
    ],
)
def test_long_values_are_shortened(change, key):
    message = assert_one_line_error({**BASE, **change}, next(f"{k}.{key}" for k in change), "...")
    assert len(message) < 400, message


class Token(Model):
    token: SecretStr
    kubernetes: KubernetesTarget

    @field_validator("token")
    @classmethod
    def _echoes(cls, value: SecretStr) -> SecretStr:
        raise ValueError(f"{value.get_secret_value()!r} is not a token (in {value.get_secret_value()})")


def test_a_secrets_value_is_never_shown():
    with pytest.raises(SettingsError) as raised:
        loader.from_raw(Token, {"pks-monitoring:token": "hunter2-MARKER"})
    assert "MARKER" not in str(raised.value) and str(raised.value).startswith("pks-monitoring:token: ")


# --- a secret setting is itself secret, whatever its siblings are --------------------------------

ALERTMANAGER = "pks-monitoring:alertmanager"
PLAIN_URL = "https://hooks.example/MARKER"


def receivers(second_url) -> dict:
    """Two webhook receivers: the first's URL `secure:`, the second's `second_url`."""
    hooks = [
        {"name": "one", "type": "webhook", "url": {"secure": "v1:AAAA"}},
        {"name": "two", "type": "webhook", "url": second_url},
    ]
    return {ALERTMANAGER: {"receivers": hooks, "defaultReceiver": "one"}}


def plain_refusal(message: str) -> None:
    path = f"{ALERTMANAGER}.receivers[1].url"
    assert message == (
        f"{path}: a secret given in plain text; set it with `pulumi config set --secret --path '{path}' <value>`"
    )


def test_a_plain_secret_beside_a_secure_one_is_refused_offline(write_stack, run_stack):
    # The engine marks the whole alertmanager key secret for the first URL: the file says the
    # second is plain text.
    stack = write_stack(receivers(PLAIN_URL))
    _, secret_keys = stack_config(stack)
    assert ALERTMANAGER in secret_keys
    with pytest.raises(SettingsError) as raised:
        run_stack(stack)
    plain_refusal(str(raised.value))
    run_stack(write_stack(receivers({"secure": "v1:BBBB"})))  # both secure: accepted


def test_under_the_engine_the_stack_file_beside_the_project_tells_plain_leaves(
    write_stack, tmp_path, monkeypatch
):
    stack = write_stack(receivers(PLAIN_URL), name="Pulumi.dev.yaml")
    monkeypatch.setattr(loader, "PROJECT_ROOT", tmp_path)
    config, secret_keys = stack_config(stack)
    decrypted = json.loads(config[ALERTMANAGER])  # what the CLI hands: the secure values decrypted
    decrypted["receivers"][0]["url"] = "https://hooks.example/decrypted"
    config = {**config, ALERTMANAGER: json.dumps(decrypted)}
    with pytest.raises(SettingsError) as raised:
        run_program(config, secret_keys, stack="dev")
    plain_refusal(str(raised.value))
    # A file that is not the one the engine read (its plain value differs): not judged by it.
    decrypted["receivers"][1]["url"] = "https://hooks.example/other"
    run_program({**config, ALERTMANAGER: json.dumps(decrypted)}, secret_keys, stack="dev")


def test_a_key_with_a_newline_is_still_one_line():
    assert_one_line_error(
        {**BASE, "pks-monitoring:prometheus": {"a\nb": 1}}, "pks-monitoring:prometheus.a\\nb", "unknown key"
    )
