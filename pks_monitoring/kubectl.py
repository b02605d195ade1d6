"""kubectl commands for the stack outputs, safe to paste: every word shell-quoted, and always aimed
at the cluster the stack was built for, never at whatever context kubectl has at the moment."""

from __future__ import annotations

import shlex
from typing import Optional

import yaml

from pks_monitoring.settings.provider import KubernetesTarget

# For a stack whose kubeconfig (a secret) names no current context, or is a path: the command
# says to use that kubeconfig, without printing it.
STACK_KUBECONFIG = '--kubeconfig "$STACK_KUBECONFIG"'


def kubeconfig_context(kubeconfig: str) -> Optional[str]:
    """The current context of a kubeconfig given as its contents; None for a path or a
    kubeconfig without one."""
    try:
        parsed = yaml.safe_load(kubeconfig)
    except yaml.YAMLError:
        return None
    context = parsed.get("current-context") if isinstance(parsed, dict) else None
    return context if isinstance(context, str) and context else None


def kubectl(target: KubernetesTarget, *args: str) -> str:
    """`kubectl <args>` against `target`'s context, as one shell line."""
    context = target.context
    if context is None and target.kubeconfig is not None:
        context = kubeconfig_context(target.kubeconfig.get_secret_value())
    where = f"--context {shlex.quote(context)}" if context else STACK_KUBECONFIG
    return f"kubectl {where} {shlex.join(args)}"
