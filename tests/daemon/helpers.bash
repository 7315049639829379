# Shared by tests/daemon/*.bats: a private berthd (its own data root, exec
# root and socket under $DAEMON_TMP) driven by the real docker CLI
# (/usr/local/bin/docker, v28) through DOCKER_HOST, and a registry on
# 127.0.0.1 holding a busybox image made by tests/image/mkimages.py.
SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${BERTH_BUILD:-$SRC/build}
DAEMON_TMP=${BERTH_DAEMON_TMP:-/tmp/berth-daemon-test}
DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}

die() {
	echo "$*" >&2
	echo "output: ${output:-}" >&2
	return 1
}

# berthd_start: sets BERTHD_PID, DOCKER_HOST; state in $DAEMON_TMP/d
berthd_start() {
	local d=$DAEMON_TMP/d
	mkdir -p "$d"
	"$BUILD/berthd" -H "unix://$d/berth.sock" --data-root "$d/data" --exec-root "$d/run" \
		--pidfile "$d/berthd.pid" --insecure-registry "${REG_HOST:-none}" ${BERTHD_ARGS:-} >>"$d/berthd.log" 2>&1 3>&- &
	BERTHD_PID=$!
	export DOCKER_HOST=unix://$d/berth.sock
	for _ in $(seq 100); do
		[ -S "$d/berth.sock" ] && "$DOCKER_CLI" version >/dev/null 2>&1 && return 0
		kill -0 "$BERTHD_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$d/berthd.log" >&2
	return 1
}

berthd_stop() {
	[ -n "${BERTHD_PID:-}" ] || return 0
	kill "$BERTHD_PID" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.05; done
	kill -9 "$BERTHD_PID" 2>/dev/null || true
	BERTHD_PID=
}

# Everything the daemon left: containers (by their shims' pid files),
# mounts, the runtime's state; then the directory.
daemon_cleanup() {
	local d=$DAEMON_TMP/d pidf
	berthd_stop
	[ -f "$d/berthd.pid" ] && kill -9 "$(cat "$d/berthd.pid")" 2>/dev/null
	for pidf in "$d"/run/shims/*/shim.pid; do
		[ -f "$pidf" ] && kill -9 "$(cat "$pidf")" 2>/dev/null
	done
	if [ -d "$d/run/runtime" ]; then
		for c in "$d"/run/runtime/*/; do
			[ -d "$c" ] && "$BUILD/berth-runtime" --root "$d/run/runtime" delete --force "$(basename "$c")" 2>/dev/null
		done
	fi
	grep -o " $DAEMON_TMP[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	# networking a daemon killed with -9 left: its table, its veths
	# ("bv" + the container's id) and its default bridge
	nft delete table ip berth 2>/dev/null
	ip -o link show 2>/dev/null | sed -n 's/^[0-9]*: \(bv[0-9a-f]*\)@.*/\1/p' | xargs -r -n1 ip link del 2>/dev/null
	ip link del berth0 2>/dev/null
	bridges_del "$d/data/berth.db"
	rm -rf "$d"
}

# The bridges of the networks the daemon made (bridges.py): they stay
# when it stops, as dockerd's do.
bridges_del() {
	python3 "$SRC/tests/daemon/bridges.py" "$1" 2>/dev/null | xargs -r -n1 ip link del 2>/dev/null
	return 0
}
