"""Alertmanager's routing from settings: the `alertmanager.yaml` of the `alertmanager-main` Secret.

The config is built on the upstream one (the Secret kube-prometheus ships), not written from
scratch: its `global` section and inhibit rules stay as they are, and so do its routes for the
Watchdog (the "alerting works" heartbeat) and InfoInhibitor (a helper alert that mutes info
alerts) alerts. Those two routes come first, so neither alert ever reaches a receiver of ours
whatever the settings route. What the settings give replaces the rest: the receivers, the routes
by severity/namespace/matchers, the default receiver and the grouping timers.

Secrets: receiver URLs, keys and passwords arrive as SecretStr settings. `alertmanager_config`
returns them in clear (for amtool in tests); the program uses `alertmanager_secret_text`, a
Pulumi secret, which `configure_alertmanager` puts into the upstream Secret object. The object
stays in the kube-prometheus ConfigGroup (same resource, so an existing stack updates the Secret
in place rather than deleting and recreating it).
"""
from __future__ import annotations

import copy
from typing import Any

import pulumi
import yaml

from components.manifests import KubePrometheus
from components.settings import PROJECT, AlertingSettings, AlertReceiver, SettingsError
from components.transformations import is_object

SECRET = "alertmanager-main"  # the Secret the Alertmanager `main` resource reads its config from
CONFIG_KEY = "alertmanager.yaml"
# Upstream routes kept ahead of ours, by the alert they catch: they must never page anyone.
KEPT_UPSTREAM_ALERTS = ("Watchdog", "InfoInhibitor")

_MANIFESTS_KEY = f"{PROJECT}:kubePrometheus.manifests"


def upstream_config(kube_prometheus: KubePrometheus) -> dict[str, Any]:
    """The Alertmanager config of the upstream `alertmanager-main` Secret, parsed."""
    secret = next(
        (o for o in kube_prometheus.objects if is_object(o, "Secret", SECRET)),
        None,
    )
    text = ((secret or {}).get("stringData") or {}).get(CONFIG_KEY)
    if text is None:
        raise SettingsError(
            f"{_MANIFESTS_KEY}: {kube_prometheus.root} has no Secret {SECRET} with stringData "
            f"{CONFIG_KEY}, which the alerting settings build on; use the kube-prometheus release "
            "the README pins"
        )
    return yaml.safe_load(text)


def _catches(route: dict[str, Any], alertname: str) -> bool:
    spelled = {"".join(m.replace('"', "").split()) for m in route.get("matchers") or []}
    return f"alertname={alertname}" in spelled


def _kept_routes(upstream: dict[str, Any]) -> list[dict[str, Any]]:
    routes = (upstream.get("route") or {}).get("routes") or []
    kept = []
    for alertname in KEPT_UPSTREAM_ALERTS:
        route = next((r for r in routes if _catches(r, alertname)), None)
        if route is None:
            raise SettingsError(
                f"{_MANIFESTS_KEY}: the upstream Alertmanager config has no route for "
                f"alertname={alertname}, which alerting keeps; use the kube-prometheus release the "
                "README pins, or update components/alertmanager_config.py"
            )
        kept.append(copy.deepcopy(route))
    return kept


def _receiver(receiver: AlertReceiver) -> dict[str, Any]:
    """One receiver with its one integration, in Alertmanager's terms, secrets in clear."""
    def secret(value):
        return None if value is None else value.get_secret_value()

    settings: dict[str, Any] = {
        "slack": {"api_url": secret(receiver.api_url), "channel": receiver.channel},
        "webhook": {"url": secret(receiver.url)},
        "email": {
            "to": receiver.to,
            "from": receiver.from_,
            "smarthost": receiver.smarthost,
            "auth_username": receiver.auth_username,
            "auth_password": secret(receiver.auth_password),
            "require_tls": receiver.require_tls,
        },
        "pagerduty": {
            "routing_key": secret(receiver.routing_key),
            "service_key": secret(receiver.service_key),
        },
    }[receiver.type]
    settings["send_resolved"] = receiver.send_resolved
    # Unset settings are left out: Alertmanager's defaults apply.
    integration = {k: v for k, v in settings.items() if v is not None}
    return {"name": receiver.name, f"{receiver.type}_configs": [integration]}


def _quoted(value: str) -> str:
    # A quoted matcher value: backslash and double quote escaped, as Alertmanager parses it.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alertmanager_config(upstream: dict[str, Any], alerting: AlertingSettings) -> dict[str, Any]:
    """The Alertmanager config: `upstream` (parsed from the manifests' Secret) routed by
    `alerting`, which must have receivers. Receiver secrets are in clear: keep the result in a
    Pulumi secret (`alertmanager_secret_text`). `upstream` is not changed."""
    if not alerting.receivers:
        raise ValueError("alerting has no receivers: keep the upstream config as it is")
    kept = _kept_routes(upstream)
    kept_receivers = {r["receiver"] for r in kept}
    for index, receiver in enumerate(alerting.receivers):
        if receiver.name in kept_receivers:
            raise SettingsError(
                f"{PROJECT}:alerting.receivers[{index}].name: {receiver.name!r} is the upstream "
                f"receiver of the {'/'.join(KEPT_UPSTREAM_ALERTS)} alerts; choose another name"
            )

    routes = []
    for route in alerting.routes:
        matchers = []
        if route.severity is not None:
            matchers.append(f"severity={_quoted(route.severity)}")
        if route.namespace is not None:
            matchers.append(f"namespace={_quoted(route.namespace)}")
        routed = {"receiver": route.receiver, "matchers": matchers + list(route.matchers)}
        if route.continue_:
            routed["continue"] = True
        routes.append(routed)

    root = copy.deepcopy(upstream.get("route") or {})
    root["receiver"] = alerting.default_receiver
    for key, value in (
        ("group_by", alerting.group_by),
        ("group_wait", alerting.group_wait),
        ("group_interval", alerting.group_interval),
        ("repeat_interval", alerting.repeat_interval),
    ):
        if value is not None:
            root[key] = copy.copy(value)
    root["routes"] = kept + routes

    config = copy.deepcopy(upstream)  # global, inhibit_rules, templates... as upstream has them
    config["route"] = root
    # Upstream's other receivers (Default, Critical) have no integration and no route left.
    config["receivers"] = [
        copy.deepcopy(r) for r in upstream.get("receivers") or [] if r["name"] in kept_receivers
    ] + [_receiver(r) for r in alerting.receivers]
    return config


def render(config: dict[str, Any]) -> str:
    """The `alertmanager.yaml` text; deterministic, so unchanged settings mean no diff."""
    return yaml.safe_dump(config, sort_keys=False, default_flow_style=False)


def alertmanager_secret_text(upstream: dict[str, Any], alerting: AlertingSettings) -> pulumi.Output[str]:
    """The `alertmanager.yaml` text as a Pulumi secret: encrypted in the state, masked in diffs."""
    return pulumi.Output.secret(render(alertmanager_config(upstream, alerting)))


def configure_alertmanager(obj: dict[str, Any], *, config_text: pulumi.Input[str]) -> None:
    """The upstream `alertmanager-main` Secret holds `config_text` as its `alertmanager.yaml`.

    A ConfigFile (v1) transformation: `config_text` may be an Output (the secret from
    `alertmanager_secret_text`); the ConfigFile passes the object's fields to the Secret resource
    as inputs. Put it after every transformation that walks values (it hides the text from them).
    """
    if is_object(obj, "Secret", SECRET):
        obj["stringData"] = {CONFIG_KEY: config_text}
