#!/bin/bash
# Benchmark: berth kube with a Deployment of 50 replicas.
#
# 1. apply → all 50 pods Ready (the Deployment's readyReplicas), ROUNDS
#    times, each on a fresh Deployment.
# 2. A pod deleted → its replacement created and Ready; a pod's process
#    killed → the container running again (restartCount 1, Ready).
# 3. berthd's VmRSS with 50 pods running: after the first apply, and
#    after ROUNDS apply/delete rounds (and idle, before).
# 4. Podman 4.3 `kube play` of the same Deployment (it makes 50 pods
#    once; no reconcile): until `kube play` returns, and until all 50
#    pods' containers run.
# k3s's published footprint is quoted from docs.k3s.io in the results.
#
#   bench/kube-bench.sh             ROUNDS=3 bench/kube-bench.sh
# Appends the results to bench/results/<date>-kube.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BERTH_BUILD:-$repo/build}
ROUNDS=${ROUNDS:-3}
REPLICAS=${REPLICAS:-50}

die() { echo "kube-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for t in podman jq "$BUILD/berthd" "$BUILD/berth"; do
	command -v "$t" >/dev/null || die "missing $t"
done

w=$(mktemp -d /tmp/berth-kube-bench.XXXXXX)
bpid=""
cleanup() {
	[ -n "${PM:-}" ] && "${PM[@]}" kube down "$w/deploy-podman.yaml" >/dev/null 2>&1 || true
	[ -n "${PM:-}" ] && "${PM[@]}" rm -af -t 0 >/dev/null 2>&1 || true
	[ -n "${PM:-}" ] && "${PM[@]}" pod rm -af >/dev/null 2>&1 || true
	if [ -n "$bpid" ]; then
		"$BUILD/berth" kube delete deployment --all >/dev/null 2>&1 || true
		"$BUILD/berth" rm -f $("$BUILD/berth" ps -aq 2>/dev/null) >/dev/null 2>&1 || true
		"$BUILD/berth" network rm berth-kube >/dev/null 2>&1 || true
		kill "$bpid" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$bpid" 2>/dev/null || break; sleep 0.1; done
	fi
	for f in "$w"/b/run/shims/*/shim.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	if [ -d "$w/b/run/runtime" ]; then
		for c in "$w"/b/run/runtime/*/; do
			[ -d "$c" ] && "$BUILD/berth-runtime" --root "$w/b/run/runtime" delete --force "$(basename "$c")" 2>/dev/null
		done
	fi
	grep -o " $w[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	nft delete table ip berth-svc 2>/dev/null || true
	ip link del berth0 2>/dev/null || true
	rm -rf "$w"
}
trap cleanup EXIT

now_ms() { echo $(($(date +%s%N) / 1000000)); }

tar -C / -cf "$w/rootfs.tar" bin/busybox
"$BUILD/berthd" -H "unix://$w/b.sock" --data-root "$w/b/data" --exec-root "$w/b/run" >"$w/berthd.log" 2>&1 &
bpid=$!
for _ in $(seq 100); do [ -S "$w/b.sock" ] && break; sleep 0.05; done
export BERTH_HOST=unix://$w/b.sock
B=("$BUILD/berth")
K=("$BUILD/berth" kube)
"${B[@]}" import -c 'CMD ["/bin/busybox","sleep","100000"]' "$w/rootfs.tar" bench/bb:1 >/dev/null
sleep 1
idle_rss=$(awk '/VmRSS/ {print $2}' "/proc/$bpid/status")

manifest() {
	local name=$1 image=$2
	cat <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $name
spec:
  replicas: $REPLICAS
  selector:
    matchLabels: {app: $name}
  template:
    metadata:
      labels: {app: $name}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: $image
        imagePullPolicy: IfNotPresent
        command: ["/bin/busybox", "sleep", "100000"]
EOF
}

ready() { "${K[@]}" get deployment "$1" -o json | jq -r '.status.readyReplicas // 0'; }

# 1. apply until all Ready
apply_ms=()
for r in $(seq "$ROUNDS"); do
	manifest "web$r" bench/bb:1 >"$w/web$r.yaml"
	t0=$(now_ms)
	"${K[@]}" apply -f "$w/web$r.yaml" >/dev/null
	until [ "$(ready "web$r")" = "$REPLICAS" ]; do sleep 0.05; done
	apply_ms+=($(($(now_ms) - t0)))
	if [ "$r" = 1 ]; then
		sleep 2
		rss_first=$(awk '/VmRSS/ {print $2}' "/proc/$bpid/status")
	fi
	if [ "$r" != "$ROUNDS" ]; then
		"${K[@]}" delete deployment "web$r" >/dev/null
		until [ "$("${K[@]}" get pods -o json | jq '.items | length')" = 0 ]; do sleep 0.1; done
	fi
done
sleep 2
rss_50=$(awk '/VmRSS/ {print $2}' "/proc/$bpid/status")
hwm_50=$(awk '/VmHWM/ {print $2}' "/proc/$bpid/status")
last=web$ROUNDS

# 2a. a deleted pod: until its replacement is Ready (5 times)
replace_ms=()
for _ in 1 2 3 4 5; do
	victim=$("${K[@]}" get pods -l "app=$last" -o json | jq -r '.items[0].metadata.name')
	t0=$(now_ms)
	"${K[@]}" delete pod "$victim" --wait=false >/dev/null 2>&1 || "${K[@]}" delete pod "$victim" >/dev/null
	until [ "$("${K[@]}" get pods -l "app=$last" -o json |
		jq '[.items[] | select(.metadata.deletionTimestamp == null) |
			select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')" = "$REPLICAS" ]; do
		sleep 0.02
	done
	replace_ms+=($(($(now_ms) - t0)))
	sleep 1.5
done

# 2b. a pod's process killed: until it runs again and is Ready (5 times)
restart_ms=()
for i in 1 2 3 4 5; do
	pod=$("${K[@]}" get pods -l "app=$last" -o json | jq -r ".items[$i].metadata.name")
	cid=$("${K[@]}" get pod "$pod" -o json | jq -r '.status.containerStatuses[0].containerID')
	t0=$(now_ms)
	"${B[@]}" kill "${cid#berth://}" >/dev/null
	until "${K[@]}" get pod "$pod" -o json | jq -e '.status.containerStatuses[0].restartCount == 1 and .status.containerStatuses[0].ready' >/dev/null; do
		sleep 0.02
	done
	restart_ms+=($(($(now_ms) - t0)))
done

# 4. podman kube play of the same Deployment
PM=(podman --root "$w/p/root" --runroot "$w/p/run" --tmpdir "$w/p/tmp" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --runtime /usr/sbin/runc)
mkdir -p "$w/p/tmp"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s/p/events.log"\nlock_type = "file"\n' "$w" >"$w/containers.conf"
export CONTAINERS_CONF=$w/containers.conf
"${PM[@]}" import -q -c 'CMD ["/bin/busybox","sleep","100000"]' "$w/rootfs.tar" localhost/bench/bb:1 >/dev/null
manifest pweb localhost/bench/bb:1 >"$w/deploy-podman.yaml"
t0=$(now_ms)
"${PM[@]}" kube play --network none "$w/deploy-podman.yaml" >/dev/null
podman_play_ms=$(($(now_ms) - t0))
until [ "$("${PM[@]}" ps --filter status=running --filter label=app=pweb -q 2>/dev/null | wc -l)" -ge "$REPLICAS" ] ||
	[ "$("${PM[@]}" ps --filter status=running -q | wc -l)" -ge $((REPLICAS * 2)) ]; do
	sleep 0.05
	(($(now_ms) - t0 > 600000)) && break
done
podman_running_ms=$(($(now_ms) - t0))
podman_pods=$("${PM[@]}" pod ps -q | wc -l)

stats() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1; s+=$1} END {printf "median %d, min %d, max %d (n=%d)", v[int((NR+1)/2)], v[1], v[NR], NR}'; }

results=$here/results/$(date +%F)-kube.md
{
	echo "## berth kube: a Deployment of $REPLICAS replicas ($(date -u '+%F %H:%M') UTC, $(git -C "$repo" rev-parse --short HEAD))"
	echo
	echo "| what | Berth | Podman 4.3 kube play |"
	echo "|---|---|---|"
	echo "| apply → $REPLICAS pods Ready (ms) | $(stats "${apply_ms[@]}") | play returned after $podman_play_ms, $podman_pods pods, containers running after $podman_running_ms |"
	echo "| a deleted pod → replacement Ready (ms) | $(stats "${replace_ms[@]}") | never replaced (no controller) |"
	echo "| a killed pod process → running and Ready again (ms) | $(stats "${restart_ms[@]}") | restart policy only |"
	echo "| berthd VmRSS (KiB): idle → $REPLICAS pods, first apply → $REPLICAS pods after $ROUNDS apply/delete rounds | $idle_rss → $rss_first → $rss_50 (VmHWM $hwm_50) | |"
	echo
	echo "k3s, for scale (docs.k3s.io, Resource Profiling, K3s v1.26.5): a server with a workload"
	echo "1596 MB RSS (SQLite), an agent alone 275 MB."
	echo
} | tee -a "$results"
