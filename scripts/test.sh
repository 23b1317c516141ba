#!/usr/bin/env bash
# Sets everything up and runs Paved's whole test suite: formatting, lint,
# type-check, then every package's tests against a real kube-apiserver (with
# a real node, Knative Serving and Traefik where a test needs running apps),
# SQLite and PostgreSQL. Safe to run again. Extra arguments go to Jest
# (for example a path filter).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"

started=$SECONDS
ensure_node
ensure_yarn
ensure_dependencies
ensure_debian_packages
ensure_control_plane
ensure_data_plane
log "set-up done in $((SECONDS - started))s"

cd "$paved_root"
state="$paved_root/.paved"
mkdir -p "$state"
pg_dir="$(mktemp -d /tmp/paved-postgres.XXXXXX)"
trap 'stop_postgres "$pg_dir"' EXIT
start_postgres "$pg_dir"

step() { local name="$1"; shift; local t=$SECONDS; log "$name..."; "$@"; log "$name passed in $((SECONDS - t))s"; }

step "prettier" yarn prettier --check --loglevel warn .
step "lint" yarn backstage-cli repo lint
step "type-check" yarn tsc --noEmit false

results="$state/jest-results.json"
rm -f "$results"
status=0
CI=true yarn backstage-cli repo test --ci --json --outputFile="$results" "$@" || status=$?

if [[ -f "$results" ]]; then
  node -e '
    const r = require(process.argv[1]);
    console.log(`\n[paved] suites: ${r.numPassedTestSuites} passed, ${r.numFailedTestSuites} failed`);
    console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
  ' "$results"
fi
log "whole suite took $((SECONDS - started))s"
exit "$status"
