# Helpers for the berth-runtime integration suite (bats).
#
# The suite drives a runc-compatible runtime binary the way containerd's shim
# does: global `--root R --log LOG --log-format json`, then create/start/
# state/kill/delete/exec/... (see ../../../shared/containerd-runtime-calls.md).
#
#   RUNTIME        runtime under test (default: <repo>/build/berth-runtime);
#                  RUNTIME=/usr/sbin/runc validates the tests themselves.
#   BERTH_BUILD    meson build dir (default <repo>/build); helper programs are
#                  taken from $BERTH_BUILD/tests/helpers, or built by hand into
#                  $BERTH_ITEST_TMP/bin when the build has none yet.
#   BERTH_ITEST_TMP  parent of every temp dir the suite makes (/tmp/berth-itest);
#                  tests/leakcheck.sh looks there.
#   BERTH_EXITDIR  set by run.sh: the subreaper (tests/helpers/subreaper.c)
#                  that runs bats records exit codes of adopted container
#                  processes there, as containerd's shim would reap them.
#
# Layout of one test file run:   $FILE_TMP/            (mktemp under BERTH_ITEST_TMP)
#   rootfs/     busybox + applet symlinks + berth-probe (template, copied per test)
#   base.json   the base config.json (runc spec + edits)
#   state/      the runtime's --root for every test of this file
#   t<N>/       one per test: bundle/{config.json,rootfs}, out/ (bind-mounted
#               at /out inside), log.json, <id>.pid, <id>.stdout, <id>.stderr
#
# Every container gets the env marker BERTH_ITEST=<id> and cgroupsPath
# /berth-test/<id>, so leftovers are found by environ, by cgroup and by path.
#
# Tests that check something only Berth promises (runc behaves differently)
# call `berth_only "why"`, which skips under runc.  Keep them few.

BERTH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${BERTH_BUILD:=$BERTH_SRC/build}"
: "${RUNTIME:=$BERTH_BUILD/berth-runtime}"
: "${BERTH_ITEST_TMP:=/tmp/berth-itest}"
: "${RUNC:=/usr/sbin/runc}"
: "${RT_TIMEOUT:=60}"
export BERTH_SRC BERTH_BUILD RUNTIME BERTH_ITEST_TMP

# ---------------------------------------------------------------- basics ---

is_runc() {
	[[ $(basename "$RUNTIME") == runc* ]] && return 0
	"$RUNTIME" --version 2>/dev/null | head -n1 | grep -qi '^runc'
}

# Skip a test whose expectation is Berth's own promise, not runc behaviour.
berth_only() {
	if is_runc; then
		skip "berth-only: $*"
	fi
}

fail() {
	echo "FAIL: $*" >&2
	return 1
}

# assert_eq ACTUAL EXPECTED [what]
assert_eq() {
	if [[ "$1" != "$2" ]]; then
		fail "${3:-value}: expected [$2], got [$1]"
	fi
}

# assert_match STRING REGEX [what]
assert_match() {
	if ! [[ "$1" =~ $2 ]]; then
		fail "${3:-value}: [$1] does not match /$2/"
	fi
}

assert_not_match() {
	if [[ "$1" =~ $2 ]]; then
		fail "${3:-value}: [$1] unexpectedly matches /$2/"
	fi
}

# assert_success / assert_failure on bats' $status, showing $output.
assert_success() {
	if [[ "$status" -ne 0 ]]; then
		echo "output: $output" >&2
		[[ -s "$LOG" ]] && echo "log: $(cat "$LOG")" >&2
		fail "expected success, got status $status"
	fi
}

assert_failure() {
	if [[ "$status" -eq 0 ]]; then
		echo "output: $output" >&2
		fail "expected failure, got status 0"
	fi
}

# count_is FILE REGEX N: FILE has exactly N lines matching REGEX.
count_is() {
	[[ $(grep -c -E "$2" "$1" 2>/dev/null) == "$3" ]]
}

# wait_for TIMEOUT_SECONDS COMMAND...: poll (every 20ms) until COMMAND succeeds.
wait_for() {
	local timeout=$1
	shift
	local end=$((SECONDS + timeout))
	while ! "$@"; do
		if ((SECONDS >= end)); then
			return 1
		fi
		sleep 0.02
	done
}

wait_for_file() {
	wait_for "${2:-10}" test -s "$1" || fail "timed out waiting for $1"
}

# ---------------------------------------------------- helper programs ----

