#!/usr/bin/env bats
# OCI hooks: prestart, createRuntime, createContainer, startContainer,
# poststart, poststop; when each runs, the state it gets on stdin, failures
# and timeouts.

load helpers

# hook NAME: a hook (host side) that appends NAME to $OUT/order and saves its
# stdin to $OUT/NAME.json, with its args and env.
hook() {
	jq -n --arg n "$1" --arg out "$OUT" '{"path": "/bin/busybox",
		"args": ["sh", "-c", ("cat > " + $out + "/" + $n + ".json; echo " + $n + " >> " + $out + "/order; echo \"$0 $1 $HOOKENV\" > " + $out + "/" + $n + ".args"), "arg0-" + $n, "arg1"],
		"env": ["HOOKENV=env-" + $n, "PATH=/bin:/usr/bin"]}'
}

# startContainer hooks run inside the container: paths are the container's.
hook_in_container() {
	jq -n --arg n "$1" '{"path": "/bin/sh",
		"args": ["sh", "-c", ("cat > /out/" + $n + ".json; echo " + $n + " >> /out/order")]}'
}

all_hooks() {
	cfg '.hooks = {"prestart": [$pre], "createRuntime": [$cr], "createContainer": [$cc],
		"startContainer": [$sc], "poststart": [$ps], "poststop": [$pst]}' \
		--argjson pre "$(hook prestart)" --argjson cr "$(hook createRuntime)" \
		--argjson cc "$(hook createContainer)" --argjson sc "$(hook_in_container startContainer)" \
		--argjson ps "$(hook poststart)" --argjson pst "$(hook poststop)"
}

order_of() {
	grep -n -x "$1" "$OUT/order" | cut -d: -f1
}

@test "hooks: all six run at their points, in order" {
	all_hooks
	cfg_sh 'echo process >> /out/order; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	# create ran prestart, createRuntime and createContainer, nothing else.
	# (runc 1.1 also runs poststart during create, a bug fixed in runc 1.2.)
	local after_create
	after_create=$(sort "$OUT/order" | tr '\n' ' ')
	is_runc && after_create=${after_create/poststart /}
	assert_eq "$after_create" "createContainer createRuntime prestart " "hooks after create"
	(($(order_of prestart) < $(order_of createContainer))) || fail "prestart after createContainer: $(cat "$OUT/order")"
	(($(order_of createRuntime) < $(order_of createContainer))) || fail "createRuntime after createContainer: $(cat "$OUT/order")"
	rt_start
	# poststart has run by the time start returns
	grep -qx poststart "$OUT/order" || fail "poststart had not run when start returned: $(cat "$OUT/order")"
	wait_for 10 grep -qx process "$OUT/order" || fail "process did not run"
	(($(order_of startContainer) < $(order_of process))) || fail "startContainer after the process: $(cat "$OUT/order")"
	(($(order_of createContainer) < $(order_of startContainer))) || fail "startContainer before createContainer"
	! grep -qx poststop "$OUT/order" || fail "poststop before delete"
	touch "$OUT/go"
	wait_exit >/dev/null
	run rt delete "$CID"
	assert_success
	grep -qx poststop "$OUT/order" || fail "poststop did not run on delete: $(cat "$OUT/order")"
	assert_eq "$(tail -n1 "$OUT/order")" poststop "last hook"
	assert_eq "$(wc -l <"$OUT/order")" 7 "hook and process count"
}

