#!/usr/bin/env bash
# A local control plane that looks like a stock TKGI cluster, on loopback only:
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler (Kubernetes from the pinned
# toolchain, tools/toolchain/kubernetes) and kwok, which keeps 3 worker Nodes named and labelled as
# TKGI names them Ready and makes scheduled pods Running/Ready without kubelets. Pre-installs
# TKGI's kube-system add-ons (metrics-server with its APIService, CoreDNS's kube-dns Service).
#
#   tools/local-cluster.sh up            start (idempotent); last line: export KUBECONFIG=...
#   tools/local-cluster.sh monitor       after `up` and a `pulumi up` of a stack on this cluster:
#                                        the stack's monitoring, run for real (below)
#   tools/local-cluster.sh status        what runs, API readiness, node count
#   tools/local-cluster.sh down [--purge] stop what `up` and `monitor` started; --purge also
#                                        deletes the state
#
# State (certs, etcd data, logs, pid files, kubeconfig): .state/local-cluster/ in the work tree,
# or LOCAL_CLUSTER_DIR. Every listener is bound to 127.0.0.1 (the metrics stub to the metrics-server
# ClusterIP, itself a loopback address). Ports and names are overridable by environment (below).
# See tools/toolchain/kubernetes/README.md for what is TKGI-like and what is not.
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
here="$repo/tools/local-cluster"
STATE="${LOCAL_CLUSTER_DIR:-$repo/.state/local-cluster}"
case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac

HOST=127.0.0.1
ETCD_PORT="${LOCAL_CLUSTER_ETCD_PORT:-32379}"
ETCD_PEER_PORT="${LOCAL_CLUSTER_ETCD_PEER_PORT:-32380}"
API_PORT="${LOCAL_CLUSTER_API_PORT:-36443}"
KCM_PORT="${LOCAL_CLUSTER_KCM_PORT:-30257}"
SCHEDULER_PORT="${LOCAL_CLUSTER_SCHEDULER_PORT:-30259}"
KWOK_PORT="${LOCAL_CLUSTER_KWOK_PORT:-30247}"
# TKGI's metrics-server Service listens on 443; binding it needs root (or set a high port).
METRICS_PORT="${LOCAL_CLUSTER_METRICS_PORT:-443}"
CLUSTER_NAME="${LOCAL_CLUSTER_NAME:-local-tkgi}"
CONTEXT="${LOCAL_CLUSTER_CONTEXT:-local-tkgi}"
# TKGI's default service network is 10.100.200.0/24; here its loopback twin, so that whatever the
# API server dials by ClusterIP (aggregated APIs, webhooks) stays on this machine. Must be a /24.
SERVICE_CIDR="${LOCAL_CLUSTER_SERVICE_CIDR:-127.100.200.0/24}"
# TKGI's default pod network (flannel: one /24 a node). Pod IPs are data only: Endpoints reject
# loopback addresses, so they cannot be loopback; nothing here dials them.
POD_CIDR="${LOCAL_CLUSTER_POD_CIDR:-10.200.0.0/16}"
# Worker IPs: TKGI on vSphere names each node by its IP (kubelet --hostname-override=spec.ip).
# Loopback, so that anything that follows node addresses (a node-exporter scrape job) stays local.
read -r -a NODE_IPS <<<"${LOCAL_CLUSTER_NODE_IPS:-127.0.1.11 127.0.1.12 127.0.1.13}"
read -r -a NODE_AZS <<<"${LOCAL_CLUSTER_AZS:-az1 az2 az3}"

svc_prefix="${SERVICE_CIDR%.*}"
KUBERNETES_SVC_IP="$svc_prefix.1"
KUBE_DNS_IP="$svc_prefix.10"
METRICS_SERVER_IP="$svc_prefix.20"
pod_prefix="${POD_CIDR%%.*}.$(echo "$POD_CIDR" | cut -d. -f2)"

pki="$STATE/pki"
run="$STATE/run"
logs="$STATE/logs"
KUBECONFIG_FILE="$STATE/kubeconfig"
COMPONENTS=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok metrics-stub)

