"""Reading a render diff (pks_monitoring.offline.render.diff) the way a reviewer does."""

from __future__ import annotations


def changed_lines(changes: str) -> list[str]:
    """The removed and added lines of a unified diff, without its file headers."""
    return [line for line in changes.splitlines() if line[:1] in "+-" and not line.startswith(("---", "+++"))]


def changed_files(changes: str) -> list[str]:
    """The files a unified diff changes, in its order."""
    return [line.removeprefix("+++ b/") for line in changes.splitlines() if line.startswith("+++ ")]
