"""Alertmanager (`alertmanager`): upstream's Alertmanager `main` resource with the replicas,
storage, resources and placement from settings, and its routing: the `alertmanager.yaml` of the
`alertmanager-main` Secret.

The config is built on the upstream one (the Secret kube-prometheus ships), not written from
scratch: its `global` section and inhibit rules stay as they are, and so do its routes for the
Watchdog (the "alerting works" heartbeat) and InfoInhibitor (a helper alert that mutes info
alerts) alerts. Those two routes come first, so neither alert ever reaches a receiver of ours
whatever the settings route. What the settings give replaces the rest: the receivers, the routes
by severity/namespace/matchers, the default receiver and the grouping timers.

Teams' own routes: an app with a receiver gets an AlertmanagerConfig in its namespace
(pks_monitoring/components/team_route.py), labelled TEAM_ROUTE_LABEL. The `main` resource selects
those configs in exactly the namespaces of such apps, with the OnNamespace matcher strategy: the
operator puts each config's route first under the root route with a `namespace="<its namespace>"`
matcher and `continue: true`. So that a team's alerts reach the team and not the platform, the
platform config routes those namespaces to a receiver that notifies no one, right after
upstream's kept routes (the settings' routes never see them).

Secrets: receiver URLs, keys and passwords arrive as SecretStr settings. `alertmanager_config`
returns them in clear (for amtool in tests); the program uses `alertmanager_secret_text`, a
Pulumi secret, which `configure_alertmanager` puts into the upstream Secret object. The object
stays in the kube-prometheus ConfigGroup (same resource, so an existing stack updates the Secret
in place rather than deleting and recreating it).
"""

from __future__ import annotations

import copy
from functools import partial
from typing import Any, Optional

import pulumi
import yaml
from pydantic import SecretStr

from pks_monitoring.manifests import Manifest, Transformation, is_object
from pks_monitoring.parts.part import Part, StackInputs
from pks_monitoring.settings import PROJECT, SettingsError
from pks_monitoring.settings.alertmanager import AlertmanagerSettings, AlertReceiver
from pks_monitoring.upstream import (
    ALERTMANAGER,
    ALERTMANAGER_CONFIG_KEY,
    ALERTMANAGER_SECRET,
    KEY,
    KubePrometheus,
)
from pks_monitoring.workloads import (
    claim_template,
    drop_disruption_budget,
    placement,
    set_placement,
    set_replicas,
    use_volume_claim_template,
)

DISRUPTION_BUDGET = "alertmanager-main"
# On every team's AlertmanagerConfig; the `main` resource selects configs by it.
TEAM_ROUTE_LABEL = {"pks-monitoring/alertmanager": ALERTMANAGER}
# The label the API server puts on every Namespace (Kubernetes 1.21+): selects namespaces by name.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
# Upstream routes kept ahead of ours, by the alert they catch: they must never page anyone.
KEPT_UPSTREAM_ALERTS = ("Watchdog", "InfoInhibitor")


def upstream_config(kube_prometheus: KubePrometheus) -> dict[str, Any]:
    """The Alertmanager config of the upstream `alertmanager-main` Secret, parsed."""
    secret = next(
        (o for o in kube_prometheus.objects if is_object(o, "Secret", ALERTMANAGER_SECRET)),
        None,
    )
    text = ((secret or {}).get("stringData") or {}).get(ALERTMANAGER_CONFIG_KEY)
    if text is None:
        raise SettingsError(
            f"{KEY}: {kube_prometheus.root} has no Secret {ALERTMANAGER_SECRET} with stringData "
            f"{ALERTMANAGER_CONFIG_KEY}, which the alerting settings build on; use the "
            "kube-prometheus release the README pins"
        )
    config: dict[str, Any] = yaml.safe_load(text)
    return config


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
                f"{KEY}: the upstream Alertmanager config has no route for "
                f"alertname={alertname}, which alerting keeps; use the kube-prometheus release "
                "the README pins, or update pks_monitoring/parts/alertmanager.py"
            )
        kept.append(copy.deepcopy(route))
    return kept


def _team_routes(kept: list[dict[str, Any]], team_namespaces: tuple[str, ...]) -> list[dict[str, Any]]:
    """A route per team namespace to the receiver of upstream's InfoInhibitor route, which
    notifies no one: the team's own route (the operator's, `continue: true`) has had them."""
    silent = kept[KEPT_UPSTREAM_ALERTS.index("InfoInhibitor")]["receiver"]
    return [{"receiver": silent, "matchers": [f"namespace={_quoted(ns)}"]} for ns in team_namespaces]


def _receiver(receiver: AlertReceiver) -> dict[str, Any]:
    """One receiver with its one integration, in Alertmanager's terms, secrets in clear."""

    def secret(value: Optional[SecretStr]) -> Optional[str]:
        return None if value is None else value.get_secret_value()

    integrations: dict[str, dict[str, Any]] = {
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
    }
    settings = dict(integrations[receiver.type])
    settings["send_resolved"] = receiver.send_resolved
    # Unset settings are left out: Alertmanager's defaults apply.
    integration = {k: v for k, v in settings.items() if v is not None}
    return {"name": receiver.name, f"{receiver.type}_configs": [integration]}


