# Sourced by run.sh: $RUNTIME under Podman 4 (podman --runtime $RT).
#
# Private storage (--root/--runroot/--tmpdir in $T/podman, vfs driver, file
# locks), a containers.conf of our own (CONTAINERS_CONF) and storage.conf
# (CONTAINERS_STORAGE_CONF), the cgroupfs manager, file events, and
# --network none on every container.  Root here lacks CAP_SYS_RESOURCE, so
# Podman's default nofile/nproc ulimits fail under any runtime:
# containers.conf sets default_ulimits = [].
#
# Podman passes the runtime no --root (runc uses /run/runc, berth-runtime
# /run/berth-runtime); `--runtime-flag root=...` is not used because Podman
# 4.3's cleanup process (`podman container cleanup`, which calls
# `delete --force`) does not pass runtime flags, so the state would leak.

P=$T/podman
mkdir -p "$P/tmp" "$P/netconf" "$P/cids"
cat >"$P/containers.conf" <<EOF
[containers]
default_ulimits = []
netns = "none"
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$P/events.log"
tmp_dir = "$P/tmp"
volume_path = "$P/volumes"
static_dir = "$P/root/libpod"
lock_type = "file"

[network]
network_config_dir = "$P/netconf"
EOF
cat >"$P/storage.conf" <<EOF
[storage]
driver = "vfs"
runroot = "$P/runroot"
graphroot = "$P/root"
EOF
export CONTAINERS_CONF=$P/containers.conf CONTAINERS_STORAGE_CONF=$P/storage.conf
PM=(podman --root "$P/root" --runroot "$P/runroot" --tmpdir "$P/tmp" --storage-driver vfs
	--cgroup-manager cgroupfs --events-backend file --runtime "$RT")
PRUN=(--network none)
pm_cidn=0
# pm_cid: set CID to a new --cidfile path; every container id of the run is
# kept in $P/cids for the leftover checks.
pm_cid() {
	pm_cidn=$((pm_cidn + 1))
	CID=$P/cids/$pm_cidn
}

pm_diag() {
	[[ -f $T/trace.log ]] && diag "runtime calls (last 12):" "$(tail -n 12 "$T/trace.log")"
}
extra_diag() { pm_diag; }

