#!/usr/bin/env bash
# Sets everything up and runs Paved: Backstage with the Paved plugins on the
# embedded SQLite database, the operator, and a cluster to run them against.
#
# - With KUBECONFIG pointing at a reachable cluster that has Knative Serving,
#   Paved uses that cluster and starts no cluster of its own.
# - Otherwise it starts a local cluster (packages/test-cluster): a control
#   plane and a real node built from Go modules, real Knative Serving and
#   Traefik as the ingress, so apps run in real containers and answer at
#   http://<app>.tenant-<tenant>.localhost. A real node needs root.
#
# Arguments go to the local cluster (`yarn cluster up --help`), for example
# `--ingress-port 8080` or `--autoscaler stable-window=6s`.
#
# A part that dies (the cluster, the operator, Backstage) is restarted, with a
# growing pause between attempts. Ctrl-C, SIGTERM and SIGHUP all stop
# everything it started and wait until it is gone. Logs are in .paved/.
# Safe to run again; a second copy in the same clone refuses to start.
#
# Everything below is in functions and runs from the last line: bash reads a
# script as it goes, so a `git pull` that changes this file under a running
# stack would otherwise break it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

state="$paved_root/.paved"
kubeconfig=""
declare -A pid=() log_file=() started_at=() failures=()

# --- starting and stopping the parts -------------------------------------------

# Each part runs in its own session and process group (setsid), so that
# stopping it reaches every process it spawned (Yarn's children, the
# Backstage CLI's backend and frontend), and a Ctrl-C in the terminal
# reaches only this script, which then stops the parts in order. If this
# script is killed outright, each part's first process still gets SIGTERM (a
# parent-death signal, where util-linux's setpriv is there).
launcher=(setsid)
command -v setpriv >/dev/null && launcher+=(setpriv --pdeathsig TERM)

# start_part NAME COMMAND...: starts it in the background, its output
# appended to .paved/NAME.log. This script's lock is not passed on.
start_part() {
  local name="$1"
  shift
  log_file[$name]="$state/$name.log"
  "${launcher[@]}" "$@" </dev/null >>"${log_file[$name]}" 2>&1 {lock_fd}>&- &
  pid[$name]=$!
  started_at[$name]=$SECONDS
}

# False for a process that is gone, or has exited but not been reaped yet.
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [[ "${stat:0:1}" != Z ]]
}

group_alive() {
  local member
  for member in $(pgrep -g "$1" 2>/dev/null); do
    alive "$member" && return 0
  done
  return 1
}

# stop_part NAME SECONDS: SIGTERM to its whole process group, SIGKILL to
# whatever is left after SECONDS; returns once every process of it is gone.
stop_part() {
  local name="$1" grace="$2"
  local leader="${pid[$name]:-}"
  [[ -n "$leader" ]] || return 0
  kill -TERM -- "-$leader" 2>/dev/null || kill -TERM "$leader" 2>/dev/null || true
  local deadline=$((SECONDS + grace))
  while group_alive "$leader"; do
    if ((SECONDS >= deadline)); then
      log "$name did not stop within ${grace}s; killing it"
      kill -KILL -- "-$leader" 2>/dev/null || true
      deadline=$((SECONDS + 10))
    fi
    sleep 0.2
  done
  wait "$leader" 2>/dev/null || true
  # Only now: a signal that stops this script half-way through still finds
  # the part in `pid`, and the clean-up stops it again.
  unset "pid[$name]"
}

# In the reverse order of start: Backstage and the operator first, so that
# they don't log a storm of connection errors while the cluster goes. The
# cluster CLI stops the node, Knative and the control plane and cleans up
# the machine (mounts, bridge, netfilter chains): it gets more time.
stop_all() {
  stop_part backstage 20
  stop_part operator 10
  stop_part cluster 90
}

