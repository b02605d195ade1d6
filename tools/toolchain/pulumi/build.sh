#!/usr/bin/env bash
# Builds the pulumi group into OUT/bin: the Pulumi CLI, the Python language host (with the
# upstream exec and dynamic-provider scripts next to it) and the Kubernetes provider, each from its
# own wrapper module here. Called by ../build.sh as `bash ./build.sh OUT`; see README.md.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build.sh OUT}"
# shellcheck source=tools/toolchain/versions.env
source "$here/../versions.env"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
mkdir -p "$out/bin"

# The wrapper go.mod files must require exactly the pins in versions.env.
check_pin() {  # wrapper module path version
  local have
  have="$(awk -v m="$2" '$1 == m { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' \
    "$here/$1/go.mod")"
  if [ "$have" != "$3" ]; then
    echo "pulumi/build.sh: $1/go.mod requires $2 ${have:-(nothing)}, versions.env pins $3;" \
      "run go get $2@$3 && go mod tidy in tools/toolchain/pulumi/$1" >&2
    exit 1
  fi
}
check_pin cli github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_VERSION"
check_pin cli github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_VERSION"
check_pin language-python github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_VERSION"
check_pin kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4 "$PULUMI_KUBERNETES_PROVIDER_MODULE"
check_pin kubernetes github.com/pulumi/pulumi-kubernetes/sdk/v4 "v$PULUMI_KUBERNETES_VERSION"

build() {  # wrapper output-name ldflags package
  local start=$SECONDS
  (cd "$here/$1" && nice -n 5 go build -trimpath -ldflags "-s -w $3" -o "$out/bin/$2" "$4")
  echo "pulumi/build.sh: $2 built in $((SECONDS - start)) s" >&2
}

# 1. The CLI.
build cli pulumi "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi

# 2. The Python language host, and the scripts of the same sdk/v3 release it runs.
build language-python pulumi-language-python "-X main.version=$PULUMI_VERSION" .
sdk="$(cd "$here/language-python" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi/sdk/v3)"
install -m 0755 "$sdk/python/cmd/pulumi-language-python-exec" "$out/bin/"
install -m 0755 "$sdk/python/dist/pulumi-resource-pulumi-python" "$out/bin/"

# 3. The Kubernetes provider: our main package, built in a temporary copy of the wrapper next to
# the schema files copied out of the provider module (not in the repository, not in its zip).
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$here/kubernetes/." "$tmp/"
provider="$(cd "$tmp" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4 &&
  go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
(cd "$tmp" && go run ./gen "$provider/cmd/pulumi-resource-kubernetes" . "$PULUMI_KUBERNETES_VERSION")
start=$SECONDS
(cd "$tmp" && nice -n 5 go build -trimpath -ldflags "-s -w \
  -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$PULUMI_KUBERNETES_VERSION" \
  -o "$out/bin/pulumi-resource-kubernetes" .)
echo "pulumi/build.sh: pulumi-resource-kubernetes built in $((SECONDS - start)) s" >&2

"$out/bin/pulumi" version
