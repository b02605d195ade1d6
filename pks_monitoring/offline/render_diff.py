"""What a change does to every cluster: the offline render of each stack, before and after.

    python -m pks_monitoring.offline.render_diff BASE HEAD OUT [--repo DIR] [--base-manifests DIR] [--head-manifests DIR]

Each revision's tracked files are exported (`git archive`, nothing is checked out in DIR) into a
temporary directory, and every `Pulumi.<stack>.yaml` there is rendered by that revision's own code
(`python -m pks_monitoring.offline.render`, with this interpreter). Writes:

- OUT/base/<stack>/, OUT/head/<stack>/: the renders;
- OUT/diff.md: warnings (data-bearing objects deleted, the BOSH side changed), a table of each
  stack's headline ("1 added, 1 changed (spec.replicas)"), and a section per stack with its table
  of changed objects and files and its unified diff (folded when long), or "no changes";
- OUT/comment.md: the same, with the diffs that do not fit a PR comment left to OUT/diff.md.

OUT must be new, empty or an earlier OUT (it holds RENDER_MARK). A revision holding a symbolic
link, or a stack file whose name is not a Pulumi stack name, is refused.

The temporary checkouts have no `../shared` beside them, so a relative manifests path in a stack
file finds nothing there: set KUBE_PROMETHEUS_MANIFESTS (both revisions), or --base-manifests and
--head-manifests when the two pin different kube-prometheus releases (an upgrade).
Exit codes: 0 diff written (changed or not), 1 a render failed (named in diff.md and on stderr),
2 bad input (unknown revision, not a git repository, a refused revision or OUT).
"""

from __future__ import annotations

import argparse
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from pks_monitoring.offline.changes import FileChange, headline, object_rows, warnings
from pks_monitoring.offline.render import RENDER_MARK, compare, diff, out_refusal
from pks_monitoring.settings import MANIFESTS_ENV

