#!/usr/bin/env bats
# config.json "linux": namespaces (new and joined by path), devices,
# sysctl, maskedPaths, readonlyPaths.

load helpers

# ns_of_probe_output TYPE: the "type:[inode]" of TYPE from `berth-probe ns` output in $output.
ns_in_output() {
	awk -v t="$1" '$1 == t {print $2}' <<<"$output"
}

# A container that runs until the test touches $OUT/go (optional bundle).
start_waiting() {
	local id=${1:-$CID} b=${2:-$BUNDLE}
	cfg_sh -b "$b" 'echo ready > /out/ready.$BERTH_ITEST; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create --id "$id" --bundle "$b"
	rt_start "$id"
	wait_for_file "$OUT/ready.$id"
}

@test "namespaces: new pid, network, ipc, uts, mount and cgroup namespaces differ from the host's" {
	cfg '.linux.namespaces += [{"type": "cgroup"}]'
	probe_run ns
	assert_success
	local t
	for t in pid net ipc uts mnt cgroup; do
		local inside
		inside=$(ns_in_output "$t")
		[[ -n $inside ]] || fail "no $t namespace in: $output"
		[[ $inside != "$(host_ns "$t")" ]] || fail "$t namespace is the host's"
	done
	# no user namespace asked for: the host's
	assert_eq "$(ns_in_output user)" "$(host_ns user)" "user namespace"
}

@test "namespaces: a namespace not listed is shared with the host" {
	cfg '.linux.namespaces |= map(select(.type != "network" and .type != "ipc"))'
	probe_run ns
	assert_success
	assert_eq "$(ns_in_output net)" "$(host_ns net)" "net namespace"
	assert_eq "$(ns_in_output ipc)" "$(host_ns ipc)" "ipc namespace"
	[[ $(ns_in_output pid) != "$(host_ns pid)" ]] || fail "pid namespace is the host's"
}

@test "namespaces: join another container's network, ipc and uts namespaces by /proc path (CRI pod)" {
	# The "sandbox"
	cfg '.hostname = "sandbox-host"'
	start_waiting
	local spid
	spid=$(cpid)
	# The "container" joins by path, with its own pid and mount namespaces.
	new_cid CID2
	make_bundle "$TD/b2" "$CID2"
	cfg -b "$TD/b2" '
		.linux.namespaces = [{"type": "pid"}, {"type": "mount"},
			{"type": "network", "path": ("/proc/" + $p + "/ns/net")},
			{"type": "ipc", "path": ("/proc/" + $p + "/ns/ipc")},
			{"type": "uts", "path": ("/proc/" + $p + "/ns/uts")}]
		| del(.hostname)' --arg p "$spid"
	cfg_sh -b "$TD/b2" 'berth-probe ns; berth-probe hostname'
	run rt_run --id "$CID2" --bundle "$TD/b2"
	assert_success
	assert_eq "$(ns_in_output net)" "$(readlink "/proc/$spid/ns/net")" "net namespace"
	assert_eq "$(ns_in_output ipc)" "$(readlink "/proc/$spid/ns/ipc")" "ipc namespace"
	assert_eq "$(ns_in_output uts)" "$(readlink "/proc/$spid/ns/uts")" "uts namespace"
	[[ $(ns_in_output pid) != "$(readlink "/proc/$spid/ns/pid")" ]] || fail "joined the sandbox's pid namespace"
	[[ $(ns_in_output mnt) != "$(readlink "/proc/$spid/ns/mnt")" ]] || fail "joined the sandbox's mount namespace"
	assert_eq "${lines[-1]}" sandbox-host "hostname seen through the joined uts namespace"
	touch "$OUT/go"
}

@test "namespaces: join a network namespace bind-mounted on a file (ip netns style)" {
	touch "$TD/netns"
	unshare --net="$TD/netns" true
	HOST_MOUNTS+=("$TD/netns")
	local ino
	ino=$(stat -L -c %i "$TD/netns")
	cfg '.linux.namespaces |= map(if .type == "network" then .path = $p else . end)' --arg p "$TD/netns"
	probe_run ns net
	assert_success
	assert_eq "$output" "net:[$ino]" "net namespace"
}

