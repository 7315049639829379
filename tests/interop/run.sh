#!/bin/bash
# Interop tests: berth-runtime (or $RUNTIME) driven by real engines.
#   - containerd 1.6 (Debian's containerd): a private daemon in a temp dir,
#     `ctr run --runc-binary $RUNTIME ...` (containerd.sh)
#   - Podman 4 (Debian's podman): `podman --runtime $RUNTIME ...` with
#     private storage and containers.conf (podman.sh)
# Both use a busybox OCI image that mkimage.sh builds here from
# busybox-static (no network, no registry).
#
#   tests/interop/run.sh                          # build/berth-runtime
#   RUNTIME=/usr/sbin/runc tests/interop/run.sh   # validate the tests on runc
#   INTEROP_SUITES=podman tests/interop/run.sh    # one engine only
#   INTEROP_TRACE=1 tests/interop/run.sh          # log every runtime call
#
# TAP on stdout (plan at the end), diagnostics on stderr.  Exits 0 when it
# ran: failures are "not ok" lines.  Exits 1 only when it cannot run at all
# (not root).  Missing packages (containerd, podman, busybox-static) are
# installed with apt-get unless INTEROP_NO_INSTALL=1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
RUNTIME=${RUNTIME:-$src/build/berth-runtime}
RUNTIME=$(readlink -f "$RUNTIME" 2>/dev/null || echo "$RUNTIME")
INTEROP_SUITES=${INTEROP_SUITES:-containerd podman}
# One engine command may take this long before it counts as hung.
CMD_TIMEOUT=${INTEROP_CMD_TIMEOUT:-30}
IMAGE=localhost/berth-busybox:test
export LC_ALL=C

if [[ $(id -u) -ne 0 ]]; then
	echo "run.sh: the interop tests need root" >&2
	exit 1
fi

started=$SECONDS
T=$(mktemp -d "${INTEROP_TMP:-/tmp}/berth-interop.XXXXXX")
chmod 755 "$T"

# ---- TAP -------------------------------------------------------------------
n=0 n_fail=0 n_skip=0
diag() {
	local line
	for line in "$@"; do
		while IFS= read -r l; do printf '#   %s\n' "$l" >&2; done <<<"$line"
	done
}
tap_ok() { n=$((n + 1)); echo "ok $n - $1"; }
tap_skip() { n=$((n + 1)); n_skip=$((n_skip + 1)); echo "ok $n - $1 # SKIP $2"; }
tap_not_ok() {
	n=$((n + 1)); n_fail=$((n_fail + 1))
	echo "not ok $n - $1"
	echo "# not ok $n - $1" >&2
	shift
	diag "$@"
}

# t NAME FUNC [ARGS]: one test.  FUNC returns non-zero on failure and sets
# $why; the last command run (run/run_tty) is shown with its output.  When
# $skip_reason is set (a prerequisite failed) the test is skipped.
skip_reason=
t() {
	local name=$1
	shift
	if [[ -n $skip_reason ]]; then
		tap_skip "$name" "$skip_reason"
		return 1
	fi
	why= LAST_CMD= OUT= ERR= RC=
	if "$@"; then
		tap_ok "$name"
		return 0
	fi
	tap_not_ok "$name" "${why:-failed}" "command: ${LAST_CMD:-none}" "exit status: ${RC:-}" \
		"stdout: ${OUT:-}" "stderr: ${ERR:-}"
	extra_diag
	return 1
}
# Engines append more diagnostics (runtime log.json, daemon log) here.
extra_diag() { :; }

