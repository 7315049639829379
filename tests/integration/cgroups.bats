#!/usr/bin/env bats
# linux.resources and cgroupsPath: limits read back inside the container and
# on the host, their effects (OOM kill, pids), live update, removal.
# Works on v1/hybrid hosts (this machine) and on a pure v2 host.

load helpers

# hostfile V1CONTROLLER V1FILE V2FILE [ID]: the container's cgroup file.
hostfile() {
	local id=${4:-$CID}
	if cg_is_v2; then
		echo "/sys/fs/cgroup/berth-test/$id/$3"
	else
		echo "/sys/fs/cgroup/$1/berth-test/$id/$2"
	fi
}

# Inside the container: the memory limit, on v1 or v2.
read_limit_inside='cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max'

start_waiting() {
	cfg_sh "${1:-true}; echo ready > /out/ready; while [ ! -e /out/go ]; do sleep 0.05; done"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
}

have_memsw() {
	[[ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ]] || cg_is_v2
}

@test "memory limit: read back inside the container and on the host" {
	cfg '.linux.resources.memory = {"limit": 67108864}'
	start_waiting "{ $read_limit_inside; } > /out/limit"
	assert_eq "$(cat "$OUT/limit")" 67108864 "limit inside"
	assert_eq "$(cat "$(hostfile memory memory.limit_in_bytes memory.max)")" 67108864 "limit on the host"
	assert_match "$(grep -E 'memory' "/proc/$(cpid)/cgroup")" "/berth-test/$CID\$" "the process's cgroup"
	touch "$OUT/go"
}

@test "memory limit: an allocation past the limit is OOM-killed (exit 137)" {
	local mem='{"limit": 33554432}'
	have_memsw && mem='{"limit": 33554432, "swap": 33554432}'
	cfg '.linux.resources.memory = $m' --argjson m "$mem"
	cfg_args berth-probe alloc 256
	rt_create
	rt_start
	run wait_exit
	if [[ $output != "?" ]]; then
		assert_eq "$output" 137 "exit code"
	fi
	if cg_is_v2; then
		assert_match "$(cat "$(hostfile x x memory.events)")" 'oom_kill [1-9]' memory.events
	else
		assert_match "$(cat "$(hostfile memory memory.oom_control x)")" 'oom_kill [1-9]' "oom_kill count"
	fi
	! grep -q "allocated 256" "$TD/$CID.stdout" || fail "the allocation succeeded"
}

@test "memory limit: run returns 137 for an OOM-killed container" {
	local mem='{"limit": 33554432}'
	have_memsw && mem='{"limit": 33554432, "swap": 33554432}'
	cfg '.linux.resources.memory = $m' --argjson m "$mem"
	cfg_args berth-probe alloc 256
	run rt_run
	assert_eq "$status" 137 "exit code of run"
}

@test "memory: reservation, swap, swappiness and disableOOMKiller" {
	cg_is_v2 && skip "v1 knobs (swappiness, oom_control)"
	local mem='{"limit": 67108864, "reservation": 33554432, "swappiness": 10, "disableOOMKiller": true}'
	have_memsw && mem=$(jq -c '.swap = 134217728' <<<"$mem")
	cfg '.linux.resources.memory = $m' --argjson m "$mem"
	start_waiting
	local d=/sys/fs/cgroup/memory/berth-test/$CID
	assert_eq "$(cat "$d/memory.soft_limit_in_bytes")" 33554432 reservation
	assert_eq "$(cat "$d/memory.swappiness")" 10 swappiness
	assert_match "$(cat "$d/memory.oom_control")" 'oom_kill_disable 1' disableOOMKiller
	if have_memsw; then
		assert_eq "$(cat "$d/memory.memsw.limit_in_bytes")" 134217728 swap
	fi
	touch "$OUT/go"
}

@test "pids limit: pids.max on the host, forks past it fail with EAGAIN" {
	cfg '.linux.resources.pids = {"limit": 10}'
	cfg_sh 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max; berth-probe fork 30'
	rt_create
	assert_eq "$(cat "$(hostfile pids pids.max pids.max)")" 10 "pids.max on the host"
	rt_start
	wait_exit >/dev/null
	local out
	out=$(cat "$TD/$CID.stdout")
	assert_match "$out" '^10' "pids.max inside"
	assert_match "$out" 'forked=[0-9] errno=EAGAIN' "fork result"
}

