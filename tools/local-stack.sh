#!/usr/bin/env bash
# The real thing on this machine: the pinned toolchain, the local TKGI-like control plane and
# `pulumi up` of the `local` stack (Pulumi.local.yaml), all offline.
#
#   tools/local-stack.sh up          set up (venv, toolchain: cold builds take long), start the
#                                    cluster, `pulumi up` the local stack, print its outputs and
#                                    how to reach Prometheus, Alertmanager and Grafana
#   tools/local-stack.sh pulumi ARGS the real CLI on the local stack, e.g. `pulumi preview --diff`,
#                                    `pulumi destroy --yes`, `pulumi stack output --json`
#   tools/local-stack.sh up --watch  the same with the demo app and a webhook receiver, then the
#                                    monitoring run for real (tools/local-cluster.sh monitor);
#                                    `up` without it turns them off again
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
watch_marker="$state/watch"  # present after `up --watch`: the watch settings stay on
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
  if [ -f "$watch_marker" ]; then
    # What `monitor` shows working: the demo app's target, and its AppTargetDown (after 1m, not
    # 5m) routed to the webhook receiver `monitor` runs on loopback.
    local key value
    while read -r key value; do
      pulumi config set --path "pks-monitoring:$key" "$value" --config-file "$config" >/dev/null
    done <<EOF
demoApp.enabled true
appAlerts.targetDownFor 1m
alertmanager.receivers[0].name local-webhook
alertmanager.receivers[0].type webhook
alertmanager.defaultReceiver local-webhook
EOF
    echo "http://127.0.0.1:${LOCAL_MONITOR_WEBHOOK_PORT:-39099}/local-stack" \
      | pulumi config set --secret --path 'pks-monitoring:alertmanager.receivers[0].url' \
        --config-file "$config" >/dev/null
  fi
}

cmd_up() {
  local t0=$SECONDS watch=false
  [ "${1:-}" = "--watch" ] && watch=true
  mkdir -p "$state"
  if $watch; then touch "$watch_marker"; else rm -f "$watch_marker"; fi
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
  if $watch; then
    bash "$root/tools/local-cluster.sh" monitor
  fi
}

case "${1:-}" in
  up) shift; cmd_up "$@" ;;
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
