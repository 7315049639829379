#!/bin/bash
# with-berthd.sh CMD ARGS...: run CMD with a private berthd (data root,
# exec root and socket in a temp dir) whose socket is in BERTH_TEST_HOST
# and DOCKER_HOST; then stop it by PID and remove what it left (shims,
# runtime state, mounts).  Exits with CMD's status.
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${BERTH_BUILD:-$(cd "$here/../.." && pwd)/build}
d=$(mktemp -d /tmp/berth-with-berthd.XXXXXX)
"$build/berthd" -H "unix://$d/berth.sock" --data-root "$d/data" --exec-root "$d/run" \
	>"$d/berthd.log" 2>&1 3>&- &
pid=$!
for _ in $(seq 100); do
	[ -S "$d/berth.sock" ] && break
	sleep 0.05
done
export BERTH_TEST_HOST=unix://$d/berth.sock DOCKER_HOST=unix://$d/berth.sock
"$@"
rc=$?
kill "$pid" 2>/dev/null
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
kill -9 "$pid" 2>/dev/null
for f in "$d"/run/shims/*/shim.pid; do
	[ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null
done
for c in "$d"/run/runtime/*/; do
	[ -d "$c" ] && "$build/berth-runtime" --root "$d/run/runtime" delete --force "$(basename "$c")" 2>/dev/null
done
grep -o " $d[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
# the bridges of the networks it made, which outlive it as dockerd's do
python3 "$here/bridges.py" "$d/data/berth.db" 2>/dev/null | xargs -r -n1 ip link del 2>/dev/null
rm -rf "$d"
exit $rc
