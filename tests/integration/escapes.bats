#!/usr/bin/env bats
# Known container escapes, each run against the runtime, each asserted to
# fail:
#   CVE-2019-5736   overwriting the host runtime binary through /proc/<pid>/exe
#   CVE-2024-21626  a leaked host fd as the process cwd (/proc/self/fd/N)
#   CVE-2021-30465  a mount destination that is (or becomes, in a race) a
#                   symlink out of the rootfs
#   CVE-2022-0492   writing cgroup v1 release_agent from a container
#   maskedPaths and readonlyPaths against writes, bind tricks and symlinks
# The containers run the default config (runc's `spec` capabilities, no
# seccomp): the barriers tested are the runtime's and the kernel's, not the
# seccomp profile's (seccomp.bats tests that).

load helpers

setup() {
	berth_setup
	HOST_CREATED=()
}

teardown() {
	local p
	# a path an escape managed to create on the host (the test failed)
	for p in "${HOST_CREATED[@]}"; do
		if [[ -e $p ]]; then
			umount -l "$p" 2>/dev/null || true
			rm -rf --one-file-system "$p"
		fi
	done
	berth_teardown
}

# rt_exec_fg ARGS...: foreground inline exec; output printed afterwards.
rt_exec_fg() {
	local rc=0
	rt exec "$@" </dev/null >"$TD/exec-fg.out" 2>&1 3>&- || rc=$?
	cat "$TD/exec-fg.out"
	return $rc
}

# ------------------------------------------------------ CVE-2019-5736 ----

# The runtime binary, whatever RUNTIME names (a symlink for runc in /usr/sbin).
runtime_file() {
	readlink -f "$RUNTIME"
}

# evil_program: /bin/evil in the rootfs runs "/proc/self/exe" (the binary of
# the process that execs it: the runtime, in the container) as its
# interpreter; with --log on a fifo, that runtime blocks opening its log
# until someone reads the fifo, which keeps it alive for the attacker.
evil_program() {
	printf '#!/proc/self/exe --log=/run/fifo\n' >"$BUNDLE/rootfs/bin/evil"
	chmod 0755 "$BUNDLE/rootfs/bin/evil"
	mkfifo "$BUNDLE/rootfs/run/fifo"
}

# check_exe_attack OUTPUT [running-only]: what the attacker saw and did: it
# found the runtime running in the container and could read its exe, but
# that is not the host's binary and every write failed (also, unless
# running-only, once the binary was no longer busy).
check_exe_attack() {
	local out=$1 only=${2:-} real target l
	real=$(runtime_file)
	assert_match "$out" "pid found" "the runtime was running in the container" || return 1
	target=$(sed -n 's/^target //p' <<<"$out")
	[[ $target != "$real" ]] || fail "/proc/<pid>/exe in the container is the host binary $real" || return 1
	if ! is_runc; then
		# Berth runs from a sealed memfd copy of itself (runc 1.1 from a
		# detached read-only bind mount of its binary, which reads "/")
		assert_match "$target" '^/memfd:berth-runtime' "/proc/<pid>/exe of the runtime in the container" || return 1
	fi
	assert_match "$out" "open-ro none" "the attacker could open it for reading" || return 1
	assert_not_match "$out" "WRITTEN" "a write to the runtime's exe succeeded" || return 1
	for l in $(grep '^write' <<<"$out" | awk '{print $2}'); do
		[[ $l =~ ^(ETXTBSY|EPERM|EACCES|EROFS|opened-but-write:EPERM)$ ]] || fail "write attempt ended with $l" || return 1
	done
	if [[ $only != running-only ]]; then
		assert_match "$out" "write-fd-after" "tried again once the binary was no longer busy" || return 1
	fi
	grep -qx done <<<"$out" || fail "the attacker did not finish" || return 1
}

