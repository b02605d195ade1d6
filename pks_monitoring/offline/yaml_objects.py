"""The objects in Kubernetes YAML files, read as the provider reads them, in a process of its own.

    python -m pks_monitoring.offline.yaml_objects FILE...    (pickled list of objects on stdout)

The mock engine expands a yaml/v2 component through this, the way the real provider does the work
outside the program's process: parsing the CRDs' 5 MB of YAML in the program's own interpreter
would hold its GIL for a second and more while the program runs.
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path
from typing import Any

from pks_monitoring.kube_yaml import read_objects


def read_objects_elsewhere(paths: list[str]) -> list[dict[str, Any]]:
    """`read_objects(paths)`, computed by a child process; blocks (without the GIL) until done."""
    files = [str(Path(path).resolve()) for path in paths]
    child = subprocess.run(
        [sys.executable, "-m", __name__, *files], capture_output=True, cwd=Path(__file__).parents[2]
    )
    if child.returncode != 0:
        lines = child.stderr.decode(errors="replace").strip().splitlines() or ["no output"]
        raise RuntimeError(f"reading {' '.join(files)} failed: {lines[-1]}")
    objects: list[dict[str, Any]] = pickle.loads(child.stdout)
    return objects


if __name__ == "__main__":
    sys.stdout.buffer.write(pickle.dumps(read_objects(sys.argv[1:]), protocol=pickle.HIGHEST_PROTOCOL))
