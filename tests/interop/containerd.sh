# Sourced by run.sh: $RUNTIME under containerd 1.6 through ctr.
#
# A private containerd (own config.toml, root, state, gRPC and ttrpc
# sockets in $T/ctd; CRI and the unused snapshotters disabled) in its own
# namespace; every `ctr run` passes --runc-binary $RT (so the runc v2 shim
# calls our runtime for create/start/exec/ps/pause/resume/kill/delete, see
# shared/containerd-runtime-calls.md), --runc-root $T/ctd/runc-root (the
# runtime's --root becomes $T/ctd/runc-root/<namespace>) and --fifo-dir.

C=$T/ctd
CNS=berth-interop-$$
S=$C/containerd.sock
CTR=(ctr -a "$S" -n "$CNS")
CRUN=(--runc-binary "$RT" --runc-root "$C/runc-root" --fifo-dir "$C/fifo")
ctd_pid=
mkdir -p "$C/fifo" "$C/runc-root"

ctd_diag() {
	[[ -f $C/containerd.log ]] && diag "containerd log (errors, last 10):" \
		"$(grep -E 'level=(error|warning)' "$C/containerd.log" | grep -v 'snapshotter\|tracing' | tail -n 10)"
	[[ -f $T/trace.log ]] && diag "runtime calls (last 12):" "$(tail -n 12 "$T/trace.log")"
}
extra_diag() { ctd_diag; }

ctd_stop() {
	[[ -n $ctd_pid ]] || return 0
	kill -TERM "$ctd_pid" 2>/dev/null
	poll 10 ctd_gone || kill -KILL "$ctd_pid" 2>/dev/null
	wait "$ctd_pid" 2>/dev/null
	ctd_pid=
}
ctd_gone() { ! kill -0 "$ctd_pid" 2>/dev/null; }
ctd_cleanup() {
	local id
	if [[ -n $ctd_pid ]]; then
		# Leftover tasks and containers of this run.
		for id in $("${CTR[@]}" task ls -q 2>/dev/null); do
			timeout 10 "${CTR[@]}" task delete --force "$id" >/dev/null 2>&1
		done
		for id in $("${CTR[@]}" container ls -q 2>/dev/null); do
			timeout 10 "${CTR[@]}" container rm "$id" >/dev/null 2>&1
		done
	fi
	ctd_stop
	kill_pids $(procs_matching "$C/" | awk '{print $1}')
	# Containers left running (ctr's cgroupsPath is /<namespace>/<id>).
	cg_purge "$CNS"
}
# The runtime makes cgroups /<namespace>/<id>; the parent /<namespace>
# stays (runc leaves it too): remove it when empty.
ctd_rm_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$CNS" /sys/fs/cgroup/"$CNS"; do
		[[ -d $d ]] && rmdir "$d" 2>/dev/null
	done
}
cleanup_hooks+=(ctd_cleanup)

ctd_status() { # ctd_status ID: the task's STATUS column from `ctr task ls`
	"${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id {print $3}'
}
ctd_has_status() { [[ $(ctd_status "$1") == "$2" ]]; }
ctd_no_task() { [[ -z $(ctd_status "$1") ]]; }

# ---- the tests ---------------------------------------------------------------
if [[ -n ${pkg_missing[containerd]:-} ]]; then
	tap_not_ok "containerd: package installed" "apt-get could not install containerd"
	skip_reason="containerd not installed"
fi