@test "CVE-2019-5736: the runtime's init, waiting in created state, cannot be written through /proc/1/exe, before or after it execs" {
	local real sum
	real=$(runtime_file)
	sum=$(sha256sum <"$real")
	cfg_args berth-probe sleep 60
	rt_create
	# the attacker is in the container while its PID 1 is still the runtime:
	# it keeps an fd to /proc/1/exe and tries again once PID 1 has exec'd
	write_process "$TD/attack.json" '.args = ["sh", "-c", "berth-probe exe-attack 1 exec-wait > /out/attack 2>&1"]'
	rt_exec_detach "$TD/attack.json"
	wait_for 10 grep -q "^write-fd-running" "$OUT/attack" || fail "attacker: $(cat "$OUT/attack")"
	rt_start
	wait_for 30 grep -q "^done" "$OUT/attack" || fail "attacker did not finish: $(cat "$OUT/attack")"
	cat "$OUT/attack"
	check_exe_attack "$(cat "$OUT/attack")"
	assert_match "$(cat "$OUT/attack")" "execd yes" "PID 1 exec'd the container's program"
	assert_eq "$(sha256sum <"$real")" "$sum" "sha256 of $real"
}

@test "CVE-2019-5736: a #!/proc/self/exe program started by exec cannot overwrite the runtime binary" {
	local real sum
	real=$(runtime_file)
	sum=$(sha256sum <"$real")
	evil_program
	cfg_args berth-probe sleep 60
	rt_create
	rt_start
	# exec runs /bin/evil: its interpreter is the exe of the process that
	# execs it, the runtime in the container
	write_process "$TD/evil.json" '.args = ["/bin/evil"]'
	rt_exec_detach "$TD/evil.json" || true
	# the attacker: finds it, opens /proc/<pid>/exe, tries to write it, lets
	# it go, and tries again through the kept fd once it has exited
	run rt_exec_fg "$CID" berth-probe exe-attack find:/proc/self/exe /run/fifo
	echo "$output"
	if [[ $output == "pid notfound" ]] && is_runc; then
		# runc 1.1 cannot be run through /proc/self/exe at all (ENOENT)
		assert_match "$(cat "$EXEC_ERR")" "no such file" "runc's exec of /bin/evil"
	else
		assert_success
		check_exe_attack "$output"
		assert_match "$output" "exited yes" "the runtime in the container exited"
	fi
	assert_eq "$(sha256sum <"$real")" "$sum" "sha256 of $real"
}

@test "CVE-2019-5736: a #!/proc/self/exe entrypoint (the runtime as PID 1) cannot be written through /proc/1/exe" {
	local real sum
	real=$(runtime_file)
	sum=$(sha256sum <"$real")
	evil_program
	cfg_args /bin/evil
	rt_create
	rt_start
	if is_runc && ! wait_for 2 state_is running; then
		# runc 1.1 cannot be run through /proc/self/exe at all (ENOENT)
		assert_match "$(cat "$TD/$CID.stderr")" "no such file" "runc's exec of /bin/evil"
	else
		state_is running || fail "the runtime as PID 1 is not running: $(cat "$TD/$CID.stderr")"
		run rt_exec_fg "$CID" berth-probe exe-attack 1 -
		echo "$output"
		assert_success
		check_exe_attack "$output" running-only
		# let it go: the runtime in the container fails on its command line
		timeout 10 cat "$BUNDLE/rootfs/run/fifo" >/dev/null
		local code
		code=$(wait_exit)
		[[ $code != 0 ]] || fail "the runtime as PID 1 exited 0"
	fi
	assert_eq "$(sha256sum <"$real")" "$sum" "sha256 of $real"
}

# ----------------------------------------------------- CVE-2024-21626 ----

