#!/usr/bin/env bats
# config.json "mounts" and "root": binds, tmpfs, flags and their effects,
# propagation, symlinks in destinations, the read-only root, pivot_root.

load helpers

# add_mount DEST TYPE SOURCE OPTION...: append a mount to the config.
add_mount() {
	local dest=$1 type=$2 src=$3
	shift 3
	cfg '.mounts += [{"destination": $d, "type": $t, "source": $s, "options": $o}]' \
		--arg d "$dest" --arg t "$type" --arg s "$src" --argjson o "$(json_array "$@")"
}

@test "bind mount ro: files readable, writes fail with EROFS" {
	mkdir -p "$TD/src"
	echo host-content >"$TD/src/file"
	add_mount /mnt/ro bind "$TD/src" rbind ro
	cfg_sh 'cat /mnt/ro/file; berth-probe write /mnt/ro/file; berth-probe write /mnt/ro/new'
	run rt_run
	assert_eq "${lines[0]}" host-content read
	assert_eq "${lines[1]}" EROFS "overwrite"
	assert_eq "${lines[2]}" EROFS "create"
	assert_eq "$(cat "$TD/src/file")" host-content "host file"
}

@test "bind mount rw: writes inside land on the host" {
	mkdir -p "$TD/src"
	add_mount /mnt/rw bind "$TD/src" rbind rw
	probe_run write /mnt/rw/new from-container
	assert_success
	assert_eq "$output" ok write
	assert_eq "$(cat "$TD/src/new")" from-container "host file"
}

@test "bind mount of a single file, to a destination that does not exist yet" {
	echo single-file >"$TD/hostfile"
	add_mount /etc/bound-file bind "$TD/hostfile" bind ro
	cfg_sh 'cat /etc/bound-file; berth-probe stat /etc/bound-file'
	run rt_run
	assert_success
	assert_eq "${lines[0]}" single-file content
	assert_match "${lines[1]}" '^f ' "file type"
}

@test "tmpfs: size and mode options" {
	add_mount /mnt/t tmpfs tmpfs size=2m mode=1770 nosuid
	cfg_sh 'berth-probe statfs /mnt/t; berth-probe stat /mnt/t'
	run rt_run
	assert_success
	assert_match "${lines[0]}" '^magic=0x1021994 size=2097152 ' "statfs (tmpfs, 2 MiB)"
	assert_match "${lines[0]}" 'nosuid' "nosuid"
	assert_match "${lines[1]}" '^d 1770 ' "mode"
}

@test "mount flags: nosuid, nodev, noexec are set and noexec stops exec" {
	mkdir -p "$TD/src"
	cp /bin/busybox "$TD/src/busybox"
	add_mount /mnt/flags bind "$TD/src" rbind nosuid nodev noexec
	add_mount /mnt/exec bind "$TD/src" rbind
	cfg_sh 'berth-probe statfs /mnt/flags; berth-probe exec /mnt/flags/busybox true; berth-probe exec /mnt/exec/busybox true && echo exec-ok'
	run rt_run
	assert_match "${lines[0]}" 'nosuid' nosuid
	assert_match "${lines[0]}" 'nodev' nodev
	assert_match "${lines[0]}" 'noexec' noexec
	assert_eq "${lines[1]}" EACCES "exec on noexec"
	assert_eq "${lines[2]}" exec-ok "exec without noexec"
}

@test "mount flags: nodev stops opening device nodes" {
	add_mount /mnt/dev tmpfs tmpfs nodev
	add_mount /mnt/devok tmpfs tmpfs
	cfg '.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"] | .process.capabilities.permitted += ["CAP_MKNOD"]'
	cfg_sh 'mknod /mnt/dev/null c 1 3 && berth-probe open /mnt/dev/null w; mknod /mnt/devok/null c 1 3 && berth-probe open /mnt/devok/null w'
	run rt_run
	assert_eq "${lines[0]}" EACCES "open on nodev"
	assert_eq "${lines[1]}" ok "open without nodev"
}

