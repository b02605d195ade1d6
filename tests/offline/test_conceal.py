"""Secret data as the render shows it: every value of secret config replaced by the placeholder in
place, in each form a text can hold it in (as is, JSON-escaped, YAML-quoted, base64), and a text
that cannot be concealed in place masked whole."""

from __future__ import annotations

import base64
import json

import yaml
from pulumi.runtime import rpc

from pks_monitoring.offline.conceal import plain, secret_settings, shown
from pks_monitoring.settings import PROJECT, SECRET_PLACEHOLDER, Settings
from tests.helpers.settings import BASE

# A quote, a backslash and an apostrophe: JSON and YAML each write it otherwise than as is.
SECRET = "s3cr\"t\\pa'ss"
OTHER = "hook-token-77"
SECRETS = [SECRET, OTHER]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def unb64(text: str) -> str:
    return base64.b64decode(text).decode()


def test_secret_settings_are_the_secret_str_settings_of_the_model():
    settings = Settings.from_raw(
        {
            **BASE,
            f"{PROJECT}:grafana": {"adminUser": "root", "adminPassword": SECRET},
            f"{PROJECT}:alertmanager": {
                "receivers": [
                    {"name": "hook", "type": "webhook", "url": f"https://hooks.example/?t={OTHER}"},
                    {"name": "pager", "type": "pagerduty", "routingKey": SECRET_PLACEHOLDER},
                ],
                "defaultReceiver": "hook",
            },
        }
    )
    # Whole values, longest first; the user name is no secret, the placeholder hides nothing.
    assert secret_settings(settings) == [f"https://hooks.example/?t={OTHER}", SECRET]


def test_a_secret_in_a_json_document_is_concealed_in_place():
    text = json.dumps({"user": "admin", "password": SECRET}, indent=2)
    assert json.loads(shown(text, SECRETS)) == {"user": "admin", "password": SECRET_PLACEHOLDER}


def test_a_secret_in_a_yaml_document_is_concealed_in_place_whatever_its_quoting():
    url = f"https://hooks.example/alert?token={SECRET}"
    config = {"receivers": [{"name": "hook", "webhook_configs": [{"url": url}]}], "key": SECRET}
    for style in (None, "'", '"'):
        text = yaml.safe_dump(config, default_style=style)
        assert SECRET not in text or style is None  # quoting did change how it is written
        concealed = yaml.safe_load(shown(text, SECRETS))
        assert concealed == {
            "receivers": [
                {"name": "hook", "webhook_configs": [{"url": "https://hooks.example/alert?token=[secret]"}]}
            ],
            "key": SECRET_PLACEHOLDER,  # a whole plain scalar: quoted, not a list `[secret]`
        }, style


def test_a_secret_base64_inside_a_docker_config_is_concealed_in_place():
    docker = json.dumps({"auths": {"registry.example": {"auth": b64(f"robot:{SECRET}")}}})
    auth = json.loads(shown(docker, SECRETS))["auths"]["registry.example"]["auth"]
    assert unb64(auth) == "robot:[secret]"


def test_a_basic_auth_file_and_a_base64_data_value_are_concealed_in_place():
    assert shown(f"admin:{SECRET}\nops:{OTHER}\n", SECRETS) == "admin:[secret]\nops:[secret]\n"
    # A Secret's `data`: base64 of the whole text.
    assert unb64(shown(b64(f"password={SECRET}\n"), SECRETS)) == "password=[secret]\n"


def test_a_text_that_cannot_be_concealed_in_place_is_masked_whole():
    # YAML folds a long scalar at its spaces: the secret is in no line of the text as a whole.
    secret = "correct horse battery staple " * 4
    text = yaml.safe_dump({"passphrase": f"the passphrase is {secret}"}, width=30)
    assert secret not in text and secret in yaml.safe_load(text)["passphrase"]
    assert shown(text, [secret]) == SECRET_PLACEHOLDER


def test_text_without_secrets_is_shown_as_it_is():
    text = yaml.safe_dump({"route": {"receiver": "hook", "group_by": ["namespace"]}})
    assert shown(text, SECRETS) == text
    assert shown(text, []) == text


def test_plain_masks_secrets_whole_unless_given_the_secret_values():
    value = {"stringData": rpc.wrap_rpc_secret({"config": f"password: {SECRET}\n"}), "replicas": 2.0}
    assert plain(value) == {"stringData": SECRET_PLACEHOLDER, "replicas": 2}
    assert plain(value, SECRETS) == {"stringData": {"config": "password: '[secret]'\n"}, "replicas": 2}
