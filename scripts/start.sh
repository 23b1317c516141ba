#!/usr/bin/env bash
# Sets everything up and runs Paved: Backstage with the Paved plugins on the
# embedded SQLite database, the operator, and a cluster to run them against.
#
# - With KUBECONFIG pointing at a reachable cluster that has Knative Serving,
#   Paved uses that cluster and starts nothing else.
# - Otherwise it starts a local control plane (built from Go modules, see
#   packages/test-cluster) with the Knative status simulator, and the UI says
#   that app URLs are simulated.
#
# Safe to run again. Ctrl-C stops everything it started.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ensure_node
ensure_yarn
ensure_dependencies
cd "$paved_root"

state="$paved_root/.paved"
mkdir -p "$state" "$state/sqlite"
pids=()
cleanup() {
  trap - EXIT INT TERM
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits until `pattern` appears in `file`, or fails if process `pid` dies.
wait_for_line() {
  local file="$1" pattern="$2" pid="$3" what="$4" limit="${5:-300}"
  local waited=0
  until grep -q "$pattern" "$file" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "$what stopped; see $file"
    ((waited++ < limit * 2)) || die "$what did not start within ${limit}s; see $file"
    sleep 0.5
  done
}

has_knative() {
  [[ -n "${KUBECONFIG:-}" ]] || return 1
  node -e '
    const k8s = require("@kubernetes/client-node");
    const kc = new k8s.KubeConfig(); kc.loadFromDefault();
    kc.makeApiClient(k8s.ApiextensionsV1Api)
      .readCustomResourceDefinition({ name: "services.serving.knative.dev" })
      .then(() => process.exit(0), () => process.exit(1));
    setTimeout(() => process.exit(1), 10000);
  '
}

simulated=false
if has_knative; then
  log "using the cluster in KUBECONFIG ($KUBECONFIG): it has Knative Serving; no simulator"
  kubeconfig="$KUBECONFIG"
else
  [[ -n "${KUBECONFIG:-}" ]] && log "KUBECONFIG ($KUBECONFIG) has no reachable Knative Serving; starting a local cluster instead"
  ensure_control_plane
  kubeconfig="$state/kubeconfig"
  log "starting the local control plane with the Knative status simulator (log: $state/cluster.log)"
  node packages/test-cluster/scripts/cluster.js up --simulate-knative --kubeconfig "$kubeconfig" >"$state/cluster.log" 2>&1 &
  pids+=($!)
  wait_for_line "$state/cluster.log" "export KUBECONFIG" "${pids[-1]}" "the local cluster"
  simulated=true
fi

log "starting the operator (log: $state/operator.log)"
KUBECONFIG="$kubeconfig" PAVED_LEADER_ELECTION=false PAVED_METRICS_PORT=0 PAVED_METRICS_HOST=127.0.0.1 \
  yarn workspace @paved/operator start >"$state/operator.log" 2>&1 &
pids+=($!)
wait_for_line "$state/operator.log" "paved operator started" "${pids[-1]}" "the operator" 120

export APP_CONFIG_paved_kubernetes_kubeconfig="$kubeconfig"
export APP_CONFIG_paved_simulatedKnative="$simulated"
log "starting Backstage: open http://localhost:3000 (backend: http://localhost:7007; kubectl: KUBECONFIG=$kubeconfig)"
yarn start &
pids+=($!)
wait "${pids[-1]}"
