#!/usr/bin/env bash
# Sets up a fresh machine for the local stack, the render and the tests: the Prometheus tools the
# tests run for real (Debian packages), the Python venv with the pinned requirements and this
# package installed editable (as any consumer project would install it), and the real toolchain
# (Pulumi CLI and Kubernetes provider, control plane, operator, Prometheus, Alertmanager) built
# from Go modules into a cache outside the repository: cold about 40 minutes, warm under a second.
#   bash tools/setup.sh            everything
#   bash tools/setup.sh --offline  no toolchain: enough for the offline render and the fast tier
set -euo pipefail
cd "$(dirname "$0")/.."
with_toolchain=true
[ "${1:-}" = "--offline" ] && with_toolchain=false
if ! command -v promtool >/dev/null || ! command -v amtool >/dev/null \
    || ! command -v prometheus-node-exporter >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends \
    prometheus prometheus-alertmanager prometheus-node-exporter >/dev/null
fi
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r requirements.txt
.venv/bin/pip install -q --disable-pip-version-check --no-deps -e .
if $with_toolchain; then
  command -v go >/dev/null || { echo "setup: Go is needed for the toolchain (a polyglot machine)" >&2; exit 1; }
  bash tools/toolchain/build.sh
fi