# `monitor`: kwok keeps the stack's pods Running without running them; these processes run what
# the monitoring pods would, on loopback (tools/monitor/__init__.py says how).
MONITOR_NAMESPACE="${LOCAL_MONITOR_NAMESPACE:-monitoring}"
PROMETHEUS_PORT="${LOCAL_MONITOR_PROMETHEUS_PORT:-39090}"
ALERTMANAGER_PORT="${LOCAL_MONITOR_ALERTMANAGER_PORT:-39093}"
OPERATOR_PORT="${LOCAL_MONITOR_OPERATOR_PORT:-38080}"
POD_NETWORK_PORT="${LOCAL_MONITOR_POD_NETWORK_PORT:-38888}"
APP_PORT="${LOCAL_MONITOR_APP_PORT:-38081}"
WEBHOOK_PORT="${LOCAL_MONITOR_WEBHOOK_PORT:-39099}"
# The port the node_exporter addon listens on, on every node (settings: nodeExporter.port).
NODE_EXPORTER_PORT="${LOCAL_MONITOR_NODE_EXPORTER_PORT:-9100}"
# The pods the stand-in Spring Boot app plays (the demo app's, by default).
APP_NAMESPACE="${LOCAL_MONITOR_APP_NAMESPACE:-hello}"
APP_SELECTOR="${LOCAL_MONITOR_APP_SELECTOR:-app=hello-pks}"
monitor="$STATE/monitor"
PLAYED_PODS=(prometheus-operator alertmanager prometheus)

# The pinned binaries (kubectl included) from the toolchain cache, first on PATH.
# shellcheck source=tools/toolchain/env.sh
source "$repo/tools/toolchain/env.sh"
PATH="$(toolchain_path)"
export PATH

say() { echo "local-cluster: $*" >&2; }
die() { say "$*"; exit 1; }

# --- processes --------------------------------------------------------------------------------
pid_of() {  # component -> pid, if its pid file names a live process started from this state dir
  local f="$run/$1.pid" pid
  [ -f "$f" ] || return 1
  pid="$(cat "$f")"
  [ -n "$pid" ] && [ -r "/proc/$pid/environ" ] || return 1
  tr '\0' '\n' <"/proc/$pid/environ" | grep -qxF -- "LOCAL_CLUSTER_OF=$STATE" || return 1
  echo "$pid"
}

start() {  # component command...: detached (own session), logs to logs/<component>.log;
  # marked by LOCAL_CLUSTER_OF in its environment, so that a pid file never stops another process
  local name="$1"
  shift
  if pid_of "$name" >/dev/null; then
    return 0
  fi
  rm -f "$run/$name.pid"
  # shellcheck disable=SC2016  # $$ and $0 belong to the inner shell
  LOCAL_CLUSTER_OF="$STATE" setsid bash -c 'echo $$ >"$0"; exec "$@"' "$run/$name.pid" "$@" \
    >>"$logs/$name.log" 2>&1 </dev/null &
  local i
  for i in $(seq 50); do
    [ -s "$run/$name.pid" ] && break
    sleep 0.1
  done
  say "started $name (pid $(cat "$run/$name.pid"), log $logs/$name.log)"
}

stop() {  # component: TERM, then KILL after 20 s
  local name="$1" pid i
  if pid="$(pid_of "$name")"; then
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 200); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) did not stop on TERM: KILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.2
    fi
    say "stopped $name (pid $pid)"
  fi
  rm -f "$run/$name.pid"
}

wait_for() {  # description seconds command...: poll every 0.5 s
  local what="$1" secs="$2" i
  shift 2
  for i in $(seq $((secs * 2))); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.5
  done
  die "timed out after ${secs}s waiting for $what (logs: $logs)"
}

