#!/usr/bin/env bash
# The real thing on this machine: the pinned toolchain, the local TKGI-like control plane and
# `pulumi up` of the `local` stack (Pulumi.local.yaml), all offline.
#
#   tools/local-stack.sh up          set up (venv, toolchain: cold builds take long), start the
#                                    cluster, `pulumi up` the local stack, print its outputs and
#                                    how to reach Prometheus, Alertmanager and Grafana
#   tools/local-stack.sh pulumi ARGS the real CLI on the local stack, e.g. `pulumi preview --diff`,
#                                    `pulumi destroy --yes`, `pulumi stack output --json`
#   tools/local-stack.sh down        destroy the stack, then stop the cluster
#
# Pulumi.local.yaml stays as committed: the stack runs on a copy of it under the state folder
# (.state/pulumi, or PKS_PULUMI_STATE), where Grafana's admin password, made once for this machine,
# is set with `pulumi config set --secret`. Edit Pulumi.local.yaml to change the local stack.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"  # the project: Pulumi.yaml and the stack files
state="${PKS_PULUMI_STATE:-$root/.state/pulumi}"
export PKS_PULUMI_STATE="$state"
config="$state/Pulumi.local.yaml"
password_file="$state/local-grafana-admin-password"
cluster_dir="${LOCAL_CLUSTER_DIR:-$root/.state/local-cluster}"
export KUBECONFIG="$cluster_dir/kubeconfig"

say() { echo "local-stack: $*" >&2; }
pulumi() { bash "$root/tools/pulumi.sh" "$@"; }

prepare_stack() {  # the stack `local` on the local backend, its config copy with the secret set
  mkdir -p "$state"
  if [ ! -s "$password_file" ]; then
    (umask 077 && head -c 18 /dev/urandom | base64 | tr -d '/+=' > "$password_file")
  fi
  pulumi stack select --create local >/dev/null
  cp "$root/Pulumi.local.yaml" "$config"
  # From a file, not argv: the password never appears in a process listing.
  pulumi config set --secret --path pks-monitoring:grafana.adminPassword --config-file "$config" \
    <"$password_file" >/dev/null
}

cmd_up() {
  local t0=$SECONDS
  bash "$root/tools/setup.sh"
  bash "$root/tools/toolchain/build.sh"
  bash "$root/tools/local-cluster.sh" up >/dev/null
  prepare_stack
  pulumi up --yes --skip-preview --config-file "$config"
  say "up in $((SECONDS - t0)) s. Stack outputs:"
  pulumi stack output --json
  cat >&2 <<EOF
local-stack: reach the UIs through the API server (the pods are simulated by kwok: the
  port-forwards in the output 'portForward' need real pods, so on this cluster they show the
  objects, not the UIs):
    export KUBECONFIG=$KUBECONFIG
    kubectl -n monitoring get prometheus,alertmanager,deploy,svc
  Grafana's admin password: $password_file
  Change the stack: edit Pulumi.local.yaml, then tools/local-stack.sh pulumi preview --diff
EOF
}

case "${1:-}" in
  up) cmd_up ;;
  pulumi)
    shift
    prepare_stack
    case "${1:-}" in
      # The commands that read the stack's config get the copy with the secret.
      up | preview | refresh | destroy | config) pulumi "$@" --config-file "$config" ;;
      *) pulumi "$@" ;;
    esac
    ;;
  down)
    prepare_stack
    pulumi destroy --yes --config-file "$config"
    bash "$root/tools/local-cluster.sh" down
    ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
