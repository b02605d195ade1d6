"""pks_monitoring/offline/render_diff.py, the PR workflow's render-diff job, run as the workflow runs it against
commits of a temporary copy of this repository."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pks_monitoring.offline.changes import FileChange
from pks_monitoring.offline.render import RENDER_MARK
from pks_monitoring.offline.render_diff import MARKER, OPEN_LINES, OPEN_ROWS, StackDiff, report
from pks_monitoring.settings import MANIFESTS_ENV, PROJECT_ROOT
from tests.helpers.settings import PINNED_RELEASE, RELEASE

# Whole-program runs, renders or real tools: left out of `pytest -m "not slow"`.
pytestmark = pytest.mark.slow

# Only git's own defaults: no user config (signing, hooks, templates) may change the commits.
GIT_ENV = {
    "GIT_CONFIG_GLOBAL": os.devnull,
    "GIT_CONFIG_NOSYSTEM": "1",
    "GIT_AUTHOR_NAME": "test",
    "GIT_AUTHOR_EMAIL": "test@example.invalid",
    "GIT_COMMITTER_NAME": "test",
    "GIT_COMMITTER_EMAIL": "test@example.invalid",
}


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(
        ["git", "-C", str(repo), *args],
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


def commit(repo: Path, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def set_replicas(stack_file: Path, replicas: int) -> None:
    """Sets dev's Prometheus replicas as `pulumi config set` would (whether the file sets them
    yet or not)."""
    settings = yaml.safe_load(stack_file.read_text())
    settings["config"]["pks-monitoring:prometheus"] = {"replicas": replicas}
    stack_file.write_text(yaml.safe_dump(settings, sort_keys=False))


def link_folder(folder: Path, target: str) -> None:
    shutil.rmtree(folder)
    folder.symlink_to(target, target_is_directory=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A copy of this repository's files (what `git add -A` would commit) with three commits:
    as it is; dev's Prometheus at 2 replicas; dev broken (0 replicas) and prod-east removed; then
    one commit on "broken" per thing render_diff refuses."""
    root = tmp_path_factory.mktemp("repo")
    listed = git(PROJECT_ROOT, "ls-files", "--cached", "--others", "--exclude-standard").splitlines()
    for name in listed:
        if (PROJECT_ROOT / name).is_file():
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(PROJECT_ROOT / name, root / name)
    assert (root / "Pulumi.prod-east.yaml").is_file()
    # The stacks pin the release under test (PKS_TEST_RELEASE), which the relocation then holds.
    project = root / "Pulumi.yaml"
    project.write_text(project.read_text().replace(f"release: {PINNED_RELEASE}", f"release: {RELEASE}"))
    git(root, "init", "-q")
    commits = {"as is": commit(root, "as is")}
    set_replicas(root / "Pulumi.dev.yaml", 2)
    commits["replicas"] = commit(root, "dev: two Prometheus replicas")
    set_replicas(root / "Pulumi.dev.yaml", 0)
    (root / "Pulumi.prod-east.yaml").unlink()
    commits["broken"] = commit(root, "dev: zero replicas; prod-east gone")
    # What no revision may hold: each on its own commit, and gone again after it.
    hostile = {
        "linked stack": lambda: (root / "Pulumi.x.yaml").symlink_to("/etc/passwd"),
        "linked folder": lambda: link_folder(root / "dashboards", "/etc"),
        "stack named ..": lambda: shutil.copy2(root / "Pulumi.dev.yaml", root / "Pulumi....yaml"),
        "stack named a b": lambda: shutil.copy2(root / "Pulumi.dev.yaml", root / "Pulumi.a b.yaml"),
    }
    for name, make in hostile.items():
        make()
        commits[name] = commit(root, name)
        git(root, "reset", "-q", "--hard", commits["broken"])
    return root, commits


def render_diff(repo_dir: Path, base: str, head: str, out: Path, manifests_dir: Path):
    """The workflow's command line, from this checkout (the head's tools), nothing else set."""
    env = {k: v for k, v in os.environ.items() if k != MANIFESTS_ENV}
    # The temporary repository has no ../shared beside it: the release comes in absolute.
    env[MANIFESTS_ENV] = str(manifests_dir.resolve())
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pks_monitoring.offline.render_diff",
            "--repo",
            str(repo_dir),
            base,
            head,
            str(out),
        ],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def section(markdown: str, stack: str) -> str:
    match = re.search(rf"^### {re.escape(stack)}\n(.*?)(?=^### |\Z)", markdown, re.MULTILINE | re.DOTALL)
    assert match, f"no section for {stack} in:\n{markdown}"
    return match.group(1)


