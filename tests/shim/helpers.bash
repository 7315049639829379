# Helpers for shim.bats.
#
# Layout:  $FILE_TMP/               (mktemp under BERTH_SHIM_TMP)
#   rootfs/      busybox and its applets (shared by every bundle: read-only)
#   base.json    config.json: `berth-runtime spec`, terminal false
#   rt/          the runtime root of every test
#   t<N>/        one per test: bundle/, state/ (the shim's), ctr.log
# Containers get cgroupsPath /berth-shim-test/<id> and the env marker
# BERTH_SHIM_TEST=<id>; teardown checks (and cleans) by those and by the
# shim's pid, never by process name.

SHIM=$BERTH_BUILD/berth-shim
RUNTIME=$BERTH_BUILD/berth-runtime

fail() {
	echo "FAIL: $*" >&2
	return 1
}

assert_eq() {
	[[ "$1" == "$2" ]] || fail "${3:-value}: expected [$2], got [$1]"
}

# wait_for SECONDS COMMAND...: poll every 20 ms until COMMAND succeeds.
wait_for() {
	local end=$((SECONDS + $1))
	shift
	until "$@"; do
		((SECONDS < end)) || return 1
		sleep 0.02
	done
}

client_bin() {
	local built=$BERTH_BUILD/tests/shim/shim-client src=$BATS_TEST_DIRNAME/shim-client.c
	if [[ -x $built && ! $src -nt $built ]]; then
		echo "$built"
		return
	fi
	local own=$BERTH_SHIM_TMP/bin/shim-client
	if [[ ! -x $own || $src -nt $own ]]; then
		mkdir -p "$BERTH_SHIM_TMP/bin"
		gcc -std=gnu11 -O2 -Wall -Wextra -o "$own.tmp.$$" "$src" >&2 && mv -f "$own.tmp.$$" "$own" || return 1
	fi
	echo "$own"
}

shim_setup_file() {
	FILE_TMP=$(mktemp -d "$BERTH_SHIM_TMP/shim.XXXXXX")
	export FILE_TMP RT=$FILE_TMP/rt
	CLIENT=$(client_bin) || return 1
	export CLIENT
	local r=$FILE_TMP/rootfs a
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc}
	cp /bin/busybox "$r/bin/busybox"
	for a in $(/bin/busybox --list); do
		[[ $a == busybox ]] || ln -s busybox "$r/bin/$a"
	done
	(cd "$FILE_TMP" && "$RUNTIME" spec) || return 1
	jq '.process.terminal = false | .root = {"path": "rootfs", "readonly": true}' \
		"$FILE_TMP/config.json" >"$FILE_TMP/base.json"
	rm -f "$FILE_TMP/config.json"
}

shim_teardown_file() {
	local d
	# the parent the runtime made for our containers (empty by now)
	for d in /sys/fs/cgroup/berth-shim-test /sys/fs/cgroup/*/berth-shim-test; do
		[[ -d $d ]] && rmdir "$d" 2>/dev/null
	done
	[[ -n ${FILE_TMP:-} ]] && rm -rf --one-file-system "$FILE_TMP"
	return 0
}

# A test's container: id, bundle, state dir, log.
shim_setup() {
	TD=$FILE_TMP/t$BATS_TEST_NUMBER
	mkdir -p "$TD/bundle"
	ID=sh$BATS_TEST_NUMBER-$RANDOM$RANDOM
	BUNDLE=$TD/bundle
	ST=$TD/state
	CLOG=$TD/ctr.log
	SHIM_PIDS=()
	ln -s ../../rootfs "$BUNDLE/rootfs"
	jq --arg id "$ID" '.process.env += ["BERTH_SHIM_TEST=" + $id]
		| .linux.cgroupsPath = "/berth-shim-test/" + $id' "$FILE_TMP/base.json" >"$BUNDLE/config.json"
}

# cfg FILTER [jq args]: edit the bundle's config.json.
cfg() {
	local f=$1
	shift
	jq "$f" "$@" "$BUNDLE/config.json" >"$BUNDLE/config.json.new" && mv "$BUNDLE/config.json.new" "$BUNDLE/config.json"
}

# cfg_sh SCRIPT: the container runs sh -c SCRIPT.
cfg_sh() {
	cfg '.process.args = ["sh", "-c", $s]' --arg s "$1"
}

# shim [extra flags]: launch the shim for this test's container; remembers
# its pid for teardown.  Returns the launcher's status.
shim() {
	local rc=0
	"$SHIM" --id "$ID" --bundle "$BUNDLE" --runtime-root "$RT" --state-dir "$ST" --log "$CLOG" "$@" || rc=$?
	[[ -s $ST/shim.pid ]] && SHIM_PIDS+=("$(cat "$ST/shim.pid")")
	return $rc
}

ctl() {
	"$CLIENT" ctl "$ST/control.sock" "$@"
}

# wait_exit: wait for the exit record; prints its exit_code.
wait_exit() {
	wait_for "${1:-10}" test -s "$ST/exit" || fail "no exit record in $ST" || return 1
	jq -r .exit_code "$ST/exit"
}

pid_alive() {
	[[ -d /proc/$1 ]] && [[ $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) != Z ]]
}

# procs_of ID: processes carrying the container's env marker.
procs_of() {
	grep -l -a -F -x -z "BERTH_SHIM_TEST=$1" /proc/[0-9]*/environ 2>/dev/null | cut -d/ -f3 |
		while read -r p; do pid_alive "$p" && echo "$p"; done
	return 0
}

cgroups_of() {
	local d
	for d in /sys/fs/cgroup/berth-shim-test/"$1" /sys/fs/cgroup/*/berth-shim-test/"$1"; do
		[[ -d $d ]] && echo "$d"
	done
	return 0
}

# leftovers: what this test's container and shims left behind.
leftovers() {
	local p
	for p in "${SHIM_PIDS[@]}"; do
		pid_alive "$p" && echo "shim process $p"
	done
	for p in $(procs_of "$ID"); do
		echo "container process $p"
	done
	cgroups_of "$ID" | sed 's/^/cgroup /'
	[[ -e $RT/$ID ]] && echo "runtime state $RT/$ID"
	for p in control.sock attach.sock console.sock shim.pid; do
		[[ -e $ST/$p ]] && echo "state file $ST/$p"
	done
	return 0
}

no_leftovers() {
	[[ -z $(leftovers) ]]
}

# Teardown: after the shim had its time, whatever remains is reported
# (failing the test) and removed by pid and by path.
shim_teardown() {
	local left p d
	wait_for 5 no_leftovers
	left=$(leftovers)
	[[ -z $left ]] && { rm -rf "$TD"; return 0; }
	echo "# left behind:" >&2
	echo "$left" | sed 's/^/#   /' >&2
	for p in "${SHIM_PIDS[@]}" $(procs_of "$ID"); do
		kill -9 "$p" 2>/dev/null
	done
	wait_for 5 test -z "$(procs_of "$ID")"
	for d in $(cgroups_of "$ID"); do
		rmdir "$d" 2>/dev/null
	done
	rm -rf "${RT:?}/$ID" "$TD"
	return 1
}

setup_file() { shim_setup_file; }
teardown_file() { shim_teardown_file; }
setup() { shim_setup; }
teardown() { shim_teardown; }