def _quoted(value: str) -> str:
    # A quoted matcher value: backslash and double quote escaped, as Alertmanager parses it.
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def alertmanager_config(
    upstream: dict[str, Any], alerting: AlertmanagerSettings, team_namespaces: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The Alertmanager config: `upstream` (parsed from the manifests' Secret) routed by
    `alerting`, which must have receivers; the alerts of `team_namespaces` (their teams' routes
    take them) reach none of its receivers. Receiver secrets are in clear: keep the result in a
    Pulumi secret (`alertmanager_secret_text`). `upstream` is not changed."""
    if not alerting.receivers:
        raise ValueError("alertmanager has no receivers: keep the upstream config as it is")
    kept = _kept_routes(upstream)
    kept_receivers = {r["receiver"] for r in kept}
    for index, receiver in enumerate(alerting.receivers):
        if receiver.name in kept_receivers:
            raise SettingsError(
                f"{PROJECT}:alertmanager.receivers[{index}].name: {receiver.name!r} is the "
                f"upstream receiver of the {'/'.join(KEPT_UPSTREAM_ALERTS)} alerts; choose "
                "another name"
            )

    routes = []
    for route in alerting.routes:
        matchers = []
        if route.severity is not None:
            matchers.append(f"severity={_quoted(route.severity)}")
        if route.namespace is not None:
            matchers.append(f"namespace={_quoted(route.namespace)}")
        routed: dict[str, Any] = {
            "receiver": route.receiver,
            "matchers": matchers + list(route.matchers),
        }
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
    root["routes"] = kept + _team_routes(kept, team_namespaces) + routes

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


def alertmanager_secret_text(
    upstream: dict[str, Any], alerting: AlertmanagerSettings, team_namespaces: tuple[str, ...] = ()
) -> pulumi.Output[str]:
    """The `alertmanager.yaml` text as a Pulumi secret: encrypted in the state, masked in
    diffs."""
    return pulumi.Output.secret(render(alertmanager_config(upstream, alerting, team_namespaces)))


def configure_alertmanager(obj: Manifest, *, config_text: pulumi.Input[str]) -> None:
    """The upstream `alertmanager-main` Secret holds `config_text` as its `alertmanager.yaml`.

    A ConfigFile (v1) transformation: `config_text` may be an Output (the secret from
    `alertmanager_secret_text`); the ConfigFile passes the object's fields to the Secret resource
    as inputs. Patches that walk values after it pass the Output through untouched.
    """
    if is_object(obj, "Secret", ALERTMANAGER_SECRET):
        obj["stringData"] = {ALERTMANAGER_CONFIG_KEY: config_text}


def select_team_routes(obj: Manifest, *, namespaces: tuple[str, ...]) -> None:
    """The `main` Alertmanager takes the teams' AlertmanagerConfigs: labelled TEAM_ROUTE_LABEL, in
    `namespaces` only, each matching its own namespace's alerts only.

    Listed namespaces rather than all: the stack's settings are the one place that says which
    namespaces route their own alerts, and the platform config takes exactly those off its
    receivers. A config in another namespace (anyone who may create one there) would otherwise
    add notifications the platform never reviewed, and its namespace's alerts would reach both
    that team and the platform."""
    if not is_object(obj, "Alertmanager", ALERTMANAGER):
        return
    spec = obj.setdefault("spec", {})
    spec["alertmanagerConfigSelector"] = {"matchLabels": dict(TEAM_ROUTE_LABEL)}
    spec["alertmanagerConfigNamespaceSelector"] = {
        "matchExpressions": [{"key": NAMESPACE_NAME_LABEL, "operator": "In", "values": list(namespaces)}]
    }
    # The operator's default, written out: a team's route must never see another namespace's alerts.
    spec["alertmanagerConfigMatcherStrategy"] = {"type": "OnNamespace"}


def patches(inputs: StackInputs) -> list[Transformation]:
    alertmanager = inputs.settings.alertmanager
    transformations: list[Transformation] = [
        partial(set_replicas, kind="Alertmanager", name=ALERTMANAGER, replicas=alertmanager.replicas),
        partial(drop_disruption_budget, name=DISRUPTION_BUDGET, replicas=alertmanager.replicas),
        partial(set_placement, kind="Alertmanager", name=ALERTMANAGER, **placement(alertmanager)),
    ]
    if alertmanager.storage.enabled:
        claim = claim_template(alertmanager.storage, inputs.settings.storage.default_class())
        transformations.append(
            partial(use_volume_claim_template, kind="Alertmanager", name=ALERTMANAGER, **claim)
        )
    teams = inputs.team_namespaces
    if teams:
        transformations.append(partial(select_team_routes, namespaces=teams))
    if alertmanager.receivers:
        text = alertmanager_secret_text(upstream_config(inputs.upstream), alertmanager, teams)
        transformations.append(partial(configure_alertmanager, config_text=text))
    return transformations


PART = Part("alertmanager", patches)
