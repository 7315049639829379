#!/usr/bin/env bats
# docker build (the legacy builder's POST /build, DOCKER_BUILDKIT=0) with
# the real docker CLI against berthd: steps and their progress lines,
# config fields and layers of the result, the cache (a rebuild starts no
# container; a changed file invalidates its step and the ones after),
# multi-stage builds with COPY --from and a skipped stage, --target,
# --build-arg, several -t, -q, and a failing RUN that leaves no
# container and no mount.  The base image is Debian's busybox-static,
# imported (nothing is downloaded).

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	mkdir -p "$DAEMON_TMP"
	local root=$DAEMON_TMP/bb-root
	rm -rf "$root"
	mkdir -p "$root/bin" "$root/etc" "$root/tmp"
	cp /bin/busybox "$root/bin/busybox"
	for a in $(/bin/busybox --list); do
		[ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
	tar -C "$root" -cf "$DAEMON_TMP/bb.tar" .
	# a registry for FROM's pull
	out=$(sh "$SRC/tests/registry/run-registry.sh" start)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/registry"
	export REG_HOST=${url#http://}
	[ -d "$DAEMON_TMP/fixtures/one" ] || python3 "$SRC/tests/image/mkimages.py" "$DAEMON_TMP/fixtures" one
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/one:latest" "docker://$REG_HOST/bb:1"
	berthd_start
	export BERTHD_PID DOCKER_HOST
	"$DOCKER_CLI" import "$DAEMON_TMP/bb.tar" bb:1 >/dev/null
}

teardown_file() {
	daemon_cleanup
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

setup() {
	W=$DAEMON_TMP/ctx.$BATS_TEST_NUMBER
	mkdir -p "$W"
}

teardown() {
	rm -rf "$W"
}

docker() { "$DOCKER_CLI" "$@"; }
build() { DOCKER_BUILDKIT=0 timeout 120 "$DOCKER_CLI" build "$@"; }

# The app of the first tests: ENV, WORKDIR (a new directory: a layer),
# RUN, two COPYs (a file, a directory's contents), CMD.
write_app() {
	mkdir -p "$W/app/dir/deep"
	echo "copied file" >"$W/app/hello.txt"
	echo "a" >"$W/app/dir/a.txt"
	echo "b" >"$W/app/dir/deep/b.txt"
	chmod 0604 "$W/app/dir/a.txt"
	cat >"$W/app/Dockerfile" <<'DF'
FROM bb:1
ENV GREETING="hello from build" MODE=test
WORKDIR /srv/app
RUN echo "built at build time" > built.txt && echo "appuser:x:1000:1000::/srv/app:/bin/sh" >> /etc/passwd
COPY hello.txt .
COPY dir/ sub/
USER appuser
CMD ["sh", "-c", "echo $GREETING; id -u; pwd; cat hello.txt built.txt sub/a.txt sub/deep/b.txt"]
DF
}

@test "FROM/ENV/WORKDIR/RUN/COPY/CMD: steps as dockerd prints them; the image runs with its config and layers" {
	write_app
	run build -t app:1 "$W/app"
	[ "$status" -eq 0 ] || die "build"
	[[ $output == *"Step 1/8 : FROM bb:1"* && $output == *"Step 8/8 : CMD"* ]] || die "steps"
	[[ $output == *" ---> Running in "* && $output == *"Removing intermediate container"* ]] || die "RUN lines"
	[[ $output == *"Successfully built "* && $output == *"Successfully tagged app:1"* ]] || die "end lines"
	run docker run --rm --network none app:1
	[ "$status" -eq 0 ] || die "run"
	[ "$output" = "$(printf 'hello from build\n1000\n/srv/app\ncopied file\nbuilt at build time\na\nb')" ] || die "output"
	run docker inspect -f '{{json .Config.Env}} {{.Config.WorkingDir}} {{.Config.User}} {{json .Config.Cmd}} {{len .RootFS.Layers}}' app:1
	[ "$output" = '["GREETING=hello from build","MODE=test"] /srv/app appuser ["sh","-c","echo $GREETING; id -u; pwd; cat hello.txt built.txt sub/a.txt sub/deep/b.txt"] 5' ] ||
		die "config"
	# COPY: owner root, the file's mode; history: one entry per step
	run docker run --rm --network none app:1 stat -c '%u:%g %a' /srv/app/hello.txt /srv/app/sub/a.txt /srv/app/sub/deep
	[ "$output" = "$(printf '0:0 644\n0:0 604\n0:0 755')" ] || die "owners and modes"
	run docker history -q --no-trunc app:1
	[ "$(echo "$output" | wc -l)" -eq 8 ] || die "history"
}

@test "a rebuild is all 'Using cache', starts no container and gives the same image" {
	write_app
	build -t app:2 "$W/app" >/dev/null
	id1=$(docker inspect -f '{{.Id}}' app:2)
	sleep 1
	since=$(date +%s)
	run build -t app:2 "$W/app"
	[ "$status" -eq 0 ] || die "rebuild"
	[ "$(grep -c -- ' ---> Using cache' <<<"$output")" -eq 7 ] || die "cache lines"
	[[ $output != *"Running in"* ]] || die "a container ran"
	run docker events --since "$since" --until "$(date +%s)" --filter type=container --format '{{.Action}}'
	[ -z "$output" ] || die "container events during a cached build"
	[ "$(docker inspect -f '{{.Id}}' app:2)" = "$id1" ] || die "another image"
	# the intermediates are the cache: listed only with -a, as by dockerd
	run docker images --format '{{.Repository}}'
	[[ $output != *"<none>"* ]] || die "intermediates listed without -a: $output"
	run docker images -a --format '{{.Repository}}'
	[[ $output == *"<none>"* ]] || die "intermediates missing with -a: $output"
}

@test "a changed file invalidates its COPY and every step after it" {
	write_app
	build -t app:3 "$W/app" >/dev/null
	echo "changed" >"$W/app/hello.txt"
	run build -t app:3 "$W/app"
	[ "$status" -eq 0 ] || die "build"
	[ "$(grep -c -- ' ---> Using cache' <<<"$output")" -eq 3 ] || die "cached steps: ENV, WORKDIR, RUN only"
	run docker run --rm --network none app:3 cat /srv/app/hello.txt
	[ "$output" = changed ] || die "new content"
	# a mode change is a change too
	chmod 0600 "$W/app/dir/a.txt"
	run build "$W/app"
	[ "$(grep -c -- ' ---> Using cache' <<<"$output")" -eq 4 ] || die "mode change: COPY dir/ rebuilt"
}

@test "--no-cache runs every step again" {
	write_app
	build "$W/app" >/dev/null
	run build --no-cache "$W/app"
	[ "$status" -eq 0 ] || die "build"
	[[ $output != *"Using cache"* && $output == *"Running in"* ]] || die "cache used"
}

write_multi() {
	mkdir -p "$W/multi"
	cat >"$W/multi/Dockerfile" <<'DF'
ARG BASE=bb:1
FROM $BASE AS builder
ARG MSG=default
RUN mkdir /out && echo "built $MSG" > /out/result.txt
FROM bb:1 AS unused
RUN echo SHOULD-NOT-RUN
FROM scratch AS files
COPY --from=builder /out/result.txt /r.txt
FROM bb:1
COPY --from=builder /out /data/
COPY --from=files /r.txt /data/again.txt
CMD ["cat", "/data/result.txt", "/data/again.txt"]
DF
}

@test "multi-stage: COPY --from a stage, FROM scratch, the unused stage skipped, --build-arg" {
	write_multi
	run build --build-arg MSG=hello -t multi:1 "$W/multi"
	[ "$status" -eq 0 ] || die "build"
	[[ $output != *SHOULD-NOT-RUN* && $output != *"FROM bb:1 AS unused"* ]] || die "unused stage ran"
	[[ $output == *"Step 1/10 : ARG BASE=bb:1"* && $output == *"Step 10/10 : CMD"* ]] || die "step count"
	run docker run --rm --network none multi:1
	[ "$output" = "$(printf 'built hello\nbuilt hello')" ] || die "output"
	# a build arg nobody declares is reported
	run build --build-arg NOPE=1 "$W/multi"
	[[ $output == *"[Warning] One or more build-args [NOPE] were not consumed"* ]] || die "unused build arg"
}

@test "--target stops at the stage; -t twice tags both; --label adds a LABEL step" {
	write_multi
	run build --target builder -t tgt:a -t tgt:b --label team=blue "$W/multi"
	[ "$status" -eq 0 ] || die "build"
	[[ $output == *"Successfully tagged tgt:a"* && $output == *"Successfully tagged tgt:b"* ]] || die "tags"
	[[ $output == *"Step 5/5 : LABEL team=\"blue\""* ]] || die "label step"
	[ "$(docker inspect -f '{{.Id}}' tgt:a)" = "$(docker inspect -f '{{.Id}}' tgt:b)" ] || die "same image"
	run docker run --rm --network none tgt:a cat /out/result.txt
	[ "$output" = "built default" ] || die "target stage content"
	run docker inspect -f '{{index .Config.Labels "team"}}' tgt:a
	[ "$output" = blue ] || die "label"
	run build --target nosuch "$W/multi"
	[ "$status" -ne 0 ] && [[ $output == *"failed to reach build target nosuch"* ]] || die "bad target"
}

@test "a failing RUN reports the command, the line and the exit code, and leaves no container or mount" {
	mkdir -p "$W/fail"
	printf 'FROM bb:1\nARG X=1\nRUN echo arg=$X && exit 3\n' >"$W/fail/Dockerfile.fail"
	run build -f "$W/fail/Dockerfile.fail" --build-arg X=42 "$W/fail"
	[ "$status" -eq 3 ] || die "exit code"
	[[ $output == *"arg=42"* ]] || die "RUN output"
	[[ $output == *"The command '/bin/sh -c echo arg=\$X && exit 3' returned a non-zero code: 3"*"Dockerfile.fail:3"* ]] ||
		die "message"
	[ -z "$(docker ps -aq)" ] || die "a container is left"
	run grep -c " $DAEMON_TMP/d/data/containers" /proc/self/mounts
	[ "$output" = 0 ] || die "a mount is left"
	[ -z "$(ls -A "$DAEMON_TMP/d/data/builds")" ] || die "a context is left"
}

@test "-q prints only the image id; errors before the steps: no Dockerfile, bad instruction" {
	write_app
	run --separate-stderr build -q "$W/app"
	[ "$status" -eq 0 ] && [[ $output == sha256:* ]] && [ "$(echo "$output" | wc -l)" -eq 1 ] || die "quiet"
	mkdir -p "$W/bad"
	printf 'FROM bb:1\nRUNN x\n' >"$W/bad/Dockerfile"
	run build "$W/bad"
	[ "$status" -ne 0 ] && [[ $output == *"Dockerfile:2"* ]] || die "parse error"
	run build -f "$W/bad/nope" "$W/bad"
	[ "$status" -ne 0 ] || die "missing Dockerfile"
}

@test "config steps: EXPOSE, VOLUME, ENTRYPOINT, SHELL, STOPSIGNAL, HEALTHCHECK, ONBUILD; triggers run in a child" {
	mkdir -p "$W/cfg" "$W/child"
	cat >"$W/cfg/Dockerfile" <<'DF'
FROM bb:1
EXPOSE 80 53/udp
VOLUME /data
STOPSIGNAL SIGINT
HEALTHCHECK --interval=5s --retries=2 CMD true
SHELL ["/bin/sh", "-ec"]
ENTRYPOINT echo entry
ONBUILD RUN echo triggered > /trigger.txt
DF
	run build -t cfg:1 "$W/cfg"
	[ "$status" -eq 0 ] || die "build"
	[[ $output != *"Running in"* ]] || die "a config step ran a container"
	run docker inspect -f '{{json .Config.ExposedPorts}} {{json .Config.Volumes}} {{.Config.StopSignal}} {{json .Config.Healthcheck}} {{json .Config.Entrypoint}} {{json .Config.OnBuild}} {{len .RootFS.Layers}}' cfg:1
	[ "$output" = '{"53/udp":{},"80/tcp":{}} {"/data":{}} SIGINT {"Test":["CMD-SHELL","true"],"Interval":5000000000,"Retries":2} ["/bin/sh","-ec","echo entry"] ["RUN echo triggered > /trigger.txt"] 1' ] ||
		die "config"
	printf 'FROM cfg:1\nENTRYPOINT []\n' >"$W/child/Dockerfile"
	run build -t child:1 "$W/child"
	[ "$status" -eq 0 ] && [[ $output == *"# Executing 1 build trigger"* ]] || die "child build"
	run docker run --rm --network none child:1 cat /trigger.txt
	[ "$output" = triggered ] || die "trigger"
}

@test "COPY/ADD: globs, --chown by name and number, --chmod, a symlink source, an existing directory, ADD of a tar, --from an image" {
	mkdir -p "$W/cp/src" "$W/cp/tree/x"
	echo one >"$W/cp/src/one.txt"
	echo two >"$W/cp/src/two.txt"
	echo no >"$W/cp/src/skip.md"
	ln -s src/one.txt "$W/cp/link"
	echo in-tar >"$W/cp/tree/x/f"
	tar -C "$W/cp/tree" -czf "$W/cp/t.tar.gz" x
	cat >"$W/cp/Dockerfile" <<'DF'
FROM bb:1
COPY src/*.txt /globbed/
COPY --chown=nobody:nogroup src/one.txt /owned.txt
COPY --chown=123:456 --chmod=700 src/two.txt /tmp/
COPY link /linked.txt
ADD t.tar.gz /unpacked/
COPY src/one.txt /etc
COPY --from=bb:1 /etc/group /from-image/
DF
	run build -t cp:1 "$W/cp"
	[ "$status" -eq 0 ] || die "build"
	run docker run --rm --network none cp:1 sh -c 'ls /globbed; stat -c "%u:%g %a" /owned.txt /tmp/two.txt; cat /linked.txt /unpacked/x/f /etc/one.txt; head -1 /from-image/group'
	[ "$output" = "$(printf 'one.txt\ntwo.txt\n65534:65534 644\n123:456 700\none\nin-tar\none\nroot:x:0:')" ] || die "result"
	printf 'FROM bb:1\nCOPY ../outside /x\n' >"$W/cp/Dockerfile"
	run build "$W/cp"
	[ "$status" -ne 0 ] && [[ $output == *"forbidden path outside the build context"* ]] || die "path out"
	printf 'FROM bb:1\nCOPY nothere /x\n' >"$W/cp/Dockerfile"
	run build "$W/cp"
	[ "$status" -ne 0 ] && [[ $output == *"file not found in build context"* ]] || die "missing source"
	# nothing listens on port 1: the fetch fails, naming the line and the URL
	printf 'FROM bb:1\nADD http://127.0.0.1:1/x /x\n' >"$W/cp/Dockerfile"
	run build "$W/cp"
	[ "$status" -ne 0 ] && [[ $output == *"Dockerfile:2: ADD http://127.0.0.1:1/x: Couldn't connect to server"* ]] ||
		die "ADD URL"
	[ -z "$(docker ps -aq)" ] || die "a container is left"
}

@test "FROM an image the store lacks pulls it; --pull pulls again and the cache still holds" {
	mkdir -p "$W/pull"
	printf 'FROM %s/bb:1\nRUN echo on-pulled > /p\n' "$REG_HOST" >"$W/pull/Dockerfile"
	run build -t pulled:1 "$W/pull"
	[ "$status" -eq 0 ] && [[ $output == *"Pull complete"* ]] || die "build with a pull"
	run docker run --rm --network none pulled:1 cat /p
	[ "$output" = on-pulled ] || die "run"
	run build --pull "$W/pull"
	[ "$status" -eq 0 ] && [[ $output == *"Using cache"* ]] || die "--pull"
}

@test "--network host: RUN sees the host's interfaces; by default only lo" {
	mkdir -p "$W/net"
	printf 'FROM bb:1\nRUN ls /sys/class/net | wc -l > /n\n' >"$W/net/Dockerfile"
	run build -t net:none "$W/net"
	[ "$status" -eq 0 ] || die "build"
	[ "$(docker run --rm --network none net:none cat /n)" -eq 1 ] || die "none"
	run build --network host -t net:host "$W/net"
	[ "$status" -eq 0 ] || die "build host"
	[ "$(docker run --rm --network none net:host cat /n)" -eq "$(ls /sys/class/net | wc -l)" ] || die "host"
}

@test "SOURCE_DATE_EPOCH: two builds without the cache give the same image" {
	mkdir -p "$W/rep"
	echo data >"$W/rep/f.txt"
	printf 'FROM bb:1\nRUN echo hi > /hi && mkdir -p /d/e\nCOPY f.txt /d/\nWORKDIR /w\nCMD ["cat", "/hi"]\n' >"$W/rep/Dockerfile"
	a=$(build -q --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 "$W/rep" 2>/dev/null)
	b=$(build -q --no-cache --build-arg SOURCE_DATE_EPOCH=1700000000 "$W/rep" 2>/dev/null)
	[[ $a == sha256:* ]] && [ "$a" = "$b" ] || die "digests differ: $a $b"
	run docker inspect -f '{{.Created}}' "$a"
	[ "$output" = 2023-11-14T22:13:20Z ] || die "created"
}

@test "check=1 (berth build --check) only lints; a build ends with the warnings" {
	mkdir -p "$W/lint"
	printf 'FROM bb\nRUN true\nRUN true\n' >"$W/lint/Dockerfile"
	tar -C "$W/lint" -cf "$W/lint.tar" Dockerfile
	run curl -s --unix-socket "${DOCKER_HOST#unix://}" -X POST -H 'Content-Type: application/x-tar' \
		--data-binary @"$W/lint.tar" 'http://x/v1.41/build?check=1&version=1'
	[[ $output == *"Dockerfile:1: BaseImageLatest"* && $output == *ConsecutiveRun* ]] || die "check"
	[[ $output == *"Check complete"* && $output != *'"aux"'* && $output != *"Step 1"* ]] || die "check only"
	printf 'FROM bb:1\nRUN true\nRUN true\n' >"$W/lint/Dockerfile"
	run build "$W/lint"
	[ "$status" -eq 0 ] && [[ $output == *"warnings found:"*" - Dockerfile:2: ConsecutiveRun"* ]] || die "warnings after a build"
}

@test "here-documents: RUN <<EOF runs a script, RUN cat <<EOF > file, COPY <<EOF /file" {
	mkdir -p "$W/here"
	cat >"$W/here/Dockerfile" <<'DF'
FROM bb:1
ENV WHO=world
RUN <<EOF
echo one > /one
echo two >> /one
EOF
RUN cat <<EOF > /three
hello $WHO
EOF
COPY <<EOF /four.txt
four
EOF
DF
	run build -t here:1 "$W/here"
	[ "$status" -eq 0 ] || die "build"
	run docker run --rm --network none here:1 cat /one /three /four.txt
	[ "$output" = "$(printf 'one\ntwo\nhello world\nfour')" ] || die "files"
}

@test "docker-compose build: build args from the compose file, the image tagged and runnable" {
	command -v docker-compose >/dev/null || skip "docker-compose is not installed"
	mkdir -p "$W/comp/app"
	printf 'FROM bb:1\nARG V=x\nRUN echo "v=$V" > /v\nCMD ["cat", "/v"]\n' >"$W/comp/app/Dockerfile"
	cat >"$W/comp/docker-compose.yml" <<'YAML'
version: "3.8"
services:
  web:
    build:
      context: ./app
      args:
        V: from-compose
    image: comp-web:1
    network_mode: none
YAML
	run bash -c "cd '$W/comp' && timeout 120 docker-compose --ansi never build"
	[ "$status" -eq 0 ] && [[ $output == *"Successfully tagged comp-web:1"* ]] || die "compose build"
	run docker run --rm --network none comp-web:1
	[ "$output" = v=from-compose ] || die "run"
}

@test "FROM a registry that wants credentials: the client's (X-Registry-Config) are used" {
	out=$(sh "$SRC/tests/registry/run-registry.sh" start builder:s3cret)
	read -r url pid dir <<<"$out"
	host=${url#http://}
	skopeo copy -q --dest-tls-verify=false --dest-creds builder:s3cret \
		"oci:$DAEMON_TMP/fixtures/one:latest" "docker://$host/private:1"
	mkdir -p "$W/auth/cfg" "$W/auth/ctx"
	printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$host" "$(printf builder:s3cret | base64)" >"$W/auth/cfg/config.json"
	printf 'FROM %s/private:1\nRUN echo private > /p\n' "$host" >"$W/auth/ctx/Dockerfile"
	run build "$W/auth/ctx"
	[ "$status" -ne 0 ] || die "pulled without credentials"
	DOCKER_CONFIG=$W/auth/cfg run build -t private-built:1 "$W/auth/ctx"
	st=$status
	sh "$SRC/tests/registry/run-registry.sh" stop "$pid" "$dir"
	[ "$st" -eq 0 ] || die "build with the client's credentials"
	run docker run --rm --network none private-built:1 cat /p
	[ "$output" = private ] || die "run"
}

@test "-f from outside the context: the Dockerfile the CLI adds and .dockerignore do not reach COPY ." {
	mkdir -p "$W/ctx" "$W/elsewhere"
	echo file >"$W/ctx/file"
	printf 'FROM bb:1\nCOPY . /ctx/\n' >"$W/elsewhere/Dockerfile"
	run build -t outside:1 -f "$W/elsewhere/Dockerfile" "$W/ctx"
	[ "$status" -eq 0 ] || die "build"
	run docker run --rm --network none outside:1 ls -A /ctx
	[ "$output" = file ] || die "context content"
}

@test "build contexts a killed berthd left behind are removed at its next start" {
	local builds=$DAEMON_TMP/d/data/builds
	mkdir -p "$builds/ctx-left"
	echo stale >"$builds/ctx-left/file"
	BERTHD_PID=$(cat "$DAEMON_TMP/d/berthd.pid")
	kill -9 "$BERTHD_PID"
	for _ in $(seq 100); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.05; done
	BERTHD_PID=
	berthd_start
	[ ! -e "$builds/ctx-left" ] || die "a stale build context survived the restart"
	build -q -t after-restart:1 - <<<'FROM bb:1' >/dev/null || die "build after the restart"
}

@test "ADD <url>: fetched from a server on 127.0.0.1, mode 0600, a tar not unpacked; an HTTP error fails the step" {
	local srv=$W/srv port pid
	mkdir -p "$srv"
	echo "from the web" >"$srv/page.txt"
	tar -C "$srv" -czf "$srv/pack.tar.gz" page.txt
	port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
	python3 -m http.server --bind 127.0.0.1 --directory "$srv" "$port" >/dev/null 2>&1 3>&- &
	pid=$!
	for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/" && break; sleep 0.1; done
	cat >"$W/Dockerfile" <<-EOF
		FROM bb:1
		ADD http://127.0.0.1:$port/page.txt /dl/
		ADD http://127.0.0.1:$port/pack.tar.gz /dl/
		CMD ["sh", "-c", "cat /dl/page.txt; stat -c %a /dl/page.txt; ls /dl"]
	EOF
	run build -q -t addurl:1 "$W"
	if [ "$status" -ne 0 ]; then kill "$pid"; die "build"; fi
	run docker run --rm --network none addurl:1
	[ "${lines[0]}" = "from the web" ] && [ "${lines[1]}" = 600 ] || { kill "$pid"; die "content or mode"; }
	[[ $output == *pack.tar.gz* ]] || { kill "$pid"; die "the tar was unpacked"; }
	printf 'FROM bb:1\nADD http://127.0.0.1:%s/missing /x\n' "$port" >"$W/Dockerfile"
	run build -t addurl:2 "$W"
	kill "$pid"
	[ "$status" -ne 0 ] && [[ $output == *"the server answered 404"* ]] || die "a 404 did not fail the step"
}

@test "an image berth built, pushed to the local registry, runs under Podman" {
	local p=$DAEMON_TMP/podman
	mkdir -p "$p/tmp"
	echo "built by berth" >"$W/msg"
	printf 'FROM bb:1\nCOPY msg /msg\nRUN echo ran >> /msg\nCMD ["cat", "/msg"]\n' >"$W/Dockerfile"
	build -q -t "$REG_HOST/built:1" "$W" >/dev/null || die "build"
	docker push "$REG_HOST/built:1" >/dev/null || die "push"
	printf '[containers]\ndefault_ulimits = []\n[engine]\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\nevents_logfile_path = "%s/events.log"\nlock_type = "file"\n' "$p" >"$p/containers.conf"
	run env CONTAINERS_CONF="$p/containers.conf" podman --root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" \
		--storage-driver vfs --runtime /usr/sbin/runc \
		run --rm --network none --tls-verify=false "$REG_HOST/built:1"
	env CONTAINERS_CONF="$p/containers.conf" podman --root "$p/root" --runroot "$p/run" --tmpdir "$p/tmp" \
		--storage-driver vfs rmi -a -f >/dev/null 2>&1 || true
	grep -o " $p[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	rm -rf "$p"
	[ "$status" -eq 0 ] || die "podman run"
	[ "${lines[-2]}" = "built by berth" ] && [ "${lines[-1]}" = ran ] || die "output"
}

@test "# escape=\`, MAINTAINER, USER by name, LABEL and ENV pairs: the image's author, user, labels and env" {
	mkdir -p "$W/esc"
	cat >"$W/esc/Dockerfile" <<'DF'
# escape=`
FROM bb:1
MAINTAINER Jane Doe <jane@example.com>
LABEL a="one two" b=three
ENV X="x y" `
    Z=z
RUN echo "$X-$Z" > /xz && `
    echo 'appuser:x:1000:1000::/:/bin/sh' >> /etc/passwd
USER appuser
CMD ["sh", "-c", "id -u; cat /xz"]
DF
	run build -q -t esc:1 "$W/esc"
	[ "$status" -eq 0 ] || die "build"
	run docker inspect -f '{{.Author}}|{{.Config.User}}|{{index .Config.Labels "a"}}|{{index .Config.Labels "b"}}' esc:1
	[ "$output" = 'Jane Doe <jane@example.com>|appuser|one two|three' ] || die "inspect"
	run docker inspect -f '{{json .Config.Env}}' esc:1
	[[ $output == *'"X=x y"'* && $output == *'"Z=z"'* ]] || die "env"
	run docker run --rm --network none esc:1
	[ "${lines[0]}" = 1000 ] && [ "${lines[1]}" = "x y-z" ] || die "run"
}
