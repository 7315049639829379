# Shared by tests/cli/*.bats: the berth CLI against a daemon.
#
# The daemon is BERTH_TEST_HOST (unix:///path) when set, e.g. berthd's
# socket; otherwise a private dockerd started by the file's setup (its own
# data root, exec root and socket under CLI_TMP, no bridge, no iptables,
# vfs) and stopped by its PID.  Test images are made by
# tests/image/mkimages.py from busybox-static, pushed with skopeo to a
# local docker-registry and pulled by the CLI under test: nothing is
# downloaded, and the same tests run unchanged against any daemon.
SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${BERTH_BUILD:-$SRC/build}
BERTH_BIN=${BERTH_BIN:-$BUILD/berth}
REGISTRY_SCRIPT=$SRC/tests/registry/run-registry.sh
CLI_TMP=${BERTH_CLI_TMP:-/tmp/berth-cli-test}

# berth ARGS: the CLI under test; the daemon comes from BERTH_HOST
berth() { "$BERTH_BIN" "$@"; }

die() {
	echo "$*" >&2
	echo "status: $status" >&2
	echo "output: $output" >&2
	return 1
}

start_dockerd() {
	local d=$CLI_TMP/dockerd i=0
	mkdir -p "$d"
	echo '{}' >"$d/daemon.json"
	dockerd --data-root "$d/data" --exec-root "$d/exec" -H "unix://$d/sock" --pidfile "$d/pid" \
		--bridge=none --iptables=false --ip6tables=false --storage-driver=vfs \
		--config-file "$d/daemon.json" >"$d/log" 2>&1 </dev/null &
	echo $! >"$CLI_TMP/dockerd.pid"
	while ! curl -sf --unix-socket "$d/sock" http://x/_ping >/dev/null 2>&1; do
		i=$((i + 1))
		if ((i > 300)) || ! kill -0 "$(cat "$CLI_TMP/dockerd.pid")" 2>/dev/null; then
			echo "dockerd did not start:" >&2
			tail -20 "$d/log" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "unix://$d/sock"
}

stop_dockerd() {
	local pid i=0
	[[ -f $CLI_TMP/dockerd.pid ]] || return 0
	pid=$(cat "$CLI_TMP/dockerd.pid")
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null && ((i < 200)); do
		sleep 0.1
		i=$((i + 1))
	done
	kill -9 "$pid" 2>/dev/null || true
	rm -f "$CLI_TMP/dockerd.pid"
	# whatever dockerd left mounted under its roots
	grep -o " $CLI_TMP/[^ ]*" /proc/self/mounts | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
}

cli_setup_file() {
	[[ -x $BERTH_BIN ]] || { echo "missing $BERTH_BIN: build first" >&2; return 1; }
	rm -rf "$CLI_TMP"
	mkdir -p "$CLI_TMP"
	if [[ -n ${BERTH_TEST_HOST:-} ]]; then
		BERTH_HOST=$BERTH_TEST_HOST
	else
		BERTH_HOST=$(start_dockerd) || return 1
	fi
	export BERTH_HOST
	local out
	out=$(sh "$REGISTRY_SCRIPT" start) || return 1
	read -r REG_URL REG_PID REG_DIR <<<"$out"
	echo "$REG_PID $REG_DIR" >"$CLI_TMP/registry"
	REG=${REG_URL#http://}
	export REG
	python3 "$SRC/tests/image/mkimages.py" "$CLI_TMP/fixtures" one >/dev/null
	skopeo copy -q --dest-tls-verify=false "oci:$CLI_TMP/fixtures/one:latest" "docker://$REG/bb:1"
	skopeo copy -q --dest-tls-verify=false "oci:$CLI_TMP/fixtures/one:latest" "docker://$REG/bb:2"
	# the image every container test runs
	"$BERTH_BIN" pull -q "$REG/bb:1" >/dev/null
	IMG=$REG/bb:1
	export IMG
}

cli_teardown_file() {
	# containers the tests left (by name prefix), then the daemon
	if [[ -n ${BERTH_HOST:-} ]]; then
		"$BERTH_BIN" ps -aq --filter name=bt- 2>/dev/null | while read -r id; do
			"$BERTH_BIN" rm -f "$id" >/dev/null 2>&1 || true
		done
	fi
	if [[ -f $CLI_TMP/registry ]]; then
		read -r pid dir <"$CLI_TMP/registry"
		sh "$REGISTRY_SCRIPT" stop "$pid" "$dir" || true
	fi
	[[ -n ${BERTH_TEST_HOST:-} ]] || stop_dockerd
	rm -rf "$CLI_TMP" 2>/dev/null || true
}
