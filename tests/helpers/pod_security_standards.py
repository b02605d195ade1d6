"""The Pod Security Standards' checks for one pod spec, written from the Kubernetes page
(kubernetes.io/docs/concepts/security/pod-security-standards, "Baseline" and "Restricted"),
independently of the program's patches: what the API server's Pod Security Admission refuses at
`enforce: baseline` or `enforce: restricted`.

`violations(pod, level)` lists what breaks the level, as `where: what` strings (empty: allowed).
"Containers" means containers, initContainers and ephemeralContainers, as on the page.
"""

from __future__ import annotations

from typing import Any

# Baseline: "Adding additional capabilities beyond those listed below must be disallowed."
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD",
    "NET_BIND_SERVICE", "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
}  # fmt: skip
# Baseline, Sysctls: the "safe" subset.
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}  # fmt: skip
SELINUX_TYPES = {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}
# Restricted, Volume Types: "only the following volume types".
RESTRICTED_VOLUMES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}  # fmt: skip
APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/"
LEVELS = ("privileged", "baseline", "restricted")


def _containers(pod: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{part}/{c.get('name')}", c)
        for part in ("initContainers", "containers", "ephemeralContainers")
        for c in pod.get(part) or []
    ]


def _context(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("securityContext") or {}


def baseline(pod: dict[str, Any], annotations: dict[str, str] | None = None) -> list[str]:
    found: list[str] = []
    pod_context = _context(pod)
    contexts = [("pod", pod_context)] + [(w, _context(c)) for w, c in _containers(pod)]
    for where, context in contexts:
        if (context.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{where}: windowsOptions.hostProcess")
        selinux = context.get("seLinuxOptions") or {}
        if selinux.get("type", "") not in SELINUX_TYPES or selinux.get("user") or selinux.get("role"):
            found.append(f"{where}: seLinuxOptions {selinux}")
        if (context.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{where}: seccompProfile Unconfined")
        apparmor = (context.get("appArmorProfile") or {}).get("type")
        if apparmor not in (None, "RuntimeDefault", "Localhost"):
            found.append(f"{where}: appArmorProfile {apparmor}")
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if pod.get(field):
            found.append(f"pod: {field}")
    for where, container in _containers(pod):
        context = _context(container)
        if context.get("privileged"):
            found.append(f"{where}: privileged")
        added = set((context.get("capabilities") or {}).get("add") or []) - BASELINE_CAPABILITIES
        if added:
            found.append(f"{where}: capabilities.add {sorted(added)}")
        if context.get("procMount", "Default") != "Default":
            found.append(f"{where}: procMount {context['procMount']}")
        for port in container.get("ports") or []:
            if port.get("hostPort"):
                found.append(f"{where}: hostPort {port['hostPort']}")
    for volume in pod.get("volumes") or []:
        if "hostPath" in volume:
            found.append(f"volumes/{volume.get('name')}: hostPath")
    for sysctl in pod_context.get("sysctls") or []:
        if sysctl.get("name") not in SAFE_SYSCTLS:
            found.append(f"pod: sysctl {sysctl.get('name')}")
    for key, value in (annotations or {}).items():
        if key.startswith(APPARMOR_ANNOTATION) and not (
            value in ("", "runtime/default") or value.startswith("localhost/")
        ):
            found.append(f"annotation {key}: {value}")
    return found


def restricted(pod: dict[str, Any], annotations: dict[str, str] | None = None) -> list[str]:
    found = baseline(pod, annotations)
    pod_context = _context(pod)
    pod_non_root = pod_context.get("runAsNonRoot") is True
    pod_seccomp = (pod_context.get("seccompProfile") or {}).get("type") in ("RuntimeDefault", "Localhost")
    if pod_context.get("runAsUser") == 0:
        found.append("pod: runAsUser 0")
    if pod_context.get("runAsNonRoot") is False:
        found.append("pod: runAsNonRoot false")
    for volume in pod.get("volumes") or []:
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volumes/{volume.get('name')}: {sorted(kinds - RESTRICTED_VOLUMES)}")
    for where, container in _containers(pod):
        context = _context(container)
        if context.get("allowPrivilegeEscalation") is not False:
            found.append(f"{where}: allowPrivilegeEscalation is not false")
        non_root = context.get("runAsNonRoot")
        if non_root is False or (non_root is None and not pod_non_root):
            found.append(f"{where}: runAsNonRoot is not true (here or on the pod)")
        if context.get("runAsUser") == 0:
            found.append(f"{where}: runAsUser 0")
        seccomp = (context.get("seccompProfile") or {}).get("type")
        if (seccomp is None and not pod_seccomp) or seccomp not in (None, "RuntimeDefault", "Localhost"):
            found.append(f"{where}: seccompProfile RuntimeDefault/Localhost not set (here or on the pod)")
        capabilities = context.get("capabilities") or {}
        if "ALL" not in (capabilities.get("drop") or []):
            found.append(f"{where}: capabilities.drop lacks ALL")
        if set(capabilities.get("add") or []) - {"NET_BIND_SERVICE"}:
            found.append(f"{where}: capabilities.add beyond NET_BIND_SERVICE")
    return found


def violations(pod: dict[str, Any], level: str, annotations: dict[str, str] | None = None) -> list[str]:
    """What in `pod` (a pod spec) the Pod Security Standard `level` refuses."""
    if level == "restricted":
        return restricted(pod, annotations)
    if level == "baseline":
        return baseline(pod, annotations)
    assert level == "privileged", level
    return []
