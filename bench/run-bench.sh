#!/bin/bash
# Benchmark: `run` of a busybox bundle executing /bin/true, berth-runtime
# against runc side by side in one hyperfine run, plus each runtime's peak
# RSS.  Run as root from anywhere:
#
#   bench/run-bench.sh                  # uses build/berth-runtime
#   BERTH_RUNTIME=/path/to/berth-runtime RUNS=500 bench/run-bench.sh
#
# Prints the results and writes them to bench/results/<date>.md.
# When the berth-runtime binary does not exist yet, only runc is measured.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
BERTH_RUNTIME=${BERTH_RUNTIME:-$repo/build/berth-runtime}
RUNC=${RUNC:-$(command -v runc || echo /usr/sbin/runc)}
WARMUP=${WARMUP:-20}
RUNS=${RUNS:-200}
RSS_RUNS=${RSS_RUNS:-10}
BUSYBOX=${BUSYBOX:-/bin/busybox}

die() { echo "run-bench: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (both runtimes create namespaces and cgroups)"

# Tools the benchmark needs; install what is missing (Debian 12 packages).
need_pkgs=()
command -v hyperfine >/dev/null || need_pkgs+=(hyperfine)
command -v jq >/dev/null || need_pkgs+=(jq)
[ -x /usr/bin/time ] || need_pkgs+=(time)
[ -x "$BUSYBOX" ] || need_pkgs+=(busybox-static)
[ -x "$RUNC" ] || need_pkgs+=(runc)
if [ ${#need_pkgs[@]} -gt 0 ]; then
        echo "run-bench: installing ${need_pkgs[*]}" >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need_pkgs[@]}" >&2
        RUNC=$(command -v runc || echo /usr/sbin/runc)
fi

tmp=$(mktemp -d /tmp/berth-bench.XXXXXX)
runc_id=bench-runc-$$
berth_id=bench-berth-$$
cleanup() {
        # A container left by an interrupted run would pin the bundle's rootfs.
        "$RUNC" --root "$tmp/runc-root" delete --force "$runc_id" >/dev/null 2>&1 || true
        if [ -x "$BERTH_RUNTIME" ]; then
                "$BERTH_RUNTIME" --root "$tmp/berth-root" delete --force "$berth_id" >/dev/null 2>&1 || true
        fi
        # After Ctrl-C a runtime's child may still be populating rootfs/dev
        # for a moment; retry instead of leaving the temp dir behind.
        for _ in 1 2 3 4 5; do
                rm -rf "$tmp" 2>/dev/null && return
                sleep 0.2
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The bundle: a rootfs holding only a static busybox, and runc's default
# config.json changed to run /bin/true without a terminal.
make_bundle() {
        local bundle=$1
        mkdir -p "$bundle/rootfs/bin"
        cp "$BUSYBOX" "$bundle/rootfs/bin/busybox"
        ln -s busybox "$bundle/rootfs/bin/sh"
        ln -s busybox "$bundle/rootfs/bin/true"
        (cd "$bundle" && "$RUNC" spec)
        jq '.process.args = ["/bin/true"] | .process.terminal = false' \
                "$bundle/config.json" >"$bundle/config.json.new"
        mv "$bundle/config.json.new" "$bundle/config.json"
}

bundle=$tmp/bundle
make_bundle "$bundle"
mkdir -p "$tmp/runc-root" "$tmp/berth-root"

# The same bundle under Berth's default seccomp profile (issue 3: loading it
# must add under 1 ms); the rootfs is shared.
profile=$repo/profiles/seccomp/default.json
sc_bundle=$tmp/bundle-seccomp
mkdir -p "$sc_bundle"
ln -s "$bundle/rootfs" "$sc_bundle/rootfs"
jq --slurpfile p "$profile" '.linux.seccomp = ($p[0] | del(.berthCapabilityRules))' \
        "$bundle/config.json" >"$sc_bundle/config.json"

runc_cmd="$RUNC --root $tmp/runc-root run -b $bundle $runc_id"
berth_cmd="$BERTH_RUNTIME --root $tmp/berth-root run -b $bundle $berth_id"
berth_sc_cmd="$BERTH_RUNTIME --root $tmp/berth-root run -b $sc_bundle $berth_id-sc"
have_berth=false
if [ -x "$BERTH_RUNTIME" ]; then
        have_berth=true
else
        echo "run-bench: $BERTH_RUNTIME not found; measuring runc only" >&2
fi

# Fail early, with the runtime's own message, if a runtime cannot run the
# bundle at all: hyperfine would only report a non-zero exit.
"$RUNC" --root "$tmp/runc-root" run -b "$bundle" "$runc_id" || die "runc cannot run the bundle"
if $have_berth; then
        "$BERTH_RUNTIME" --root "$tmp/berth-root" run -b "$bundle" "$berth_id" ||
                die "berth-runtime cannot run the bundle"
fi

# -N: no intermediate shell, so its startup is not in the numbers.
hf_args=(-N --warmup "$WARMUP" --runs "$RUNS"
         --export-json "$tmp/hyperfine.json" --export-markdown "$tmp/hyperfine.md"
         -n runc "$runc_cmd")
$have_berth && hf_args+=(-n berth-runtime "$berth_cmd" -n berth-runtime-seccomp "$berth_sc_cmd")
hyperfine "${hf_args[@]}"

# Peak RSS in KiB: the largest "Maximum resident set size" over a few runs.
# GNU time reports the maximum over the runtime and the descendants it
# reaped, so the container's own /bin/true is included in the figure.
peak_rss() {
        local root=$1 id=$2 bin=$3 max=0 kb
        for _ in $(seq "$RSS_RUNS"); do
                /usr/bin/time -v -o "$tmp/time.out" "$bin" --root "$root" run -b "$bundle" "$id" >/dev/null
                kb=$(awk -F': ' '/Maximum resident set size/ { print $2 }' "$tmp/time.out")
                [ "$kb" -gt "$max" ] && max=$kb
        done
        echo "$max"
}

runc_rss=$(peak_rss "$tmp/runc-root" "$runc_id" "$RUNC")
berth_rss=
$have_berth && berth_rss=$(peak_rss "$tmp/berth-root" "$berth_id" "$BERTH_RUNTIME")

median_ms() {
        jq -r --arg n "$1" '.results[] | select(.command == $n) | .median * 1000 | . * 100 | round / 100' \
                "$tmp/hyperfine.json"
}
runc_median=$(median_ms runc)
berth_median=
speedup=
if $have_berth; then
        berth_median=$(median_ms berth-runtime)
        berth_sc_median=$(median_ms berth-runtime-seccomp)
        speedup=$(jq -rn --argjson a "$runc_median" --argjson b "$berth_median" '$a / $b * 10 | round / 10')
fi

kib_to_mib() { awk -v k="$1" 'BEGIN { printf "%.2f", k / 1024 }'; }

berth_rev=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo "uncommitted")
report() {
        echo "# Benchmark $(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo
        echo "\`run\` of a busybox bundle executing \`/bin/true\` (bench/run-bench.sh, $RUNS runs after $WARMUP warm-up runs)."
        echo
        echo "- host: $(uname -r), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs"
        echo "- runc: $("$RUNC" --version | head -1)"
        if $have_berth; then
                echo "- berth-runtime: $("$BERTH_RUNTIME" --version 2>/dev/null | head -1 || true) (git $berth_rev)"
        else
                echo "- berth-runtime: not built ($BERTH_RUNTIME missing), not measured"
        fi
        echo "- $(hyperfine --version)"
        echo
        echo "## Time"
        echo
        cat "$tmp/hyperfine.md"
        echo
        echo "runc median: $runc_median ms"
        if $have_berth; then
                echo "berth-runtime median: $berth_median ms, ${speedup}x faster than runc"
                echo "berth-runtime median under the default seccomp profile: $berth_sc_median ms"
        fi
        echo
        echo "## Peak RSS (max of $RSS_RUNS runs, \`/usr/bin/time -v\`)"
        echo
        echo "| runtime | peak RSS |"
        echo "|:---|---:|"
        echo "| runc | $runc_rss KiB ($(kib_to_mib "$runc_rss") MiB) |"
        if $have_berth; then
                echo "| berth-runtime | $berth_rss KiB ($(kib_to_mib "$berth_rss") MiB) |"
        fi
}

mkdir -p "$here/results"
out=$here/results/$(date +%Y-%m-%d).md
report >"$out"
echo
cat "$out"
echo
echo "run-bench: written to ${out#"$repo"/}"
