#!/usr/bin/env bash
# Builds the local control plane: kube-apiserver, kube-controller-manager, kube-scheduler (kube/),
# etcd (etcd/) and kwok (kwok/) into <OUT>/bin. Called by tools/toolchain/build.sh as
#   cd tools/toolchain/kubernetes && bash ./build.sh <OUT>
# Pins come from ../versions.env; each wrapper go.mod must require exactly those versions.
set -euo pipefail
out="${1:?usage: build.sh <OUT>}"
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/toolchain/versions.env
source "$here/../versions.env"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
mkdir -p "$out/bin"

fail() { echo "kubernetes/build.sh: $*" >&2; exit 1; }

# A go.mod line "<module> <version>" (require) or "<module> => <module> <version>" (replace).
need_require() {  # dir module version
  grep -Eq "^(require )?[[:space:]]*$2 $3( |$)" "$here/$1/go.mod" \
    || fail "$1/go.mod does not require $2 $3 (versions.env); update the wrapper"
}
need_replace() {  # dir module version
  grep -Eq "^[[:space:]]*$2 => $2 $3( |$)" "$here/$1/go.mod" \
    || fail "$1/go.mod does not replace $2 with $3 (versions.env); update the wrapper"
}

# --- checks: the wrappers pin what versions.env says --------------------------------------------
need_require kube k8s.io/kubernetes "$KUBERNETES_VERSION"
staging=$(grep -Ec '^[[:space:]]*k8s\.io/[a-z0-9-]+ => k8s\.io/[a-z0-9-]+ v0\.' "$here/kube/go.mod")
[ "$staging" -eq 31 ] || fail "kube/go.mod: expected 31 staging replaces, found $staging"
while read -r mod; do
  if [ "$mod" = k8s.io/endpointslice ]; then
    need_replace kube "$mod" "$KUBERNETES_ENDPOINTSLICE_VERSION"
  else
    need_replace kube "$mod" "$KUBERNETES_STAGING_VERSION"
  fi
done < <(grep -Eo '^[[:space:]]*k8s\.io/[a-z0-9-]+ =>' "$here/kube/go.mod" | awk '{print $1}')
need_require etcd go.etcd.io/etcd/server/v3 "$KUBE_ETCD_VERSION"
for sib in api/v3 client/pkg/v3 client/v3 pkg/v3 raft/v3; do
  need_require etcd "go.etcd.io/etcd/$sib" "$KUBE_ETCD_VERSION"
done
need_require etcd go.etcd.io/etcd/client/v2 "v2.305.${KUBE_ETCD_VERSION#v3.5.}"
need_require kwok sigs.k8s.io/kwok "$KWOK_VERSION"

# --- build, one heavy go build at a time ---------------------------------------------------------
build_date="${SOURCE_DATE_EPOCH:+$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)}"
build_date="${build_date:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}"
gobuild() {  # dir ldflags pkg...
  local dir="$1" ldflags="$2"
  shift 2
  (cd "$here/$dir" && go mod verify >/dev/null \
    && nice -n 5 go build -mod=readonly -trimpath -ldflags "-s -w $ldflags" -o "$out/bin/" "$@")
}

# Kubernetes: the same -X pairs as hack/lib/version.sh (component-base and client-go).
kv="$KUBERNETES_VERSION"
minor="${kv#v1.}"; minor="${minor%%.*}"
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$kv -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$build_date"
done
echo "kubernetes/build.sh: kube-apiserver, kube-controller-manager, kube-scheduler, kubectl $kv" >&2
gobuild kube "$k8s_ldflags" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubectl

# etcd: main package at the server module root; the binary is named after the package dir.
echo "kubernetes/build.sh: etcd $KUBE_ETCD_VERSION" >&2
(cd "$here/etcd" && go mod verify >/dev/null \
  && nice -n 5 go build -mod=readonly -trimpath -ldflags "-s -w" -o "$out/bin/etcd" go.etcd.io/etcd/server/v3)

# kwok: version package per its Makefile (pkg/consts.Version).
echo "kubernetes/build.sh: kwok $KWOK_VERSION" >&2
gobuild kwok "-X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION" sigs.k8s.io/kwok/cmd/kwok

# --- smoke: every binary runs and reports the pinned version -------------------------------------
"$out/bin/kube-apiserver" --version | grep -qx "Kubernetes $kv" || fail "kube-apiserver --version"
"$out/bin/kube-controller-manager" --version | grep -qx "Kubernetes $kv" || fail "kcm --version"
"$out/bin/kube-scheduler" --version | grep -qx "Kubernetes $kv" || fail "kube-scheduler --version"
"$out/bin/kubectl" version --client | grep -x "Client Version: $kv" >/dev/null || fail "kubectl version --client"
"$out/bin/etcd" --version | grep -q "etcd Version: ${KUBE_ETCD_VERSION#v}" || fail "etcd --version"
"$out/bin/kwok" --version 2>&1 | grep -q "$KWOK_VERSION" || fail "kwok --version"
ls -l "$out/bin" >&2
