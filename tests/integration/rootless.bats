#!/usr/bin/env bats
# Rootless: berth-runtime run by an unprivileged user, as `runc --rootless`:
# a user namespace mapping that user to root inside, state under
# $XDG_RUNTIME_DIR, no cgroup unless one is delegated.

load helpers

RL_UID=4242

# as_user CMD...: run CMD as the unprivileged test uid (no passwd entry needed)
as_user() {
	timeout -k 5 60 setpriv --reuid=$RL_UID --regid=$RL_UID --clear-groups \
		env XDG_RUNTIME_DIR="$RL_DIR/xdg" "$@"
}

setup() {
	berth_setup
	chmod 0711 "$FILE_TMP" "$TD"
	RL_DIR=$TD/rootless
	mkdir -p "$RL_DIR/xdg" "$RL_DIR/bundle"
	cp -a "$BUNDLE/rootfs" "$RL_DIR/bundle/rootfs"
	chown -R $RL_UID:$RL_UID "$RL_DIR"
	RL_ID=rl-$CID
}

teardown() {
	as_user "$RUNTIME" delete --force "$RL_ID" >/dev/null 2>&1 || true
	berth_teardown
}

# rootless_spec FILTER: `spec --rootless` made by the user, then edited
rootless_spec() {
	(cd "$RL_DIR/bundle" && as_user "$RUNTIME" spec --rootless) || return 1
	jq ".process.terminal = false | $1" "$RL_DIR/bundle/config.json" >"$RL_DIR/config.new"
	mv "$RL_DIR/config.new" "$RL_DIR/bundle/config.json"
	chown $RL_UID:$RL_UID "$RL_DIR/bundle/config.json"
}

@test "rootless: an unprivileged user runs a container, root inside, itself outside" {
	rootless_spec '.process.args = ["sh", "-c", "id -u; cat /proc/self/uid_map; echo pid=$$"]'
	run as_user "$RUNTIME" run --bundle "$RL_DIR/bundle" "$RL_ID"
	assert_success
	assert_match "$output" '^0' "uid inside"
	assert_match "$output" "0 +$RL_UID +1" "uid_map"
	assert_match "$output" 'pid=1' "pid inside"
}

@test "rootless: state lives under XDG_RUNTIME_DIR, and no cgroup is made" {
	rootless_spec '.root.readonly = false | .process.args = ["sh", "-c", "echo ready > /tmp/ready; while [ ! -e /tmp/go ]; do sleep 0.05; done"]'
	as_user "$RUNTIME" create --bundle "$RL_DIR/bundle" "$RL_ID" </dev/null >/dev/null 2>"$TD/err" || {
		cat "$TD/err"
		fail "rootless create failed"
	}
	local sub=berth-runtime
	is_runc && sub=runc
	[[ -f $RL_DIR/xdg/$sub/$RL_ID/state.json ]] || fail "no state under XDG_RUNTIME_DIR"
	run as_user "$RUNTIME" state "$RL_ID"
	assert_success
	assert_eq "$(jq -r .status <<<"$output")" created status
	local pid
	pid=$(jq -r .pid <<<"$output")
	assert_eq "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" $RL_UID "host uid of the container"
	# still in the caller's cgroups: nothing named after the container
	! grep -q "$RL_ID" "/proc/$pid/cgroup" || fail "a cgroup was made: $(cat "/proc/$pid/cgroup")"
	as_user "$RUNTIME" start "$RL_ID"
	wait_for_file "$RL_DIR/bundle/rootfs/tmp/ready"
	touch "$RL_DIR/bundle/rootfs/tmp/go"
	run as_user "$RUNTIME" delete --force "$RL_ID"
	assert_success
	[[ ! -e $RL_DIR/xdg/$sub/$RL_ID ]] || fail "state left after delete"
}

@test "rootless: limits without a delegated cgroup are an error, with nothing left" {
	berth_only "runc 1.1 fails differently here"
	rootless_spec '.linux.resources = {"memory": {"limit": 67108864}} | .process.args = ["true"]'
	run as_user "$RUNTIME" run --bundle "$RL_DIR/bundle" "$RL_ID"
	assert_failure
	assert_match "$output" "Permission denied" "error"
	[[ ! -e $RL_DIR/xdg/berth-runtime/$RL_ID ]] || fail "state left after the failure"
}

@test "rootless: a config without a user namespace is refused" {
	berth_only "berth's own message"
	rootless_spec '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings, .linux.gidMappings)'
	run as_user "$RUNTIME" run --bundle "$RL_DIR/bundle" "$RL_ID"
	assert_failure
	assert_match "$output" "user namespace" "error"
}