# ---- running commands ------------------------------------------------------
# run CMD...: run with stdin /dev/null and a timeout; sets OUT, ERR (\r and
# NUL removed), RC and LAST_CMD.  Every command goes to $T/commands.log.
run() {
	LAST_CMD=$(printf '%q ' "$@")
	timeout -k 5 "$CMD_TIMEOUT" "$@" </dev/null >"$T/.out" 2>"$T/.err"
	RC=$?
	_collect
}
# run_stdin DATA CMD...: the same with DATA on stdin.
run_stdin() {
	local data=$1
	shift
	LAST_CMD="printf '%s\\n' $(printf '%q' "$data") | $(printf '%q ' "$@")"
	printf '%s\n' "$data" | timeout -k 5 "$CMD_TIMEOUT" "$@" >"$T/.out" 2>"$T/.err"
	RC=$?
	_collect
}
# run_tty CMD...: run CMD on a new pseudo-terminal (util-linux script), as a
# user at a terminal would.  The command's stderr goes to the terminal, so
# it shows in OUT.  RC is the command's exit status (script -e).
# script's stdin is a pipe that stays open (a user who types nothing): at
# EOF script would send ^D to the terminal, and `podman run -it` may then
# exit before it copied the container's output.
run_tty() {
	local cmd fd pid
	cmd=$(printf '%q ' "$@")
	LAST_CMD="script -qec '$cmd' /dev/null"
	exec {fd}< <(exec sleep "$((CMD_TIMEOUT + 10))")
	pid=$!
	SHELL=/bin/bash timeout -k 5 "$CMD_TIMEOUT" script -qec "$cmd" /dev/null <&"$fd" >"$T/.out" 2>"$T/.err"
	RC=$?
	exec {fd}<&-
	kill "$pid" 2>/dev/null
	_collect
}
# The terminal of run_tty shows a NUL as "^@".
_collect() {
	OUT=$(tr -d '\r\0' <"$T/.out" | sed 's/\^@//g')
	ERR=$(tr -d '\r\0' <"$T/.err" | sed 's/\^@//g')
	{
		echo "\$ $LAST_CMD"
		[[ -n $OUT ]] && echo "$OUT"
		[[ -n $ERR ]] && echo "[stderr] $ERR"
		echo "[exit $RC]"
	} >>"$T/commands.log"
}
want_rc() {
	[[ $RC == "$1" ]] && return 0
	why="exit status $RC, expected $1"
	return 1
}
want_out() {
	grep -qE -- "$1" <<<"$OUT" && return 0
	why="stdout does not match /$1/"
	return 1
}
want_err() {
	grep -qE -- "$1" <<<"$OUT$ERR" && return 0
	why="output does not match /$1/"
	return 1
}
# poll SECONDS CMD...: retry CMD (a shell function or command) every 0.1 s
# until it succeeds or SECONDS pass.
poll() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		((SECONDS >= end)) && return 1
		sleep 0.1
	done
}

# ---- leftovers -------------------------------------------------------------
# Our own ancestors are not leftovers.
declare -A ancestors=()
p=$$
while [[ -n $p && $p -gt 1 ]]; do
	ancestors[$p]=1
	p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
done

# procs_matching PATTERN [EXCEPT_PID]: pids (one a line, with cmdline) whose
# command line contains PATTERN or whose cgroup path contains it.
procs_matching() {
	local pat=$1 except=${2:-} d pid cmd
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ -n ${ancestors[$pid]:-} || $pid == "$except" || $pid == "$BASHPID" ]] && continue
		{ cmd=$(tr '\0' ' ' <"$d/cmdline"); } 2>/dev/null || continue
		if [[ $cmd == *"$pat"* ]] || grep -qF -- "$pat" "$d/cgroup" 2>/dev/null; then
			echo "$pid $cmd"
		fi
	done
}
# mounts_under DIR: mount points at or under DIR (deepest first).
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}
# cgroup_frozen REL: the cgroup REL (a path below the hierarchy roots) is
# frozen: v1 freezer.state FROZEN, or v2 cgroup.events "frozen 1".
cgroup_frozen() {
	local f
	f=/sys/fs/cgroup/freezer/$1/freezer.state
	[[ -f $f && $(<"$f") == FROZEN ]] && return 0
	f=/sys/fs/cgroup/$1/cgroup.events
	[[ -f $f ]] && grep -qx 'frozen 1' "$f"
}
cgroup_thawed() {
	local f
	f=/sys/fs/cgroup/freezer/$1/freezer.state
	[[ -f $f && $(<"$f") == THAWED ]] && return 0
	f=/sys/fs/cgroup/$1/cgroup.events
	[[ -f $f ]] && grep -qx 'frozen 0' "$f"
}
# cg_purge REL: empty and remove the cgroup REL (below every hierarchy
# root) and its children: thaw, SIGKILL every process by PID, rmdir
# depth-first.  Only for cgroups the test itself named.
cg_purge() {
	local rel=$1 h d f pid left
	[[ -n $rel && $rel != /* && $rel != *..* ]] || return 0
	for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
		d=${h%/}/$rel
		[[ -d $d ]] || continue
		while IFS= read -r f; do
			case $f in
			*/freezer.state) echo THAWED >"$f" ;;
			*/cgroup.freeze) echo 0 >"$f" ;;
			*/cgroup.procs) while read -r pid; do kill -KILL "$pid"; done <"$f" ;;
			esac
		done < <(find "$d" \( -name freezer.state -o -name cgroup.freeze -o -name cgroup.procs \) 2>/dev/null) 2>/dev/null
	done
	_cg_rmdir_all() {
		left=0
		for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
			d=${h%/}/$rel
			[[ -d $d ]] || continue
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
			[[ -d $d ]] && left=1
		done
		((left == 0))
	}
	poll 3 _cg_rmdir_all || echo "# could not remove cgroup $rel" >&2
}
kill_pids() {
	local pid
	for pid in "$@"; do
		kill -KILL "$pid" 2>/dev/null
	done
}

