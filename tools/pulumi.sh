#!/usr/bin/env bash
# The real Pulumi CLI of the pinned toolchain, offline: a local file backend under the work tree's
# ignored .state/ folder, passphrase secrets, no update checks, no plugin downloads (the providers
# on PATH are the pinned builds). Usage: tools/pulumi.sh [pulumi arguments], e.g.
#   tools/pulumi.sh -s local up --yes
# PULUMI_CONFIG_PASSPHRASE overrides the local passphrase (kept in .state/pulumi/passphrase).
#
# The project is the one in the current folder (this repository's, or examples/app-team), run
# from a mirror under the state folder: a Pulumi.yaml whose `main` points back at the project, so
# the per-stack files the CLI writes for this machine (Pulumi.<stack>.yaml with the passphrase's
# encryptionsalt) land there, never in the work tree. Pass the stack's settings with
# `--config-file` (tools/local-stack.sh does).
#   tools/pulumi.sh fleet ARGS   the fleet rollout (python -m pks_monitoring.fleet) on this backend
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
project="$PWD"
[ -f "$project/Pulumi.yaml" ] || project="$root"
# shellcheck source=tools/toolchain/env.sh
source "$root/tools/toolchain/env.sh"
state="${PKS_PULUMI_STATE:-$root/.state/pulumi}"
mkdir -p "$state/backend" "$state/home"
if [ -z "${PULUMI_CONFIG_PASSPHRASE:-}${PULUMI_CONFIG_PASSPHRASE_FILE:-}" ]; then
  if [ ! -s "$state/passphrase" ]; then
    (umask 077 && head -c 24 /dev/urandom | base64 > "$state/passphrase")
  fi
  export PULUMI_CONFIG_PASSPHRASE_FILE="$state/passphrase"
fi
mirror="$state/projects/$(echo "$project" | sha256sum | cut -c1-12)"
mkdir -p "$mirror"
python3 - "$project" "$mirror" <<'PY'
import os, re, sys
project, mirror = sys.argv[1:]
text = open(os.path.join(project, "Pulumi.yaml")).read()
# The virtualenv, absolute (it was relative to the project); the program, the project itself.
text = re.sub(r"(?m)^([ \t]+virtualenv:[ \t]*)(\S+)[ \t]*$",
              lambda m: m.group(1) + os.path.normpath(os.path.join(project, m.group(2))), text)
text = re.sub(r"(?m)^main:.*\n", "", text)
text += "" if text.endswith("\n") else "\n"
text += f"main: {os.path.relpath(project, mirror)}\n"
open(os.path.join(mirror, "Pulumi.yaml"), "w").write(text)
PY
export PATH="$(toolchain_path)"
export PULUMI_BACKEND_URL="file://$state/backend"
export PULUMI_HOME="$state/home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_CONFIRMATIONS=true
if [ "${1:-}" = fleet ]; then
  # The Automation API runs this same CLI, in this environment, on the mirror.
  shift
  exec "$root/.venv/bin/python" -m pks_monitoring.fleet --work-dir "$mirror" "$@"
fi
exec pulumi --non-interactive --cwd "$mirror" "$@"
