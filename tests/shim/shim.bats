#!/usr/bin/env bats
# berth-shim: the contract of src/shim/shim.h, end to end.

load helpers

# a json-file line: exactly log, stream, time; time is RFC3339Nano UTC
VALID_ENTRY='(keys == ["log", "stream", "time"])
	and (.stream == "stdout" or .stream == "stderr")
	and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?Z$"))
	and ((.time | sub("\\.[0-9]+"; "") | fromdateiso8601) > 1600000000)'

@test "create, start, log with streams and times, exit code, nothing left" {
	cfg_sh 'echo out; echo err >&2; exit 3'
	shim
	ctl state | grep -q '"status":"created"'
	[[ -S $ST/control.sock && -S $ST/attach.sock ]]
	[[ ! -s $CLOG ]]
	ctl start
	assert_eq "$(wait_exit)" 3 "exit code"
	jq -e "$VALID_ENTRY" "$CLOG" >/dev/null
	assert_eq "$(jq -c '[.stream, .log]' "$CLOG" | sort | tr '\n' ' ')" \
		'["stderr","err\n"] ["stdout","out\n"] ' "log entries"
	jq -e '.signal == 0 and .oom_killed == false and (.finished_at | test("Z$"))' "$ST/exit" >/dev/null
	wait_for 5 no_leftovers
}

@test "the launcher returns only once the shim serves; the shim is detached" {
	cfg_sh 'sleep 30'
	shim
	local pid
	pid=$(cat "$ST/shim.pid")
	[[ $(ctl state | sed 's/^ok //' | jq -r .shim_pid) == "$pid" ]]
	# not our child, not in our session, a subreaper, stdio on /dev/null
	[[ $(awk '{print $4}' "/proc/$pid/stat") != "$$" ]]
	[[ $(awk '{print $6}' "/proc/$pid/stat") != "$(awk '{print $6}' /proc/$$/stat)" ]]
	[[ $(readlink "/proc/$pid/fd/1") == /dev/null ]]
	[[ $(readlink "/proc/$pid/cwd") == / ]]
	# the init is the shim's child
	local init
	init=$(ctl state | sed 's/^ok //' | jq -r .pid)
	assert_eq "$(awk '{print $4}' "/proc/$init/stat")" "$pid" "parent of the init"
	ctl kill KILL
	assert_eq "$(wait_exit)" 137
}

@test "kill through the control socket: 137 for KILL, the init's own code for TERM" {
	cfg_sh 'trap "exit 143" TERM; echo up; while :; do sleep 0.05; done'
	shim
	ctl start
	wait_for 5 grep -q up "$CLOG"
	ctl state | grep -q '"status":"running"'
	ctl kill TERM
	assert_eq "$(wait_exit)" 143
	assert_eq "$(jq .signal "$ST/exit")" 0
}

@test "kill KILL: exit 137, signal 9; requests after the end fail cleanly" {
	cfg_sh 'sleep 60'
	shim
	ctl start
	ctl kill SIGKILL
	assert_eq "$(wait_exit)" 137
	assert_eq "$(jq .signal "$ST/exit")" 9
	wait_for 5 test ! -e "$ST/control.sock"
	run "$CLIENT" ctl "$ST/control.sock" state
	[[ $status -ne 0 ]]
}

@test "control: bad requests get one error line" {
	cfg_sh 'sleep 60'
	shim
	run ctl bogus
	[[ $status -ne 0 && $output == "error unknown request \"bogus\"" ]]
	run ctl kill NOSUCHSIG
	[[ $output == "error usage: kill SIGNAL [all]" ]]
	run ctl resize 10 10
	[[ $output == "error the container has no terminal" ]]
	ctl kill KILL all
	assert_eq "$(wait_exit)" 137
}

@test "attach before start: stdout and stderr in stdcopy frames" {
	cfg_sh 'echo one; echo two >&2; echo three; exit 0'
	shim
	"$CLIENT" attach "$ST/attach.sock" "$TD/att" --framed --no-stdin &
	local client=$!
	wait_for 5 test -e "$TD/att.connected"
	ctl start
	wait $client
	assert_eq "$(cat "$TD/att.1")" $'one\nthree' "stdout frames"
	assert_eq "$(cat "$TD/att.2")" "two" "stderr frames"
	assert_eq "$(wait_exit)" 0
}