@test "namespaces: a joined network namespace has only loopback, a new one has lo down" {
	cfg_sh 'cat /proc/net/dev | tail -n +3 | cut -d: -f1 | tr -d " "'
	run rt_run
	assert_success
	assert_eq "$output" lo "interfaces in a new network namespace"
}

@test "namespaces: user namespace with uid/gid mappings" {
	cfg '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))'
	cfg_sh 'berth-probe ids; cat /proc/self/uid_map; cat /proc/self/gid_map; echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	local out
	out=$(cat "$TD/$CID.stdout")
	assert_match "$out" '^uid=0 gid=0 ' "ids inside"
	assert_match "$out" $'\n *0 +100000 +65536\n *0 +100000 +65536' "uid_map and gid_map"
	# from the host, the process runs as 100000
	assert_eq "$(awk '/^Uid:/ {print $2}' "/proc/$(cpid)/status")" 100000 "host uid"
	[[ $(readlink "/proc/$(cpid)/ns/user") != "$(host_ns user)" ]] || fail "user namespace is the host's"
	touch "$OUT/go"
}

@test "devices: inside a user namespace, linux.devices are bind-mounted from the host" {
	cfg '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .mounts |= map(select(.destination != "/sys/fs/cgroup"))
		| .linux.devices = [{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}]'
	cfg_sh 'berth-probe stat /dev/fuse | cut -d" " -f1,5; berth-probe stat /dev/null | cut -d" " -f1,5; berth-probe write /dev/null'
	run rt_run
	assert_success
	assert_eq "${lines[0]}" "c 10:229" "/dev/fuse"
	assert_eq "${lines[1]}" "c 1:3" "/dev/null"
	assert_eq "${lines[2]}" ok "write /dev/null"
}

@test "namespaces: cgroup namespace hides the host's cgroup path" {
	cfg '.linux.namespaces += [{"type": "cgroup"}]'
	cfg_args cat /proc/self/cgroup
	run rt_run
	assert_success
	! grep -q berth-test <<<"$output" || fail "cgroup path visible: $output"
	grep -q ':/$' <<<"$output" || fail "no root cgroup path: $output"
}

@test "namespaces: time namespace with offsets" {
	berth_only "runc 1.1 has no time namespace support"
	cfg '.linux.namespaces += [{"type": "time"}] | .linux.timeOffsets = {"monotonic": {"secs": 86400, "nanosecs": 0}, "boottime": {"secs": 86400, "nanosecs": 0}}'
	cfg_args cat /proc/uptime
	run rt_run
	assert_success
	local inside host
	inside=$(cut -d. -f1 <<<"$output")
	host=$(cut -d. -f1 /proc/uptime)
	((inside >= host + 86000)) || fail "uptime inside $inside, host $host"
}

# rt_run_in NSFLAG: run the runtime in a throwaway namespace of the host (so
# a runtime that wrongly touches the host's hostname or sysctls harms nothing).
rt_run_in() {
	unshare "$1" -- timeout 30 "$RUNTIME" --root "$ROOT" --log "$LOG" --log-format json \
		run --bundle "$BUNDLE" "$CID" </dev/null 3>&-
}

@test "hostname without a private UTS namespace is an error" {
	cfg '.linux.namespaces |= map(select(.type != "uts")) | .hostname = "nope"'
	run rt_run_in --uts
	assert_failure
	[[ $(hostname) != nope ]] || fail "changed the host's hostname"
	assert_nothing_left
}

