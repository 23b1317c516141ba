#!/usr/bin/env bash
# Removes what a real test node leaves on the machine once its processes are
# gone: container processes and their containerd shims, mounts under the
# node's directory, pod network namespaces, the CNI bridge, the KUBE-* and
# CNI-* netfilter chains of kubelet, kube-proxy, kube-router and the CNI
# plugins, and kube-router's ipsets.
#
#   node-cleanup.sh NODE_DIR_PATTERN BRIDGE
#
# NODE_DIR_PATTERN is an extended regular expression: the node directory
# itself, or a pattern matching any test node's (clean-up before a start).
#
# Runs when a node stops, from the cluster's reaper when its owner died, and
# before a node starts (what a killed run left). Only one node runs on a
# machine at a time (see src/node/lock.ts), so every KUBE-*/CNI-* chain and
# every pod network namespace on the machine is a test node's. Safe to run
# twice; never fails.
set -uo pipefail
node_dir="${1:?node directory}"
bridge="${2:?bridge name}"

# Container processes live in the kubelet's cgroups (cgroupfs driver, root
# /kubepods). Kill them and the shims of our containerd (found by the socket
# address on their command line); nothing restarts them once containerd is gone.
kill_pids() { [[ $# -gt 0 ]] && kill -9 "$@" 2>/dev/null; }
for round in 1 2 3; do
  pids=()
  for procs in $(find /sys/fs/cgroup/pids/kubepods /sys/fs/cgroup/memory/kubepods -name cgroup.procs 2>/dev/null); do
    while read -r pid; do [[ -n "$pid" ]] && pids+=("$pid"); done <"$procs"
  done
  for cmdline in /proc/[0-9]*/cmdline; do
    if tr '\0' ' ' <"$cmdline" 2>/dev/null | grep -qE "containerd-shim.*-address $node_dir/"; then
      pid="${cmdline#/proc/}"; pids+=("${pid%/cmdline}")
    fi
  done
  ((${#pids[@]})) || break
  kill_pids "${pids[@]}"
  sleep 0.3
done

# Mounts: deepest first (volumes, overlay rootfs, shm, netns bind mounts).
grep -E " $node_dir[/ ]" /proc/mounts | awk '{print $2}' | sort -r |
  while read -r mount; do umount -l "$mount" 2>/dev/null; done

# Pod network namespaces (containerd names them cni-<uuid>); removing one
# removes the veth inside it and so its peer on the bridge.
for ns in /var/run/netns/cni-*; do
  [[ -e "$ns" ]] || continue
  umount -l "$ns" 2>/dev/null
  rm -f "$ns"
done
ip link delete "$bridge" 2>/dev/null

# Netfilter: drop every KUBE-*/CNI-* chain and every rule that mentions one, in
# each table, for IPv4 and IPv6; leave everything else as it was.
for tool in iptables ip6tables; do
  command -v "$tool-save" >/dev/null || continue
  saved="$("$tool-save" 2>/dev/null)" || continue
  grep -qE 'KUBE-|CNI-' <<<"$saved" || continue
  grep -vE 'KUBE-|CNI-' <<<"$saved" | "$tool-restore" 2>/dev/null
done

# kube-router's ipsets (KUBE-SRC-*, KUBE-DST-*, inet6:… for IPv6, TMP-* while
# it restores), free once no rule refers to them.
if command -v ipset >/dev/null; then
  ipset list -n 2>/dev/null | grep -E '^(inet6:)?(KUBE-(SRC|DST)-[A-Z2-7]{16}|TMP-[A-Z2-7]{16})$' |
    while read -r set; do ipset destroy "$set" 2>/dev/null; done
fi

# Empty cgroups the kubelet made (leaf first; non-empty ones refuse).
for controller in /sys/fs/cgroup/*/; do
  [[ -d "$controller/kubepods" ]] || continue
  find "$controller/kubepods" -depth -type d -exec rmdir {} \; 2>/dev/null
done
exit 0
