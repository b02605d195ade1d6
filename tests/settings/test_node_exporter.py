"""The `nodeExporter` settings: the BOSH addon's defaults, its credentials kept secret, and one
clear line for each kind of bad input."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from pks_monitoring.settings import Settings, SettingsError
from tests.helpers.settings import BASE, assert_one_line_error

ADDON = "pks-monitoring:nodeExporter"


PEM = "-----BEGIN CERTIFICATE-----\nMIIB-MARKER\n-----END CERTIFICATE-----\n"


BOSH = {"environment": "10.0.0.6", "client": "ops", "clientSecret": "S3CRET", "caCert": PEM}


def addon(**values) -> dict:
    """The raw config with nodeExporter.addon enabled, complete credentials, and `values`."""
    port = {"port": values.pop("port")} if "port" in values else {}
    return {**BASE, ADDON: {**port, "addon": {"enabled": True, "bosh": BOSH, **values}}}


def test_node_exporter_addon_defaults(manifests_dir):
    settings = Settings.from_raw({**BASE, "pks-monitoring:kubePrometheus": {"manifests": str(manifests_dir)}})
    addon_settings = settings.node_exporter.addon
    assert addon_settings.enabled is False
    assert addon_settings.config_name == "node-exporter"
    assert (addon_settings.release.version, addon_settings.release.sha1) == (
        "5.8.0",
        "fe95651a07029512516061113d4ff92c114ae58a",
    )
    assert addon_settings.release.url.endswith("/v5.8.0/node-exporter-5.8.0.tgz")
    assert settings.node_exporter.port == 9100
    assert addon_settings.stemcells == ["ubuntu-xenial", "ubuntu-jammy"]
    assert addon_settings.include_deployments is None and addon_settings.exclude_deployments is None
    assert (addon_settings.delete_on_destroy, addon_settings.rollout) == (False, False)


def test_node_exporter_addon_credentials_are_kept_secret(manifests_dir):
    raw = addon()
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    bosh = Settings.from_raw(raw).node_exporter.addon.bosh
    assert "S3CRET" not in repr(bosh) and "MARKER" not in repr(bosh)
    assert bosh.client_secret.get_secret_value() == "S3CRET"
    assert bosh.ca_cert.get_secret_value() == PEM


def test_node_exporter_addon_ca_cert_path(manifests_dir, tmp_path):
    cert = tmp_path / "director.pem"
    cert.write_text(PEM)
    raw = addon(bosh={**BOSH, "caCert": str(cert)})
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    assert Settings.from_raw(raw).node_exporter.addon.bosh.ca_cert.get_secret_value() == str(cert)


@pytest.mark.parametrize(
    "values, key, words",
    [
        ({"port": 0}, f"{ADDON}.port", "greater than or equal to 1"),
        ({"port": 65536}, f"{ADDON}.port", "less than or equal to 65535"),
        ({"port": "http"}, f"{ADDON}.port", "integer"),
        (
            {"release": {"version": "latest", "url": "https://x.test/r.tgz", "sha1": "0" * 40}},
            f"{ADDON}.addon.release.version",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0", "url": "https://x.test/r.tgz", "sha1": "0" * 39}},
            f"{ADDON}.addon.release.sha1",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0", "url": "https://x.test/r.tgz", "sha1": "sha256:" + "0" * 40}},
            f"{ADDON}.addon.release.sha1",
            "pattern",
        ),
        (
            {"release": {"version": "5.9.0", "url": "ftp://x.test/r.tgz", "sha1": "0" * 40}},
            f"{ADDON}.addon.release.url",
            "not an https:// URL",
        ),
        (
            {"release": {"version": "5.9.0"}},
            f"{ADDON}.addon.release",
            "set them together (missing: sha1, url)",
        ),
        (
            {"bosh": {**BOSH, "caCert": "not a certificate"}},
            f"{ADDON}.addon.bosh.caCert",
            "neither a PEM certificate",
        ),
        ({"bosh": {**BOSH, "caCert": "README.md"}}, f"{ADDON}.addon.bosh.caCert", "holds no PEM certificate"),
        ({"bosh": {**BOSH, "clientSecret": ""}}, f"{ADDON}.addon.bosh.clientSecret", "empty"),
        (
            {"bosh": {**BOSH, "clientSecret": None}},
            f"{ADDON}.addon",
            "bosh.clientSecret is required when enabled",
        ),
        (
            {"bosh": {k: v for k, v in BOSH.items() if k != "caCert"}},
            f"{ADDON}.addon",
            "bosh.caCert is required when enabled",
        ),
        ({"bosh": None}, f"{ADDON}.addon", "bosh.environment is required when enabled"),
        ({"bosh": {**BOSH, "secret": "x"}}, f"{ADDON}.addon.bosh.secret", "unknown key"),
        (
            {"bosh": {**{k: v for k, v in BOSH.items() if k != "clientSecret"}, "client_secret": "x"}},
            f"{ADDON}.addon.bosh.client_secret",
            "unknown key",
        ),
        ({"stemcells": ["centos-7"]}, f"{ADDON}.addon.stemcells[0]", "'ubuntu-xenial'"),
        ({"stemcells": ["ubuntu-jammy", "windows2019"]}, f"{ADDON}.addon.stemcells", "Linux-only"),
        ({"stemcells": []}, f"{ADDON}.addon.stemcells", "at least 1"),
        (
            {"includeDeployments": []},
            f"{ADDON}.addon.includeDeployments",
            "empty list includes no deployment",
        ),
        ({"excludeDeployments": ["a b"]}, f"{ADDON}.addon.excludeDeployments[0]", "pattern"),
        ({"configName": "node exporter"}, f"{ADDON}.addon.configName", "pattern"),
        ({"configName": "x$(touch /tmp/pwned)"}, f"{ADDON}.addon.configName", "pattern"),
        ({"collectors": ["cpu", "gpu"]}, f"{ADDON}.addon.collectors", "unknown collector 'gpu'"),
        ({"collectors": {"cpu": "sometimes"}}, f"{ADDON}.addon.collectors.cpu", "boolean"),
        ({"enabled": "maybe"}, f"{ADDON}.addon.enabled", "boolean"),
        ({"deleteOnDestroy": "yes please"}, f"{ADDON}.addon.deleteOnDestroy", "boolean"),
        ({"prot": 9100}, f"{ADDON}.addon.prot", "unknown key"),
    ],
)
def test_bad_node_exporter_addon_input_is_one_line_naming_the_key(values, key, words):
    raw = addon(**values)
    raw[ADDON]["addon"] = {k: v for k, v in raw[ADDON]["addon"].items() if v is not None}
    message = assert_one_line_error(raw, key, words)
    assert "S3CRET" not in message and "MARKER" not in message, message


SHA256 = "sha256:" + "ab" * 32
DIRECTOR_VARIABLE = "holds `((` or `))`"


def release(**values) -> dict:
    """A complete `release` (a sha256 digest), with `values` replaced."""
    return {
        "release": {"version": "5.9.0", "url": "https://mirror.example.org/ne.tgz", "sha1": SHA256, **values}
    }


def test_node_exporter_addon_accepts_a_sha256_digest_and_a_private_mirror(manifests_dir):
    raw = addon(**release(url="https://10.0.0.5:8443/releases/ne-5.9.0.tgz"))
    raw["pks-monitoring:kubePrometheus"] = {"manifests": str(manifests_dir)}
    settings = Settings.from_raw(raw).node_exporter.addon.release
    assert (settings.url, settings.sha1) == ("https://10.0.0.5:8443/releases/ne-5.9.0.tgz", SHA256)


# Each string that reaches the runtime config or the bosh command, with a director variable in it.
@pytest.mark.parametrize(
    "values, key",
    [
        (release(url="https://mirror.example.org/ne.tgz?x=((/p-bosh/director/uaa_admin))"), "release.url"),
        (release(url="https://mirror.example.org/((name))/ne.tgz"), "release.url"),
        (release(url="https://mirror.example.org/ne.tgz?x=))"), "release.url"),
        (release(version="((version))"), "release.version"),
        (release(sha1="((sha))"), "release.sha1"),
        ({"configName": "node-exporter((x))"}, "configName"),
        ({"includeDeployments": ["cf", "((deployment))"]}, "includeDeployments[1]"),
        ({"excludeDeployments": ["((deployment))"]}, "excludeDeployments[0]"),
    ],
)
def test_a_director_variable_in_an_addon_string_is_refused(values, key):
    assert_one_line_error(addon(**values), f"{ADDON}.addon.{key}", DIRECTOR_VARIABLE)


@pytest.mark.parametrize(
    "url, words",
    [
        ("http://mirror.example.org/ne.tgz", "not an https:// URL"),
        ("HTTP://mirror.example.org/ne.tgz", "not an https:// URL"),
        ("https://mirror.example.org/ne 5.9.tgz", "not an https:// URL"),
        ("https:///ne.tgz", "names no host"),
        ("https://[::1/ne.tgz", "names no host"),
        ("https://127.0.0.1/ne.tgz", "host '127.0.0.1' is the director itself"),
        ("https://127.1/ne.tgz", "host '127.1'"),
        ("https://2130706433/ne.tgz", "host '2130706433'"),
        ("https://0x7f000001/ne.tgz", "host '0x7f000001'"),
        ("https://[::1]:8443/ne.tgz", "host '::1'"),
        ("https://[::ffff:127.0.0.1]/ne.tgz", "host '::ffff:127.0.0.1'"),
        ("https://0.0.0.0/ne.tgz", "host '0.0.0.0'"),
        ("https://[::]/ne.tgz", "host '::'"),
        ("https://169.254.169.254/latest/meta-data/", "host '169.254.169.254'"),
        ("https://user@169.254.169.254/ne.tgz", "host '169.254.169.254'"),
        ("https://[fe80::1%25eth0]/ne.tgz", "host 'fe80::1%25eth0'"),
        ("https://localhost/ne.tgz", "host 'localhost'"),
        ("https://LocalHost./ne.tgz", "host 'localhost'"),
        ("https://mirror.localhost/ne.tgz", "host 'mirror.localhost'"),
    ],
)
def test_a_release_url_the_director_must_not_fetch_is_refused(url, words):
    assert_one_line_error(addon(**release(url=url)), f"{ADDON}.addon.release.url", words)


# Every string the addon settings put in the runtime config or the bosh command, valid; the
# property test puts a director variable into one of them.
VALID_STRINGS = {
    "release": {"version": "5.9.0", "url": "https://mirror.example.org/ne.tgz", "sha1": SHA256},
    "configName": "node-exporter",
    "includeDeployments": ["cf"],
    "excludeDeployments": ["harbor"],
    "collectors": ["systemd"],
    "stemcells": ["ubuntu-jammy"],
}
STRING_PATHS = [
    ("release", "version"),
    ("release", "url"),
    ("release", "sha1"),
    ("configName",),
    ("includeDeployments", 0),
    ("excludeDeployments", 0),
    ("collectors", 0),
    ("stemcells", 0),
]


def addon_with(path: tuple, edit) -> dict:
    """The raw config with VALID_STRINGS, the string at `path` replaced by `edit(string)`."""
    values = copy.deepcopy(VALID_STRINGS)
    node: Any = values
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = edit(node[path[-1]])
    return addon(**values)


def test_the_valid_strings_are_accepted():
    # The property test's baseline: each example differs from this accepted config in one string.
    Settings.from_raw(addon_with(STRING_PATHS[0], lambda valid: valid))


@hypothesis_settings(max_examples=300, deadline=None)
@given(
    path=st.sampled_from(STRING_PATHS),
    at=st.integers(min_value=0),
    brackets=st.sampled_from(["((", "))"]),
    text=st.text(max_size=12),
)
def test_no_addon_string_holding_a_director_variable_is_accepted(path, at, brackets, text):
    def edit(valid: str) -> str:
        cut = at % (len(valid) + 1)
        return valid[:cut] + brackets + text + valid[cut:]

    with pytest.raises(SettingsError) as caught:
        Settings.from_raw(addon_with(path, edit))
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{ADDON}.addon.{path[0]}"), message


def test_two_static_targets_with_one_name_are_refused():
    # One `instance` for two VMs: their series would be one, each scrape overwriting the other.
    vms = [
        {"name": "pks-api", "address": "10.0.0.5"},
        {"name": "harbor", "address": "10.0.0.7"},
        {"name": "pks-api", "address": "10.0.0.6"},
    ]
    assert_one_line_error(
        {**BASE, "pks-monitoring:nodeExporter": {"staticTargets": vms}},
        "pks-monitoring:nodeExporter.staticTargets",
        "[2].name 'pks-api' is also the name of [0]",
    )
