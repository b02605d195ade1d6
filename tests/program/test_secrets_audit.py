"""Secrets audit (issue 5): a stack whose every secret setting holds a recognisable marker is run
through the program and written out by the offline render; no marker may show in clear in a
rendered file, a stack or component output, a command string or any resource input outside a
Pulumi secret, and each marker must reach the cluster or the commands inside one. The render
shows Secrets in full with secret values as the placeholder: a file may hold no marker in any
form (as is, JSON-escaped, YAML-quoted, inside base64), and the whole render must be the render
of the placeholders, byte for byte.

The render cannot decrypt `secure:` values (it passes the placeholder), so the markers go to the
engine as decrypted config, the way `pulumi up` hands them over: `pks_monitoring.offline.render.render` runs with
its config source replaced by this stack, and its own writing step writes the files.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import pulumi
import pytest
import yaml
from google.protobuf import json_format
from pulumi.runtime import rpc
from pydantic import BaseModel, SecretStr

import pks_monitoring.offline.render as render_tool
from pks_monitoring.kube_yaml import load_documents
from pks_monitoring.offline.conceal import plain
from pks_monitoring.offline.mock_engine import RecordingMonitor, Run, run_program
from pks_monitoring.settings import PROJECT, SECRET_PLACEHOLDER, Settings
from tests.conftest import UPSTREAM
from tests.helpers.schemas import crd_schemas, validate_core, validate_custom
from tests.helpers.settings import KUBERNETES_VERSION, RELEASE_MANIFESTS, addon_config

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

PLAIN_TEXT_REFUSAL = ": a secret given in plain text; "


def marker(path: tuple[str, ...]) -> str:
    """The marker of the secret setting at `path` (config path, `[]` for list items). The quote,
    backslash and apostrophe change when JSON or YAML quote the marker inside a text: a render that
    concealed the marker as is only would show those forms."""
    return f"MARKER-{'.'.join(p for p in path if p != '[]')}-\"q\\'7"


# --- every secret setting, from the settings model ------------------------------------------


def _secret_paths(annotation: Any, path: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    origin = get_origin(annotation)
    if annotation is SecretStr:
        yield path
    elif origin is Annotated:
        yield from _secret_paths(get_args(annotation)[0], path)
    elif origin in (Union, UnionType):
        for arg in get_args(annotation):
            yield from _secret_paths(arg, path)
    elif origin in (list, tuple, set, frozenset):
        yield from _secret_paths(get_args(annotation)[0], (*path, "[]"))
    elif origin is dict:
        yield from _secret_paths(get_args(annotation)[1], (*path, "{}"))
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _secret_paths(field.annotation, (*path, field.alias or name))


SECRET_SETTINGS = sorted(set(_secret_paths(Settings, ())))


def config_key(path: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The config key a settings path lives under, and the path inside its value."""
    if path[0] == "kubernetes":  # the `kubernetes:` namespace: kubernetes:kubeconfig
        return f"kubernetes:{path[1]}", path[2:]
    return f"{PROJECT}:{path[0]}", path[1:]


def values_at(value: Any, path: tuple[str, ...]) -> Iterator[Any]:
    if not path:
        yield value
    elif path[0] in ("[]", "{}"):
        items = value if isinstance(value, list) else value.values() if isinstance(value, dict) else []
        for item in items:
            yield from values_at(item, path[1:])
    elif isinstance(value, dict) and path[0] in value:
        yield from values_at(value[path[0]], path[1:])


# --- the audited stack ------------------------------------------------------------------------

KUBECONFIG = ("kubernetes", "kubeconfig")
ADMIN_PASSWORD = ("grafana", "adminPassword")
CLIENT_SECRET = ("nodeExporter", "addon", "bosh", "clientSecret")
CA_CERT = ("nodeExporter", "addon", "bosh", "caCert")
RECEIVER_SECRETS = {  # receiver type -> its secret fields
    "slack": ["apiUrl"],
    "webhook": ["url"],
    "email": ["authPassword"],
    "pagerduty": ["routingKey", "serviceKey"],
}


def receiver_marker(field: str, where: tuple[str, ...] = ("alertmanager", "receivers", "[]")) -> str:
    return marker((*where, field))


