#!/bin/sh
# The tests that run inside the cgroup v2 guest (busybox ash, as root, under
# busybox init).  tests/vm/run.sh packs this file, build/berth-runtime, a
# busybox rootfs and one bundle per container (/bundles/<id>/config.json,
# made on the host with jq) into the initramfs.
#
# Results: one TAP line per test, unnumbered ("ok - name", "not ok - name",
# "ok - name # SKIP why"), with "# ..." diagnostics after a failure, written
# to the second serial port (/dev/ttyS1, a file on the host) and copied to
# the console with a "TAP: " prefix.  "BERTH-VM-DONE" ends the stream.
# run.sh numbers and forwards them.  Every container's cgroupsPath is
# /berth-vm/<id>, so its cgroup is $CG/berth-vm/<id> here.
PATH=/bin
export PATH
CG=/sys/fs/cgroup
P=$CG/berth-vm
R=/run/berth
M32=33554432
VERBOSE=

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /dev/pts /dev/shm
mount -t cgroup2 cgroup2 $CG || echo "guest: cannot mount cgroup2 on $CG"
mkdir -p $R
grep -qw berth.verbose=1 /proc/cmdline && VERBOSE=1

if ! exec 3>/dev/ttyS1; then
	echo "guest: no /dev/ttyS1: results on the console only"
	exec 3>/dev/null
fi
stty -F /dev/ttyS1 raw -echo 2>/dev/null

tap() {
	echo "$*" >&3
	echo "TAP: $*"
}
diag() { # diag FILE: a failure's explanation, as TAP diagnostics
	sed 's/^/# /' "$1" >&3
	sed 's/^/TAP: # /' "$1"
}
skip() { tap "ok - $1 # SKIP $2"; }

# check NAME FUNCTION [ARGS...]: one test; what FUNCTION prints is shown only
# when it fails.
check() {
	c_name=$1
	shift
	if "$@" >/tmp/check.out 2>&1; then
		tap "ok - $c_name"
		[ -z "$VERBOSE" ] || sed 's/^/  | /' /tmp/check.out
	else
		tap "not ok - $c_name"
		diag /tmp/check.out
	fi
}

# check_todo WHY NAME FUNCTION [ARGS...]: a test of something not done yet;
# TAP's "# TODO" directive marks its failure as expected.
check_todo() {
	t_why=$1
	t_name=$2
	shift 2
	if "$@" >/tmp/check.out 2>&1; then
		tap "ok - $t_name # TODO $t_why"
	else
		tap "not ok - $t_name # TODO $t_why"
		diag /tmp/check.out
	fi
}

# want ACTUAL EXPECTED WHAT
want() {
	[ "$1" = "$2" ] && return 0
	echo "$3: expected [$2], got [$1]"
	return 1
}

rt() { timeout 60 berth-runtime --root $R "$@"; }

# run_ctr ID: foreground run of /bundles/ID; sets RC, output in /tmp/ID.{out,err}
run_ctr() {
	rt run --bundle /bundles/$1 $1 </dev/null >/tmp/$1.out 2>/tmp/$1.err
	RC=$?
}
show() {
	echo "exit code: $RC"
	echo "--- stdout:"
	cat /tmp/$1.out
	echo "--- stderr:"
	cat /tmp/$1.err
}
line() { sed -n "${2}p" /tmp/$1.out; }

create_ctr() {
	rt create --bundle /bundles/$1 --pid-file /tmp/$1.pid $1 </dev/null >/tmp/$1.out 2>/tmp/$1.err
	RC=$?
}

status_of() { rt state "$1" 2>/dev/null | sed -n 's/^ *"status": *"\([a-z]*\)".*/\1/p'; }

# wait_status ID STATUS [TENTHS]
wait_status() {
	w_i=0
	while [ $w_i -lt ${3:-100} ]; do
		[ "$(status_of $1)" = "$2" ] && return 0
		sleep 0.1
		w_i=$((w_i + 1))
	done
	echo "$1: status did not become $2 (now: [$(status_of $1)])"
	return 1
}

