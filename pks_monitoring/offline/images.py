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

import sys

from pks_monitoring.offline.mock_engine import run_program, stack_config
from pks_monitoring.offline.render import stack_file_of, stack_parser
from pks_monitoring.parts.images import normalized
from pks_monitoring.settings import SettingsError


def main(argv: list[str] | None = None) -> int:
    args = stack_parser("python -m pks_monitoring.offline.images", __doc__.split("\n")[0]).parse_args(argv)
    stack_file = stack_file_of(args)
    if stack_file is None:
        return 2
    try:
        config, secret_keys = stack_config(stack_file)
        images = run_program(config, secret_keys, stack_file=stack_file).outputs["images"]
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    for pulled, upstream in sorted(images.items(), key=lambda item: normalized(item[1])):
        print(normalized(upstream), pulled)
    return 0


if __name__ == "__main__":
    sys.exit(main())
