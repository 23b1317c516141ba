#!/usr/bin/env bash
# Runs the fault harness (src/run.ts) with everything it needs: Node and the
# dependencies, the control plane's binaries, and a PostgreSQL server of its
# own for the backend replicas. Arguments go to the harness (--help-less:
# see src/run.ts for the flags). Safe to run again.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
source "$root/scripts/lib.sh"
source "$root/scripts/postgres.sh"
ensure_node
ensure_yarn
ensure_dependencies
ensure_debian_packages
ensure_control_plane
pg_dir="$(mktemp -d /tmp/paved-faults-postgres.XXXXXX)"
trap 'stop_postgres "$pg_dir"' EXIT
start_postgres "$pg_dir"
cd "$root/packages/fault-harness"
node --require @backstage/cli/config/nodeTransform.cjs src/run.ts "$@"