@test "several attach clients get the same output" {
	cfg_sh 'for i in 1 2 3; do echo line$i; done'
	shim
	"$CLIENT" attach "$ST/attach.sock" "$TD/a" --framed --no-stdin &
	local c1=$!
	"$CLIENT" attach "$ST/attach.sock" "$TD/b" --framed --no-stdin &
	local c2=$!
	wait_for 5 test -e "$TD/a.connected" -a -e "$TD/b.connected"
	ctl start
	wait $c1
	wait $c2
	assert_eq "$(cat "$TD/a.1")" $'line1\nline2\nline3'
	cmp "$TD/a.1" "$TD/b.1"
	wait_exit >/dev/null
}

@test "stdin: cat echoes what the client sends (before start too), and its EOF ends cat" {
	cfg_sh 'cat; echo stdin-closed >&2'
	shim --stdin
	printf 'line1\nline2\n' | "$CLIENT" attach "$ST/attach.sock" "$TD/att" --framed &
	local client=$!
	wait_for 5 test -e "$TD/att.connected"
	sleep 0.2
	ctl start
	wait $client
	assert_eq "$(cat "$TD/att.1")" $'line1\nline2'
	assert_eq "$(cat "$TD/att.2")" "stdin-closed"
	assert_eq "$(wait_exit)" 0
}

@test "stdin: --keep-stdin ignores a client's EOF; close-stdin ends it" {
	cfg_sh 'cat; echo closed'
	shim --stdin --keep-stdin
	ctl start
	printf 'a\n' | "$CLIENT" attach "$ST/attach.sock" "$TD/att" --framed &
	local client=$!
	wait_for 5 grep -q '"a\\n"' "$CLOG"
	sleep 0.3
	ctl state | grep -q '"status":"running"'
	ctl close-stdin
	assert_eq "$(wait_exit)" 0
	wait $client
	grep -q '"closed\\n"' "$CLOG"
}

@test "tty: raw output, resize before start shows in stty size, input echoes" {
	cfg '.process.terminal = true'
	cfg_sh 'stty size; read x; echo got:$x; exit 4'
	shim --tty --stdin
	[[ ! -e $ST/console.sock ]]
	ctl resize 33 111
	printf 'hello\n' | "$CLIENT" attach "$ST/attach.sock" "$TD/att" &
	local client=$!
	wait_for 5 test -e "$TD/att.connected"
	ctl start
	wait $client
	assert_eq "$(wait_exit)" 4
	grep -q $'^33 111\r$' "$TD/att"
	grep -q $'^got:hello\r$' "$TD/att"
	# no stdcopy header anywhere: the first byte is the echoed input
	assert_eq "$(head -c 5 "$TD/att")" hello
	jq -e "$VALID_ENTRY and .stream == \"stdout\"" "$CLOG" >/dev/null
	jq -r .log "$CLOG" | grep -q '^33 111'
}

@test "tty: resize while running" {
	cfg '.process.terminal = true'
	cfg_sh 'trap "stty size" WINCH; echo ready; while :; do sleep 0.05; done'
	shim --tty
	ctl start
	wait_for 5 grep -q ready "$CLOG"
	ctl resize 20 70
	wait_for 5 grep -q '"20 70' "$CLOG"
	ctl kill KILL
	wait_exit >/dev/null
}

@test "--tty must match process.terminal" {
	cfg_sh 'true'
	run shim --tty
	[[ $status -ne 0 && $output == *"process.terminal is false"* ]]
	wait_for 5 no_leftovers
}

@test "the shim survives its parent's SIGKILL; the container keeps running and logging" {
	cfg_sh 'while :; do echo tick; sleep 0.1; done'
	bash -c '"$@" && kill -9 $$' _ "$SHIM" --id "$ID" --bundle "$BUNDLE" --runtime-root "$RT" \
		--state-dir "$ST" --log "$CLOG" || true
	SHIM_PIDS+=("$(cat "$ST/shim.pid")")
	ctl start
	sleep 0.5
	pid_alive "${SHIM_PIDS[0]}"
	local n1 n2
	n1=$(wc -l <"$CLOG")
	sleep 0.5
	n2=$(wc -l <"$CLOG")
	((n2 > n1))
	ctl state | grep -q '"status":"running"'
	ctl kill KILL
	assert_eq "$(wait_exit)" 137
}

