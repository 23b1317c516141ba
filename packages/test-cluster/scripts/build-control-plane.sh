#!/usr/bin/env bash
# Builds etcd and Kubernetes' kube-apiserver, kube-controller-manager,
# kube-scheduler, kubelet, kube-proxy and kubectl from their Go
# modules (see ../go/*/go.mod) into a cache keyed by version, outside the git
# tree. Skips the build when the binaries for these versions already exist.
# Prints the bin directory on the last line of stdout.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
k8s_version="$(awk '/^require k8s.io\/kubernetes/ {print $3}' "$here/go/kubernetes/go.mod")"
etcd_version="$(awk '/^require go.etcd.io\/etcd\/server\/v3/ {print $3}' "$here/go/etcd/go.mod")"
cache_root="${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}"
bin_dir="$cache_root/control-plane/kubernetes-$k8s_version-etcd-$etcd_version/bin"

log() { echo "[control-plane] $*" >&2; }

# The upstream CRDs (Knative Serving, Capsule, Cilium) are read from the Go
# module cache; go.sum in go/crds verifies what the proxy serves.
fetch_crd_modules() {
  local modules
  modules="$(awk '/^\t[a-z][^ ]+ v[0-9]/ {print $1 "@" $2}' "$here/go/crds/go.mod")"
  log "fetching upstream CRD modules: $(echo $modules)"
  (cd "$here/go/crds" && go mod download $modules)
}

k8s_commands=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)
have_all() {
  local c
  for c in etcd "${k8s_commands[@]}"; do [[ -x "$bin_dir/$c" ]] || return 1; done
}

if have_all; then
  log "reusing binaries in $bin_dir"
  if command -v go >/dev/null; then fetch_crd_modules; fi
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
  if command -v go >/dev/null; then fetch_crd_modules; fi
  echo "$bin_dir"
  exit 0
fi

command -v go >/dev/null || { log "Go is required to build the control plane (https://go.dev/dl)"; exit 1; }
mkdir -p "$bin_dir.partial"
# Keep what a previous, interrupted run already built.
[[ -d "$bin_dir" ]] && cp -n "$bin_dir"/* "$bin_dir.partial/" 2>/dev/null || true
export CGO_ENABLED=0 GOFLAGS=-mod=mod

build() { # module-dir package output ldflags
  local dir="$1" pkg="$2" out="$3" ldflags="${4:-}"
  local started=$SECONDS
  if [[ -x "$bin_dir.partial/$out" ]]; then return; fi
  log "building $out (cold builds take several minutes on two cores)..."
  (cd "$dir" && go build -trimpath -ldflags "-s -w $ldflags" -o "$bin_dir.partial/$out" "$pkg")
  log "built $out in $((SECONDS - started))s"
}

major="${k8s_version#v}"; major="${major%%.*}"
minor="${k8s_version#v*.}"; minor="${minor%%.*}"
version_flags="-X k8s.io/component-base/version.gitVersion=$k8s_version -X k8s.io/component-base/version.gitMajor=$major -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$k8s_version -X k8s.io/client-go/pkg/version.gitMajor=$major -X k8s.io/client-go/pkg/version.gitMinor=$minor"

log "downloading modules (kubernetes $k8s_version, etcd $etcd_version)..."
(cd "$here/go/etcd" && go mod download)
(cd "$here/go/kubernetes" && go mod download)
fetch_crd_modules
build "$here/go/etcd" go.etcd.io/etcd/server/v3 etcd
for c in "${k8s_commands[@]}"; do
  build "$here/go/kubernetes" "k8s.io/kubernetes/cmd/$c" "$c" "$version_flags"
done

rm -rf "$bin_dir"
mv "$bin_dir.partial" "$bin_dir"
log "binaries ready in $bin_dir"
echo "$bin_dir"