on_exit() {
  local status=$?
  trap - EXIT INT TERM HUP
  [[ -z "$pause_pid" ]] || kill "$pause_pid" 2>/dev/null || true
  if ((${#pid[@]})); then
    log "stopping everything"
    stop_all
    log "stopped"
  fi
  rm -f "$state/start.pid"
  exit "$status"
}

# A pause that a signal interrupts at once: a `sleep` in the foreground would
# hold the trap until it is done, and `wait` does not. (Not `read -t`: bash
# 5.2 times it with an alarm that, when a trap exits during the read, fires
# later in the clean-up and crashes the shell.)
pause_pid=""
pause() {
  sleep "$1" {lock_fd}>&- &
  pause_pid=$!
  wait "$pause_pid" || true
  pause_pid=""
}

size_of() { stat -c %s "$1" 2>/dev/null || echo 0; }

# wait_ready NAME CHECK LIMIT [PROGRESS]: waits until CHECK succeeds, calling
# PROGRESS on the way; fails (status 1) if the part dies first, and stops
# everything if LIMIT seconds pass.
wait_ready() {
  local name="$1" check="$2" limit="$3" progress="${4:-:}"
  local deadline=$((SECONDS + limit))
  until "$progress" && "$check"; do
    alive "${pid[$name]}" || return 1
    ((SECONDS < deadline)) || die "$name did not start within ${limit}s; see ${log_file[$name]}"
    pause 0.5
  done
}

# --- the three parts ----------------------------------------------------------

# The cluster is ready when its log has a new "export KUBECONFIG" line since
# it was (re)started: the CLI prints it once the kubeconfig is written.
cluster_log_offset=0
cluster_ready() {
  tail -c "+$((cluster_log_offset + 1))" "${log_file[cluster]}" 2>/dev/null | grep -q "export KUBECONFIG"
}
# Its progress lines are shown while it starts, which takes minutes.
cluster_shown=0
cluster_progress() {
  local size
  size="$(size_of "${log_file[cluster]}")"
  ((size > cluster_shown)) || return 0
  tail -c "+$((cluster_shown + 1))" "${log_file[cluster]}" | head -c "$((size - cluster_shown))" |
    grep '^\[cluster\]' >&2 || true
  cluster_shown=$size
}
start_cluster() {
  cluster_log_offset="$(size_of "$state/cluster.log")"
  cluster_shown=$cluster_log_offset
  start_part cluster node packages/test-cluster/scripts/cluster.js up \
    --data-plane --kubeconfig "$kubeconfig" ${cluster_args[@]+"${cluster_args[@]}"}
}

operator_log_offset=0
operator_ready() {
  tail -c "+$((operator_log_offset + 1))" "${log_file[operator]}" 2>/dev/null | grep -q "paved operator started"
}
start_operator() {
  operator_log_offset="$(size_of "$state/operator.log")"
  # Traefik runs on the node's network, at the pod bridge's gateway
  # (NODE_NETWORK.gateway in packages/test-cluster): tenants' network policy
  # lets pods reach app URLs through it.
  KUBECONFIG="$kubeconfig" PAVED_LEADER_ELECTION=false PAVED_METRICS_PORT=0 PAVED_METRICS_HOST=127.0.0.1 \
    PAVED_GATEWAY_CIDRS=10.244.0.1/32 \
    start_part operator yarn workspace @paved/operator start
}

# GET with bash's /dev/tcp (a fresh Debian may have no curl): true on a 200.
# "localhost", as the browser uses: the dev server may listen on ::1 only.
http_ok() {
  (
    exec 3<>"/dev/tcp/localhost/$1" &&
      printf 'GET %s HTTP/1.0\r\nHost: localhost\r\n\r\n' "$2" >&3 &&
      read -rt 5 _ status _ <&3 &&
      [[ "$status" == 200 ]]
  ) 2>/dev/null
}
backstage_ready() { http_ok 7007 /.backstage/health/v1/readiness && http_ok 3000 /; }
start_backstage() {
  backend_answered=false
  backend_silent_since=""
  APP_CONFIG_paved_kubernetes_kubeconfig="$kubeconfig" start_part backstage yarn start
}

# A part that died is started again after 1, 2, 4, 8, 16, 30 s; one that ran
# for a minute or more starts from 1 s again. Six quick deaths in a row mean
# it cannot run (a port taken, a broken build): stop everything and say so.
# restart NAME WHAT: WHAT says how it died, for the log.
restart_limit=6
restart() {
  local name="$1" what="$2"
  local ran=$((SECONDS - started_at[$name]))
  ((ran >= 60)) && failures[$name]=0
  failures[$name]=$((${failures[$name]:-0} + 1))
  local attempt="${failures[$name]}"
  if ((attempt > restart_limit)); then
    unset "pid[$name]"
    die "$name died $restart_limit times in a row, each within a minute of starting; giving up. Its log: ${log_file[$name]}"
  fi
  local delay=$((1 << (attempt - 1)))
  ((delay > 30)) && delay=30
  log "$name $what; it ran ${ran}s; its log: ${log_file[$name]}; restarting it in ${delay}s (attempt $attempt of $restart_limit)"
  unset "pid[$name]"
  pause "$delay"
  printf '\n----- restarted by scripts/start.sh at %s -----\n' "$(date -Is)" >>"${log_file[$name]}"
  case "$name" in
    cluster)
      # A new cluster has a new API server address and certificates; the
      # operator and Backstage read the kubeconfig once, so they restart too.
      stop_part backstage 20
      stop_part operator 10
      start_cluster
      if ! wait_ready cluster cluster_ready 2400 cluster_progress; then
        reap cluster
        restart cluster "$how"
        return
      fi
      log "the cluster is back, as a new, empty cluster; restarting the operator and Backstage, which read its kubeconfig at start"
      start_operator
      start_backstage
      ;;
    operator) start_operator ;;
    backstage) start_backstage ;;
  esac
}

