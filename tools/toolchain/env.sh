# Sourced, not run: where the pinned toolchain lives and a PATH that puts it first.
# PKS_TOOLCHAIN_CACHE moves the cache (default: ~/.cache/pks-monitoring/toolchain).
_toolchain_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TOOLCHAIN_GROUPS=(pulumi kubernetes monitoring)
TOOLCHAIN_CACHE="${PKS_TOOLCHAIN_CACHE:-$HOME/.cache/pks-monitoring/toolchain}"
# shellcheck source=tools/toolchain/versions.env
source "$_toolchain_here/versions.env"
export GOFLAGS="${GOFLAGS:--buildvcs=false}" GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"

toolchain_key() {  # the hash of a group's pins and files: its cache entry's name
  (cd "$_toolchain_here" && cat versions.env && find "$1" -type f -print0 \
    | LC_ALL=C sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}

toolchain_dir() {
  echo "$TOOLCHAIN_CACHE/$1-$(toolchain_key "$1")"
}

toolchain_path() {  # PATH with every built group's bin first
  local group dirs=""
  for group in "${TOOLCHAIN_GROUPS[@]}"; do
    dirs="$dirs$(toolchain_dir "$group")/bin:"
  done
  echo "$dirs$PATH"
}
