#!/bin/bash
# Benchmark: cold pull from a local registry (Debian's docker-registry on
# 127.0.0.1), Berth's image library against `podman pull` and `skopeo copy`
# to containers-storage, side by side in one hyperfine run per image:
#   small: one layer of 1 MiB (incompressible)
#   big:   busybox + five layers of 20 MiB (incompressible), ~100 MiB
# Every run starts from an empty store (--prepare wipes it), so each pull
# downloads, verifies and unpacks everything.  Podman and skopeo use their
# default overlay driver on a private graph root.
#
#   bench/pull-bench.sh            # uses build/tests/image/berth-image-test
#   RUNS=20 bench/pull-bench.sh
# Appends the results to bench/results/<date>-pull.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
TOOL=${BERTH_IMAGE_TOOL:-$repo/build/tests/image/berth-image-test}
RUNS=${RUNS:-10}
WARMUP=${WARMUP:-2}

die() { echo "pull-bench: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "must run as root"
[ -x "$TOOL" ] || die "$TOOL missing: build first"
for t in hyperfine skopeo podman docker-registry python3 jq; do
	command -v "$t" >/dev/null || die "missing $t (scripts/install-deps.sh --test)"
done

work=$(mktemp -d /tmp/berth-pull-bench.XXXXXX)
reg=""
cleanup() {
	[ -f "$work/wipe.sh" ] && sh "$work/wipe.sh"
	[ -n "$reg" ] && sh "$repo/tests/registry/run-registry.sh" stop $reg
	rm -rf "$work"
}
trap cleanup EXIT

out=$(sh "$repo/tests/registry/run-registry.sh" start)
read -r url pid dir <<<"$out"
reg="$pid $dir"
host=${url#http://}
python3 "$repo/tests/image/mkimages.py" "$work/fixtures" small big
for k in small big; do
	skopeo copy -q --dest-tls-verify=false "oci:$work/fixtures/$k:latest" "docker://$host/bench/$k:latest"
done

# private storage for podman and skopeo: overlay driver, graph root in $work
cat >"$work/storage.conf" <<EOF
[storage]
driver = "overlay"
runroot = "$work/cs-run"
graphroot = "$work/cs-root"
EOF
export CONTAINERS_STORAGE_CONF=$work/storage.conf
# containers-storage leaves its overlay directory bind-mounted: unmount first
cat >"$work/wipe.sh" <<EOF
grep -o " $work/cs-root[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l
rm -rf "$work/berth" "$work/cs-root" "$work/cs-run"
EOF
wipe="sh $work/wipe.sh"

results=$here/results/$(date +%F)-pull.md
{
	echo "## Cold pull from a local registry ($(date -u +%FT%TZ), $(nproc) cores, kernel $(uname -r))"
	echo
	echo "hyperfine, $RUNS runs after $WARMUP warmups, each from an empty store."
	echo
} >>"$results"
for k in small big; do
	ref="$host/bench/$k:latest"
	hyperfine -N --warmup "$WARMUP" --runs "$RUNS" --prepare "$wipe" --export-markdown "$work/$k.md" \
		-n "berth ($k)" "$TOOL --root $work/berth pull $ref" \
		-n "podman pull ($k)" "podman --root $work/cs-root --runroot $work/cs-run pull -q --tls-verify=false $ref" \
		-n "skopeo copy ($k)" "skopeo copy -q --src-tls-verify=false docker://$ref containers-storage:$ref"
	cat "$work/$k.md" >>"$results"
	echo >>"$results"
done
$wipe
echo "results appended to $results"
