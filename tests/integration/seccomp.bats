#!/usr/bin/env bats
# linux.seccomp: Berth's default profile (profiles/seccomp/default.json, see
# profiles/seccomp/README.md) and the runtime's implementation of the
# runtime-spec section: actions, errnoRet, defaultErrnoRet, argument
# conditions, flags, the filter cache, SCMP_ACT_NOTIFY with a listener
# (../helpers/seccomp-listener.c).  `berth-probe syscall NAME` makes a syscall
# with harmless arguments in a forked child and prints the errno it got.

load helpers

PROFILE=$BERTH_SRC/profiles/seccomp/default.json

# Docker's default capability set: what the profile is written for.
DOCKER_CAPS='["CAP_CHOWN","CAP_DAC_OVERRIDE","CAP_FSETID","CAP_FOWNER","CAP_MKNOD","CAP_NET_RAW","CAP_SETGID","CAP_SETUID","CAP_SETFCAP","CAP_SETPCAP","CAP_NET_BIND_SERVICE","CAP_SYS_CHROOT","CAP_KILL","CAP_AUDIT_WRITE"]'

# What the default profile denies, as names `berth-probe syscall` knows.  On
# this kernel every one would otherwise return something other than EPERM,
# or EPERM only for lack of a capability (the defaultErrnoRet test tells the
# two apart).
BLOCKED=(
	mount umount2 unshare setns pivot_root fsopen fsconfig fsmount fspick open_tree move_mount mount_setattr
	clone-newuser clone-newns clone-newpid clone-newnet clone-newuts clone-newipc clone-newcgroup
	sethostname setdomainname keyctl add_key request_key kexec_load kexec_file_load reboot
	init_module finit_module delete_module create_module get_kernel_syms query_module
	swapon swapoff acct syslog quotactl quotactl_fd vhangup iopl ioperm
	settimeofday clock_settime clock_adjtime open_by_handle_at bpf perf_event_open lookup_dcookie
	kcmp pidfd_getfd process_madvise userfaultfd fanotify_init io_uring_setup io_uring_enter io_uring_register
	get_mempolicy set_mempolicy mbind move_pages migrate_pages nfsservctl sysfs _sysctl uselib ustat
	personality=0x6 personality=0x40000 personality=0x1 socket=38 socket=40
)

# use_docker_caps: the container gets Docker's default capability set.
use_docker_caps() {
	cfg '.process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}' --argjson c "$DOCKER_CAPS"
}

# use_profile [JQ-FILTER [jq args]]: linux.seccomp = the default profile,
# edited by JQ-FILTER.
use_profile() {
	local filter=${1:-.}
	shift || true
	cfg '.linux.seccomp = $p' --argjson p "$(jq -c "$filter" "$@" "$PROFILE")"
}

# The engine's merge of berthCapabilityRules for a capability list $caps:
# each rule whose capability the container has takes its names out of every
# syscalls entry and adds them back with its own action.
MERGE_CAPS='reduce (.berthCapabilityRules[] | select(.capability as $c | $caps | index($c))) as $r (.;
	.syscalls |= map(.names -= $r.names | select(.names | length > 0))
	| .syscalls += [{"names": $r.names, "action": $r.action}])'

# use_seccomp JSON: linux.seccomp = JSON (a small profile of the test's own).
use_seccomp() {
	cfg '.linux.seccomp = $p' --argjson p "$1"
}