MARKER = "<!-- pks-monitoring:render-diff -->"
# GitHub refuses comments over 65,536 characters; leave room for the workflow's own lines.
COMMENT_LIMIT = 60_000
SIDES = ("base", "head")
# A stack's diff and its table of files stay open up to these lengths, and fold beyond them.
OPEN_LINES = 40
OPEN_ROWS = 20
# Pulumi's rule for stack names; a name from a file name becomes a folder of OUT.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class StackDiff:
    stack: str
    text: str = ""  # the unified diff, empty when the renders are identical
    only_in: Optional[str] = None  # "base" or "head" for a stack added or removed by the change
    error: Optional[str] = None  # why a render failed
    changes: tuple[FileChange, ...] = ()  # what the diff changes, file by file

    def summary(self) -> str:
        if self.error:
            return "**render failed**"
        if not self.text:
            return "no changes"
        status = {"head": "new stack, ", "base": "stack removed, "}.get(self.only_in or "", "")
        return status + headline(list(self.changes))

    def section(self, with_diff: bool = True) -> str:
        lines = [f"### {self.stack}", ""]
        if self.error:
            lines += ["Render failed:", "", f"    {self.error}"]
        elif not self.text:
            lines.append("no changes")
        else:
            lines += [self.summary(), ""]
            files = object_rows(list(self.changes))
            rows = [
                "| object or file | change | changed fields |",
                "| --- | --- | --- |",
                *[f"| {_cell(what)} | {status} | {_cell(fields)} |" for what, status, fields in files],
            ]
            lines += _collapsed(f"{len(files)} objects and files", rows, len(files) > OPEN_ROWS)
            lines.append("")
            length = self.text.count("\n")
            if with_diff:
                fence = "`" * max(3, _longest_backtick_run(self.text) + 1)
                body = [f"{fence}diff", self.text.rstrip("\n"), fence]
                lines += _collapsed(f"Unified diff ({length} lines)", body, length > OPEN_LINES)
            else:
                lines.append(
                    f"The diff ({length} lines) is too long for a comment: "
                    "see diff.md in the render-diff artifact."
                )
        return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text in a markdown table cell, as code: a `|` would end the cell."""
    escaped = text.replace("|", "\\|")
    return f"`{escaped}`" if text else ""


def _collapsed(summary: str, body: list[str], collapse: bool) -> list[str]:
    """Markdown lines, folded under `summary` when long (a PR comment reader opens what they need)."""
    if not collapse:
        return body
    return [f"<details><summary>{summary}</summary>", "", *body, "", "</details>"]


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in re.findall(r"`+", text)), default=0)


def report(base: str, head: str, stacks: list[StackDiff], limit: Optional[int] = None) -> str:
    """The markdown of diff.md, or with `limit` of comment.md: what to read first (data deleted,
    the BOSH side changed), every stack's summary line, and diffs left out (largest first) until
    the text fits."""
    called_out = [f"> - **{s.stack}**: {line}" for s in stacks for line in warnings(list(s.changes))]
    header = [
        MARKER,
        f"## Offline render: `{base}` → `{head}`",
        "",
        *(["> [!WARNING]", *called_out, ""] if called_out else []),
        "| stack | change |",
        "| --- | --- |",
        *[f"| {s.stack} | {s.summary()} |" for s in stacks],
        "",
    ]
    with_diff = {s.stack for s in stacks}

    def text() -> str:
        return "\n".join(header) + "\n" + "\n".join(s.section(s.stack in with_diff) for s in stacks)

    for stack in sorted(stacks, key=lambda s: len(s.text), reverse=True):
        if limit is None or len(text()) <= limit:
            break
        with_diff.discard(stack.stack)
    return text()


def resolve(repo: Path, revision: str) -> str:
    """The commit a revision names, or a one-line error for exit code 2."""
    result = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise ValueError(f"{revision!r} is not a commit in {repo}")
    return result.stdout.strip()


def export(repo: Path, commit: str, target: Path) -> None:
    """The commit's tracked files, as `git archive` gives them: no worktree to clean up in repo."""
    archive = subprocess.run(
        ["git", "-C", str(repo), "archive", "--format=tar", commit], capture_output=True, check=True
    )
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        # A committed link would render what it points to (any file of the runner), not the commit.
        links = [member.name for member in tar.getmembers() if member.issym() or member.islnk()]
        if links:
            raise ValueError(
                f"{commit[:12]} has symbolic links ({', '.join(links)}): commit the files themselves"
            )
        tar.extractall(target, filter="data")


# The stack of tools/local-stack.sh's loopback cluster, not a cluster's: its secret is set on each
# machine (never in the file), so it neither renders offline nor has a preview job.
LOCAL_STACK = "local"


def stacks_in(checkout: Path) -> dict[str, Path]:
    """Stack name -> its Pulumi.<stack>.yaml, for every cluster stack file of a checkout; a name
    that Pulumi would refuse (and that could name a folder outside OUT) is a ValueError."""
    stacks = {p.name[len("Pulumi.") : -len(".yaml")]: p for p in sorted(checkout.glob("Pulumi.*.yaml"))}
    for name, path in stacks.items():
        if not STACK_NAME.fullmatch(name) or ".." in name:
            raise ValueError(
                f"{path.name}: {name!r} is not a stack name (letters, digits, '-', '_', '.', no '..')"
            )
    return {name: path for name, path in stacks.items() if name != LOCAL_STACK}


def render_module(checkout: Path) -> str:
    """The render of a checkout: `pks_monitoring.offline.render`, or `tools.render` in the
    revisions before the package layout (so a diff across that change still renders both)."""
    if (checkout / "pks_monitoring" / "offline" / "render.py").is_file():
        return "pks_monitoring.offline.render"
    return "tools.render"


