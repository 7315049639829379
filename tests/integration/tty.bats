#!/usr/bin/env bats
# Terminals (--console-socket, the pty master over SCM_RIGHTS, consoleSize)
# and fd passing (--preserve-fds, LISTEN_FDS).

load helpers

# start_recvtty NAME [INPUT]: listen on $TD/NAME.sock; output in $TD/NAME.out.
start_recvtty() {
	local name=$1
	local bin
	bin=$(helper_bin recvtty) || return 1
	if [[ $# -gt 1 ]]; then
		"$bin" "$TD/$name.sock" "$TD/$name.out" "$2" </dev/null >"$TD/$name.log" 2>&1 3>&- &
	else
		"$bin" "$TD/$name.sock" "$TD/$name.out" </dev/null >"$TD/$name.log" 2>&1 3>&- &
	fi
	RECVTTY_PID=$!
	RECVTTY_PIDS+=("$RECVTTY_PID")
	wait_for 10 test -S "$TD/$name.sock" || fail "recvtty did not listen"
}

# wait for recvtty to see EOF on the master (every slave fd closed).
wait_recvtty() {
	local pid=${1:-$RECVTTY_PID} rc=0
	wait_for 15 pid_gone "$pid" || fail "recvtty $pid still reading"
	wait "$pid" || rc=$?
	return $rc
}

setup() {
	berth_setup
	RECVTTY_PIDS=()
}

teardown() {
	local p
	for p in "${RECVTTY_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	berth_teardown
}

@test "terminal: create sends the pty master over --console-socket; the process has a tty" {
	cfg '.process.terminal = true'
	cfg_sh 'berth-probe tty; echo hello-from-tty; berth-probe stat /dev/console'
	start_recvtty console
	rt_create --console-socket "$TD/console.sock"
	rt_start
	wait_exit >/dev/null
	wait_recvtty
	assert_match "$(cat "$TD/console.out.info")" '^ptn=[0-9]+ ' "a pty master was received"
	local out
	out=$(tr -d '\r' <"$TD/console.out")
	assert_match "$out" 'fd0=tty fd1=tty fd2=tty' "stdio are the tty"
	assert_match "$out" 'hello-from-tty' "output through the pty"
	# /dev/console is the container's pty (major 136)
	assert_match "$out" 'c [0-7]+ [0-9]+ [0-9]+ 136:[0-9]+' "/dev/console"
	# The runtime's own stdout saw nothing of the container.
	! grep -q hello-from-tty "$TD/$CID.stdout" || fail "container output leaked to the runtime's stdout"
}

@test "terminal: consoleSize is applied to the pty" {
	cfg '.process.terminal = true | .process.consoleSize = {"height": 40, "width": 123}'
	cfg_args berth-probe tty
	start_recvtty console
	rt_create --console-socket "$TD/console.sock"
	rt_start
	wait_exit >/dev/null
	wait_recvtty
	assert_match "$(tr -d '\r' <"$TD/console.out")" 'size=40x123' "window size"
}

@test "terminal: input written to the master reaches the process" {
	cfg '.process.terminal = true'
	cfg_sh 'read line; echo "got:$line"'
	start_recvtty console $'typed-input\n'
	rt_create --console-socket "$TD/console.sock"
	rt_start
	run wait_exit
	wait_recvtty
	assert_match "$(tr -d '\r' <"$TD/console.out")" 'got:typed-input' "echoed input"
}

@test "terminal: create with terminal true and no --console-socket fails" {
	cfg '.process.terminal = true'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded without a console socket"
	assert_nothing_left
}

@test "terminal: exec --tty --console-socket in a container without a terminal" {
	cfg_sh 'echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	start_recvtty exec
	write_process "$TD/p.json" '.terminal = true | .args = ["sh", "-c", "berth-probe tty; echo exec-tty"]'
	rt_exec_detach "$TD/p.json" --console-socket "$TD/exec.sock"
	wait_recvtty
	local out
	out=$(tr -d '\r' <"$TD/exec.out")
	assert_match "$out" 'fd0=tty fd1=tty fd2=tty' "stdio of the exec'd process"
	assert_match "$out" 'exec-tty' output
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "terminal: inline exec -t --console-socket" {
	cfg_sh 'echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	start_recvtty exec
	rt exec -t --console-socket "$TD/exec.sock" --detach --pid-file "$TD/e.pid" "$CID" berth-probe tty \
		</dev/null >"$TD/e.out" 2>&1 3>&- || fail "exec failed: $(cat "$TD/e.out")"
	wait_recvtty
	assert_match "$(tr -d '\r' <"$TD/exec.out")" 'fd0=tty fd1=tty fd2=tty' "stdio of the exec'd process"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "--preserve-fds N passes fds 3..3+N-1 to the container" {
	echo from-host-fd4 >"$TD/fd4"
	cfg_sh 'echo via-fd3 >&3; cat <&4; berth-probe fds | cut -d" " -f1 | tr "\n" " "'
	run bash -c 'timeout 30 "$0" --root "$1" --log "$2" --log-format json run --preserve-fds 2 --bundle "$3" "$4" 3>"$5/fd3" 4<"$5/fd4" </dev/null 5>"$5/fd5"' \
		"$RUNTIME" "$ROOT" "$LOG" "$BUNDLE" "$CID" "$TD"
	assert_success
	assert_eq "$(cat "$TD/fd3")" via-fd3 "written through fd 3"
	assert_eq "${lines[0]}" from-host-fd4 "read through fd 4"
	# fd 5 was not preserved
	assert_eq "${lines[1]}" "0 1 2 3 4 " "fds in the container"
}

@test "without --preserve-fds no fd beyond 2 reaches the container" {
	cfg_sh 'berth-probe fds | cut -d" " -f1 | tr "\n" " "'
	run bash -c 'timeout 30 "$0" --root "$1" --log "$2" --log-format json run --bundle "$3" "$4" 3>"$5/fd3" 4>"$5/fd4" 7>"$5/fd7" </dev/null' \
		"$RUNTIME" "$ROOT" "$LOG" "$BUNDLE" "$CID" "$TD"
	assert_success
	assert_eq "$output" "0 1 2 " "fds in the container"
}

@test "LISTEN_FDS: socket-activation fds are passed with LISTEN_FDS set in the container" {
	echo listen-fd-content >"$TD/lfd"
	cfg_sh 'echo "LISTEN_FDS=$LISTEN_FDS"; cat <&3; berth-probe fds | cut -d" " -f1 | tr "\n" " "'
	# LISTEN_PID must be the runtime's own pid: exec it from the subshell.
	run bash -c 'export LISTEN_FDS=1 LISTEN_PID=$$; exec "$0" --root "$1" --log "$2" --log-format json run --bundle "$3" "$4" 3<"$5/lfd" </dev/null' \
		"$RUNTIME" "$ROOT" "$LOG" "$BUNDLE" "$CID" "$TD"
	assert_success
	assert_eq "${lines[0]}" LISTEN_FDS=1 "LISTEN_FDS in the container"
	assert_eq "${lines[1]}" listen-fd-content "read through fd 3"
	assert_eq "${lines[2]}" "0 1 2 3 " "fds in the container"
}
