"""kube-prometheus.lock.json: the sha256 of every file of each kube-prometheus release this
program runs, so a manifests directory with one byte changed, one file added (a
ClusterRoleBinding to cluster-admin) or one removed is refused before any resource, and a change
of the pin or of the lock shows in the render (the release's digest is a stack output).

    python -m pks_monitoring.lock RELEASE DIR           # does DIR hold RELEASE as locked?
    python -m pks_monitoring.lock --write RELEASE DIR   # record DIR as RELEASE (an upgrade)

Exit codes: 0 matches (or recorded), 1 differs (the differences on stderr), 2 bad input.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from pks_monitoring.releases import OPERATOR_VERSION, TESTED_KUBERNETES, operator_version, release_line
from pks_monitoring.settings import MANIFESTS_ENV, PROJECT, PROJECT_ROOT, Settings, SettingsError
from pks_monitoring.upstream import KubePrometheus

LOCK_FILE = PROJECT_ROOT / "kube-prometheus.lock.json"
KEY = f"{PROJECT}:kubePrometheus.manifests"
# The file names a refusal lists before "and N more": enough to see what kind of change it is.
_NAMED = 3

# release -> {"digest": "sha256:...", "files": {path under manifests/: sha256 hex}}
Lock = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Locked:
    """A manifests directory that holds exactly what the lock records for `release`."""

    root: Path
    release: str
    digest: str


def file_digests(root: Path) -> dict[str, str]:
    """Every file under root (path relative to it, `/`-separated) -> its sha256. Symlinked
    directories are not followed: what they hold is missing, so refused, not trusted."""
    digests = {}
    for folder, _, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            digests[path.relative_to(root).as_posix()] = hashlib.sha256(path.read_bytes()).hexdigest()
    return digests


def set_digest(files: dict[str, str]) -> str:
    """One digest for the whole set: the sha256 of its `sha256sum` listing, sorted by path, so
    `(cd manifests && find . -type f -printf '%P\\n' | LC_ALL=C sort | xargs sha256sum) | sha256sum`
    gives the same hex."""
    listing = "".join(f"{files[path]}  {path}\n" for path in sorted(files))
    return "sha256:" + hashlib.sha256(listing.encode()).hexdigest()


def read_lock(path: Path = LOCK_FILE) -> Lock:
    return dict(json.loads(path.read_text())) if path.is_file() else {}


def write_lock(lock: Lock, path: Path = LOCK_FILE) -> None:
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")


def entry(files: dict[str, str]) -> dict[str, Any]:
    return {"digest": set_digest(files), "files": dict(sorted(files.items()))}


def differences(found: dict[str, str], locked: dict[str, str]) -> list[str]:
    """What makes `found` another set of files than `locked`, one phrase per file."""
    changed = [f"changed {p}" for p in sorted(set(found) & set(locked)) if found[p] != locked[p]]
    extra = [f"extra {p}" for p in sorted(set(found) - set(locked))]
    missing = [f"missing {p}" for p in sorted(set(locked) - set(found))]
    return changed + extra + missing


def _listed(phrases: list[str]) -> str:
    more = f" and {len(phrases) - _NAMED} more" if len(phrases) > _NAMED else ""
    return ", ".join(phrases[:_NAMED]) + more


def _closest(found: dict[str, str], lock: Lock) -> Optional[str]:
    """The locked release sharing the most identical files with `found` (the one a modified
    copy was made from), or None when it shares none."""
    shared = {
        release: sum(found.get(p) == d for p, d in locked["files"].items())
        for release, locked in lock.items()
    }
    best = max(shared, key=lambda release: shared[release], default=None)
    return best if best is not None and shared[best] else None


def verify(root: Path, release: Optional[str], lock: Lock) -> Locked:
    """root as the lock records `release` (or, unnamed, the release whose files it holds);
    a SettingsError naming every difference otherwise."""
    found = file_digests(root)
    known = ", ".join(sorted(lock)) or "none"
    if release is not None and release not in lock:
        raise SettingsError(
            f"{KEY}: kube-prometheus {release} (kubePrometheus.release) is not in "
            f"{LOCK_FILE.name} (it records {known}); pin one of those, or record it with "
            f"`python -m pks_monitoring.lock --write {release} {root}` (README: upgrading kube-prometheus)"
        )
    digest = set_digest(found)
    claimed = (
        release or next((r for r, e in lock.items() if e["digest"] == digest), None) or _closest(found, lock)
    )
    if claimed is None:
        raise SettingsError(
            f"{KEY}: {root} holds none of the kube-prometheus releases {LOCK_FILE.name} records "
            f"({known}); point it at one of their unmodified manifests/ (README: releases)"
        )
    wrong = differences(found, lock[claimed]["files"])
    if wrong:
        raise SettingsError(
            f"{KEY}: {root} is not kube-prometheus {claimed} as {LOCK_FILE.name} records it "
            f"({_listed(wrong)}); point it at an unmodified {claimed} manifests/ (git clone --branch "
            f"{claimed}), or record a new release with `python -m pks_monitoring.lock --write` "
            "(README: upgrading kube-prometheus)"
        )
    return Locked(root, claimed, digest)


def pinned(settings: Settings, lock: Optional[Lock] = None) -> Locked:
    """The manifests the stack pins, verified against the lock. KUBE_PROMETHEUS_MANIFESTS only
    relocates them (CI fetches the release elsewhere): it must hold the very release the stack
    pins, which the stack names (kubePrometheus.release) or its own path holds."""
    lock = read_lock() if lock is None else lock
    config = settings.kube_prometheus
    stack_dir = config.stack_manifests_dir()
    relocated = config.relocated_manifests_dir()
    if relocated is None:
        return verify(stack_dir, config.release, lock)
    # Where the stack's own path is there too (a copy committed beside the stack file), it is
    # what `pulumi up` would read: it must be the locked release as well.
    release = verify(stack_dir, config.release, lock).release if stack_dir.is_dir() else config.release
    if release is None:
        raise SettingsError(
            f"{KEY}: {MANIFESTS_ENV} can only relocate a release the stack names: set "
            f"kubePrometheus.release (as Pulumi.yaml does) or unset {MANIFESTS_ENV}"
        )
    found = verify(relocated, None, lock)
    if found.release != release:
        raise SettingsError(
            f"{KEY}: {MANIFESTS_ENV}={relocated} holds kube-prometheus {found.release}, but the "
            f"stack pins {release}; unset {MANIFESTS_ENV} or point it at {release}'s manifests/ "
            "(it relocates the pinned release, never replaces it)"
        )
    return found


def record(release: str, root: Path, lock: Lock) -> Lock:
    """The lock with root recorded as `release`, if the program can run it: a tag of its
    compatibility table, the operator version it tells that tag by, every object it builds on."""
    line = release_line(release)
    if line is None or line not in TESTED_KUBERNETES:
        raise SettingsError(
            f"{KEY}: {release} is no release of the compatibility table this program knows "
            f"(release-{', release-'.join(TESTED_KUBERNETES)}); add its line to "
            "pks_monitoring/releases.py TESTED_KUBERNETES first"
        )
    kp = KubePrometheus.open(root)
    told = OPERATOR_VERSION.get(operator_version(kp) or "")
    if told not in (None, release):
        raise SettingsError(f"{KEY}: {root} holds {told}'s manifests, not {release}'s; fetch {release}")
    return {**lock, release: entry(file_digests(root))}


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pks_monitoring.lock", description=__doc__.split("\n")[0])
    parser.add_argument("release", help="the kube-prometheus tag, e.g. v0.16.0")
    parser.add_argument("manifests", type=Path, help="its manifests/ directory")
    parser.add_argument("--write", action="store_true", help=f"record it in {LOCK_FILE.name}")
    parser.add_argument("--lock", type=Path, default=LOCK_FILE, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    root = args.manifests.resolve()
    if not root.is_dir():
        print(f"error: {args.manifests} is not a directory; give the release's manifests/", file=sys.stderr)
        return 2
    lock = read_lock(args.lock)
    try:
        if args.write:
            lock = record(args.release, root, lock)
            write_lock(lock, args.lock)
            print(f"{args.lock.name}: {args.release} {lock[args.release]['digest']}")
            return 0
        if args.release not in lock:
            print(
                f"error: {args.release} is not in {args.lock.name}; record it with --write", file=sys.stderr
            )
            return 2
        locked = verify(root, args.release, lock)
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1 if not args.write else 2
    print(f"{args.release}: matches {args.lock.name} ({locked.digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