keyed() { sed -n "s/^$2 //p" "$1" 2>/dev/null; } # keyed FILE KEY

# ------------------------------------------------------------- (a) v2 ---

t_v2_only() {
	want "$(stat -f -c %t $CG)" 63677270 "filesystem magic of $CG (cgroup2)" || return 1
	grep -qw cgroup_no_v1=all /proc/cmdline || { echo "cmdline lacks cgroup_no_v1=all: $(cat /proc/cmdline)"; return 1; }
	mkdir -p /tmp/v1
	if mount -t cgroup -o memory none /tmp/v1 2>/dev/null; then
		umount /tmp/v1
		echo "a v1 memory hierarchy can still be mounted"
		return 1
	fi
	for c in cpu memory pids; do
		grep -qw $c $CG/cgroup.controllers || { echo "root lacks $c: $(cat $CG/cgroup.controllers)"; return 1; }
	done
}

t_run_exit() {
	run_ctr exit3
	want "$RC" 3 "exit code of sh -c 'exit 3'" || { show exit3; return 1; }
	run_ctr exit0
	want "$RC" 0 "exit code of true" || { show exit0; return 1; }
	[ ! -e $P/exit3 ] || { echo "cgroup $P/exit3 is left after run"; return 1; }
	if rt state exit3 >/dev/null 2>&1; then
		echo "state of exit3 is left after run"
		return 1
	fi
}

# cgroupns: the container sees its own cgroup as / on a read-only cgroup2 mount
t_view() {
	run_ctr view
	want "$RC" 0 "exit code" || { show view; return 1; }
	want "$(line view 1)" "0::/" "/proc/self/cgroup" || { show view; return 1; }
	want "$(line view 2)" 63677270 "filesystem magic of /sys/fs/cgroup inside" || { show view; return 1; }
	for c in cpu memory pids; do
		echo " $(line view 3) " | grep -q " $c " || { echo "cgroup.controllers inside lacks $c"; show view; return 1; }
	done
	want "$(line view 4)" "read-only" "writing memory.max inside" || { show view; return 1; }
}

t_nocgns() {
	run_ctr nocgns
	want "$RC" 0 "exit code" || { show nocgns; return 1; }
	want "$(line nocgns 1)" "0::/berth-vm/nocgns" "/proc/self/cgroup without a cgroup namespace" || { show nocgns; return 1; }
}

# ---------------------------------------------------------- (b) memory ---

t_memory() {
	run_ctr mem
	want "$RC" 0 "exit code" || { show mem; return 1; }
	want "$(line mem 1)" $M32 "memory.max inside" || { show mem; return 1; }
}

t_memory_more() {
	run_ctr memx
	want "$RC" 0 "exit code" || { show memx; return 1; }
	want "$(line memx 1)" 16777216 "memory.low (reservation 16M)" || { show memx; return 1; }
	want "$(line memx 2)" 16777216 "memory.swap.max (swap 48M = memory 32M + swap 16M)" || { show memx; return 1; }
}

# -------------------------------------------------------------- (c) OOM ---

t_oom_run() {
	before=$(keyed $P/memory.events oom_kill)
	run_ctr oom
	after=$(keyed $P/memory.events oom_kill)
	want "$RC" 137 "exit code of berth-probe alloc 64 under a 32M limit" || { show oom; return 1; }
	if grep -q "allocated 64" /tmp/oom.out; then
		echo "allocated 64 MiB under a 32 MiB limit"
		return 1
	fi
	[ "${after:-0}" -gt "${before:-0}" ] || {
		echo "oom_kill in $P/memory.events: before [$before] after [$after]"
		return 1
	}
}

t_oom_events() {
	create_ctr oom2
	want "$RC" 0 "create" || { show oom2; return 1; }
	rt start oom2 >>/tmp/oom2.err 2>&1 || { show oom2; return 1; }
	wait_status oom2 stopped 300 || { show oom2; return 1; }
	n=$(keyed $P/oom2/memory.events oom_kill)
	echo "memory.events: $(tr '\n' ' ' <$P/oom2/memory.events 2>&1)"
	rt delete oom2 || return 1
	[ "${n:-0}" -ge 1 ] || { echo "oom_kill in $P/oom2/memory.events: [$n]"; return 1; }
	[ ! -e $P/oom2 ] || { echo "cgroup $P/oom2 is left after delete"; return 1; }
}

