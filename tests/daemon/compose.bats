#!/usr/bin/env bats
# docker-compose (Debian's 1.29, through docker-py) against berthd: up -d,
# ps, logs, a second up that changes nothing, down.  Two services with
# network_mode none; network.bats has a project on its default network,
# with names and a published port.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	command -v docker-compose >/dev/null || skip "docker-compose is not installed"
	mkdir -p "$DAEMON_TMP"
	out=$(sh "$SRC/tests/registry/run-registry.sh" start)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/registry"
	export REG_HOST=${url#http://}
	[ -d "$DAEMON_TMP/fixtures/one" ] || python3 "$SRC/tests/image/mkimages.py" "$DAEMON_TMP/fixtures" one
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/one:latest" "docker://$REG_HOST/bb:1"
	berthd_start
	export BERTHD_PID DOCKER_HOST
	export PROJ=$DAEMON_TMP/proj
	mkdir -p "$PROJ"
	cat >"$PROJ/docker-compose.yml" <<YAML
version: "3.8"
services:
  web:
    image: $REG_HOST/bb:1
    network_mode: none
    stop_grace_period: 1s
    labels:
      tier: front
    command: sh -c 'echo web-up; while true; do sleep 1; done'
  worker:
    image: $REG_HOST/bb:1
    network_mode: none
    stop_grace_period: 1s
    depends_on: [web]
    environment:
      ROLE: worker
    command: sh -c 'echo "worker-up as \$\$ROLE"; while true; do sleep 1; done'
YAML
}

teardown_file() {
	[ -n "${PROJ:-}" ] && (cd "$PROJ" && timeout 60 docker-compose down -t 1 >/dev/null 2>&1)
	daemon_cleanup
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

docker() { "$DOCKER_CLI" "$@"; }
compose() { (cd "$PROJ" && timeout 120 docker-compose --ansi never "$@"); }

@test "docker-compose up -d starts both services, pulling the image" {
	run compose up -d
	[ "$status" -eq 0 ] || die "up"
	run docker ps --format '{{.Names}} {{.Status}}'
	[[ $output == *"proj_web_1 Up"* && $output == *"proj_worker_1 Up"* ]] || die "ps after up"
	run docker inspect -f '{{index .Config.Labels "tier"}} {{index .Config.Labels "com.docker.compose.service"}}' proj_web_1
	[ "$output" = "front web" ] || die "labels"
}

@test "docker-compose ps lists each service once, Up" {
	run compose ps
	[ "$status" -eq 0 ] || die "ps"
	[ "$(grep -c 'proj_web_1 .* Up' <<<"$output")" -eq 1 ] || die "web"
	[ "$(grep -c 'proj_worker_1 .* Up' <<<"$output")" -eq 1 ] || die "worker"
	run --separate-stderr compose ps -q
	[ "$(wc -l <<<"$output")" -eq 2 ] || die "ps -q"
}

@test "docker-compose logs shows each service's output, prefixed" {
	run compose logs --no-color
	[ "$status" -eq 0 ] || die "logs"
	[[ $output == *"web_1"*"| web-up"* ]] || die "web logs"
	[[ $output == *"worker_1"*"| worker-up as worker"* ]] || die "worker logs (environment)"
}

@test "a second docker-compose up -d changes nothing" {
	before=$(docker ps -q --no-trunc | sort)
	run compose up -d
	[ "$status" -eq 0 ] || die "up again"
	[[ $output == *"is up-to-date"* ]] || die "not up-to-date"
	[ "$(docker ps -q --no-trunc | sort)" = "$before" ] || die "containers replaced"
}

@test "docker-compose down stops and removes the services' containers" {
	run compose down -t 1
	[ "$status" -eq 0 ] || die "down"
	run docker ps -a --format '{{.Names}}'
	[[ $output != *proj_* ]] || die "containers left"
}