@test "hooks: each gets the container state on stdin" {
	all_hooks
	cfg '.annotations = {"org.berth.hook": "a1"}'
	cfg_sh 'while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	rt_start
	local pid
	pid=$(cpid)
	touch "$OUT/go"
	wait_exit >/dev/null
	run rt delete "$CID"
	assert_success
	local h f
	for h in prestart createRuntime createContainer startContainer poststart poststop; do
		f=$OUT/$h.json
		[[ -s $f ]] || fail "$h got no state on stdin"
		jq -e . "$f" >/dev/null || fail "$h: not JSON: $(cat "$f")"
		assert_eq "$(jq -r .id "$f")" "$CID" "$h: id"
		assert_match "$(jq -r .ociVersion "$f")" '^1\.' "$h: ociVersion"
		assert_eq "$(jq -r .bundle "$f")" "$BUNDLE" "$h: bundle"
		assert_eq "$(jq -r '.annotations["org.berth.hook"]' "$f")" a1 "$h: annotations"
		# The host pid; runc 1.1 passes the in-container pid (1) to the hooks
		# it runs inside the container.
		if [[ $h != poststop ]] && ! { is_runc && [[ $h == createContainer || $h == startContainer ]]; }; then
			assert_eq "$(jq -r .pid "$f")" "$pid" "$h: pid"
		fi
	done
	assert_match "$(jq -r .status "$OUT/prestart.json")" '^(creating|created)$' "prestart: status"
	assert_match "$(jq -r .status "$OUT/createRuntime.json")" '^(creating|created)$' "createRuntime: status"
	assert_match "$(jq -r .status "$OUT/poststart.json")" '^(running|created)$' "poststart: status"
	assert_eq "$(jq -r .status "$OUT/poststop.json")" stopped "poststop: status"
}

@test "hooks: args (argv[0] included) and env are passed as configured" {
	cfg '.hooks = {"prestart": [$h]}' --argjson h "$(hook prestart)"
	cfg_args true
	run rt_run
	assert_success
	assert_eq "$(cat "$OUT/prestart.args")" "arg0-prestart arg1 env-prestart" "hook \$0 \$1 \$HOOKENV"
}

@test "hooks: a failing prestart fails create, and nothing is left" {
	cfg '.hooks = {"prestart": [{"path": "/bin/busybox", "args": ["sh", "-c", "echo hook-failed >&2; exit 3"]}]}'
	cfg_sh 'echo ran > /out/ran'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	[[ ! -e $OUT/ran ]] || fail "the process ran"
	assert_nothing_left
	run rt delete --force "$CID"
	assert_success
}

@test "hooks: a failing createRuntime fails create, and nothing is left" {
	cfg '.hooks = {"createRuntime": [{"path": "/bin/busybox", "args": ["false"]}]}'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	assert_nothing_left
}

@test "hooks: a hook past its timeout is killed and create fails" {
	cfg '.hooks = {"createRuntime": [{"path": "/bin/busybox", "args": ["sleep", "30"], "timeout": 1}]}'
	local rc=0 t0=$SECONDS
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	(((SECONDS - t0) < 15)) || fail "create took $((SECONDS - t0))s with a 1s hook timeout"
	assert_nothing_left
}

@test "hooks: a missing hook binary fails create" {
	cfg '.hooks = {"prestart": [{"path": "/no/such/hook"}]}'
	local rc=0
	rt_create 2>/dev/null || rc=$?
	[[ $rc -ne 0 ]] || fail "create succeeded"
	assert_nothing_left
}

@test "hooks: a failing poststart is a warning; the container runs" {
	berth_only "runc 1.1 fails start (and kills the container) when poststart fails"
	cfg '.hooks = {"poststart": [{"path": "/bin/busybox", "args": ["false"]}]}'
	cfg_sh 'echo ran > /out/ran; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	run rt start "$CID"
	assert_success
	wait_for_file "$OUT/ran"
	assert_eq "$(state_field status)" running status
	grep -qi '"level":"warn' "$LOG" || fail "no warning in --log: $(cat "$LOG")"
	touch "$OUT/go"
	wait_exit >/dev/null
}

@test "hooks: a failing poststop is a warning; delete succeeds and removes the container" {
	cfg '.hooks = {"poststop": [{"path": "/bin/busybox", "args": ["false"]}]}'
	cfg_args true
	rt_create
	rt_start
	wait_exit >/dev/null
	run rt delete "$CID"
	assert_success
	run rt state "$CID"
	assert_failure
	assert_nothing_left
}