# ------------------------------------------------------------- (d) pids ---

t_pids() {
	run_ctr pids
	want "$RC" 0 "exit code" || { show pids; return 1; }
	want "$(line pids 1)" 16 "pids.max inside" || { show pids; return 1; }
	f=$(line pids 2)
	k=$(echo "$f" | sed -n 's/^forked=\([0-9]*\) errno=.*/\1/p')
	case $f in
	*errno=EAGAIN) ;;
	*) echo "fork 40 under pids.max 16: [$f], expected errno=EAGAIN"; show pids; return 1 ;;
	esac
	[ -n "$k" ] && [ "$k" -lt 16 ] || { echo "forked [$k] children under pids.max 16"; show pids; return 1; }
}

# -------------------------------------------------------------- (e) cpu ---

t_cpu() {
	run_ctr cpu
	want "$RC" 0 "exit code" || { show cpu; return 1; }
	want "$(line cpu 1)" "50000 100000" "cpu.max (quota 50000, period 100000)" || { show cpu; return 1; }
	want "$(line cpu 2)" 20 "cpu.weight (shares 512: 1 + (510 * 9999) / 262142)" || { show cpu; return 1; }
}

t_cpuset() {
	run_ctr cpuset
	want "$RC" 0 "exit code" || { show cpuset; return 1; }
	want "$(line cpuset 1)" 1 "cpuset.cpus" || { show cpuset; return 1; }
	want "$(line cpuset 2)" 0 "cpuset.mems" || { show cpuset; return 1; }
	want "$(line cpuset 3)" "Cpus_allowed_list:	1" "affinity of the container process" || { show cpuset; return 1; }
}

t_cpu_more() {
	run_ctr cpux
	want "$RC" 0 "exit code" || { show cpux; return 1; }
	want "$(line cpux 1)" "max 100000" "cpu.max (period 100000, no quota)" || { show cpux; return 1; }
	want "$(line cpux 2)" 10000 "cpu.max.burst (burst 10000)" || { show cpux; return 1; }
	want "$(line cpux 3)" 1 "cpu.idle (idle 1)" || { show cpux; return 1; }
}

t_io_weight() {
	run_ctr io
	want "$RC" 0 "exit code" || { show io; return 1; }
	want "$(line io 1)" "default 4950" "io.weight (blkio weight 500: 1 + (490 * 9999) / 990)" || { show io; return 1; }
}

t_unified() {
	run_ctr unified
	want "$RC" 0 "exit code" || { show unified; return 1; }
	want "$(line unified 1)" 41943040 "memory.high" || { show unified; return 1; }
	want "$(line unified 2)" 20 "pids.max" || { show unified; return 1; }
}

# The default config denies every device but the defaults (/dev/null, ...);
# on v2 that takes an eBPF program on the cgroup.  With CAP_MKNOD the
# container makes a /dev/kmsg node (c 1:11, not allowed; writing it needs no
# capability) and writes to it.
t_devices() {
	run_ctr devices
	want "$RC" 0 "exit code" || { show devices; return 1; }
	want "$(line devices 1)" "null ok" "writing /dev/null (allowed)" || { show devices; return 1; }
	want "$(line devices 2)" "kmsg denied" "writing a c 1:11 node made with mknod (denied)" || { show devices; return 1; }
}

# ---------------------------------------------------------- (i) hugetlb ---

t_hugetlb() {
	run_ctr huge
	want "$RC" 0 "exit code" || { show huge; return 1; }
	want "$(line huge 1)" 4194304 "hugetlb.2MB.max" || { show huge; return 1; }
	if [ -e $P/hugetlb.2MB.rsvd.max ]; then
		want "$(line huge 2)" 4194304 "hugetlb.2MB.rsvd.max" || { show huge; return 1; }
	fi
}

# ------------------------------------- (f, g, h) lifecycle on one cgroup ---