# Reaps a part whose process has exited, and says how in `how`. (Not a
# $(...): a subshell cannot wait for this shell's children.)
how=""
reap() {
  local status=0
  # (stderr: bash's own "Killed" notice for the job would repeat the news.)
  wait "${pid[$1]}" 2>/dev/null || status=$?
  how="(pid ${pid[$1]}) died with status $status"
}

# Backstage's backend runs under the Backstage CLI, which keeps serving the
# frontend when the backend dies: only asking the backend tells. False once
# it has been silent for 15 s (counted from its first answer after a start).
backend_answered=false
backend_silent_since=""
backend_check() {
  if http_ok 7007 /.backstage/health/v1/readiness; then
    backend_silent_since=""
    backend_answered=true
    return 0
  fi
  # Not up yet after a (re)start: give it five minutes before calling that dead.
  if [[ "$backend_answered" != true ]]; then
    ((SECONDS - started_at[backstage] < 300)) && return 0
  fi
  backend_silent_since="${backend_silent_since:-$SECONDS}"
  ((SECONDS - backend_silent_since < 15))
}

# Every two seconds: restart a part whose process exited, and Backstage when
# its backend stopped answering. A signal ends the pause at once.
supervise() {
  local name
  while :; do
    pause 2
    for name in "${!pid[@]}"; do
      if ! alive "${pid[$name]}"; then
        reap "$name"
        restart "$name" "$how"
        continue 2
      fi
    done
    if [[ -n "${pid[backstage]:-}" ]] && ! backend_check; then
      local leader="${pid[backstage]}"
      stop_part backstage 20
      restart backstage "(pid $leader): its backend has not answered on port 7007 for 15s (the Backstage CLI keeps the frontend up without it)"
    fi
  done
}

# --- which cluster --------------------------------------------------------------

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

cannot_run_node() {
  log "This machine cannot run a real Kubernetes node: $1."
  log "The local stack runs one, so that apps run in real containers. Either run"
  log "./scripts/start.sh as root on a machine with cgroups (a Debian VM or host),"
  log "or point KUBECONFIG at a real cluster with Knative Serving and run it again:"
  log "  KUBECONFIG=~/.kube/config ./scripts/start.sh"
  exit 1
}

# Checked before minutes of installing and building; the cluster CLI checks
# the same and more (checkNodePrerequisites in test-cluster's node.ts).
check_node_possible() {
  ((EUID == 0)) || cannot_run_node "it needs root (kubelet, containerd and iptables), and this runs as $(id -un)"
  [[ -d /sys/fs/cgroup/memory ]] || cannot_run_node "cgroup v1 controllers are not mounted at /sys/fs/cgroup"
}

