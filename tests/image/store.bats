#!/usr/bin/env bats
# Hostile layers never write outside the layer; a pull killed with SIGKILL
# at any point leaves a store the check repairs and a second pull
# finishes; the check finds corrupt blobs and missing layers; save, load,
# import and OCI export round-trip with Docker's and OCI's formats.

load helpers

setup_file() {
	image_setup_file
	registry_start REG
	export REG_HOST
	for k in hostile-dotdot hostile-abs-symlink hostile-hardlink hostile-whiteout hostile-device; do
		push_fixture "$k" "$REG_HOST/hostile/$k:latest"
	done
	push_fixture big "$REG_HOST/test/big:latest"
	push_fixture multi "$REG_HOST/test/multi:latest"
}

teardown_file() {
	dockerd_stop
	rm -f /tmp/berth-hostile-dotdot /tmp/berth-hostile-symlink
	image_teardown_file
}

no_temp_layers() {
	! ls -A "$STORE/layers" | grep -q '^\.tmp-' || die "temporary layer dirs left: $(ls -A "$STORE/layers")"
}

@test "hostile: a ../ entry is refused and nothing is written outside" {
	run bt pull "$REG_HOST/hostile/hostile-dotdot"
	[ "$status" -ne 0 ]
	[[ $output == *"leads outside the layer"* ]] || die "expected a clear error"
	[ ! -e /tmp/berth-hostile-dotdot ]
	no_temp_layers
	run bt images
	[ "$output" = "[]" ]
}

@test "hostile: a file under an absolute symlink never lands outside the layer" {
	rm -f /tmp/berth-hostile-symlink
	run bt pull "$REG_HOST/hostile/hostile-abs-symlink"
	# the symlink resolves inside the layer (RESOLVE_IN_ROOT), where /tmp
	# does not exist: the entry is refused, naming it
	[ "$status" -ne 0 ]
	[[ $output == *'layer entry "escape/berth-hostile-symlink"'* ]] || die "expected the entry named"
	[ ! -e /tmp/berth-hostile-symlink ] || die "escaped through the symlink"
	no_temp_layers
}

@test "hostile: a hardlink to a host file is refused" {
	before=$(sha256sum /etc/passwd)
	run bt pull "$REG_HOST/hostile/hostile-hardlink"
	[ "$status" -ne 0 ]
	[[ $output == *"leads outside the layer"* ]] || die "expected a clear error"
	[ "$(sha256sum /etc/passwd)" = "$before" ]
	[ "$(stat -c %h /etc/passwd)" -eq 1 ] || die "/etc/passwd got a link"
	no_temp_layers
}

@test "hostile: a whiteout aimed outside the layer is refused" {
	echo canary >/tmp/berth-hostile-canary
	run bt pull "$REG_HOST/hostile/hostile-whiteout"
	rc=$status
	[ -e /tmp/berth-hostile-canary ] || die "the whiteout deleted a host file"
	rm -f /tmp/berth-hostile-canary
	[ "$rc" -ne 0 ]
	[[ $output == *"leads outside the layer"* ]] || die "expected a clear error"
	no_temp_layers
}

@test "hostile: a device node stays a node inside the layer (root may, as in Docker)" {
	run bt pull "$REG_HOST/hostile/hostile-device"
	[ "$status" -eq 0 ] || die "pull"
	dev=$(find "$STORE/layers" -name berth-mem)
	[ -c "$dev" ]
	[ ! -e /dev/berth-mem ]
}

@test "crash: kill -9 during a pull, then check and a second pull succeed" {
	store_before=$STORE
	for delay in 0.05 0.2 0.4 0.8; do
		STORE=$(mktemp -d "$IMG_TMP/crash.XXXXXX")
		bt pull "$REG_HOST/test/big" >/dev/null 2>&1 &
		pid=$!
		sleep "$delay"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		run bt check
		[ "$status" -eq 0 ] || die "check after kill at ${delay}s"
		no_temp_layers
		run bt pull "$REG_HOST/test/big"
		[ "$status" -eq 0 ] || die "second pull after kill at ${delay}s"
		run bt check
		[[ $output == *"nothing to repair"* ]] || die "not clean after the second pull"
		[ "$(ls "$STORE/layers" | wc -l)" -eq 6 ]
		rm -rf "$STORE"
	done
	STORE=$store_before
}

