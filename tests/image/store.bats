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