def changed_lines(diff_section: str) -> list[str]:
    return [
        line
        for line in diff_section.splitlines()
        if line[:1] in ("+", "-") and not line.startswith(("+++ ", "--- "))
    ]


def file_diff(diff_section: str, name: str) -> str:
    """The part of a stack's diff about one file."""
    match = re.search(
        rf"^--- a/{re.escape(name)}\n(.*?)(?=^--- a/|^```)", diff_section, re.MULTILINE | re.DOTALL
    )
    assert match, f"no diff of {name} in:\n{diff_section}"
    return match.group(1)


def test_replicas_change_shows_only_in_dev_prometheus_and_its_budget(repo, manifests_dir, tmp_path):
    root, commits = repo
    out = tmp_path / "out"
    result = render_diff(root, commits["as is"], commits["replicas"], out, manifests_dir)
    assert result.returncode == 0, result.stderr
    markdown = (out / "diff.md").read_text()
    assert markdown.startswith(MARKER + "\n")
    # What changed leads, before any diff text.
    assert (
        "| dev | 1 added, 1 changed (spec.replicas) |" in markdown
        and "| prod-east | no changes |" in markdown
    )
    assert markdown.index("1 changed (spec.replicas)") < min(
        markdown.index("```diff"), markdown.index("--- a/")
    )
    assert "[!WARNING]" not in markdown

    dev = section(markdown, "dev")
    prometheus, budget = (
        "k8s/monitoring/Prometheus_k8s.yaml",
        "k8s/monitoring/PodDisruptionBudget_prometheus-k8s.yaml",
    )
    assert dev.index("| `Prometheus monitoring/k8s` | changed | `spec.replicas` |") < dev.index("```diff")
    assert "| `PodDisruptionBudget monitoring/prometheus-k8s` | added |  |" in dev
    assert changed_lines(file_diff(dev, prometheus)) == ['-    "replicas": 1,', '+    "replicas": 2,']
    # Two replicas bring upstream's disruption budget back: a new file, every line added.
    added = changed_lines(file_diff(dev, budget))
    assert added and all(line.startswith("+") for line in added) and '+    "minAvailable": 1,' in added
    assert section(markdown, "prod-east").strip() == "no changes"
    # Small enough for a PR comment: the comment is the whole report.
    assert (out / "comment.md").read_text() == markdown
    # The renders stay for the artifact, one per side and stack.
    for side in ("base", "head"):
        for stack in ("dev", "prod-east"):
            assert (out / side / stack / "k8s/monitoring/Prometheus_k8s.yaml").is_file()
    # Nothing was checked out in the repository itself.
    assert git(root, "worktree", "list").count("\n") == 0 and git(root, "status", "--porcelain") == ""


def test_failed_render_is_named_and_exits_1(repo, manifests_dir, tmp_path):
    root, commits = repo
    out = tmp_path / "out"
    result = render_diff(root, commits["broken"], commits["broken"], out, manifests_dir)
    assert result.returncode == 1
    error = "error: pks-monitoring:prometheus.replicas: Input should be greater than or equal to 1 (got 0)"
    assert result.stderr == f"dev: render failed: base: {error}; head: {error}\n"
    markdown = (out / "diff.md").read_text()
    assert "| dev | **render failed** |" in markdown
    assert f"    base: {error}; head: {error}\n" in section(markdown, "dev")
    assert "prod-east" not in markdown  # in neither revision


def test_unknown_revision_is_bad_input(repo, manifests_dir, tmp_path):
    root, commits = repo
    result = render_diff(root, "no-such-revision", commits["as is"], tmp_path / "out", manifests_dir)
    assert result.returncode == 2
    assert result.stderr == f"error: 'no-such-revision' is not a commit in {root.resolve()}\n"


def test_stack_added_or_removed_by_the_change():
    text = "--- a/outputs.json\n+++ b/outputs.json\n+{}\n"
    added = (FileChange("outputs.json", "added"),)
    assert StackDiff("new", text, only_in="head", changes=added).summary() == "new stack, outputs.json added"
    removed = (FileChange("outputs.json", "removed"),)
    assert (
        StackDiff("old", text.replace("+{}", "-{}"), only_in="base", changes=removed).summary()
        == "stack removed, outputs.json removed"
    )


