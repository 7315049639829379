#!/usr/bin/env bats
# Container networking through the real docker CLI and docker-compose:
# bridge networks, names, published ports, NAT rules, leases, restarts.
# Traffic stays on loopback and on Berth's own bridges; names that no
# network knows go to a resolver this file runs on 127.0.0.1.

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
	# the upstream resolver: answers *.berth-test with 192.0.2.123
	export DNS_PORT=$((20000 + RANDOM % 10000))
	python3 "$SRC/tests/daemon/fake-dns.py" "$DNS_PORT" >"$DAEMON_TMP/dns.log" 2>&1 3>&- &
	echo $! >"$DAEMON_TMP/dns.pid"
	printf '{"dns": ["127.0.0.1:%s"]}\n' "$DNS_PORT" >"$DAEMON_TMP/daemon.json"
	export BERTHD_ARGS="--config-file $DAEMON_TMP/daemon.json"
	berthd_start
	export BERTHD_PID DOCKER_HOST
	"$DOCKER_CLI" pull -q "$IMG" >/dev/null
}

teardown_file() {
	"$DOCKER_CLI" rm -f $("$DOCKER_CLI" ps -aq 2>/dev/null) >/dev/null 2>&1
	for n in $("$DOCKER_CLI" network ls -q --filter type=custom 2>/dev/null); do
		"$DOCKER_CLI" network rm "$n" >/dev/null 2>&1 || ip link del "br-$n" 2>/dev/null
	done
	[ -n "${PROJ:-}" ] && (cd "$PROJ" && timeout 60 docker-compose down -t 1 >/dev/null 2>&1)
	daemon_cleanup
	[ -f "$DAEMON_TMP/dns.pid" ] && kill "$(cat "$DAEMON_TMP/dns.pid")" 2>/dev/null
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

docker() { "$DOCKER_CLI" "$@"; }

# Berth's veths on the host ("bv" + the container's id); wait_veths N:
# until there are N (an exit deletes them in the background: 30 ms each).
veths() { ip -o link show type veth | grep -c ': bv' || true; }
wait_veths() {
	for _ in $(seq 100); do
		[ "$(veths)" -eq "$1" ] && return 0
		sleep 0.1
	done
	echo "veths: $(veths), want $1" >&2
	return 1
}
berthd_pid() { cat "$DAEMON_TMP/d/berthd.pid"; }
ip_of() { docker inspect -f "{{(index .NetworkSettings.Networks \"$2\").IPAddress}}" "$1"; }

@test "network create, ls, inspect: a bridge with a subnet and a gateway" {
	run docker network create --label tier=test n1
	[ "$status" -eq 0 ] && [ ${#output} -eq 64 ] || die "create"
	id=$output
	run docker network ls --format '{{.Name}} {{.Driver}} {{.Scope}}'
	[[ $output == *"bridge bridge local"* && $output == *"host host local"* && $output == *"none null local"* &&
		$output == *"n1 bridge local"* ]] || die "ls"
	run docker network inspect -f '{{.Id}} {{index .Labels "tier"}} {{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}' n1
	read -r nid tier subnet gw <<<"$output"
	[ "$nid" = "$id" ] && [ "$tier" = test ] || die "inspect"
	[[ $subnet == */* && $gw == "${subnet%.0/*}.1" ]] || die "subnet $subnet gateway $gw"
	# its bridge is there, with the gateway's address
	ip -o addr show "br-${id:0:12}" | grep -q "inet $gw/" || die "bridge link"
	run docker network create n1
	[ "$status" -ne 0 ] && [[ $output == *"network with name n1 already exists"* ]] || die "duplicate"
	run docker network create --subnet "$subnet" n1b
	[ "$status" -ne 0 ] && [[ $output == *"overlaps"* ]] || die "overlapping subnet"
	run docker network rm bridge
	[ "$status" -ne 0 ] && [[ $output == *"pre-defined network"* ]] || die "rm bridge"
}

@test "two containers on a user network reach each other by name and alias; another network cannot" {
	docker network create n2 >/dev/null
	docker run -d --name srv --network n1 --network-alias web "$IMG" httpd -f -p 8080 -h /etc >/dev/null
	run docker run --rm --network n1 "$IMG" wget -qO- http://srv:8080/hostname
	[ "$status" -eq 0 ] && [ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' srv)" ] || die "by name"
	run docker run --rm --network n1 "$IMG" wget -qO- http://web:8080/hostname
	[ "$status" -eq 0 ] || die "by alias"
	run docker run --rm --network n1 "$IMG" cat /etc/resolv.conf
	[[ $output == "nameserver 127.0.0.11"* && $output == *"options ndots:0"* ]] || die "resolv.conf"
	# --network container: joins srv's namespace, its loopback included
	run docker run --rm --network container:srv "$IMG" wget -qO- http://127.0.0.1:8080/hostname
	[ "$status" -eq 0 ] && [ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' srv)" ] || die "container:"
	# another network: no name, and no route through the host either
	srv_ip=$(ip_of srv n1)
	run docker run --rm --network n2 "$IMG" nslookup srv
	[ "$status" -ne 0 ] || die "srv resolved from n2"
	run docker run --rm --init --network n2 "$IMG" timeout 2 wget -qO- "http://$srv_ip:8080/hostname"
	[ "$status" -ne 0 ] || die "n2 reached n1"
	# the default bridge has no names, as Docker's
	run docker run --rm "$IMG" nslookup srv
	[ "$status" -ne 0 ] || die "names on the default bridge"
	docker rm -f srv >/dev/null
}

@test "names no network knows go to the daemon's resolvers" {
	run docker run --rm --network n1 "$IMG" nslookup outside.berth-test
	[ "$status" -eq 0 ] && [[ $output == *"192.0.2.123"* ]] || die "forwarded"
	grep -q "outside.berth-test" "$DAEMON_TMP/dns.log" || die "the upstream saw no query"
}

@test "--ip, --hostname, --add-host, --dns: /etc/hosts and resolv.conf" {
	subnet=$(docker network inspect -f '{{(index .IPAM.Config 0).Subnet}}' n1)
	want=${subnet%.0/*}.200
	run docker run --rm --network n1 --ip "$want" --hostname h1 --add-host foo:192.0.2.7 "$IMG" \
		sh -c 'ip -4 -o addr show eth0; cat /etc/hosts'
	[ "$status" -eq 0 ] || die "run"
	[[ $output == *"inet $want/"* ]] || die "--ip"
	[[ $output == *"$want	h1"* ]] || die "own address in hosts"
	[[ $output == *"192.0.2.7	foo"* ]] || die "--add-host"
	run docker run --rm --network n1 --mac-address 02:42:de:ad:be:ef "$IMG" cat /sys/class/net/eth0/address
	[ "$output" = 02:42:de:ad:be:ef ] || die "--mac-address"
	run docker run -d --name bt-net-ps --network n1 "$IMG" sleep 60
	run docker ps --filter network=n1 --format '{{.Names}}'
	[ "$output" = bt-net-ps ] || die "ps --filter network"
	docker rm -f bt-net-ps >/dev/null
	docker run -d --name fixed --network n1 --ip "$want" "$IMG" sleep 60 >/dev/null
	run docker run --rm --network n1 --ip "$want" "$IMG" true
	[ "$status" -ne 0 ] && [[ $output == *"Address already in use"* ]] || die "duplicate --ip"
	docker rm -f fixed >/dev/null
	run docker run --rm --ip 172.17.0.99 "$IMG" true
	[ "$status" -ne 0 ] && [[ $output == *"user defined networks only"* ]] || die "--ip on bridge"
	run docker run --rm --dns 192.0.2.53 "$IMG" cat /etc/resolv.conf
	[[ $output == *"nameserver 192.0.2.53"* && $output != *127.0.0.11* ]] || die "--dns on the default bridge"
}

@test "-p 127.0.0.1:18080:80 serves the host; 0.0.0.0 ports; hairpin; a port taken is an error" {
	docker run -d --name web1 -p 127.0.0.1:18080:80 -p 18081:80 "$IMG" httpd -f -p 80 -h /etc >/dev/null
	run curl -s --max-time 5 http://127.0.0.1:18080/hostname
	[ "$status" -eq 0 ] && [ "$output" = "$(docker inspect -f '{{.Config.Hostname}}' web1)" ] || die "127.0.0.1:18080"
	run curl -s --max-time 5 http://127.0.0.1:18081/hostname
	[ "$status" -eq 0 ] || die "0.0.0.0:18081 from 127.0.0.1"
	run docker port web1
	[[ $output == *"80/tcp -> 127.0.0.1:18080"* && $output == *"80/tcp -> 0.0.0.0:18081"* ]] || die "docker port"
	run docker ps --filter name=web1 --format '{{.Ports}}'
	[[ $output == *"127.0.0.1:18080->80/tcp"* ]] || die "ps ports"
	# the fetches above went through eth0: stats count them
	run docker stats --no-stream --format '{{.NetIO}}' web1
	[ "$status" -eq 0 ] && [[ $output == *B" / "*B && $output != "0B / 0B" ]] || die "stats NetIO"
	# hairpin: the container reaches its own published port through the host
	gw=$(docker inspect -f '{{.NetworkSettings.Gateway}}' web1)
	run docker exec web1 timeout 5 wget -qO- "http://$gw:18081/hostname"
	[ "$status" -eq 0 ] || die "hairpin"
	run docker run --rm -p 127.0.0.1:18080:80 "$IMG" true
	[ "$status" -ne 0 ] && [[ $output == *"port is already allocated"* ]] || die "taken port"
	# the failed start left no endpoint behind
	wait_veths 1 || die "veths after a failed start"
	docker rm -f web1 >/dev/null
	run curl -s --max-time 2 http://127.0.0.1:18080/hostname
	[ "$status" -ne 0 ] || die "still served after rm"
}

@test "a published UDP port, and -P for exposed ports" {
	# busybox has no UDP server: the test suite's static probe answers
	docker run -d --name udp1 -p 127.0.0.1:19999:9999/udp -v "$BUILD/tests/helpers/berth-probe:/probe:ro" \
		"$IMG" /probe udp-echo 9999 >/dev/null
	run python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(20):
    s.sendto(b"hello-udp", ("127.0.0.1", 19999))
    try:
        print(s.recv(100).decode()); sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)'
	[ "$status" -eq 0 ] && [ "$output" = "echo:hello-udp" ] || die "udp"
	docker rm -f udp1 >/dev/null
	docker run -d --name pall --expose 80 -P "$IMG" httpd -f -p 80 -h /etc >/dev/null
	port=$(docker port pall 80/tcp | head -1)
	[[ $port == 0.0.0.0:* ]] || die "-P port: $port"
	run curl -s --max-time 5 "http://127.0.0.1:${port#*:}/hostname"
	[ "$status" -eq 0 ] || die "-P serves"
	docker rm -f pall >/dev/null
}

@test "network connect and disconnect a running container" {
	docker run -d --name mover --network n1 "$IMG" sleep 120 >/dev/null
	docker network connect --alias mv n2 mover
	run docker exec mover ip -4 -o addr show eth1
	[[ $output == *"inet $(ip_of mover n2)/"* ]] || die "eth1"
	run docker run --rm --network n2 "$IMG" nslookup mv
	[ "$status" -eq 0 ] && [[ $output == *"$(ip_of mover n2)"* ]] || die "alias on n2"
	run docker network inspect -f '{{len .Containers}}' n2
	[ "$output" = 1 ] || die "n2 containers"
	run docker network rm n2
	[ "$status" -ne 0 ] && [[ $output == *"active endpoints"* ]] || die "rm in use"
	docker network disconnect n2 mover
	run docker exec mover ip link show eth1
	[ "$status" -ne 0 ] || die "eth1 after disconnect"
	# a rename is answered at once
	docker rename mover mover2
	run docker run --rm --network n1 "$IMG" nslookup mover2
	[ "$status" -eq 0 ] && [[ $output == *"$(ip_of mover2 n1)"* ]] || die "renamed"
	docker rm -f mover2 >/dev/null
	docker network rm n2 >/dev/null
}

@test "50 containers started in parallel get 50 distinct addresses" {
	seq 50 | xargs -P 10 -I{} "$DOCKER_CLI" run -d --name par{} --network n1 "$IMG" sleep 300 >/dev/null
	run bash -c "for i in \$(seq 50); do $DOCKER_CLI inspect -f '{{(index .NetworkSettings.Networks \"n1\").IPAddress}}' par\$i; done | sort -u | wc -l"
	[ "$output" -eq 50 ] || die "distinct addresses: $output"
	[ "$(veths)" -eq 50 ] || die "veths: $(veths)"
	seq 50 | xargs -P 10 -I{} "$DOCKER_CLI" rm -f par{} >/dev/null
	wait_veths 0 || die "veths after rm"
	run docker network inspect -f '{{len .Containers}}' n1
	[ "$output" = 0 ] || die "leases after rm"
}

@test "a daemon restart keeps running containers' networking; shutdown removes the rules" {
	docker run -d --name keep --network n1 -p 127.0.0.1:18082:80 "$IMG" httpd -f -p 80 -h /etc >/dev/null
	keep_ip=$(ip_of keep n1)
	nft list table ip berth >/dev/null || die "no table while running"
	BERTHD_PID=$(berthd_pid) berthd_stop
	run nft list table ip berth
	[ "$status" -ne 0 ] || die "table left after shutdown"
	berthd_start
	run curl -s --max-time 5 http://127.0.0.1:18082/hostname
	[ "$status" -eq 0 ] || die "published port after restart"
	run docker run --rm --init --network n1 "$IMG" timeout 5 wget -qO- http://keep/hostname
	[ "$status" -eq 0 ] || die "name after restart"
	# the address stays leased: a new container gets another one
	run docker run --rm --network n1 "$IMG" ip -4 -o addr show eth0
	[[ $output != *"inet $keep_ip/"* ]] || die "address handed out twice"
	docker rm -f keep >/dev/null
	wait_veths 0 || die "veths"
}

@test "a removed container holds no address: its network can be removed right after" {
	# The exit's monitor and a removal both take the endpoints down, and
	# rm must not return before they are given back.  The container exits
	# by itself at 1 s; its 500 published ports make giving them back take
	# a while, and rm comes at 0.90-1.28 s, so some land in that while.
	local i fails=0
	for i in $(seq 90 2 128); do
		docker network create race >/dev/null
		docker run -d --name race --network race -p 127.0.0.1:20000-20499:20000-20499 "$IMG" sleep 1 >/dev/null
		sleep "$(printf %d.%02d $((i / 100)) $((i % 100)))"
		docker rm -f race >/dev/null
		run docker network rm race
		if [ "$status" -ne 0 ]; then
			fails=$((fails + 1))
			echo "rm after ${i}0 ms: $output" >&3
			sleep 1
			docker network rm race >/dev/null
		fi
	done
	[ "$fails" -eq 0 ] || die "$fails of 20 network removals failed"
}

@test "a container killed while the daemon is down gives its address back" {
	docker run -d --name gone --network n1 "$IMG" sleep 300 >/dev/null
	gone_ip=$(ip_of gone n1)
	pid=$(berthd_pid)
	kill -9 "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	kill -9 "$(cat "$DAEMON_TMP/d/run/shims/$(ls "$DAEMON_TMP/d/run/shims" | head -1)/shim.pid")" 2>/dev/null || true
	"$BUILD/berth-runtime" --root "$DAEMON_TMP/d/run/runtime" kill "$(ls "$DAEMON_TMP/d/run/runtime" | head -1)" KILL 2>/dev/null || true
	sleep 0.5
	berthd_start
	for _ in $(seq 50); do
		[ "$(docker inspect -f '{{.State.Status}}' gone)" = exited ] && break
		sleep 0.1
	done
	run docker network inspect -f '{{len .Containers}}' n1
	[ "$output" = 0 ] || die "lease kept by a dead container"
	wait_veths 0 || die "veths"
	docker rm -f gone >/dev/null
}

@test "docker-compose: two services talk by name, one publishes a port" {
	command -v docker-compose >/dev/null || skip "docker-compose is not installed"
	export PROJ=$DAEMON_TMP/netproj
	mkdir -p "$PROJ"
	cat >"$PROJ/docker-compose.yml" <<YAML
version: "3.8"
services:
  web:
    image: $IMG
    command: httpd -f -p 80 -h /etc
    ports: ["127.0.0.1:18090:80"]
    stop_grace_period: 1s
  client:
    image: $IMG
    command: sh -c 'while ! wget -qO- http://web/hostname > /tmp/got; do sleep 0.2; done; cat /tmp/got; sleep 300'
    stop_grace_period: 1s
    depends_on: [web]
YAML
	(cd "$PROJ" && timeout 120 docker-compose --ansi never up -d) || die "up"
	for _ in $(seq 50); do
		out=$(docker logs netproj_client_1 2>&1)
		[ -n "$out" ] && break
		sleep 0.1
	done
	[ "$out" = "$(docker inspect -f '{{.Config.Hostname}}' netproj_web_1)" ] || die "client got: $out"
	run curl -s --max-time 5 http://127.0.0.1:18090/hostname
	[ "$status" -eq 0 ] || die "published port"
	(cd "$PROJ" && timeout 120 docker-compose --ansi never down -t 1) || die "down"
	run docker network ls --format '{{.Name}}'
	[[ $output != *netproj* ]] || die "network left"
}

@test "a network's MTU reaches its bridge and its containers" {
	docker network create -o com.docker.network.driver.mtu=1400 nmtu >/dev/null
	id=$(docker network inspect -f '{{.Id}}' nmtu)
	[ "$(cat "/sys/class/net/br-${id:0:12}/mtu")" = 1400 ] || die "bridge mtu"
	run docker run --rm --network nmtu "$IMG" cat /sys/class/net/eth0/mtu
	[ "$output" = 1400 ] || die "eth0 mtu"
	docker network rm nmtu >/dev/null
	[ ! -e "/sys/class/net/br-${id:0:12}" ] || die "bridge left after rm"
}

@test "bad network input: clear errors, nothing left behind" {
	run docker network create --subnet 10.99.0.0/33 bad1
	[ "$status" -ne 0 ] && [[ $output == *"invalid"* ]] || die "subnet"
	# the docker CLI checks this one itself; the API answers the same
	run curl -s --unix-socket "${DOCKER_HOST#unix://}" -H 'Content-Type: application/json' \
		-d '{"Name":"bad2","IPAM":{"Config":[{"Subnet":"10.98.0.0/16","Gateway":"10.97.0.1"}]}}' \
		http://x/v1.45/networks/create
	[[ $output == *"gateway 10.97.0.1 is not within subnet 10.98.0.0/16"* ]] || die "gateway"
	run docker network create -d overlay bad3
	[ "$status" -ne 0 ] && [[ $output == *"plugin not found"* ]] || die "driver"
	run docker network ls --format '{{.Name}}'
	[[ $output != *bad* ]] || die "half-made network"
	# a bridge name a link of the host already has
	ip link add bt-taken type bridge
	run docker network create -o com.docker.network.bridge.name=bt-taken bad4
	ip link del bt-taken
	[ "$status" -ne 0 ] && [[ $output == *"a link named bt-taken exists already"* ]] || die "taken link name"
	run docker network inspect nosuchnet
	[ "$status" -ne 0 ] && [[ $output == *"not found"* ]] || die "inspect unknown"
	docker network rm n1 >/dev/null
	wait_veths 0 || die "veths"
	run docker network prune -f
	[ "$status" -eq 0 ] || die "prune"
}