# --- certificates (openssl) -------------------------------------------------------------------
gen_ca() {  # name common-name
  [ -f "$pki/$1.crt" ] && return 0
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 3650 -subj "/CN=$2" \
    -keyout "$pki/$1.key" -out "$pki/$1.crt" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" 2>/dev/null
}

gen_cert() {  # name ca subject extendedKeyUsage [subjectAltName]
  local name="$1" ca="$2" subj="$3" eku="$4" san="${5:-}"
  [ -f "$pki/$name.crt" ] && return 0
  {
    echo "basicConstraints=critical,CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$eku"
    [ -z "$san" ] || echo "subjectAltName=$san"
  } >"$pki/$name.ext"
  openssl req -new -newkey rsa:2048 -nodes -sha256 -subj "$subj" \
    -keyout "$pki/$name.key" -out "$pki/$name.csr" 2>/dev/null
  openssl x509 -req -sha256 -days 3650 -in "$pki/$name.csr" -CA "$pki/$ca.crt" \
    -CAkey "$pki/$ca.key" -set_serial "0x$(openssl rand -hex 16)" \
    -extfile "$pki/$name.ext" -out "$pki/$name.crt" 2>/dev/null
  rm -f "$pki/$name.csr" "$pki/$name.ext"
}

gen_pki() {
  mkdir -p "$pki"
  chmod 700 "$pki"
  gen_ca ca "$CLUSTER_NAME-ca"
  gen_ca front-proxy-ca "$CLUSTER_NAME-front-proxy-ca"
  gen_cert apiserver ca "/CN=kube-apiserver" serverAuth \
    "IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local"
  gen_cert admin ca "/O=system:masters/CN=admin" clientAuth
  gen_cert kube-controller-manager ca "/CN=system:kube-controller-manager" clientAuth
  gen_cert kube-scheduler ca "/CN=system:kube-scheduler" clientAuth
  gen_cert kwok ca "/O=system:masters/CN=kwok" clientAuth
  gen_cert front-proxy-client front-proxy-ca "/CN=front-proxy-client" clientAuth
  gen_cert metrics-server ca "/CN=metrics-server" serverAuth \
    "DNS:metrics-server.kube-system.svc,DNS:metrics-server.kube-system.svc.cluster.local,IP:$METRICS_SERVER_IP"
  if [ ! -f "$pki/sa.key" ]; then
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$pki/sa.key" 2>/dev/null
    openssl pkey -in "$pki/sa.key" -pubout -out "$pki/sa.pub" 2>/dev/null
  fi
  chmod 600 "$pki"/*.key
}

write_kubeconfig() {  # file user cert-name
  local file="$1" user="$2" cert="$3"
  cat >"$file.tmp" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: $CLUSTER_NAME
  cluster:
    server: https://$HOST:$API_PORT
    certificate-authority-data: $(base64 -w0 "$pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$pki/$cert.crt")
    client-key-data: $(base64 -w0 "$pki/$cert.key")
contexts:
- name: $CONTEXT
  context:
    cluster: $CLUSTER_NAME
    user: $user
current-context: $CONTEXT
EOF
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

# --- the cluster's identity (kept across restarts) ---------------------------------------------
identity() {
  if [ ! -f "$STATE/identity.env" ]; then
    {
      echo "CLUSTER_UUID=$(cat /proc/sys/kernel/random/uuid)"
      local i
      for i in "${!NODE_IPS[@]}"; do
        echo "BOSH_ID_$i=$(cat /proc/sys/kernel/random/uuid)"
      done
    } >"$STATE/identity.env"
  fi
  # shellcheck disable=SC1091
  source "$STATE/identity.env"
}

nodes_yaml() {  # TKGI worker Nodes (labels per kubo-release's kubelet_ctl on vSphere)
  local i ip az id
  for i in "${!NODE_IPS[@]}"; do
    ip="${NODE_IPS[$i]}"
    az="${NODE_AZS[$((i % ${#NODE_AZS[@]}))]}"
    id_var="BOSH_ID_$i"
    id="${!id_var:-$(cat /proc/sys/kernel/random/uuid)}"
    cat <<EOF
---
apiVersion: v1
kind: Node
metadata:
  name: "$ip"
  labels:
    beta.kubernetes.io/arch: amd64
    beta.kubernetes.io/os: linux
    kubernetes.io/arch: amd64
    kubernetes.io/os: linux
    kubernetes.io/hostname: "$ip"
    bosh.id: "$id"
    bosh.zone: "$az"
    failure-domain.beta.kubernetes.io/zone: "$az"
    spec.ip: "$ip"
    pks-system/cluster.name: "$CLUSTER_NAME"
    pks-system/cluster.uuid: "service-instance_$CLUSTER_UUID"
  annotations:
    node.alpha.kubernetes.io/ttl: "0"
spec:
  podCIDR: "$pod_prefix.$((i + 1)).0/24"
  podCIDRs: ["$pod_prefix.$((i + 1)).0/24"]
status:
  addresses:
  - type: InternalIP
    address: "$ip"
  - type: Hostname
    address: "$ip"
  capacity: {cpu: "4", memory: 16Gi, pods: "110", ephemeral-storage: 100Gi}
  allocatable: {cpu: "4", memory: 15Gi, pods: "110", ephemeral-storage: 90Gi}
  nodeInfo:
    architecture: amd64
    operatingSystem: linux
    osImage: Ubuntu 22.04.5 LTS
    kernelVersion: 5.15.0-kwok
    containerRuntimeVersion: containerd://1.7.27
    kubeletVersion: $KUBERNETES_VERSION
    kubeProxyVersion: $KUBERNETES_VERSION
    machineID: ""
    systemUUID: ""
    bootID: ""
EOF
  done
}

# --- checks -----------------------------------------------------------------------------------
etcd_healthy() { curl -fsS --max-time 2 "http://$HOST:$ETCD_PORT/health" | grep -q '"health":"true"'; }
api_ready() {
  curl -fsS --max-time 3 --cacert "$pki/ca.crt" --cert "$pki/admin.crt" --key "$pki/admin.key" \
    "https://$HOST:$API_PORT/readyz" | grep -qx ok
}
healthz() { curl -fsSk --max-time 2 "$1" | grep -qx ok; }
k() {  # kubectl as admin; its discovery cache in the state dir, not in ~/.kube
  kubectl --kubeconfig "$KUBECONFIG_FILE" --cache-dir "$STATE/kube-cache" --request-timeout=10s "$@"
}
nodes_ready() {
  local n
  n="$(k get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l)"
  [ "$n" -ge "${#NODE_IPS[@]}" ]
}
apiservice_available() {
  k get apiservice v1beta1.metrics.k8s.io \
    -o jsonpath='{.status.conditions[?(@.type=="Available")].status}' | grep -qx True
}
all_running() {
  local c
  for c in "${COMPONENTS[@]}"; do
    pid_of "$c" >/dev/null || return 1
  done
}

# --- monitor ----------------------------------------------------------------------------------
monitor_components() {  # in start order
  local ip
  echo webhook-receiver pod-network stand-in-app
  for ip in "${NODE_IPS[@]}"; do
    echo "node-exporter-$ip"
  done
  echo "${PLAYED_PODS[@]}"
}

# The project's venv (pyyaml) with tools.monitor importable, kubectl as admin; a command, not a
# function, so that `start` can exec it.
PY=(env "KUBECONFIG=$KUBECONFIG_FILE" "KUBECACHEDIR=$STATE/kube-cache" "PYTHONPATH=$repo"
  "$repo/.venv/bin/python")
answers() { curl -fsS --max-time 2 -o /dev/null "$1"; }
pod_ip() { k get pod "$2" -n "$1" -o jsonpath='{.status.podIP}' 2>/dev/null | grep -q .; }
has_key() { k get secret "$2" -n "$1" -o jsonpath="{.data.${3//./\\.}}" 2>/dev/null | grep -q .; }
reconciled() {  # kind name: the operator reports the resource's current generation reconciled
  local generation observed
  generation="$(k get "$1" "$2" -n "$MONITOR_NAMESPACE" -o jsonpath='{.metadata.generation}')"
  observed="$(k get "$1" "$2" -n "$MONITOR_NAMESPACE" \
    -o jsonpath='{.status.conditions[?(@.type=="Reconciled")].status}/{.status.conditions[?(@.type=="Reconciled")].observedGeneration}')"
  [ "$observed" = "True/$generation" ]
}

play() {  # component namespace pod container binary [tools.monitor.pods options...]
  # The pod's volumes written under monitor/<component>/volumes, its args read from the Pod,
  # then the binary started with them (env KUBECONFIG when --kubeconfig-out wrote one).
  local name="$1" namespace="$2" pod="$3" container="$4" binary="$5" dir="$monitor/$1"
  shift 5
  mkdir -p "$dir"
  "${PY[@]}" -m tools.monitor.pods --namespace "$namespace" --pod "$pod" --container "$container" \
    --root "$dir" --argv-out "$dir/argv" --api-server "https://$HOST:$API_PORT" \
    --network "$monitor/pod-network.json" "$@" || die "cannot play $namespace/$pod (above)"
  local args=()
  mapfile -d '' args <"$dir/argv"
  if [ -f "$dir/kubeconfig" ]; then
    start "$name" env KUBECONFIG="$dir/kubeconfig" "$binary" "${args[@]}"
  else
    start "$name" "$binary" "${args[@]}"
  fi
}

play_generated() {  # kind resource secret key port [tools.monitor.pods options...]
  # What the operator makes of the stack's Alertmanager or Prometheus resource: a StatefulSet whose
  # pod <kind>-<resource>-0 kwok runs, and the generated configuration Secret. That pod, played
  # with the config-reloader's unpacking done first, on 127.0.0.1:<port>.
  local kind="$1" resource="$2" secret="$3" key="$4" port="$5" pod="$1-$2-0"
  shift 5
  wait_for "$kind $resource reconciled" 180 reconciled "$kind" "$resource"
  wait_for "pod $pod" 120 pod_ip "$MONITOR_NAMESPACE" "$pod"
  wait_for "Secret $secret" 60 has_key "$MONITOR_NAMESPACE" "$secret" "$key"
  play "$kind" "$MONITOR_NAMESPACE" "$pod" "$kind" "$kind" --reload config-reloader \
    --listen "$HOST:$port" --listen-flag=--web.listen-address --port web "$@"
  wait_for "$kind /-/ready" 120 answers "http://$HOST:$port/-/ready"
}

route_app_pods() {  # every pod of APP_SELECTOR in APP_NAMESPACE leads to the stand-in app
  local name ip port routed=0
  while read -r name ip port; do
    [ -n "$ip" ] || continue
    "${PY[@]}" -m tools.monitor.pod_network route "$monitor/pod-network.json" "$ip:$port" \
      "$HOST:$APP_PORT" "$APP_NAMESPACE/$name"
    routed=$((routed + 1))
  done < <(k get pods -n "$APP_NAMESPACE" -l "$APP_SELECTOR" -o \
    jsonpath='{range .items[*]}{.metadata.name} {.status.podIP} {.spec.containers[0].ports[0].containerPort}{"\n"}{end}' \
    2>/dev/null)
  if [ "$routed" -eq 0 ]; then
    say "no pods $APP_SELECTOR in namespace $APP_NAMESPACE: the stand-in app plays none (demoApp.enabled?)"
  else
    say "the stand-in app plays $routed pod(s) $APP_SELECTOR in namespace $APP_NAMESPACE"
  fi
}

cmd_monitor() {
  [ -x "$repo/.venv/bin/python" ] || die "no .venv: run bash tools/setup.sh first"
  command -v prometheus-node-exporter >/dev/null \
    || die "no prometheus-node-exporter: run bash tools/setup.sh first"
  local b
  for b in operator prometheus alertmanager; do
    [ -x "$(toolchain_dir monitoring)/bin/$b" ] \
      || die "the monitoring toolchain has no $b: bash tools/toolchain/build.sh monitoring"
  done
  { all_running && api_ready; } 2>/dev/null || die "the cluster is not up: tools/local-cluster.sh up"
  k get prometheus k8s -n "$MONITOR_NAMESPACE" >/dev/null 2>&1 \
    || die "no Prometheus k8s in namespace $MONITOR_NAMESPACE: pulumi up a stack on this cluster first (tools/local-stack.sh up)"
  mkdir -p "$monitor"
  local t0=$SECONDS c ip
  # The played pods start again each time: a new token, the config the operator generated now.
  for c in "${PLAYED_PODS[@]}"; do
    stop "$c"
  done

  start webhook-receiver "${PY[@]}" -m tools.monitor.webhook_receiver "$HOST:$WEBHOOK_PORT" "$monitor/webhook.jsonl"
  start pod-network "${PY[@]}" -m tools.monitor.pod_network "$HOST:$POD_NETWORK_PORT" "$monitor/pod-network.json"
  start stand-in-app "${PY[@]}" -m tools.monitor.stand_in_app "$HOST:$APP_PORT"
  for ip in "${NODE_IPS[@]}"; do
    start "node-exporter-$ip" prometheus-node-exporter --web.listen-address="$ip:$NODE_EXPORTER_PORT"
  done
  route_app_pods

  local operator_pod
  operator_pod="$(k get pods -n "$MONITOR_NAMESPACE" -l app.kubernetes.io/name=prometheus-operator \
    -o jsonpath='{.items[0].metadata.name}')"
  [ -n "$operator_pod" ] || die "no prometheus-operator pod in namespace $MONITOR_NAMESPACE"
  wait_for "pod $operator_pod's IP" 60 pod_ip "$MONITOR_NAMESPACE" "$operator_pod"
  play prometheus-operator "$MONITOR_NAMESPACE" "$operator_pod" prometheus-operator operator \
    --kubeconfig-out "$monitor/prometheus-operator/kubeconfig" \
    --listen "$HOST:$OPERATOR_PORT" --listen-flag=--web.listen-address --port http
  wait_for "prometheus-operator /healthz" 60 answers "http://$HOST:$OPERATOR_PORT/healthz"

  play_generated alertmanager main alertmanager-main-generated alertmanager.yaml.gz \
    "$ALERTMANAGER_PORT" --set=--cluster.listen-address= --drop=--cluster.peer
  play_generated prometheus k8s prometheus-k8s prometheus.yaml.gz "$PROMETHEUS_PORT" \
    --outside-the-pod --proxy "http://$HOST:$POD_NETWORK_PORT"

  say "monitoring up in $((SECONDS - t0)) s"
  cat <<EOF
prometheus:           http://$HOST:$PROMETHEUS_PORT/api/v1/targets (API only: built without its UI)
alertmanager:         http://$HOST:$ALERTMANAGER_PORT/
prometheus-operator:  http://$HOST:$OPERATOR_PORT/metrics, log $logs/prometheus-operator.log
webhook receiver:     http://$HOST:$WEBHOOK_PORT/ records to $monitor/webhook.jsonl
EOF
}

# --- up / down / status -----------------------------------------------------------------------
cmd_up() {
  command -v openssl >/dev/null || die "openssl is required (apt-get install openssl)"
  command -v curl >/dev/null || die "curl is required (apt-get install curl)"
  command -v python3 >/dev/null || die "python3 is required (the metrics.k8s.io stub)"
  [ "${SERVICE_CIDR##*/}" = 24 ] || die "LOCAL_CLUSTER_SERVICE_CIDR must be a /24 (got $SERVICE_CIDR)"
  mkdir -p "$STATE" "$run" "$logs"
  touch "$STATE/.local-cluster"

  if all_running && api_ready 2>/dev/null; then
    say "already up ($STATE)"
    cmd_status
    echo "export KUBECONFIG=$KUBECONFIG_FILE"
    return 0
  fi
  local t0=$SECONDS

  if [ ! -f "$(toolchain_dir kubernetes)/.complete" ]; then
    say "kubernetes toolchain not built yet: building (cold: tens of minutes)"
    bash "$repo/tools/toolchain/build.sh" kubernetes
  fi
  local b
  for b in etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok; do
    [ -x "$(toolchain_dir kubernetes)/bin/$b" ] || die "toolchain has no $b"
  done

  gen_pki
  identity
  write_kubeconfig "$KUBECONFIG_FILE" admin admin
  write_kubeconfig "$STATE/kube-controller-manager.kubeconfig" system:kube-controller-manager kube-controller-manager
  write_kubeconfig "$STATE/kube-scheduler.kubeconfig" system:kube-scheduler kube-scheduler
  write_kubeconfig "$STATE/kwok.kubeconfig" kwok kwok
  cat >"$STATE/kwok.yaml" <<'EOF'
