"""`podSecurity`: what the stack's pods must satisfy beyond upstream's own security contexts."""

from __future__ import annotations

from pks_monitoring.settings.types import Model


class PodSecuritySettings(Model):
    # Plans of PKS/TKGI <= 1.17 with the SecurityContextDeny admission plugin on (Kubernetes
    # deprecated it in 1.27 and removed it in 1.30): strip what it rejects from every pod.
    security_context_deny: bool = False
