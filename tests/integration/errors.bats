#!/usr/bin/env bats
# Errors in the container's setup: one line naming the thing and the reason,
# a non-zero exit, the same error in the JSON log; and nothing left behind
# (state dir, cgroup, mounts, processes).  Then containerd's cleanup call,
# `delete --force`, succeeds, and the id can be used again.

load helpers

# create_must_fail REGEX: create fails; stderr has exactly one line, and it
# and the last error in --log match REGEX; nothing is left; then delete
# --force succeeds as containerd calls it.
create_must_fail() {
	local re=$1 rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded" || return 1
	local err
	err=$(grep -v '^[[:space:]]*$' "$TD/$CID.stderr" || true)
	[[ -n $err ]] || fail "nothing on stderr" || return 1
	assert_eq "$(wc -l <<<"$err")" 1 "number of lines on stderr: [$err]" || return 1
	assert_match "$err" "$re" "stderr" || return 1
	local logerr
	logerr=$(log_errors | tail -n1)
	assert_match "$logerr" "$re" "last error in --log" || return 1
	assert_nothing_left || return 1
	run rt delete --force "$CID"
	assert_success
}

@test "error: missing executable" {
	cfg_args /no/such/program
	create_must_fail '/no/such/program'
	assert_match "$(log_errors)" '[Nn]o such file|not found|ENOENT' reason
}

@test "error: an executable not found in PATH" {
	cfg_args no-such-program-in-path
	create_must_fail 'no-such-program-in-path'
}

@test "error: a program that is not executable" {
	cfg_args /bin/not-executable
	create_must_fail '/bin/not-executable'
	assert_match "$(log_errors)" '[Pp]ermission denied|EACCES' reason
}

@test "error: missing cwd" {
	berth_only "runc creates a missing cwd"
	cfg '.process.cwd = "/no/such/dir"'
	create_must_fail '/no/such/dir'
}

@test "error: a cwd that cannot be a directory" {
	cfg '.process.cwd = "/bin/busybox/sub"'
	create_must_fail '/bin/busybox'
}

@test "error: a bind mount whose source does not exist" {
	cfg '.mounts += [{"destination": "/mnt/x", "type": "bind", "source": $s, "options": ["rbind"]}]' --arg s "$TD/no-such-source"
	create_must_fail "$TD/no-such-source"
}

@test "error: a mount of an unknown filesystem type" {
	cfg '.mounts += [{"destination": "/mnt/bad-fs", "type": "nosuchfs", "source": "none"}]'
	create_must_fail '/mnt/bad-fs'
}

@test "error: a uid not mapped in the user namespace" {
	cfg '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 1000}]
		| .process.user.uid = 5000
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	if is_runc; then
		create_must_fail 'uid'
	else
		create_must_fail '5000'
	fi
}

@test "error: an unknown capability is rejected" {
	berth_only "runc 1.1 ignores unknown capabilities with a warning"
	cfg '.process.capabilities.bounding += ["CAP_BERTH_NOPE"]'
	create_must_fail 'CAP_BERTH_NOPE'
}

@test "error: invalid JSON in config.json" {
	printf '{"ociVersion": "1.0.2", "process": {' >"$BUNDLE/config.json"
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	[[ -n $(log_errors) ]] || fail "no error in --log"
	# runc says only "unexpected EOF"; Berth names the file.
	is_runc || assert_match "$(log_errors | tail -n1)" 'config' "error"
	[[ ! -e $ROOT/$CID ]] || fail "state left under --root"
	assert_nothing_left
	run rt delete --force "$CID"
	assert_success
}

@test "error: a config.json field of the wrong type" {
	cfg '.process.args = "not-a-list"'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	assert_match "$(log_errors | tail -n1)" 'args' "error names the field"
	assert_nothing_left
}

@test "error: missing config.json" {
	rm "$BUNDLE/config.json"
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	assert_match "$(log_errors | tail -n1)" 'config.json' "error"
	assert_nothing_left
}

@test "error: missing rootfs" {
	rm -rf "$BUNDLE/rootfs"
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	assert_match "$(log_errors | tail -n1)" 'rootfs' "error names the rootfs"
	assert_nothing_left
	run rt delete --force "$CID"
	assert_success
}

@test "error: after a failed create the same id can be created again" {
	cfg_args /no/such/program
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	rt delete --force "$CID" >/dev/null 2>&1
	cfg_args true
	rt_create
	rt_start
	run wait_exit
	[[ $output == "?" ]] || assert_eq "$output" 0 "exit code"
}

@test "error: run reports setup errors the same way and leaves nothing" {
	cfg_args /no/such/program
	run rt_run
	assert_failure
	assert_match "$output" '/no/such/program' "run's stderr"
	assert_nothing_left
}

@test "config: any 1.x ociVersion is accepted" {
	local v
	for v in 1.0.0 1.0.2-dev 1.1.0 1.2.0; do
		cfg '.ociVersion = $v' --arg v "$v"
		cfg_args berth-probe pid
		local id
		new_cid id
		run rt_run --id "$id"
		assert_success
		assert_eq "$output" "pid=1 ppid=0" "ociVersion $v"
	done
}
