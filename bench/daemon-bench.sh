#!/bin/bash
# Benchmark: `run --rm IMG true` with --network none, side by side in one
# hyperfine run, each engine with the same busybox image (imported from
# Debian's busybox-static):
#   berth CLI -> berthd, docker CLI -> berthd, docker CLI -> dockerd
#   (Debian's docker.io, private data root, vfs), podman run (private
#   storage, runc, cgroupfs).
# Then the idle RSS of berthd (as started, after an image import, after the
# runs) against dockerd (+ its containerd), and the
# RSS of one berth-shim with a sleeping container.  RSS is VmRSS, which
# counts every shared-library page the process maps in full; PSS (shared
# pages divided among the processes mapping them) and private (pages no
# other process maps, Private_* in smaps_rollup) are given beside it.
#
#   bench/daemon-bench.sh          RUNS=30 bench/daemon-bench.sh
# Appends the results to bench/results/<date>-daemon.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BERTH_BUILD:-$repo/build}
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}

die() { echo "daemon-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for t in hyperfine dockerd podman "$DOCKER" "$BUILD/berthd" "$BUILD/berth"; do
	command -v "$t" >/dev/null || die "missing $t"
done

w=$(mktemp -d /tmp/berth-daemon-bench.XXXXXX)
bpid="" dpid=""
cleanup() {
	local p
	for p in $bpid $dpid; do
		kill "$p" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	for f in "$w"/b/run/shims/*/shim.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	grep -o " $w[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$w"
}
trap cleanup EXIT

tar -C / -cf "$w/rootfs.tar" bin/busybox
rss() { awk '/VmRSS/ {print $2}' "/proc/$1/status"; }
pss() { awk '/^Pss:/ {print $2}' "/proc/$1/smaps_rollup"; }
private() { awk '/^Private_(Clean|Dirty):/ {s += $2} END {print s}' "/proc/$1/smaps_rollup"; }

# berthd
"$BUILD/berthd" -H "unix://$w/b.sock" --data-root "$w/b/data" --exec-root "$w/b/run" >"$w/berthd.log" 2>&1 &
bpid=$!
# dockerd
echo '{}' >"$w/daemon.json"
dockerd --data-root "$w/d/data" --exec-root "$w/d/exec" -H "unix://$w/d.sock" --pidfile "$w/d.pid" \
	--bridge=none --iptables=false --ip6tables=false --storage-driver=vfs --config-file "$w/daemon.json" \
	>"$w/dockerd.log" 2>&1 &
dpid=$!
for _ in $(seq 200); do
	[ -S "$w/b.sock" ] && DOCKER_HOST=unix://$w/d.sock "$DOCKER" version >/dev/null 2>&1 && break
	sleep 0.1
done
# idle as started: nothing asked of it yet
sleep 1.5
fresh_berthd=$(rss "$bpid") fresh_berthd_pss=$(pss "$bpid") fresh_berthd_private=$(private "$bpid")
BD=(env DOCKER_HOST="unix://$w/b.sock" "$DOCKER")
DD=(env DOCKER_HOST="unix://$w/d.sock" "$DOCKER")
PM=(podman --root "$w/p/root" --runroot "$w/p/run" --tmpdir "$w/p/tmp" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --runtime /usr/sbin/runc)
mkdir -p "$w/p/tmp"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s/p/events.log"\nlock_type = "file"\n' "$w" >"$w/containers.conf"
export CONTAINERS_CONF=$w/containers.conf

"${BD[@]}" import -c 'CMD ["/bin/busybox","true"]' "$w/rootfs.tar" bench/bb:1 >/dev/null
"${DD[@]}" import -c 'CMD ["/bin/busybox","true"]' "$w/rootfs.tar" bench/bb:1 >/dev/null
"${PM[@]}" import -q -c 'CMD ["/bin/busybox","true"]' "$w/rootfs.tar" localhost/bench/bb:1 >/dev/null
sleep 2
idle_berthd=$(rss "$bpid") idle_berthd_pss=$(pss "$bpid") idle_berthd_private=$(private "$bpid")
idle_dockerd=$(rss "$dpid")
cpid=$(pgrep -P "$dpid" containerd || true)
idle_containerd=$([ -n "$cpid" ] && rss "$cpid" || echo 0)

results=$here/results/$(date +%F)-daemon.md
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-markdown "$w/run.md" \
	-n "berth run (berthd)" "env BERTH_HOST=unix://$w/b.sock $BUILD/berth run --rm --network none bench/bb:1 /bin/busybox true" \
	-n "docker run (berthd)" "env DOCKER_HOST=unix://$w/b.sock $DOCKER run --rm --network none bench/bb:1 /bin/busybox true" \
	-n "docker run (dockerd)" "env DOCKER_HOST=unix://$w/d.sock $DOCKER run --rm --network none bench/bb:1 /bin/busybox true" \
	-n "podman run" "${PM[*]} run --rm --network none localhost/bench/bb:1 /bin/busybox true"

# idle again after the imports (libarchive and libcrypto loaded) and the runs
sleep 1.5
used_berthd=$(rss "$bpid")

# one shim with a sleeping container
"${BD[@]}" run -d --name sleeper --network none bench/bb:1 /bin/busybox sleep 60 >/dev/null
# the shim drops the pages of its one-off work once idle (src/shim/shim.c)
sleep 1.5
spid=$(cat "$w"/b/run/shims/*/shim.pid | head -1)
shim_rss=$(rss "$spid") shim_pss=$(pss "$spid") shim_private=$(private "$spid")
"${BD[@]}" rm -f sleeper >/dev/null

{
	echo "## run --rm IMG true, --network none ($(date -u +%FT%TZ), $(nproc) cores)"
	echo
	cat "$w/run.md"
	echo
	echo "| idle RSS | KiB |"
	echo "|---|---|"
	echo "| berthd, idle as started | $fresh_berthd |"
	echo "| berthd, idle as started, PSS / private | $fresh_berthd_pss / $fresh_berthd_private |"
	echo "| berthd, idle after an image import (before the runs) | $idle_berthd |"
	echo "| berthd, idle after the import and all the runs above | $used_berthd |"
	echo "| dockerd | $idle_dockerd |"
	echo "| containerd (started by dockerd) | $idle_containerd |"
	echo "| one berth-shim, container sleeping (RSS / PSS) | $shim_rss / $shim_pss |"
	echo "| one berth-shim, private | $shim_private |"
	echo
} | tee -a "$results"
