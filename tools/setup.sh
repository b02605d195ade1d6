#!/usr/bin/env bash
# Sets up a fresh machine for the render and the tests: the Prometheus tools the tests run for
# real (Debian packages), and the Python venv with the pinned requirements and this package
# installed editable (as any consumer project would install it).
set -euo pipefail
cd "$(dirname "$0")/.."
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
