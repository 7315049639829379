#!/usr/bin/env bats
# docker run --init (berth-init as PID 1: the command's exit status,
# signals forwarded, orphans reaped), healthchecks (from the CLI and from
# the image's HEALTHCHECK: status, streak, log, timeouts, ps, events,
# --no-healthcheck) and docker exec -it (a terminal, its size, resize),
# with the real docker CLI against berthd.

bats_require_minimum_version 1.5.0
load helpers

# The fixture image with a HEALTHCHECK in its config, as an OCI layout.
add_healthcheck() {
	python3 - "$1" "$2" <<'EOF'
import hashlib, json, os, shutil, sys
src, dst = sys.argv[1], sys.argv[2]
shutil.copytree(src, dst)
def blob(d):
    return os.path.join(dst, "blobs", "sha256", d.split(":", 1)[1])
def put(obj):
    data = json.dumps(obj).encode()
    d = "sha256:" + hashlib.sha256(data).hexdigest()
    open(blob(d), "wb").write(data)
    return d, len(data)
index = json.load(open(os.path.join(dst, "index.json")))
man = json.load(open(blob(index["manifests"][0]["digest"])))
cfg = json.load(open(blob(man["config"]["digest"])))
cfg["config"]["Healthcheck"] = {"Test": ["CMD-SHELL", "test -f /tmp/ready"], "Interval": 1000000000,
                                "Retries": 2}
man["config"]["digest"], man["config"]["size"] = put(cfg)
index["manifests"][0]["digest"], index["manifests"][0]["size"] = put(man)
json.dump(index, open(os.path.join(dst, "index.json"), "w"))
EOF
}