@test "check: a corrupt blob and a missing layer directory are found and repaired" {
	run bt pull "$REG_HOST/test/multi"
	[ "$status" -eq 0 ]
	layer=$(ls "$STORE/layers" | head -1)
	rm -rf "${STORE:?}/layers/$layer"
	run bt check
	[ "$status" -eq 0 ]
	[[ $output == *"extracted again"* ]] || die "missing layer not re-extracted"
	[ -d "$STORE/layers/$layer/diff" ]
	# corrupt the config blob: the image cannot be trusted any more
	cfg=$(bt inspect "$REG_HOST/test/multi" | jq -r .Id | cut -d: -f2)
	echo corrupt >>"$STORE/blobs/sha256/$cfg"
	run bt check
	[ "$status" -eq 0 ]
	[[ $output == *"corrupt blob"* ]] || die "corrupt blob not reported"
	[[ $output == *"removed (pull it again)"* ]] || die "broken image not removed"
	run bt pull "$REG_HOST/test/multi"
	[ "$status" -eq 0 ] || die "pull after repair"
	run bt check
	[[ $output == *"nothing to repair"* ]]
}

@test "save and load: Docker's archive format, read back by Berth and by podman load" {
	bt pull "$REG_HOST/test/multi" >/dev/null
	bt save -o "$IMG_TMP/multi.tar" "$REG_HOST/test/multi"
	tar -tf "$IMG_TMP/multi.tar" | grep -qx manifest.json
	tar -tf "$IMG_TMP/multi.tar" | grep -qx index.json
	other=$(mktemp -d "$IMG_TMP/load.XXXXXX")
	run "$TOOL" --root "$other" load -i "$IMG_TMP/multi.tar"
	[ "$status" -eq 0 ] || die "load"
	[[ $output == *"$REG_HOST/test/multi:latest"* ]] || die "tag not loaded"
	a=$(bt inspect "$REG_HOST/test/multi" | jq -c .RootFS)
	b=$("$TOOL" --root "$other" inspect "$REG_HOST/test/multi" | jq -c .RootFS)
	[ "$a" = "$b" ] || die "layers differ"
	rm -rf "$other"
	if command -v podman >/dev/null; then
		p=$(mktemp -d "$IMG_TMP/podman.XXXXXX")
		run podman --root "$p/root" --runroot "$p/run" --storage-driver vfs load -i "$IMG_TMP/multi.tar"
		rm -rf "$p"
		[ "$status" -eq 0 ] || die "podman load"
	fi
	rm -f "$IMG_TMP/multi.tar"
}

# dockerd_start: a private dockerd (vfs, no bridge, no iptables) on a
# socket under $IMG_TMP; sets DOCKER (the CLI with -H) and DOCKERD_DIR.
dockerd_start() {
	DOCKERD_DIR=$(mktemp -d "$IMG_TMP/dockerd.XXXXXX")
	echo '{}' >"$DOCKERD_DIR/daemon.json"
	dockerd --data-root "$DOCKERD_DIR/data" --exec-root "$DOCKERD_DIR/exec" -H "unix://$DOCKERD_DIR/sock" \
		--pidfile "$DOCKERD_DIR/pid" --bridge=none --iptables=false --ip6tables=false --storage-driver=vfs \
		--config-file "$DOCKERD_DIR/daemon.json" >"$DOCKERD_DIR/log" 2>&1 &
	echo $! >"$DOCKERD_DIR/dockerd.pid"
	DOCKER=(docker -H "unix://$DOCKERD_DIR/sock")
	for _ in $(seq 100); do
		"${DOCKER[@]}" version >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$DOCKERD_DIR/log" >&2
	return 1
}

