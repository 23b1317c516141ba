#!/usr/bin/env bash
# Builds the test cluster's data plane from Go modules into a cache keyed by
# version, outside the git tree:
#   - Knative Serving's controller, webhook, autoscaler, activator and queue
#     (queue-proxy) from knative.dev/serving,
#   - Traefik (the Knative networking layer, its Knative provider),
#   - CoreDNS (cluster DNS),
#   - kube-router (the node's NetworkPolicy enforcer),
# Knative's version is pinned in ../go/crds/go.mod (the manifests the cluster
# applies are read from the same modules, see src/dataPlane/knative.ts);
# Traefik's and CoreDNS's in ../go/data-plane/versions.env; kube-router's in
# ../go/kube-router/go.mod (a wrapper module that also raises some of its
# dependencies). Skips the build when everything for these versions already
# exists.
# Prints the bin directory on the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=../go/data-plane/versions.env
source "$here/go/data-plane/versions.env"
pinned() { awk -v m="$1" '$1 == m {print $2; exit}' "$here/go/crds/go.mod"; }
KNATIVE_SERVING_VERSION="$(pinned knative.dev/serving)"
KNATIVE_NETWORKING_VERSION="$(pinned knative.dev/networking)"
KNATIVE_CACHING_VERSION="$(pinned knative.dev/caching)"
KUBE_ROUTER_VERSION="$(awk '/^require github.com\/cloudnativelabs\/kube-router\/v2/ {print $3}' "$here/go/kube-router/go.mod")"
cache_root="${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}"
base_name="knative-$KNATIVE_SERVING_VERSION-traefik-$TRAEFIK_VERSION-coredns-$COREDNS_VERSION"
# kube-router's wrapper go.sum is in the key: raising a dependency there
# builds it again.
kube_router_key="$KUBE_ROUTER_VERSION-$(sha256sum "$here/go/kube-router/go.sum" | cut -c1-8)"
out_dir="$cache_root/data-plane/$base_name-kube-router-$kube_router_key"
bin_dir="$out_dir/bin"

log() { echo "[data-plane] $*" >&2; }

knative_commands=(controller webhook autoscaler activator queue)
# Traefik is built with the patches in go/data-plane/ (what its experimental
# Knative provider lacks; see README.md there); a stamp of their hash beside
# the binary tells a build with other patches.
traefik_patches=("$here"/go/data-plane/traefik-*.patch)
traefik_stamp="$(cat "${traefik_patches[@]}" | sha256sum | cut -c1-16)"
have_all() {
  local c
  for c in "${knative_commands[@]}" traefik coredns kube-router; do [[ -x "$bin_dir/$c" ]] || return 1; done
  [[ "$(cat "$bin_dir/.traefik-patches" 2>/dev/null)" == "$traefik_stamp" ]]
}

if have_all; then
  log "reusing binaries in $bin_dir"
  echo "$bin_dir"
  exit 0
fi

