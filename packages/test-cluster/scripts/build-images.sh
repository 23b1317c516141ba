#!/usr/bin/env bash
# Makes the container images the test cluster's real node runs, without
# Docker or a registry: `docker save` tarballs (written by
# ../go/images/cmd/mkimage) that `ctr -n k8s.io images import` loads.
#   - pause.tar: the pod sandbox image (../go/images/cmd/pause),
#   - hello.tar: Paved's example app (packages/example-app),
#   - netprobe.tar: a pod that dials on request (../go/images/cmd/netprobe),
#     for tests of what a pod can reach,
#   - with DATA_PLANE_BIN_DIR (what build-data-plane.sh prints): Knative
#     Serving's knative-<name>.tar and coredns.tar, from the binaries there.
# Also writes images.json, {"<file>.tar": "<image name>", ...}, so that code
# finds the images without repeating their names.
# The cache key hashes everything that goes into the images (sources, the Go
# version, the names below, the data plane's binaries, the CA bundle), so a
# second run with nothing changed only prints the directory.
# Prints the image directory on the last line of stdout.
#
# Usage: build-images.sh [DATA_PLANE_BIN_DIR]
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
repo="$(cd "$here/../.." && pwd)"

# Image names: the one place they are spelled out (images.json passes them on).
registry=registry.localhost
pause_tag=3.10
hello_tag=1.0.0
netprobe_tag=1.0.0
# The data plane's images are tagged with the versions their binaries were
# built from: Knative's pinned in go/crds/go.mod, CoreDNS's in versions.env
# (both read by build-data-plane.sh too).
# shellcheck source=SCRIPTDIR/../go/data-plane/versions.env
source "$here/go/data-plane/versions.env"
KNATIVE_SERVING_VERSION="$(awk '$1 == "knative.dev/serving" {print $2; exit}' "$here/go/crds/go.mod")"
knative_commands=(controller webhook autoscaler activator queue)
# Numeric users: pods with runAsNonRoot (Knative's) need one in the image.
nonroot=65532 # distroless' and ko's "nonroot"
pause_user=65535:65535 # as Kubernetes' own pause image

cache_root="${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}"
images_root="$cache_root/images"
app_dir="$repo/packages/example-app"
tools_dir="$here/go/images"
ca_certs=/etc/ssl/certs/ca-certificates.crt

log() { echo "[images] $*" >&2; }

data_plane="${1:-}"
if [[ -n "$data_plane" ]]; then
  [[ -d "$data_plane" ]] || { log "DATA_PLANE_BIN_DIR $data_plane is not a directory"; exit 1; }
  data_plane="$(cd "$data_plane" && pwd)"
fi
command -v go >/dev/null || { log "Go is required to build the images (https://go.dev/dl)"; exit 1; }

# What goes into the images, one line each, for the cache key. The data
# plane's binaries are keyed by size and mtime, not content: hashing
# 300 MB on every run would cost more than the check saves.
key_inputs() {
  local f
  go version
  echo "knative $KNATIVE_SERVING_VERSION coredns $COREDNS_VERSION"
  sha256sum "${BASH_SOURCE[0]}" | cut -d' ' -f1 # the names and flags above
  (cd "$repo" && find packages/example-app packages/test-cluster/go/images -type f \
    \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) -print0 |
    LC_ALL=C sort -z | xargs -0 sha256sum)
  [[ -f "$ca_certs" ]] && sha256sum "$ca_certs"
  if [[ -n "$data_plane" ]]; then
    echo "data plane $data_plane"
    for f in "${knative_commands[@]}" coredns; do
      [[ -f "$data_plane/$f" ]] && stat -c '%n %s %Y' "$data_plane/$f"
    done
  fi
  return 0
}
key="$(key_inputs | sha256sum | cut -c1-16)"
out_dir="$images_root/$key"

if [[ -f "$out_dir/images.json" ]]; then
  log "reusing images in $out_dir"
  echo "$out_dir"
  exit 0
fi