@test "CVE-2024-21626: process.cwd /proc/self/fd/N (N = 3..10) fails or stays in the container" {
	local marker n
	marker=$(mktemp "$FILE_TMP/host-marker.XXXXXX")
	for n in 3 4 5 6 7 8 9 10; do
		cfg '.process.cwd = $c' --arg c "/proc/self/fd/$n"
		cfg_args berth-probe cwd-escape "$marker"
		run rt_run
		assert_not_match "$output" "host=visible" "cwd /proc/self/fd/$n: the host is visible"
		if [[ $status -eq 0 ]]; then
			assert_match "$output" "^cwd=/.* host=hidden$" "cwd /proc/self/fd/$n"
		else
			assert_match "$output" "." "cwd /proc/self/fd/$n: an error message"
			assert_not_match "$output" "cwd=" "cwd /proc/self/fd/$n: the process ran"
		fi
		if ! is_runc; then
			# Berth refuses such a cwd outright, naming it
			[[ $status -ne 0 ]] || fail "cwd /proc/self/fd/$n was accepted: $output"
			assert_match "$output" "/proc/self/fd/$n" "the error names the cwd"
		fi
		assert_nothing_left
	done
}

@test "CVE-2024-21626: exec with cwd /proc/self/fd/N (N = 3..10), inline and --process, fails or stays in the container" {
	local marker n
	marker=$(mktemp "$FILE_TMP/host-marker.XXXXXX")
	cfg_args berth-probe sleep 60
	rt_create
	rt_start
	for n in 3 4 5 6 7 8 9 10; do
		run rt_exec_fg --cwd "/proc/self/fd/$n" "$CID" berth-probe cwd-escape "$marker"
		assert_not_match "$output" "host=visible" "exec --cwd /proc/self/fd/$n: the host is visible"
		[[ $status -ne 0 ]] || assert_match "$output" "^cwd=/.* host=hidden$" "exec --cwd /proc/self/fd/$n"
		is_runc || [[ $status -ne 0 ]] || fail "exec --cwd /proc/self/fd/$n was accepted: $output"

		write_process "$TD/p$n.json" '.cwd = $c | .args = ["berth-probe", "cwd-escape", $m]' \
			--arg c "/proc/self/fd/$n" --arg m "$marker"
		run rt_exec_fg --process "$TD/p$n.json" "$CID"
		assert_not_match "$output" "host=visible" "exec --process cwd /proc/self/fd/$n: the host is visible"
		[[ $status -ne 0 ]] || assert_match "$output" "^cwd=/.* host=hidden$" "exec --process cwd /proc/self/fd/$n"
	done
	# the container is unharmed
	state_is running || fail "container not running after the attempts"
}

@test "CVE-2024-21626: a host directory fd handed in with --preserve-fds cannot become the cwd" {
	# the second barrier: even with a host directory open in the process,
	# a cwd that getcwd cannot place inside the root is refused
	local marker
	marker=$(mktemp "$FILE_TMP/host-marker.XXXXXX")
	cfg '.process.cwd = "/proc/self/fd/3"'
	cfg_args berth-probe cwd-escape "$marker"
	run bash -c 'timeout 30 "$0" --root "$1" --log "$2" --log-format json run --preserve-fds 1 --bundle "$3" "$4" 3<"$5" </dev/null' \
		"$RUNTIME" "$ROOT" "$LOG" "$BUNDLE" "$CID" "$FILE_TMP"
	echo "$output"
	assert_not_match "$output" "host=visible" "the host is visible"
	assert_not_match "$output" "cwd=" "the process ran with a host cwd"
	assert_failure
	assert_match "$output" "cwd|working directory" "the error is about the cwd"
	assert_nothing_left
	# the same for exec
	cfg '.process.cwd = "/"'
	cfg_args berth-probe sleep 60
	rt_create
	rt_start
	run bash -c 'timeout 30 "$0" --root "$1" --log "$2" --log-format json exec --preserve-fds 1 --cwd /proc/self/fd/3 "$3" berth-probe cwd-escape "$4" 3<"$5" </dev/null' \
		"$RUNTIME" "$ROOT" "$LOG" "$CID" "$marker" "$FILE_TMP"
	echo "$output"
	assert_not_match "$output" "host=visible" "exec: the host is visible"
	assert_not_match "$output" "cwd=" "exec: the process ran with a host cwd"
	assert_failure
}

