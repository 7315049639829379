#!/usr/bin/env bats
# exec as containerd drives it (--process FILE --detach --pid-file) and the
# inline form (args, --env, --cwd, --user).

load helpers

# A container that runs until the test touches $OUT/go.
start_waiting_container() {
	cfg_sh 'echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
}

# rt_exec_fg ARGS...: foreground inline exec; output printed afterwards.
rt_exec_fg() {
	local rc=0
	rt exec "$@" </dev/null >"$TD/exec-fg.out" 2>&1 3>&- || rc=$?
	cat "$TD/exec-fg.out"
	return $rc
}

@test "exec --process --detach --pid-file: joins every namespace of the container" {
	start_waiting_container
	write_process "$TD/p.json" '.args = ["sh", "-c", "berth-probe ns > /out/exec.ns; echo exec-stdout; echo exec-stderr >&2; berth-probe pid > /out/exec.pid; exit 4"]'
	rt_exec_detach "$TD/p.json"
	local epid
	epid=$(cat "$EXEC_PIDFILE")
	[[ $epid =~ ^[0-9]+$ ]] || fail "exec pid file holds [$epid]"
	[[ $epid != "$(cpid)" ]] || fail "exec pid is init's pid"
	wait_for_file "$OUT/exec.pid"
	local pid
	pid=$(cpid)
	local t
	for t in ipc mnt net pid uts cgroup; do
		assert_eq "$(awk -v t="$t" '$1 == t {print $2}' "$OUT/exec.ns")" "$(readlink "/proc/$pid/ns/$t")" "$t namespace of the exec'd process"
	done
	assert_match "$(cat "$OUT/exec.pid")" '^pid=[0-9]+ ' "exec pid line"
	# without a terminal the runtime's stdio are the process's
	assert_eq "$(cat "$EXEC_OUT")" exec-stdout "exec stdout"
	assert_eq "$(cat "$EXEC_ERR")" exec-stderr "exec stderr"
	[[ $(cat "$OUT/exec.pid") != "pid=1 "* ]] || fail "exec'd process is pid 1"
	if has_reaper; then
		# The exec'd process is reparented to the shim (our subreaper), which reaps it.
		wait_for 10 test -s "$BERTH_EXITDIR/$epid" || fail "exec'd process $epid was not reaped by the subreaper"
		assert_eq "$(cat "$BERTH_EXITDIR/$epid")" 4 "exec exit code"
	fi
	assert_eq "$(state_field status)" running "container status"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "exec --process: process fields (user, groups, cwd, env, caps, rlimits, nnp) apply" {
	start_waiting_container
	write_process "$TD/p.json" '
		.args = ["sh", "-c", "berth-probe ids; berth-probe cwd; berth-probe env FOO; berth-probe caps; berth-probe rlimit NOFILE; berth-probe nnp; berth-probe umask"]
		| .user = {"uid": 1000, "gid": 1000, "additionalGids": [5, 100], "umask": 63}
		| .cwd = "/home/user"
		| .env += ["FOO=exec-env"]
		| .capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"], "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
		| .rlimits = [{"type": "RLIMIT_NOFILE", "soft": 50, "hard": 60}]
		| .noNewPrivileges = true'
	rt_exec_detach "$TD/p.json"
	wait_for 10 grep -q '^[0-9]' "$EXEC_OUT" || fail "no output: $(cat "$EXEC_OUT" "$EXEC_ERR")"
	wait_for 10 count_is "$EXEC_OUT" . 11 || fail "incomplete output: $(cat "$EXEC_OUT")"
	local out
	out=$(cat "$EXEC_OUT")
	assert_match "$out" 'uid=1000 gid=1000 euid=1000 egid=1000 groups=(5,100|100,5)' ids
	assert_match "$out" $'\n/home/user\n' cwd
	assert_match "$out" $'\nexec-env\n' env
	assert_match "$out" 'CapEff: 0000000000000020' CapEff
	assert_match "$out" 'CapBnd: 0000000000000020' CapBnd
	assert_match "$out" 'CapAmb: 0000000000000020' CapAmb
	assert_match "$out" $'\n50 60\n' rlimit
	assert_match "$out" $'\n1\n' "NoNewPrivs"
	# runc 1.1 ignores user.umask for exec (it applies it to init only).
	is_runc || assert_match "$out" $'\n0077' umask
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "exec --process: the exec'd process joins the container's cgroup" {
	start_waiting_container
	write_process "$TD/p.json" '.args = ["berth-probe", "sleep", "100"]'
	rt_exec_detach "$TD/p.json"
	local epid
	epid=$(cat "$EXEC_PIDFILE")
	assert_eq "$(cat "/proc/$epid/cgroup")" "$(cat "/proc/$(cpid)/cgroup")" "cgroup of the exec'd process"
	run rt ps --format json "$CID"
	assert_success
	jq -e --argjson p "$epid" 'index($p) != null' <<<"$output" >/dev/null || fail "ps does not list $epid: $output"
	run rt kill --all "$CID" 9
	assert_success
	wait_for 10 pid_gone "$epid" || fail "exec'd process survived kill --all"
}

@test "exec: inline args in the foreground pass stdout and the exit code" {
	start_waiting_container
	run rt_exec_fg "$CID" sh -c 'echo inline-out; echo inline-err >&2; exit 5'
	assert_eq "$status" 5 "exit code"
	assert_match "$output" inline-out
	assert_match "$output" inline-err
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "exec: --env, --cwd and --user apply to an inline exec" {
	start_waiting_container
	run rt_exec_fg --env FOO=from-flag --cwd /tmp --user 1000:1000 "$CID" sh -c 'echo "$FOO"; berth-probe cwd; berth-probe ids'
	assert_success
	assert_eq "${lines[0]}" from-flag env
	assert_eq "${lines[1]}" /tmp cwd
	assert_match "${lines[2]}" '^uid=1000 gid=1000 ' ids
	# The container's own env is kept
	run rt_exec_fg "$CID" berth-probe env BERTH_ITEST
	assert_success
	assert_eq "$output" "$CID" "inherited env"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "exec: into a stopped container fails" {
	cfg_args true
	rt_create
	rt_start
	wait_exit >/dev/null
	wait_state stopped
	write_process "$TD/p.json" '.args = ["sh", "-c", "echo ran > /out/ran"]'
	local rc=0
	rt_exec_detach "$TD/p.json" 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "exec into a stopped container succeeded"
	[[ ! -e $OUT/ran ]] || fail "the process ran"
	[[ -n $(log_errors) ]] || fail "no error in --log"
}

@test "exec: a missing executable fails with an error naming it; the container keeps running" {
	start_waiting_container
	write_process "$TD/p.json" '.args = ["/no/such/binary"]'
	local rc=0
	rt_exec_detach "$TD/p.json" 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "exec of a missing binary succeeded"
	assert_match "$(cat "$EXEC_ERR")$(log_errors)" "/no/such/binary" "error"
	assert_eq "$(state_field status)" running "container status"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "exec: an unknown container id fails" {
	write_process "$TD/p.json" '.args = ["true"]'
	run rt exec --process "$TD/p.json" "nosuch-$CID"
	assert_failure
}