# probe_lines_are EXPECTED: every line of $output is "NAME EXPECTED" (one
# of the alternatives in the regex EXPECTED), "NAME n/a" lines aside.
probe_lines_are() {
	local l bad=()
	for l in "${lines[@]}"; do
		[[ $l =~ \ n/a$ ]] && continue
		[[ $l =~ ^[^\ ]+\ ($1)$ ]] || bad+=("$l")
	done
	[[ ${#bad[@]} -eq 0 ]] || fail "expected ($1), got: ${bad[*]}"
}

setup() {
	berth_setup
	LISTENER_PIDS=()
}

teardown() {
	local p
	for p in "${LISTENER_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	berth_teardown
}

# start_listener MODE [CONNECTIONS]: seccomp-listener on $TD/agent.sock,
# the state lines in $TD/agent.state, notifications in $TD/agent.state.log.
start_listener() {
	local bin
	bin=$(helper_bin seccomp-listener) || return 1
	rm -f "$TD/agent.sock"
	"$bin" "$TD/agent.sock" "$TD/agent.state" "$@" </dev/null >"$TD/agent.out" 2>&1 3>&- &
	LISTENER_PIDS+=($!)
	wait_for 10 test -S "$TD/agent.sock" || fail "listener did not start: $(cat "$TD/agent.out")"
}

# ------------------------------------------------------- the profile ----

@test "default profile: an OCI linux.seccomp allowlist; nothing it blocks is allowed unconditionally" {
	run jq -e '.defaultAction == "SCMP_ACT_ERRNO" and .defaultErrnoRet == 1
		and .architectures == ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]
		and ([.syscalls[].action] - ["SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"] == [])
		and all(.syscalls[]; (.names | length > 0) and (keys - ["names", "action", "args", "errnoRet"] == []))
		and all(.berthCapabilityRules[]; (.capability | startswith("CAP_")) and .action == "SCMP_ACT_ALLOW")' "$PROFILE"
	assert_success
	# a name appears in at most one unconditional entry
	run jq -r '[.syscalls[] | select(has("args") | not) | .names[]] | group_by(.) | map(select(length > 1)[0]) | .[]' "$PROFILE"
	assert_eq "$output" "" "names listed twice"
	local allowed n
	allowed=$(jq -r '.syscalls[] | select(.action == "SCMP_ACT_ALLOW" and (has("args") | not)) | .names[]' "$PROFILE")
	for n in "${BLOCKED[@]}" umount clone3 stime clock_settime64 clock_adjtime64 set_mempolicy_home_node memfd_secret; do
		n=${n%%=*}
		[[ $n == clone-* ]] && n=clone
		if grep -qx -- "$n" <<<"$allowed"; then
			fail "$n is allowed unconditionally"
		fi
	done
	# every capability-conditional name is otherwise denied or restricted
	for n in $(jq -r '.berthCapabilityRules[].names[]' "$PROFILE"); do
		! grep -qx -- "$n" <<<"$allowed" || fail "$n is in a capability rule and allowed anyway"
	done
}

@test "default profile: everyday busybox programs run" {
	use_docker_caps
	use_profile
	cfg_sh 'set -e
		mkdir -p /tmp/a/b; echo hello > /tmp/a/f; cat /tmp/a/f; cp /tmp/a/f /tmp/a/b/g; ls /tmp/a/b
		chmod 600 /tmp/a/b/g; chown 1000:1000 /tmp/a/b/g; stat -c "%a %u" /tmp/a/b/g
		dd if=/dev/zero of=/tmp/a/z bs=1k count=64 2>/dev/null; wc -c < /tmp/a/z
		ln -s f /tmp/a/l; readlink /tmp/a/l; mv /tmp/a/l /tmp/a/m; rm /tmp/a/m
		printf "b\na\n" | sort | tr "\n" " "; echo
		echo abc | sed s/b/x/ | grep axc | awk "{print toupper(\$0)}"
		tar -C /tmp/a -cf /tmp/t.tar f && tar -tf /tmp/t.tar; gzip -c /tmp/a/f | gunzip
		sha256sum /tmp/a/f | cut -c1-8; find /tmp/a -name g; du -s /tmp/a > /dev/null; df / > /dev/null
		sleep 0.1 & wait $!; ps -o pid,comm | grep -c ps; id -u; hostname; uname -s; date +%Y > /dev/null
		mkfifo /tmp/p; (echo via-fifo > /tmp/p &); cat /tmp/p; env | grep -c BERTH_ITEST
		trap "echo trapped" USR1; kill -USR1 $$; timeout 5 true; echo done'
	run rt_run
	assert_success
	assert_eq "$output" "hello
g
600 1000
65536
f
a b 
AXC
f
hello
5891b5b5
/tmp/a/b/g
1
0
berth-test
Linux
via-fifo
1
trapped
done"
}

@test "default profile: a static C program: threads (futex, clone), getrandom, epoll, timerfd, memfd, sockets, fork+exec" {
	use_docker_caps
	use_profile
	cfg_sh 'berth-probe everyday && berth-probe threads 32'
	run rt_run
	assert_success
	assert_not_match "$output" FAIL
	assert_match "$output" "ok getrandom"
	assert_match "$output" "ok epoll_wait"
	assert_match "$output" "ok fork\+exec\+wait"
	assert_match "$output" "threads=8 total=1600"
	assert_match "$output" "threads=32 total=6400"
}

@test "default profile: the process and exec'd processes run in filter mode" {
	use_docker_caps
	use_profile
	cfg_args berth-probe sleep 30
	rt_create
	rt_start
	assert_eq "$(grep '^Seccomp:' "/proc/$(cpid)/status" | awk '{print $2}')" 2 "Seccomp of init"
	run rt exec "$CID" berth-probe status Seccomp
	assert_success
	assert_eq "$output" 2 "Seccomp of an exec'd process"
	run rt exec "$CID" berth-probe syscall mount unshare
	assert_success
	assert_eq "$output" "mount EPERM
unshare EPERM" "exec'd process"
}

@test "default profile: unshare, mount, keyctl, kexec, bpf, reboot, modules, clock setting and the like fail with EPERM" {
	use_docker_caps
	use_profile
	probe_run syscall "${BLOCKED[@]}"
	assert_success
	assert_eq "${#lines[@]}" "${#BLOCKED[@]}" "one line per syscall"
	probe_lines_are EPERM
	# the ones every host has really were tried
	local n
	for n in mount unshare clone-newuser keyctl kexec_load open_by_handle_at bpf reboot init_module \
		swapon settimeofday clock_settime acct syslog perf_event_open userfaultfd io_uring_setup personality=0x6; do
		grep -qx -- "$n EPERM" <<<"$output" || fail "$n: not tried or not EPERM"
	done
}

@test "default profile: the filter itself denies them (defaultErrnoRet 133 shows through)" {
	use_docker_caps
	use_profile '.defaultErrnoRet = 133'
	probe_run syscall "${BLOCKED[@]}"
	assert_success
	probe_lines_are E133
}

@test "default profile: allowed calls and argument values still work" {
	use_docker_caps
	use_profile
	local expect=(
		"getpid none" "getcwd none" "uname none" "chroot none" "adjtimex none" "mkdir none" "rmdir ENOENT"
		"fork none" "clone none" "name_to_handle_at (none|EOPNOTSUPP)"
		"personality none" "personality=0 none" "personality=0x8 none" "personality=0x20000 none"
		"personality=0x20008 none"
		"socket=1 none" "socket=2 none" "socket=10 (none|EAFNOSUPPORT)" "socket=16 none" "socket=17 none"
		"socket=39 (none|EAFNOSUPPORT)"
	)
	local e names=()
	for e in "${expect[@]}"; do
		names+=("${e%% *}")
	done
	probe_run syscall "${names[@]}"
	assert_success
	assert_eq "${#lines[@]}" "${#expect[@]}" "lines"
	local i
	for i in "${!expect[@]}"; do
		assert_match "${lines[$i]}" "^${expect[$i]}\$" "${names[$i]}"
	done
}

@test "default profile: clone3 fails with ENOSYS, so libc falls back to clone (threads still work)" {
	use_docker_caps
	use_profile
	cfg_sh 'berth-probe syscall clone3 && berth-probe threads 4'
	run rt_run
	assert_success
	assert_eq "$output" "clone3 ENOSYS
threads=4 total=800"
}

@test "default profile: syscalls newer than the filter knows fail with ENOSYS (as under runc), so programs fall back" {
	# listmount (458) and mseal (462) are newer than libseccomp 2.5.4's
	# table: a program must see "not implemented", not "not permitted",
	# to take its fallback path.  runc patches its filter for this; Docker
	# users get ENOSYS.
	use_docker_caps
	use_profile
	probe_run syscall nr=458 nr=462 mount
	assert_success
	assert_eq "$output" "nr=458 ENOSYS
nr=462 ENOSYS
mount EPERM"
}

@test "default profile: namespaces need CAP_SYS_ADMIN: denied without it, allowed with the capability rules" {
	local ns=(unshare clone-newuser clone-newns clone-newpid clone-newnet clone-newuts clone-newipc clone-newcgroup setns)
	# without the profile the kernel lets an unprivileged process make a
	# user namespace: it is the profile that says no
	cfg '.process.capabilities = {"bounding": [], "effective": [], "permitted": []}'
	probe_run syscall unshare clone-newuser
	assert_success
	assert_eq "$output" "unshare none
clone-newuser none" "without seccomp"

	use_docker_caps
	use_profile
	probe_run syscall "${ns[@]}" clone3
	assert_success
	assert_match "$output" "clone-newuser EPERM"
	assert_match "$output" "clone3 ENOSYS"
	probe_lines_are 'EPERM|ENOSYS'

	# CAP_SYS_ADMIN added: the engine applies the CAP_SYS_ADMIN rule
	local caps
	caps=$(jq -c '. + ["CAP_SYS_ADMIN"]' <<<"$DOCKER_CAPS")
	cfg '.process.capabilities = {"bounding": $c, "effective": $c, "permitted": $c}' --argjson c "$caps"
	use_profile "$MERGE_CAPS" --argjson caps "$caps"
	probe_run syscall "${ns[@]}" clone3 mount
	assert_success
	assert_eq "$output" "unshare none
clone-newuser none
clone-newns none
clone-newpid none
clone-newnet none
clone-newuts none
clone-newipc none
clone-newcgroup none
setns EBADF
clone3 none
mount ENOENT"
}

@test "default profile: ptrace of our own children works; of a more privileged or a host process it fails" {
	use_docker_caps
	use_profile
	cfg_args berth-probe sleep 30
	rt_create
	rt_start
	# strace/gdb on one's own children, allowed as by Docker on kernels >= 4.8
	run rt exec "$CID" berth-probe ptrace-child
	assert_success
	assert_eq "$output" "traceme=none attach=none" "own children"
	# a non-root user against root's PID 1: the kernel's ptrace checks
	run rt exec --user 1000:1000 "$CID" berth-probe ptrace-other 1
	assert_success
	assert_eq "$output" "attach=EPERM vmread=EPERM" "uid 1000 -> PID 1"
	# a host process: not even visible in the container's pid namespace
	run rt exec "$CID" berth-probe ptrace-other "$$"
	assert_success
	assert_eq "$output" "attach=ESRCH vmread=ESRCH" "host pid"
	# root against root with the same capabilities: what YAMA says, as under Docker
	local expect=none
	if [[ -r /proc/sys/kernel/yama/ptrace_scope && $(cat /proc/sys/kernel/yama/ptrace_scope) -ge 1 ]]; then
		expect=EPERM
	fi
	run rt exec "$CID" berth-probe ptrace-other 1
	assert_success
	assert_match "$output" "^attach=$expect " "root -> PID 1"
	# kcmp, pidfd_getfd and process_madvise need CAP_SYS_PTRACE
	run rt exec "$CID" berth-probe syscall kcmp pidfd_getfd process_madvise
	assert_eq "$output" "kcmp EPERM
pidfd_getfd EPERM
process_madvise EPERM"
}

@test "default profile: works for a non-root user without noNewPrivileges (filter loaded before the uid switch)" {
	use_docker_caps
	use_profile
	cfg '.process.noNewPrivileges = false | .process.user = {"uid": 1000, "gid": 1000, "additionalGids": [1000]}'
	cfg_sh 'berth-probe ids; berth-probe nnp; berth-probe status Seccomp; berth-probe syscall mount; berth-probe everyday > /dev/null && echo everyday-ok'
	run rt_run
	assert_success
	assert_eq "$output" "uid=1000 gid=1000 euid=1000 egid=1000 groups=1000
0
2
mount EPERM
everyday-ok"
}

# ------------------------------------------------ runtime features -------

@test "linux.seccomp: errnoRet per rule; a rule without errnoRet gives EPERM" {
	use_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18},
		{"names": ["rmdir"], "action": "SCMP_ACT_ERRNO"},
		{"names": ["chroot"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95}]}'
	probe_run syscall mkdir rmdir chroot getpid
	assert_success
	assert_eq "$output" "mkdir EXDEV
rmdir EPERM
chroot EOPNOTSUPP
getpid none"
}