# One build at a time (a set-up and a test run, or two test workers, may
# start this at once): the second waits, then finds the binaries built.
mkdir -p "$(dirname "$bin_dir")"
exec 9>"$bin_dir.lock"
flock 9
if have_all; then
  log "reusing binaries in $bin_dir (built while this run waited)"
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build the data plane (https://go.dev/dl)"; exit 1; }
mkdir -p "$bin_dir.partial" "$cache_root/data-plane"
# Keep what a previous, interrupted run already built (Traefik only if it
# was built with these patches), and Knative's, Traefik's and CoreDNS's
# binaries of the same versions from a set built with another kube-router
# (or none): only kube-router is built then.
[[ -d "$bin_dir" ]] && cp -n "$bin_dir"/* "$bin_dir"/.traefik-patches "$bin_dir.partial/" 2>/dev/null || true
for previous in "$cache_root/data-plane/$base_name"{,-kube-router-*}/bin; do
  [[ -d "$previous" && "$previous" != "$bin_dir" ]] || continue
  for c in "${knative_commands[@]}" traefik coredns .traefik-patches; do
    # Hard links: no copy of 450 MB, and the same mtimes (build-images.sh's key).
    [[ -e "$previous/$c" ]] && { cp -nl "$previous/$c" "$bin_dir.partial/" 2>/dev/null || cp -n "$previous/$c" "$bin_dir.partial/"; }
  done
done
if [[ "$(cat "$bin_dir.partial/.traefik-patches" 2>/dev/null)" != "$traefik_stamp" ]]; then
  rm -f "$bin_dir.partial/traefik" "$bin_dir.partial/.traefik-patches"
fi

# Writable copies of the module sources live here during the build only.
work_dir="$(mktemp -d "$cache_root/data-plane/src.XXXXXX")"
cleanup() { chmod -R u+w "$work_dir" 2>/dev/null || true; rm -rf "$work_dir"; }
trap cleanup EXIT

# Prints the module cache directory of MODULE@VERSION, downloading it first.
module_dir() {
  local json dir
  json="$(cd / && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$1")" || {
    log "go mod download $1 failed: $json"; return 1; }
  dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
  [[ -n "$dir" && -d "$dir" ]] || { log "no module directory for $1 in: $json"; return 1; }
  echo "$dir"
}

# Copies MODULE@VERSION's directory to a writable place; prints that place.
writable_copy() { # module@version name
  local src
  # Explicit returns: errexit does not reach into command substitutions.
  src="$(module_dir "$1")" || return 1
  if [[ ! -d "$work_dir/$2" ]]; then
    cp -R "$src" "$work_dir/$2" || return 1
    chmod -R u+w "$work_dir/$2" || return 1
  fi
  echo "$work_dir/$2"
}

export CGO_ENABLED=0 GOWORK=off GOFLAGS="-mod=mod -buildvcs=false"

build() { # module-dir package output [ldflags]
  local dir="$1" pkg="$2" out="$3" ldflags="${4:-}"
  local started=$SECONDS
  log "building $out from $pkg (a cold build takes minutes on two cores)..."
  # Link to a temporary name so an interrupted build never leaves a partial
  # binary that a later run would take as built.
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin_dir.partial/.$out.tmp" "$pkg")
  mv "$bin_dir.partial/.$out.tmp" "$bin_dir.partial/$out"
  log "built $out in $((SECONDS - started))s ($(du -h "$bin_dir.partial/$out" | cut -f1))"
}
needs() { [[ ! -x "$bin_dir.partial/$1" ]]; }

log "downloading knative.dev/serving@$KNATIVE_SERVING_VERSION..."
serving_src="$(module_dir "knative.dev/serving@$KNATIVE_SERVING_VERSION")"
# go/crds/go.mod must pin the networking and caching versions serving needs.
for m in networking:"$KNATIVE_NETWORKING_VERSION" caching:"$KNATIVE_CACHING_VERSION"; do
  required="$(awk -v m="knative.dev/${m%%:*}" '$1 == m {print $2; exit}' "$serving_src/go.mod")"
  if [[ "$required" != "${m#*:}" ]]; then
    log "go/crds/go.mod pins knative.dev/${m%%:*} ${m#*:}, but serving $KNATIVE_SERVING_VERSION requires $required"
    exit 1
  fi
done

for c in "${knative_commands[@]}"; do
  if needs "$c"; then
    src="$(writable_copy "knative.dev/serving@$KNATIVE_SERVING_VERSION" serving)"
    build "$src" "./cmd/$c" "$c"
  fi
done
if needs traefik; then
  # Its go.mod has replace lines: build it as the main module.
  src="$(writable_copy "github.com/traefik/traefik/v3@$TRAEFIK_VERSION" traefik)"
  for patch in "${traefik_patches[@]}"; do
    log "patching traefik: $(basename "$patch")"
    patch --quiet --forward -p1 -d "$src" <"$patch"
  done
  build "$src" ./cmd/traefik traefik "-X github.com/traefik/traefik/v3/pkg/version.Version=$TRAEFIK_VERSION"
  echo "$traefik_stamp" >"$bin_dir.partial/.traefik-patches"
fi
if needs coredns; then
  # The main package is the module root; default plugin set (plugin.cfg).
  src="$(writable_copy "github.com/coredns/coredns@$COREDNS_VERSION" coredns)"
  build "$src" . coredns "-X github.com/coredns/coredns/coremain.GitCommit=$COREDNS_VERSION"
fi

if needs kube-router; then
  # No replace lines upstream: built from the wrapper module, which pins it.
  build "$here/go/kube-router" github.com/cloudnativelabs/kube-router/v2/cmd/kube-router kube-router \
    "-X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION"
fi

rm -rf "$bin_dir"
mv "$bin_dir.partial" "$bin_dir"
log "binaries ready in $bin_dir"
echo "$bin_dir"
