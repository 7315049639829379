#!/usr/bin/env bats
# config.json "process" (and hostname/domainname), checked from inside the
# container with berth-probe.

load helpers

# A hex capability mask from bit numbers.
capmask() {
	local m=0 b
	for b in "$@"; do
		m=$((m | (1 << b)))
	done
	printf '%016x' "$m"
}

@test "process: the container's process is PID 1 in its own pid namespace" {
	probe_run pid
	assert_success
	assert_eq "$output" "pid=1 ppid=0" "pid inside"
}

@test "process: args are passed verbatim" {
	cfg_args sh -c 'for a in "$@"; do echo "[$a]"; done' argv0 'two words' '' '$HOME' "quo'te" '-c'
	run rt_run
	assert_success
	assert_eq "$output" "[two words]"$'\n'"[]"$'\n'"[\$HOME]"$'\n'"[quo'te]"$'\n'"[-c]" args
}

@test "process: env is exactly the configured environment" {
	cfg '.process.env += ["FOO=bar baz", "EMPTY="]'
	cfg_args env
	run rt_run
	assert_success
	grep -qx 'FOO=bar baz' <<<"$output" || fail "FOO missing: $output"
	grep -qx 'EMPTY=' <<<"$output" || fail "EMPTY missing: $output"
	grep -qx "BERTH_ITEST=$CID" <<<"$output" || fail "marker missing: $output"
	grep -q '^PATH=/usr/local/sbin' <<<"$output" || fail "PATH missing: $output"
	# Nothing of the runtime's own environment leaks in.
	! grep -q '^BATS_' <<<"$output" || fail "the runtime's env leaked: $output"
	! grep -q '^BERTH_ITEST_TMP=' <<<"$output" || fail "the runtime's env leaked: $output"
}

@test "process: cwd" {
	cfg '.process.cwd = "/home/user"'
	probe_run cwd
	assert_success
	assert_eq "$output" /home/user cwd
}

@test "hostname is set in the container's UTS namespace" {
	cfg '.hostname = "berth-h1"'
	probe_run hostname
	assert_success
	assert_eq "$output" berth-h1 hostname
	[[ $(hostname) != berth-h1 ]] || fail "the host's hostname changed"
}

@test "domainname is set in the container's UTS namespace" {
	berth_only "runc 1.1 does not implement domainname (runtime-spec 1.1)"
	local host_dn
	host_dn=$(cat /proc/sys/kernel/domainname)
	cfg '.hostname = "berth-h1" | .domainname = "example.test"'
	probe_run domainname
	assert_success
	assert_eq "$output" example.test domainname
	assert_eq "$(cat /proc/sys/kernel/domainname)" "$host_dn" "host domainname"
}

@test "process.user: uid, gid and additionalGids" {
	cfg '.process.user = {"uid": 1000, "gid": 1001, "additionalGids": [5, 100, 2000]}'
	probe_run ids
	assert_success
	assert_match "$output" '^uid=1000 gid=1001 euid=1000 egid=1001 groups=' ids
	local groups
	groups=$(sed 's/.*groups=//' <<<"$output" | tr ',' '\n' | sort -n | tr '\n' ',')
	assert_eq "$groups" "5,100,2000," groups
}

@test "process.user: a non-root user cannot write root's files" {
	cfg '.process.user = {"uid": 1000, "gid": 1000} | .process.capabilities = {}'
	cfg_sh 'berth-probe write /etc/passwd; berth-probe write /home/user/mine'
	run rt_run
	assert_eq "${lines[0]}" EACCES "write /etc/passwd"
	assert_eq "${lines[1]}" ok "write own home"
}

@test "process.user.umask" {
	cfg '.process.user.umask = 63'
	probe_run umask
	assert_success
	assert_eq "$output" 0077 umask
}

@test "process.user.umask: 0022 when not set" {
	cfg 'del(.process.user.umask)'
	probe_run umask
	assert_success
	assert_eq "$output" 0022 umask
}