TEAM = ("apps", "[]", "receiver")  # an app team's own receiver
DEMO_TEAM = ("demoApp", "receiver")
# The demo app's receiver holds one type only: its other secret fields are those of the same
# model on the same path to the cluster (apps_to_monitor hands it to AppMonitor as an app's),
# which the apps' receivers cover.
COVERED_BY_TEAM = {(*DEMO_TEAM, f) for f in ("apiUrl", "authPassword", "routingKey", "serviceKey")}


def team_app(index: int, receiver: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"team-{index}",
        "namespace": f"team-{index}",
        "selector": {"app": "x"},
        "port": "http",
        "receiver": {"name": "team", **receiver},
    }


REMOTE_WRITE_SECRETS = [("basicAuth", "password"), ("bearerToken",), ("tls", "key")]


def remote_write_marker(*field: str) -> str:
    return marker(("prometheus", "remoteWrite", "[]", *field))


CERTIFICATE = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


AUDIT_STACK: dict[str, Any] = {
    "kubernetes:kubeconfig": marker(KUBECONFIG),  # instead of a context
    f"{PROJECT}:cluster": "demo",
    f"{PROJECT}:kubernetesVersion": KUBERNETES_VERSION,
    f"{PROJECT}:storage": {"storageClass": "thin"},
    f"{PROJECT}:kubePrometheus": {"manifests": RELEASE_MANIFESTS},
    f"{PROJECT}:grafana": {"adminPassword": marker(ADMIN_PASSWORD)},
    f"{PROJECT}:nodeExporter": {
        "addon": addon_config(
            marker(CLIENT_SECRET),
            f"-----BEGIN CERTIFICATE-----\n{marker(CA_CERT)}\n-----END CERTIFICATE-----\n",
        )
    },
    f"{PROJECT}:prometheus": {
        "remoteWrite": [
            {
                "name": "central",
                "url": "https://store.example/api/v1/write",
                "basicAuth": {"username": "pks", "password": remote_write_marker("basicAuth", "password")},
                "tls": {
                    "ca": CERTIFICATE,
                    "cert": CERTIFICATE,
                    "key": f"-----BEGIN PRIVATE KEY-----\n{remote_write_marker('tls', 'key')}\n-----END PRIVATE KEY-----\n",
                },
            },
            {
                "name": "backup",
                "url": "https://backup.example/push",
                "bearerToken": remote_write_marker("bearerToken"),
            },
        ]
    },
    f"{PROJECT}:alertmanager": {
        "receivers": [
            {
                "name": "ops-slack",
                "type": "slack",
                "apiUrl": f"https://hooks.slack.example/services/{receiver_marker('apiUrl')}",
            },
            {
                "name": "hook",
                "type": "webhook",
                "url": f"https://hooks.example/alert?token={receiver_marker('url')}",
            },
            {
                "name": "mail",
                "type": "email",
                "to": "ops@example.com",
                "from": "am@example.com",
                "smarthost": "smtp.example.com:587",
                "authUsername": "am",
                "authPassword": receiver_marker("authPassword"),
            },
            {"name": "pager", "type": "pagerduty", "routingKey": receiver_marker("routingKey")},
            {"name": "pager-v1", "type": "pagerduty", "serviceKey": receiver_marker("serviceKey")},
        ],
        "defaultReceiver": "hook",
        "routes": [{"receiver": "pager", "severity": "critical"}],
    },
    # A quote and a backslash: the login reaches the cluster JSON-escaped inside a docker config.
    f"{PROJECT}:images": {
        "registry": "harbor.example.org/mirror",
        "pullSecret": {
            "username": "robot",
            "password": 'q"\\' + marker(("images", "pullSecret", "password")),
        },
    },
    # Its namespace gets the login too, and a team receiver.
    f"{PROJECT}:demoApp": {
        "enabled": True,
        "receiver": {
            "name": "demo-team",
            "type": "webhook",
            "url": f"https://h.example/{receiver_marker('url', DEMO_TEAM)}",
        },
    },
    f"{PROJECT}:apps": [
        team_app(0, {"type": "webhook", "url": f"https://h.example/{receiver_marker('url', TEAM)}"}),
        team_app(1, {"type": "slack", "apiUrl": f"https://s.example/{receiver_marker('apiUrl', TEAM)}"}),
        team_app(
            2,
            {
                "type": "email",
                "to": "t@example.com",
                "from": "am@example.com",
                "smarthost": "smtp.example.com:587",
                "authUsername": "am",
                "authPassword": receiver_marker("authPassword", TEAM),
            },
        ),
        team_app(3, {"type": "pagerduty", "routingKey": receiver_marker("routingKey", TEAM)}),
        team_app(4, {"type": "pagerduty", "serviceKey": receiver_marker("serviceKey", TEAM)}),
    ],
}
SECRET_KEYS = sorted({config_key(path)[0] for path in SECRET_SETTINGS})
MARKERS = [marker(path) for path in SECRET_SETTINGS if path not in COVERED_BY_TEAM]


