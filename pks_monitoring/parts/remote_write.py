"""Remote write (`prometheus.remoteWrite`): the Prometheus `k8s` resource sends every series to
the central stores of the settings, and the `prometheus-remote-write` Secret holds what they
need to be reached.

Credentials and TLS material live only in that Secret, in the stack's namespace: the resource's
`spec.remoteWrite[]` names its keys (SecretKeySelectors), and prometheus-operator, whose
ClusterRole reads Secrets, puts them into the config it generates for Prometheus (itself a
Secret). The stack's Secret is a Pulumi secret as a whole: encrypted in the state, masked in
diffs and in the offline render."""

from __future__ import annotations

from typing import Any

import pulumi

from pks_monitoring.manifests import Manifest, is_object
from pks_monitoring.settings.remote_write import RemoteWriteEndpoint
from pks_monitoring.upstream import PROMETHEUS

REMOTE_WRITE_SECRET = "prometheus-remote-write"


def secret_keys(endpoint: RemoteWriteEndpoint) -> dict[str, str]:
    """The endpoint's keys in the Secret and what each holds (secrets in clear), by what they are."""
    name, auth, tls = endpoint.name, endpoint.basic_auth, endpoint.tls
    values: dict[str, Any] = {
        "username": auth and auth.username,
        "password": auth and auth.password.get_secret_value(),
        "bearer-token": endpoint.bearer_token and endpoint.bearer_token.get_secret_value(),
        "ca.crt": tls and tls.ca,
        "tls.crt": tls and tls.cert,
        "tls.key": tls and tls.key and tls.key.get_secret_value(),
    }
    return {f"{name}-{what}": value for what, value in values.items() if value}


def secret_data(endpoints: list[RemoteWriteEndpoint]) -> dict[str, str]:
    """Every key of the Secret, secrets in clear: keep it inside a Pulumi secret."""
    return {key: value for endpoint in endpoints for key, value in secret_keys(endpoint).items()}


def remote_write_secret(namespace: str, endpoints: list[RemoteWriteEndpoint]) -> Manifest:
    """The `prometheus-remote-write` Secret, its whole data a Pulumi secret."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": REMOTE_WRITE_SECRET, "namespace": namespace},
        "type": "Opaque",
        "stringData": pulumi.Output.secret(secret_data(endpoints)),
    }


def _selector(key: str) -> dict[str, str]:
    return {"name": REMOTE_WRITE_SECRET, "key": key}


def _tls(endpoint: RemoteWriteEndpoint) -> dict[str, Any]:
    tls, name = endpoint.tls, endpoint.name
    assert tls is not None
    spec: dict[str, Any] = {}
    if tls.ca is not None:
        spec["ca"] = {"secret": _selector(f"{name}-ca.crt")}
    if tls.cert is not None and tls.key is not None:
        spec["cert"] = {"secret": _selector(f"{name}-tls.crt")}
        spec["keySecret"] = _selector(f"{name}-tls.key")
    if tls.insecure_skip_verify is not None:
        spec["insecureSkipVerify"] = tls.insecure_skip_verify
    if tls.server_name is not None:
        spec["serverName"] = tls.server_name
    return spec


def remote_write_spec(endpoint: RemoteWriteEndpoint) -> dict[str, Any]:
    """One `spec.remoteWrite[]` entry of the Prometheus resource (RemoteWriteSpec): the URL and
    settings as they are, every credential a reference into the Secret."""
    name = endpoint.name
    spec: dict[str, Any] = {"name": name, "url": endpoint.url}
    if endpoint.basic_auth is not None:
        spec["basicAuth"] = {
            "username": _selector(f"{name}-username"),
            "password": _selector(f"{name}-password"),
        }
    if endpoint.bearer_token is not None:
        # `authorization`, not the deprecated `bearerToken`, which takes the token as plain text.
        spec["authorization"] = {"type": "Bearer", "credentials": _selector(f"{name}-bearer-token")}
    if endpoint.tls is not None:
        spec["tlsConfig"] = _tls(endpoint)
    if endpoint.write_relabel_configs:
        spec["writeRelabelConfigs"] = [
            c.model_dump(by_alias=True, exclude_none=True) for c in endpoint.write_relabel_configs
        ]
    if endpoint.queue_config is not None:
        spec["queueConfig"] = endpoint.queue_config.model_dump(by_alias=True, exclude_none=True)
    return spec


def set_remote_write(obj: Manifest, *, endpoints: list[RemoteWriteEndpoint]) -> None:
    """spec.remoteWrite of the Prometheus `k8s` resource: the endpoints of the settings (upstream
    sets none)."""
    if is_object(obj, "Prometheus", PROMETHEUS):
        obj.setdefault("spec", {})["remoteWrite"] = [remote_write_spec(e) for e in endpoints]