# helper_bin NAME: path of a built helper (berth-probe, recvtty, subreaper).
helper_bin() {
	local name=$1 src=$BERTH_SRC/tests/helpers/$1.c
	local built=$BERTH_BUILD/tests/helpers/$name
	if [[ -x $built && ! $src -nt $built ]]; then
		echo "$built"
		return 0
	fi
	local own=$BERTH_ITEST_TMP/bin/$name
	if [[ ! -x $own || $src -nt $own ]]; then
		mkdir -p "$BERTH_ITEST_TMP/bin"
		local static=()
		[[ $name == berth-probe ]] && static=(-static)
		gcc -std=gnu11 -O2 -Wall -Wextra "${static[@]}" -o "$own.tmp.$$" "$src" >&2 || return 1
		mv -f "$own.tmp.$$" "$own"
	fi
	echo "$own"
}

# --------------------------------------------------------- file setup ----

# The base config: runc's `spec` output, the reference the tests were
# validated against.  Without runc installed, the same document as runc
# 1.1.5 writes it (the runtime's own `spec` is tested, not relied upon).
RUNC_1_1_5_SPEC='{"ociVersion":"1.0.2-dev","process":{"terminal":true,"user":{"uid":0,"gid":0},"args":["sh"],"env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","TERM=xterm"],"cwd":"/","capabilities":{"bounding":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"permitted":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"],"ambient":["CAP_AUDIT_WRITE","CAP_KILL","CAP_NET_BIND_SERVICE"]},"rlimits":[{"type":"RLIMIT_NOFILE","hard":1024,"soft":1024}],"noNewPrivileges":true},"root":{"path":"rootfs","readonly":true},"hostname":"runc","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},{"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620","gid=5"]},{"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},{"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]}],"linux":{"resources":{"devices":[{"allow":false,"access":"rwm"}]},"namespaces":[{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"}],"maskedPaths":["/proc/acpi","/proc/asound","/proc/kcore","/proc/keys","/proc/latency_stats","/proc/timer_list","/proc/timer_stats","/proc/sched_debug","/sys/firmware","/proc/scsi"],"readonlyPaths":["/proc/bus","/proc/fs","/proc/irq","/proc/sys","/proc/sysrq-trigger"]}}'

_base_spec() {
	local d
	d=$(mktemp -d "$FILE_TMP/spec.XXXXXX")
	if [[ -x $RUNC ]] && (cd "$d" && "$RUNC" spec >/dev/null 2>&1) && [[ -s $d/config.json ]]; then
		cat "$d/config.json"
	else
		echo "$RUNC_1_1_5_SPEC"
	fi
	rm -rf "$d"
}

berth_setup_file() {
	mkdir -p "$BERTH_ITEST_TMP"
	local tag
	tag=$(basename "$BATS_TEST_FILENAME" .bats)
	FILE_TMP=$(mktemp -d "$BERTH_ITEST_TMP/$tag.XXXXXX")
	# traversable by the mapped uids of user-namespace tests
	chmod 0755 "$BERTH_ITEST_TMP" "$FILE_TMP"
	export FILE_TMP
	export ROOT=$FILE_TMP/state
	export FILE_TAG=${tag:0:6}

	local probe
	probe=$(helper_bin berth-probe) || return 1

	# rootfs template: busybox, its applets as relative symlinks, the probe.
	local r=$FILE_TMP/rootfs
	mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,out,mnt,home/user,root,run,var/tmp}
	chmod 1777 "$r/tmp" "$r/var/tmp"
	cp /bin/busybox "$r/bin/busybox"
	local a
	for a in $(/bin/busybox --list); do
		[[ $a == busybox ]] && continue
		ln -s busybox "$r/bin/$a"
	done
	cp "$probe" "$r/bin/berth-probe"
	printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
	printf 'root:x:0:\ntty:x:5:\nuser:x:1000:\nnogroup:x:65534:\n' >"$r/etc/group"
	chown 1000:1000 "$r/home/user"
	# A file that is not executable (for the error tests).
	printf '#!/bin/sh\necho should-not-run\n' >"$r/bin/not-executable"
	chmod 0644 "$r/bin/not-executable"

	_base_spec | jq '
		.process.terminal = false
		| .process.args = ["berth-probe", "pid"]
		| .root = {"path": "rootfs", "readonly": false}
		| .hostname = "berth-test"
	' >"$FILE_TMP/base.json"
	[[ -s $FILE_TMP/base.json ]] || fail "no base config.json"
}