@test "cpu: shares, quota, period, cpus and mems" {
	cfg '.linux.resources.cpu = {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0", "mems": "0"}'
	start_waiting 'berth-probe status Cpus_allowed_list > /out/cpus'
	if cg_is_v2; then
		local d=/sys/fs/cgroup/berth-test/$CID
		assert_eq "$(cat "$d/cpu.max")" "50000 100000" cpu.max
		# runc's conversion of shares to weight: 1 + ((shares - 2) * 9999) / 262142
		assert_eq "$(cat "$d/cpu.weight")" $((1 + ((512 - 2) * 9999) / 262142)) cpu.weight
		assert_eq "$(cat "$d/cpuset.cpus")" 0 cpuset.cpus
	else
		assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.shares)" 512 cpu.shares
		assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.cfs_quota_us)" 50000 cfs_quota_us
		assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.cfs_period_us)" 100000 cfs_period_us
		assert_eq "$(cat /sys/fs/cgroup/cpuset/berth-test/"$CID"/cpuset.cpus)" 0 cpuset.cpus
		assert_eq "$(cat /sys/fs/cgroup/cpuset/berth-test/"$CID"/cpuset.mems)" 0 cpuset.mems
	fi
	assert_eq "$(cat "$OUT/cpus")" 0 "Cpus_allowed_list inside"
	touch "$OUT/go"
}

@test "cpu realtime: runtime and period where the kernel has them, an error naming them where not" {
	cfg '.linux.resources.cpu = {"realtimePeriod": 1000000, "realtimeRuntime": 0}'
	if cg_is_v2 || [[ ! -e /sys/fs/cgroup/cpu/cpu.rt_runtime_us ]]; then
		cfg '.linux.resources.cpu.realtimeRuntime = 1000'
		run rt_run
		assert_failure
		assert_match "$output$(log_errors)" "rt_runtime|realtime" "error"
		return
	fi
	start_waiting 'true'
	assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.rt_period_us)" 1000000 rt_period_us
	assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.rt_runtime_us)" 0 rt_runtime_us
	touch "$OUT/go"
}