@test "capabilities: a restricted set for root (CapEff/CapPrm/CapBnd from /proc/self/status)" {
	# CAP_CHOWN=0 CAP_NET_BIND_SERVICE=10
	cfg '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
		"effective": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"], "permitted": ["CAP_CHOWN", "CAP_NET_BIND_SERVICE"],
		"inheritable": [], "ambient": []}'
	probe_run caps
	assert_success
	local m
	m=$(capmask 0 10)
	assert_match "$output" "CapEff: $m" CapEff
	assert_match "$output" "CapPrm: $m" CapPrm
	assert_match "$output" "CapBnd: $m" CapBnd
	assert_match "$output" "CapInh: 0000000000000000" CapInh
	assert_match "$output" "CapAmb: 0000000000000000" CapAmb
}

@test "capabilities: effect: without CAP_CHOWN root cannot chown, with it can" {
	cfg '.process.capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"]}'
	cfg_sh 'touch /tmp/f && chown 1000 /tmp/f && echo chown-ok || echo chown-denied'
	run rt_run
	assert_match "$output" chown-denied "without CAP_CHOWN"
	cfg '.process.capabilities = {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}'
	new_cid CID2
	run rt_run --id "$CID2"
	assert_match "$output" chown-ok "with CAP_CHOWN"
}

@test "capabilities: all five sets for a non-root user survive setuid (ambient)" {
	# CAP_CHOWN only, uid 1000: the caps must be raised after the uid change.
	cfg '.process.user = {"uid": 1000, "gid": 1000}
		| .process.capabilities = {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"],
			"permitted": ["CAP_CHOWN"], "inheritable": ["CAP_CHOWN"], "ambient": ["CAP_CHOWN"]}'
	cfg_sh 'berth-probe ids; berth-probe caps; touch /tmp/f && chown 0 /tmp/f && echo chown-ok || echo chown-denied'
	run rt_run
	assert_success
	local m
	m=$(capmask 0)
	assert_match "${lines[0]}" '^uid=1000 ' ids
	assert_match "$output" "CapEff: $m" CapEff
	assert_match "$output" "CapPrm: $m" CapPrm
	assert_match "$output" "CapInh: $m" CapInh
	assert_match "$output" "CapAmb: $m" CapAmb
	assert_match "$output" "CapBnd: $m" CapBnd
	assert_match "$output" chown-ok "chown as uid 1000 with CAP_CHOWN"
}

@test "capabilities: a non-root user without ambient caps has none effective" {
	cfg '.process.user = {"uid": 1000, "gid": 1000}
		| .process.capabilities = {"bounding": ["CAP_CHOWN"], "effective": ["CAP_CHOWN"], "permitted": ["CAP_CHOWN"]}'
	probe_run caps
	assert_success
	assert_match "$output" "CapEff: 0000000000000000" CapEff
	assert_match "$output" "CapBnd: $(capmask 0)" CapBnd
}

@test "noNewPrivileges: true sets NoNewPrivs, false leaves it clear" {
	cfg '.process.noNewPrivileges = true'
	probe_run nnp
	assert_success
	assert_eq "$output" 1 "NoNewPrivs with true"
	cfg '.process.noNewPrivileges = false'
	new_cid CID2
	run rt_run --id "$CID2"
	assert_success
	assert_eq "$output" 0 "NoNewPrivs with false"
}

@test "rlimits: lowered limits apply (NOFILE, CORE, NPROC)" {
	cfg '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 100, "hard": 200},
		{"type": "RLIMIT_CORE", "soft": 0, "hard": 0}, {"type": "RLIMIT_NPROC", "soft": 500, "hard": 600}]'
	cfg_sh 'berth-probe rlimit NOFILE; berth-probe rlimit CORE; berth-probe rlimit NPROC'
	run rt_run
	assert_success
	assert_eq "${lines[0]}" "100 200" NOFILE
	assert_eq "${lines[1]}" "0 0" CORE
	assert_eq "${lines[2]}" "500 600" NPROC
}