def render_stack(checkout: Path, stack_file: Path, out: Path, manifests: Optional[Path]) -> Optional[str]:
    """Renders one stack with the checkout's own code; the failure's last line, or None."""
    env = dict(os.environ)
    if manifests is not None:
        env[MANIFESTS_ENV] = str(manifests)
    result = subprocess.run(
        [sys.executable, "-m", render_module(checkout), "--config", str(stack_file), "--out", str(out)],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode == 0:
        return None
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    return lines[-1] if lines else f"exit code {result.returncode}"


def render_diff(
    repo: Path, base: str, head: str, out: Path, manifests: dict[str, Optional[Path]]
) -> list[StackDiff]:
    commits = {"base": resolve(repo, base), "head": resolve(repo, head)}
    refusal = out_refusal(out, flag="OUT")
    if refusal:
        raise ValueError(refusal)
    out.mkdir(parents=True, exist_ok=True)
    (out / RENDER_MARK).write_text("A render diff: the next one replaces base/ and head/.\n")
    for side in SIDES:
        # A render left from an earlier run would stand in for a stack this revision lacks.
        shutil.rmtree(out / side, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="render-diff-") as tmp:
        checkouts: dict[str, dict[str, Path]] = {}
        for side in SIDES:
            checkout = Path(tmp) / side
            export(repo, commits[side], checkout)
            checkouts[side] = stacks_in(checkout)
        jobs = [(side, stack) for side in SIDES for stack in checkouts[side]]

        def run(job: tuple[str, str]) -> Optional[str]:
            side, stack = job
            return render_stack(Path(tmp) / side, checkouts[side][stack], out / side / stack, manifests[side])

        # One render per core: each is a separate interpreter running the whole program.
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            errors = dict(zip(jobs, pool.map(run, jobs)))
    results = []
    for stack in sorted(set(checkouts["base"]) | set(checkouts["head"])):
        only = [side for side in SIDES if stack in checkouts[side]]
        failed = [f"{side}: {errors[side, stack]}" for side in only if errors[side, stack]]
        if failed:
            results.append(StackDiff(stack, error="; ".join(failed)))
            continue
        old, new = out / "base" / stack, out / "head" / stack
        only_in = only[0] if len(only) == 1 else None
        results.append(StackDiff(stack, diff(old, new), only_in, changes=tuple(compare(old, new))))
    return results


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pks_monitoring.offline.render_diff", description=__doc__.split("\n")[0]
    )
    parser.add_argument("base", help="revision before the change (e.g. the PR's base commit)")
    parser.add_argument("head", help="revision after the change")
    parser.add_argument("out", type=Path, help="directory for the renders, diff.md and comment.md")
    parser.add_argument("--repo", type=Path, default=Path.cwd(), help="git repository (default: .)")
    for side in SIDES:
        parser.add_argument(
            f"--{side}-manifests",
            type=Path,
            metavar="DIR",
            help=f"kube-prometheus manifests/ for the {side} revision (default: ${MANIFESTS_ENV})",
        )
    args = parser.parse_args(argv)

    default = os.environ.get(MANIFESTS_ENV)
    manifests = {}
    for side in SIDES:
        given = getattr(args, f"{side}_manifests") or (Path(default) if default else None)
        # The renders run in temporary checkouts: a relative path means the caller's directory.
        manifests[side] = given.resolve() if given else None
    try:
        stacks = render_diff(args.repo.resolve(), args.base, args.head, args.out.resolve(), manifests)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    (args.out / "diff.md").write_text(report(args.base, args.head, stacks))
    (args.out / "comment.md").write_text(report(args.base, args.head, stacks, COMMENT_LIMIT))
    for stack in stacks:
        if stack.error:
            print(f"{stack.stack}: render failed: {stack.error}", file=sys.stderr)
        else:
            print(f"{stack.stack}: {stack.summary()}")
    return 1 if any(s.error for s in stacks) else 0


if __name__ == "__main__":
    sys.exit(main())
