#!/usr/bin/env bats
# Pull from a real registry: one layer, several layers with whiteouts,
# zstd and plain layers, a manifest list; layers shared between images are
# stored once; a second pull downloads nothing; the rootfs (overlay and
# vfs) shows the union of the layers.

load helpers

setup_file() {
	image_setup_file
	registry_start REG
	export REG_HOST REG_PID REG_DIR
	push_fixture one "$REG_HOST/test/one:latest"
	push_fixture multi "$REG_HOST/test/multi:latest"
	push_fixture zstd "$REG_HOST/test/zstd:latest"
	push_fixture list "$REG_HOST/test/list:latest"
}

teardown_file() { image_teardown_file; }

@test "pull: one layer, recorded in berth.db (WAL), blobs and layer on disk" {
	run bt pull "$REG_HOST/test/one"
	[ "$status" -eq 0 ] || die "pull failed"
	id=${lines[-1]}
	[[ $id == sha256:* ]] || die "no id"
	[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("PRAGMA journal_mode").fetchone()[0])' "$STORE/berth.db")" = wal ]
	run bt images
	[ "$status" -eq 0 ]
	echo "$output" | jq -e --arg h "$REG_HOST" '.[0].RepoTags == [($h + "/test/one:latest")]' >/dev/null || die "tags"
	echo "$output" | jq -e '.[0].RepoDigests[0] | test("@sha256:")' >/dev/null || die "digests"
	echo "$output" | jq -e '.[0].Size > 1000000' >/dev/null || die "size"
	# every blob of the image is in the store, verified by name
	for b in "$STORE"/blobs/sha256/*; do
		[ "$(sha256sum "$b" | cut -d' ' -f1)" = "$(basename "$b")" ] || die "blob $b"
	done
	[ "$(ls "$STORE/layers" | wc -l)" -eq 1 ]
	[ -x "$STORE/layers/$(ls "$STORE/layers")/diff/bin/busybox" ]
	[ -z "$(ls -A "$STORE/blobs/ingest")" ] || die "partial ingest left"
}

@test "pull: a second pull downloads nothing" {
	run bt pull "$REG_HOST/test/one"
	[ "$status" -eq 0 ]
	[[ $output == *"Status: Image is up to date for"* ]] || die "expected up to date"
	[[ $output != *"Download complete"* ]] || die "downloaded again"
}

@test "pull: three layers, whiteouts and opaque dirs, base layer shared with the first image" {
	run bt pull "$REG_HOST/test/multi"
	[ "$status" -eq 0 ] || die "pull failed"
	[ "$(grep -c 'Already exists' <<<"$output")" -eq 1 ] || die "base layer not shared"
	[ "$(ls "$STORE/layers" | wc -l)" -eq 3 ]
	run bt inspect "$REG_HOST/test/multi"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.RootFS.Layers | length == 3' >/dev/null
	echo "$output" | jq -e '.Config.Cmd == ["/bin/sh"] and .Os == "linux"' >/dev/null
	run bt history "$REG_HOST/test/multi"
	[ "$status" -eq 0 ]
	echo "$output" | jq -e 'length == 3 and .[0].CreatedBy == "mkimages.py layer 2"' >/dev/null
}

check_multi_rootfs() {
	local r=$1
	[ -x "$r/bin/busybox" ] || die "no busybox"
	[ ! -e "$r/etc/a" ] || die "whiteout did not hide etc/a"
	[ "$(cat "$r/etc/b")" = b ] || die "etc/b"
	[ "$(ls "$r/data/dir")" = z ] || die "opaque dir shows: $(ls "$r/data/dir")"
	[ "$(cat "$r/data/keep")" = keep ]
	[ "$(stat -c %u:%g:%a "$r/data/owned")" = 1000:1000:640 ] || die "owner/mode"
	[ "$(stat -c %a "$r/data/suid")" = 4755 ] || die "setuid bit"
}

@test "rootfs: overlay of the layers; writes go to the container's upper dir only" {
	target=$IMG_TMP/rootfs-overlay
	mkdir -p "$target"
	run bt rootfs-create c-overlay "$REG_HOST/test/multi" "$target"
	[ "$status" -eq 0 ] || die "rootfs-create"
	grep -q " $target overlay " /proc/self/mounts || die "not an overlay"
	check_multi_rootfs "$target"
	echo new >"$target/etc/b"
	rm "$target/data/keep"
	for l in "$STORE"/layers/*/diff; do
		[ ! -e "$l/etc/b" ] || [ "$(cat "$l/etc/b")" = b ] || die "lower layer changed"
	done
	run bt rootfs-remove c-overlay "$target"
	[ "$status" -eq 0 ] || die "rootfs-remove"
	! grep -q " $target " /proc/self/mounts
	[ ! -e "$STORE/containers/c-overlay" ] || die "container dir left"
}

@test "rootfs: the vfs fallback copies the same union" {
	target=$IMG_TMP/rootfs-vfs
	mkdir -p "$target"
	run bt rootfs-create c-vfs "$REG_HOST/test/multi" "$target" --vfs
	[ "$status" -eq 0 ] || die "rootfs-create --vfs"
	! grep -q " $target overlay " /proc/self/mounts || die "vfs should not be an overlay"
	check_multi_rootfs "$target"
	run bt rootfs-remove c-vfs "$target"
	[ "$status" -eq 0 ]
}