# kwok's own configuration (no Stage objects: kwok's built-in node and pod stages apply).
apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options: {}
EOF

  start etcd etcd --name "$CLUSTER_NAME" --data-dir "$STATE/etcd" \
    --listen-client-urls "http://$HOST:$ETCD_PORT" --advertise-client-urls "http://$HOST:$ETCD_PORT" \
    --listen-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://$HOST:$ETCD_PEER_PORT" \
    --initial-cluster "$CLUSTER_NAME=http://$HOST:$ETCD_PEER_PORT" \
    --log-level warn
  wait_for "etcd" 30 etcd_healthy

  start kube-apiserver kube-apiserver \
    --etcd-servers "http://$HOST:$ETCD_PORT" \
    --bind-address "$HOST" --secure-port "$API_PORT" --advertise-address "$HOST" \
    --endpoint-reconciler-type none \
    --cert-dir "$STATE/apiserver" \
    --tls-cert-file "$pki/apiserver.crt" --tls-private-key-file "$pki/apiserver.key" \
    --client-ca-file "$pki/ca.crt" \
    --authorization-mode Node,RBAC \
    --service-account-issuer "https://kubernetes.default.svc.cluster.local" \
    --service-account-key-file "$pki/sa.pub" \
    --service-account-signing-key-file "$pki/sa.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --allow-privileged=true \
    --requestheader-client-ca-file "$pki/front-proxy-ca.crt" \
    --requestheader-allowed-names front-proxy-client \
    --requestheader-username-headers X-Remote-User \
    --requestheader-group-headers X-Remote-Group \
    --requestheader-extra-headers-prefix X-Remote-Extra- \
    --proxy-client-cert-file "$pki/front-proxy-client.crt" \
    --proxy-client-key-file "$pki/front-proxy-client.key" \
    --profiling=false
  wait_for "kube-apiserver /readyz" 120 api_ready

  start kube-controller-manager kube-controller-manager \
    --kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-controller-manager.kubeconfig" \
    --bind-address "$HOST" --secure-port "$KCM_PORT" --cert-dir "$STATE/kube-controller-manager" \
    --leader-elect=false \
    --use-service-account-credentials=true \
    --root-ca-file "$pki/ca.crt" \
    --service-account-private-key-file "$pki/sa.key" \
    --cluster-signing-cert-file "$pki/ca.crt" --cluster-signing-key-file "$pki/ca.key" \
    --service-cluster-ip-range "$SERVICE_CIDR" \
    --cluster-cidr "$POD_CIDR" --allocate-node-cidrs=false \
    --flex-volume-plugin-dir "$STATE/kube-controller-manager/volume-plugins" \
    --profiling=false
  start kube-scheduler kube-scheduler \
    --kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authentication-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --authorization-kubeconfig "$STATE/kube-scheduler.kubeconfig" \
    --bind-address "$HOST" --secure-port "$SCHEDULER_PORT" --cert-dir "$STATE/kube-scheduler" \
    --leader-elect=false --profiling=false
  start kwok kwok \
    --kubeconfig "$STATE/kwok.kubeconfig" --config "$STATE/kwok.yaml" \
    --manage-all-nodes=true \
    --server-address "$HOST:$KWOK_PORT" \
    --node-port 10250 \
    --cidr "$POD_CIDR" \
    --node-lease-duration-seconds 40
  start metrics-stub python3 "$here/metrics_stub.py" "$METRICS_SERVER_IP" "$METRICS_PORT" \
    "$pki/metrics-server.crt" "$pki/metrics-server.key" "${NODE_IPS[@]}"

  wait_for "kube-controller-manager /healthz" 60 healthz "https://$HOST:$KCM_PORT/healthz"
  wait_for "kube-scheduler /healthz" 60 healthz "https://$HOST:$SCHEDULER_PORT/healthz"
  wait_for "kwok /healthz" 60 healthz "http://$HOST:$KWOK_PORT/healthz"

  say "creating ${#NODE_IPS[@]} worker nodes and TKGI's kube-system add-ons"
  nodes_yaml | k apply -f - >/dev/null
  sed -e "s/@METRICS_SERVER_IP@/$METRICS_SERVER_IP/" -e "s/@KUBE_DNS_IP@/$KUBE_DNS_IP/" \
    -e "s/port: 443$/port: $METRICS_PORT/" "$here/tkgi-addons.yaml" | k apply -f - >/dev/null

  wait_for "nodes Ready" 60 nodes_ready
  wait_for "ServiceAccount default/default" 60 k get serviceaccount default -n default
  wait_for "Deployments in kube-system" 120 k wait -n kube-system --for=condition=Available \
    --timeout=5s deployment/coredns deployment/metrics-server
  wait_for "APIService v1beta1.metrics.k8s.io Available" 60 apiservice_available
  say "up in $((SECONDS - t0)) s"
  cmd_status
  echo "export KUBECONFIG=$KUBECONFIG_FILE"
}