L=$P/life
LPID=

t_life_create() {
	create_ctr life
	want "$RC" 0 "create" || { show life; return 1; }
	LPID=$(cat /tmp/life.pid 2>/dev/null)
	want "$(status_of life)" created "state after create" || return 1
	grep -qx "$LPID" $L/cgroup.procs || {
		echo "pid [$LPID] not in $L/cgroup.procs: [$(cat $L/cgroup.procs 2>&1)]"
		return 1
	}
}

t_life_start() {
	rt start life || return 1
	want "$(status_of life)" running "state after start"
}

t_life_pause() {
	rt pause life || return 1
	want "$(status_of life)" paused "state after pause" || return 1
	want "$(cat $L/cgroup.freeze)" 1 "cgroup.freeze" || return 1
	want "$(keyed $L/cgroup.events frozen)" 1 "frozen in cgroup.events"
}

t_life_resume() {
	rt resume life || return 1
	want "$(status_of life)" running "state after resume" || return 1
	want "$(cat $L/cgroup.freeze)" 0 "cgroup.freeze" || return 1
	want "$(keyed $L/cgroup.events frozen)" 0 "frozen in cgroup.events"
}

t_update_memory() {
	want "$(cat $L/memory.max)" $M32 "memory.max before update" || return 1
	rt update --memory 64m life || return 1
	want "$(cat $L/memory.max)" 67108864 "memory.max after update --memory 64m"
}

t_update_more() {
	rt update --pids-limit 32 --cpu-quota 25000 --cpu-period 50000 --cpu-share 1024 life || return 1
	want "$(cat $L/pids.max)" 32 "pids.max" || return 1
	want "$(cat $L/cpu.max)" "25000 50000" "cpu.max" || return 1
	want "$(cat $L/cpu.weight)" 39 "cpu.weight (shares 1024)" || return 1
	want "$(cat $L/memory.max)" 67108864 "memory.max (not in this update)"
}

t_update_resources() {
	echo '{"memory": {"limit": 100663296}, "pids": {"limit": 64}}' >/tmp/res.json
	rt update --resources /tmp/res.json life || return 1
	want "$(cat $L/memory.max)" 100663296 "memory.max" || return 1
	want "$(cat $L/pids.max)" 64 "pids.max"
}

t_update_unlimited() {
	rt update --memory -1 --pids-limit -1 --cpu-quota -1 life || return 1
	want "$(cat $L/memory.max)" max "memory.max after --memory -1" || return 1
	want "$(cat $L/pids.max)" max "pids.max after --pids-limit -1" || return 1
	# the period: what it was (Berth) or the default (runc 1.1 resets it)
	case $(cat $L/cpu.max) in
	"max "*) ;;
	*) echo "cpu.max after --cpu-quota -1: [$(cat $L/cpu.max)], expected max PERIOD"; return 1 ;;
	esac
}

t_update_swap_io() {
	rt update --memory 64m --memory-swap 96m --blkio-weight 300 life || return 1
	want "$(cat $L/memory.max)" 67108864 "memory.max" || return 1
	want "$(cat $L/memory.swap.max)" 33554432 "memory.swap.max (memory-swap 96m = memory 64m + swap 32m)" || return 1
	want "$(cat $L/io.weight)" "default 2930" "io.weight (blkio weight 300: 1 + (290 * 9999) / 990)"
}

t_update_cpuset() {
	rt update --cpuset-cpus 0 life || return 1
	want "$(cat $L/cpuset.cpus)" 0 "cpuset.cpus" || return 1
	want "$(grep Cpus_allowed_list /proc/$LPID/status)" "Cpus_allowed_list:	0" "affinity of the init" || return 1
	rt update --cpuset-cpus 0-1 life || return 1
	want "$(cat $L/cpuset.cpus)" 0-1 "cpuset.cpus back to 0-1"
}