@test "linux.seccomp: defaultErrnoRet applies to the default action" {
	# the default profile with another defaultErrnoRet: allowed calls work,
	# the others fail with that errno
	use_docker_caps
	use_profile '.defaultErrnoRet = 95'
	probe_run syscall getpid mount keyctl
	assert_success
	assert_eq "$output" "getpid none
mount EOPNOTSUPP
keyctl EOPNOTSUPP"
}

@test "linux.seccomp: argument conditions: EQ, MASKED_EQ, and two conditions on one argument match either (as runc)" {
	use_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18,
		 "args": [{"index": 0, "value": 6, "op": "SCMP_CMP_EQ"}]},
		{"names": ["personality"], "action": "SCMP_ACT_ERRNO", "errnoRet": 95,
		 "args": [{"index": 0, "value": 262144, "op": "SCMP_CMP_EQ"}, {"index": 0, "value": 7, "op": "SCMP_CMP_EQ"}]},
		{"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97,
		 "args": [{"index": 0, "value": 4294967280, "valueTwo": 32, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["unshare"], "action": "SCMP_ACT_ERRNO",
		 "args": [{"index": 0, "value": 268435456, "valueTwo": 268435456, "op": "SCMP_CMP_MASKED_EQ"}]},
		{"names": ["sethostname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 18,
		 "args": [{"index": 1, "value": 1000, "op": "SCMP_CMP_GT"}]}]}'
	probe_run syscall personality=6 personality=0 personality=0x40000 personality=7 personality=8 \
		socket=1 socket=38 socket=40 unshare unshare=0 sethostname
	assert_success
	assert_eq "$output" "personality=6 EXDEV
personality=0 none
personality=0x40000 EOPNOTSUPP
personality=7 EOPNOTSUPP
personality=8 none
socket=1 none
socket=38 EAFNOSUPPORT
socket=40 EAFNOSUPPORT
unshare EPERM
unshare=0 none
sethostname EXDEV"
}

