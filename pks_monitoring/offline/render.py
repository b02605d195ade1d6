"""Offline render: what `pulumi up` would apply for a stack, without a cluster or the Pulumi CLI.

    python -m pks_monitoring.offline.render --stack dev --out DIR [--diff OLD_DIR]
    python -m pks_monitoring.offline.render --config FILE --out DIR

Writes DIR/k8s/<namespace or _cluster>/<Kind>_<name>.yaml (one object each, as sent to the API
server, keys sorted; a Secret's data in full, each value of secret config in it as "[secret]"),
DIR/bosh/ (what each BOSH command would run, and the runtime config it sends) and DIR/outputs.json
(secret outputs as "[secret]").
DIR is replaced only when it is new, empty or an earlier render (it holds RENDER_MARK); it may
not be, hold or lie in the current directory or OLD_DIR. One line of what was written goes to
stderr; with --diff, stdout is the change: warnings (data-bearing objects deleted, the BOSH side
changed), a headline ("1 added, 1 changed (spec.replicas)"), one line per changed file, then the
unified diff.
Exit codes: 0 rendered (and, with --diff, unchanged), 1 differs from OLD_DIR, 2 bad input or a
refused DIR (one `error:` line on stderr).
"""

from __future__ import annotations

import argparse
import difflib
import gc
import shutil
import sys
from pathlib import Path
from typing import Any, Optional

import orjson
import yaml

from pks_monitoring.offline import block_yaml
from pks_monitoring.offline.bosh import command_files
from pks_monitoring.offline.changes import FileChange, file_change, inventory, text_report
from pks_monitoring.offline.conceal import plain, secret_config
from pks_monitoring.offline.mock_engine import run_program, stack_config
from pks_monitoring.settings import PROJECT_ROOT, SettingsError


def _as_sent(obj: Any) -> str:
    """JSON, as the provider sends objects to the API server (and valid YAML), one line per
    field so that diffs read well; keys sorted. orjson writes the same text as
    `json.dumps(indent=2, sort_keys=True, ensure_ascii=False)`, whose indenting encoder is pure
    Python and took longer than the rest of the render on the 5 MB of CRDs."""
    return orjson.dumps(obj, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode() + "\n"


class UnsafeRender(ValueError):
    """A render that would write outside --out or replace what is not a render: exit code 2."""


# The render's own file in --out: the folder holds a render, which the next render may replace.
RENDER_MARK = ".pks-monitoring-render"


def _file_name_part(value: Any, what: str) -> str:
    """A namespace or object name as one file name: never a folder above or below it (names come
    from the manifests and the settings, and neither checks them against paths)."""
    text = str(value)
    if not text or text in (".", "..") or "/" in text or "\\" in text or "\0" in text:
        raise UnsafeRender(f"{what} {text!r} cannot be a file name in the render")
    return text


def _as_written(obj: dict[str, Any]) -> str:
    """A Secret as YAML, its texts (an Alertmanager config, scrape jobs) as literal blocks: a
    changed route is one changed line. Every other object as sent."""
    return block_yaml.dump(obj) if obj.get("kind") == "Secret" else _as_sent(obj)


def object_path(obj: dict[str, Any]) -> Path:
    metadata = obj.get("metadata") or {}
    folder = _file_name_part(metadata.get("namespace") or "_cluster", "namespace")
    kind = _file_name_part(obj["kind"], "kind")
    name = _file_name_part(metadata["name"], f"{kind} name")
    return Path("k8s") / folder / f"{kind}_{name}.yaml"


def out_refusal(out: Path, diff_dir: Optional[Path] = None, flag: str = "--out") -> Optional[str]:
    """Why `out` may not be replaced by a render, or None: it may when it is new, empty or an
    earlier render (RENDER_MARK), and neither holds nor lies in the working directory or
    `diff_dir` (the render it is compared with)."""
    target = out.resolve()
    if out.is_symlink():
        return f"{flag} {out} is a symbolic link: give the folder it points to"
    if Path.cwd().resolve().is_relative_to(target):
        return f"{flag} {out} holds the current directory: give a folder of its own (e.g. render)"
    if diff_dir is not None:
        old = diff_dir.resolve()
        if target.is_relative_to(old) or old.is_relative_to(target):
            return f"{flag} {out} and --diff {diff_dir} overlap: write the new render beside the old one"
    if target.exists() and not target.is_dir():
        return f"{flag} {out} is a file: give a folder"
    if target.is_dir() and any(target.iterdir()) and not (target / RENDER_MARK).is_file():
        return f"{flag} {out} is not empty and holds no earlier render ({RENDER_MARK}): give a new or empty folder"
    return None


def replace_out(out: Path) -> None:
    """Empties `out` for a render (refused as out_refusal says) and marks it as one."""
    refusal = out_refusal(out)
    if refusal:
        raise UnsafeRender(refusal)
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / RENDER_MARK).write_text("An offline render: the next render replaces this folder.\n")