@test "CVE-2024-21626: no host fd reaches the container process or an exec'd process" {
	cfg_args berth-probe sleep 60
	rt_create
	rt_start
	local pid fds
	pid=$(cpid)
	fds=$(ls "/proc/$pid/fd")
	assert_eq "$(tr '\n' ' ' <<<"$fds")" "0 1 2 " "fds of the container's init"
	run rt_exec_fg "$CID" berth-probe fds
	assert_success
	local l
	for l in "${lines[@]}"; do
		[[ $l =~ ^[012]\  ]] || fail "fd reached the exec'd process: $l"
	done
}

# ----------------------------------------------------- CVE-2021-30465 ----

runc_version() {
	"$RUNTIME" --version | sed -n 's/^runc version \([0-9.]*\).*/\1/p'
}

# runc_older_than VERSION
runc_older_than() {
	local v
	v=$(runc_version)
	[[ -n $v && $v != "$1" && $(printf '%s\n%s\n' "$v" "$1" | sort -V | head -n1) == "$v" ]]
}

@test "CVE-2021-30465: mount destinations through symlinks to / or ../../.. stay in the rootfs" {
	local tag="berth-itest-escape-$RANDOM$RANDOM"
	HOST_CREATED+=("/$tag-abs" "/$tag-rel" "/$tag-deep")
	ln -s / "$BUNDLE/rootfs/to-root"
	ln -s ../../../../../../../../../../.. "$BUNDLE/rootfs/to-up"
	mkdir -p "$BUNDLE/rootfs/a/b"
	ln -s ../../../../../../../../../../../.. "$BUNDLE/rootfs/a/b/up"
	cfg '.mounts += [
		{"destination": ("/to-root/" + $t + "-abs"), "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": ("/to-up/" + $t + "-rel"), "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": ("/a/b/up/" + $t + "-deep"), "type": "bind", "source": $src, "options": ["rbind", "ro"]}]' \
		--arg t "$tag" --arg src "$OUT"
	cfg_sh "ls -d /$tag-abs /$tag-rel /$tag-deep; echo done"
	run rt_run
	# Berth resolves each destination in the rootfs (and so does runc)
	is_runc || assert_success
	local p
	for p in "/$tag-abs" "/$tag-rel" "/$tag-deep"; do
		[[ ! -e $p ]] || fail "a mount point was created on the host: $p"
		! _mounts_under "$p" | grep -q . || fail "a mount landed on the host at $p"
	done
	if [[ $status -eq 0 ]]; then
		# resolved in the rootfs: the mount points are at the container's root
		assert_eq "$output" "/$tag-abs
/$tag-deep
/$tag-rel
done"
	fi
	assert_nothing_left
}

