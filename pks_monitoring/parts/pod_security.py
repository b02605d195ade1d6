"""Pod security (`podSecurity`): what the stack's pods must satisfy beyond upstream's own
security contexts. Today: compatibility with the SecurityContextDeny admission plugin of older
PKS/TKGI plans (`podSecurity.securityContextDeny`)."""

from __future__ import annotations

from typing import Any

from pks_monitoring.manifests import Manifest, Transformation, is_list
from pks_monitoring.parts.part import Part, StackInputs

# What the SecurityContextDeny admission plugin rejects, after its Validate() in
# kubernetes/kubernetes plugin/pkg/admission/securitycontext/scdeny/admission.go: a Pod whose
# spec.securityContext sets supplementalGroups, seLinuxOptions, runAsUser or fsGroup, or one of
# whose containers or initContainers sets securityContext.seLinuxOptions or runAsUser. runAsGroup,
# runAsNonRoot, seccompProfile, capabilities... pass.
_DENIED_IN_POD = ("supplementalGroups", "seLinuxOptions", "runAsUser", "fsGroup")
_DENIED_IN_CONTAINER = ("seLinuxOptions", "runAsUser")
# Kinds whose pods come from spec.template.
_WORKLOADS = {"Deployment", "DaemonSet", "StatefulSet", "ReplicaSet", "Job"}
# prometheus-operator copies these resources' spec.securityContext into the StatefulSet's pod
# spec as it is, and merges spec.containers / initContainers into the containers it generates.
_OPERATED = {"Prometheus", "Alertmanager"}


def _deny_in_pod(pod: dict[str, Any]) -> None:
    """The SecurityContextDeny cut of one pod spec (or Prometheus/Alertmanager spec)."""
    pod_context = pod.get("securityContext")
    pod_user = isinstance(pod_context, dict) and "runAsUser" in pod_context
    lost_user = pod_user
    for container in [*pod.get("initContainers", []), *pod.get("containers", [])]:
        context = container.get("securityContext")
        if not isinstance(context, dict):
            continue
        own_user = "runAsUser" in context
        for field in _DENIED_IN_CONTAINER:
            context.pop(field, None)
        # The kubelet checks runAsNonRoot against runAsUser, else against the image's USER, which
        # it cannot check when that is a name (`USER nobody`: Prometheus, Alertmanager,
        # blackbox-exporter): the container would never start (verifyRunAsNonRoot in
        # pkg/kubelet/kuberuntime/security_context_others.go). Where this cut removes the user a
        # container runs as, the runAsNonRoot check on it goes too; the image's user still applies.
        if own_user or pod_user:
            context.pop("runAsNonRoot", None)
        lost_user = lost_user or own_user
    if isinstance(pod_context, dict):
        for field in _DENIED_IN_POD:
            pod_context.pop(field, None)
        if lost_user:
            pod_context.pop("runAsNonRoot", None)


def deny_security_context(obj: Manifest) -> None:
    """Only what the SecurityContextDeny admission plugin rejects goes, from every pod template
    (Deployment, DaemonSet, StatefulSet, ReplicaSet, Job) and from the Prometheus and
    Alertmanager resources, whose pods prometheus-operator builds from their spec.

    Plus runAsNonRoot where the user it was checked against goes (see _deny_in_pod). Every other
    field, such as runAsGroup, seccompProfile, capabilities and readOnlyRootFilesystem, stays.
    """
    if is_list(obj):
        return
    kind = obj.get("kind")
    if kind in _WORKLOADS:
        pod = ((obj.get("spec") or {}).get("template") or {}).get("spec")
    elif kind in _OPERATED:
        pod = obj.get("spec")
    else:
        return
    if isinstance(pod, dict):
        _deny_in_pod(pod)


def patches(inputs: StackInputs) -> list[Transformation]:
    return [deny_security_context] if inputs.settings.pod_security.security_context_deny else []


PART = Part("podSecurity", patches)
