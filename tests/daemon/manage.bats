#!/usr/bin/env bats
# Managing containers with the real docker CLI (v28) against berthd:
# rename, update (limits reach the cgroup and survive a restart), container
# prune, system df, attach with logs=1, json-file rotation and the none
# driver, registry credentials from docker login (X-Registry-Auth)
# against a token-auth registry, and docker save piped into docker load
# or docker import.

bats_require_minimum_version 1.5.0
load helpers

# berthd reads no credentials of its own: only what the CLI sends
daemon_start() {
	DOCKER_CONFIG=$DAEMON_TMP/daemon-config berthd_start
}

# a test runs in a process of its own: the daemon an earlier test started
# is known by its pid file
daemon_restart() {
	BERTHD_PID=$(cat "$DAEMON_TMP/d/berthd.pid")
	berthd_stop
	daemon_start
}

setup_file() {
	mkdir -p "$DAEMON_TMP/daemon-config" "$DAEMON_TMP/cli-config"
	out=$(sh "$SRC/tests/registry/run-registry.sh" start)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/registry"
	export REG_HOST=${url#http://}
	out=$(sh "$SRC/tests/registry/run-registry.sh" start-token bob:builder)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/token-registry"
	export TOK_HOST=${url#http://}
	[ -d "$DAEMON_TMP/fixtures/one" ] || python3 "$SRC/tests/image/mkimages.py" "$DAEMON_TMP/fixtures" one
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/one:latest" "docker://$REG_HOST/bb:1"
	skopeo copy -q --dest-tls-verify=false --dest-creds bob:builder "oci:$DAEMON_TMP/fixtures/one:latest" \
		"docker://$TOK_HOST/private:1"
	daemon_start
	export BERTHD_PID DOCKER_HOST
	export IMG=$REG_HOST/bb:1
	"$DOCKER_CLI" pull -q "$IMG" >/dev/null
}

teardown_file() {
	daemon_cleanup
	local f
	for f in registry token-registry; do
		[ -f "$DAEMON_TMP/$f" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/$f")
	done
	rm -rf "$DAEMON_TMP"
}

docker() { DOCKER_CONFIG=$DAEMON_TMP/cli-config "$DOCKER_CLI" "$@"; }

# api METHOD PATH [curl args]: the Engine API through the socket; prints
# the body, then the status on a line of its own
api() {
	local method=$1 path=$2
	shift 2
	curl -s --unix-socket "${DOCKER_HOST#unix://}" -X "$method" -w '\n%{http_code}' "$@" "http://x/v1.45$path"
}

# The container's cgroup directory for a v1 controller, from its init's
# /proc/<pid>/cgroup.
cgroup_dir() {
	local pid path
	pid=$(docker inspect -f '{{.State.Pid}}' "$1")
	path=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' \
		"/proc/$pid/cgroup")
	echo "/sys/fs/cgroup/$2$path"
}

@test "containers start with no signal blocked: a TERM trap runs, docker stop returns at once" {
	run docker run --rm "$IMG" grep SigBlk /proc/self/status
	[ "$status" = 0 ] && [[ $output == *"SigBlk:	0000000000000000"* ]] || die "blocked: $output"
	docker run -d --name trapper "$IMG" sh -c "trap 'exit 3' TERM; while :; do sleep 0.1; done" >/dev/null
	sleep 0.5
	t0=$(date +%s%N)
	docker stop -t 10 trapper >/dev/null
	ms=$((($(date +%s%N) - t0) / 1000000))
	((ms < 3000)) || die "stop took $ms ms: the trap did not run"
	[ "$(docker inspect -f '{{.State.ExitCode}}' trapper)" = 3 ]
	docker rm trapper >/dev/null
}

@test "docker rename: inspect and ps show the new name, the old one is free, conflicts and bad names refused" {
	since=$(date +%s)
	docker run -d --name rn1 --network none "$IMG" sleep 1000 >/dev/null
	docker create --name rn-taken --network none "$IMG" true >/dev/null
	run docker rename rn1 rn2
	[ "$status" -eq 0 ] || die "rename"
	run docker inspect -f '{{.Name}} {{.State.Running}}' rn2
	[ "$output" = "/rn2 true" ] || die "inspect after rename"
	run docker ps --format '{{.Names}}'
	grep -qx rn2 <<<"$output" || die "ps after rename"
	run docker inspect rn1
	[ "$status" -ne 0 ] || die "the old name still resolves"
	docker create --name rn1 --network none "$IMG" true >/dev/null || die "the old name is not free"
	run api POST "/containers/rn2/rename?name=rn-taken"
	[ "${lines[-1]}" = 409 ] || die "taken name: $output"
	[[ $output == *"already in use"* ]] || die "taken name message"
	run api POST "/containers/rn2/rename?name=bad!name"
	[ "${lines[-1]}" = 400 ] || die "invalid name: $output"
	[[ $output == *"Invalid container name"* ]] || die "invalid name message"
	run api POST "/containers/no-such/rename?name=whatever"
	[ "${lines[-1]}" = 404 ] || die "unknown container: $output"
	run docker events --since "$since" --until "$(($(date +%s) + 1))" --filter event=rename \
		--format '{{.Actor.Attributes.name}} {{.Actor.Attributes.oldName}}'
	[ "$output" = "rn2 /rn1" ] || die "rename event: $output"
	# the new name is in the record: a new berthd knows it
	daemon_restart
	run docker inspect -f '{{.Name}}' rn2
	[ "$output" = /rn2 ] || die "rename lost with the daemon"
	docker rm -f rn1 rn2 rn-taken >/dev/null
}

@test "docker update: memory and cpus reach the running cgroup, inspect shows them, they survive restarts" {
	docker run -d --name upd --network none "$IMG" sleep 1000 >/dev/null
	run docker update --memory 64m --cpus 0.5 upd
	[ "$status" -eq 0 ] || die "update"
	run docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' upd
	[ "$output" = "67108864 500000000" ] || die "inspect: $output"
	mem=$(cgroup_dir upd memory)
	[ "$(cat "$mem/memory.limit_in_bytes")" = 67108864 ] || die "memory.limit_in_bytes in $mem"
	cpu=$(cgroup_dir upd cpu)
	[ "$(cat "$cpu/cpu.cfs_quota_us")" = 50000 ] || die "cpu.cfs_quota_us in $cpu"
	run docker update --pids-limit 50 --cpu-shares 512 --restart on-failure:3 upd
	[ "$status" -eq 0 ] || die "update 2: $output"
	[ "$(cat "$(cgroup_dir upd pids)/pids.max")" = 50 ] || die "pids.max"
	[ "$(cat "$(cgroup_dir upd cpu)/cpu.shares")" = 512 ] || die "cpu.shares"
	run docker inspect -f '{{.HostConfig.RestartPolicy.Name}}:{{.HostConfig.RestartPolicy.MaximumRetryCount}}' upd
	[ "$output" = on-failure:3 ] || die "restart policy: $output"
	# a restart makes a new cgroup from config.json
	docker restart -t 0 upd >/dev/null
	[ "$(cat "$(cgroup_dir upd memory)/memory.limit_in_bytes")" = 67108864 ] || die "memory after restart"
	# and a new daemon reads them from the record
	daemon_restart
	run docker inspect -f '{{.HostConfig.Memory}} {{.HostConfig.PidsLimit}}' upd
	[ "$output" = "67108864 50" ] || die "after a daemon restart: $output"
	docker rm -f upd >/dev/null
}

@test "docker update: a stopped container gets its limits at start; bad limits are refused" {
	docker create --name upd2 --network none "$IMG" sleep 1000 >/dev/null
	run docker update --memory 32m upd2
	[ "$status" -eq 0 ] || die "update of a created container"
	docker start upd2 >/dev/null
	[ "$(cat "$(cgroup_dir upd2 memory)/memory.limit_in_bytes")" = 33554432 ] || die "limit at start"
	run docker update --memory 1m upd2
	[ "$status" -ne 0 ] || die "1m accepted"
	[[ $output == *"Minimum memory limit allowed is 6MB"* ]] || die "message: $output"
	run docker update --cpu-period 100000 upd2
	[ "$status" -eq 0 ] || die "cpu period: $output"
	run docker update --cpus 1 upd2
	[ "$status" -ne 0 ] || die "nano cpus after a period"
	[[ $output == *"Conflicting options"* ]] || die "conflict message: $output"
	run api POST /containers/upd2/update -H 'Content-Type: application/json' -d '{"Memory":67108864}'
	[ "${lines[-1]}" = 200 ] || die "API status: $output"
	[ "${lines[0]}" = '{"Warnings":[]}' ] || die "API answer: $output"
	docker rm -f upd2 >/dev/null
}

@test "docker container prune: stopped containers only, with label and until filters" {
	docker create --name pr-created --network none "$IMG" true >/dev/null
	docker run --name pr-exited --network none "$IMG" true
	docker run -d --name pr-running --network none "$IMG" sleep 1000 >/dev/null
	docker create --name pr-keep --label keep=yes --network none "$IMG" true >/dev/null
	created=$(docker inspect -f '{{.Id}}' pr-created)
	# nothing was made an hour ago
	run docker container prune -f --filter until=1h
	[ "$status" -eq 0 ] || die "prune until"
	[ "$(docker ps -aq --filter name=pr- | wc -l)" -eq 4 ] || die "until=1h removed something"
	run docker container prune -f --filter label!=keep
	[ "$status" -eq 0 ] || die "prune: $output"
	[[ $output == *"$created"* ]] || die "prune output: $output"
	[[ $output == *"Total reclaimed space"* ]] || die "reclaimed line"
	run docker ps -a --filter name=pr- --format '{{.Names}}'
	[ "$(sort <<<"$output" | tr '\n' ' ')" = "pr-keep pr-running " ] || die "left: $output"
	run api POST '/containers/prune?filters=%7B%22bogus%22%3A%5B%22x%22%5D%7D'
	[ "${lines[-1]}" = 400 ] || die "unknown filter: $output"
	run api POST /containers/prune
	[ "${lines[-1]}" = 200 ] || die "API prune: $output"
	[ "$(jq -r '.ContainersDeleted | length' <<<"${lines[0]}")" = 1 ] || die "API answer: $output"
	run docker ps -a --filter name=pr- --format '{{.Names}}'
	[ "$output" = pr-running ] || die "running one pruned: $output"
	docker rm -f pr-running >/dev/null
}

@test "docker system df: images, containers with their writable layer, volumes with their usage" {
	docker volume create dfvol >/dev/null
	docker run --name dfc --network none -v dfvol:/v "$IMG" sh -c \
		'dd if=/dev/zero of=/big bs=1000 count=300 2>/dev/null; printf 0123456789 > /v/ten'
	run docker system df
	[ "$status" -eq 0 ] || die "system df: $output"
	for t in Images Containers "Local Volumes" "Build Cache"; do
		grep -q "^$t " <<<"$output" || die "no $t line: $output"
	done
	run docker system df -v
	[ "$status" -eq 0 ] || die "system df -v: $output"
	[[ $output == *dfc* && $output == *dfvol* ]] || die "-v: $output"
	run api GET /system/df
	[ "${lines[-1]}" = 200 ] || die "API: $output"
	body=${lines[0]}
	rw=$(jq '.Containers[] | select(.Names[0] == "/dfc") | .SizeRw' <<<"$body")
	[ "$rw" -ge 300000 ] || die "SizeRw $rw"
	rootfs=$(jq '.Containers[] | select(.Names[0] == "/dfc") | .SizeRootFs' <<<"$body")
	[ "$rootfs" -gt "$rw" ] || die "SizeRootFs $rootfs"
	[ "$(jq -c '.Volumes[] | select(.Name == "dfvol") | .UsageData' <<<"$body")" = '{"Size":10,"RefCount":1}' ] ||
		die "volume usage: $body"
	[ "$(jq '.LayersSize > 0 and (.Images | length) >= 1 and .Images[0].SharedSize >= 0' <<<"$body")" = true ] ||
		die "images: $body"
	[ "$(jq -c '[.BuildCache, .BuilderSize]' <<<"$body")" = "[null,0]" ] || die "build cache"
	docker rm dfc >/dev/null
	docker volume rm dfvol >/dev/null
}

@test "attach with logs=1 replays the log before the stream (docker-py, compose)" {
	docker run -d --name att --network none "$IMG" sh -c 'echo early-out; echo early-err >&2; sleep 2; echo late-out' \
		>/dev/null
	sleep 0.7
	# logs only: what was written, framed, and the connection ends
	api POST '/containers/att/attach?logs=1&stdout=1&stderr=1' -o "$DAEMON_TMP/att1" >/dev/null
	grep -qa early-out "$DAEMON_TMP/att1" || die "no stdout replayed"
	grep -qa early-err "$DAEMON_TMP/att1" || die "no stderr replayed"
	! grep -qa late-out "$DAEMON_TMP/att1" || die "stream=0 streamed"
	# stdout alone: no stderr frames
	api POST '/containers/att/attach?logs=1&stdout=1' -o "$DAEMON_TMP/att2" >/dev/null
	grep -qa early-out "$DAEMON_TMP/att2" && ! grep -qa early-err "$DAEMON_TMP/att2" || die "stdout filter"
	# logs and stream: the past once, then what comes, until the exit
	api POST '/containers/att/attach?logs=1&stream=1&stdout=1&stderr=1' -o "$DAEMON_TMP/att3" --max-time 10 >/dev/null
	[ "$(grep -ac early-out "$DAEMON_TMP/att3")" = 1 ] || die "replayed $(grep -ac early-out "$DAEMON_TMP/att3") times"
	grep -qa late-out "$DAEMON_TMP/att3" || die "nothing streamed after the replay"
	# a stopped container: its log, no error
	run api POST '/containers/att/attach?logs=1&stdout=1'
	[[ $output == *late-out* ]] || die "logs of a stopped container: $output"
	docker rm att >/dev/null
}

@test "json-file rotation: max-size=1k max-file=2 keeps at most 2 files; other drivers" {
	docker run -d --name rot --network none --log-opt max-size=1k --log-opt max-file=2 "$IMG" sh -c \
		'i=0; while [ $i -lt 200 ]; do echo line-$i-padding-padding-padding; i=$((i+1)); done; echo done; sleep 1000' \
		>/dev/null
	id=$(docker inspect -f '{{.Id}}' rot)
	for _ in $(seq 50); do
		docker logs rot 2>/dev/null | grep -q '^done$' && break
		sleep 0.1
	done
	logs=("$DAEMON_TMP"/d/data/containers/$id/$id-json.log*)
	[ "${#logs[@]}" -eq 2 ] || die "log files: ${logs[*]}"
	for f in "${logs[@]}"; do
		[ "$(stat -c %s "$f")" -lt 1200 ] || die "$f is $(stat -c %s "$f") bytes"
	done
	run docker logs rot
	[ "${lines[-1]}" = done ] || die "logs after rotation"
	[[ $output != *line-0-* ]] || die "rotated lines still shown"
	run docker inspect -f '{{.HostConfig.LogConfig.Config}}' rot
	[[ $output == *max-size:1k* ]] || die "LogConfig: $output"
	docker rm -f rot >/dev/null
	# none: runs, attached output still works, no log to read
	run docker run --rm --network none --log-driver none "$IMG" echo via-attach
	[ "$output" = via-attach ] || die "--log-driver none run: $output"
	docker run -d --name nolog --network none --log-driver none "$IMG" sh -c 'echo x; sleep 1000' >/dev/null
	run docker logs nolog
	[ "$status" -ne 0 ] || die "logs of a none container"
	[[ $output == *"does not support reading"* ]] || die "none message: $output"
	docker rm -f nolog >/dev/null
	run docker run --rm --network none --log-driver syslog "$IMG" true
	[ "$status" -ne 0 ] || die "syslog accepted"
	[[ $output == *syslog* ]] || die "driver not named: $output"
	run docker run --rm --network none --log-opt max-size=lots "$IMG" true
	[ "$status" -ne 0 ] || die "bad max-size accepted"
	run docker run --rm --network none --log-opt bogus=1 "$IMG" true
	[[ $output == *"unknown log opt 'bogus'"* ]] || die "unknown option: $output"
}

@test "registry credentials: docker login, then pull and push with X-Registry-Auth (token auth)" {
	run docker pull "$TOK_HOST/private:1"
	[ "$status" -ne 0 ] || die "anonymous pull of a private image"
	run docker login -u bob --password-stdin "$TOK_HOST" <<<wrong
	[ "$status" -ne 0 ] || die "login with a wrong password"
	run docker login -u bob --password-stdin "$TOK_HOST" <<<builder
	[ "$status" -eq 0 ] || die "login: $output"
	[[ $output == *"Login Succeeded"* ]] || die "login output: $output"
	# the daemon has no credentials file: they came with the request
	[ ! -e "$DAEMON_TMP/daemon-config/config.json" ] || die "berthd wrote credentials"
	run docker pull "$TOK_HOST/private:1"
	[ "$status" -eq 0 ] || die "pull after login: $output"
	docker tag "$TOK_HOST/private:1" "$TOK_HOST/pushed:1"
	run docker push "$TOK_HOST/pushed:1"
	[ "$status" -eq 0 ] || die "push after login: $output"
	skopeo inspect --tls-verify=false --creds bob:builder "docker://$TOK_HOST/pushed:1" >/dev/null ||
		die "pushed image not in the registry"
	# the header alone, as docker-py sends it (padded URL-safe base64)
	docker rmi "$TOK_HOST/private:1" "$TOK_HOST/pushed:1" >/dev/null
	good=$(printf '{"username":"bob","password":"builder","serveraddress":"%s"}' "$TOK_HOST" | base64 -w0 | tr '+/' '-_')
	bad=$(printf '{"username":"bob","password":"nope"}' | base64 -w0 | tr '+/' '-_')
	run api POST "/images/create?fromImage=$TOK_HOST/private&tag=1" -H "X-Registry-Auth: $bad"
	[ "${lines[-1]}" != 200 ] || [[ $output == *error* ]] || die "bad credentials accepted: $output"
	run api POST "/images/create?fromImage=$TOK_HOST/private&tag=1" -H "X-Registry-Auth: $good"
	[ "${lines[-1]}" = 200 ] && [[ $output != *errorDetail* ]] || die "pull with the header: $output"
	docker image inspect "$TOK_HOST/private:1" >/dev/null || die "not pulled"
	# a registry token (one the token server made for this repository)
	docker rmi "$TOK_HOST/private:1" >/dev/null
	read -r _ tokdir <"$DAEMON_TMP/token-registry"
	tok=$(curl -s -u bob:builder \
		"http://127.0.0.1:$(cat "$tokdir/token.port")/token?service=berth-registry&scope=repository:private:pull" |
		jq -r .token)
	hdr=$(printf '{"registrytoken":"%s"}' "$tok" | base64 -w0 | tr '+/' '-_')
	run api POST "/images/create?fromImage=$TOK_HOST/private&tag=1" -H "X-Registry-Auth: $hdr"
	[ "${lines[-1]}" = 200 ] && [[ $output != *errorDetail* ]] || die "pull with a registry token: $output"
	docker logout "$TOK_HOST" >/dev/null
}

@test "docker save | docker load, and | docker import: no deadlock whichever request comes first" {
	# the image store is used under one lock: a load or an import must not
	# hold it while its upload is a save this daemon serves, nor a save
	# while its client reads (bounded, so a deadlock fails the test)
	local cli="export DOCKER_CONFIG='$DAEMON_TMP/cli-config'; d=$DOCKER_CLI"
	head -c 8M /dev/urandom >"$BATS_TEST_TMPDIR/big"
	run timeout 60 bash -c "$cli; tar -C '$BATS_TEST_TMPDIR' -c big | \$d import - pipe-big:1"
	[ "$status" -eq 0 ] || die "import: $output"
	# load's request first (the CLI sends its headers when stdin is slow)
	run timeout 60 bash -c "$cli; { sleep 1; \$d save '$IMG'; } | \$d load"
	[ "$status" -eq 0 ] && [ "$output" = "Loaded image: $IMG" ] || die "load first: $status $output"
	# save's first, with more than the pipes and sockets between them hold
	run timeout 60 bash -c "$cli; \$d save pipe-big:1 | { sleep 1; \$d load; }"
	[ "$status" -eq 0 ] && [ "$output" = "Loaded image: pipe-big:1" ] || die "save first: $status $output"
	run timeout 60 bash -c "$cli; { sleep 1; \$d save '$IMG'; } | \$d import - pipe-imported:1"
	[ "$status" -eq 0 ] && [[ $output == sha256:* ]] || die "import first: $status $output"
	docker rmi pipe-big:1 pipe-imported:1 >/dev/null
}