berth_teardown_file() {
	[[ -n ${FILE_TMP:-} && -d $FILE_TMP ]] || return 0
	_unmount_under "$FILE_TMP"
	if _mounts_under "$FILE_TMP" | grep -q .; then
		echo "not removing $FILE_TMP: still mounted:" >&2
		_mounts_under "$FILE_TMP" >&2
		return 1
	fi
	rm -rf --one-file-system "$FILE_TMP"
}

# --------------------------------------------------------- test setup ----

# new_cid VAR: set VAR to a unique container id (fixed-width random part,
# so no id is a substring of another), tracked for teardown.
new_cid() {
	local __new_cid
	printf -v __new_cid 'bt%03d-%s-%05d%05d' "$BATS_TEST_NUMBER" "$FILE_TAG" "$RANDOM" "$RANDOM"
	TRACKED_CIDS+=("$__new_cid")
	printf -v "$1" '%s' "$__new_cid"
}

# make_bundle DIR CID: a bundle with its own rootfs copy and a config for CID.
make_bundle() {
	local dir=$1 id=$2
	mkdir -p "$dir"
	cp -a "$FILE_TMP/rootfs" "$dir/rootfs"
	jq --arg id "$id" --arg out "$OUT" '
		.process.env += ["BERTH_ITEST=" + $id]
		| .linux.cgroupsPath = "/berth-test/" + $id
		| .mounts += [{"destination": "/out", "type": "bind", "source": $out,
		               "options": ["rbind", "rw"]}]
	' "$FILE_TMP/base.json" >"$dir/config.json"
}

berth_setup() {
	TRACKED_CIDS=()
	HOST_MOUNTS=()
	SAVED_SYSCTLS=()
	save_sysctl kernel.hostname
	save_sysctl kernel.domainname
	TD=$FILE_TMP/t$BATS_TEST_NUMBER
	rm -rf --one-file-system "$TD"
	mkdir -p "$TD"
	OUT=$TD/out
	mkdir -p "$OUT"
	chmod 0777 "$OUT"
	LOG=$TD/log.json
	new_cid CID
	BUNDLE=$TD/bundle
	make_bundle "$BUNDLE" "$CID"
}

# cfg [-b BUNDLE] FILTER [jq args...]: edit BUNDLE/config.json in place.
cfg() {
	local b=$BUNDLE
	if [[ $1 == -b ]]; then
		b=$2
		shift 2
	fi
	local filter=$1
	shift
	jq "$filter" "$@" <"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# json_array ARG...: the arguments as a JSON array of strings (jq's --args
# would take an argument like "-c" as its own option; --arg takes it verbatim).
json_array() {
	local i=0 a filter='[' jargs=()
	for a in "$@"; do
		jargs+=(--arg "a$i" "$a")
		filter+="\$a$i,"
		i=$((i + 1))
	done
	filter=${filter%,}']'
	jq -c -n "${jargs[@]}" "$filter"
}

# cfg_args [-b BUNDLE] ARG...: set .process.args.
cfg_args() {
	local b=(-b "$BUNDLE")
	if [[ $1 == -b ]]; then
		b=(-b "$2")
		shift 2
	fi
	cfg "${b[@]}" '.process.args = $a' --argjson a "$(json_array "$@")"
}

# cfg_sh [-b BUNDLE] 'script': run a busybox sh script as the process.
cfg_sh() {
	if [[ $1 == -b ]]; then
		cfg_args -b "$2" sh -c "$3"
	else
		cfg_args sh -c "$1"
	fi
}

# ------------------------------------------------------ runtime calls ----

# rt ARGS...: the runtime with containerd's global flags.  When our stdout or
# stderr is a pipe (bats' `run`, `| jq`), the runtime writes to files that are
# copied afterwards: a process the runtime wrongly leaves behind must not hold
# the pipe open and hang the suite.
rt() {
	if [[ -p /dev/stdout || -p /dev/stderr ]]; then
		local f rc=0
		f=$(mktemp "${TD:-/tmp}/rt-out.XXXXXX")
		timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" --log "$LOG" --log-format json "$@" \
			>"$f" 2>"$f.err" 3>&- || rc=$?
		cat "$f"
		cat "$f.err" >&2
		rm -f "$f" "$f.err"
		return $rc
	fi
	timeout -k 5 "$RT_TIMEOUT" "$RUNTIME" --root "$ROOT" --log "$LOG" --log-format json "$@" 3>&-
}

# rt_create [--id ID] [--bundle B] [more create flags...]
# Like containerd: stdio of the runtime = stdio of the container, so they go
# to $TD/<id>.stdout/.stderr (stdin from $TD/<id>.stdin if it exists).  The
# runtime's stderr is printed on failure.  Returns the runtime's status.
rt_create() {
	local id=$CID b=$BUNDLE
	while [[ $# -gt 0 ]]; do
		case $1 in
		--id) id=$2; shift 2 ;;
		--bundle) b=$2; shift 2 ;;
		*) break ;;
		esac
	done
	local in=/dev/null
	[[ -e $TD/$id.stdin ]] && in=$TD/$id.stdin
	local rc=0
	rt create --bundle "$b" --pid-file "$TD/$id.pid" "$@" "$id" \
		<"$in" >"$TD/$id.stdout" 2>"$TD/$id.stderr" 3>&- || rc=$?
	if [[ $rc -ne 0 ]]; then
		cat "$TD/$id.stderr" >&2
	else
		# A stale exit record for a reused pid must not fool wait_exit.
		local p
		p=$(cpid "$id" 2>/dev/null) && [[ -n ${BERTH_EXITDIR:-} ]] && rm -f "$BERTH_EXITDIR/$p"
	fi
	return $rc
}