# dockerd_stop [DIR]: stop the dockerd of DIR (default $DOCKERD_DIR) and
# remove DIR; with no dockerd known, every one under $IMG_TMP (teardown).
dockerd_stop() {
	local dir=${1:-${DOCKERD_DIR:-}} pid
	if [[ -z $dir ]]; then
		for dir in "$IMG_TMP"/dockerd.*; do
			[[ -d $dir ]] && dockerd_stop "$dir"
		done
		return 0
	fi
	[[ -f $dir/dockerd.pid ]] || return 0
	DOCKERD_DIR=$dir
	pid=$(cat "$DOCKERD_DIR/dockerd.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -9 "$pid" 2>/dev/null || true
	grep -o " $DOCKERD_DIR[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l
	rm -rf "$DOCKERD_DIR"
	DOCKERD_DIR=
}

@test "save and load with Docker: docker load runs Berth's archive, Berth loads docker save's" {
	command -v dockerd >/dev/null || skip "dockerd not installed"
	dockerd_start || die "dockerd did not start"
	bt pull "$REG_HOST/test/multi" >/dev/null
	bt save -o "$IMG_TMP/to-docker.tar" "$REG_HOST/test/multi"
	run "${DOCKER[@]}" load -i "$IMG_TMP/to-docker.tar"
	[ "$status" -eq 0 ] || { dockerd_stop; die "docker load"; }
	run "${DOCKER[@]}" run --rm --network none "$REG_HOST/test/multi" sh -c 'cat /etc/b; ls /data/dir'
	[ "$status" -eq 0 ] && [ "$output" = "$(printf 'b\nz')" ] || { dockerd_stop; die "docker run"; }
	"${DOCKER[@]}" tag "$REG_HOST/test/multi" from-docker:1
	"${DOCKER[@]}" save -o "$IMG_TMP/from-docker.tar" from-docker:1
	dockerd_stop
	other=$(mktemp -d "$IMG_TMP/load.XXXXXX")
	run "$TOOL" --root "$other" load -i "$IMG_TMP/from-docker.tar"
	[ "$status" -eq 0 ] || die "berth load of docker save"
	[[ $output == *"from-docker:1"* ]] || die "tag"
	a=$(bt inspect "$REG_HOST/test/multi" | jq -c .RootFS)
	b=$("$TOOL" --root "$other" inspect from-docker:1 | jq -c .RootFS)
	[ "$a" = "$b" ] || die "layers differ: $a / $b"
	rm -rf "$other" "$IMG_TMP/to-docker.tar" "$IMG_TMP/from-docker.tar"
}

@test "import: a rootfs tar becomes a one-layer image with config changes" {
	tar -C "$(dirname "$(readlink -f /bin/busybox)")" -cf "$IMG_TMP/rootfs.tar" busybox
	run bt import -c 'CMD ["/busybox","true"]' -c 'ENV A=b' -c 'WORKDIR /w' "$IMG_TMP/rootfs.tar" imported:1
	[ "$status" -eq 0 ] || die "import"
	run bt inspect imported:1
	echo "$output" | jq -e '.Config.Cmd == ["/busybox","true"] and (.Config.Env | index("A=b")) != null and .Config.WorkingDir == "/w"' >/dev/null || die "config"
	echo "$output" | jq -e '.RootFS.Layers | length == 1' >/dev/null
	rm -f "$IMG_TMP/rootfs.tar"
}

@test "export: an OCI image layout that skopeo reads" {
	bt export-oci "$IMG_TMP/oci" "$REG_HOST/test/multi"
	run skopeo inspect "oci:$IMG_TMP/oci:latest"
	[ "$status" -eq 0 ] || die "skopeo inspect"
	echo "$output" | jq -e '.Layers | length == 3' >/dev/null
	rm -rf "$IMG_TMP/oci"
}
