#!/bin/bash
# leakcheck.sh [--clean]: report anything the integration suite (or the
# runtime it drives) left behind on this machine:
#   - mounts under $BERTH_ITEST_TMP (/tmp/berth-itest) or /run/berth-runtime
#   - cgroup directories under the tests' prefix (berth-test*/<id>) in every
#     hierarchy (v1 controllers, the unified one, or a pure v2 root)
#   - container state left under a test --root, and test ids in /run/berth-runtime
#   - test directories that teardown could not remove
#   - processes carrying the tests' env marker (BERTH_ITEST=), sitting in a
#     test cgroup, or whose cwd/exe/root/command line points into the test dirs
# Exit 0 when nothing leaked, 1 with a listing otherwise.  With --clean the
# leftovers are also removed (processes killed by pid, frozen cgroups thawed,
# mounts unmounted, empty test cgroups removed), after being listed.
#
# tests/integration/run.sh runs it before the suite (with --clean, for an
# earlier aborted run); zz-leakcheck.bats runs it as the suite's last test.
set -u
BERTH_ITEST_TMP=${BERTH_ITEST_TMP:-/tmp/berth-itest}
RUNTIME_RUN_DIR=/run/berth-runtime
clean=0
[[ ${1:-} == --clean ]] && clean=1

leaks=()
leak() { leaks+=("$*"); }

# ---- processes -------------------------------------------------------------
# Our own ancestors (bats, run.sh, the subreaper whose argv names a test dir)
# are not leaks.
declare -A ancestors=()
p=$$
while [[ $p -gt 1 ]]; do
	ancestors[$p]=1
	p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || break
	[[ -n $p ]] || break
done

leaked_pids=()
for d in /proc/[0-9]*; do
	p=${d#/proc/}
	[[ -n ${ancestors[$p]:-} || $p == "$BASHPID" ]] && continue
	[[ -r $d/stat ]] || continue
	state=$(awk '{print $3}' "$d/stat" 2>/dev/null) || continue
	[[ $state == Z || -z $state ]] && continue
	why=""
	if grep -q -a -F 'BERTH_ITEST=' "$d/environ" 2>/dev/null; then
		why="env marker"
	elif grep -q -F '/berth-test' "$d/cgroup" 2>/dev/null; then
		why="in a test cgroup"
	else
		for l in cwd exe root; do
			t=$(readlink "$d/$l" 2>/dev/null) || continue
			if [[ $t == "$BERTH_ITEST_TMP"/* ]]; then
				why="$l=$t"
				break
			fi
		done
		if [[ -z $why ]] && tr '\0' '\n' <"$d/cmdline" 2>/dev/null | grep -q -F "$BERTH_ITEST_TMP/"; then
			why="command line names $BERTH_ITEST_TMP"
		fi
	fi
	[[ -z $why ]] && continue
	# Our own pipeline children (grep, awk...) are gone by now or have none
	# of the above; the check above reads them only if they match.
	[[ -e $d ]] || continue
	leak "process $p ($why): $(tr '\0' ' ' <"$d/cmdline" 2>/dev/null | cut -c1-200)"
	# --clean ends only what the suite started: its containers carry the
	# marker or sit in its cgroups.  Anything else is reported, never killed
	# for what its command line says (another run may own it).
	case $why in
	"env marker" | "in a test cgroup") leaked_pids+=("$p") ;;
	esac
done

# ---- mounts ------------------------------------------------------------------
mounts_under() {
	awk -v a="$BERTH_ITEST_TMP" -v b="$RUNTIME_RUN_DIR" '{
		mp = $5; gsub(/\\040/, " ", mp)
		if (mp == a || index(mp, a "/") == 1 || mp == b || index(mp, b "/") == 1) print mp
	}' /proc/self/mountinfo
}
mapfile -t leaked_mounts < <(mounts_under)
for m in "${leaked_mounts[@]}"; do
	leak "mount: $m"
done

# ---- cgroups -----------------------------------------------------------------
mapfile -t leaked_cgroups < <(
	find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d -path '*/berth-test*/*' 2>/dev/null | sort -r
)
for c in "${leaked_cgroups[@]}"; do
	leak "cgroup: $c"
done

# ---- state and test dirs -----------------------------------------------------
if [[ -d $BERTH_ITEST_TMP ]]; then
	for d in "$BERTH_ITEST_TMP"/*/; do
		d=${d%/}
		base=$(basename "$d")
		[[ $base == bin || $base == exits.* ]] && continue
		[[ -d $d ]] || continue
		# A running suite's own file dir is not a leak (zz-leakcheck makes none).
		for s in "$d"/state/*; do
			[[ -e $s ]] && leak "runtime state: $s"
		done
		leak "test dir not removed: $d"
	done
fi
if [[ -d $RUNTIME_RUN_DIR ]]; then
	for s in "$RUNTIME_RUN_DIR"/bt[0-9]*; do
		[[ -e $s ]] && leak "runtime state: $s"
	done
fi

remove_empty_parents() {
	# The tests' cgroup parents (berth-test*) once empty: the runtime removes
	# only the container's own directory, as runc does.
	find /sys/fs/cgroup -mindepth 1 -maxdepth 5 -type d -name 'berth-test*' 2>/dev/null | sort -r |
		while read -r c; do rmdir "$c" 2>/dev/null; done
}

if [[ ${#leaks[@]} -eq 0 ]]; then
	[[ $clean -eq 1 ]] && remove_empty_parents
	echo "leakcheck: nothing leaked"
	exit 0
fi

echo "leakcheck: ${#leaks[@]} leftover(s):"
printf '  %s\n' "${leaks[@]}"

if [[ $clean -eq 1 ]]; then
	# Thaw frozen test cgroups so their processes can die.
	for c in "${leaked_cgroups[@]}"; do
		[[ -w $c/freezer.state ]] && echo THAWED >"$c/freezer.state" 2>/dev/null
		[[ -w $c/cgroup.freeze ]] && echo 0 >"$c/cgroup.freeze" 2>/dev/null
	done
	for p in "${leaked_pids[@]}"; do
		kill -9 "$p" 2>/dev/null
	done
	# Processes in a leaked cgroup that had no marker (e.g. a stuck init).
	for c in "${leaked_cgroups[@]}"; do
		for p in $(cat "$c/cgroup.procs" 2>/dev/null); do
			kill -9 "$p" 2>/dev/null
		done
	done
	sleep 0.2
	for i in 1 2 3; do
		mapfile -t ms < <(mounts_under | sort -r)
		[[ ${#ms[@]} -eq 0 ]] && break
		for m in "${ms[@]}"; do
			umount -l "$m" 2>/dev/null
		done
	done
	for c in "${leaked_cgroups[@]}"; do
		for i in 1 2 3 4 5 6 7 8 9 10; do
			rmdir "$c" 2>/dev/null && break
			[[ -d $c ]] || break
			sleep 0.1
		done
	done
	remove_empty_parents
	if [[ -d $BERTH_ITEST_TMP ]] && [[ -z $(mounts_under) ]]; then
		for d in "$BERTH_ITEST_TMP"/*/; do
			d=${d%/}
			base=$(basename "$d")
			[[ $base == bin || $base == exits.* ]] && continue
			rm -rf --one-file-system "$d"
		done
	fi
	for s in "$RUNTIME_RUN_DIR"/bt[0-9]*; do
		[[ -e $s ]] && rm -rf --one-file-system "$s"
	done
	echo "leakcheck: cleaned up"
fi
exit 1