# rt_run [--id ID] [--bundle B] [more run flags...]: foreground run; exit
# code passes through.  The container's stdout/stderr go to a file that is
# printed afterwards, so a process the runtime wrongly leaves behind cannot
# hold bats' capture pipe open (stdin is /dev/null).
rt_run() {
	local id=$CID b=$BUNDLE
	while [[ $# -gt 0 ]]; do
		case $1 in
		--id) id=$2; shift 2 ;;
		--bundle) b=$2; shift 2 ;;
		*) break ;;
		esac
	done
	local rc=0
	rt run --bundle "$b" "$@" "$id" </dev/null >"$TD/$id.run.out" 2>&1 3>&- || rc=$?
	cat "$TD/$id.run.out"
	return $rc
}

# rt_exec_detach [--id ID] PROCESS_JSON [more exec flags...]: containerd's
# `exec --process FILE --detach --pid-file $TD/<id>.exec<N>.pid`; the
# process's stdio go to $TD/exec<N>.{stdout,stderr}.  Sets EXEC_PIDFILE,
# EXEC_OUT, EXEC_ERR.  Never wrap it in bats' `run`: the detached process
# would hold the capture pipe.
EXEC_N=0
rt_exec_detach() {
	local id=$CID
	if [[ $1 == --id ]]; then
		id=$2
		shift 2
	fi
	local proc=$1
	shift
	EXEC_N=$((EXEC_N + 1))
	EXEC_PIDFILE=$TD/$id.exec$EXEC_N.pid
	EXEC_OUT=$TD/exec$EXEC_N.stdout
	EXEC_ERR=$TD/exec$EXEC_N.stderr
	local rc=0
	rt exec --process "$proc" --detach --pid-file "$EXEC_PIDFILE" "$@" "$id" \
		</dev/null >"$EXEC_OUT" 2>"$EXEC_ERR" 3>&- || rc=$?
	if [[ $rc -ne 0 ]]; then
		cat "$EXEC_ERR" >&2
	fi
	return $rc
}

# rt_start_wait [ID]: start, then wait for the container to exit.
# Prints the exit code (needs the subreaper) and fails on a start error.
rt_start() {
	rt start "${1:-$CID}" </dev/null >"$TD/start.out" 2>&1 3>&- || {
		cat "$TD/start.out" >&2
		return 1
	}
}

# cpid [ID]: the host pid the runtime wrote to --pid-file.
cpid() {
	local f=$TD/${1:-$CID}.pid
	[[ -s $f ]] || return 1
	cat "$f"
}

# state_field FIELD [ID]: a field of `state`.
state_field() {
	rt state "${2:-$CID}" 2>/dev/null | jq -r ".$1"
}

state_is() {
	[[ $(state_field status "${2:-$CID}") == "$1" ]]
}

wait_state() {
	wait_for "${3:-10}" state_is "$1" "${2:-$CID}" ||
		fail "state of ${2:-$CID} did not become $1 (now: $(state_field status "${2:-$CID}"))"
}

