"""TeamRoute: an app team's own alert route, in the team's namespace.

An AlertmanagerConfig (monitoring.coreos.com/v1alpha1) with one route to one receiver, and a
Secret beside it holding the receiver's URL, key or password: the config names the Secret's keys
(`urlSecret`, `apiURL`, ...), prometheus-operator reads them (its ClusterRole may read Secrets in
every namespace) into the Alertmanager config it generates. The `main` Alertmanager selects the
config by TEAM_ROUTE_LABEL in the namespaces of apps with a receiver, and the operator adds the
`namespace="<namespace>"` matcher to its route (pks_monitoring/parts/alertmanager.py), so the team
sees its own namespace's alerts only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

import pulumi
import pulumi_kubernetes as k8s
from pydantic import SecretStr

from pks_monitoring.parts.alertmanager import TEAM_ROUTE_LABEL
from pks_monitoring.settings.alertmanager import AlertReceiver

# Each secret setting of a receiver: the field of the AlertmanagerConfig's integration that
# names its Secret key (the key is the field's name too).
SECRET_FIELDS = {
    "url": "urlSecret",
    "api_url": "apiURL",
    "auth_password": "authPassword",
    "routing_key": "routingKey",
    "service_key": "serviceKey",
}
# The integration list of each receiver type, and its plain settings (Python name -> CRD name).
INTEGRATIONS = {
    "webhook": "webhookConfigs",
    "slack": "slackConfigs",
    "email": "emailConfigs",
    "pagerduty": "pagerdutyConfigs",
}
PLAIN_FIELDS = {
    "channel": "channel",
    "to": "to",
    "from_": "from",
    "smarthost": "smarthost",
    "auth_username": "authUsername",
    "require_tls": "requireTLS",
    "send_resolved": "sendResolved",
}


def secret_key(field: str) -> str:
    """The Secret key holding the receiver setting `field` (its CRD name, minus `Secret`)."""
    return SECRET_FIELDS[field].removesuffix("Secret")


def secret_name(app: str) -> str:
    return f"{app}-alertmanager-receiver"


def secret_data(receiver: AlertReceiver) -> dict[str, str]:
    """The receiver's secret settings by Secret key, in clear: keep them in a Pulumi secret."""
    values: dict[str, Optional[SecretStr]] = {f: getattr(receiver, f) for f in SECRET_FIELDS}
    return {secret_key(f): v.get_secret_value() for f, v in values.items() if v is not None}


def receiver_spec(receiver: AlertReceiver, secret: str) -> dict[str, Any]:
    """The AlertmanagerConfig receiver: its one integration, each secret as a key of `secret`."""
    integration: dict[str, Any] = {
        crd: getattr(receiver, field)
        for field, crd in PLAIN_FIELDS.items()
        if getattr(receiver, field) is not None
    }
    for field, crd in SECRET_FIELDS.items():
        if getattr(receiver, field) is not None:
            integration[crd] = {"name": secret, "key": secret_key(field)}
    return {"name": receiver.name, INTEGRATIONS[receiver.type]: [integration]}


def alertmanager_config_spec(receiver: AlertReceiver, secret: str) -> dict[str, Any]:
    """Every alert of the namespace (the operator adds the namespace matcher) to `receiver`;
    grouping and timers are the root route's."""
    return {"route": {"receiver": receiver.name}, "receivers": [receiver_spec(receiver, secret)]}


@dataclass(frozen=True)
class TeamRouteArgs:
    app: str  # names the AlertmanagerConfig and its Secret
    namespace: str  # the team's: the config and the Secret live there, its alerts go to the team
    receiver: AlertReceiver


class TeamRoute(pulumi.ComponentResource):
    alertmanager_config: k8s.apiextensions.CustomResource
    secret: k8s.core.v1.Secret

    def __init__(self, name: str, args: TeamRouteArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("pks-monitoring:index:TeamRoute", name, None, opts)
        # Children wait for what the component waits for (the CRDs, the namespace).
        depends_on = opts.depends_on if opts else None
        child = pulumi.ResourceOptions(parent=self, depends_on=depends_on)
        secret = secret_name(args.app)
        # pulumi_kubernetes makes a Secret's stringData a Pulumi secret itself (the tests check).
        data: Any = secret_data(args.receiver)
        self.secret = k8s.core.v1.Secret(
            f"{name}/secret",
            metadata={"name": secret, "namespace": args.namespace},
            type="Opaque",
            string_data=data,
            opts=child,
        )
        self.alertmanager_config = k8s.apiextensions.CustomResource(
            f"{name}/alertmanagerconfig",
            api_version="monitoring.coreos.com/v1alpha1",
            kind="AlertmanagerConfig",
            metadata={"name": args.app, "namespace": args.namespace, "labels": dict(TEAM_ROUTE_LABEL)},
            spec=alertmanager_config_spec(args.receiver, secret),
            # The operator reads the Secret when it picks the config up.
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[self.secret])),
        )
        self.register_outputs(
            {
                "alertmanager_config": {"namespace": args.namespace, "name": args.app},
                "receiver": args.receiver.name,
            }
        )