@test "CVE-2021-30465: a directory swapped for a symlink while mounts are set up (race) never leads out of the rootfs" {
	# The mkdir of a missing mount point races the same way (CVE-2024-45310,
	# fixed in runc 1.1.14): runc 1.1.5 creates mount points (m1, m2) in the
	# host's victim dir within a few dozen creates.
	if is_runc && runc_older_than 1.1.14; then
		skip "runc $(runc_version) is vulnerable to CVE-2024-45310 (mkdir of mount points races out of the rootfs)"
	fi
	local victim=$TD/victim shared=$TD/shared i
	mkdir -p "$victim" "$shared/d/m1" "$shared/d/m3"
	# the swapper holds two names in the shared volume: a real directory and
	# a symlink to the host's victim directory (absolute; and one relative)
	ln -s "$victim" "$shared/l"
	ln -s "../../../../../../../../../../..$victim" "$shared/r"
	# container B: swaps d <-> l and d <-> r as fast as it can
	local bundle_b=$TD/bundle-b cid_b
	new_cid cid_b
	make_bundle "$bundle_b" "$cid_b"
	cfg -b "$bundle_b" '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' --arg s "$shared"
	cfg_sh -b "$bundle_b" 'berth-probe swap-loop /shared/d /shared/l 20 & berth-probe swap-loop /shared/d /shared/r 20 & wait'
	rt_create --id "$cid_b" --bundle "$bundle_b"
	rt_start "$cid_b"
	# container A, again and again: mounts whose destinations go through d
	cfg '.mounts += [{"destination": "/shared", "type": "bind", "source": $s, "options": ["rbind", "rw"]},
		{"destination": "/shared/d/m1", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": "/shared/d/m2", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]},
		{"destination": "/shared/d/m3", "type": "bind", "source": $o, "options": ["rbind", "ro"]},
		{"destination": "/shared/d/m4", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]' \
		--arg s "$shared" --arg o "$OUT"
	cfg_args berth-probe sleep 60
	local ok=0 failed=0
	for i in $(seq 1 40); do
		if rt_create 2>>"$TD/race-errors"; then
			ok=$((ok + 1))
			rt delete --force "$CID" >/dev/null 2>&1
		else
			failed=$((failed + 1))
		fi
		assert_nothing_left || return 1
		[[ -z $(ls -A "$victim") ]] || fail "after $i creates the host's victim dir has: $(ls -A "$victim")" || return 1
		! _mounts_under "$victim" | grep -q . || fail "a mount landed on the host's victim dir" || return 1
	done
	echo "# race: $ok creates succeeded, $failed failed" >&3
	sort "$TD/race-errors" | uniq -c | sed "s/^/# /" >&3
	state_is running "$cid_b" || fail "the swapper stopped early"
}

# ------------------------------------------------------ CVE-2022-0492 ----

@test "CVE-2022-0492: release_agent and notify_on_release cannot be written; cgroupfs cannot be mounted or made rw" {
	local saved=() f
	for f in /sys/fs/cgroup/*/release_agent; do
		[[ -e $f ]] && saved+=("$f=$(cat "$f")")
	done
	cfg_sh 'for f in $(find /sys/fs/cgroup -maxdepth 3 -name release_agent -o -maxdepth 3 -name notify_on_release); do
			echo "$f $(berth-probe write $f /evil)"; done
		for d in /sys/fs/cgroup/*/; do echo "${d}release_agent $(berth-probe write ${d}release_agent /evil)"; done
		echo "mkdir $(mkdir /sys/fs/cgroup/memory/evil 2>/dev/null && echo ok || echo failed)"
		echo "mount-cgroup $(berth-probe mount-fs cgroup /mnt memory)"
		echo "mount-cgroup2 $(berth-probe mount-fs cgroup2 /mnt)"
		echo "remount-rw $(berth-probe remount-rw /sys/fs/cgroup)"
		for c in memory rdma pids; do
			echo "userns-$c $(berth-probe userns pid exec /bin/sh sh -c "berth-probe mount-fs cgroup /mnt $c && berth-probe write /mnt/release_agent /evil" | tr "\n" " ")"
		done'
	run rt_run
	echo "$output"
	assert_success
	local l n=0
	for l in "${lines[@]}"; do
		case $l in
		*release_agent\ * | *notify_on_release\ *)
			n=$((n + 1))
			[[ $l =~ \ (EROFS|EACCES|EPERM|ENOENT)$ ]] || fail "written: $l" ;;
		mkdir\ *) assert_eq "$l" "mkdir failed" ;;
		mount-cgroup\ * | mount-cgroup2\ * | remount-rw\ *) [[ $l =~ \ EPERM$ ]] || fail "$l" ;;
		userns-*)
			# the mount may work in a user+cgroup namespace; release_agent never
			[[ $l =~ EPERM|EBUSY|EINVAL|ENOENT|EACCES ]] || fail "$l"
			assert_not_match "$l" "ok $" "$l" ;;
		esac
	done
	[[ $n -gt 0 ]] || fail "no release_agent or notify_on_release was tried"
	local e
	for e in "${saved[@]}"; do
		assert_eq "$(cat "${e%%=*}")" "${e#*=}" "host ${e%%=*}"
	done
}

# ------------------------------------------- maskedPaths, readonlyPaths ----