# runc refuses to exec into a paused container; a runtime that tries anyway
# leaves a frozen process behind and hangs.
t_exec_paused() {
	rt pause life || return 1
	t0=$(date +%s)
	if timeout 15 berth-runtime --root $R exec life true </dev/null >/tmp/xp.out 2>&1; then
		rc=0
	else
		rc=$?
	fi
	t1=$(date +%s)
	extra=$(cat $L/cgroup.procs | grep -vx "$LPID" | tr '\n' ' ')
	rt resume life || return 1
	[ $rc -ne 124 ] && [ $rc -ne 143 ] || { echo "exec into a paused container hung ($((t1 - t0)) s, killed by timeout)"; return 1; }
	[ $rc -ne 0 ] || { echo "exec into a paused container succeeded"; return 1; }
	[ -z "$extra" ] || { echo "processes left in the cgroup after a refused exec: $extra"; return 1; }
	cat /tmp/xp.out
}

t_ps() {
	want "$(rt ps --format json life 2>&1)" "[$LPID]" "ps --format json"
}

t_delete_running() {
	if rt delete life >/tmp/del.out 2>&1; then
		echo "delete of a running container succeeded"
		return 1
	fi
	[ -d $L ] || { echo "cgroup $L is gone after a refused delete"; return 1; }
	want "$(status_of life)" running "state after a refused delete"
}

t_exec_cgroup() {
	out=$(rt exec life cat /proc/self/cgroup </dev/null 2>&1)
	want "$out" "0::/berth-vm/life" "/proc/self/cgroup of an exec'd process"
}

t_life_delete() {
	rt kill life KILL || return 1
	wait_status life stopped || return 1
	rt delete life || return 1
	[ ! -e $L ] || { echo "cgroup $L is left after delete"; return 1; }
	if rt state life >/dev/null 2>&1; then
		echo "state of life is left after delete"
		return 1
	fi
	[ ! -e /proc/$LPID ] || [ -z "$LPID" ] || { echo "init pid $LPID still exists"; return 1; }
}