def engine_config(stack: dict[str, Any]) -> dict[str, str]:
    """As the engine passes config to the program: structured values as JSON text."""
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in stack.items()}


def in_clear(value: Any) -> str:
    """Everything of `value` outside Pulumi secrets, as text (secrets masked as the render does)."""
    return json.dumps(plain(value))


def secret_values(value: Any) -> Iterator[Any]:
    """The values of the Pulumi secrets inside `value`."""
    if rpc.is_rpc_secret(value):
        yield rpc.unwrap_rpc_secret(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from secret_values(item)
    elif isinstance(value, list):
        for item in value:
            yield from secret_values(item)


@pytest.fixture(scope="module")
def audit(tmp_path_factory) -> tuple[Run, Path, list[tuple[str, Any]]]:
    """The audited stack through pks_monitoring.offline.render.render: (the run, the render, every component's and
    the stack's registered outputs by URN)."""
    out = tmp_path_factory.mktemp("audit") / "render"
    runs: list[Run] = []
    outputs: list[tuple[str, Any]] = []
    register_outputs = RecordingMonitor.RegisterResourceOutputs

    def run_and_keep(*args, **kwargs) -> Run:
        runs.append(run_program(*args, **kwargs))
        return runs[-1]

    def keep_outputs(self, request):
        # The wire form, secrets marked as the engine marks them (deserializing would turn the
        # ConfigGroup's resource references back into resources, registering them again).
        outputs.append((request.urn, json_format.MessageToDict(request.outputs)))
        return register_outputs(self, request)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render_tool, "stack_config", lambda _: (engine_config(AUDIT_STACK), SECRET_KEYS))
        patch.setattr(render_tool, "run_program", run_and_keep)
        patch.setattr(RecordingMonitor, "RegisterResourceOutputs", keep_outputs)
        # The config comes from the patched stack_config (its secrets decrypted, as under the
        # engine); the file the program reads beside it says nothing more.
        (out.parent / "Pulumi.audit.yaml").write_text("config: {}\n")
        render_tool.render(out.parent / "Pulumi.audit.yaml", out)
    return runs[0], out, outputs


def registration(run: Run, type_: str, name: str):
    found = [r for r in run.recorder.resources if r.type == type_ and r.name == name]
    assert len(found) == 1, f"{type_} {name}: {len(found)} registrations"
    return found[0]


# --- the audit covers every secret setting ------------------------------------------------------


def test_every_secret_setting_holds_its_marker():
    # The walk finds the secrets it must (so an empty walk cannot pass the audit) ...
    known = {KUBECONFIG, ADMIN_PASSWORD, CLIENT_SECRET, CA_CERT}
    known |= {("alertmanager", "receivers", "[]", f) for fields in RECEIVER_SECRETS.values() for f in fields}
    known |= {("prometheus", "remoteWrite", "[]", *field) for field in REMOTE_WRITE_SECRETS}
    known |= {(*TEAM, f) for fields in RECEIVER_SECRETS.values() for f in fields} | COVERED_BY_TEAM
    assert known <= set(SECRET_SETTINGS), sorted(known - set(SECRET_SETTINGS))
    # ... and every secret setting of the model, a future one included, holds its marker here.
    for path in SECRET_SETTINGS:
        if path in COVERED_BY_TEAM:
            continue
        key, inside = config_key(path)
        values = list(values_at(AUDIT_STACK.get(key), inside))
        assert any(marker(path) in str(v) for v in values), (
            f"secret setting {'.'.join(path)} holds no marker {marker(path)}: add it to AUDIT_STACK"
        )
    # Every receiver type is in the stack with its secret fields.
    receivers = AUDIT_STACK[f"{PROJECT}:alertmanager"]["receivers"]
    for type_, fields in RECEIVER_SECRETS.items():
        for field in fields:
            assert any(r["type"] == type_ and field in r for r in receivers), (type_, field)
    # The markers are accepted as they are: settings validate, nothing is replaced by the placeholder.
    settings = Settings.from_raw(AUDIT_STACK)
    assert settings.kubernetes.context is None
    assert settings.grafana.admin_password.get_secret_value() == marker(ADMIN_PASSWORD)


