#!/usr/bin/env bash
# Builds KWOK (sigs.k8s.io/kwok, the kubernetes-sigs simulator of nodes and
# their pods) into a cache keyed by version, outside the git tree, and
# writes beside it the Stage configuration KWOK's own kwokctl uses by
# default (nodes made Ready and kept alive by their lease; pods Running and
# Ready at once, completed and deleted as a kubelet would), read from the
# same module. Only benchmarks use it (src/kwok.ts).
# Prints the directory (bin/kwok, kwok.yaml) on the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../go/data-plane/versions.env
source "$here/go/data-plane/versions.env"
cache_root="${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}"
out_dir="$cache_root/kwok/kwok-$KWOK_VERSION"
log() { echo "[kwok] $*" >&2; }

if [[ -x "$out_dir/bin/kwok" && -s "$out_dir/kwok.yaml" ]]; then
  log "reusing $out_dir"
  echo "$out_dir"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build KWOK (https://go.dev/dl)"; exit 1; }
mkdir -p "$out_dir.partial/bin"
log "building sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION (a few minutes cold on two cores)..."
started=$SECONDS
GOBIN="$out_dir.partial/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod \
  go install "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2
log "built kwok in $((SECONDS - started))s"

module="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION"
stages=(
  kustomize/stage/node/fast/node-initialize.yaml
  kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  kustomize/stage/pod/fast/pod-ready.yaml
  kustomize/stage/pod/fast/pod-complete.yaml
  kustomize/stage/pod/fast/pod-delete.yaml
)
{
  for stage in "${stages[@]}"; do
    echo "---"
    cat "$module/$stage"
  done
} > "$out_dir.partial/kwok.yaml"
rm -rf "$out_dir"
mv "$out_dir.partial" "$out_dir"
echo "$out_dir"