@test "pull: zstd and uncompressed layers" {
	run bt pull "$REG_HOST/test/zstd"
	[ "$status" -eq 0 ] || die "pull failed"
	target=$IMG_TMP/rootfs-zstd
	mkdir -p "$target"
	run bt rootfs-create c-zstd "$REG_HOST/test/zstd" "$target"
	[ "$status" -eq 0 ]
	check_multi_rootfs "$target"
	bt rootfs-remove c-zstd "$target"
}

@test "pull: a manifest list gives this host's platform, or the one asked for" {
	run bt pull "$REG_HOST/test/list"
	[ "$status" -eq 0 ] || die "pull"
	run bt inspect "$REG_HOST/test/list"
	echo "$output" | jq -e '.Architecture == "amd64"' >/dev/null || die "arch"
	target=$IMG_TMP/rootfs-list
	mkdir -p "$target"
	bt rootfs-create c-list "$REG_HOST/test/list" "$target"
	[ "$(cat "$target/platform")" = linux/amd64 ]
	bt rootfs-remove c-list "$target"

	run bt pull --platform linux/arm64 "$REG_HOST/test/list"
	[ "$status" -eq 0 ] || die "pull arm64"
	run bt inspect "$REG_HOST/test/list"
	echo "$output" | jq -e '.Architecture == "arm64"' >/dev/null || die "arm64 not tagged"
	bt rootfs-create c-list2 "$REG_HOST/test/list" "$target"
	[ "$(cat "$target/platform")" = linux/arm64 ]
	bt rootfs-remove c-list2 "$target"

	run bt pull --platform linux/s390x "$REG_HOST/test/list"
	[ "$status" -ne 0 ]
	[[ $output == *"linux/s390x"* ]] || die "error should name the platform"
}

@test "pull: a reference that does not parse, and one the registry does not have" {
	run bt pull "$REG_HOST/Test/UPPER"
	[ "$status" -ne 0 ]
	[[ $output == *"invalid reference"* ]] || die "expected invalid reference"
	run bt pull "$REG_HOST/test/missing:1"
	[ "$status" -ne 0 ]
	[[ $output == *"test/missing"* ]] || die "error should name the repository"
	[ -z "$(ls -A "$STORE/blobs/ingest")" ]
}

@test "pull: an image of 120 layers mounts (more than fit in mount(2)'s page of options)" {
	push_fixture many "$REG_HOST/test/many:latest"
	run bt pull --jobs 8 "$REG_HOST/test/many"
	[ "$status" -eq 0 ] || die "pull"
	target=$IMG_TMP/rootfs-many
	mkdir -p "$target"
	run bt rootfs-create c-many "$REG_HOST/test/many" "$target"
	[ "$status" -eq 0 ] || die "rootfs-create"
	[ "$(ls "$target/many" | wc -l)" -eq 120 ] || die "not every layer is visible"
	[ "$(cat "$target/many/119")" = 119 ]
	bt rootfs-remove c-many "$target"
	bt rmi "$REG_HOST/test/many" >/dev/null
}

@test "tag, rmi and prune keep names, layers and blobs consistent" {
	bt tag "$REG_HOST/test/one" mine:1
	run bt inspect mine:1
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.RepoTags | index("mine:1") != null' >/dev/null || die "tag missing"
	# an image a container uses is not removed
	target=$IMG_TMP/rootfs-used
	mkdir -p "$target"
	bt rootfs-create c-used mine:1 "$target"
	run bt rmi "$(bt inspect mine:1 | jq -r .Id)"
	[ "$status" -ne 0 ]
	[[ $output == *"being used by 1 container"* ]] || die "expected in-use refusal"
	bt rootfs-remove c-used "$target"
	run bt rmi mine:1
	[ "$status" -eq 0 ]
	[ "$output" = "Untagged: mine:1" ] || die "untag only"
	run bt rmi "$REG_HOST/test/one"
	[ "$status" -eq 0 ]
	[[ $output == *"Deleted: sha256:"* ]] || die "image not deleted"
	# the busybox layer stays: test/multi still uses it
	run bt check
	[ "$status" -eq 0 ]
	[[ $output == *"nothing to repair"* ]] || die "store inconsistent after rmi"
	# forced while in use: the names go, the image stays for its container
	multi=$(bt inspect "$REG_HOST/test/multi" | jq -r .Id)
	bt rootfs-create c-forced "$multi" "$target"
	run bt rmi -f "$multi"
	[ "$status" -eq 0 ] || die "rmi -f"
	[[ $output == *"Untagged: $REG_HOST/test/multi:latest"* && $output != *Deleted* ]] || die "forced rmi should only untag"
	[ "$(bt inspect "$multi" | jq -c .RepoTags)" = "[]" ]
	[ -x "$target/bin/busybox" ]
	bt rootfs-remove c-forced "$target"
	run bt prune -a
	[ "$status" -eq 0 ]
	run bt images
	[ "$output" = "[]" ] || die "images left: $output"
	[ -z "$(ls -A "$STORE/layers")" ] || die "layers left: $(ls "$STORE/layers")"
	[ -z "$(ls -A "$STORE/blobs/sha256")" ] || die "blobs left"
}