ctd_start() {
	cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = [
  "io.containerd.grpc.v1.cri",
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "$S"
[ttrpc]
  address = "$S.ttrpc"
[debug]
  level = "info"
EOF
	containerd --config "$C/config.toml" </dev/null >"$C/containerd.log" 2>&1 &
	ctd_pid=$!
	LAST_CMD="containerd --config $C/config.toml"
	if ! poll 15 ctd_ready; then
		why="no answer on $S within 15 s"
		ERR=$(tail -n 20 "$C/containerd.log")
		return 1
	fi
}
ctd_ready() {
	kill -0 "$ctd_pid" 2>/dev/null || return 1
	[[ -S $S ]] && "${CTR[@]}" version >/dev/null 2>&1
}
t "containerd: private daemon starts ($(containerd --version 2>/dev/null | awk '{print $3}'))" ctd_start ||
	skip_reason=${skip_reason:-"containerd did not start"}

ctd_import() {
	# No --index-name: the index's org.opencontainers.image.ref.name names
	# the image (giving --index-name the same name makes ctr 1.6 unpack the
	# index, whose blob it did not store: "content digest ...: not found").
	run "${CTR[@]}" images import "$image_tar"
	want_rc 0 || return 1
	run "${CTR[@]}" images ls -q
	want_out "^$IMAGE\$"
}
t "containerd: import the busybox OCI archive made by mkimage.sh" ctd_import ||
	skip_reason=${skip_reason:-"image import failed"}

ctd_run_output() {
	run "${CTR[@]}" run --rm "${CRUN[@]}" "$IMAGE" run1 sh -c 'echo hello from berth; echo to-stderr >&2'
	want_rc 0 && want_out '^hello from berth$' && want_err 'to-stderr'
}
t "containerd: ctr run --rm prints the container's stdout and stderr" ctd_run_output

ctd_run_exit() {
	run "${CTR[@]}" run --rm "${CRUN[@]}" "$IMAGE" run2 sh -c 'exit 3'
	want_rc 3
}
t "containerd: ctr run --rm exits with the container's exit code (3)" ctd_run_exit

ctd_run_stdin() {
	# One line, not cat: ctr does not close the task's stdin at EOF.
	run_stdin "piped-in-line" "${CTR[@]}" run --rm "${CRUN[@]}" "$IMAGE" run3 sh -c 'read l; echo "got:$l"'
	want_rc 0 && want_out '^got:piped-in-line$'
}
t "containerd: ctr run --rm passes stdin to the container" ctd_run_stdin

ctd_run_tty() {
	run_tty "${CTR[@]}" run --rm -t "${CRUN[@]}" "$IMAGE" tty1 sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; exit 4'
	want_rc 4 && want_out '^/dev/pts/[0-9]+$' && want_out '^stdin-is-tty$'
}
t "containerd: ctr run --rm -t gives the container a terminal" ctd_run_tty

# The detached container: sh as PID 1 exits 7 on SIGTERM.
ctd_run_detached() {
	run "${CTR[@]}" run -d "${CRUN[@]}" "$IMAGE" det1 \
		sh -c 'trap "exit 7" TERM; echo started; while true; do sleep 1; done'
	want_rc 0 || return 1
	poll 5 ctd_has_status det1 RUNNING || { why="task det1 is '$(ctd_status det1)', not RUNNING"; return 1; }
}
t "containerd: ctr run -d starts a detached task (RUNNING)" ctd_run_detached

ctd_exec() {
	run "${CTR[@]}" task exec --fifo-dir "$C/fifo" --exec-id e1 det1 sh -c 'echo exec-out; cat /proc/1/cmdline | tr "\0" " "; echo; exit 5'
	want_rc 5 && want_out '^exec-out$' && want_out '^sh -c trap'
}
t "containerd: ctr task exec runs in the container (output, exit code 5)" ctd_exec

ctd_exec_tty() {
	run_tty "${CTR[@]}" task exec -t --fifo-dir "$C/fifo" --exec-id e2 det1 sh -c 'tty; exit 6'
	want_rc 6 && want_out '^/dev/pts/[0-9]+$'
}
t "containerd: ctr task exec -t gives the process a terminal" ctd_exec_tty

ctd_ps() {
	local pid
	pid=$("${CTR[@]}" task ls 2>/dev/null | awk '$1 == "det1" {print $2}')
	run "${CTR[@]}" task ps det1
	want_rc 0 || return 1
	[[ -n $pid ]] || { why="no init pid for det1 in ctr task ls"; return 1; }
	want_out "^${pid}[[:space:]]" || { why="init pid $pid not listed"; return 1; }
}
t "containerd: ctr task ps lists the task's processes" ctd_ps

ctd_pause() {
	run "${CTR[@]}" task pause det1
	want_rc 0 || return 1
	poll 5 ctd_has_status det1 PAUSED || { why="task det1 is '$(ctd_status det1)', not PAUSED"; return 1; }
	# The shim reports PAUSED on its own once `pause` exits 0: look at the
	# cgroup (ctr's cgroupsPath is /<namespace>/<id>).
	poll 2 cgroup_frozen "$CNS/det1" || { why="cgroup $CNS/det1 is not frozen"; return 1; }
}
t "containerd: ctr task pause (PAUSED, cgroup frozen)" ctd_pause

ctd_resume() {
	run "${CTR[@]}" task resume det1
	want_rc 0 || return 1
	poll 5 ctd_has_status det1 RUNNING || { why="task det1 is '$(ctd_status det1)', not RUNNING"; return 1; }
	poll 2 cgroup_thawed "$CNS/det1" || { why="cgroup $CNS/det1 is not thawed"; return 1; }
	run "${CTR[@]}" task exec --fifo-dir "$C/fifo" --exec-id e3 det1 echo after-resume
	want_rc 0 && want_out '^after-resume$'
}
t "containerd: ctr task resume (RUNNING, cgroup thawed, exec works again)" ctd_resume


ctd_kill() {
	run "${CTR[@]}" task kill det1
	want_rc 0 || return 1
	poll 10 ctd_has_status det1 STOPPED || { why="task det1 is '$(ctd_status det1)', not STOPPED 10 s after SIGTERM"; return 1; }
}
t "containerd: ctr task kill delivers SIGTERM (task STOPPED)" ctd_kill

ctd_delete() {
	# ctr prints the exit code of a task that exited non-zero.
	run "${CTR[@]}" task delete det1
	want_rc 0 && want_err 'exit code 7' || return 1
	poll 5 ctd_no_task det1 || { why="task det1 still listed after delete"; return 1; }
}
t "containerd: ctr task delete of the stopped task (exit code 7 reported)" ctd_delete

ctd_container_rm() {
	run "${CTR[@]}" container rm det1
	want_rc 0 || return 1
	run "${CTR[@]}" container ls -q
	! grep -qx det1 <<<"$OUT" || { why="container det1 still listed"; return 1; }
}
t "containerd: ctr container rm" ctd_container_rm

ctd_force_delete() {
	run "${CTR[@]}" run -d "${CRUN[@]}" "$IMAGE" det2 sleep 300
	want_rc 0 || return 1
	poll 5 ctd_has_status det2 RUNNING || { why="task det2 is '$(ctd_status det2)', not RUNNING"; return 1; }
	run "${CTR[@]}" task kill -a -s SIGUSR1 det2
	want_rc 0 || return 1
	run "${CTR[@]}" task delete --force det2
	want_rc 0 || return 1
	poll 5 ctd_no_task det2 || { why="task det2 still listed after delete --force"; return 1; }
	run "${CTR[@]}" container rm det2
	want_rc 0
}
t "containerd: ctr task kill --all, then delete --force of a running task" ctd_force_delete

ctd_create_error() {
	run "${CTR[@]}" run --rm "${CRUN[@]}" "$IMAGE" bad1 /nonexistent-binary
	if [[ $RC == 0 ]]; then
		why="ctr run of /nonexistent-binary succeeded"
		return 1
	fi
	want_err 'nonexistent-binary' || return 1
	"${CTR[@]}" container rm bad1 >/dev/null 2>&1
	poll 5 ctd_no_task bad1 || { why="task bad1 still listed"; return 1; }
}
t "containerd: a create failure reaches the user (exec of /nonexistent-binary)" ctd_create_error

# Nothing of ours left: runtime state, cgroups, shims and containers,
# mounts (the shim mounts each task's rootfs under $C/state).
ctd_leftovers() {
	local left=() d
	if [[ -d $C/runc-root/$CNS ]] && [[ -n $(ls -A "$C/runc-root/$CNS") ]]; then
		left+=("runtime state: $(ls -A "$C/runc-root/$CNS" | tr '\n' ' ')")
	fi
	for d in /sys/fs/cgroup/*/"$CNS" /sys/fs/cgroup/"$CNS"; do
		[[ -d $d ]] || continue
		d=$(find "$d" -mindepth 1 -type d | tr '\n' ' ')
		[[ -n $d ]] && left+=("cgroups: $d")
	done
	d=$(procs_matching "$C/" "$ctd_pid")
	[[ -n $d ]] && left+=("processes: $d")
	d=$(procs_matching "/$CNS/" "$ctd_pid")
	[[ -n $d ]] && left+=("processes in a test cgroup: $d")
	d=$(mounts_under "$C")
	[[ -n $d ]] && left+=("mounts: $d")
	((${#left[@]} == 0)) && return 0
	why=$(printf '%s\n' "${left[@]}")
	return 1
}
ctd_nothing_left() {
	poll 5 ctd_leftovers
}
t "containerd: nothing left behind (runtime state, cgroups, shims, mounts)" ctd_nothing_left

ctd_shutdown() {
	LAST_CMD="kill -TERM $ctd_pid (containerd)"
	local pid=$ctd_pid
	ctd_stop
	ctd_rm_cgroups
	local d
	d=$(procs_matching "$C/")
	[[ -z $d ]] || { why="processes left after containerd stopped: $d"; return 1; }
	d=$(mounts_under "$C")
	[[ -z $d ]] || { why="mounts left: $d"; return 1; }
	for d in /sys/fs/cgroup/*/"$CNS" /sys/fs/cgroup/"$CNS"; do
		[[ -d $d ]] && { why="cgroup left: $d"; return 1; }
	done
	return 0
}
if [[ -n $ctd_pid ]]; then
	skip_reason=
	t "containerd: daemon stops; no process, mount or cgroup of the run remains" ctd_shutdown
fi
extra_diag() { :; }