t_delete_paused() {
	create_ctr life2
	want "$RC" 0 "create" || { show life2; return 1; }
	p=$(cat /tmp/life2.pid)
	rt start life2 || return 1
	rt pause life2 || return 1
	want "$(status_of life2)" paused "state after pause" || return 1
	all=$(cat $P/life2/cgroup.procs | tr '\n' ' ')
	echo "processes: $all"
	rt delete --force life2 || return 1
	[ ! -e $P/life2 ] || { echo "cgroup $P/life2 is left after delete --force"; return 1; }
	for q in $all; do
		i=0
		while [ -e /proc/$q ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
		[ ! -e /proc/$q ] || { echo "pid $q survived delete --force: $(grep State /proc/$q/status)"; return 1; }
	done
}

t_kill_paused() {
	create_ctr life4
	want "$RC" 0 "create" || { show life4; return 1; }
	rt start life4 || return 1
	rt pause life4 || return 1
	rt kill life4 KILL || return 1
	wait_status life4 stopped || return 1
	rt delete life4 || return 1
	[ ! -e $P/life4 ] || { echo "cgroup $P/life4 is left after delete"; return 1; }
}

t_delete_created() {
	create_ctr life3
	want "$RC" 0 "create" || { show life3; return 1; }
	p=$(cat /tmp/life3.pid)
	rt delete life3 || return 1
	[ ! -e $P/life3 ] || { echo "cgroup $P/life3 is left after delete"; return 1; }
	i=0
	while [ -e /proc/$p ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
	[ ! -e /proc/$p ] || { echo "init pid $p survived delete of a created container"; return 1; }
}

t_no_leftovers() {
	left=$(find $P -mindepth 1 -type d 2>/dev/null)
	[ -z "$left" ] || { echo "cgroups left: $left"; return 1; }
	left=$(ls $R 2>/dev/null)
	[ -z "$left" ] || { echo "state left in $R: $left"; return 1; }
}

# -------------------------------------------------------------- the run ---

echo "guest: kernel $(uname -r), $(nproc) cpus, cmdline: $(cat /proc/cmdline)"
check "kernel runs pure cgroup v2 (cgroup2 at /sys/fs/cgroup, v1 not mountable)" t_v2_only
check "run passes the exit code through; run leaves no cgroup or state" t_run_exit
check "cgroupns: /proc/self/cgroup is 0::/, /sys/fs/cgroup is the container's read-only cgroup2" t_view
check "no cgroupns: /proc/self/cgroup is 0::/berth-vm/<id>" t_nocgns
check "memory.limit 32M: memory.max inside reads 33554432" t_memory
check "memory reservation 16M and swap 48M: memory.low, memory.swap.max" t_memory_more
check "allocating 64M under 32M: OOM-killed, exit 137, oom_kill counted" t_oom_run
check "OOM in a created/started container: memory.events oom_kill >= 1, delete cleans up" t_oom_events
check "pids.limit 16: pids.max reads 16, a fork loop stops at EAGAIN below 16" t_pids
check "cpu quota 50000/period 100000, shares 512: cpu.max, cpu.weight 20" t_cpu
check "cpuset cpus 1 mems 0: cpuset.cpus, cpuset.mems, affinity" t_cpuset
check "cpu period only, burst, idle: cpu.max max 100000, cpu.max.burst, cpu.idle" t_cpu_more
check "blockIO weight 500: io.weight default 4950" t_io_weight
check "linux.resources.unified: memory.high, pids.max written as given" t_unified
check "device allow-list enforced on v2 by the eBPF program (mknod c 1:11, then write it: denied)" t_devices
if ! grep -qw hugetlb $CG/cgroup.controllers; then
	skip "hugetlb limit 2MB:4M: hugetlb.2MB.max" "no hugetlb controller in this kernel"
elif [ ! -d /sys/kernel/mm/hugepages/hugepages-2048kB ]; then
	skip "hugetlb limit 2MB:4M: hugetlb.2MB.max" "no 2 MB huge pages in this guest"
else
	check "hugetlb limit 2MB:4M: hugetlb.2MB.max (and rsvd.max)" t_hugetlb
fi
check "create: state created, init in the container's cgroup" t_life_create
if [ -n "$LPID" ] && [ -e /proc/$LPID ]; then
	check "start: state running" t_life_start
	check "pause: state paused, cgroup.freeze 1, cgroup.events frozen 1" t_life_pause
	check "resume: state running, cgroup.freeze 0" t_life_resume
	check "update --memory 64m: memory.max changes live" t_update_memory
	check "update --pids-limit/--cpu-quota/--cpu-period/--cpu-share: pids.max, cpu.max, cpu.weight" t_update_more
	check "update --resources FILE: memory.max, pids.max" t_update_resources
	check "update --memory -1 --pids-limit -1 --cpu-quota -1: max" t_update_unlimited
	check "update --memory 64m --memory-swap 96m --blkio-weight 300: memory.swap.max, io.weight" t_update_swap_io
	check "update --cpuset-cpus 0: cpuset.cpus and the init's affinity change live" t_update_cpuset
	check "exec into a paused container fails at once, leaves no process" t_exec_paused
	check "ps --format json lists the init pid" t_ps
	check "exec joins the container's cgroup" t_exec_cgroup
	check "delete of a running container is refused, cgroup kept" t_delete_running
	check "kill + delete: cgroup directory and state removed" t_life_delete
else
	for t in "start" "pause" "resume" "update --memory" "update flags" "update --resources" "update -1" \
		"update swap/io" "update cpuset" "exec paused" "ps" "exec cgroup" "refused delete" "delete"; do
		tap "not ok - lifecycle: $t (create failed)"
	done
	rt delete --force life >/dev/null 2>&1
fi
check "delete --force of a paused container: all its processes and the cgroup gone" t_delete_paused
check "kill KILL of a paused container: stops, delete removes the cgroup" t_kill_paused
check "delete of a created, never started container: process and cgroup gone" t_delete_created
check "no container cgroups or state left behind" t_no_leftovers

echo "BERTH-VM-DONE" >&3
echo "BERTH-VM-DONE"
# BERTH_VM_EXTRA (run.sh): a snippet for ad-hoc checks; its output goes to the console
if [ -f /extra.sh ]; then
	echo "--- extra.sh"
	. /extra.sh 2>&1
	echo "--- extra.sh done"
fi
sync
poweroff -f