@test "linux.seccomp: SCMP_ACT_KILL_PROCESS kills with SIGSYS (exit 159); KILL_THREAD and TRAP too; LOG lets the call run" {
	local act
	# SIGSYS dumps core: not here
	cfg '.process.rlimits += [{"type": "RLIMIT_CORE", "hard": 0, "soft": 0}]'
	for act in SCMP_ACT_KILL_PROCESS SCMP_ACT_KILL_THREAD SCMP_ACT_KILL SCMP_ACT_TRAP; do
		use_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\"], \"action\": \"$act\"}]}"
		cfg_args mkdir /tmp/x
		run rt_run
		assert_eq "$status" 159 "$act: exit status of run (output: $output)"
		cfg_args berth-probe syscall mkdir getpid
		run rt_run
		assert_success
		assert_eq "$output" "mkdir SIGSYS
getpid none" "$act in a child"
	done
	use_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_LOG"}]}'
	cfg_sh 'mkdir /tmp/x && echo made'
	run rt_run
	assert_success
	assert_eq "$output" made "SCMP_ACT_LOG"
}

@test "linux.seccomp: flags SECCOMP_FILTER_FLAG_LOG and SECCOMP_FILTER_FLAG_SPEC_ALLOW are accepted" {
	berth_only "runc 1.1.5: seccomp flags are not yet supported by runc"
	use_docker_caps
	use_profile '.flags = ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"]'
	probe_run syscall getpid mount
	assert_success
	assert_eq "$output" "getpid none
mount EPERM"
}