@test "blockIO: throttle read/write bps and weight where the kernel has it" {
	local dev
	dev=$(cat /sys/block/"$(ls /sys/block | grep -v -E '^(loop|ram|zram)' | head -n1)"/dev 2>/dev/null) || true
	[[ -n $dev ]] || skip "no block device"
	local maj=${dev%:*} min=${dev#*:}
	local bio
	bio=$(jq -n --argjson maj "$maj" --argjson min "$min" '{
		"throttleReadBpsDevice": [{"major": $maj, "minor": $min, "rate": 1048576}],
		"throttleWriteIOPSDevice": [{"major": $maj, "minor": $min, "rate": 100}]}')
	local weightfile=""
	if cg_is_v2; then
		[[ -e /sys/fs/cgroup/io.weight || -e /sys/fs/cgroup/io.bfq.weight ]] && weightfile=yes
	else
		[[ -e /sys/fs/cgroup/blkio/blkio.weight ]] && weightfile=/sys/fs/cgroup/blkio/berth-test/$CID/blkio.weight
	fi
	[[ -n $weightfile ]] && bio=$(jq -c '.weight = 300' <<<"$bio")
	cfg '.linux.resources.blockIO = $b' --argjson b "$bio"
	start_waiting
	if cg_is_v2; then
		assert_match "$(cat "/sys/fs/cgroup/berth-test/$CID/io.max")" "^$maj:$min rbps=1048576 wbps=max riops=max wiops=100" io.max
	else
		local d=/sys/fs/cgroup/blkio/berth-test/$CID
		assert_eq "$(cat "$d/blkio.throttle.read_bps_device")" "$maj:$min 1048576" read_bps_device
		assert_eq "$(cat "$d/blkio.throttle.write_iops_device")" "$maj:$min 100" write_iops_device
		if [[ -n $weightfile ]]; then
			assert_eq "$(cat "$weightfile")" 300 blkio.weight
		fi
	fi
	touch "$OUT/go"
}

@test "hugepageLimits: set where the hugetlb controller lives (v2 part of a hybrid host)" {
	[[ -d /sys/kernel/mm/hugepages/hugepages-2048kB ]] || skip "no 2MB huge pages"
	local file
	if cg_is_v2; then
		file=/sys/fs/cgroup/berth-test/$CID/hugetlb.2MB.max
	elif [[ -d /sys/fs/cgroup/hugetlb ]]; then
		file=/sys/fs/cgroup/hugetlb/berth-test/$CID/hugetlb.2MB.limit_in_bytes
	elif grep -qw hugetlb /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
		berth_only "runc 1.1 does not use the unified hierarchy of a hybrid host for hugetlb"
		file=/sys/fs/cgroup/unified/berth-test/$CID/hugetlb.2MB.max
	else
		skip "no hugetlb controller"
	fi
	cfg '.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
	start_waiting
	assert_eq "$(cat "$file")" 4194304 "$file"
	touch "$OUT/go"
}

@test "update --resources -: CRI's UpdateContainerResources changes limits live" {
	cfg '.linux.resources.memory = {"limit": 67108864} | .linux.resources.cpu = {"shares": 256}'
	start_waiting
	local res='{"devices":[{"allow":false,"access":"rwm"}],"memory":{"limit":134217728},"cpu":{"shares":1024,"quota":100000,"period":100000},"pids":{"limit":50}}'
	have_memsw && res=$(jq -c '.memory.swap = 134217728' <<<"$res")
	run rt update --resources - "$CID" <<<"$res"
	assert_success
	assert_eq "$(cat "$(hostfile memory memory.limit_in_bytes memory.max)")" 134217728 "memory limit"
	assert_eq "$(cat "$(hostfile pids pids.max pids.max)")" 50 "pids.max"
	if ! cg_is_v2; then
		assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.shares)" 1024 cpu.shares
		assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.cfs_quota_us)" 100000 cfs_quota_us
	fi
	# The devices entry of CRI's payload (deny all) must not take the default
	# devices away: runc's update leaves the device rules as they were.
	run rt exec "$CID" berth-probe write /dev/null </dev/null
	assert_success
	assert_eq "$output" ok "write to /dev/null after update"
	# and the container sees the new limit
	run rt exec "$CID" sh -c "$read_limit_inside" </dev/null
	assert_success
	assert_eq "$output" 134217728 "limit inside after update"
	assert_eq "$(state_field status)" running status
	touch "$OUT/go"
}

@test "update --resources FILE and the single-value flags" {
	cfg '.linux.resources.memory = {"limit": 67108864}'
	start_waiting
	echo '{"memory": {"limit": 100663296}}' >"$TD/res.json"
	run rt update --resources "$TD/res.json" "$CID"
	assert_success
	assert_eq "$(cat "$(hostfile memory memory.limit_in_bytes memory.max)")" 100663296 "memory limit from file"
	run rt update --memory 104857600 --pids-limit 20 --cpu-share 300 "$CID"
	assert_success
	assert_eq "$(cat "$(hostfile memory memory.limit_in_bytes memory.max)")" 104857600 "--memory"
	assert_eq "$(cat "$(hostfile pids pids.max pids.max)")" 20 "--pids-limit"
	cg_is_v2 || assert_eq "$(cat /sys/fs/cgroup/cpu/berth-test/"$CID"/cpu.shares)" 300 "--cpu-share"
	touch "$OUT/go"
}

@test "update: an unknown container fails" {
	run rt update --resources - "nosuch-$CID" <<<'{"memory": {"limit": 67108864}}'
	assert_failure
}

@test "the cgroup filesystem inside the container is read-only" {
	cfg '.linux.resources.memory = {"limit": 67108864}'
	cfg_sh 'f=/sys/fs/cgroup/memory/memory.limit_in_bytes; [ -e $f ] || f=/sys/fs/cgroup/memory.max; berth-probe write $f 4096'
	rt_create
	rt_start
	wait_exit >/dev/null
	assert_match "$(cat "$TD/$CID.stdout")" '^(EROFS|EACCES|EPERM)$' "write to the container's cgroup"
	assert_eq "$(cat "$(hostfile memory memory.limit_in_bytes memory.max)")" 67108864 "limit on the host"
}

