#!/usr/bin/env bash
# Builds (or reuses) the real toolchain from Go modules into a cache outside the repository.
# One cache entry per group, keyed by the hash of versions.env and the group's own files, so a
# warm run only hashes a few files. Usage: tools/toolchain/build.sh [group ...] (default: all).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=tools/toolchain/env.sh
source "$here/env.sh"
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=("${TOOLCHAIN_GROUPS[@]}")
build_group() {
  local group="$1" out start
  out="$(toolchain_dir "$group")"
  [ -f "$out/.complete" ] && return 0
  echo "toolchain: building $group into $out (cold builds take long; see README)" >&2
  rm -rf "$out.partial"
  mkdir -p "$out.partial/bin"
  start=$SECONDS
  (cd "$here/$group" && bash ./build.sh "$out.partial")
  touch "$out.partial/.complete"
  rm -rf "$out"
  mv "$out.partial" "$out"
  echo "toolchain: $group built in $((SECONDS - start)) s" >&2
}

# The groups at once: a cold build is mostly module downloads and single-package compiles, which
# overlap well on two cores (measured: about 37 min for all three, against about 64 one by one).
pids=()
for group in "${groups[@]}"; do
  build_group "$group" &
  pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
exit "$failed"