@test "linux.seccomp: an unknown action fails create with one line naming it; nothing is left behind" {
	use_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_EXPLODE"}]}'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	local err
	err=$(grep -v '^[[:space:]]*$' "$TD/$CID.stderr" || true)
	[[ -n $err ]] || fail "nothing on stderr"
	if ! is_runc; then
		assert_eq "$(wc -l <<<"$err")" 1 "lines on stderr: [$err]"
		assert_match "$err" 'SCMP_ACT_EXPLODE' "stderr"
		assert_match "$(log_errors | tail -n1)" 'SCMP_ACT_EXPLODE' "--log"
	fi
	assert_nothing_left
	run rt delete --force "$CID"
	assert_success
}

@test "linux.seccomp: an unknown flag, architecture or operator fails create naming it; nothing is left behind" {
	berth_only "runc 1.1.5 reports some of these without the name"
	local bad
	for bad in '.flags = ["SECCOMP_FILTER_FLAG_BOGUS"]' \
		'.architectures = ["SCMP_ARCH_X86_64", "SCMP_ARCH_VAX"]' \
		'.syscalls = [{"names": ["mkdir"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_ROUGHLY"}]}]'; do
		use_seccomp "$(jq -c -n '{"defaultAction": "SCMP_ACT_ALLOW"} | '"$bad")"
		local rc=0 err name
		name=$(grep -oE '(SECCOMP_FILTER_FLAG_BOGUS|SCMP_ARCH_VAX|SCMP_CMP_ROUGHLY)' <<<"$bad")
		rt_create 2>/dev/null || rc=$?
		[[ $rc -ne 0 ]] || fail "create succeeded with $bad"
		err=$(grep -v '^[[:space:]]*$' "$TD/$CID.stderr" || true)
		assert_eq "$(wc -l <<<"$err")" 1 "lines on stderr: [$err]"
		assert_match "$err" "$name" "stderr for $bad"
		assert_nothing_left
	done
}