# Starts the local cluster and waits for it; sets `urls`.
local_cluster() {
  check_node_possible
  ensure_debian_packages --node-only
  ensure_control_plane
  ensure_data_plane
  kubeconfig="$state/kubeconfig"
  : >"$state/cluster.log"
  log "starting the local cluster: a control plane, a real node, Knative Serving and Traefik (log: $state/cluster.log; it takes a few minutes, and waits while another Paved node runs on this machine)"
  local started=$SECONDS
  start_cluster
  if ! wait_ready cluster cluster_ready 2400 cluster_progress; then
    unset "pid[cluster]"
    local reason
    reason="$(grep -o 'cannot run a real Kubernetes node: .*' "${log_file[cluster]}" | head -1 || true)"
    if [[ -n "$reason" ]]; then
      reason="${reason#cannot run a real Kubernetes node: }"
      cannot_run_node "${reason%%. scripts/*}"
    fi
    tail -20 "${log_file[cluster]}" >&2
    die "the local cluster did not start; see ${log_file[cluster]}"
  fi
  urls="$(grep -o 'http://<app>\.<namespace>\.[^ ]*' "${log_file[cluster]}" | tail -1)"
  urls="${urls//<namespace>/tenant-<tenant>}"
  log "the local cluster is up in $((SECONDS - started))s; apps answer at $urls"
  # The node's containerd is where images go (see "Try it" in README.md).
  local logs
  logs="$(sed -n 's/^Logs: //p' "${log_file[cluster]}" | tail -1)"
  if [[ -S "${logs%/logs}/node/containerd/containerd.sock" ]]; then
    log "load an image of your own: ctr --address ${logs%/logs}/node/containerd/containerd.sock -n k8s.io images import FILE.tar"
  fi
}

main() {
  cluster_args=("$@")
  [[ -n "${KUBECONFIG:-}" ]] || check_node_possible
  mkdir -p "$state" "$state/sqlite"

  # One stack per clone: a second copy would fight over ports 3000 and 7007
  # and over .paved/kubeconfig. The lock goes when this shell goes.
  exec {lock_fd}>"$state/start.lock"
  if ! flock -n "$lock_fd"; then
    die "./scripts/start.sh is already running in this clone (pid $(cat "$state/start.pid" 2>/dev/null || echo unknown)); stop it with Ctrl-C in its terminal or kill <pid>, then run this again"
  fi
  echo $$ >"$state/start.pid"
  trap on_exit EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  trap 'exit 129' HUP

  local port
  for port in 3000 7007; do
    # Something accepts connections there: an earlier Backstage, say.
    if (exec 3<>"/dev/tcp/localhost/$port") 2>/dev/null; then
      die "something already listens on port $port (Backstage needs 3000 and 7007); stop it and run this again"
    fi
  done

  ensure_node
  ensure_yarn
  ensure_dependencies
  cd "$paved_root"
  : >"$state/operator.log"
  : >"$state/backstage.log"

  if has_knative; then
    log "using the cluster in KUBECONFIG ($KUBECONFIG): it has Knative Serving; starting no cluster"
    kubeconfig="$KUBECONFIG"
    urls="the URLs its Knative assigns"
  else
    [[ -n "${KUBECONFIG:-}" ]] && log "KUBECONFIG ($KUBECONFIG) has no reachable Knative Serving; starting a local cluster instead"
    local_cluster
  fi

  log "starting the operator (log: $state/operator.log)"
  start_operator
  wait_ready operator operator_ready 120 || die "the operator stopped while starting; see ${log_file[operator]}"

  log "starting Backstage (log: $state/backstage.log)"
  local started=$SECONDS
  start_backstage
  wait_ready backstage backstage_ready 900 || die "Backstage stopped while starting; see ${log_file[backstage]}"
  log "Backstage is up in $((SECONDS - started))s"
  log "open http://localhost:3000 (backend: http://localhost:7007; kubectl: KUBECONFIG=$kubeconfig); apps answer at $urls"
  log "Ctrl-C stops everything"
  supervise
}

main "$@"