started=$SECONDS
mkdir -p "$images_root"
# Build in a private directory and rename it into place when complete, so
# that a concurrent or interrupted run never leaves a half-made image set.
work="$(mktemp -d "$images_root/.build.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# -buildvcs=false: VCS stamps would change the binaries, and so the image
# digests, with every commit. The images are Linux ones wherever this runs;
# mkimage itself runs here.
export CGO_ENABLED=0 GOWORK=off GOFLAGS=-buildvcs=false
build() { # module-dir package output [GOOS]
  local dir="$1" pkg="$2" out="$3" goos="${4:-}"
  (cd "$dir" && GOOS="${goos:-$(go env GOOS)}" go build -trimpath -ldflags "-s -w" -o "$work/.bin/$out" "$pkg")
}
log "building mkimage, pause, netprobe and the example app..."
build "$tools_dir" ./cmd/mkimage mkimage
build "$tools_dir" ./cmd/pause pause linux
build "$tools_dir" ./cmd/netprobe netprobe linux
build "$app_dir" . example-app linux

image_list=() # "file name" pairs, for images.json
mkimage() { # file name mkimage-flags...
  local file="$1" name="$2" id
  shift 2
  id="$("$work/.bin/mkimage" --name "$name" --out "$work/$file" "$@" 2>"$work/.mkimage.log")" || {
    cat "$work/.mkimage.log" >&2
    log "making $file failed"
    exit 1
  }
  log "$file: $name ($(du -h "$work/$file" | cut -f1), image ID ${id:7:12})"
  image_list+=("$file $name")
}

mkimage pause.tar "$registry/paved/pause:$pause_tag" \
  --file "$work/.bin/pause:/pause:0755" --entrypoint /pause --user "$pause_user" --ca-certs=false
mkimage hello.tar "$registry/paved/hello:$hello_tag" \
  --file "$work/.bin/example-app:/app:0755" --entrypoint /app --user "$nonroot" --expose 8080/tcp
mkimage netprobe.tar "$registry/paved/netprobe:$netprobe_tag" \
  --file "$work/.bin/netprobe:/netprobe:0755" --entrypoint /netprobe --user "$nonroot" --expose 8080/tcp

if [[ -n "$data_plane" ]]; then
  for c in "${knative_commands[@]}"; do
    if [[ ! -x "$data_plane/$c" ]]; then
      log "skipping knative-$c.tar: no $c in $data_plane"
      continue
    fi
    # As Knative's release images (built with ko): /ko-app/<name>, nonroot.
    mkimage "knative-$c.tar" "$registry/knative/$c:$KNATIVE_SERVING_VERSION" \
      --file "$data_plane/$c:/ko-app/$c:0755" --entrypoint "/ko-app/$c" --user "$nonroot"
  done
  if [[ -x "$data_plane/coredns" ]]; then
    # Root: it binds :53 (CoreDNS's own image runs as nonroot with
    # CAP_NET_BIND_SERVICE added by its Deployment).
    mkimage coredns.tar "$registry/coredns/coredns:$COREDNS_VERSION" \
      --file "$data_plane/coredns:/coredns:0755" --entrypoint /coredns --user 0 --expose 53/udp --expose 53/tcp
  else
    log "skipping coredns.tar: no coredns in $data_plane"
  fi
fi

{
  echo "{"
  for i in "${!image_list[@]}"; do
    read -r file name <<<"${image_list[$i]}"
    sep=","; [[ $i -eq $((${#image_list[@]} - 1)) ]] && sep=""
    echo "  \"$file\": \"$name\"$sep"
  done
  echo "}"
} >"$work/images.json"
rm -rf "$work/.bin" "$work/.mkimage.log"
chmod 755 "$work"

if [[ -f "$out_dir/images.json" ]]; then
  log "another run made $out_dir meanwhile; using that"
else
  rm -rf "$out_dir" # incomplete: no images.json
  mv -T "$work" "$out_dir"
fi
# Keep the three newest image sets: every change to the sources makes a new one.
# shellcheck disable=SC2012 # ls -t sorts by age portably; the names are hex keys
(cd "$images_root" && ls -1td -- */ 2>/dev/null | tail -n +4 | xargs -r rm -rf --)
log "images ready in $out_dir ($((SECONDS - started))s)"
echo "$out_dir"