pm_cleanup() {
	local f id d
	[[ -d $P/root ]] || return 0
	timeout 20 "${PM[@]}" rm -fa -t 0 >/dev/null 2>&1
	kill_pids $(procs_matching "$P/" | awk '{print $1}')
	# With the cgroupfs manager Podman puts each container in
	# libpod_parent/libpod-<id>.  Containers left running, then their
	# runtime state (Podman gives the runtime no --root).
	for f in "$P"/cids/*; do
		[[ -s $f ]] || continue
		id=$(<"$f")
		cg_purge "libpod_parent/libpod-$id"
		for d in /run/runc/"$id" /run/berth-runtime/"$id" /run/crun/"$id"; do
			[[ -e $d ]] || continue
			timeout 10 "$RUNTIME" delete --force "$id" >/dev/null 2>&1
			[[ -e $d ]] && rm -rf "$d"
		done
	done
}
cleanup_hooks+=(pm_cleanup)

pm_status() { "${PM[@]}" inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
pm_has_status() { [[ $(pm_status "$1") == "$2" ]]; }

# ---- the tests ---------------------------------------------------------------
if [[ -n ${pkg_missing[podman]:-} ]]; then
	tap_not_ok "podman: package installed" "apt-get could not install podman"
	skip_reason="podman not installed"
fi

pm_load() {
	run "${PM[@]}" load -i "$image_tar"
	want_rc 0 || return 1
	run "${PM[@]}" images --format '{{.Repository}}:{{.Tag}}'
	want_out "^$IMAGE\$"
}
t "podman: load the busybox OCI archive made by mkimage.sh ($(podman --version 2>/dev/null | awk '{print $3}'))" pm_load ||
	skip_reason=${skip_reason:-"image load failed"}

pm_run_output() {
	pm_cid
	run "${PM[@]}" run --rm --cidfile "$CID" "${PRUN[@]}" "$IMAGE" sh -c 'echo hello from berth; echo to-stderr >&2'
	want_rc 0 && want_out '^hello from berth$' && want_err 'to-stderr'
}
t "podman: run --rm prints the container's stdout and stderr" pm_run_output

pm_run_exit() {
	pm_cid
	run "${PM[@]}" run --rm --cidfile "$CID" "${PRUN[@]}" "$IMAGE" sh -c 'exit 3'
	want_rc 3
}
t "podman: run --rm exits with the container's exit code (3)" pm_run_exit

pm_run_stdin() {
	pm_cid
	run_stdin "piped-in-line" "${PM[@]}" run --rm -i --cidfile "$CID" "${PRUN[@]}" "$IMAGE" sh -c 'read l; echo "got:$l"'
	want_rc 0 && want_out '^got:piped-in-line$'
}
t "podman: run --rm -i passes stdin to the container" pm_run_stdin

pm_run_tty() {
	pm_cid
	run_tty "${PM[@]}" run --rm -it --cidfile "$CID" "${PRUN[@]}" "$IMAGE" sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; exit 4'
	want_rc 4 && want_out '^/dev/pts/[0-9]+$' && want_out '^stdin-is-tty$'
}
t "podman: run --rm -it gives the container a terminal" pm_run_tty

pm_run_detached() {
	pm_cid
	pm_det1=$pm_cidn
	run "${PM[@]}" run -d --name det1 --cidfile "$CID" "${PRUN[@]}" "$IMAGE" \
		sh -c 'trap "echo got-term; exit 7" TERM; echo started; while true; do sleep 1; done'
	want_rc 0 || return 1
	poll 5 pm_has_status det1 running || { why="det1 is '$(pm_status det1)', not running"; return 1; }
	run "${PM[@]}" ps --format '{{.Names}} {{.Status}}'
	want_out '^det1 Up'
}
t "podman: run -d starts a detached container (running)" pm_run_detached

pm_exec() {
	run "${PM[@]}" exec det1 sh -c 'echo exec-out; cat /proc/1/cmdline | tr "\0" " "; echo; exit 5'
	want_rc 5 && want_out '^exec-out$' && want_out '^sh -c trap'
}
t "podman: exec runs in the container (output, exit code 5)" pm_exec

pm_exec_tty() {
	run_tty "${PM[@]}" exec -it det1 sh -c 'tty; [ -t 0 ] && echo stdin-is-tty; exit 6'
	want_rc 6 && want_out '^/dev/pts/[0-9]+$' && want_out '^stdin-is-tty$'
}
t "podman: exec -it gives the process a terminal" pm_exec_tty

pm_pause() {
	run "${PM[@]}" pause det1
	want_rc 0 || return 1
	pm_has_status det1 paused || { why="det1 is '$(pm_status det1)', not paused"; return 1; }
	# Podman records "paused" once `pause` exits 0: look at the cgroup.
	local cg
	cg=libpod_parent/libpod-$(<"$P/cids/$pm_det1")
	poll 2 cgroup_frozen "$cg" || { why="cgroup $cg is not frozen"; return 1; }
	run "${PM[@]}" unpause det1
	want_rc 0 || return 1
	pm_has_status det1 running || { why="det1 is '$(pm_status det1)', not running"; return 1; }
	poll 2 cgroup_thawed "$cg" || { why="cgroup $cg is not thawed"; return 1; }
	run "${PM[@]}" exec det1 echo after-unpause
	want_rc 0 && want_out '^after-unpause$'
}
t "podman: pause and unpause (cgroup frozen, thawed)" pm_pause

pm_stop() {
	local s=$SECONDS
	run "${PM[@]}" stop -t 10 det1
	want_rc 0 || return 1
	((SECONDS - s < 8)) || { why="stop took $((SECONDS - s)) s: SIGTERM not delivered, killed after the timeout?"; return 1; }
	run "${PM[@]}" inspect -f '{{.State.Status}} {{.State.ExitCode}}' det1
	want_out '^exited 7$' || return 1
	run "${PM[@]}" logs det1
	want_out '^got-term$'
}
t "podman: stop delivers SIGTERM (exited, exit code 7)" pm_stop

pm_rm() {
	run "${PM[@]}" rm det1
	want_rc 0 || return 1
	run "${PM[@]}" ps -a --format '{{.Names}}'
	! grep -qx det1 <<<"$OUT" || { why="det1 still listed"; return 1; }
}
t "podman: rm of the stopped container" pm_rm

pm_rm_force() {
	pm_cid
	run "${PM[@]}" run -d --name det2 --cidfile "$CID" "${PRUN[@]}" "$IMAGE" sleep 300
	want_rc 0 || return 1
	poll 5 pm_has_status det2 running || { why="det2 is '$(pm_status det2)', not running"; return 1; }
	run "${PM[@]}" rm -f -t 2 det2
	want_rc 0 || return 1
	run "${PM[@]}" ps -a --format '{{.Names}}'
	! grep -qx det2 <<<"$OUT" || { why="det2 still listed"; return 1; }
}
t "podman: rm -f of a running container" pm_rm_force

pm_create_error() {
	pm_cid
	run "${PM[@]}" run --rm --cidfile "$CID" "${PRUN[@]}" "$IMAGE" /nonexistent-binary
	if [[ $RC == 0 ]]; then
		why="podman run of /nonexistent-binary succeeded"
		return 1
	fi
	want_err 'nonexistent-binary'
}
t "podman: a create failure reaches the user (exec of /nonexistent-binary)" pm_create_error

# Nothing of ours left: containers, runtime state (default roots), cgroups,
# conmon and container processes, mounts (Podman mounts each container's
# /dev/shm under its storage).
pm_leftovers() {
	local left=() f id d
	d=$("${PM[@]}" ps -aq 2>/dev/null | tr '\n' ' ')
	[[ -n $d ]] && left+=("containers: $d")
	for f in "$P"/cids/*; do
		[[ -s $f ]] || continue
		id=$(<"$f")
		for d in /run/runc/"$id" /run/berth-runtime/"$id" /run/crun/"$id"; do
			[[ -e $d ]] && left+=("runtime state: $d")
		done
		for d in /sys/fs/cgroup/*/libpod_parent/libpod-"$id" /sys/fs/cgroup/libpod_parent/libpod-"$id"; do
			[[ -d $d ]] && left+=("cgroup: $d")
		done
		d=$(procs_matching "$id")
		[[ -n $d ]] && left+=("processes: $d")
	done
	d=$(procs_matching "$P/")
	[[ -n $d ]] && left+=("processes: $d")
	d=$(mounts_under "$P")
	[[ -n $d ]] && left+=("mounts: $d")
	((${#left[@]} == 0)) && return 0
	why=$(printf '%s\n' "${left[@]}")
	return 1
}
pm_nothing_left() {
	LAST_CMD="(leftover check)"
	poll 5 pm_leftovers
}
t "podman: nothing left behind (containers, runtime state, cgroups, conmon, mounts)" pm_nothing_left
extra_diag() { :; }