@test "mount flags: ro tmpfs, noatime and relatime show in mountinfo" {
	add_mount /mnt/rot tmpfs tmpfs ro
	add_mount /mnt/noatime tmpfs tmpfs noatime
	cfg_sh 'berth-probe write /mnt/rot/x; berth-probe mountinfo /mnt/noatime'
	run rt_run
	assert_eq "${lines[0]}" EROFS "write to ro tmpfs"
	assert_match "${lines[1]}" 'opts=[^ ]*noatime' "noatime"
}

@test "rbind brings sub-mounts along, bind does not" {
	mkdir -p "$TD/src/sub"
	host_mount -t tmpfs -o size=1m tmpfs "$TD/src/sub"
	echo in-submount >"$TD/src/sub/marker"
	add_mount /mnt/rbind bind "$TD/src" rbind
	add_mount /mnt/bind bind "$TD/src" bind
	cfg_sh 'cat /mnt/rbind/sub/marker; ls /mnt/bind/sub | wc -l'
	run rt_run
	assert_eq "${lines[0]}" in-submount "rbind"
	assert_eq "${lines[1]}" 0 "bind (sub-mount not included)"
}

# A shared mount on the host at $TD/prop (this host's mounts are private).
make_shared_dir() {
	mkdir -p "$TD/prop"
	host_mount --bind "$TD/prop" "$TD/prop"
	mount --make-shared "$TD/prop"
}

@test "propagation rslave: a mount made on the host after start appears inside" {
	make_shared_dir
	add_mount /mnt/prop bind "$TD/prop" rbind rslave
	cfg_sh 'mkdir -p /out; echo ready > /out/ready; berth-probe wait-mount /mnt/prop/sub 10 > /out/seen'
	mkdir -p "$TD/prop/sub"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	host_mount -t tmpfs tmpfs "$TD/prop/sub"
	wait_for_file "$OUT/seen" 15
	assert_eq "$(cat "$OUT/seen")" yes "host mount seen inside"
}

@test "propagation rprivate: a mount made on the host after start does not appear" {
	make_shared_dir
	add_mount /mnt/prop bind "$TD/prop" rbind rprivate
	cfg_sh 'echo ready > /out/ready; berth-probe wait-mount /mnt/prop/sub 1.5 > /out/seen'
	mkdir -p "$TD/prop/sub"
	rt_create
	rt_start
	wait_for_file "$OUT/ready"
	host_mount -t tmpfs tmpfs "$TD/prop/sub"
	wait_for_file "$OUT/seen" 15
	assert_eq "$(cat "$OUT/seen")" no "host mount seen inside"
}

@test "propagation runbindable: the mount cannot be bind-mounted elsewhere inside" {
	mkdir -p "$TD/unb"
	add_mount /mnt/unb bind "$TD/unb" rbind runbindable
	cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	cfg_sh 'mkdir -p /tmp/copy; if mount --bind /mnt/unb /tmp/copy 2>/dev/null; then echo bound; else echo refused; fi; grep " /mnt/unb " /proc/self/mountinfo'
	run rt_run
	assert_success
	assert_match "$output" refused "bind of an unbindable mount"
	assert_match "$output" unbindable "mountinfo of /mnt/unb"
}

@test "propagation rshared: a mount made inside appears on the host" {
	make_shared_dir
	mkdir -p "$TD/prop/fromct"
	add_mount /mnt/prop bind "$TD/prop" rbind rshared
	# As kubelet's Bidirectional propagation: the container's mount tree is
	# rshared, so the bind stays a peer of the host's shared mount.
	cfg '.linux.rootfsPropagation = "rshared"'
	cfg '.process.capabilities.bounding += ["CAP_SYS_ADMIN"] | .process.capabilities.effective += ["CAP_SYS_ADMIN"] | .process.capabilities.permitted += ["CAP_SYS_ADMIN"]'
	cfg_sh 'mount -t tmpfs tmpfs /mnt/prop/fromct && echo mounted > /out/done; sleep 100'
	rt_create
	rt_start
	wait_for_file "$OUT/done"
	HOST_MOUNTS+=("$TD/prop/fromct")
	wait_for 10 grep -q " $TD/prop/fromct " /proc/self/mountinfo || fail "the container's mount did not reach the host"
	assert_eq "$(stat -f -c %T "$TD/prop/fromct")" tmpfs "host view"
}

