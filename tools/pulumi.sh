#!/usr/bin/env bash
# The real Pulumi CLI of the pinned toolchain, offline: a local file backend under the work tree's
# ignored .state/ folder, passphrase secrets, no update checks, no plugin downloads (the providers
# on PATH are the pinned builds). Usage: tools/pulumi.sh [pulumi arguments], e.g.
#   tools/pulumi.sh -s local up --yes
# PULUMI_CONFIG_PASSPHRASE overrides the local passphrase (kept in .state/pulumi/passphrase).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
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
export PATH="$(toolchain_path)"
export PULUMI_BACKEND_URL="file://$state/backend"
export PULUMI_HOME="$state/home"
export PULUMI_SKIP_UPDATE_CHECK=true
export PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_SKIP_CONFIRMATIONS=true
exec pulumi --non-interactive "$@"
