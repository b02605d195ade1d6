"""Every image a stack pulls, and where from: what to copy into an air-gapped site's registry
before its first `pulumi up`.

    python -m pks_monitoring.offline.images --stack dev
    python -m pks_monitoring.offline.images --config FILE

Prints one line per image, `SOURCE PULLED` (the upstream image with its registry host spelled
out, then the one the stack's pods
run: its mirror or override, or the same), e.g. for `skopeo copy docker://SOURCE docker://PULLED`.
The same mapping is the stack output `images` (pulled -> source). Exit codes: 0, 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

from pks_monitoring.offline.mock_engine import run_program, stack_config
from pks_monitoring.parts.images import normalized
from pks_monitoring.settings import PROJECT_ROOT, SettingsError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m pks_monitoring.offline.images", description=__doc__.split("\n")[0]
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--stack", help="stack name: reads Pulumi.<stack>.yaml")
    source.add_argument("--config", type=Path, help="any stack config file")
    args = parser.parse_args(argv)
    stack_file = args.config or PROJECT_ROOT / f"Pulumi.{args.stack}.yaml"
    if not stack_file.is_file():
        print(f"error: stack config {stack_file} does not exist", file=sys.stderr)
        return 2
    try:
        config, secret_keys = stack_config(stack_file)
        images = run_program(config, secret_keys).outputs["images"]
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except yaml.YAMLError as error:
        print(f"error: {stack_file} is not valid YAML: {str(error).splitlines()[0]}", file=sys.stderr)
        return 2
    for pulled, upstream in sorted(images.items(), key=lambda item: normalized(item[1])):
        print(normalized(upstream), pulled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