@test "devices: the default /dev (null zero full random urandom tty ptmx pts shm fd stdio)" {
	cfg_sh 'for d in null zero full random urandom tty; do berth-probe stat /dev/$d; done
		for l in fd stdin stdout stderr ptmx; do echo "$l $(readlink /dev/$l)"; done
		berth-probe stat /dev/pts; berth-probe stat /dev/shm; berth-probe stat /dev/pts/ptmx
		ls /dev; echo x | berth-probe write /dev/null; head -c 4 /dev/zero | wc -c; berth-probe write /dev/full'
	run rt_run
	assert_eq "${lines[0]}" "c 0666 0 0 1:3" null
	assert_eq "${lines[1]}" "c 0666 0 0 1:5" zero
	assert_eq "${lines[2]}" "c 0666 0 0 1:7" full
	assert_eq "${lines[3]}" "c 0666 0 0 1:8" random
	assert_eq "${lines[4]}" "c 0666 0 0 1:9" urandom
	assert_eq "${lines[5]}" "c 0666 0 0 5:0" tty
	assert_eq "${lines[6]}" "fd /proc/self/fd" fd
	assert_eq "${lines[7]}" "stdin /proc/self/fd/0" stdin
	assert_eq "${lines[8]}" "stdout /proc/self/fd/1" stdout
	assert_eq "${lines[9]}" "stderr /proc/self/fd/2" stderr
	assert_eq "${lines[10]}" "ptmx pts/ptmx" ptmx
	assert_match "${lines[11]}" '^d ' "/dev/pts"
	assert_match "${lines[12]}" '^d ' "/dev/shm"
	assert_match "${lines[13]}" '^c [0-7]+ 0 0 5:2$' "/dev/pts/ptmx"
	# Nothing of the host's /dev (disks, kmsg, mem...) is there.
	local d
	for d in vda kmsg mem port; do
		! grep -qx "$d" <<<"$output" || fail "host device /dev/$d inside"
	done
	grep -qx ok <<<"$output" || fail "write to /dev/null failed: $output"
	grep -qx 4 <<<"$output" || fail "read from /dev/zero failed: $output"
	grep -qx ENOSPC <<<"$output" || fail "write to /dev/full did not give ENOSPC: $output"
}

@test "devices: linux.devices nodes are created with type, numbers, mode and owner" {
	cfg '.linux.devices = [
			{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229, "fileMode": 438, "uid": 0, "gid": 0},
			{"path": "/dev/berth-kmsg", "type": "c", "major": 1, "minor": 11, "fileMode": 438, "uid": 0, "gid": 0},
			{"path": "/dev/berth-null", "type": "c", "major": 1, "minor": 3, "fileMode": 416, "uid": 1000, "gid": 5}]
		| .linux.resources.devices += [{"allow": true, "type": "c", "major": 10, "minor": 229, "access": "rwm"}]'
	cfg_sh 'berth-probe stat /dev/fuse; berth-probe stat /dev/berth-null; berth-probe open /dev/fuse rw; berth-probe open /dev/berth-kmsg r'
	run rt_run
	assert_eq "${lines[0]}" "c 0666 0 0 10:229" "/dev/fuse"
	assert_eq "${lines[1]}" "c 0640 1000 5 1:3" "/dev/berth-null (mode and owner)"
	# allowed by resources.devices: the open gets past the device cgroup
	[[ ${lines[2]} != EPERM ]] || fail "open /dev/fuse denied by the device cgroup"
	# not allowed: the device cgroup says no
	assert_eq "${lines[3]}" EPERM "open of a device the cgroup does not allow"
}

@test "devices: a node made inside the container is still subject to the device cgroup" {
	cfg '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
	cfg_sh 'mknod /tmp/kmsg c 1 11; berth-probe open /tmp/kmsg r; mknod /tmp/null c 1 3; berth-probe open /tmp/null w'
	run rt_run
	assert_match "$output" $'EPERM\nok' "kmsg denied, null allowed"
}