@test "cgroupsPath relative: placed under the runtime's cgroup, removed on delete" {
	# The runtime may make a parent for relative paths (runc: its own cgroup;
	# Berth: "berth"); the ones this test makes are removed at the end.
	local before
	before=$(find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d \( -name berth -o -name 'berth-test-rel' \) 2>/dev/null)
	cfg '.linux.cgroupsPath = "berth-test-rel/" + $id' --arg id "$CID"
	start_waiting
	assert_match "$(grep -E ':memory:|^0::' "/proc/$(cpid)/cgroup" | head -n1)" "/berth-test-rel/$CID\$" "cgroup of init"
	touch "$OUT/go"
	wait_exit >/dev/null
	run rt delete "$CID"
	assert_success
	local left
	left=$(find /sys/fs/cgroup -mindepth 2 -maxdepth 7 -type d -name "$CID" 2>/dev/null)
	[[ -z $left ]] || fail "cgroup left: $left"
	local d
	for d in $(find /sys/fs/cgroup -mindepth 1 -maxdepth 6 -type d \( -name berth -o -name 'berth-test-rel' \) 2>/dev/null | sort -r); do
		grep -qxF "$d" <<<"$before" || rmdir "$d" 2>/dev/null || true
	done
}

@test "delete removes the container's cgroup in every hierarchy" {
	cfg '.linux.resources.memory = {"limit": 67108864} | .linux.resources.pids = {"limit": 100}'
	start_waiting
	[[ -n $(cg_dirs_of "$CID") ]] || fail "no cgroup made"
	touch "$OUT/go"
	wait_exit >/dev/null
	run rt delete "$CID"
	assert_success
	assert_eq "$(cg_dirs_of "$CID")" "" "cgroup dirs after delete"
}

# want_cgroup_lines ID: what /proc/self/cgroup shows for a process in the
# container's cgroup: every hierarchy this shell is in (each v1 one and the
# cgroup2 one, also the unified part of a hybrid host), at the container's
# path (the test config has no cgroup namespace).
want_cgroup_lines() {
	sed -E "s#^([0-9]+:[^:]*):.*#\\1:/berth-test/$1#" /proc/self/cgroup
}

# Berth moves the process into the v1 hierarchies from inside (it writes
# "0" to each `tasks` file) and has it born in the cgroup2 one; the first
# thing the container's program does is read where it is.
@test "the container's process is in its cgroup in every hierarchy when its program starts" {
	cfg_args cat /proc/self/cgroup
	rt_create
	rt_start
	wait_exit >/dev/null
	assert_eq "$(cat "$TD/$CID.stdout")" "$(want_cgroup_lines "$CID")" "/proc/self/cgroup of the container's process"
}

@test "an exec'd process is in the container's cgroup in every hierarchy, and counts against pids.max" {
	cfg '.linux.resources.pids = {"limit": 10}'
	start_waiting
	run rt exec "$CID" cat /proc/self/cgroup </dev/null
	assert_success
	assert_eq "$output" "$(want_cgroup_lines "$CID")" "/proc/self/cgroup of the exec'd process"
	run rt exec "$CID" berth-probe fork 30 </dev/null
	assert_match "$output" 'forked=[0-9] errno=EAGAIN' "forks of the exec'd process past pids.max"
	touch "$OUT/go"
}

# A child in a new user namespace is moved by the runtime instead.
userns_bundle() {
	cfg -b "$1" '.linux.namespaces += [{"type": "user"}]
		| .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
		| .linux.resources.pids = {"limit": 10}'
	chown -R 100000:100000 "$1/rootfs"
}

@test "with a user namespace: in its cgroup in every hierarchy, for run and exec" {
	userns_bundle "$BUNDLE"
	cfg_args cat /proc/self/cgroup
	run rt_run
	assert_success
	assert_eq "$output" "$(want_cgroup_lines "$CID")" "/proc/self/cgroup of the container's process"
	new_cid CID
	BUNDLE=$TD/bundle2
	make_bundle "$BUNDLE" "$CID"
	userns_bundle "$BUNDLE"
	start_waiting
	run rt exec "$CID" cat /proc/self/cgroup </dev/null
	assert_success
	assert_eq "$output" "$(want_cgroup_lines "$CID")" "/proc/self/cgroup of the exec'd process"
	touch "$OUT/go"
}
