"""Files the program reads from the repository's own folders (`dashboards/`, `rules/`): regular
files only, of a bounded size, every problem one SettingsError line naming the file."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from pks_monitoring.settings import PROJECT_ROOT, SettingsError


def shown(path: Path) -> str:
    """The path as operators see it: relative to the project when it is inside it (the folder
    resolved, not the file: a symlink is shown as itself, never as what it points to), quoted
    when it holds a newline or another unprintable character, so the error stays one line."""
    try:
        text = str((path.parent.resolve() / path.name).relative_to(PROJECT_ROOT))
    except ValueError:
        text = str(path)
    return text if text.isprintable() else repr(text)


def folder_files(directory: Path, suffix: str, what: str) -> list[Path]:
    """Every entry directly in `directory` whose name ends with `suffix`, sorted; none when there
    is no such folder. A folder that is a symlink is refused: its files would be files from
    elsewhere. `what`: what the folder holds, for the error line."""
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise SettingsError(
            f"{shown(directory)}: not a folder (a symlink or a file); keep the {what} in a real folder"
        )
    if not directory.exists():
        return []
    return sorted(path for path in directory.iterdir() if path.name.endswith(suffix))


def read_bytes(path: Path, *, limit: int, fix: str, too_big: str) -> bytes:
    """The file's bytes, if it is a regular file (not a symlink, even to a file inside the
    folder: a committed link could publish any file of the machine that renders) of at most
    `limit` bytes. Its size is checked before reading, on the file opened: `/dev/zero` or a
    50 MB file is never read. `fix`: what to keep in the folder; `too_big`: why the limit and
    what to do, after the size in the error line."""
    where = shown(path)

    def over(size: int) -> SettingsError:
        return SettingsError(f"{where}: {size} bytes, {too_big}")

    try:
        # O_NOFOLLOW: a symlink is refused by the open itself; O_NONBLOCK: a fifo does not block.
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as error:
        kind = "a symlink" if path.is_symlink() else f"not readable ({error.strerror})"
        raise SettingsError(f"{where}: {kind}; {fix}") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise SettingsError(f"{where}: not a regular file; {fix}")
        if status.st_size > limit:
            raise over(status.st_size)
        raw = b""
        while chunk := os.read(fd, limit + 1 - len(raw)):  # it may have grown
            raw += chunk
            if len(raw) > limit:
                raise over(len(raw))
    finally:
        os.close(fd)
    return raw
