#!/bin/bash
# The quick-start demo: install, build, then run a container from Debian's
# busybox-static with berth-runtime, and have it report from the inside its
# hostname, that it is PID 1, and the memory limit it runs under.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

bundle=$(mktemp -d /tmp/berth-demo.XXXXXX)
root=$bundle/state
trap 'build/berth-runtime --root "$root" delete --force berth-demo >/dev/null 2>&1 || true; rm -rf "$bundle"' EXIT
mkdir -p "$bundle/rootfs/bin"
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh cat echo hostname; do ln -s busybox "$bundle/rootfs/bin/$applet"; done

build/berth-runtime spec --bundle "$bundle"
# a 64 MiB memory limit, no terminal, a hostname, and the report as the command
script='echo "hostname:     $(hostname)"; echo "pid:          $$ (PID 1 inside its own PID namespace)"; limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo "memory limit: $limit bytes ($((limit / 1048576)) MiB)"'
jq --arg script "$script" '.process.terminal = false | .process.args = ["/bin/sh", "-c", $script]
    | .hostname = "berth-demo" | .linux.resources.memory = {limit: 67108864}
    | .linux.cgroupsPath = "/berth-demo"' "$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"
echo "\$ berth-runtime run --bundle $bundle berth-demo"
build/berth-runtime --root "$root" run --bundle "$bundle" berth-demo
