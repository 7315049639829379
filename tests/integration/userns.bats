#!/usr/bin/env bats
# User namespaces: root inside is an unprivileged uid outside, and a rootfs
# owned by host root is seen (and written) through an idmapped mount.

load helpers

userns_cfg() {
	cfg '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .root.readonly = false'
}

@test "userns: root inside is uid 100000 outside, with the mapping written" {
	userns_cfg
	cfg_sh 'id -u > /tmp/inside; cat /proc/self/uid_map > /tmp/map; echo ready > /tmp/ready; while [ ! -e /tmp/go ]; do sleep 0.05; done'
	rt_create
	rt_start
	wait_for_file "$BUNDLE/rootfs/tmp/ready"
	local pid
	pid=$(cat "$TD/$CID.pid")
	assert_eq "$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")" 100000 "host uid of the container's root"
	assert_eq "$(cat "$BUNDLE/rootfs/tmp/inside")" 0 "uid inside"
	assert_eq "$(tr -s ' ' <"$BUNDLE/rootfs/tmp/map" | sed 's/^ //')" "0 100000 65536" "uid_map"
	touch "$BUNDLE/rootfs/tmp/go"
}

@test "userns: a rootfs owned by host root appears as the container's root (idmapped)" {
	berth_only "runc 1.1 does not idmap the rootfs"
	userns_cfg
	cfg_sh 'stat -c "%u:%g" /bin/busybox; echo data > /tmp/made-inside && echo wrote'
	run rt_run
	assert_success
	assert_match "$output" '^0:0' "owner of /bin/busybox inside"
	assert_match "$output" wrote
	# written by the container's root through the idmapped mount: host root on disk
	assert_eq "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/made-inside")" 0:0 "owner on the host"
}

@test "userns: a rootfs already owned by the mapped range is used as it is" {
	userns_cfg
	chown -R 100000:100000 "$BUNDLE/rootfs"
	cfg_sh 'stat -c "%u:%g" /bin/busybox; echo data > /tmp/made-inside && echo wrote'
	run rt_run
	assert_success
	assert_match "$output" '^0:0' "owner of /bin/busybox inside"
	assert_eq "$(stat -c %u:%g "$BUNDLE/rootfs/tmp/made-inside")" 100000:100000 "owner on the host"
}