@test "mount destinations: a symlink in the rootfs cannot lead a mount out of it" {
	mkdir -p "$TD/victim"
	# absolute and relative symlinks pointing at a host directory
	ln -s "$TD/victim" "$BUNDLE/rootfs/escape-abs"
	ln -s "../../../../../../../../../../..$TD/victim" "$BUNDLE/rootfs/escape-rel"
	add_mount /escape-abs/m1 tmpfs tmpfs size=1m
	add_mount /escape-rel/m2 tmpfs tmpfs size=1m
	cfg_sh 'echo ok > /escape-abs/m1/x; echo ok > /escape-rel/m2/y; echo done'
	run rt_run
	# Whatever the runtime made of it, nothing happened on the host side.
	[[ ! -e $TD/victim/m1 && ! -e $TD/victim/m2 ]] || fail "a mount point was created in the host dir: $(ls "$TD/victim")"
	! _mounts_under "$TD/victim" | grep -q . || fail "a mount landed on the host"
	if [[ $status -eq 0 ]]; then
		assert_match "$output" done output
	fi
}

@test "root.readonly: the root filesystem is read-only, mounts on it stay writable" {
	cfg '.root.readonly = true'
	add_mount /tmp tmpfs tmpfs size=1m
	cfg_sh 'berth-probe write /newfile; berth-probe write /bin/busybox; berth-probe write /tmp/x; berth-probe write /out/x'
	run rt_run
	assert_eq "${lines[0]}" EROFS "create in /"
	assert_eq "${lines[1]}" EROFS "write /bin/busybox"
	assert_eq "${lines[2]}" ok "tmpfs"
	assert_eq "${lines[3]}" ok "bind rw"
}

@test "the container never sees the host's mounts (pivot_root)" {
	cfg_sh 'cat /proc/self/mountinfo; echo ---; ls /'
	run rt_run
	assert_success
	local inside=${output%%---*} root_ls=${output#*---}
	# No mount point of the host other than the standard ones shows inside,
	# and the rootfs path of the bundle does not either.
	local mp
	while read -r mp; do
		case $mp in
		/ | /proc | /proc/* | /sys | /sys/* | /dev | /dev/*) continue ;;
		esac
		! awk '{print $5}' <<<"$inside" | grep -qx -F "$mp" || fail "host mount $mp visible inside"
	done < <(awk '{print $5}' /proc/self/mountinfo)
	! awk '{print $5}' <<<"$inside" | grep -q -F "$BUNDLE" || fail "the bundle path is a mount point inside: $inside"
	# / is the rootfs
	grep -qx bin <<<"$root_ls" || fail "/ is not the rootfs: $root_ls"
	grep -qx out <<<"$root_ls" || fail "/ is not the rootfs: $root_ls"
}

@test "--no-pivot: MS_MOVE + chroot still hides the host's mounts" {
	cfg_sh '[ $$ = 1 ] && echo sh-is-pid1; ls /; cat /proc/self/mountinfo'
	run rt_run --no-pivot
	assert_success
	assert_eq "${lines[0]}" sh-is-pid1 pid
	grep -qx bin <<<"$output" || fail "/ is not the rootfs: $output"
	! grep -q ' /work ' <<<"$output" || fail "host mount visible: $output"
}

@test "proc, sysfs (ro), devpts, mqueue and shm are mounted as configured" {
	cfg_sh 'for m in /proc /sys /dev/pts /dev/mqueue /dev/shm; do berth-probe mountinfo $m; done; berth-probe write /sys/kernel/uevent_helper'
	run rt_run
	assert_match "${lines[0]}" 'fstype=proc ' /proc
	assert_match "${lines[1]}" 'fstype=sysfs ' /sys
	assert_match "${lines[1]}" 'opts=ro' "/sys read-only"
	assert_match "${lines[2]}" 'fstype=devpts ' /dev/pts
	assert_match "${lines[3]}" 'fstype=mqueue ' /dev/mqueue
	assert_match "${lines[4]}" 'fstype=tmpfs ' /dev/shm
	assert_eq "${lines[5]}" EROFS "write in /sys"
}
