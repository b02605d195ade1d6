"""A stack file with N monitored apps: what the benchmark renders to report the cost per app.

    python -m tools.apps_stack N OUT_FILE
    python -m tools.bench --apps-config OUT_FILE --apps N

OUT_FILE is shaped like Pulumi.<stack>.yaml: the dev stack's config plus `pks-monitoring:apps`
with N apps (`app-000`, ... spread over up to 20 team namespaces, as a shared cluster has them).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from pks_monitoring.settings import PROJECT, PROJECT_ROOT
from pks_monitoring.stack_file import read_config

NAMESPACES = 20


def apps_stack_config(n: int) -> dict[str, Any]:
    """The dev stack's config (Pulumi.dev.yaml) plus n apps."""
    config = read_config(PROJECT_ROOT / "Pulumi.dev.yaml")
    config[f"{PROJECT}:apps"] = [
        {
            "name": f"app-{i:03d}",
            "namespace": f"team-{i % NAMESPACES:02d}",
            "selector": {"app": f"app-{i:03d}"},
            "port": "http",
        }
        for i in range(n)
    ]
    return config


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.apps_stack", description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, help="how many apps")
    parser.add_argument("out_file", type=Path, help="the stack file to write")
    args = parser.parse_args(argv)
    if args.n < 1:
        parser.error("N must be at least 1")
    args.out_file.write_text(yaml.safe_dump({"config": apps_stack_config(args.n)}, sort_keys=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