setup_file() {
	mkdir -p "$DAEMON_TMP"
	out=$(sh "$SRC/tests/registry/run-registry.sh" start)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/registry"
	export REG_HOST=${url#http://}
	[ -d "$DAEMON_TMP/fixtures/one" ] || python3 "$SRC/tests/image/mkimages.py" "$DAEMON_TMP/fixtures" one
	rm -rf "$DAEMON_TMP/fixtures/hc"
	add_healthcheck "$DAEMON_TMP/fixtures/one" "$DAEMON_TMP/fixtures/hc"
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/one:latest" "docker://$REG_HOST/bb:1"
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/hc:latest" "docker://$REG_HOST/bb:hc"
	berthd_start
	export BERTHD_PID DOCKER_HOST
	export IMG=$REG_HOST/bb:1 IMG_HC=$REG_HOST/bb:hc
	"$DOCKER_CLI" pull -q "$IMG" >/dev/null
	"$DOCKER_CLI" pull -q "$IMG_HC" >/dev/null
}

teardown_file() {
	daemon_cleanup
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

teardown() {
	"$DOCKER_CLI" rm -f $("$DOCKER_CLI" ps -aq) >/dev/null 2>&1 || true
}

docker() { "$DOCKER_CLI" "$@"; }

# wait_for SECONDS COMMAND...: until COMMAND succeeds
wait_for() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq "$n"); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

health_is() {
	[ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = "$2" ]
}

zombies() {
	docker exec "$1" sh -c 'cat /proc/[0-9]*/status' | grep -c '^State:.*zombie' || true
}

# ---- --init ----------------------------------------------------------------

@test "--init: docker-init is PID 1, runs the command, passes its exit status on" {
	run docker run --rm --init --network none "$IMG" sh -c 'tr "\0" " " </proc/1/cmdline'
	[ "$status" -eq 0 ] || die "run"
	[[ $output == "/sbin/docker-init -- sh -c tr "* ]] || die "cmdline: $output"
	run docker run --rm --init --network none "$IMG" ps -o pid,comm
	[[ $(awk '$1 == 1 {print $2}' <<<"$output") = docker-init ]] || die "ps: $output"
	run docker run --rm --init --network none "$IMG" sh -c 'exit 7'
	[ "$status" -eq 7 ] || die "exit status $status"
	run docker run --rm --init --network none "$IMG" sh -c 'kill -KILL $$'
	[ "$status" -eq 137 ] || die "killed by a signal: $status"
	run -127 docker run --rm --init --network none "$IMG" /no/such
	[ "$status" -eq 127 ] || die "missing program: $status"
	[ "$(docker inspect -f '{{.HostConfig.Init}}' "$(docker create --init "$IMG" true)")" = true ] || die "HostConfig.Init"
}

@test "--init: orphans are reaped (and are not without it)" {
	docker run -d --init --name reap --network none "$IMG" sleep 100 >/dev/null
	docker run -d --name noreap --network none "$IMG" sleep 100 >/dev/null
	# the shell exits at once: its background child is orphaned to PID 1
	for c in reap noreap; do
		docker exec "$c" sh -c 'sleep 0.2 >/dev/null 2>&1 & exit 0'
	done
	sleep 1
	[ "$(zombies noreap)" -ge 1 ] || die "without --init the orphan should stay a zombie (the test proves nothing)"
	[ "$(zombies reap)" -eq 0 ] || die "berth-init left a zombie"
}

@test "--init: docker stop's SIGTERM reaches the command (exit 143, no 10 s wait)" {
	docker run -d --init --name st --network none "$IMG" sleep 100 >/dev/null
	start=$SECONDS
	docker stop st >/dev/null
	[ $((SECONDS - start)) -lt 5 ] || die "stop took $((SECONDS - start)) s: the signal was not forwarded"
	[ "$(docker inspect -f '{{.State.ExitCode}}' st)" = 143 ] || die "exit code"
	# and a tty with --init: the command gets the terminal
	run docker run --rm --init -t --network none "$IMG" sh -c 'tty; exit 3'
	[ "$status" -eq 3 ] || die "tty exit status"
	[[ $output == */dev/pts/* ]] || die "tty: $output"
}

# ---- healthchecks --------------------------------------------------------------

@test "healthcheck: starting, unhealthy after the retries, healthy once it passes; ps and events" {
	since=$(date +%s)
	docker run -d --name hc --network none --health-cmd 'test -f /tmp/ok' --health-interval 1s \
		--health-retries 2 "$IMG" sleep 100 >/dev/null
	health_is hc starting || die "not starting"
	[[ $(docker ps --filter name=hc --format '{{.Status}}') == "Up "*"(health: starting)" ]] || die "ps while starting"
	wait_for 10 health_is hc unhealthy || die "never unhealthy"
	run docker inspect -f '{{.State.Health.FailingStreak}} {{len .State.Health.Log}} {{(index .State.Health.Log 0).ExitCode}}' hc
	[ "$output" = "2 2 1" ] || die "streak, log: $output"
	[[ $(docker ps --filter name=hc --format '{{.Status}}') == "Up "*"(unhealthy)" ]] || die "ps unhealthy"
	docker exec hc touch /tmp/ok
	wait_for 5 health_is hc healthy || die "never healthy"
	[ "$(docker inspect -f '{{.State.Health.FailingStreak}}' hc)" = 0 ] || die "streak not reset"
	[[ $(docker ps --filter name=hc --format '{{.Status}}') == "Up "*"(healthy)" ]] || die "ps healthy"
	[ "$(docker ps -q --filter health=healthy)" = "$(docker ps -q --filter name=hc)" ] || die "health filter"
	[ -z "$(docker ps -q --filter health=unhealthy)" ] || die "health filter: unhealthy"
	# five results at most, each with its times
	sleep 5
	run docker inspect -f '{{len .State.Health.Log}} {{(index .State.Health.Log 4).ExitCode}}' hc
	[ "$output" = "5 0" ] || die "log length: $output"
	run docker inspect -f '{{json .State.Health.Log}}' hc
	jq -e 'all(.[]; (.Start | test("^20")) and (.End | test("^20")))' <<<"$output" >/dev/null || die "log times"
	[ "$(docker inspect -f '{{json .Config.Healthcheck.Test}}' hc)" = '["CMD-SHELL","test -f /tmp/ok"]' ] || die "config"
	docker stop -t 1 hc >/dev/null
	health_is hc unhealthy || die "a stopped container is unhealthy (as dockerd)"
	run docker events --since "$since" --until "$(($(date +%s) + 1))" --filter type=container --format '{{.Action}}'
	grep -qx 'health_status: unhealthy' <<<"$output" || die "no unhealthy event: $output"
	grep -qx 'health_status: healthy' <<<"$output" || die "no healthy event: $output"
}

@test "healthcheck: output kept, a probe over its timeout is killed and fails" {
	docker run -d --name to --network none --health-cmd 'echo probing; sleep 30; echo never' --health-timeout 300ms \
		--health-interval 1s --health-retries 1 "$IMG" sleep 100 >/dev/null
	wait_for 10 health_is to unhealthy || die "never unhealthy"
	run docker inspect -f '{{(index .State.Health.Log 0).ExitCode}}|{{(index .State.Health.Log 0).Output}}' to
	[ "$output" = "-1|Health check exceeded timeout (300ms): probing" ] || die "timeout result: $output"
	run docker exec to ps -o args
	! grep -q '^sleep 30' <<<"$output" || die "the timed out probe still runs: $output"
	docker run -d --name out --network none --health-cmd 'echo to-stdout; echo to-stderr >&2; exit 3' \
		--health-interval 1s "$IMG" sleep 100 >/dev/null
	wait_for 5 eval '[ "$(docker inspect -f "{{len .State.Health.Log}}" out)" -ge 1 ]' || die "no result"
	run docker inspect -f '{{json (index .State.Health.Log 0)}}' out
	[ "$(jq -r .Output <<<"$output")" = "$(printf 'to-stdout\nto-stderr')" ] || die "output: $output"
	[ "$(jq -r .ExitCode <<<"$output")" = 3 ] || die "exit code: $output"
	# the exec form (CMD), through the API as the CLI only makes CMD-SHELL,
	# and a start period: failures inside it do not count, probes come every
	# StartInterval meanwhile (Interval is a minute)
	body=$(jq -n --arg img "$IMG" '{Image: $img, Cmd: ["sleep", "100"], HostConfig: {NetworkMode: "none"},
		Healthcheck: {Test: ["CMD", "false"], Interval: 60000000000, StartPeriod: 30000000000,
		StartInterval: 500000000, Retries: 1}}')
	curl -fsS --unix-socket "$DAEMON_TMP/d/berth.sock" -H 'Content-Type: application/json' -d "$body" \
		"http://d/containers/create?name=cmdform" >/dev/null || die "create"
	docker start cmdform >/dev/null
	wait_for 5 eval '[ "$(docker inspect -f "{{len .State.Health.Log}}" cmdform)" -ge 2 ]' || die "no results"
	health_is cmdform starting || die "failures inside the start period count"
	run docker inspect -f '{{.State.Health.FailingStreak}} {{(index .State.Health.Log 0).ExitCode}}' cmdform
	[ "$output" = "0 1" ] || die "streak in start period, exit code of false: $output"
	# files of the probes do not pile up
	docker rm -f to out cmdform >/dev/null
	[ -z "$(ls "$DAEMON_TMP"/d/run | grep -E '^(probe|exec)-')" ] || die "leftover files: $(ls "$DAEMON_TMP"/d/run)"
}

@test "healthcheck: the image's HEALTHCHECK, merged with the body's; --no-healthcheck" {
	docker run -d --name img --network none "$IMG_HC" sleep 100 >/dev/null
	[ "$(docker inspect -f '{{json .Config.Healthcheck.Test}}' img)" = '["CMD-SHELL","test -f /tmp/ready"]' ] ||
		wait_for 3 eval '[ "$(docker inspect -f "{{json .Config.Healthcheck.Test}}" img)" = "[\"CMD-SHELL\",\"test -f /tmp/ready\"]" ]' ||
		die "image healthcheck in Config"
	wait_for 10 health_is img unhealthy || die "image healthcheck never failed"
	docker exec img touch /tmp/ready
	wait_for 5 health_is img healthy || die "image healthcheck never passed"
	# the body's test, the image's interval and retries
	docker run -d --name merged --network none --health-cmd 'exit 0' "$IMG_HC" sleep 100 >/dev/null
	wait_for 5 health_is merged healthy || die "merged healthcheck (image interval 1s) not healthy in time"
	docker run -d --name nohc --network none --no-healthcheck "$IMG_HC" sleep 100 >/dev/null
	sleep 2
	[ "$(docker inspect -f '{{.State.Health}}' nohc)" = "<nil>" ] || die "--no-healthcheck still has a health state"
	[[ $(docker ps --filter name=nohc --format '{{.Status}}') != *health* ]] || die "ps with --no-healthcheck"
	docker run -d --name plain --network none "$IMG" sleep 100 >/dev/null
	[ "$(docker inspect -f '{{.State.Health}}' plain)" = "<nil>" ] || die "no healthcheck: no health state"
	run docker run -d --network none --health-cmd true --health-interval 1us "$IMG" true
	[ "$status" -ne 0 ] && [[ $output == *"Interval in Healthcheck cannot be less than 1ms"* ]] || die "validation: $output"
}

@test "healthcheck: kept through a restart, and by a new berthd for the containers it adopts" {
	docker run -d --name adopt --network none --health-cmd true --health-interval 1s "$IMG" sleep 100 >/dev/null
	wait_for 5 health_is adopt healthy || die "never healthy"
	kill -9 "$BERTHD_PID"
	berthd_start
	health_is adopt starting || die "a new berthd starts over (as dockerd restoring a container)"
	wait_for 5 health_is adopt healthy || die "no probes after adoption"
	docker restart -t 1 adopt >/dev/null
	health_is adopt starting || die "a restart starts over"
	[ "$(docker inspect -f '{{len .State.Health.Log}}' adopt)" -ge 1 ] || die "the log is kept"
	wait_for 5 health_is adopt healthy || die "no probes after the restart"
}

# ---- exec with a terminal -----------------------------------------------------

@test "docker exec -it: a terminal with the client's size, keystrokes in, exit code out" {
	docker run -d --name tt --network none "$IMG" sleep 100 >/dev/null
	run script -qec "stty cols 91 rows 23; docker exec -it tt sh -c 'tty; stty size; exit 6'" /dev/null
	[ "$status" -eq 6 ] || die "exit code $status"
	[[ $output == *"/dev/pts/"* ]] || die "no terminal: $output"
	[[ $output == *"23 91"* ]] || die "size: $output"
	# an interactive shell: what is typed runs, its exit status comes back
	run bash -c '(sleep 1; printf "echo in-\$((40+2))\n"; sleep 0.5; printf "exit 4\n"; sleep 1) |
		script -qec "docker exec -it tt sh" /dev/null'
	[ "$status" -eq 4 ] || die "interactive exit code $status: $output"
	[[ $output == *"in-42"* ]] || die "interactive output: $output"
	# the exec's user, env (TERM for a terminal) and working directory
	run script -qec "docker exec -it -u 65534 -e FOO=bar -w /tmp tt sh -c 'echo \$(id -u) \$FOO \$(pwd) \$TERM'" /dev/null
	[[ $output == *"65534 bar /tmp xterm"* ]] || die "user, env, cwd: $output"
	# -t without -i
	run script -qec "docker exec -t tt sh -c 'test -t 1 && echo is-a-tty'" /dev/null
	[[ $output == *is-a-tty* ]] || die "-t alone: $output"
}

@test "docker exec -it: POST /exec/{id}/resize changes the terminal's size" {
	docker run -d --name rs --network none "$IMG" sleep 100 >/dev/null
	out=$DAEMON_TMP/resize.out
	script -qec "stty cols 91 rows 23; docker exec -it rs sh -c 'stty size; sleep 2; stty size'" "$out" \
		>/dev/null 2>&1 &
	pid=$!
	wait_for 5 eval 'ls "$DAEMON_TMP"/d/run/exec-*.json >/dev/null 2>&1' || die "the exec did not start"
	f=$(ls "$DAEMON_TMP"/d/run/exec-*.json | head -1)
	id=${f##*/exec-}
	id=${id%.json}
	sleep 0.5
	curl -fsS --unix-socket "$DAEMON_TMP/d/berth.sock" -X POST "http://d/exec/$id/resize?h=30&w=100" ||
		die "resize request"
	wait "$pid"
	run cat "$out"
	[[ $output == *"23 91"*"30 100"* ]] || die "sizes: $output"
	run curl -s -o /dev/null -w '%{http_code}' --unix-socket "$DAEMON_TMP/d/berth.sock" -X POST \
		"http://d/exec/nosuchexec/resize?h=1&w=1"
	[ "$output" = 404 ] || die "resize of an unknown exec: $output"
}