cmd_down() {
  local purge=false c i all
  [ "${1:-}" = "--purge" ] && purge=true
  read -r -a all <<<"${COMPONENTS[*]} $(monitor_components | tr '\n' ' ')"
  for ((i = ${#all[@]} - 1; i >= 0; i--)); do
    c="${all[$i]}"
    if [ -d "$run" ]; then
      stop "$c"
    fi
  done
  if $purge && [ -d "$STATE" ]; then
    [ -f "$STATE/.local-cluster" ] || die "$STATE has no .local-cluster marker: not removing it"
    rm -rf "$STATE"
    say "removed $STATE"
  fi
}

cmd_status() {
  local c pid up=0
  for c in "${COMPONENTS[@]}" $(monitor_components); do
    if pid="$(pid_of "$c")"; then
      printf '%-24s running (pid %s)\n' "$c" "$pid"
      up=$((up + 1))
    else
      printf '%-24s stopped\n' "$c"
    fi
  done
  if [ -f "$pki/admin.crt" ] && api_ready 2>/dev/null; then
    echo "api server:              https://$HOST:$API_PORT ready"
    if command -v kubectl >/dev/null; then
      echo "nodes:                   $(k get nodes --no-headers 2>/dev/null | wc -l)" \
        "($(k get nodes --no-headers 2>/dev/null | awk '$2 == "Ready"' | wc -l) Ready)"
    fi
    echo "kubeconfig:              $KUBECONFIG_FILE (context $CONTEXT)"
  else
    echo "api server:              not ready"
  fi
  [ "$up" -gt 0 ] || return 0
}

case "${1:-}" in
  up) cmd_up ;;
  monitor) cmd_monitor ;;
  down) shift; cmd_down "$@" ;;
  status) cmd_status ;;
  *) echo "usage: $0 {up|monitor|down [--purge]|status}" >&2; exit 2 ;;
esac
