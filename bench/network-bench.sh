#!/bin/bash
# Benchmark: what a bridge network costs a container start, and traffic
# through a published port.
#
# 1. `run --rm IMG true` with --network none against the default bridge
#    network, for Berth (berth CLI -> berthd), Docker (docker CLI ->
#    Debian's dockerd 20.10 with its docker0 bridge; --iptables=false, so
#    that it leaves the host's firewall alone: ports go through its
#    docker-proxy) and Podman (its default network, netavark here), one
#    hyperfine run.
# 2. Throughput: a busybox httpd in a Berth container serving a 256 MiB
#    file, fetched with curl over the published port on 127.0.0.1 (DNAT)
#    and from the container's address directly; the same through Docker's
#    published port (docker-proxy).
#
#   bench/network-bench.sh          RUNS=30 bench/network-bench.sh
# Appends the results to bench/results/<date>-network.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BERTH_BUILD:-$repo/build}
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
RUNS=${RUNS:-20}
WARMUP=${WARMUP:-3}
FETCHES=${FETCHES:-5}

die() { echo "network-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for t in hyperfine dockerd podman curl "$DOCKER" "$BUILD/berthd" "$BUILD/berth"; do
	command -v "$t" >/dev/null || die "missing $t"
done

w=$(mktemp -d /tmp/berth-network-bench.XXXXXX)
bpid="" dpid=""
cleanup() {
	local p
	env DOCKER_HOST="unix://$w/b.sock" "$DOCKER" rm -f bweb >/dev/null 2>&1 || true
	env DOCKER_HOST="unix://$w/d.sock" "$DOCKER" rm -f dweb >/dev/null 2>&1 || true
	for p in $bpid $dpid; do
		kill "$p" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	done
	for f in "$w"/b/run/shims/*/shim.pid; do [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null; done
	grep -o " $w[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	# the bridges the daemons made (dockerd leaves docker0 behind)
	ip link del docker0 2>/dev/null || true
	ip link del berth0 2>/dev/null || true
	rm -rf "$w"
}
trap cleanup EXIT

tar -C / -cf "$w/rootfs.tar" bin/busybox
mkdir -p "$w/www"
head -c $((256 << 20)) /dev/urandom >"$w/www/big"

"$BUILD/berthd" -H "unix://$w/b.sock" --data-root "$w/b/data" --exec-root "$w/b/run" >"$w/berthd.log" 2>&1 &
bpid=$!
echo '{}' >"$w/daemon.json"
dockerd --data-root "$w/d/data" --exec-root "$w/d/exec" -H "unix://$w/d.sock" --pidfile "$w/d.pid" \
	--bip 10.213.250.1/24 --iptables=false --ip6tables=false --storage-driver=vfs --config-file "$w/daemon.json" \
	>"$w/dockerd.log" 2>&1 &
dpid=$!
for _ in $(seq 200); do
	[ -S "$w/b.sock" ] && DOCKER_HOST=unix://$w/d.sock "$DOCKER" version >/dev/null 2>&1 && break
	sleep 0.1
done
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

results=$here/results/$(date +%F)-network.md
B="env BERTH_HOST=unix://$w/b.sock $BUILD/berth run --rm"
D="env DOCKER_HOST=unix://$w/d.sock $DOCKER run --rm"
P="${PM[*]} run --rm"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-markdown "$w/run.md" \
	-n "berth, none" "$B --network none bench/bb:1 /bin/busybox true" \
	-n "berth, bridge" "$B bench/bb:1 /bin/busybox true" \
	-n "docker, none" "$D --network none bench/bb:1 /bin/busybox true" \
	-n "docker, bridge" "$D bench/bb:1 /bin/busybox true" \
	-n "podman, none" "$P --network none localhost/bench/bb:1 /bin/busybox true" \
	-n "podman, bridge" "$P localhost/bench/bb:1 /bin/busybox true"

# throughput: MB/s of curl fetching the file, the best and the median of
# FETCHES fetches
fetch() {
	local url=$1 i
	for i in $(seq "$FETCHES"); do
		curl -s -o /dev/null -w '%{speed_download}\n' "$url"
	done | sort -n | awk '{v[NR] = $1} END {printf "%.0f %.0f\n", v[int((NR + 1) / 2)] / 1e6, v[NR] / 1e6}'
}
"${BD[@]}" run -d --name bweb -p 127.0.0.1:18480:80 -v "$w/www:/www:ro" bench/bb:1 \
	/bin/busybox httpd -f -p 80 -h /www >/dev/null
"${DD[@]}" run -d --name dweb -p 127.0.0.1:18481:80 -v "$w/www:/www:ro" bench/bb:1 \
	/bin/busybox httpd -f -p 80 -h /www >/dev/null
sleep 1
bip=$("${BD[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' bweb)
dip=$("${DD[@]}" inspect -f '{{.NetworkSettings.IPAddress}}' dweb)
read -r b_pub_med b_pub_best < <(fetch "http://127.0.0.1:18480/big")
read -r b_dir_med b_dir_best < <(fetch "http://$bip/big")
read -r d_pub_med d_pub_best < <(fetch "http://127.0.0.1:18481/big")
read -r d_dir_med d_dir_best < <(fetch "http://$dip/big")

{
	echo "## run --rm IMG true: --network none against the default bridge ($(date -u +%FT%TZ), $(nproc) cores)"
	echo
	cat "$w/run.md"
	echo
	echo "## 256 MiB from busybox httpd with curl, MB/s (median / best of $FETCHES)"
	echo
	echo "| path | Berth | Docker (docker-proxy) |"
	echo "|---|---:|---:|"
	echo "| published port on 127.0.0.1 | $b_pub_med / $b_pub_best | $d_pub_med / $d_pub_best |"
	echo "| the container's address | $b_dir_med / $b_dir_best | $d_dir_med / $d_dir_best |"
	echo
} | tee -a "$results"
