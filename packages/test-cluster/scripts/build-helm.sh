#!/usr/bin/env bash
# Builds Helm (helm.sh/helm/v4, its CLI) from its Go module into a cache
# keyed by version, outside the git tree. The operator's chart tests
# (operator/src/chart.test.ts) lint and render operator/chart with it; they
# run this script through ensureHelm() (src/helm.ts), so a fresh machine
# builds it on the first test run and reuses it after.
# Prints the directory (bin/helm) on the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../go/data-plane/versions.env
source "$here/go/data-plane/versions.env"
cache_root="${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}"
out_dir="$cache_root/helm/helm-$HELM_VERSION"
log() { echo "[helm] $*" >&2; }

have_helm() { [[ -x "$out_dir/bin/helm" ]]; }
if have_helm; then
  log "reusing $out_dir"
  echo "$out_dir"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build Helm (https://go.dev/dl)"; exit 1; }
mkdir -p "$cache_root/helm"
# Jest runs test files in parallel, and several may ask for Helm on a fresh
# machine: one builds, the others wait for it and reuse its binary.
exec 9>"$cache_root/helm/.build.lock"
flock 9
if have_helm; then
  log "another run built $out_dir meanwhile; reusing it"
  echo "$out_dir"
  exit 0
fi
rm -rf "$out_dir.partial"
mkdir -p "$out_dir.partial/bin"
log "building helm.sh/helm/v4/cmd/helm@$HELM_VERSION (about five minutes cold on two cores)..."
started=$SECONDS
# helm.sh/helm/v4 has no replace lines, so `go install` works as is. The
# version flag is what Helm's Makefile sets for a tagged build (without it
# `helm version` says v4.3).
GOBIN="$out_dir.partial/bin" CGO_ENABLED=0 GOFLAGS=-mod=mod \
  go install -trimpath \
  -ldflags "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION" \
  "helm.sh/helm/v4/cmd/helm@$HELM_VERSION" >&2
log "built helm in $((SECONDS - started))s"
rm -rf "$out_dir"
mv "$out_dir.partial" "$out_dir"
echo "$out_dir"