def test_comment_leaves_out_the_largest_diffs_first():
    big = StackDiff("big", "--- a/x\n+++ b/x\n" + "+line\n" * 5000, changes=(FileChange("x", "changed"),))
    small = StackDiff("small", "--- a/y\n+++ b/y\n-1\n+2\n", changes=(FileChange("y", "changed"),))
    same = StackDiff("same")
    full = report("base", "head", [big, small, same])
    assert "+line" in full and len(full) > 20_000
    comment = report("base", "head", [big, small, same], limit=20_000)
    assert len(comment) <= 20_000
    assert "+line" not in comment and "The diff (5002 lines) is too long for a comment" in comment
    assert "-1\n+2\n" in comment  # the small diff still fits
    assert "| big | x changed |" in comment and "| same | no changes |" in comment
    # Even without its diff, a stack keeps its table of files.
    assert "| `x` | changed |  |" in section(comment, "big")


def test_long_diff_is_collapsed_under_its_table():
    lines = "".join(f"+{i}\n" for i in range(OPEN_LINES + 1))
    long = StackDiff("s", "--- a/x\n+++ b/x\n" + lines, changes=(FileChange("x", "changed"),)).section()
    table, details = long.index("| `x` | changed |"), long.index("<details><summary>Unified diff (")
    assert table < details < long.index("```diff") and long.rstrip().endswith("</details>")
    short = StackDiff("s", "--- a/x\n+++ b/x\n+1\n", changes=(FileChange("x", "changed"),)).section()
    assert "<details>" not in short and "```diff" in short
    many = tuple(FileChange(f"k8s/monitoring/ConfigMap_{i}.yaml", "added") for i in range(OPEN_ROWS + 1))
    folded = StackDiff("s", "--- a/x\n+++ b/x\n+1\n", changes=many).section()
    assert f"<details><summary>{OPEN_ROWS + 1} objects and files</summary>" in folded
    assert folded.index("</details>") < folded.index("```diff")


def test_data_lost_and_bosh_changes_are_called_out_before_the_table():
    namespace = FileChange("k8s/_cluster/Namespace_monitoring.yaml", "removed")
    runtime = FileChange("bosh/runtime-config.yaml", "changed", ("addons[0].jobs",))
    stacks = [
        StackDiff("dev", "--- a/k8s/_cluster/Namespace_monitoring.yaml\n", changes=(namespace,)),
        StackDiff("prod-east", "--- a/bosh/runtime-config.yaml\n", changes=(runtime,)),
        StackDiff("same"),
    ]
    markdown = report("base", "head", stacks)
    warning = markdown.index("> [!WARNING]\n")
    assert warning < markdown.index("| stack | change |")
    called_out = markdown[warning:].split("\n\n", 1)[0].splitlines()[1:]
    assert len(called_out) == 2
    assert called_out[0].startswith("> - **dev**: deletes Namespace monitoring")
    assert (
        called_out[1].startswith("> - **prod-east**: changes the BOSH side")
        and "bosh/runtime-config.yaml" in called_out[1]
    )
    assert "| prod-east | BOSH: bosh/runtime-config.yaml changed |" in markdown


def test_fence_is_longer_than_any_backtick_run_in_the_diff():
    text = "--- a/x\n+++ b/x\n+````\n"
    markdown = StackDiff("s", text, changes=(FileChange("x", "changed"),)).section()
    assert "`````diff\n" in markdown and markdown.rstrip().endswith("\n`````")


def refusal(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("error: "), result.stderr
    return result.stderr


@pytest.mark.parametrize(
    "change, words",
    [
        ("linked stack", "has symbolic links (Pulumi.x.yaml)"),
        ("linked folder", "has symbolic links (dashboards)"),
        ("stack named ..", "Pulumi....yaml: '..' is not a stack name"),
        ("stack named a b", "Pulumi.a b.yaml: 'a b' is not a stack name"),
    ],
)
def test_what_a_revision_may_not_hold_is_refused(change, words, repo, manifests_dir, tmp_path):
    root, commits = repo
    out = tmp_path / "out"
    assert words in refusal(render_diff(root, commits["as is"], commits[change], out, manifests_dir))
    # Nothing rendered, in OUT or beside it.
    assert {p.name for p in tmp_path.rglob("*")} == {"out", RENDER_MARK}


def test_out_that_is_not_a_render_diff_is_refused_and_kept(repo, manifests_dir, tmp_path):
    root, commits = repo
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "notes.txt").write_text("mine")
    err = refusal(render_diff(root, commits["as is"], commits["as is"], tmp_path, manifests_dir))
    assert f"OUT {tmp_path} is not empty and holds no earlier render" in err
    assert (tmp_path / "base" / "notes.txt").read_text() == "mine"