def render(stack_file: Path, out: Path) -> None:
    config, secret_keys = stack_config(stack_file)
    run = run_program(config, secret_keys, stack=_stack_name(stack_file), stack_file=stack_file)
    secrets = secret_config(config)  # what the run read as secret settings: never in a file
    files: dict[Path, str] = {}
    for registration in run.recorder.kubernetes_objects():
        obj = plain(registration.inputs, secrets)
        path = object_path(obj)
        if path in files:
            raise RuntimeError(f"two objects render to {path}")
        files[path] = _as_written(obj)
    files.update(command_files(run.recorder.resources))
    files[Path("outputs.json")] = _as_sent(plain(run.outputs))
    replace_out(out)
    for path, text in sorted(files.items()):
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_text(text)


def _files(root: Path) -> set[Path]:
    """A render's files, relative to it; its mark is the tool's, not the stack's."""
    return {p.relative_to(root) for p in root.rglob("*") if p.is_file()} - {Path(RENDER_MARK)}


def _text(path: Path) -> Optional[str]:
    return path.read_text() if path.exists() else None


def diff(old: Path, new: Path) -> str:
    """A unified diff of two renders, file by file."""
    chunks: list[str] = []
    for name in sorted(_files(old) | _files(new)):
        before = (_text(old / name) or "").splitlines(keepends=True)
        after = (_text(new / name) or "").splitlines(keepends=True)
        chunks.extend(difflib.unified_diff(before, after, f"a/{name}", f"b/{name}"))
    return "".join(chunks)


def compare(old: Path, new: Path) -> list[FileChange]:
    """Every file two renders differ in, what changed in it (see changes.py)."""
    found = (
        file_change(name.as_posix(), _text(old / name), _text(new / name))
        for name in sorted(_files(old) | _files(new))
    )
    return [change for change in found if change]


def _stack_name(stack_file: Path) -> str:
    name = stack_file.name
    return name[len("Pulumi.") : -len(".yaml")] if name.startswith("Pulumi.") else stack_file.stem


def stack_parser(prog: str, description: str) -> argparse.ArgumentParser:
    """The offline tools' command line: the stack by name (--stack) or by file (--config)."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml")
    source.add_argument("--config", type=Path, help="any stack config file")
    return parser


def stack_file_of(args: argparse.Namespace) -> Optional[Path]:
    """The stack file the arguments name; None (the error line printed) when there is none."""
    stack_file: Path = args.config or PROJECT_ROOT / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(f"error: stack config {stack_file} does not exist", file=sys.stderr)
        return None
    return stack_file


def main(argv: list[str] | None = None) -> int:
    parser = stack_parser("python -m pks_monitoring.offline.render", __doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="directory to write the render to")
    parser.add_argument("--diff", type=Path, metavar="OLD_DIR", help="earlier render to diff against")
    args = parser.parse_args(argv)

    stack_file = stack_file_of(args)
    if stack_file is None:
        return 2
    if args.diff and not args.diff.is_dir():
        print(f"error: --diff {args.diff} is not a directory", file=sys.stderr)
        return 2
    refusal = out_refusal(args.out, args.diff)
    if refusal:
        print(f"error: {refusal}", file=sys.stderr)
        return 2
    try:
        render(stack_file, args.out)
    except (SettingsError, UnsafeRender) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except yaml.YAMLError as error:
        print(f"error: {stack_file} is not valid YAML: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    # On stderr: stdout is the diff alone, for a file or a pipe.
    written = sorted(p.as_posix() for p in _files(args.out))
    print(f"rendered {args.out}: {inventory(written)}", file=sys.stderr)
    if args.diff:
        report = text_report(compare(args.diff, args.out), diff(args.diff, args.out))
        sys.stdout.write(report)
        return 1 if report else 0
    return 0


if __name__ == "__main__":
    # One short run that allocates some 20k Outputs and asyncio futures: the cyclic collector
    # spent about a quarter of the dev render walking them, to free a few MB that exit frees
    # anyway (measured: 1.2 s of 4.3 s, and +8 MB peak RSS without it).
    gc.disable()
    sys.exit(main())
