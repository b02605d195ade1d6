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
# A Pulumi CLI already installed at the pinned version (an official release: the Python language
# host ships beside it) and the Kubernetes provider installed as a plugin at its pinned version
# (`pulumi plugin install resource kubernetes <version>`: the plugin folder names its version) are
# used as they are: the pulumi group's cache entry then holds links to them, nothing is built.
# PKS_PULUMI_INSTALLED=false builds them all the same.
installed_pulumi() {  # OUT/bin: link the installed binaries there; fails if any is missing
  local cli dir plugin bin
  [ "${PKS_PULUMI_INSTALLED:-true}" = true ] || return 1
  cli="$(PATH="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v "^$TOOLCHAIN_CACHE/" | paste -sd:)" \
    command -v pulumi)" || return 1
  [ "$("$cli" version 2>/dev/null)" = "v$PULUMI_VERSION" ] || return 1
  dir="$(dirname "$(readlink -f "$cli")")"
  plugin="${PULUMI_HOME:-$HOME/.pulumi}/plugins/resource-kubernetes-v$PULUMI_KUBERNETES_VERSION/pulumi-resource-kubernetes"
  for bin in pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
    [ -x "$dir/$bin" ] || return 1
  done
  [ -x "$plugin" ] || return 1
  mkdir -p "$1"
  for bin in pulumi pulumi-language-python pulumi-language-python-exec pulumi-resource-pulumi-python; do
    ln -sf "$dir/$bin" "$1/$bin"
  done
  ln -sf "$plugin" "$1/pulumi-resource-kubernetes"
  echo "toolchain: pulumi v$PULUMI_VERSION ($dir) and kubernetes $PULUMI_KUBERNETES_VERSION ($plugin) are installed: used, not built" >&2
}

build_group() {
  local group="$1" out start
  out="$(toolchain_dir "$group")"
  # A cache entry of links is stale once what it links to is gone.
  if [ -f "$out/.complete" ] && ! find -L "$out/bin" -type l | grep -q .; then
    return 0
  fi
  rm -rf "$out.partial"
  if [ "$group" = pulumi ] && installed_pulumi "$out.partial/bin"; then
    touch "$out.partial/.complete"
    rm -rf "$out"
    mv "$out.partial" "$out"
    return 0
  fi
  echo "toolchain: building $group into $out (cold builds take long; see README)" >&2
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