@test "rlimits: a limit above what the caller may raise fails, naming the limit" {
	local hard nr_open lim
	hard=$(ulimit -Hn)
	nr_open=$(cat /proc/sys/fs/nr_open)
	# Above the hard limit (needs CAP_SYS_RESOURCE, which root lacks here)
	# and above fs.nr_open (which nobody may exceed).
	lim=$(((hard > nr_open ? hard : nr_open) + 1024))
	cfg '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": $l, "hard": $l}]' --argjson l "$lim"
	cfg_sh 'echo should-not-run'
	run rt_run
	assert_failure
	assert_not_match "$output" should-not-run output
	local err="$output $(log_errors)"
	if is_runc; then
		# runc says "error setting rlimit type 7".
		assert_match "$err" "rlimit" error
	else
		assert_match "$err" "RLIMIT_NOFILE" error
	fi
	assert_nothing_left
}

@test "oomScoreAdj: a positive value is applied" {
	cfg '.process.oomScoreAdj = 500'
	probe_run oom_score_adj
	assert_success
	assert_eq "$output" 500 oom_score_adj
}

@test "oomScoreAdj: a negative value fails without CAP_SYS_RESOURCE" {
	if grep -q '^CapEff:' /proc/self/status && (($(printf '%d' "0x$(awk '/^CapEff/ {print $2}' /proc/self/status)") & (1 << 24))); then
		skip "this host's root has CAP_SYS_RESOURCE"
	fi
	cfg '.process.oomScoreAdj = -500'
	cfg_sh 'echo should-not-run'
	run rt_run
	assert_failure
	assert_not_match "$output" should-not-run output
	assert_match "$output $(log_errors)" "oom" error
	assert_nothing_left
}

@test "stdio: without a terminal, create passes the runtime's stdin/stdout/stderr through" {
	printf 'line-from-stdin\n' >"$TD/$CID.stdin"
	cfg_sh 'read l; echo "out:$l"; echo "err:$l" >&2'
	rt_create
	rt_start
	wait_exit >/dev/null
	assert_eq "$(cat "$TD/$CID.stdout")" "out:line-from-stdin" stdout
	assert_eq "$(cat "$TD/$CID.stderr")" "err:line-from-stdin" stderr
}

@test "stdio: pipes reach the container unchanged, and no other fd leaks in" {
	cfg_sh 'cat; berth-probe fds'
	run bash -c 'printf "through-a-pipe\n" | timeout 30 "$0" --root "$1" --log "$2" --log-format json run --bundle "$3" "$4" 2>&1 | cat' \
		"$RUNTIME" "$ROOT" "$LOG" "$BUNDLE" "$CID"
	assert_success
	assert_eq "${lines[0]}" through-a-pipe "stdin to stdout"
	assert_match "${lines[1]}" '^0 pipe:' "fd 0"
	assert_match "${lines[2]}" '^1 pipe:' "fd 1"
	assert_match "${lines[3]}" '^2 pipe:' "fd 2"
	assert_eq "${#lines[@]}" 4 "number of lines (fds 0-2 only): $output"
}

@test "signals: the container starts with no blocked or ignored signals" {
	cfg_args berth-probe status SigBlk
	run rt_run
	assert_success
	assert_eq "$output" 0000000000000000 SigBlk
	cfg_args berth-probe status SigIgn
	new_cid CID2
	run rt_run --id "$CID2"
	assert_success
	assert_eq "$output" 0000000000000000 SigIgn
}

@test "apparmorProfile and selinuxLabel are accepted and ignored with a warning on this host" {
	berth_only "runc fails to apply an AppArmor profile when AppArmor is off"
	[[ ! -e /sys/kernel/security/apparmor ]] || skip "AppArmor is enabled here"
	cfg '.process.apparmorProfile = "berth-test-profile" | .process.selinuxLabel = "system_u:system_r:container_t:s0"'
	probe_run pid
	assert_success
	assert_match "$output" "pid=1 ppid=0" output
	grep -qi 'warn' "$LOG" || fail "no warning in --log: $(cat "$LOG")"
}
