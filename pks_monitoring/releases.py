"""Which kube-prometheus release a stack runs, and whether upstream tested it on the stack's
Kubernetes: upstream's compatibility table, the releases this program knows by their manifests,
and the check that refuses a release not tested on the cluster's minor before any resource."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pks_monitoring.manifests import Manifest
from pks_monitoring.settings import PROJECT, Settings, SettingsError
from pks_monitoring.upstream import KubePrometheus

# kube-prometheus' README compatibility table: the Kubernetes minors each release line is tested
# on (release-0.14..0.16 from the table as release-0.16 ships it; release-0.18 from its own:
# 1.33-1.36, 1.32 marked unsupported).
TESTED_KUBERNETES: dict[str, tuple[str, ...]] = {
    "0.14": ("1.29", "1.30", "1.31"),
    "0.15": ("1.31", "1.32", "1.33"),
    "0.16": ("1.31", "1.32", "1.33", "1.34"),
    "0.18": ("1.33", "1.34", "1.35", "1.36"),
}
# The releases the program tells apart by their manifests: the prometheus-operator version the
# operator Deployment carries (app.kubernetes.io/version). Other tags are named with
# kubePrometheus.release.
OPERATOR_VERSION: dict[str, str] = {"0.85.0": "v0.16.0", "0.92.0": "v0.18.0"}
# The release Pulumi.yaml pins: the one that fits the TKGI releases in support (README).
DEFAULT_RELEASE = "v0.16.0"
_TAG = re.compile(r"^v0\.(\d+)\.\d+$")

MANIFESTS_KEY = f"{PROJECT}:kubePrometheus.manifests"
RELEASE_KEY = f"{PROJECT}:kubePrometheus.release"
OVERRIDE_KEY = f"{PROJECT}:kubePrometheus.allowUntestedKubernetes"


@dataclass(frozen=True)
class Release:
    tag: str  # v0.16.0
    tested_on: tuple[str, ...]  # the Kubernetes minors upstream tests it on


def operator_version(kp: KubePrometheus) -> str | None:
    deployment: Manifest | None = next(
        (
            o
            for o in kp.objects
            if o["kind"] == "Deployment" and o["metadata"]["name"] == "prometheus-operator"
        ),
        None,
    )
    labels = ((deployment or {}).get("metadata") or {}).get("labels") or {}
    version = labels.get("app.kubernetes.io/version")
    return str(version) if version is not None else None


def release_line(tag: str) -> str | None:
    match = _TAG.match(tag)
    return f"0.{match.group(1)}" if match else None


def _fitting(minor: str) -> list[str]:
    return [f"release-{line}" for line, minors in TESTED_KUBERNETES.items() if minor in minors]


def identify(settings: Settings, kp: KubePrometheus) -> Release:
    """The release of the manifests in use: known by its operator version, else as
    kubePrometheus.release names it; a stated release must be the one the manifests are."""
    stated = settings.kube_prometheus.release
    operator = operator_version(kp)
    found = OPERATOR_VERSION.get(operator or "")
    if stated and found and stated != found:
        raise SettingsError(
            f"{RELEASE_KEY}: says {stated}, but {kp.root} holds {found}'s manifests "
            f"(prometheus-operator {operator}); point kubePrometheus.manifests at {stated}'s "
            f"manifests/ or set the release to {found}"
        )
    tag = stated or found
    if tag is None:
        raise SettingsError(
            f"{RELEASE_KEY}: {kp.root} is no release this program tells by its manifests "
            f"(prometheus-operator {operator or 'unknown'}; it knows {', '.join(sorted(OPERATOR_VERSION.values()))}); "
            "set kubePrometheus.release to the tag you fetched (e.g. v0.15.0)"
        )
    line = release_line(tag)
    if line is None or line not in TESTED_KUBERNETES:
        known = ", ".join(f"release-{line}" for line in TESTED_KUBERNETES)
        raise SettingsError(
            f"{RELEASE_KEY}: {tag} is not in the compatibility table this program knows ({known}); "
            f"pin one of those (the README's release table), {DEFAULT_RELEASE} for the TKGI releases in support"
        )
    return Release(tag, TESTED_KUBERNETES[line])


def check_fits(settings: Settings, kp: KubePrometheus) -> Release:
    """The release in use, refused if upstream did not test it on the cluster's Kubernetes minor
    (unless the stack accepts the risk with kubePrometheus.allowUntestedKubernetes)."""
    release = identify(settings, kp)
    minor = settings.kubernetes_version
    if minor in release.tested_on or settings.kube_prometheus.allow_untested_kubernetes:
        return release
    fitting = _fitting(minor)
    advice = (
        f"pin a release tested on {minor} ({', '.join(fitting)}; {DEFAULT_RELEASE} for TKGI 1.22/1.23)"
        if fitting
        else f"no release this program knows is tested on {minor}"
    )
    raise SettingsError(
        f"{MANIFESTS_KEY}: kube-prometheus {release.tag} is not tested on Kubernetes "
        f"{minor} (kubernetesVersion; upstream tests it on {release.tested_on[0]}-{release.tested_on[-1]}); {advice}: fetch "
        f"it and point kubePrometheus.manifests at it (README: releases), or set {OVERRIDE_KEY} "
        "to true to run it untested"
    )
