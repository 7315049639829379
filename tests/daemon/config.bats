#!/usr/bin/env bats
# berthd's configuration as dockerd's: daemon.json (--config-file) and its
# errors, SIGHUP reloads, sockets (several -H, TCP only with TLS client
# certificates), default ulimits and an external default runtime (runc).
# Each test starts its own berthd in $DAEMON_TMP/<name>; only loopback.

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
	export IMG=$REG_HOST/bb:1
	make_certs "$DAEMON_TMP/certs"
}

teardown_file() {
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

teardown() {
	cfg_cleanup
}

docker() { "$DOCKER_CLI" "$@"; }

# A CA, a server certificate for 127.0.0.1 and a client certificate, as
# Docker's "protect the daemon socket" guide makes them.
make_certs() {
	local c=$1
	mkdir -p "$c"
	(
		cd "$c" || exit 1
		openssl req -x509 -newkey rsa:2048 -nodes -keyout ca-key.pem -out ca.pem -days 2 -subj /CN=test-ca
		openssl req -newkey rsa:2048 -nodes -keyout server-key.pem -out server.csr -subj /CN=localhost
		printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >server.ext
		openssl x509 -req -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile server.ext -out server-cert.pem
		openssl req -newkey rsa:2048 -nodes -keyout key.pem -out client.csr -subj /CN=client
		printf 'extendedKeyUsage=clientAuth\n' >client.ext
		openssl x509 -req -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -days 2 \
			-extfile client.ext -out cert.pem
	) >/dev/null 2>&1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# cfg_dir NAME: a fresh directory for this test's daemon, in $D
cfg_dir() {
	D=$DAEMON_TMP/$1
	rm -rf "$D"
	mkdir -p "$D"
}

# cfg_start JSON [FLAGS...]: berthd with $D/daemon.json holding JSON (its
# data and exec roots under $D unless JSON has them); sets CFG_PID and
# DOCKER_HOST (the first unix socket).
cfg_start() {
	local json=$1
	shift
	printf '%s\n' "$json" >"$D/daemon.json"
	"$BUILD/berthd" --config-file "$D/daemon.json" "$@" >>"$D/berthd.log" 2>&1 3>&- &
	CFG_PID=$!
	echo "$CFG_PID" >"$D/test.pid"
	export DOCKER_HOST=unix://$D/berth.sock
	for _ in $(seq 100); do
		"$DOCKER_CLI" version >/dev/null 2>&1 && return 0
		kill -0 "$CFG_PID" 2>/dev/null || break
		sleep 0.05
	done
	cat "$D/berthd.log" >&2
	return 1
}

# the usual keys of a private daemon, for JSON objects built with jq
cfg_base() {
	jq -cn --arg d "$D" --arg reg "$REG_HOST" \
		'{"data-root": "\($d)/data", "exec-root": "\($d)/run", "hosts": ["unix://\($d)/berth.sock"],
		  "insecure-registries": [$reg]}'
}

wait_log() {
	for _ in $(seq 100); do
		grep -q "$1" "$D/berthd.log" && return 0
		sleep 0.05
	done
	cat "$D/berthd.log" >&2
	return 1
}

# Stop this test's daemon by its PID, then what it left: containers (by
# their shims), runtime state (berth-runtime's and runc's), mounts.
cfg_cleanup() {
	local pidf c
	[ -n "${D:-}" ] || return 0
	if [ -f "$D/test.pid" ]; then
		kill "$(cat "$D/test.pid")" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$(cat "$D/test.pid")" 2>/dev/null || break; sleep 0.05; done
		kill -9 "$(cat "$D/test.pid")" 2>/dev/null
	fi
	for pidf in "$D"/run/shims/*/shim.pid; do
		[ -f "$pidf" ] && kill -9 "$(cat "$pidf")" 2>/dev/null
	done
	for c in "$D"/run/runtime/*/; do
		[ -d "$c" ] && "$BUILD/berth-runtime" --root "$D/run/runtime" delete --force "$(basename "$c")" 2>/dev/null
	done
	for c in "$D"/run/runtimes/runc/*/; do
		[ -d "$c" ] && runc --root "$D/run/runtimes/runc" delete --force "$(basename "$c")" 2>/dev/null
	done
	grep -o " $D/[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$D"
	D=
}

@test "daemon.json: data-root, exec-root, several hosts and pidfile are honoured" {
	cfg_dir keys
	cfg_start "$(cfg_base | jq -c --arg d "$D" '.hosts += ["unix://\($d)/second.sock"] | .pidfile = "\($d)/pid"')"
	run docker info --format '{{.DockerRootDir}}'
	[ "$output" = "$D/data" ] || die "data-root"
	[ -d "$D/run/shims" ] || die "exec-root"
	run "$DOCKER_CLI" -H "unix://$D/second.sock" version --format '{{.Server.APIVersion}}'
	[ "$status" -eq 0 ] && [ "$output" = 1.45 ] || die "second host"
	[ "$(cat "$D/pid")" = "$CFG_PID" ] || die "pidfile"
	[ "$(stat -c %a "$D/berth.sock")" = 660 ] || die "socket mode"
	if getent group berth >/dev/null; then
		[ "$(stat -c %G "$D/berth.sock")" = berth ] || die "socket group"
	else
		[ "$(stat -c %G "$D/berth.sock")" = root ] || die "socket group"
	fi
}

@test "a key given both as a flag and in daemon.json is refused, as dockerd does" {
	cfg_dir conflict
	cfg_base | jq -c '.debug = false' >"$D/daemon.json"
	run "$BUILD/berthd" --config-file "$D/daemon.json" --debug --data-root "$D/other"
	[ "$status" -ne 0 ]
	[[ $output == *"the following directives are specified both as a flag and in the configuration file: "* ]] || die "message"
	[[ $output == *"debug: (from flag: true, from file: false)"* ]] || die "debug named"
	[[ $output == *"data-root: (from flag: $D/other, from file: $D/data)"* ]] || die "data-root named"
	[ ! -e "$D/berth.sock" ]
}

@test "unknown keys in daemon.json are named; a missing --config-file is an error" {
	cfg_dir unknown
	cfg_base | jq -c '. + {"bogus": 1, "debugg": true}' >"$D/daemon.json"
	run "$BUILD/berthd" --config-file "$D/daemon.json"
	[ "$status" -ne 0 ]
	[[ $output == *"$D/daemon.json: the following directives don't match any configuration option: bogus, debugg"* ]] || die "keys"
	run "$BUILD/berthd" --config-file "$D/missing.json"
	[ "$status" -ne 0 ]
	[[ $output == *"$D/missing.json"*"No such file or directory"* ]] || die "missing file"
	echo '{"log-level": "loud"}' >"$D/daemon.json"
	run "$BUILD/berthd" --config-file "$D/daemon.json"
	[ "$status" -ne 0 ] && [[ $output == *"invalid logging level: loud"* ]] || die "log-level"
	echo '{"default-runtime": "nope"}' >"$D/daemon.json"
	run "$BUILD/berthd" --config-file "$D/daemon.json"
	[ "$status" -ne 0 ] && [[ $output == *"specified default runtime 'nope' does not exist"* ]] || die "default-runtime"
}

@test "malformed daemon.json: one line naming the file and the reason, non-zero exit" {
	cfg_dir malformed
	printf '{\n  "debug": true,\n}\n' >"$D/daemon.json"
	run --separate-stderr "$BUILD/berthd" --config-file "$D/daemon.json"
	[ "$status" -ne 0 ]
	[ -z "$output" ] || die "stdout"
	[ "$(printf '%s\n' "$stderr" | wc -l)" -eq 1 ] || die "one line: $stderr"
	[[ $stderr == "berthd: unable to configure the daemon with file $D/daemon.json: line 3"* ]] || die "$stderr"
	echo '{"debug": "yes"}' >"$D/daemon.json"
	run "$BUILD/berthd" --config-file "$D/daemon.json"
	[ "$status" -ne 0 ] && [[ $output == *"debug: expected a boolean"* ]] || die "type"
}

@test "SIGHUP reloads debug and log-level; a broken file on reload is logged and the daemon keeps serving" {
	cfg_dir reload
	cfg_start "$(cfg_base | jq -c '.debug = false')"
	docker version >/dev/null
	! grep -q 'api: GET' "$D/berthd.log" || die "debug lines before the reload"
	cfg_base | jq -c '.debug = true' >"$D/daemon.json"
	kill -HUP "$CFG_PID"
	wait_log 'reloaded the configuration from .*debug=true log-level=debug'
	docker version >/dev/null
	grep -q 'api: GET "/v1.45/version": 200' "$D/berthd.log" || die "debug after the reload"

	echo '{"debug": false,' >"$D/daemon.json"
	kill -HUP "$CFG_PID"
	wait_log "reload: unable to configure the daemon with file $D/daemon.json: .*(the configuration in use is kept)"
	run docker version --format '{{.Server.APIVersion}}'
	[ "$status" -eq 0 ] && [ "$output" = 1.45 ] || die "serving after a broken reload"

	cfg_base | jq -c '."log-level" = "info" | ."data-root" = "/elsewhere"' >"$D/daemon.json"
	kill -HUP "$CFG_PID"
	wait_log 'reloaded the configuration from .*debug=false log-level=info'
	grep -q 'reload: data-root changed in .*: that takes a restart of berthd' "$D/berthd.log" || die "restart-only key"
	n=$(grep -c 'api: GET' "$D/berthd.log")
	docker version >/dev/null
	[ "$(grep -c 'api: GET' "$D/berthd.log")" -eq "$n" ] || die "debug still on after log-level info"
	run docker info --format '{{.DockerRootDir}}'
	[ "$output" = "$D/data" ] || die "data-root changed without a restart"
}

@test "TCP without TLS client certificates is refused" {
	cfg_dir plaintcp
	port=$(free_port)
	cfg_base | jq -c 'del(.hosts)' >"$D/daemon.json"
	run "$BUILD/berthd" --config-file "$D/daemon.json" -H "tcp://127.0.0.1:$port"
	[ "$status" -ne 0 ]
	[[ $output == *"hosts: tcp://127.0.0.1:$port: berthd serves TCP only to clients with TLS certificates"* ]] || die "message"
	run "$BUILD/berthd" --config-file "$D/daemon.json" --tls -H "tcp://127.0.0.1:$port"
	[ "$status" -ne 0 ] || die "--tls without --tlsverify"
}

@test "TCP with TLS: the docker CLI with a client certificate works, clients without one are refused" {
	cfg_dir tls
	port=$(free_port)
	c=$DAEMON_TMP/certs
	cfg_start "$(cfg_base | jq -c --arg p "$port" --arg c "$c" \
		'.hosts += ["tcp://127.0.0.1:\($p)"] | .tlsverify = true | .tlscacert = "\($c)/ca.pem" |
		 .tlscert = "\($c)/server-cert.pem" | .tlskey = "\($c)/server-key.pem"')"
	tcp=(-H "tcp://127.0.0.1:$port" --tlsverify --tlscacert "$c/ca.pem")
	run docker "${tcp[@]}" --tlscert "$c/cert.pem" --tlskey "$c/key.pem" version --format '{{.Server.APIVersion}}'
	[ "$status" -eq 0 ] && [ "$output" = 1.45 ] || die "client certificate"
	# attach over TLS (a hijacked connection), and the exit code
	docker "${tcp[@]}" --tlscert "$c/cert.pem" --tlskey "$c/key.pem" pull -q "$IMG" >/dev/null
	run docker "${tcp[@]}" --tlscert "$c/cert.pem" --tlskey "$c/key.pem" run --rm --network none "$IMG" \
		sh -c 'echo over tls; exit 4'
	[ "$status" -eq 4 ] && [ "$output" = "over tls" ] || die "run over TLS"
	# stdin's EOF (the client's close_notify) reaches the container
	out=$(printf 'in\n' | timeout 20 "$DOCKER_CLI" "${tcp[@]}" --tlscert "$c/cert.pem" --tlskey "$c/key.pem" \
		run -i --rm --network none "$IMG" cat)
	[ "$out" = in ] || die "stdin over TLS: $out"
	run docker "${tcp[@]}" version --format '{{.Server.APIVersion}}'
	[ "$status" -ne 0 ] || die "no client certificate"
	[[ $output == *"TLS certificate signed by its CA"* ]] || die "refusal message"
	# a certificate that is not for client authentication (the server's)
	run docker "${tcp[@]}" --tlscert "$c/server-cert.pem" --tlskey "$c/server-key.pem" version
	[ "$status" -ne 0 ] || die "server certificate accepted as a client's"
	run curl -s -o /dev/null -w '%{http_code}' --cacert "$c/ca.pem" "https://127.0.0.1:$port/_ping"
	[ "$output" = 403 ] || die "curl without a certificate: $output"
	run curl -s "http://127.0.0.1:$port/_ping"
	[ "$status" -ne 0 ] || die "plain HTTP on the TLS port"
	grep -q 'refused a TLS client: no client certificate' "$D/berthd.log" || die "log"
}

@test "default-ulimits reach containers that set none; a container's own ulimit wins; limits above berthd's are refused" {
	cfg_dir ulimits
	hard=$(ulimit -Hn)
	cfg_start "$(cfg_base | jq -c --argjson h "$hard" '."default-ulimits" = {"nofile": {"Name": "nofile", "Soft": 1234, "Hard": $h}}')"
	docker pull -q "$IMG" >/dev/null
	run docker run --rm --network none "$IMG" sh -c 'ulimit -n; ulimit -Hn'
	[ "$output" = "$(printf '1234\n%s' "$hard")" ] || die "default ulimit: $output"
	run docker run --rm --network none --ulimit nofile=100:200 "$IMG" sh -c 'ulimit -n'
	[ "$output" = 100 ] || die "the container's own: $output"
	run docker run --rm --network none --ulimit "nofile=100:$((hard + 1))" "$IMG" true
	[ "$status" -ne 0 ]
	[[ $output == *"hard limit $((hard + 1)) is above berthd's own ($hard)"*CAP_SYS_RESOURCE* ]] || die "above: $output"
	# reloaded defaults apply to the next container
	cfg_base | jq -c '."default-ulimits" = {"nofile": {"Name": "nofile", "Soft": 1500, "Hard": 1600}}' >"$D/daemon.json"
	kill -HUP "$CFG_PID"
	wait_log 'reloaded the configuration.*"nofile"'
	run docker run --rm --network none "$IMG" sh -c 'ulimit -n'
	[ "$output" = 1500 ] || die "after reload: $output"
	cfg_base | jq -c --argjson h "$((hard + 1))" '."default-ulimits" = {"nofile": {"Name": "nofile", "Soft": 10, "Hard": $h}}' \
		>"$D/daemon.json"
	kill -HUP "$CFG_PID"
	wait_log 'reload: .*default-ulimits: ulimit nofile: hard limit'
}

@test "an external runtime: runc as default-runtime runs containers" {
	command -v runc >/dev/null || skip "runc is not installed"
	cfg_dir runc
	cfg_start "$(cfg_base | jq -c --arg r "$(command -v runc)" '.runtimes = {"runc": {"path": $r}} | ."default-runtime" = "runc"')"
	docker pull -q "$IMG" >/dev/null
	run docker run --rm --network none "$IMG" sh -c 'echo from runc; echo err >&2; exit 3'
	[ "$status" -eq 3 ] || die "exit code"
	[[ $output == *"from runc"* && $output == *err* ]] || die "output"
	out=$(printf 'in\n' | docker run -i --rm --network none "$IMG" cat)
	[ "$out" = in ] || die "stdin: $out"
	id=$(docker run -d --network none "$IMG" sleep 100)
	run runc --root "$D/run/runtimes/runc" state "$id"
	[ "$status" -eq 0 ] && [[ $output == *'"status": "running"'* ]] || die "not a runc container: $output"
	[ "$(docker inspect -f '{{.HostConfig.Runtime}}' "$id")" = runc ] || die "HostConfig.Runtime"
	# exec goes through the runtime the container runs with
	run docker exec "$id" sh -c 'echo exec-in-runc; exit 4'
	[ "$status" -eq 4 ] && [ "$output" = exec-in-runc ] || die "exec in a runc container"
	run docker info --format '{{.DefaultRuntime}} {{len .Runtimes}}'
	[ "$output" = "runc 2" ] || die "info runtimes"
	run docker stop -t 1 "$id"
	[ "$status" -eq 0 ]
	[ "$(docker inspect -f '{{.State.Status}}' "$id")" = exited ] || die "stop"
	docker rm "$id" >/dev/null
	[ ! -d "$D/run/runtimes/runc/$id" ] || die "runc state left"
	# the built-in one by name, and an unknown one
	run docker run --rm --network none --runtime berth "$IMG" echo builtin
	[ "$output" = builtin ] || die "--runtime berth"
	run docker run --rm --network none --runtime nope "$IMG" true
	[ "$status" -ne 0 ] && [[ $output == *"Unknown runtime specified nope"* ]] || die "unknown runtime"
}
