#!/bin/bash
# Benchmark: N containers (default 100) started concurrently, then the
# memory of the engine with all of them running, for
#   docker CLI -> berthd       (berthd + one berth-shim per container)
#   docker CLI -> dockerd      (dockerd + containerd + containerd-shim-runc-v2s)
#   docker CLI -> podman system service  (the service + one conmon each)
# Every engine gets the same busybox image (imported from Debian's
# busybox-static) and runs `busybox sleep 600` with --network none; all N
# `docker run -d` are started at once and the wall time until the last one
# returns is measured.  Memory is VmRSS summed over the daemon and its
# per-container helpers, and PSS (Pss in smaps_rollup) for the same set.
#
#   bench/scale-bench.sh          N=50 bench/scale-bench.sh
# Appends the results to bench/results/<date>-scale.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BERTH_BUILD:-$repo/build}
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
N=${N:-100}

die() { echo "scale-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for t in dockerd podman "$DOCKER" "$BUILD/berthd"; do
	command -v "$t" >/dev/null || die "missing $t"
done

w=$(mktemp -d /tmp/berth-scale-bench.XXXXXX)
bpid="" dpid="" ppid=""
cleanup() {
	local p
	for sock in b d p; do
		[ -S "$w/$sock.sock" ] || continue
		ids=$(DOCKER_HOST=unix://$w/$sock.sock timeout 120 "$DOCKER" ps -aq 2>/dev/null || true)
		[ -n "$ids" ] && DOCKER_HOST=unix://$w/$sock.sock timeout 300 "$DOCKER" rm -f $ids >/dev/null 2>&1 || true
	done
	for p in $bpid $dpid $ppid; do
		kill "$p" 2>/dev/null || true
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	for f in "$w"/b/run/shims/*/shim.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	grep -o " $w[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$w"
}
trap cleanup EXIT
trap "exit 1" INT TERM

tar -C / -cf "$w/rootfs.tar" bin/busybox
# rss_pss PID...: "RSS PSS" in KiB, summed
rss_pss() {
	local r=0 s=0 p
	for p in "$@"; do
		[ -r "/proc/$p/status" ] || continue
		r=$((r + $(awk '/VmRSS/ {print $2}' "/proc/$p/status")))
		s=$((s + $(awk '/^Pss:/ {print $2}' "/proc/$p/smaps_rollup")))
	done
	echo "$r $s"
}

"$BUILD/berthd" -H "unix://$w/b.sock" --data-root "$w/b/data" --exec-root "$w/b/run" >"$w/berthd.log" 2>&1 &
bpid=$!
echo '{}' >"$w/daemon.json"
dockerd --data-root "$w/d/data" --exec-root "$w/d/exec" -H "unix://$w/d.sock" --pidfile "$w/d.pid" \
	--bridge=none --iptables=false --ip6tables=false --storage-driver=vfs --config-file "$w/daemon.json" \
	>"$w/dockerd.log" 2>&1 &
dpid=$!
mkdir -p "$w/p/tmp"
printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s/p/events.log"\nlock_type = "file"\n' "$w" >"$w/containers.conf"
export CONTAINERS_CONF=$w/containers.conf
podman --root "$w/p/root" --runroot "$w/p/run" --tmpdir "$w/p/tmp" --storage-driver vfs \
	--cgroup-manager cgroupfs --events-backend file --runtime /usr/sbin/runc \
	system service --time=0 "unix://$w/p.sock" >"$w/podman.log" 2>&1 &
ppid=$!
for s in b d p; do
	for _ in $(seq 300); do
		DOCKER_HOST=unix://$w/$s.sock "$DOCKER" version >/dev/null 2>&1 && break
		sleep 0.1
	done
done

results=$here/results/$(date +%F)-scale.md
{
	echo "## $N containers started concurrently, then memory with all running ($(date -u +%FT%TZ), $(nproc) cores)"
	echo
	echo "| engine | start $N at once (s) | running | daemon RSS KiB | daemon + per-container RSS KiB | PSS KiB |"
	echo "|---|---|---|---|---|---|"
} >"$w/table.md"

for s in b d p; do
	D=(env DOCKER_HOST="unix://$w/$s.sock" "$DOCKER")
	ref=bench/bb:1
	"${D[@]}" import -c 'CMD ["/bin/busybox","true"]' "$w/rootfs.tar" "$ref" >/dev/null
	start=$(date +%s.%N)
	runs=()
	for i in $(seq "$N"); do
		"${D[@]}" run -d --network none --name "s$i" "$ref" /bin/busybox sleep 600 >/dev/null 2>>"$w/run-$s.err" &
		runs+=($!)
	done
	# only the runs: a bare wait would wait for the daemons too
	wait "${runs[@]}" || true
	end=$(date +%s.%N)
	sleep 2
	[ -s "$w/run-$s.err" ] && { echo "scale-bench: errors of the $s runs:" >&2; sort "$w/run-$s.err" | uniq -c >&2; }
	running=$("${D[@]}" ps -q | wc -l)
	case $s in
	b) name="docker CLI -> berthd"; daemon=$bpid
	   helpers=$(for f in "$w"/b/run/shims/*/shim.pid; do echo "$(cat "$f")"; done | tr '\n' ' ') ;;
	d) name="docker CLI -> dockerd + containerd"; daemon=$dpid
	   c=$(pgrep -P "$dpid" containerd || true)
	   helpers="$c $({ pgrep -f "containerd-shim-runc-v2.*$w/" || true; } | tr '\n' ' ')" ;;
	p) name="docker CLI -> podman system service"; daemon=$ppid
	   helpers=$({ pgrep -f "conmon.*$w/p/" || true; } | tr '\n' ' ') ;;
	esac
	read -r drss _ < <(rss_pss "$daemon")
	# shellcheck disable=SC2086
	read -r trss tpss < <(rss_pss "$daemon" $helpers)
	printf '| %s | %.2f | %s | %s | %s | %s |\n' "$name" "$(echo "$end - $start" | bc)" "$running" \
		"$drss" "$trss" "$tpss" >>"$w/table.md"
	ids=$("${D[@]}" ps -aq)
	[ -z "$ids" ] || timeout 600 "${D[@]}" rm -f $ids >/dev/null 2>&1 || true
done
echo >>"$w/table.md"
tee -a "$results" <"$w/table.md"
