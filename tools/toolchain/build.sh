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
for group in "${groups[@]}"; do
  out="$(toolchain_dir "$group")"
  if [ -f "$out/.complete" ]; then
    continue
  fi
  echo "toolchain: building $group into $out (cold builds take long; see README)" >&2
  rm -rf "$out.partial"
  mkdir -p "$out.partial/bin"
  start=$SECONDS
  (cd "$here/$group" && bash ./build.sh "$out.partial")
  touch "$out.partial/.complete"
  rm -rf "$out"
  mv "$out.partial" "$out"
  echo "toolchain: $group built in $((SECONDS - start)) s" >&2
done
