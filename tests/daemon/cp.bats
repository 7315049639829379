#!/usr/bin/env bats
# docker cp, docker export and docker commit with the real docker CLI
# (v28) against berthd: files and directories both ways with owners and
# modes, the path stat header, symlinks in the container that point out
# of it (never followed out, reading or writing), hostile archives,
# stopped containers, bind mounts and volumes, export, and commit
# (changes, deletions as whiteouts, opaque directories, --change).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	mkdir -p "$DAEMON_TMP"
	out=$(sh "$SRC/tests/registry/run-registry.sh" start)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/registry"
	export REG_HOST=${url#http://}
	[ -d "$DAEMON_TMP/fixtures/one" ] || python3 "$SRC/tests/image/mkimages.py" "$DAEMON_TMP/fixtures" one
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/one:latest" "docker://$REG_HOST/bb:1"
	berthd_start
	export BERTHD_PID DOCKER_HOST
	export IMG=$REG_HOST/bb:1
	"$DOCKER_CLI" pull -q "$IMG" >/dev/null
	# what the image's /etc/passwd says, unlike the host's
	export CTR_PASSWD="nobody:x:65534:65534:nobody:/:/bin/false"
}

teardown_file() {
	daemon_cleanup
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

setup() {
	W=$DAEMON_TMP/work.$BATS_TEST_NUMBER
	mkdir -p "$W"
}

teardown() {
	"$DOCKER_CLI" rm -f $("$DOCKER_CLI" ps -aq) >/dev/null 2>&1 || true
	rm -rf "$W"
}

docker() { "$DOCKER_CLI" "$@"; }
api() { curl -s --unix-socket "${DOCKER_HOST#unix://}" "$@"; }
# The decoded X-Docker-Container-Path-Stat of a HEAD.
path_stat() {
	api -I "http://x/v1.45/containers/$1/archive?path=$2" | tr -d '\r' |
		sed -n 's/^X-Docker-Container-Path-Stat: //Ip' | base64 -d
}

@test "cp host -> container: a file keeps its owner and mode, a directory its tree" {
	docker run -d --name c1 --network none "$IMG" sleep 100 >/dev/null
	echo hello >"$W/f"
	chmod 640 "$W/f"
	chown 1234:5678 "$W/f"
	docker cp "$W/f" c1:/tmp/f
	run docker exec c1 stat -c '%u:%g %a %s' /tmp/f
	[ "$output" = "1234:5678 640 6" ] || die "owner/mode"
	[ "$(docker exec c1 cat /tmp/f)" = hello ] || die "content"
	# a directory, with a subdirectory, a symlink and an executable
	mkdir -p "$W/d/sub"
	echo x >"$W/d/sub/x"
	printf '#!/bin/sh\necho ran\n' >"$W/d/run.sh"
	chmod 755 "$W/d/run.sh"
	ln -s sub/x "$W/d/lnk"
	docker cp "$W/d" c1:/tmp/
	[ "$(docker exec c1 cat /tmp/d/sub/x)" = x ] || die "tree"
	[ "$(docker exec c1 readlink /tmp/d/lnk)" = sub/x ] || die "symlink"
	[ "$(docker exec c1 /tmp/d/run.sh)" = ran ] || die "mode of the script"
	# the content of a directory into a new one
	docker cp "$W/d/." c1:/tmp/e
	[ "$(docker exec c1 cat /tmp/e/sub/x)" = x ] || die "dir/. into a new dir"
	# onto an existing file: replaced
	echo second >"$W/f2"
	docker cp "$W/f2" c1:/tmp/f
	[ "$(docker exec c1 cat /tmp/f)" = second ] || die "overwrite"
}

@test "cp container -> host: files, directories, modes; the stat header; missing paths" {
	docker run -d --name c1 --network none "$IMG" sleep 100 >/dev/null
	docker exec c1 sh -c 'mkdir -p /srv/d/s; echo a > /srv/d/a; echo b > /srv/d/s/b; chmod 600 /srv/d/a; chown 7:8 /srv/d/a'
	docker cp c1:/etc/passwd "$W/passwd"
	grep -qx "$CTR_PASSWD" "$W/passwd" || die "file"
	[ "$(docker cp c1:/srv/d/../../etc/passwd - | tar -xOf -)" = "$(cat "$W/passwd")" ] || die "path with .."
	docker cp c1:/srv/d "$W/"
	[ "$(cat "$W/d/a") $(cat "$W/d/s/b")" = "a b" ] || die "directory"
	[ "$(stat -c %a "$W/d/a")" = 600 ] || die "mode"
	# the tar itself: owner, name after the last component
	run bash -c "'$DOCKER_CLI' cp c1:/srv/d/a - | tar -tvf -"
	[[ $output == "-rw------- 7/8 "*" a" ]] || die "tar listing: $output"
	run bash -c "'$DOCKER_CLI' cp c1:/srv/d/. - | tar -tf - | sort"
	[ "$output" = "$(printf './\n./a\n./s/\n./s/b')" ] || die "dir/. entries: $output"
	# HEAD: the stat docker's CLI decides with (mode in Go's bits)
	run path_stat c1 /srv/d
	[[ $output == '{"name":"d","size":'*',"mode":2147484141,"mtime":"'*'","linkTarget":""}' ]] || die "stat: $output"
	run path_stat c1 /srv/d/a
	[[ $output == '{"name":"a","size":2,"mode":384,'* ]] || die "stat of a file: $output"
	run api -o /dev/null -w '%{http_code}' -I "http://x/v1.45/containers/c1/archive?path=/no/such"
	[ "$output" = 404 ] || die "HEAD of a missing path: $output"
	run docker cp c1:/no/such "$W/x"
	[ "$status" -ne 0 ]
	[[ $output == *"Could not find the file /no/such in container c1"* ]] || die "message: $output"
	run docker cp no-such-ctr:/etc/passwd "$W/x"
	[ "$status" -ne 0 ]
	[[ $output == *"No such container"* ]] || die "unknown container: $output"
}

@test "symlinks out of the container are followed inside it when reading" {
	docker run -d --name c1 --network none "$IMG" sleep 100 >/dev/null
	docker exec c1 sh -c 'ln -s / /escape; ln -s ../../../../../../.. /tmp/up; ln -s /etc/passwd /tmp/pw'
	out=$(docker cp c1:/escape/etc/passwd - | tar -xOf -)
	grep -qx "$CTR_PASSWD" <<<"$out" || die "read the host's passwd through /escape: $out"
	[ "$out" = "$(docker exec c1 cat /etc/passwd)" ] || die "not the container's passwd"
	out=$(docker cp c1:/tmp/up/etc/passwd - | tar -xOf -)
	[ "$out" = "$(docker exec c1 cat /etc/passwd)" ] || die "relative ../.. link escaped"
	# the link itself is copied as a link; its target resolved in the container
	run bash -c "'$DOCKER_CLI' cp c1:/escape - | tar -tvf -"
	[[ $output == l*" escape -> /" ]] || die "link entry: $output"
	run path_stat c1 /tmp/up
	[[ $output == *'"linkTarget":"/"}' ]] || die "linkTarget: $output"
	# -L follows it, inside the container
	out=$(docker cp -L c1:/tmp/pw - | tar -xOf -)
	grep -qx "$CTR_PASSWD" <<<"$out" || die "cp -L"
	# a directory through the link lists the container's /etc
	run bash -c "'$DOCKER_CLI' cp c1:/escape/etc - | tar -tf -"
	[[ $output == *etc/passwd* ]] || die "dir through link"
	! grep -q "etc/shadow" <<<"$output" || die "listed the host's /etc"
}

@test "writing through a symlink that points out of the container lands in the container" {
	docker run -d --name c1 --network none "$IMG" sleep 100 >/dev/null
	docker exec c1 sh -c 'ln -s / /escape; ln -s ../../../../../.. /tmp/up'
	name=berth-cp-escape-$$-$BATS_TEST_NUMBER
	echo inside >"$W/f"
	docker cp "$W/f" "c1:/escape/tmp/$name"
	docker cp "$W/f" "c1:/tmp/up/tmp/$name.2"
	[ ! -e "/tmp/$name" ] && [ ! -e "/tmp/$name.2" ] || die "wrote on the host"
	[ "$(docker exec c1 cat "/tmp/$name") $(docker exec c1 cat "/tmp/$name.2")" = "inside inside" ] || die "not in the container"
	# a hostile archive: a symlink to /, then a file through it; names with ..
	python3 - "$W" "$name" <<-'EOF'
		import io, sys, tarfile
		w, name = sys.argv[1], sys.argv[2]
		def mk(path, entries):
		    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
		        for kind, n, data in entries:
		            i = tarfile.TarInfo(n)
		            if kind == "sym":
		                i.type, i.linkname = tarfile.SYMTYPE, data
		                t.addfile(i)
		            elif kind == "hard":
		                i.type, i.linkname = tarfile.LNKTYPE, data
		                t.addfile(i)
		            else:
		                i.size = len(data)
		                t.addfile(i, io.BytesIO(data))
		mk(w + "/sym.tar", [("sym", "ln", "/"), ("file", "ln/tmp/" + name + ".3", b"evil\n")])
		mk(w + "/dotdot.tar", [("file", "../../../../tmp/" + name + ".4", b"evil\n")])
		mk(w + "/hard.tar", [("hard", "hl", "../../../../../etc/passwd")])
	EOF
	run api -X PUT -T "$W/sym.tar" -o /dev/null -w '%{http_code}' "http://x/v1.45/containers/c1/archive?path=/tmp"
	[ "$output" = 200 ] || die "PUT: $output"
	[ ! -e "/tmp/$name.3" ] || die "archive symlink escaped"
	[ "$(docker exec c1 cat "/tmp/$name.3")" = evil ] || die "not under the container's /"
	run api -X PUT -T "$W/dotdot.tar" -w ' %{http_code}' "http://x/v1.45/containers/c1/archive?path=/tmp"
	[[ $output == *"leads outside the destination"*" 400" ]] || die "..: $output"
	[ ! -e "/tmp/$name.4" ] || die ".. escaped"
	run api -X PUT -T "$W/hard.tar" -w ' %{http_code}' "http://x/v1.45/containers/c1/archive?path=/tmp"
	[[ $output == *" 400" ]] || die "hardlink out: $output"
	rm -f "/tmp/$name"*
}

@test "cp to and from a stopped container, and errors for bad destinations" {
	docker run --name st --network none "$IMG" sh -c 'echo stopped > /tmp/s' >/dev/null
	[ "$(docker cp st:/tmp/s - | tar -xOf -)" = stopped ] || die "from a stopped container"
	echo in >"$W/in"
	docker cp "$W/in" st:/tmp/in
	[ "$(docker cp st:/tmp/in - | tar -xOf -)" = in ] || die "into a stopped container"
	run docker start -a st
	[ "$status" -eq 0 ] || die "restart after cp"
	# a file is no extraction point
	run api -X PUT --data-binary @/dev/null -w ' %{http_code}' "http://x/v1.45/containers/st/archive?path=/tmp/s"
	[[ $output == *"not a directory"*" 400" ]] || die "PUT onto a file: $output"
	run api -X PUT --data-binary @/dev/null -w ' %{http_code}' "http://x/v1.45/containers/st/archive?path=/no/dir"
	[[ $output == *" 404" ]] || die "PUT into a missing dir: $output"
	# noOverwriteDirNonDir: a file may not replace a directory
	mkdir "$W/t" && echo f >"$W/t/tmp" && tar -C "$W/t" -cf "$W/t.tar" tmp
	run api -X PUT -T "$W/t.tar" -w ' %{http_code}' "http://x/v1.45/containers/st/archive?path=/&noOverwriteDirNonDir=1"
	[[ $output == *"cannot overwrite directory"*" 400" ]] || die "noOverwriteDirNonDir: $output"
	docker run -d --name ro --read-only --network none "$IMG" sleep 100 >/dev/null
	run docker cp "$W/in" ro:/tmp/in
	[ "$status" -ne 0 ]
	[[ $output == *"read-only"* ]] || die "read-only rootfs: $output"
}

@test "cp -a gives the files to the container's user; without it they keep the archive's owner" {
	docker run -d --name cu --user 1000:1001 --network none "$IMG" sleep 100 >/dev/null
	echo owned >"$W/f"
	chown 1234:5678 "$W/f"
	docker cp -a "$W/f" cu:/tmp/fa
	docker cp "$W/f" cu:/tmp/fb
	run docker exec cu stat -c '%u:%g' /tmp/fa /tmp/fb
	[ "$output" = "$(printf '1000:1001\n1234:5678')" ] || die "owners: $output"
}

@test "cp sees bind mounts and volumes: /etc/hostname, -v dir, named volume, read-only mounts" {
	mkdir -p "$W/bind" "$W/robind"
	echo host >"$W/bind/h"
	docker run -d --name c1 --hostname cphost --network none -v "$W/bind:/b" -v cpvol:/v -v "$W/robind:/r:ro" \
		"$IMG" sleep 100 >/dev/null
	[ "$(docker cp c1:/etc/hostname - | tar -xOf -)" = cphost ] || die "/etc/hostname"
	[ "$(docker cp c1:/b/h - | tar -xOf -)" = host ] || die "bind source"
	echo new >"$W/n"
	docker cp "$W/n" c1:/b/n
	[ "$(cat "$W/bind/n")" = new ] || die "into a bind mount"
	docker cp "$W/n" c1:/v/n
	[ "$(docker exec c1 cat /v/n)" = new ] || die "into a volume"
	run bash -c "'$DOCKER_CLI' cp c1:/etc - | tar -xOf - etc/hostname"
	[ "$output" = cphost ] || die "mounted file inside a copied directory: $output"
	run docker cp "$W/n" c1:/r/n
	[ "$status" -ne 0 ] && [[ $output == *"read-only"* ]] || die "into a read-only bind: $output"
	[ ! -e "$W/robind/n" ] || die "wrote into a read-only bind"
	docker rm -f c1 >/dev/null
	docker volume rm cpvol >/dev/null
}

@test "docker export: the whole rootfs as a tar" {
	docker run -d --name c1 --network none "$IMG" sleep 100 >/dev/null
	docker exec c1 sh -c 'echo e > /exported; rm /etc/group'
	docker export c1 >"$W/c1.tar"
	run tar -tf "$W/c1.tar"
	for f in bin/ bin/busybox bin/sh etc/passwd exported tmp/; do
		grep -qx "$f" <<<"$output" || die "export lacks $f"
	done
	! grep -qx etc/group <<<"$output" || die "a deleted file was exported"
	[ "$(tar -xOf "$W/c1.tar" exported)" = e ] || die "content"
	run bash -c "tar -tvf '$W/c1.tar' bin/sh"
	[[ $output == l*"bin/sh -> busybox" ]] || die "symlink: $output"
	docker stop -t 0 c1 >/dev/null
	run bash -c "'$DOCKER_CLI' export c1 | tar -tf - | grep -cx exported"
	[ "$output" = 1 ] || die "export of a stopped container"
	run docker export no-such-ctr
	[ "$status" -ne 0 ]
}

@test "docker commit: changes, deletions and --change reach containers of the new image" {
	docker run -d --name c1 --network none "$IMG" sleep 100 >/dev/null
	docker exec c1 sh -c 'echo hi > /newfile; rm /etc/group; mkdir -p /data/keep; echo a > /data/a; echo k > /data/keep/k'
	id=$(docker commit -m "first commit" -a tester -c "ENV C=1" -c 'CMD ["cat", "/newfile"]' c1 committed:1)
	[[ $id == sha256:* ]] || die "commit: $id"
	[ "$(docker inspect -f '{{.State.Status}}' c1)" = running ] || die "left paused"
	run docker run --rm --network none committed:1
	[ "$output" = hi ] || die "CMD and the new file: $output"
	run docker run --rm --network none committed:1 sh -c 'echo C=$C; cat /data/keep/k; test -e /etc/group || echo group-gone'
	[ "$output" = "$(printf 'C=1\nk\ngroup-gone')" ] || die "run of the committed image: $output"
	run docker image inspect -f '{{.Author}} {{index .Config.Env 1}}' committed:1
	[ "$output" = "tester C=1" ] || die "inspect: $output"
	run docker history --format '{{.Comment}}' committed:1
	[ "${lines[0]}" = "first commit" ] || die "history: $output"
	# the runtime's mount points (/etc/hostname...) are not part of the layer
	docker create --name probe --network none committed:1 >/dev/null
	run bash -c "'$DOCKER_CLI' export probe | tar -tf -"
	! grep -qx etc/hostname <<<"$output" || die "mount point committed"
	# second generation: a directory removed and made again is opaque
	docker run --name c2 --network none committed:1 sh -c 'rm -rf /data; mkdir /data; echo c > /data/c; rm /newfile'
	docker commit c2 committed:2 >/dev/null
	run docker run --rm --network none committed:2 sh -c 'ls -A /data; test -e /newfile || echo newfile-gone'
	[ "$output" = "$(printf 'c\nnewfile-gone')" ] || die "opaque directory / whiteout: $output"
	# nothing changed: an empty layer, as docker records it
	docker create --name c3 --network none committed:2 true >/dev/null
	docker commit c3 committed:3 >/dev/null
	n2=$(docker image inspect -f '{{len .RootFS.Layers}}' committed:2)
	n3=$(docker image inspect -f '{{len .RootFS.Layers}}' committed:3)
	[ "$n2" = "$n3" ] || die "empty commit added a layer ($n2 -> $n3)"
	docker rm -f c1 c2 c3 probe >/dev/null
	docker rmi committed:3 committed:2 committed:1 >/dev/null
	run docker commit no-such-ctr x:1
	[ "$status" -ne 0 ]
	[[ $output == *"No such container"* ]] || die "commit of an unknown container"
}