# --- nothing in clear --------------------------------------------------------------------------


def marker_forms(m: str) -> dict[str, str]:
    """The marker as a text holding it may spell it: as is, JSON-escaped (a JSON document inside
    a value), between YAML single quotes and between YAML double quotes."""
    double = yaml.safe_dump(m, default_style='"', width=float("inf")).strip()
    return {
        "as is": m,
        "JSON-escaped": json.dumps(m)[1:-1],
        "YAML single-quoted": m.replace("'", "''"),
        "YAML double-quoted": double[1:-1],
    }


BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")


def strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def readable(text: str) -> Iterator[str]:
    """`text` and every text its base64 runs decode to, however deep. (JSON and YAML quoting
    leave "MARKER" as it is: only an encoding hides it.)"""
    yield text
    for run in BASE64_RUN.findall(text):
        try:
            decoded = base64.b64decode(run, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            continue
        yield from readable(decoded)


def leaks(text: str) -> list[str]:
    """Each marker form found in `text` or in what decodes out of it, named."""
    found = set()
    for inner in readable(text):
        found |= {f"{m} {name}" for m in MARKERS for name, form in marker_forms(m).items() if form in inner}
        found |= {"MARKER"} if "MARKER" in inner else set()
    return sorted(found)


def test_audit_sees_a_marker_in_each_form_it_can_take_in_a_file():
    # The negative control of the file check below: each form is found, base64 inside JSON too.
    m = marker(ADMIN_PASSWORD)
    auth = base64.b64encode(f"admin:{m}".encode()).decode()
    assert "MARKER" not in json.dumps({"auths": {"registry": {"auth": auth}}})
    for text in (
        json.dumps({"auths": {"registry": {"auth": auth}}}),  # a docker config
        json.dumps({"password": m}),  # JSON-escaped
        yaml.safe_dump({"url": f"https://hooks.example/?token={m}"}),  # YAML-quoted
        json.dumps({"alertmanager.yaml": yaml.safe_dump({"auth_password": m})}),  # YAML in JSON
    ):
        assert leaks(text), text
    concealed = json.dumps({"auths": {"registry": {"auth": base64.b64encode(b"admin:[secret]").decode()}}})
    assert leaks(concealed) == []


def test_no_marker_in_any_rendered_file(audit):
    _, out, _ = audit
    files = [p for p in out.rglob("*") if p.is_file()]
    assert out / "outputs.json" in files and len(files) > 100
    assert {p.name for p in files if p.parent == out / "bosh"} >= {
        "Command_node-exporter-runtime-config.yaml",
        "Command_node-exporter-runtime-config.stdin",
        "Command_node-exporter-rollout.yaml",
    }
    for path in files:
        leaked = leaks(path.read_text())
        assert not leaked, f"{path.relative_to(out)} shows {leaked}"


def test_no_marker_in_stack_or_component_outputs(audit):
    run, out, outputs = audit
    assert json.loads((out / "outputs.json").read_text())["rolloutCommand"]  # the addon ran
    components = {urn.rpartition("::")[2] for urn, _ in outputs}
    assert {"demo", "node-exporter"} <= components, components  # their outputs were seen
    for urn, value in [("stack", run.outputs), *outputs]:
        assert "MARKER" not in in_clear(value), f"outputs of {urn} show a marker in clear"


def test_no_marker_in_any_input_outside_a_secret(audit):
    run, _, _ = audit
    assert len(run.recorder.resources) > 100
    for r in run.recorder.resources:
        assert "MARKER" not in f"{r.type} {r.name} {r.provider}", r.name
        assert "MARKER" not in in_clear(r.inputs), f"{r.type} {r.name}: a marker outside a secret"


def test_command_strings_are_plain_constants_without_secrets(audit):
    run, _, _ = audit
    commands = [r for r in run.recorder.resources if r.type == "command:local:Command"]
    assert {r.name for r in commands} == {"node-exporter-runtime-config", "node-exporter-rollout"}
    seen = 0
    for command in commands:
        for field in ("create", "update", "delete", "stdin", "interpreter", "triggers"):
            value = command.inputs.get(field)
            if value is None:
                continue
            seen += 1
            # Not even masked: a command (or its stdin) that is secret would hide what runs.
            assert not rpc.is_rpc_secret(value), f"{command.name}.{field} is secret"
            assert "MARKER" not in json.dumps(value), f"{command.name}.{field} holds a marker"
    assert seen >= 7  # create, update, delete (deleteOnDestroy), stdin, ... really looked at


# --- ... and each marker arrives, inside a secret -------------------------------------------------


def test_every_marker_reaches_the_cluster_or_the_commands_inside_a_secret(audit):
    run, _, _ = audit
    secrets = [t for r in run.recorder.resources for v in secret_values(r.inputs) for t in strings(v)]
    for m in MARKERS:
        assert any(m in t for text in secrets for t in readable(text)), (
            f"{m} reaches nothing: the audit would be vacuous"
        )


def test_provider_gets_the_kubeconfig_as_a_secret(audit):
    run, _, _ = audit
    provider = registration(run, "pulumi:providers:kubernetes", "demo-k8s")
    assert provider.inputs.get("context") is None
    assert rpc.is_rpc_secret(provider.inputs["kubeconfig"])
    assert rpc.unwrap_rpc_secret(provider.inputs["kubeconfig"]) == marker(KUBECONFIG)


def test_grafana_admin_secret_holds_the_password_as_a_secret(audit):
    run, out, _ = audit
    secret = registration(run, "kubernetes:core/v1:Secret", "demo-grafana-admin")
    string_data = secret.inputs["stringData"]
    assert rpc.is_rpc_secret(string_data)
    assert rpc.unwrap_rpc_secret(string_data)["admin-password"] == marker(ADMIN_PASSWORD)
    # Rendered in full and schema-valid, the password as the placeholder where it stands.
    rendered = yaml.safe_load((out / "k8s/monitoring/Secret_grafana-admin.yaml").read_text())
    assert rendered["stringData"] == {
        **rpc.unwrap_rpc_secret(string_data),
        "admin-password": SECRET_PLACEHOLDER,
    }
    assert validate_core(rendered) == []
    # The Deployment reads it from the Secret, never as a value.
    deployment = json.loads((out / "k8s/monitoring/Deployment_grafana.yaml").read_text())
    env = {
        e["name"]: e for c in deployment["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
    }
    assert env["GF_SECURITY_ADMIN_PASSWORD"] == {
        "name": "GF_SECURITY_ADMIN_PASSWORD",
        "valueFrom": {"secretKeyRef": {"key": "admin-password", "name": "grafana-admin"}},
    }


def test_bosh_credentials_reach_the_command_as_a_secret_environment(audit):
    run, _, _ = audit
    command = registration(run, "command:local:Command", "node-exporter-runtime-config")
    environment = command.inputs["environment"]
    assert rpc.is_rpc_secret(environment)
    values = rpc.unwrap_rpc_secret(environment)
    assert values["BOSH_CLIENT_SECRET"] == marker(CLIENT_SECRET)
    assert marker(CA_CERT) in values["BOSH_CA_CERT"]
    assert values["BOSH_CA_CERT"].startswith("-----BEGIN CERTIFICATE-----")


def test_alertmanager_secret_holds_the_receiver_secrets_as_a_secret(audit):
    run, out, _ = audit
    secret = registration(run, "kubernetes:core/v1:Secret", "monitoring/alertmanager-main")
    string_data = secret.inputs["stringData"]
    assert rpc.is_rpc_secret(string_data)
    config = yaml.safe_load(rpc.unwrap_rpc_secret(string_data)["alertmanager.yaml"])
    integrations = {r["name"]: r for r in config["receivers"]}
    assert receiver_marker("apiUrl") in integrations["ops-slack"]["slack_configs"][0]["api_url"]
    assert receiver_marker("url") in integrations["hook"]["webhook_configs"][0]["url"]
    assert integrations["mail"]["email_configs"][0]["auth_password"] == receiver_marker("authPassword")
    assert integrations["pager"]["pagerduty_configs"][0]["routing_key"] == receiver_marker("routingKey")
    assert integrations["pager-v1"]["pagerduty_configs"][0]["service_key"] == receiver_marker("serviceKey")
    # Rendered in full: the same config, each marker replaced by the placeholder where it stands
    # (a URL keeps its host and path), so a changed route shows.
    rendered = yaml.safe_load((out / "k8s/monitoring/Secret_alertmanager-main.yaml").read_text())
    assert validate_core(rendered) == []
    shown = yaml.safe_load(rendered["stringData"]["alertmanager.yaml"])
    assert shown == without_secrets(config)
    assert shown["route"] == config["route"]  # what routes where, in full
    hook = {r["name"]: r for r in shown["receivers"]}["hook"]
    assert hook["webhook_configs"][0] == {
        **integrations["hook"]["webhook_configs"][0],
        "url": SECRET_PLACEHOLDER,
    }


# The values of the secret settings: a whole URL for a webhook, not just its token.
SECRET_VALUES = sorted(
    (
        v
        for path in SECRET_SETTINGS
        for v in values_at(AUDIT_STACK.get(config_key(path)[0]), config_key(path)[1])
    ),
    key=len,
    reverse=True,
)


def without_secrets(value: Any) -> Any:
    """`value` with every secret setting's value in its strings replaced by the placeholder."""
    if isinstance(value, str):
        for secret in SECRET_VALUES:
            value = value.replace(secret, SECRET_PLACEHOLDER)
        return value
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [without_secrets(v) for v in value]
    return value


def test_remote_write_secret_holds_the_credentials_and_the_prometheus_resource_names_them(audit):
    run, out, _ = audit
    secret = registration(run, "kubernetes:core/v1:Secret", "demo-prometheus-remote-write")
    string_data = secret.inputs["stringData"]
    assert rpc.is_rpc_secret(string_data)
    data = rpc.unwrap_rpc_secret(string_data)
    assert data["central-password"] == remote_write_marker("basicAuth", "password")
    assert data["backup-bearer-token"] == remote_write_marker("bearerToken")
    assert remote_write_marker("tls", "key") in data["central-tls.key"]
    (rendered,) = load_documents((out / "k8s/monitoring/Secret_prometheus-remote-write.yaml").read_text())
    # Shown key by key (the render's Secrets in place), each secret value as the placeholder.
    assert set(rendered["stringData"]) == set(data)
    for key in ("central-password", "backup-bearer-token", "central-tls.key"):
        assert rendered["stringData"][key] == SECRET_PLACEHOLDER, key
    # The resource references the Secret's keys, in its own namespace, and holds no value.
    prometheus = json.loads((out / "k8s/monitoring/Prometheus_k8s.yaml").read_text())
    central, backup = prometheus["spec"]["remoteWrite"]
    assert central["basicAuth"]["password"] == {"key": "central-password", "name": "prometheus-remote-write"}
    assert central["tlsConfig"]["keySecret"] == {"key": "central-tls.key", "name": "prometheus-remote-write"}
    assert backup["authorization"]["credentials"] == {
        "key": "backup-bearer-token",
        "name": "prometheus-remote-write",
    }
    assert rendered["metadata"]["namespace"] == prometheus["metadata"]["namespace"]
    errors = validate_custom(prometheus, crd_schemas(UPSTREAM))
    assert errors == [], errors


def test_audit_detects_a_marker_in_clear():
    # The negative control of the checks above: a marker outside a secret is seen, inside is not.
    leaked = {"stringData": {"password": marker(ADMIN_PASSWORD)}}
    kept = {"stringData": rpc.wrap_rpc_secret({"password": marker(ADMIN_PASSWORD)})}
    assert "MARKER" in in_clear(leaked) and not list(secret_values(leaked))
    assert "MARKER" not in in_clear(kept) and marker(ADMIN_PASSWORD) in strings(list(secret_values(kept)))


# --- secrets given in plain text are refused ------------------------------------------------------


def refusal(secret_keys: list[str]) -> str:
    with pytest.raises(pulumi.RunError) as raised:
        run_program(engine_config(AUDIT_STACK), secret_keys)
    return str(raised.value)


def test_plain_text_secrets_are_refused_in_one_line():
    message = refusal([])
    assert message.count("\n") == 0 and PLAIN_TEXT_REFUSAL in message, message
    # Config keys in order: kubernetes:kubeconfig first.
    assert message.startswith(f"kubernetes:kubeconfig{PLAIN_TEXT_REFUSAL}"), message
    assert "pulumi config set --secret" in message and "MARKER" not in message


@pytest.mark.parametrize("key", [k for k in SECRET_KEYS if k.startswith(f"{PROJECT}:")])
def test_each_secret_key_given_in_plain_text_is_refused(key):
    message = refusal([k for k in SECRET_KEYS if k != key])
    assert message.count("\n") == 0 and message.startswith((f"{key}.", f"{key}[")), message
    path = message.partition(PLAIN_TEXT_REFUSAL)[0]
    assert PLAIN_TEXT_REFUSAL in message and "MARKER" not in message, message
    # It names a secret setting of that key.
    fields = {p[-1] for p in SECRET_SETTINGS if config_key(p)[0] == key}
    assert path.rpartition(".")[2] in fields, path


# --- a secret of the wrong type is refused without being shown ----------------------------------

NOT_SHOWN = 73194625  # what `pulumi config set --path ... 73194625` (no --secret) stores: a number


def with_value(stack: dict[str, Any], path: tuple[str, ...], value: Any) -> dict[str, Any]:
    """A copy of `stack` with `value` at the secret setting `path` (in the list item holding it)."""
    stack = copy.deepcopy(stack)
    key, inside = config_key(path)
    if not inside:
        stack[key] = value
        return stack
    if not _set(stack[key], inside, value):  # a setting the stack leaves out (COVERED_BY_TEAM)
        container = stack[key]
        for index, part in enumerate(inside[:-1]):
            container = (
                next(i for i in container if inside[index + 1] in i) if part == "[]" else container[part]
            )
        container[inside[-1]] = value
    return stack


def _set(container: Any, path: tuple[str, ...], value: Any) -> bool:
    """Sets `value` at `path` where it is set already (for `[]`, in the first list item that holds
    the rest of the path); False when nothing holds it."""
    part, rest = path[0], path[1:]
    if part == "[]":
        return any(_set(item, rest, value) for item in container)
    if not isinstance(container, dict) or part not in container:
        return False
    if not rest:
        container[part] = value
        return True
    return _set(container[part], rest, value)


@pytest.mark.parametrize("path", SECRET_SETTINGS, ids=lambda path: ".".join(p for p in path if p != "[]"))
def test_a_secret_of_the_wrong_type_is_refused_without_showing_it(path):
    with pytest.raises(pulumi.RunError) as raised:
        run_program(engine_config(with_value(AUDIT_STACK, path, NOT_SHOWN)), [])
    message = str(raised.value)
    assert message.count("\n") == 0 and message.startswith(config_key(path)[0]), message
    assert str(NOT_SHOWN) not in message, message


# --- ... and nothing derived from one ------------------------------------------------------------


def test_the_render_of_the_real_values_is_the_render_of_the_placeholders(audit, tmp_path):
    # What the offline render shows (every `secure:` value the placeholder) is what a render with
    # the real values shows, byte for byte: no secret, nor anything made from one (a digest, an
    # encoding, a value generated at random), reaches a rendered file.
    _, out, _ = audit
    stack = AUDIT_STACK
    for path in SECRET_SETTINGS:
        if path not in COVERED_BY_TEAM:  # not in the stack: the demo's receiver is a webhook
            stack = with_value(stack, path, SECRET_PLACEHOLDER)
    placeholders = tmp_path / "placeholders"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(render_tool, "stack_config", lambda _: (engine_config(stack), SECRET_KEYS))
        (tmp_path / "Pulumi.audit.yaml").write_text("config: {}\n")  # as in `audit`
        render_tool.render(tmp_path / "Pulumi.audit.yaml", placeholders)
    assert render_tool.diff(placeholders, out) == ""