# ---- runtime under test ----------------------------------------------------
RT=$RUNTIME
if [[ ${INTEROP_TRACE:-0} == 1 ]]; then
	# A wrapper that logs each call (argv, exit status, the tail of --log on
	# failure) to $T/trace.log and runs the real runtime with the same fds.
	RT=$T/trace/runtime
	mkdir -p "$T/trace"
	cat >"$RT" <<EOF
#!/bin/bash
log=$T/trace.log
printf '%(%T)T [%s<%s] %s\n' -1 "\$\$" "\$PPID" "\$*" >>"\$log"
$(printf '%q' "$RUNTIME") "\$@"
rc=\$?
lf= prev=
for a; do
	[[ \$prev == --log ]] && lf=\$a
	[[ \$a == --log=* ]] && lf=\${a#--log=}
	prev=\$a
done
printf '%(%T)T [%s] rc=%s\n' -1 "\$\$" "\$rc" >>"\$log"
if [[ \$rc != 0 && -n \$lf && -f \$lf ]]; then
	while IFS= read -r l; do echo "    log: \$l"; done <"\$lf" >>"\$log"
fi
exit \$rc
EOF
	chmod 755 "$RT"
fi

# ---- packages --------------------------------------------------------------
declare -A pkg_missing=()
missing=()
for pkg in containerd podman busybox-static; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
		missing+=("$pkg")
	fi
done
if ((${#missing[@]})) && [[ ${INTEROP_NO_INSTALL:-0} != 1 ]]; then
	echo "# installing ${missing[*]}" >&2
	if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2; then
		echo "# apt-get install ${missing[*]} failed" >&2
	fi
	missing2=()
	for pkg in "${missing[@]}"; do
		dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing2+=("$pkg")
	done
	missing=("${missing2[@]}")
fi
for pkg in "${missing[@]}"; do
	pkg_missing[$pkg]=1
done

# ---- cleanup ---------------------------------------------------------------
cleanup_hooks=()
cleanup() {
	local h m
	for h in "${cleanup_hooks[@]}"; do
		"$h"
	done
	# Leftover processes pointing into $T (shims, conmon, containers).
	kill_pids $(procs_matching "$T" | awk '{print $1}')
	for m in $(mounts_under "$T"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if [[ ${INTEROP_KEEP:-0} == 1 ]]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T" 2>/dev/null || echo "# could not remove $T" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -n1)); temp dir $T" >&2

# ---- the image -------------------------------------------------------------
image_tar=$T/berth-busybox-oci.tar
image_ok=1
if [[ -n ${pkg_missing[busybox-static]:-} ]]; then
	tap_not_ok "image: busybox-static installed" "apt-get could not install busybox-static"
	image_ok=0
elif ! out=$("$here/mkimage.sh" "$image_tar" "$IMAGE" 2>&1); then
	tap_not_ok "image: OCI archive built from busybox-static" "$out"
	image_ok=0
fi
if [[ ! -x $RUNTIME ]]; then
	tap_not_ok "runtime: $RUNTIME is an executable" "build it: ninja -C build"
	image_ok=0
fi

for suite in $INTEROP_SUITES; do
	if [[ ! -f $here/$suite.sh ]]; then
		tap_not_ok "suite $suite exists" "no $here/$suite.sh"
		continue
	fi
	extra_diag() { :; }
	skip_reason=
	((image_ok)) || skip_reason="no test image or no runtime"
	suite_start=$SECONDS
	# shellcheck source=/dev/null
	source "$here/$suite.sh"
	echo "# $suite: $((SECONDS - suite_start)) s" >&2
done

echo "1..$n"
if [[ ${INTEROP_TRACE:-0} == 1 && -f $T/trace.log ]]; then
	echo "# runtime calls ($T/trace.log):" >&2
	sed 's/^/#   /' "$T/trace.log" >&2
fi
echo "# interop: $((n - n_fail - n_skip)) passed, $n_fail failed, $n_skip skipped in $((SECONDS - started)) s" >&2
exit 0
