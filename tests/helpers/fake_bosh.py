"""A stand-in `bosh` with a director behind it: it answers `configs` and `config` queries from a
set of runtime configs, accepts `update-runtime-config`, and records every call.

As a program (`python fake_bosh.py <bosh args>`, through the `bosh` script FakeDirector writes):
reads the director from $FAKE_BOSH_DIRECTOR (JSON: `configs` {name: YAML text}, `shape` "table"
or "blocks", `fail` [commands that exit 1]) and appends one JSON line per call to $FAKE_BOSH_LOG:
argv, the BOSH_* variables, stdin, and the content of every argument naming an existing file.

Its `--json` answers have the bosh CLI's own shape (cloudfoundry/bosh-cli: `ui/json_ui.go` prints
each table as {Content, Header, Rows: [{<header key>: cell}], Notes}; `cmd/configs.go` lists ID
(`*` for the current one), Type, Name, Team, Created At; `cmd/config.go` shows ID, Type, Name,
Created At and Content; CLIs before that printed the content as a block, shape "blocks").
"""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

RECORDED_ENV = ("BOSH_ENVIRONMENT", "BOSH_CLIENT", "BOSH_CLIENT_SECRET", "BOSH_CA_CERT")
CREATED_AT = "2025-06-02 09:14:27 UTC"


def table(content: str, headers: list[str], rows: list[list[str]], notes: list[str]) -> dict[str, Any]:
    keys = [title.lower().replace(" ", "_") for title in headers]
    return {
        "Content": content,
        "Header": dict(zip(keys, headers)),
        "Rows": [dict(zip(keys, row)) for row in rows],
        "Notes": notes,
    }


def answer(director: dict[str, Any], command: str, options: dict[str, str]) -> tuple[int, dict[str, Any]]:
    lines = [
        f"Using environment '{os.environ.get('BOSH_ENVIRONMENT')}' as client '{os.environ.get('BOSH_CLIENT')}'"
    ]
    configs: dict[str, str] = director["configs"]
    if command in director.get("fail", []):
        return 1, {
            "Tables": None,
            "Blocks": None,
            "Lines": [*lines, "Director responded with 500", "Exit code 1"],
        }
    if command == "configs":
        rows = [
            [f"{i}*", "runtime", name, "", CREATED_AT]
            for i, name in enumerate(configs, start=1)
            if options.get("type", "runtime") == "runtime"
        ]
        notes = ["(*) Currently active"] if rows else []
        notes.append("Only showing active configs. To see older versions use the --recent=10 option.")
        headers = ["ID", "Type", "Name", "Team", "Created At"]
        return 0, {
            "Tables": [table("configs", headers, rows, notes)],
            "Blocks": None,
            "Lines": [*lines, "Succeeded"],
        }
    if command == "config":
        name = options.get("name", "")
        if options.get("type") != "runtime" or name not in configs:
            return 1, {"Tables": None, "Blocks": None, "Lines": [*lines, "No config", "Exit code 1"]}
        content = configs[name]
        if director.get("shape") == "blocks":
            return 0, {"Tables": None, "Blocks": [content], "Lines": [*lines, "Succeeded"]}
        row = [str(list(configs).index(name) + 1), "runtime", name, CREATED_AT, content]
        headers = ["ID", "Type", "Name", "Created At", "Content"]
        return 0, {
            "Tables": [table("config", headers, [row], [])],
            "Blocks": None,
            "Lines": [*lines, "Succeeded"],
        }
    if command == "update-runtime-config":
        return 0, {"Tables": None, "Blocks": None, "Lines": [*lines, "Succeeded"]}
    return 1, {"Tables": None, "Blocks": None, "Lines": [*lines, f"fake bosh: unexpected {command!r}"]}


def main() -> int:
    argv = sys.argv[1:]
    words = [a for a in argv if not a.startswith("-")]
    options = dict(a[2:].split("=", 1) for a in argv if a.startswith("--") and "=" in a)
    files = {}
    for arg in argv:
        if os.path.isfile(arg):
            files[arg] = Path(arg).read_text(encoding="utf-8")
    entry = {
        "argv": argv,
        "env": {name: os.environ.get(name) for name in RECORDED_ENV},
        "stdin": sys.stdin.read(),
        "files": files,
    }
    with open(os.environ["FAKE_BOSH_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
    director = json.loads(Path(os.environ["FAKE_BOSH_DIRECTOR"]).read_text(encoding="utf-8"))
    code, response = answer(director, words[0] if words else "", options)
    if "--json" in argv:
        print(json.dumps(response, indent=4))
    else:
        print("\n".join(response["Lines"]))
    return code


# --- for the tests ------------------------------------------------------------------------------


class FakeDirector:
    """`bosh` on PATH backed by the runtime configs given; `python3`/`python` on PATH fail, so a
    command that leans on whatever interpreter PATH has is caught."""

    def __init__(self, root: Path, configs: dict[str, str], shape: str = "table", fail=()) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir()
        self.log = root / "bosh-calls.jsonl"
        self.workdir = root / "work"
        self.workdir.mkdir()
        self.director = root / "director.json"
        self.director.write_text(json.dumps({"configs": configs, "shape": shape, "fail": list(fail)}))
        program = shlex.quote(str(Path(__file__).resolve()))
        self._script("bosh", f'exec {shlex.quote(sys.executable)} {program} "$@"')
        for name in ("python3", "python"):
            self._script(name, "echo 'not the interpreter to use' >&2; exit 97")

    def _script(self, name: str, body: str) -> None:
        script = self.bin / name
        script.write_text(f"#!/bin/sh\n{body}\n")
        script.chmod(0o755)

    def run(self, interpreter: list[str], command: str, environment: dict[str, str], stdin: str):
        """Runs a command as pulumi_command's local provider does (interpreter + command string,
        its own process environment plus `environment`, `stdin`), in a directory of its own.
        The environment holds nothing of this test process's BOSH_*, PKS_MONITORING_* or
        PYTHONPATH; PATH starts with the stand-ins."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("BOSH_", "PKS_MONITORING_", "FAKE_BOSH_")) and k != "PYTHONPATH"
        }
        env.update(environment)
        env["PATH"] = f"{self.bin}{os.pathsep}{env['PATH']}"
        env["FAKE_BOSH_LOG"] = str(self.log)
        env["FAKE_BOSH_DIRECTOR"] = str(self.director)
        return subprocess.run(
            [*interpreter, command], env=env, input=stdin, capture_output=True, text=True, cwd=self.workdir
        )

    def calls(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def updates(self) -> list[dict[str, Any]]:
        return [c for c in self.calls() if "update-runtime-config" in c["argv"]]


if __name__ == "__main__":
    sys.exit(main())