has_reaper() {
	[[ -n ${BERTH_EXITDIR:-} && -d $BERTH_EXITDIR ]]
}

require_reaper() {
	has_reaper || skip "needs the subreaper of tests/integration/run.sh (BERTH_EXITDIR)"
}

# pid_gone PID: the process does not exist or is a zombie.
pid_gone() {
	local st
	[[ -r /proc/$1/stat ]] || return 0
	st=$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) || return 0
	[[ $st == Z || $st == X || -z $st ]]
}

# wait_exit [ID] [TIMEOUT]: wait until the container init exits; print its
# exit code if the subreaper recorded it, else "?".
wait_exit() {
	local id=${1:-$CID} timeout=${2:-20} pid
	pid=$(cpid "$id") || fail "no pid file for $id" || return 1
	if has_reaper; then
		wait_for "$timeout" test -s "$BERTH_EXITDIR/$pid" || fail "container $id (pid $pid) did not exit" || return 1
		cat "$BERTH_EXITDIR/$pid"
	else
		wait_for "$timeout" pid_gone "$pid" || fail "container $id (pid $pid) did not exit" || return 1
		echo "?"
	fi
}

# write_process FILE [jq filter] [jq args]: an OCI Process JSON for exec
# --process, based on the bundle's process (as containerd builds it).
write_process() {
	local f=$1 filter=${2:-.}
	shift 2 || shift $#
	jq ".process | $filter" "$@" <"$BUNDLE/config.json" >"$f"
}

# ---------------------------------------------------------- cgroups ----

cg_is_v2() {
	[[ $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) == cgroup2fs ]]
}

# cg_dir CONTROLLER [ID]: the container's cgroup dir on the host.
cg_dir() {
	local ctrl=$1 id=${2:-$CID}
	if cg_is_v2; then
		echo "/sys/fs/cgroup/berth-test/$id"
	else
		echo "/sys/fs/cgroup/$ctrl/berth-test/$id"
	fi
}

# cg_dirs_of ID: every cgroup dir that exists for the container, any hierarchy.
cg_dirs_of() {
	local id=$1 d
	for d in /sys/fs/cgroup/berth-test/"$id" /sys/fs/cgroup/*/berth-test/"$id"; do
		[[ -d $d ]] && echo "$d"
	done
	return 0
}

# ------------------------------------------------------ mounts, leaks ----

# _mounts_under DIR: host mount points at or below DIR (mountinfo order).
_mounts_under() {
	awk -v d="$1" '{ mp = $5; gsub(/\\040/, " ", mp); if (mp == d || index(mp, d "/") == 1) print mp }' /proc/self/mountinfo
}

# _unmount_under DIR: unmount everything at or below DIR, deepest first.
_unmount_under() {
	local mp i mps
	for i in 1 2 3; do
		mapfile -t mps < <(_mounts_under "$1" | sort -r)
		[[ ${#mps[@]} -eq 0 ]] && return 0
		for mp in "${mps[@]}"; do
			umount -l "$mp" 2>/dev/null || true
		done
	done
}

# host_mount ARGS...: a mount the test makes on the host; teardown undoes it.
host_mount() {
	mount "$@" || return 1
	HOST_MOUNTS+=("${@: -1}")
}

# procs_of ID: pids of processes that belong to container ID: the env
# marker, the container's cgroup, or the id as an argument of a runtime
# command line.  Patterns come from files so grep's own argv never matches.
procs_of() {
	local id=$1
	{
		grep -l -a -F -f <(printf '%s\n' "BERTH_ITEST=$id" "/berth-test/$id") \
			/proc/[0-9]*/environ /proc/[0-9]*/cgroup 2>/dev/null
		grep -l -a -z -x -F -f <(printf '%s\n' "$id") /proc/[0-9]*/cmdline 2>/dev/null
	} | cut -d/ -f3 | sort -un | grep -v -x -e "$$" -e "$BASHPID" | while read -r p; do
		# a zombie waits for its parent to reap it: not a leftover
		pid_gone "$p" || echo "$p"
	done
}

no_procs_of() {
	[[ -z $(procs_of "$1") ]]
}

# leftovers_of ID: print what the container left behind (empty if nothing).
leftovers_of() {
	local id=$1 p d
	if [[ -e $ROOT/$id ]]; then echo "state dir: $ROOT/$id"; fi
	for d in $(cg_dirs_of "$id"); do
		echo "cgroup: $d"
	done
	for p in $(procs_of "$id"); do
		echo "process: $p $(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null || true)"
	done
	return 0
}