@test "creation failure: the launcher fails with one line naming the executable" {
	cfg '.process.args = ["/no/such-program"]'
	run shim
	[[ $status -ne 0 ]]
	assert_eq "${#lines[@]}" 1 "error lines"
	[[ ${lines[0]} == "berth-shim: "*"/no/such-program"* ]]
	[[ ! -e $ST/exit ]]
	wait_for 5 no_leftovers
}

@test "log rotation at a tiny max-size keeps FILE and FILE.1 (max-files 2)" {
	cfg_sh 'i=0; while [ $i -lt 40 ]; do echo "line $i"; i=$((i+1)); done'
	shim --log-max-size 300 --log-max-files 2
	ctl start
	wait_exit >/dev/null
	[[ -s $CLOG && -s $CLOG.1 && ! -e $CLOG.2 ]]
	jq -e "$VALID_ENTRY" "$CLOG" "$CLOG.1" >/dev/null
	# rotation happens before the entry that would go past max-size
	(($(stat -c %s "$CLOG.1") < 300 + 100))
	# the newest lines are in FILE, the ones before them in FILE.1
	assert_eq "$(jq -j .log "$CLOG" | tail -n1)" "line 39"
	local first
	first=$(jq -j .log "$CLOG" | head -n1)
	assert_eq "$(jq -j .log "$CLOG.1" | tail -n1)" "line $((${first#line } - 1))"
}

@test "log: a line over 16 KiB is split, an unterminated end is kept, odd bytes stay valid JSON" {
	cfg_sh 'head -c 20000 /dev/zero | tr "\0" x; echo; printf "tab\tquote\"<&>\001\377end"'
	shim
	ctl start
	wait_exit >/dev/null
	jq -e "$VALID_ENTRY" "$CLOG" >/dev/null
	assert_eq "$(jq -r '.log | length' "$CLOG" | tr '\n' ' ')" "16384 3617 18 " "entry lengths"
	assert_eq "$(jq -r '.log | endswith("\n")' "$CLOG" | tr '\n' ' ')" "false true false "
	assert_eq "$(sed -n 3p "$CLOG" | jq -r .log)" $'tab\tquote"<&>\001\uFFFDend'
	grep -q '\\u003c\\u0026\\u003e' "$CLOG"
}

@test "OOM kill in the container's memory cgroup is recorded" {
	cfg '.linux.resources.memory = {"limit": 16777216}'
	cfg_sh 'dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null; exit 0'
	shim
	ctl start
	assert_eq "$(wait_exit)" 0
	assert_eq "$(jq .oom_killed "$ST/exit")" true
}

@test "a stale exit record and socket of an earlier run are replaced" {
	mkdir -p "$ST"
	echo '{"exit_code":99}' >"$ST/exit"
	: >"$ST/control.sock"
	cfg_sh 'exit 0'
	shim
	[[ ! -e $ST/exit ]]
	ctl start
	assert_eq "$(wait_exit)" 0
}

@test "a second shim for a live container is refused and leaves the first alone" {
	cfg_sh 'sleep 60'
	shim
	run shim
	[[ $status -ne 0 && $output == *"already serves"* ]]
	ctl state | grep -q '"status":"created"'
	[[ -s $ST/shim.pid ]]
	ctl kill KILL
	assert_eq "$(wait_exit)" 137
}

@test "tty: a client's EOF or leaving does not end the input; the next client types on" {
	cfg '.process.terminal = true'
	cfg_sh 'while read x; do echo got:$x; done; echo input-ended'
	shim --tty --stdin
	ctl start
	# the first client half-closes after its line, then goes (a detach)
	printf 'one\n' | "$CLIENT" attach "$ST/attach.sock" "$TD/a1" &
	local c1=$!
	wait_for 5 grep -q got:one "$CLOG"
	kill $c1
	wait $c1 || true
	printf 'two\n' | "$CLIENT" attach "$ST/attach.sock" "$TD/a2" &
	local c2=$!
	wait_for 5 grep -q got:two "$CLOG" || fail "the second client's input did not reach the shell"
	run grep -q input-ended "$CLOG"
	[[ $status -ne 0 ]] || fail "the container's input ended"
	ctl kill KILL
	assert_eq "$(wait_exit)" 137
	wait $c2
}