# The masked and read-only paths of the base config that this host has (a
# path the host lacks is skipped by every runtime).  /proc/timer_list is
# never empty on the host, so reading nothing from it shows the mask.
host_masked_files() {
	local p
	for p in $(jq -r '.linux.maskedPaths[]' "$BUNDLE/config.json"); do
		[[ -f $p ]] && echo "$p"
	done
	return 0
}

host_masked_dirs() {
	local p
	for p in $(jq -r '.linux.maskedPaths[]' "$BUNDLE/config.json"); do
		[[ -d $p && -n $(ls -A "$p") ]] && echo "$p"
	done
	return 0
}

@test "maskedPaths and readonlyPaths hold against writes and reopening through /proc/self/fd" {
	[[ -n $(head -c 16 /proc/timer_list 2>/dev/null) ]] || skip "no /proc/timer_list on this host"
	local files dirs
	files=$(host_masked_files | tr '\n' ' ')
	dirs=$(host_masked_dirs | tr '\n' ' ')
	local ro=(/proc/sys/kernel/core_pattern /proc/sys/vm/drop_caches /proc/irq/default_smp_affinity /proc/sysrq-trigger)
	cfg_sh "for f in $files; do echo \"\$f \$(berth-probe read \$f) \$(berth-probe write \$f x)\"; done
		for d in $dirs; do echo \"\$d \$(ls -A \$d | wc -l) \$(berth-probe write \$d/x)\"; done
		for f in ${ro[*]}; do [ -e \$f ] && echo \"\$f \$(berth-probe write \$f x)\"; done
		exec 3</proc/sys/kernel/core_pattern; echo \"reopen-ro \$(berth-probe write /proc/self/fd/3 /evil)\"
		exec 4</proc/timer_list; echo \"reopen-masked \$(berth-probe read /proc/self/fd/4)\"
		echo \"via-root-masked \$(berth-probe read /proc/1/root/proc/timer_list)\"
		echo \"via-root-ro \$(berth-probe write /proc/1/root/proc/sys/kernel/core_pattern /evil)\"
		echo \"via-task-ro \$(berth-probe write /proc/\$\$/task/\$\$/root/proc/sys/kernel/core_pattern /evil)\"
		echo done"
	local core
	core=$(cat /proc/sys/kernel/core_pattern)
	run rt_run
	echo "$output"
	assert_success
	assert_match "$output" "/proc/timer_list ok 0 " "masked /proc/timer_list"
	local l
	for l in "${lines[@]}"; do
		case $l in
		# a masked file reads nothing; writes go to /dev/null, or fail
		/proc/*\ ok\ 0\ *) [[ $l =~ \ (ok|EROFS|EACCES|EPERM)$ ]] || fail "$l" ;;
		# a masked directory is an empty read-only tmpfs
		/proc/*\ 0\ * | /sys/*\ 0\ *) [[ $l =~ \ EROFS$ ]] || fail "$l" ;;
		/proc/sys/* | /proc/irq/* | /proc/sysrq-trigger*) [[ $l =~ \ EROFS$ ]] || fail "read-only: $l" ;;
		reopen-ro* | via-root-ro* | via-task-ro*) [[ $l =~ \ EROFS$ ]] || fail "$l" ;;
		reopen-masked* | via-root-masked*) [[ $l =~ \ ok\ 0$ ]] || fail "$l" ;;
		done) ;;
		*) fail "unexpected: $l" ;;
		esac
	done
	assert_match "$output" "/proc/sys/kernel/core_pattern EROFS" "core_pattern"
	assert_eq "$(cat /proc/sys/kernel/core_pattern)" "$core" "host core_pattern"
}

@test "maskedPaths and readonlyPaths hold against bind and umount tricks without CAP_SYS_ADMIN, and in a user namespace" {
	[[ -n $(head -c 16 /proc/timer_list 2>/dev/null) ]] || skip "no /proc/timer_list on this host"
	local dir
	dir=$(host_masked_dirs | head -n1)
	[[ -n $dir ]] || dir=/proc/acpi
	cfg_sh "echo \"umount \$(berth-probe umount /proc/timer_list)\"
		echo \"umount-ro \$(berth-probe umount /proc/sys)\"
		echo \"umount-dir \$(berth-probe umount $dir)\"
		echo \"bind-over \$(berth-probe mount-bind /tmp /proc/sys)\"
		echo \"bind-proc \$(berth-probe mount-bind /proc /mnt)\"
		echo \"remount-rw \$(berth-probe remount-rw /proc/sys)\"
		echo \"userns-umount \$(berth-probe userns umount /proc/timer_list)\"
		echo \"userns-umount-dir \$(berth-probe userns umount $dir)\"
		echo \"userns-umount-ro \$(berth-probe userns umount /proc/sys)\"
		echo \"userns-remount-rw \$(berth-probe userns remount-rw /proc/sys)\"
		echo \"userns-bind-proc \$(berth-probe userns mount-bind /proc /mnt)\"
		echo \"userns-new-proc \$(berth-probe userns pid mount-fs proc /mnt)\"
		echo \"userns-new-sysfs \$(berth-probe userns pid mount-fs sysfs /mnt)\"
		echo \"timer_list \$(berth-probe read /proc/timer_list)\"
		echo \"core_pattern \$(berth-probe write /proc/sys/kernel/core_pattern /evil)\""
	run rt_run
	echo "$output"
	assert_success
	assert_eq "${#lines[@]}" 15 "lines"
	local l
	for l in "${lines[@]}"; do
		case $l in
		timer_list\ *) assert_eq "$l" "timer_list ok 0" ;;
		core_pattern\ *) assert_eq "$l" "core_pattern EROFS" ;;
		# a locked mount cannot be taken off (EINVAL), a locked read-only
		# flag not cleared (EPERM), a mount with locked submounts not bound
		# without them (EINVAL), a procfs or sysfs with masked parts not
		# mounted again (EPERM)
		userns-*) [[ $l =~ \ (EPERM|EINVAL)$ ]] || fail "$l" ;;
		*) [[ $l =~ \ EPERM$ ]] || fail "$l" ;;
		esac
	done
}

@test "maskedPaths and readonlyPaths hold against symlinks: in the rootfs to them, and at them out of the rootfs" {
	[[ -n $(head -c 16 /proc/timer_list 2>/dev/null) ]] || skip "no /proc/timer_list on this host"
	local hostfile=$TD/host-secret hostdir=$TD/host-dir
	echo host-secret >"$hostfile"
	mkdir -p "$hostdir"
	echo host-data >"$hostdir/f"
	ln -s /proc/timer_list "$BUNDLE/rootfs/timer-link"
	ln -s ../proc/sys "$BUNDLE/rootfs/sys-link"
	# masked and read-only paths that are symlinks pointing out of the rootfs
	ln -s "$hostfile" "$BUNDLE/rootfs/mask-me"
	ln -s "../../../../../../../../../..$hostdir" "$BUNDLE/rootfs/ro-me"
	cfg '.linux.maskedPaths += ["/mask-me"] | .linux.readonlyPaths += ["/ro-me"]'
	cfg_sh 'berth-probe read /timer-link; berth-probe write /sys-link/kernel/core_pattern /evil
		cat /mask-me 2>/dev/null || echo no-mask-me; cat /ro-me/f 2>/dev/null || echo no-ro-me; echo done'
	run rt_run
	echo "$output"
	# whatever the runtime made of the out-of-rootfs ones, the host is untouched
	assert_eq "$(cat "$hostfile")" host-secret "host file"
	assert_eq "$(cat "$hostdir/f")" host-data "host dir"
	echo new >"$hostdir/g" || fail "host dir became read-only"
	! _mounts_under "$hostfile" | grep -q . || fail "a mount landed on the host file"
	! _mounts_under "$hostdir" | grep -q . || fail "a mount landed on the host dir"
	assert_success
	assert_eq "$output" "ok 0
EROFS
no-mask-me
no-ro-me
done"
	assert_nothing_left
}
