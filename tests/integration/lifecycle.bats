#!/usr/bin/env bats
# Container lifecycle as containerd's shim drives it: create, start, state,
# kill, delete, list, ps, pause/resume, and the edge cases around them.

load helpers

# A process that waits until the test touches $OUT/go, then exits 0.
wait_for_go='while [ ! -e /out/go ]; do sleep 0.05; done'

@test "create: the container waits in created; start runs the process" {
	cfg_sh 'echo ran > /out/ran'
	rt_create
	run rt state "$CID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" created status
	sleep 0.3
	[[ ! -e $OUT/ran ]] || fail "the user process ran before start"
	rt_start
	wait_for_file "$OUT/ran"
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 0 "exit code"
}

@test "create: --pid-file holds the host pid of init (no newline), same as state" {
	cfg_sh "$wait_for_go"
	rt_create
	local raw pid
	raw=$(cat "$TD/$CID.pid")
	[[ $raw =~ ^[0-9]+$ ]] || fail "pid file content [$raw]"
	[[ $(tail -c1 "$TD/$CID.pid" | od -An -c | tr -d ' ') != '\n' ]] || fail "pid file ends with a newline"
	pid=$raw
	assert_eq "$(state_field pid)" "$pid" "state pid"
	[[ -d /proc/$pid ]] || fail "no process $pid on the host"
	# init lives in its own pid namespace
	[[ $(readlink /proc/$pid/ns/pid) != $(host_ns pid) ]] || fail "init shares the host pid namespace"
	rt_start
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "create: init is reparented to the subreaper, not left as the runtime's child" {
	require_reaper
	cfg_sh "$wait_for_go"
	rt_create
	local pid ppid
	pid=$(cpid)
	ppid=$(awk '{print $4}' "/proc/$pid/stat")
	# The runtime has exited: the parent is the suite's subreaper (an ancestor).
	[[ $(tr '\0' ' ' <"/proc/$ppid/cmdline") == *subreaper* ]] || fail "init's parent is $ppid: $(tr '\0' ' ' <"/proc/$ppid/cmdline")"
	rt_start
	touch "$OUT/go"
	run wait_exit
	assert_eq "$output" 0 "exit code"
}

@test "state: ociVersion, id, status, pid, bundle, annotations, created" {
	cfg '.annotations = {"org.berth.test": "yes", "io.kubernetes.cri.container-type": "container"}'
	cfg_sh "$wait_for_go"
	rt_create
	run rt state "$CID"
	assert_success
	local s=$output
	jq -e . <<<"$s" >/dev/null || fail "state is not JSON: $s"
	assert_match "$(jq -r .ociVersion <<<"$s")" '^1\.' ociVersion
	assert_eq "$(jq -r .id <<<"$s")" "$CID" id
	assert_eq "$(jq -r .status <<<"$s")" created status
	assert_eq "$(jq -r .pid <<<"$s")" "$(cpid)" pid
	assert_eq "$(jq -r .bundle <<<"$s")" "$BUNDLE" bundle
	assert_eq "$(jq -r '.annotations["org.berth.test"]' <<<"$s")" yes annotations
	assert_match "$(jq -r .created <<<"$s")" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}' created
	rt_start
	assert_eq "$(state_field status)" running status
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "state: reads stopped as soon as the process has exited, and answers until delete" {
	cfg_sh "$wait_for_go; exit 7"
	rt_create
	rt_start
	assert_eq "$(state_field status)" running status
	touch "$OUT/go"
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 7 "exit code"
	# No grace period: the very first state after the exit says stopped.
	assert_eq "$(state_field status)" stopped "status right after exit"
	sleep 0.2
	run rt state "$CID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" stopped status
	run rt delete "$CID"
	assert_success
	run rt state "$CID"
	assert_failure
	assert_nothing_left
}

@test "state: an unknown id fails with a non-zero exit and an error in the log" {
	run rt state "nosuch-$CID"
	assert_failure
	[[ -n $(log_errors) ]] || fail "no error line in --log"
	assert_match "$(log_errors)" "nosuch-$CID|not exist|not found" "error"
}

@test "run: foreground run returns the container's exit code and passes stdout" {
	cfg_sh 'echo hello-from-run; echo to-stderr >&2; exit 3'
	run rt_run
	assert_eq "$status" 3 "exit code"
	assert_match "$output" hello-from-run
	assert_match "$output" to-stderr
	assert_nothing_left || true
	run rt state "$CID"
	assert_failure
}

@test "run: a container killed by a signal gives 128+signal" {
	cfg_sh 'echo ready > /out/ready; while :; do sleep 0.05; done'
	(
		rc=0
		rt_run >/dev/null 2>&1 || rc=$?
		echo "$rc" >"$TD/rc"
	) 3>&- &
	wait_for_file "$OUT/ready"
	run rt kill "$CID" KILL
	assert_success
	wait_for_file "$TD/rc"
	assert_eq "$(cat "$TD/rc")" 137 "exit code of run"
}

@test "run --detach: returns at once, the container keeps running" {
	cfg_sh "$wait_for_go; echo done > /out/done"
	rt run --detach --bundle "$BUNDLE" --pid-file "$TD/$CID.pid" "$CID" </dev/null >"$TD/run.out" 2>&1 3>&- ||
		fail "run --detach failed: $(cat "$TD/run.out")"
	assert_eq "$(state_field status)" running status
	touch "$OUT/go"
	wait_for_file "$OUT/done"
	wait_state stopped
}

@test "kill: numeric, named and SIG-prefixed signals reach init" {
	cfg_sh 'trap "echo USR1 >> /out/sig" USR1; trap "echo TERM >> /out/sig; exit 0" TERM; echo ready > /out/ready; while :; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	local s n=0
	for s in 10 USR1 SIGUSR1; do
		n=$((n + 1))
		run rt kill "$CID" "$s"
		assert_success
		wait_for 10 count_is "$OUT/sig" USR1 "$n" || fail "signal $s not delivered"
	done
	run rt kill "$CID" TERM
	assert_success
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 0 "exit code after TERM"
	grep -q TERM "$OUT/sig"
}

@test "kill: KILL (and SIGKILL/9) kills an init that ignores TERM" {
	cfg_sh "echo ready > /out/ready; $wait_for_go"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	# init has no TERM handler: the kernel ignores it for a pid-namespace init
	run rt kill "$CID" 15
	assert_success
	sleep 0.2
	assert_eq "$(state_field status)" running "status after TERM"
	run rt kill "$CID" KILL
	assert_success
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 137 "exit code"
	assert_eq "$(state_field status)" stopped status
}

@test "kill: default signal is TERM (kill ID without a signal)" {
	cfg_sh 'trap "echo TERM > /out/term; exit 0" TERM; echo ready > /out/ready; while :; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt kill "$CID"
	assert_success
	wait_for_file "$OUT/term"
	wait_exit >/dev/null
}

@test "kill --all: every process of the container is signalled" {
	cfg_sh 'sleep 1000 & sleep 1001 & echo ready > /out/ready; wait'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt ps --format json "$CID"
	assert_success
	local pids
	pids=$(jq -r '.[]' <<<"$output")
	[[ $(wc -w <<<"$pids") -ge 3 ]] || fail "ps listed [$pids]"
	run rt kill --all "$CID" 9
	assert_success
	local p
	for p in $pids; do
		wait_for 10 pid_gone "$p" || fail "process $p survived kill --all"
	done
	wait_state stopped
}

@test "kill: a stopped container cannot be signalled" {
	cfg_args true
	rt_create
	rt_start
	wait_exit >/dev/null
	wait_state stopped
	run rt kill "$CID" 15
	assert_failure
	[[ -n $(log_errors) ]] || fail "no error in --log"
}

@test "start: a running container cannot be started again" {
	cfg_sh "$wait_for_go"
	rt_create
	rt_start
	run rt start "$CID"
	assert_failure
	assert_eq "$(state_field status)" running status
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "delete: a running container is not deleted without --force" {
	cfg_sh "echo ready > /out/ready; $wait_for_go"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt delete "$CID"
	assert_failure
	assert_eq "$(state_field status)" running "status after refused delete"
	[[ -d /proc/$(cpid) ]] || fail "init died"
	run rt delete --force "$CID"
	assert_success
	run wait_exit
	run rt state "$CID"
	assert_failure
	assert_nothing_left
}

@test "delete: a created, never started container is deleted with its init" {
	rt_create
	local pid
	pid=$(cpid)
	run rt delete "$CID"
	assert_success
	wait_for 10 pid_gone "$pid" || fail "init $pid still alive"
	assert_nothing_left
}

@test "delete --force: succeeds on an unknown id and on an already deleted one" {
	run rt delete --force "never-created-$CID"
	assert_success
	cfg_args true
	rt_create
	rt_start
	wait_exit >/dev/null
	run rt delete "$CID"
	assert_success
	run rt delete --force "$CID"
	assert_success
	assert_nothing_left
}

@test "delete --force: a paused container is thawed, killed and removed" {
	cfg_sh "echo ready > /out/ready; $wait_for_go"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	local pid
	pid=$(cpid)
	run rt pause "$CID"
	assert_success
	run rt delete --force "$CID"
	assert_success
	wait_for 10 pid_gone "$pid" || fail "init $pid survived delete --force of a paused container"
	run rt state "$CID"
	assert_failure
	assert_nothing_left
}

@test "kill: a created (not started) container can be killed" {
	cfg_sh 'echo ran > /out/ran'
	rt_create
	run rt kill "$CID" KILL
	assert_success
	run wait_exit
	wait_state stopped
	[[ ! -e $OUT/ran ]] || fail "the process ran"
	run rt delete "$CID"
	assert_success
	assert_nothing_left
}

@test "pause/resume: resume of a running and pause of a stopped container fail" {
	cfg_sh "echo ready > /out/ready; $wait_for_go"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt resume "$CID"
	assert_failure
	assert_eq "$(state_field status)" running status
	touch "$OUT/go"
	wait_exit >/dev/null
	wait_state stopped
	run rt pause "$CID"
	assert_failure
}

@test "start: an unknown id fails" {
	run rt start "nosuch-$CID"
	assert_failure
	[[ -n $(log_errors) ]] || fail "no error in --log"
}

@test "create --no-new-keyring is accepted" {
	cfg_args true
	rt_create --no-new-keyring
	rt_start
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 0 "exit code"
}

@test "delete: an unknown id without --force fails" {
	run rt delete "never-created-$CID"
	assert_failure
}

@test "create: a duplicate id fails and leaves the first container alone" {
	cfg_sh "$wait_for_go"
	rt_create
	local pid
	pid=$(cpid)
	local b2=$TD/bundle2
	make_bundle "$b2" "$CID"
	local rc=0
	rt create --bundle "$b2" --pid-file "$TD/dup.pid" "$CID" </dev/null >"$TD/dup.out" 2>&1 3>&- || rc=$?
	[[ $rc -ne 0 ]] || fail "the duplicate create succeeded"
	assert_match "$(cat "$TD/dup.out")$(log_errors)" "exist|already|in use" "error"
	assert_eq "$(state_field status)" created status
	assert_eq "$(state_field pid)" "$pid" pid
	assert_eq "$(state_field bundle)" "$BUNDLE" bundle
	rt_start
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "list: shows the container, as text and as JSON" {
	cfg_sh "$wait_for_go"
	rt_create
	run rt list
	assert_success
	assert_match "$output" "$CID" "list output"
	run rt list --format json
	assert_success
	assert_eq "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .status' <<<"$output")" created "status in list"
	assert_eq "$(jq -r --arg id "$CID" '.[] | select(.id == $id) | .pid' <<<"$output")" "$(cpid)" "pid in list"
	run rt list -q
	assert_success
	assert_match "$output" "(^|$'\n')$CID($|$'\n')" "list -q"
	rt_start
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "ps --format json: lists the host pids of the container's processes" {
	cfg_sh 'sleep 1000 & echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done; kill %1'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt ps --format json "$CID"
	assert_success
	jq -e 'type == "array"' <<<"$output" >/dev/null || fail "not a JSON array: $output"
	local pids
	pids=$(jq -r '.[]' <<<"$output")
	grep -qx "$(cpid)" <<<"$pids" || fail "init $(cpid) not in [$pids]"
	local p ns
	for p in $pids; do
		ns=$(readlink "/proc/$p/ns/pid") || continue # exited meanwhile (the loop's sleep)
		assert_eq "$ns" "$(readlink "/proc/$(cpid)/ns/pid")" "pid namespace of $p"
	done
	[[ $(wc -l <<<"$pids") -ge 2 ]] || fail "expected init and sleep, got [$pids]"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "pause/resume: state says paused, processes are frozen, then running again" {
	cfg_sh 'i=0; while :; do i=$((i+1)); echo $i > /out/tick; sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/tick"
	run rt pause "$CID"
	assert_success
	assert_eq "$(state_field status)" paused status
	if cg_is_v2; then
		assert_eq "$(cat "$(cg_dir x)/cgroup.freeze")" 1 cgroup.freeze
	else
		assert_eq "$(cat "$(cg_dir freezer)/freezer.state")" FROZEN freezer.state
	fi
	local a b
	a=$(cat "$OUT/tick")
	sleep 0.4
	b=$(cat "$OUT/tick")
	assert_eq "$b" "$a" "tick while paused"
	run rt resume "$CID"
	assert_success
	assert_eq "$(state_field status)" running status
	wait_for 10 test "$(cat "$OUT/tick")" != "$b" || fail "no progress after resume"
}

@test "exec: into a paused container fails and leaves it paused" {
	cfg_sh "echo ready > /out/ready; $wait_for_go"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt pause "$CID"
	assert_success
	write_process "$TD/p.json" '.args = ["sh", "-c", "echo exec-ran > /out/exec"]'
	local rc=0
	rt_exec_detach "$TD/p.json" 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "exec into a paused container succeeded"
	assert_match "$(cat "$EXEC_ERR")$(log_errors)" "paused" "error"
	assert_eq "$(state_field status)" paused status
	run rt resume "$CID"
	assert_success
	[[ ! -e $OUT/exec ]] || fail "the exec'd process ran"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "--log-format json: error lines are JSON with level error, msg and time" {
	run rt state "nosuch-$CID"
	assert_failure
	[[ -s $LOG ]] || fail "nothing written to --log"
	local line
	while IFS= read -r line; do
		jq -e . <<<"$line" >/dev/null || fail "not a JSON line: $line"
	done <"$LOG"
	jq -e -s 'map(select(.level == "error")) | length >= 1' "$LOG" >/dev/null || fail "no level=error line: $(cat "$LOG")"
	jq -e -s 'map(select(.level == "error")) | last | (.msg | type == "string") and (.time | type == "string")' "$LOG" >/dev/null ||
		fail "error line lacks msg/time: $(cat "$LOG")"
}

@test "--debug is accepted" {
	cfg_args true
	run timeout 30 "$RUNTIME" --debug --root "$ROOT" --log "$LOG" --log-format json run --bundle "$BUNDLE" "$CID" </dev/null 3>&-
	assert_success
}

@test "--version prints the version" {
	run "$RUNTIME" --version
	assert_success
	assert_match "${lines[0]}" "version" "first line"
}

@test "features: prints the runtime-spec features document" {
	run "$RUNTIME" features
	assert_success
	jq -e . <<<"$output" >/dev/null || fail "not JSON: $output"
	assert_match "$(jq -r .ociVersionMin <<<"$output")" '^1\.' ociVersionMin
	assert_match "$(jq -r .ociVersionMax <<<"$output")" '^1\.' ociVersionMax
	local h
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		jq -e --arg h "$h" '.hooks | index($h)' <<<"$output" >/dev/null || fail "hook $h missing"
	done
	jq -e '.linux.namespaces | index("network") and index("pid") and index("mount")' <<<"$output" >/dev/null ||
		fail "namespaces missing"
	jq -e '.linux.capabilities | index("CAP_SYS_ADMIN")' <<<"$output" >/dev/null || fail "capabilities missing"
	jq -e '.mountOptions | index("nosuid") and index("rbind")' <<<"$output" >/dev/null || fail "mountOptions missing"
}

@test "spec: writes a default config.json that runs, and --rootless adds a user namespace" {
	local d=$TD/specdir
	mkdir -p "$d"
	(cd "$d" && "$RUNTIME" spec)
	jq -e . "$d/config.json" >/dev/null
	assert_match "$(jq -r .ociVersion "$d/config.json")" '^1\.' ociVersion
	assert_eq "$(jq -r .root.path "$d/config.json")" rootfs root.path
	jq -e '.process.args | length > 0' "$d/config.json" >/dev/null
	jq -e '.linux.namespaces | map(.type) | index("pid") and index("mount")' "$d/config.json" >/dev/null
	# refuses to overwrite
	run bash -c "cd '$d' && '$RUNTIME' spec"
	assert_failure
	# it runs with our rootfs and a command
	cp -a "$BUNDLE/rootfs" "$d/rootfs"
	jq --arg id "$CID" '.process.terminal = false | .process.args = ["berth-probe", "pid"]
		| .process.env += ["BERTH_ITEST=" + $id] | .linux.cgroupsPath = "/berth-test/" + $id' \
		"$d/config.json" >"$d/c.json" && mv "$d/c.json" "$d/config.json"
	run rt_run --bundle "$d"
	assert_success
	assert_eq "$output" "pid=1 ppid=0" "probe output"
	local r=$TD/rootless
	mkdir -p "$r"
	(cd "$r" && "$RUNTIME" spec --rootless)
	jq -e '.linux.namespaces | map(.type) | index("user")' "$r/config.json" >/dev/null || fail "no user namespace"
	jq -e '.linux.uidMappings | length > 0' "$r/config.json" >/dev/null || fail "no uidMappings"
}

@test "containerd 'ctr run --rm': create, start, exit 3, delete, delete --force" {
	require_reaper
	cfg_sh 'echo out; exit 3'
	rt create --bundle "$BUNDLE" --pid-file "$TD/$CID.pid" "$CID" </dev/null >"$TD/c.out" 2>&1 3>&- ||
		fail "create failed: $(cat "$TD/c.out")"
	rm -f "$BERTH_EXITDIR/$(cpid)"
	run rt start "$CID"
	assert_success
	run wait_exit
	assert_eq "$output" 3 "exit code"
	assert_eq "$(cat "$TD/c.out")" out "container stdout"
	run rt delete "$CID"
	assert_success
	run rt delete --force "$CID"
	assert_success
	assert_nothing_left
}

@test "CRI StopContainer: kill 15, kill --all 9, delete, delete --force" {
	cfg_sh "trap 'exit 0' TERM; echo ready > /out/ready; while :; do sleep 0.05; done"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	run rt kill "$CID" 15
	assert_success
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 0 "exit code"
	# kill --all on a container whose init is gone: containerd ignores the
	# result; it must not hang or break the container's state.
	rt kill --all "$CID" 9 || true
	run rt delete "$CID"
	assert_success
	run rt delete --force "$CID"
	assert_success
	assert_nothing_left
}

@test "--systemd-cgroup is accepted (falls back to cgroupfs with a warning)" {
	berth_only "runc needs systemd for --systemd-cgroup"
	cfg_args true
	run timeout 30 "$RUNTIME" --systemd-cgroup --root "$ROOT" --log "$LOG" --log-format json run --bundle "$BUNDLE" "$CID" </dev/null 3>&-
	assert_success
	grep -qi warn "$LOG" || fail "no warning logged: $(cat "$LOG")"
}