# cache_file MARKER: the cache file whose JSON holds MARKER.
cache_file() {
	grep -l -F -- "$1" "$ROOT"/.seccomp-cache/*.bpf 2>/dev/null
}

@test "linux.seccomp: the compiled filter is cached under <root>/.seccomp-cache and reused by the next create" {
	berth_only "the filter cache is Berth's"
	local marker="berth_cache_test_$RANDOM$RANDOM"
	use_docker_caps
	# an unknown syscall name is skipped; it makes this profile's JSON unique
	use_profile '.syscalls += [{"names": [$m], "action": "SCMP_ACT_ALLOW"}]' --arg m "$marker"
	cfg_args berth-probe syscall mount getpid
	rt_create
	local f
	f=$(cache_file "$marker") || fail "no cache file holds the profile"
	[[ $(wc -l <<<"$f") -eq 1 ]] || fail "more than one cache file: $f"
	assert_match "$(basename "$f")" '^[0-9a-f]{16}\.bpf$' "cache file name"
	local mtime sum
	mtime=$(stat -c %Y.%y "$f")
	sum=$(sha256sum <"$f")
	rt_start
	wait_exit >/dev/null
	assert_eq "$(cat "$TD/$CID.stdout")" "mount EPERM
getpid none" "first container"
	rt delete "$CID"
	sleep 1.1
	# same config: the cached filter is used, the file is not rewritten
	rt_create
	rt_start
	wait_exit >/dev/null
	assert_eq "$(cat "$TD/$CID.stdout")" "mount EPERM
getpid none" "second container (from the cache)"
	assert_eq "$(stat -c %Y.%y "$f")" "$mtime" "cache file mtime"
	assert_eq "$(sha256sum <"$f")" "$sum" "cache file content"
	assert_eq "$(cache_file "$marker" | wc -l)" 1 "cache files for the profile"
	rt delete "$CID"
}

@test "linux.seccomp: a changed profile gets its own cache entry; a damaged cache file is rebuilt" {
	berth_only "the filter cache is Berth's"
	local marker="berth_cache_test_$RANDOM$RANDOM"
	use_seccomp "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"mkdir\", \"mkdirat\", \"$marker\"], \"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 18}]}"
	cfg_args berth-probe syscall mkdir
	run rt_run
	assert_eq "$output" "mkdir EXDEV"
	local f size
	f=$(cache_file "$marker") || fail "no cache file"
	size=$(stat -c %s "$f")
	# damage it: a length that is no whole BPF program
	printf 'x' >>"$f"
	run rt_run
	assert_eq "$output" "mkdir EXDEV" "after damage"
	assert_eq "$(stat -c %s "$f")" "$size" "size of the rebuilt cache file"
	# another errnoRet: another file, another result
	cfg '.linux.seccomp.syscalls[0].errnoRet = 95'
	run rt_run
	assert_eq "$output" "mkdir EOPNOTSUPP" "changed profile"
	assert_eq "$(cache_file "$marker" | wc -l)" 2 "cache files"
}

# ---------------------------------------------------- SCMP_ACT_NOTIFY ----

notify_profile() {
	jq -c -n --arg sock "$TD/agent.sock" '{"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": $sock,
		"listenerMetadata": "berth-test-metadata",
		"syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_NOTIFY"}]}'
}

@test "SCMP_ACT_NOTIFY: the listener gets the notify fd and the containerProcessState; CONTINUE lets the call run" {
	start_listener continue
	use_seccomp "$(notify_profile)"
	cfg_args berth-probe syscall mkdir mkdir getpid
	rt_create
	wait_for_file "$TD/agent.state"
	local st
	st=$(head -n1 "$TD/agent.state")
	run jq -e --arg id "$CID" --argjson pid "$(cpid)" --arg b "$BUNDLE" '
		.fds == ["seccompFd"] and .pid == $pid and .metadata == "berth-test-metadata"
		and (.ociVersion | type) == "string"
		and .state.id == $id and .state.pid == $pid and .state.status == "creating" and .state.bundle == $b' <<<"$st"
	[[ $status -eq 0 ]] || fail "containerProcessState: $st"
	rt_start
	wait_exit >/dev/null
	# the first mkdir was answered CONTINUE; the listener is gone for the
	# second, which the kernel fails with ENOSYS
	assert_eq "$(cat "$TD/$CID.stdout")" "mkdir none
mkdir ENOSYS
getpid none" "container"
	run cat "$TD/agent.state.log"
	assert_match "$output" "^notif pid=[0-9]+ nr=[0-9]+$" "notification"
}

@test "SCMP_ACT_NOTIFY: an errno answer reaches the container" {
	start_listener errno=18
	use_seccomp "$(notify_profile)"
	probe_run syscall mkdir getpid
	assert_success
	assert_eq "$output" "mkdir EXDEV
getpid none"
}

@test "SCMP_ACT_NOTIFY: an exec'd process sends its own notify fd to the listener" {
	start_listener errno=18
	use_seccomp "$(notify_profile)"
	cfg_args berth-probe sleep 30
	rt_create
	rt_start
	wait_for_file "$TD/agent.state"
	run rt exec "$CID" berth-probe syscall mkdir
	assert_success
	assert_eq "$output" "mkdir EXDEV" "exec'd process"
	wait_for 10 count_is "$TD/agent.state" . 2 || fail "second state: $(cat "$TD/agent.state")"
	run jq -s -e '.[1].fds == ["seccompFd"] and .[1].pid != .[0].pid' "$TD/agent.state"
	assert_success
}

@test "SCMP_ACT_NOTIFY: without listenerPath, or with nobody listening, create fails naming why; nothing is left" {
	use_seccomp '{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["mkdir"], "action": "SCMP_ACT_NOTIFY"}]}'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded without listenerPath"
	is_runc || assert_match "$(cat "$TD/$CID.stderr")" listenerPath "error"
	assert_nothing_left
	rt delete --force "$CID" || true

	use_seccomp "$(notify_profile)"
	rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded with nobody listening"
	assert_match "$(cat "$TD/$CID.stderr")" "agent.sock" "error names the socket"
	assert_nothing_left
}

@test "SCMP_ACT_NOTIFY: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV is accepted with a listener" {
	berth_only "runc 1.1.5 does not know the flag"
	start_listener errno=18
	use_seccomp "$(notify_profile | jq -c '.flags = ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]')"
	probe_run syscall mkdir
	assert_success
	assert_eq "$output" "mkdir EXDEV"
}
