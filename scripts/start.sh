#!/usr/bin/env bash
# Sets everything up and runs Paved: Backstage with the Paved plugins on the
# embedded SQLite database. Safe to run again.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_node
ensure_yarn
ensure_dependencies

cd "$paved_root"
log "starting Backstage: open http://localhost:3000 (backend on http://localhost:7007)"
exec yarn start
