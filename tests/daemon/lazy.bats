#!/usr/bin/env bats
# berthd loads libarchive, libcurl, libcrypto and gnutls only when it
# needs them (src/lazy): the executables do not link them, an idle daemon
# does not map them, an import maps libarchive (and libcrypto, for the
# digests) and works, and running containers of an image it has maps
# none of them.  Each library costs megabytes of resident memory.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	mkdir -p "$DAEMON_TMP"
	berthd_start
	export BERTHD_PID DOCKER_HOST
}

teardown_file() {
	daemon_cleanup
	rm -rf "$DAEMON_TMP"
}

docker() { "$DOCKER_CLI" "$@"; }

# The delay-loaded libraries berthd has mapped, by name: "archive crypto".
mapped() {
	grep -oE '/lib(archive|curl|crypto|gnutls)\.so' "/proc/$BERTHD_PID/maps" |
		sed -E 's|^/lib||; s|\.so$||' | sort -u | tr '\n' ' ' | sed 's/ $//'
}

needed() {
	readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' '
}

@test "berthd and berth do not link the delay-loaded libraries" {
	run needed "$BUILD/berthd"
	[ "$status" -eq 0 ] && [[ $output == *libc.so.6* ]] || die "readelf berthd"
	[[ $output != *libarchive* && $output != *libcurl* && $output != *libcrypto* && $output != *libgnutls* ]] ||
		die "berthd links them"
	run needed "$BUILD/berth"
	[ "$status" -eq 0 ] && [[ $output == *libc.so.6* ]] || die "readelf berth"
	[[ $output != *libarchive* ]] || die "berth links libarchive"
}

@test "an idle berthd maps none of libarchive, libcurl, libcrypto, gnutls" {
	docker info >/dev/null
	docker ps -a >/dev/null
	docker images >/dev/null
	run mapped
	[ "$output" = "" ] || die "mapped by an idle daemon"
}

@test "docker import maps libarchive (and libcrypto), and the image runs" {
	local root=$BATS_TEST_TMPDIR/root
	mkdir -p "$root/bin"
	cp /bin/busybox "$root/bin/busybox"
	ln -s busybox "$root/bin/sh"
	ln -s busybox "$root/bin/echo"
	tar -C "$root" -cf "$BATS_TEST_TMPDIR/rootfs.tar" .
	run docker import "$BATS_TEST_TMPDIR/rootfs.tar" lazy:1
	[ "$status" -eq 0 ] && [[ $output == sha256:* ]] || die "import"
	run mapped
	[ "$output" = "archive crypto" ] || die "mapped after an import"
	run docker run --rm --network none lazy:1 echo imported
	[ "$status" -eq 0 ] && [ "$output" = imported ] || die "run"
}

@test "a restarted berthd runs containers of an image it has without loading any" {
	BERTHD_PID=$(cat "$DAEMON_TMP/d/berthd.pid")
	berthd_stop
	berthd_start
	run mapped
	[ "$output" = "" ] || die "mapped after a restart"
	id=$(docker create --network none lazy:1 sh -c 'echo created')
	docker start "$id" >/dev/null
	[ "$(docker wait "$id")" = 0 ] || die "wait"
	[ "$(docker logs "$id")" = created ] || die "logs"
	docker rm "$id" >/dev/null
	run docker run --rm --network none lazy:1 echo ran
	[ "$status" -eq 0 ] && [ "$output" = ran ] || die "run"
	run mapped
	[ "$output" = "" ] || die "mapped by create, start, wait, logs, rm, run"
}
