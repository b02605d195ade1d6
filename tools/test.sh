#!/usr/bin/env bash
# The whole suite, as CI runs it: every tier against the pinned kube-prometheus release
# (Pulumi.yaml), then every tier but e2e once more against each other release under
# ../shared/kube-prometheus (PKS_TEST_RELEASE; the local control plane runs Kubernetes 1.32, which
# only the pin is tested on). Extra arguments go to every pytest run.
set -euo pipefail
cd "$(dirname "$0")/.."
pinned="$(.venv/bin/python -c 'from tests.helpers.settings import PINNED_MANIFESTS; print(PINNED_MANIFESTS)')"
pinned_release="$(basename "$(dirname "$pinned")")"
echo "tools/test.sh: kube-prometheus $pinned_release (the pin), every tier" >&2
.venv/bin/python -m pytest "$@"
for manifests in ../shared/kube-prometheus/*/manifests; do
  release="$(basename "$(dirname "$manifests")")"
  [ "$release" = "$pinned_release" ] && continue
  echo "tools/test.sh: kube-prometheus $release, every tier but e2e" >&2
  PKS_TEST_RELEASE="$release" .venv/bin/python -m pytest -m "not e2e" "$@"
done
