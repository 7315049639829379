#!/bin/bash
# Benchmark: the issue's 4-step Dockerfile (FROM busybox / RUN echo > file /
# COPY file / CMD), built cold (--no-cache) and fully cached, side by side
# in one hyperfine run each:
#   berth build -> berthd
#   docker build (legacy builder, DOCKER_BUILDKIT=0) -> dockerd (Debian's
#     docker.io, private data root, vfs)
#   buildah bud (private storage, vfs, runc, chroot-free OCI isolation)
# Every engine gets the same busybox image, imported from Debian's
# busybox-static; nothing is downloaded.  RUN gets --network none in all
# three (Berth's default): with their default networks here, dockerd's
# RUN waited out 3.0 s and buildah's 2.0 s in every build.
#
#   bench/build-bench.sh          RUNS=20 bench/build-bench.sh
# Appends the results to bench/results/<date>-build.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BUILD=${BERTH_BUILD:-$repo/build}
DOCKER=${DOCKER_CLI:-/usr/local/bin/docker}
RUNS=${RUNS:-15}
WARMUP=${WARMUP:-2}

die() { echo "build-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
for t in hyperfine dockerd buildah "$DOCKER" "$BUILD/berthd" "$BUILD/berth"; do
	command -v "$t" >/dev/null || die "missing $t"
done

w=$(mktemp -d /tmp/berth-build-bench.XXXXXX)
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

# the base image: busybox with its applets
mkdir -p "$w/root/bin"
cp /bin/busybox "$w/root/bin/busybox"
for a in sh echo cat; do ln -s busybox "$w/root/bin/$a"; done
tar -C "$w/root" -cf "$w/rootfs.tar" .

# the context
mkdir -p "$w/ctx"
echo "hello from the context" >"$w/ctx/file"
cat >"$w/ctx/Dockerfile" <<'EOF'
FROM bench/bb:1
RUN echo built > /built
COPY file /file
CMD ["cat", "/file"]
EOF

"$BUILD/berthd" -H "unix://$w/b.sock" --data-root "$w/b/data" --exec-root "$w/b/run" >"$w/berthd.log" 2>&1 &
bpid=$!
echo '{}' >"$w/daemon.json"
dockerd --data-root "$w/d/data" --exec-root "$w/d/exec" -H "unix://$w/d.sock" --pidfile "$w/d.pid" \
	--bridge=none --iptables=false --ip6tables=false --storage-driver=vfs --config-file "$w/daemon.json" \
	>"$w/dockerd.log" 2>&1 &
dpid=$!
for _ in $(seq 200); do
	[ -S "$w/b.sock" ] && DOCKER_HOST=unix://$w/d.sock "$DOCKER" version >/dev/null 2>&1 && break
	sleep 0.1
done
BB=(env BERTH_HOST="unix://$w/b.sock" "$BUILD/berth")
DD=(env DOCKER_HOST="unix://$w/d.sock" DOCKER_BUILDKIT=0 "$DOCKER")
BA=(buildah --root "$w/ba/root" --runroot "$w/ba/run" --storage-driver vfs)
"${BB[@]}" import "$w/rootfs.tar" bench/bb:1 >/dev/null
"${DD[@]}" import "$w/rootfs.tar" bench/bb:1 >/dev/null
ba_img=$("${BA[@]}" from scratch)
"${BA[@]}" add "$ba_img" "$w/rootfs.tar" / >/dev/null
"${BA[@]}" commit -q "$ba_img" localhost/bench/bb:1 >/dev/null
"${BA[@]}" rm "$ba_img" >/dev/null
sed 's#^FROM bench/bb:1#FROM localhost/bench/bb:1#' "$w/ctx/Dockerfile" >"$w/Dockerfile.buildah"

# each engine's first build fills its cache for the cached round
"${BB[@]}" build -q -t bench/app "$w/ctx" >/dev/null
"${DD[@]}" build -q --network none -t bench/app "$w/ctx" >/dev/null 2>&1
"${BA[@]}" bud -q --layers --network none --isolation oci -f "$w/Dockerfile.buildah" -t bench/app "$w/ctx" >/dev/null

hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-markdown "$w/cold.md" \
	-n "berth build --no-cache" "${BB[*]} build -q --no-cache -t bench/app $w/ctx" \
	-n "docker build --no-cache (dockerd)" "${DD[*]} build -q --no-cache --network none -t bench/app $w/ctx" \
	-n "buildah bud --no-cache" "${BA[*]} bud -q --layers --no-cache --network none --isolation oci -f $w/Dockerfile.buildah -t bench/app $w/ctx"
hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --export-markdown "$w/cached.md" \
	-n "berth build (cached)" "${BB[*]} build -q -t bench/app $w/ctx" \
	-n "docker build (cached, dockerd)" "${DD[*]} build -q --network none -t bench/app $w/ctx" \
	-n "buildah bud (cached)" "${BA[*]} bud -q --layers --network none --isolation oci -f $w/Dockerfile.buildah -t bench/app $w/ctx"

# the result runs
out=$("${BB[@]}" run --rm --network none bench/app)
[ "$out" = "hello from the context" ] || die "the built image printed: $out"

results=$here/results/$(date +%F)-build.md
{
	echo "## berth build: the 4-step Dockerfile, cold and cached ($(date -u +%FT%TZ), $(nproc) cores)"
	echo
	echo "Cold (--no-cache):"
	echo
	cat "$w/cold.md"
	echo
	echo "Fully cached:"
	echo
	cat "$w/cached.md"
	echo
} | tee -a "$results"
