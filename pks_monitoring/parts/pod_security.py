"""Pod security (`podSecurity`): what the stack's pods must satisfy beyond upstream's own
security contexts, and the Pod Security Admission level the namespace enforces.

- Every pod runs with the RuntimeDefault seccomp profile where upstream sets none (the one field
  the `restricted` Pod Security Standard requires that upstream's pods lack: blackbox-exporter's
  pod and two of its containers, and the Prometheus and Alertmanager pods that
  prometheus-operator builds from their resources' spec.securityContext).
- The namespace is labelled for Pod Security Admission (enforce, audit and warn) at `restricted`,
  or at `baseline` with SecurityContextDeny on (see admission_level).
- Compatibility with the SecurityContextDeny admission plugin of older PKS/TKGI plans
  (`podSecurity.securityContextDeny`): the fields it rejects are cut, last.
"""

from __future__ import annotations

from typing import Any, Literal

from pks_monitoring.manifests import Manifest, Transformation
from pks_monitoring.parts.part import Part, StackInputs
from pks_monitoring.settings import Settings
from pks_monitoring.workloads import pod_spec

# What the SecurityContextDeny admission plugin rejects, after its Validate() in
# kubernetes/kubernetes plugin/pkg/admission/securitycontext/scdeny/admission.go: a Pod whose
# spec.securityContext sets supplementalGroups, seLinuxOptions, runAsUser or fsGroup, or one of
# whose containers or initContainers sets securityContext.seLinuxOptions or runAsUser. runAsGroup,
# runAsNonRoot, seccompProfile, capabilities... pass.
_DENIED_IN_POD = ("supplementalGroups", "seLinuxOptions", "runAsUser", "fsGroup")
_DENIED_IN_CONTAINER = ("seLinuxOptions", "runAsUser")
# Pod Security Admission's namespace labels (kubernetes.io/docs/concepts/security/
# pod-security-admission): per mode a level and the Kubernetes minor whose checks apply.
_ADMISSION_PREFIX = "pod-security.kubernetes.io/"
_ADMISSION_MODES = ("enforce", "audit", "warn")
AdmissionLevel = Literal["baseline", "restricted"]


def default_seccomp(obj: Manifest) -> None:
    """The RuntimeDefault seccomp profile for every pod whose spec.securityContext names none
    (containers that set their own keep it). `restricted` requires a RuntimeDefault or Localhost
    profile on the pod or on every container; SecurityContextDeny lets it pass."""
    pod = pod_spec(obj)
    if pod is None:
        return
    if not isinstance(pod.get("securityContext"), dict):
        pod["securityContext"] = {}
    pod["securityContext"].setdefault("seccompProfile", {"type": "RuntimeDefault"})


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
    pod = pod_spec(obj)
    if pod is not None:
        _deny_in_pod(pod)


def admission_level(settings: Settings) -> AdmissionLevel:
    """The Pod Security Standard every pod of the stack satisfies: `restricted`, except under
    SecurityContextDeny, whose cut takes runAsNonRoot with the user it was checked against
    (restricted requires runAsNonRoot: true on the pod or every container); `baseline` holds
    there, as it asks nothing of the fields the cut removes."""
    return "baseline" if settings.pod_security.security_context_deny else "restricted"


def label_namespace(namespace: Manifest, settings: Settings) -> None:
    """The stack's Namespace enforces, audits and warns at admission_level, with the checks of
    the cluster's Kubernetes minor (`v1.NN`: a cluster upgrade does not change them until
    kubernetesVersion does). Replaces upstream's own labels (warn: privileged, for the
    node-exporter DaemonSet this program leaves out)."""
    labels = namespace["metadata"].setdefault("labels", {})
    for key in [k for k in labels if k.startswith(_ADMISSION_PREFIX)]:
        del labels[key]
    level, version = admission_level(settings), f"v{settings.kubernetes_version}"
    for mode in _ADMISSION_MODES:
        labels[f"{_ADMISSION_PREFIX}{mode}"] = level
        labels[f"{_ADMISSION_PREFIX}{mode}-version"] = version


def patches(inputs: StackInputs) -> list[Transformation]:
    # The seccomp default first: the SecurityContextDeny cut keeps it.
    deny = [deny_security_context] if inputs.settings.pod_security.security_context_deny else []
    return [default_seccomp, *deny]


PART = Part("podSecurity", patches)