@test "sysctl: a namespaced key is set inside (net.ipv4.ip_forward, kernel.shmmax) and not on the host" {
	local host_fwd host_shm
	host_fwd=$(cat /proc/sys/net/ipv4/ip_forward)
	host_shm=$(cat /proc/sys/kernel/shmmax)
	save_sysctl net.ipv4.ip_forward
	save_sysctl kernel.shmmax
	cfg '.linux.sysctl = {"net.ipv4.ip_forward": "1", "kernel.shmmax": "12345678"}'
	cfg_sh 'berth-probe sysctl net.ipv4.ip_forward; berth-probe sysctl kernel.shmmax'
	run rt_run
	assert_success
	assert_eq "${lines[0]}" 1 "ip_forward inside"
	assert_eq "${lines[1]}" 12345678 "shmmax inside"
	assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_fwd" "host ip_forward"
	assert_eq "$(cat /proc/sys/kernel/shmmax)" "$host_shm" "host shmmax"
}

@test "sysctl: a key no namespace isolates (vm.swappiness) is rejected" {
	local before
	before=$(cat /proc/sys/vm/swappiness)
	save_sysctl vm.swappiness
	cfg '.linux.sysctl = {"vm.swappiness": "17"}'
	cfg_sh 'echo should-not-run'
	run rt_run
	assert_failure
	assert_not_match "$output" should-not-run output
	assert_match "$output $(log_errors)" "vm.swappiness" "error names the key"
	assert_eq "$(cat /proc/sys/vm/swappiness)" "$before" "host vm.swappiness"
	assert_nothing_left
}

@test "sysctl: a net.* key without a private network namespace is rejected" {
	local before
	before=$(cat /proc/sys/net/ipv4/ip_forward)
	cfg '.linux.namespaces |= map(select(.type != "network")) | .linux.sysctl = {"net.ipv4.ip_forward": "1"}'
	cfg_sh 'echo should-not-run'
	run rt_run_in --net
	assert_failure
	assert_match "$output $(log_errors)" "net.ipv4.ip_forward" "error names the key"
	assert_eq "$(cat /proc/sys/net/ipv4/ip_forward)" "$before" "host ip_forward"
	assert_nothing_left
}

@test "maskedPaths: masked files read empty, masked directories are empty" {
	[[ -s /proc/cmdline ]] || skip "host /proc/cmdline empty"
	cfg '.linux.maskedPaths += ["/proc/cmdline", "/sys/kernel"]'
	cfg_sh 'berth-probe read /proc/cmdline; ls /sys/kernel | wc -l; berth-probe write /sys/kernel/x
		for f in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug; do [ -e $f ] && echo "$f $(berth-probe read $f)"; done; ls /sys/firmware | wc -l; true'
	run rt_run
	assert_success
	assert_eq "${lines[0]}" "ok 0" "read /proc/cmdline"
	assert_eq "${lines[1]}" 0 "entries in /sys/kernel"
	[[ ${lines[2]} != ok ]] || fail "could create a file in a masked directory"
	local l
	for l in "${lines[@]:3}"; do
		case $l in
		/proc/*) [[ $l =~ \ (ok\ 0|EACCES|EPERM|ENOENT)$ ]] || fail "masked file readable: $l" ;;
		*) assert_eq "$l" 0 "entries in /sys/firmware" ;;
		esac
	done
}

@test "readonlyPaths: /proc/sys and /proc/sysrq-trigger are not writable, custom paths too" {
	mkdir -p "$OUT/rodir"
	cfg '.linux.readonlyPaths += ["/out/rodir"]
		| .process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	cfg_sh 'berth-probe write /proc/sys/kernel/hostname x; berth-probe write /out/rodir/f; berth-probe write /out/f
		[ -e /proc/sysrq-trigger ] && berth-probe write /proc/sysrq-trigger h; true'
	run rt_run
	assert_eq "${lines[0]}" EROFS "/proc/sys/kernel/hostname"
	assert_eq "${lines[1]}" EROFS "/out/rodir"
	assert_eq "${lines[2]}" ok "/out"
	if [[ -e /proc/sysrq-trigger ]]; then
		assert_eq "${lines[3]}" EROFS "/proc/sysrq-trigger"
	fi
}
