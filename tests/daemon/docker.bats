#!/usr/bin/env bats
# The real docker CLI (v28) against berthd: version, pull from a local
# registry, run with stdout/stderr/exit codes and stdin, run -d, logs,
# stop, ps, inspect, rm, rmi, bad input; then kill -9 of berthd with
# containers running, and their adoption by a new berthd.

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
}

teardown_file() {
	daemon_cleanup
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

docker() { "$DOCKER_CLI" "$@"; }

@test "docker version and info talk to berthd" {
	run docker version --format '{{.Server.Version}} {{.Server.APIVersion}}'
	[ "$status" -eq 0 ] || die "version"
	[[ $output == *" 1.45" ]] || die "api version"
	run docker info --format '{{.Driver}} {{.OSType}}'
	[ "$status" -eq 0 ]
	[ "$output" = "overlay2 linux" ]
}

@test "docker pull from the local registry, with progress" {
	run docker pull "$IMG"
	[ "$status" -eq 0 ] || die "pull"
	[[ $output == *"Pull complete"* ]] || die "progress"
	[[ $output == *"Status: Downloaded newer image for $IMG"* ]] || die "status line"
	run docker pull "$IMG"
	[[ $output == *"Image is up to date"* ]] || die "second pull"
	run docker images --format '{{.Repository}}:{{.Tag}}'
	[[ $output == *"$IMG"* ]] || die "images"
}

@test "docker run --rm: stdout, stderr and the exit code" {
	run docker run --rm --network none "$IMG" sh -c 'echo out; echo err >&2; exit 3'
	[ "$status" -eq 3 ] || die "exit code"
	[[ $output == *out* && $output == *err* ]] || die "output"
	out=$(docker run --rm --network none "$IMG" sh -c 'echo out; echo err >&2' 2>/dev/null)
	[ "$out" = out ] || die "stdout alone: $out"
	run docker ps -a -q
	[ -z "$output" ] || die "--rm left a container"
}

@test "docker run -i: stdin reaches the container, EOF ends it" {
	out=$(printf 'hello\nworld\n' | docker run -i --rm --network none "$IMG" cat)
	[ "$out" = "$(printf 'hello\nworld')" ] || die "got: $out"
}

@test "docker run -d, logs, ps, inspect, stop, rm" {
	id=$(docker run -d --name ticker --network none "$IMG" sh -c 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done')
	[ -n "$id" ]
	sleep 1
	run docker ps --format '{{.Names}} {{.Status}}'
	[[ $output == "ticker Up"* ]] || die "ps"
	run docker logs ticker
	[[ $output == *"tick 0"* ]] || die "logs"
	run docker inspect -f '{{.State.Status}} {{.State.Running}} {{.Name}}' ticker
	[ "$output" = "running true /ticker" ] || die "inspect"
	pid=$(docker inspect -f '{{.State.Pid}}' ticker)
	[ "$pid" -gt 0 ] && kill -0 "$pid"
	run docker stop -t 1 ticker
	[ "$status" -eq 0 ]
	run docker inspect -f '{{.State.Status}}' ticker
	[ "$output" = exited ] || die "after stop"
	run docker stop ticker
	[ "$status" -eq 0 ] || die "stop of a stopped container (304)"
	run docker rm ticker
	[ "$status" -eq 0 ]
	run docker inspect ticker
	[ "$status" -ne 0 ]
}

@test "docker exec: output, exit code, env, workdir, user, stdin" {
	docker run -d --name ex --network none "$IMG" sh -c 'sleep 100' >/dev/null
	run docker exec ex sh -c 'echo in; echo err >&2; exit 5'
	[ "$status" -eq 5 ] || die "exit code"
	[[ $output == *in* && $output == *err* ]] || die "output"
	run docker exec -e A=b -w /tmp -u 65534 ex sh -c 'echo $A $(pwd) $(id -u)'
	[ "$output" = "b /tmp 65534" ] || die "env/workdir/user"
	out=$(echo piped | docker exec -i ex cat)
	[ "$out" = piped ] || die "stdin: $out"
	run -127 docker exec ex /no/such
	run docker exec -d ex sh -c 'echo detached > /tmp/d'
	[ "$status" -eq 0 ]
	sleep 0.3
	run docker exec ex cat /tmp/d
	[ "$output" = detached ] || die "detached exec"
	docker rm -f ex >/dev/null
	run docker exec ex true
	[ "$status" -ne 0 ]
}

@test "docker stats and events" {
	since=$(date +%s)
	docker run -d --name st --network none -m 64m "$IMG" sh -c 'sleep 100' >/dev/null
	run docker stats --no-stream --format '{{.Name}} {{.MemUsage}}' st
	[ "$status" -eq 0 ] || die "stats"
	[[ $output == "st "*"/ 64MiB" ]] || die "memory limit in stats"
	docker rm -f st >/dev/null
	run docker events --since "$since" --until "$(($(date +%s) + 1))" --filter type=container --format '{{.Action}}'
	[ "$status" -eq 0 ] || die "events"
	for a in create start kill die destroy; do
		grep -qx "$a" <<<"$output" || die "no $a event"
	done
	# since 0: every event the daemon kept; filters by container and action
	run docker events --since 0 --until "$(($(date +%s) + 1))" --filter container=st --filter event=die --format '{{.Action}} {{.Actor.Attributes.name}}'
	[ "$output" = "die st" ] || die "events since 0 with filters"
}

@test "volumes: a named volume outlives its container; image files copied in; binds; anonymous volumes go with --rm" {
	docker volume create data1 >/dev/null
	run docker volume ls --format '{{.Name}} {{.Driver}}'
	[[ $output == *"data1 local"* ]] || die "volume ls"
	docker run --rm --network none -v data1:/data "$IMG" sh -c 'echo kept > /data/f'
	run docker run --rm --network none -v data1:/data "$IMG" cat /data/f
	[ "$output" = kept ] || die "named volume lost its data"
	# a new volume at /etc gets the image's /etc
	run docker run --rm --network none -v etcvol:/etc "$IMG" cat /etc/group
	[[ $output == *root* ]] || die "no copy-up"
	mkdir -p "$DAEMON_TMP/bind"
	echo host >"$DAEMON_TMP/bind/h"
	run docker run --rm --network none -v "$DAEMON_TMP/bind:/b:ro" "$IMG" sh -c 'cat /b/h; echo x > /b/y'
	[[ $output == host* ]] || die "bind"
	[ ! -e "$DAEMON_TMP/bind/y" ] || die "ro bind written"
	docker run -d --name vuser --network none -v data1:/data "$IMG" sleep 100 >/dev/null
	run docker volume rm data1
	[ "$status" -ne 0 ]
	[[ $output == *"in use"* ]] || die "rm of a volume in use"
	docker rm -f vuser >/dev/null
	before=$(docker volume ls -q | wc -l)
	docker run --rm --network none -v /anon "$IMG" true
	[ "$(docker volume ls -q | wc -l)" -eq "$before" ] || die "anonymous volume left by --rm"
	docker volume rm data1 etcvol >/dev/null
	run docker volume inspect data1
	[ "$status" -ne 0 ]
}

@test "restart policies: on-failure:N, always, and none after a stop" {
	docker run -d --name rf --network none --restart on-failure:2 "$IMG" sh -c 'exit 3' >/dev/null
	for _ in $(seq 50); do
		[ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' rf)" = "2 exited" ] && break
		sleep 0.1
	done
	run docker inspect -f '{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}' rf
	[ "$output" = "2 exited 3" ] || die "on-failure:2"
	docker run -d --name ra --network none --restart always "$IMG" sh -c 'sleep 0.2' >/dev/null
	sleep 1.5
	n=$(docker inspect -f '{{.RestartCount}}' ra)
	[ "$n" -ge 1 ] || die "always did not restart"
	docker stop -t 1 ra >/dev/null
	n=$(docker inspect -f '{{.RestartCount}}' ra)
	sleep 1
	[ "$(docker inspect -f '{{.RestartCount}} {{.State.Status}}' ra)" = "$n exited" ] || die "restarted after stop"
	docker rm -f rf ra >/dev/null
}

@test "bad input: clear errors with Docker's status codes, the daemon keeps serving" {
	run docker inspect no-such-container
	[ "$status" -ne 0 ]
	[[ $output == *"No such"* ]] || die "unknown container"
	run -127 docker run --rm --network none "$IMG" /no/such/binary
	[ "$status" -eq 127 ] || die "missing executable should be 127"
	run docker run --rm --network no-such-net "$IMG" true
	[ "$status" -eq 125 ]
	[[ $output == *"network no-such-net not found"* ]] || die "unknown network"
	docker create --name dup --network none "$IMG" true >/dev/null
	run docker create --name dup --network none "$IMG" true
	[ "$status" -ne 0 ]
	[[ $output == *"already in use"* ]] || die "name conflict"
	docker rm dup >/dev/null
	run curl -s --unix-socket "${DOCKER_HOST#unix://}" -X POST -H 'Content-Type: application/json' \
		-d '{not json' http://x/v1.45/containers/create
	[[ $output == *'"message"'* ]] || die "malformed JSON"
	run docker version
	[ "$status" -eq 0 ] || die "daemon stopped serving"
}

@test "network modes none, host and container:<name>; -p and bridge are clear errors; --privileged" {
	docker run -d --name netowner --network none "$IMG" sleep 100 >/dev/null
	owner=$(docker exec netowner readlink /proc/self/ns/net)
	run docker run --rm --network container:netowner "$IMG" readlink /proc/self/ns/net
	[ "$status" -eq 0 ] && [ "$output" = "$owner" ] || die "container: network mode"
	# (its /dev/shm is not shared yet: berthd warns on stderr)
	run --separate-stderr docker run --rm --ipc container:netowner --network none "$IMG" readlink /proc/self/ns/ipc
	[ "$output" = "$(docker exec netowner readlink /proc/self/ns/ipc)" ] || die "container: ipc mode"
	run docker run --rm --network host "$IMG" readlink /proc/self/ns/net
	[ "$output" = "$(readlink /proc/self/ns/net)" ] || die "host network mode"
	run docker run --rm --network none "$IMG" readlink /proc/self/ns/net
	[ "$output" != "$(readlink /proc/self/ns/net)" ] && [ "$output" != "$owner" ] || die "none network mode"
	docker stop -t 0 netowner >/dev/null
	run docker run --rm --network container:netowner "$IMG" true
	[ "$status" -eq 125 ] && [[ $output == *"non running container"* ]] || die "joining a stopped container"
	docker rm netowner >/dev/null
	# none ignores published ports, as dockerd does
	run docker run --rm --network none -p 8080:80 "$IMG" true
	[ "$status" -eq 0 ] || die "-p with none"
	# privileged: every capability the daemon itself holds
	run docker run --rm --network none --privileged "$IMG" sh -c 'grep CapEff /proc/self/status'
	[ "$status" -eq 0 ] || die "privileged"
	[ "${output##*:	}" = "$(grep CapBnd /proc/self/status | cut -f2)" ] || die "privileged caps"
	run docker ps -aq
	[ -z "$output" ] || die "containers left"
}

@test "berthd killed with -9: 20 containers keep running; a new berthd adopts them" {
	for i in $(seq 20); do
		docker run -d --name keep$i --network none "$IMG" sh -c 'while true; do echo alive; sleep 0.2; done' >/dev/null
	done
	kill -9 "$BERTHD_PID"
	sleep 0.5
	# still running without a daemon: every log grows
	declare -A before
	for log in "$DAEMON_TMP"/d/data/containers/*/*-json.log; do before[$log]=$(wc -l <"$log"); done
	[ "${#before[@]}" -eq 20 ] || die "expected 20 logs, found ${#before[@]}"
	sleep 0.6
	for log in "${!before[@]}"; do
		[ "$(wc -l <"$log")" -gt "${before[$log]}" ] || die "a container stopped with the daemon: $log"
	done
	berthd_start
	run docker ps --format '{{.Names}}'
	[ "$(grep -c '^keep' <<<"$output")" -eq 20 ] || die "not all adopted"
	for i in $(seq 20); do
		run docker inspect -f '{{.State.Status}} {{.State.Running}}' keep$i
		[ "$output" = "running true" ] || die "keep$i after adoption"
	done
	# logs intact: the lines written before the kill are still there
	run docker logs keep7
	[ "$(grep -c alive <<<"$output")" -ge 5 ] || die "logs after restart"
	run docker exec keep3 echo exec-after-adoption
	[ "$output" = exec-after-adoption ] || die "exec after adoption"
	run docker stop -t 1 keep1
	[ "$status" -eq 0 ]
	run docker inspect -f '{{.State.Status}}' keep1
	[ "$output" = exited ] || die "stop after adoption"
	docker rm -f $(seq -f keep%g 20) >/dev/null
	run docker ps -a -q
	[ -z "$output" ] || die "containers left"
	run sh -c "ls '$DAEMON_TMP'/d/run/shims | wc -l"
	[ "$output" -eq 0 ] || die "shim dirs left"
}

@test "after a reboot, containers with restart policies start again with their files" {
	docker run -d --name boot-always --restart always --network none "$IMG" sh -c 'echo up >>/log; sleep 1000' >/dev/null
	docker run -d --name boot-unless --restart unless-stopped --network none "$IMG" sleep 1000 >/dev/null
	docker run -d --name boot-no --network none "$IMG" sleep 1000 >/dev/null
	docker run -d --name boot-stopped-always --restart always --network none "$IMG" sleep 1000 >/dev/null
	docker run -d --name boot-stopped-unless --restart unless-stopped --network none "$IMG" sleep 1000 >/dev/null
	docker stop -t 0 boot-stopped-always boot-stopped-unless >/dev/null
	# a reboot: the daemon, the shims, the containers, /run and every mount go
	local d=$DAEMON_TMP/d pidf c
	# an earlier test may have started this berthd: its pid file says
	kill -9 "$(cat "$d/berthd.pid")"
	for pidf in "$d"/run/shims/*/shim.pid; do kill -9 "$(cat "$pidf")" 2>/dev/null || true; done
	for c in "$d"/run/runtime/*/; do "$BUILD/berth-runtime" --root "$d/run/runtime" delete --force "$(basename "$c")"; done
	grep -o " $d/data[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l
	rm -rf "$d/run"
	berthd_start
	for _ in $(seq 50); do
		[ "$(docker inspect -f '{{.State.Status}}' boot-always)" = running ] &&
			[ "$(docker inspect -f '{{.State.Status}}' boot-unless)" = running ] && break
		sleep 0.1
	done
	for c in boot-always boot-unless boot-stopped-always; do
		run docker inspect -f '{{.State.Status}}' $c
		[ "$output" = running ] || die "$c after the reboot"
	done
	for c in boot-no boot-stopped-unless; do
		run docker inspect -f '{{.State.Status}}' $c
		[ "$output" = exited ] || die "$c after the reboot"
	done
	# the writable layer survived: the first run's line and the second's
	run docker exec boot-always cat /log
	[ "$output" = "$(printf 'up\nup')" ] || die "writable layer after the reboot"
	docker rm -f boot-always boot-unless boot-no boot-stopped-always boot-stopped-unless >/dev/null
}

@test "docker rmi of an image a container uses is refused" {
	docker create --name user --network none "$IMG" true >/dev/null
	run docker rmi "$IMG"
	[ "$status" -ne 0 ]
	[[ $output == *"being used"* || $output == *"must force"* ]] || die "rmi in use"
	docker rm user >/dev/null
	run docker rmi "$IMG"
	[ "$status" -eq 0 ] || die "rmi"
}

@test "docker exec of a program that is missing or cannot run: 127 or 126 and dockerd's message" {
	docker pull -q "$IMG" >/dev/null
	docker run -d --name exfail --network none "$IMG" sleep 100 >/dev/null
	# dockerd writes the error to the stream's stdout
	run -127 bash -c "'$DOCKER_CLI' exec exfail bt-no-such-command 2>/dev/null"
	[[ $output == 'OCI runtime exec failed: exec failed: '*'"bt-no-such-command": executable file not found in $PATH: unknown'* ]] ||
		die "message"
	run -127 docker exec exfail /no/such
	run docker exec exfail /etc/passwd
	[ "$status" -eq 126 ] || die "not executable"
	[[ $output == *"/etc/passwd"* ]] || die "message names the program"
	docker exec exfail sh -c 'printf "junk\n" >/tmp/bad; chmod +x /tmp/bad'
	run docker exec exfail /tmp/bad
	[ "$status" -eq 126 ] || die "exec format error"
	# with a terminal the same
	run -127 docker exec -t exfail bt-no-such-command
	[[ $output == *"executable file not found"* ]] || die "message with -t"
	# a process's own 127 and its early output are its own
	run -127 docker exec exfail sh -c 'echo early; exit 127'
	[ "$output" = early ] || die "the process's own output"
	run docker inspect -f '{{.State.Running}}' exfail
	[ "$output" = true ] || die "the container stopped"
	docker rm -f exfail >/dev/null
}

@test "docker attach of a -it container: after a detach with ctrl-p ctrl-q, the next attach types on" {
	docker run -dit --name reattach --network none "$IMG" sh >/dev/null
	for word in first second; do
		run bash -c "(sleep 1; printf 'echo $word-\$((6*7))\n'; sleep 1; printf '\020\021'; sleep 1) |
			script -qec \"'$DOCKER_CLI' attach reattach\" /dev/null"
		[[ $output == *"$word-42"* ]] || die "$word attach: the input did not reach the shell"
		[[ $output == *"read escape sequence"* ]] || die "$word attach: no detach"
	done
	run docker inspect -f '{{.State.Running}}' reattach
	[ "$output" = true ] || die "the detach stopped it"
	docker rm -f reattach >/dev/null
}