# assert_nothing_left [ID]: no state dir, cgroup, process or mount remains
# (used after failed creates and after delete).
assert_nothing_left() {
	local id=${1:-$CID} left
	# Processes may take a moment to be reaped after a failed create.
	wait_for 5 no_procs_of "$id" || true
	left=$(leftovers_of "$id")
	local m
	m=$(_mounts_under "$TD")
	[[ -n $m ]] && left+=$'\n'"mounts: $m"
	m=$(_mounts_under "$ROOT")
	[[ -n $m ]] && left+=$'\n'"mounts: $m"
	if [[ -n ${left//$'\n'/} ]]; then
		echo "left behind by $id:" >&2
		echo "$left" >&2
		return 1
	fi
}

_thaw() {
	local d
	for d in /sys/fs/cgroup/freezer/berth-test/"$1"; do
		[[ -w $d/freezer.state ]] && echo THAWED >"$d/freezer.state" 2>/dev/null
	done
	d=/sys/fs/cgroup/berth-test/$1
	[[ -w $d/cgroup.freeze ]] && echo 0 >"$d/cgroup.freeze" 2>/dev/null
	return 0
}

# save_sysctl KEY: remember a host sysctl; teardown puts it back (and fails
# the test) if a buggy runtime changed it on the host.
save_sysctl() {
	local f=/proc/sys/${1//.//}
	SAVED_SYSCTLS+=("$f=$(cat "$f")")
}

_restore_sysctls() {
	local e f v rc=0
	for e in "${SAVED_SYSCTLS[@]}"; do
		f=${e%%=*}
		v=${e#*=}
		if [[ $(cat "$f") != "$v" ]]; then
			echo "# teardown: the host's $f changed to [$(cat "$f")]; restoring [$v]" >&2
			echo "$v" >"$f" || true
			rc=1
		fi
	done
	return $rc
}

# Teardown: delete --force every container as containerd does; then anything
# the runtime left behind is reported (the test fails) and cleaned up here.
berth_teardown() {
	local rc=0 id left p d i
	local all_left=""
	for id in "${TRACKED_CIDS[@]}"; do
		rt delete --force "$id" >/dev/null 2>&1 </dev/null 3>&- || true
	done
	for mp in "${HOST_MOUNTS[@]}"; do
		umount -l "$mp" 2>/dev/null || true
	done
	for id in "${TRACKED_CIDS[@]}"; do
		wait_for 5 no_procs_of "$id" || true
		left=$(leftovers_of "$id")
		if [[ -n $left ]]; then
			all_left+="$left"$'\n'
			# Clean up by pid / path only.
			_thaw "$id"
			for p in $(procs_of "$id"); do
				kill -9 "$p" 2>/dev/null || true
			done
			wait_for 5 no_procs_of "$id" || true
			for d in $(cg_dirs_of "$id" | sort -r); do
				for i in 1 2 3 4 5; do
					rmdir "$d" 2>/dev/null && break
					sleep 0.1
				done
			done
			rm -rf --one-file-system "${ROOT:?}/$id"
		fi
	done
	_unmount_under "$TD"
	_restore_sysctls || rc=1
	if [[ -n $all_left ]]; then
		echo "# teardown: the runtime left behind after delete --force:" >&2
		echo "$all_left" | sed 's/^/#   /' >&2
		rc=1
	fi
	if _mounts_under "$TD" | grep -q .; then
		echo "# teardown: mounts remain under $TD, not removing it" >&2
		rc=1
	else
		rm -rf --one-file-system "$TD"
	fi
	return $rc
}

# Standard hooks for a .bats file.
setup_file() { berth_setup_file; }
teardown_file() { berth_teardown_file; }
setup() { berth_setup; }
teardown() { berth_teardown; }

# ------------------------------------------------------------- misc ----

# log_errors: the "msg" of every error line the runtime wrote to --log.
log_errors() {
	[[ -s $LOG ]] || return 0
	jq -r 'select(.level == "error" or .level == "fatal") | .msg' "$LOG" 2>/dev/null
}

# run_probe [jq-filter-args...]: set args to berth-probe ARGS and run it.
probe_run() {
	cfg_args berth-probe "$@"
	run rt_run
}

host_ns() {
	readlink "/proc/self/ns/$1"
}
