#!/usr/bin/env bats
# Networking from the CLI, end to end through the API: berth network
# create/ls/inspect/rm/connect/disconnect/prune, run's --network, --ip,
# --network-alias, -p, -P, --expose, --dns*, --add-host and --link, berth
# port and ps's PORTS column.  Traffic stays on 127.0.0.1 and between the
# containers' own addresses.  With the docker CLI installed, the requests
# berth sends and what it prints are compared byte for byte with docker's
# against the same daemon.  Every test removes its bt-nw-* containers and
# networks in teardown, also when it fails.
bats_require_minimum_version 1.5.0
load helpers

setup_file() { cli_setup_file; }

teardown() {
	if [[ -f $BATS_TEST_TMPDIR/proxy.pid ]]; then
		kill "$(cat "$BATS_TEST_TMPDIR/proxy.pid")" 2>/dev/null || true
		rm -f "$BATS_TEST_TMPDIR/proxy.pid"
	fi
	cleanup_all
}

teardown_file() {
	cleanup_all
	cli_teardown_file
}

# api METHOD PATH: the daemon's answer, without the CLI under test
api() { curl -s --unix-socket "${BERTH_HOST#unix://}" -X "$1" "http://x$2"; }

# The ids of a listing (containers/json, networks) whose names hold
# "bt-nw-" (the API's name filter).
ids_of() {
	api GET "/$1?all=1&filters=%7B%22name%22%3A%7B%22bt-nw-%22%3Atrue%7D%7D" |
		python3 -c 'import json, sys; [print(o["Id"]) for o in json.load(sys.stdin)]' 2>/dev/null
}

# Remove what the tests made, through the API itself: a broken CLI must
# not leave containers and networks behind (nor bridges on the host).
cleanup_all() {
	[[ -n ${BERTH_HOST:-} ]] || return 0
	local id i
	for id in $(ids_of containers/json); do
		api DELETE "/containers/$id?force=1" >/dev/null
	done
	for i in $(seq 20); do
		for id in $(ids_of networks); do
			api DELETE "/networks/$id" >/dev/null
		done
		[[ -z $(ids_of networks) ]] && return 0
		sleep 0.25
	done
	echo "# networks left: $(ids_of networks)" >&2
}

# pyj EXPR: EXPR evaluated with j, the JSON on stdin; strings as they are,
# anything else as JSON with sorted keys
pyj() {
	python3 -c 'import json, sys
j = json.load(sys.stdin)
r = eval(sys.argv[1])
print(r if isinstance(r, str) else json.dumps(r, sort_keys=True))' "$1"
}

# free_ports N: the first of N consecutive free TCP ports on 127.0.0.1,
# below the range daemons pick from for -P
free_ports() {
	python3 - "$1" <<-'EOF'
		import random, socket, sys
		n = int(sys.argv[1])
		for _ in range(500):
		    base, held = random.randint(20000, 30000), []
		    try:
		        for p in range(base, base + n):
		            s = socket.socket()
		            held.append(s)
		            s.bind(("127.0.0.1", p))
		    except OSError:
		        continue
		    finally:
		        for s in held:
		            s.close()
		    print(base)
		    break
	EOF
}

# web NAME ARGS...: a detached busybox httpd serving "hello-NAME" on 80
web() {
	local name=$1
	shift
	"$BERTH_BIN" run -d --name "$name" "$@" "$IMG" \
		sh -c "mkdir -p /www && echo hello-$name >/www/index.html && exec httpd -f -p 80 -h /www"
}

# fetch URL: the body, once the server answers (up to 10 s)
fetch() {
	local i
	for i in $(seq 1 100); do
		curl -sf --max-time 2 "$1" && return 0
		sleep 0.1
	done
	return 1
}

# docker_cli ARGS: the docker CLI against the same daemon, if installed
docker_cli() {
	DOCKER_HOST=$BERTH_HOST DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config docker "$@"
}

need_docker() {
	command -v docker >/dev/null || skip "no docker CLI to compare with"
}

@test "network create and inspect: the id, IPAM config, labels, options and flags sent" {
	run berth network create bt-nw-plain
	[[ $status -eq 0 && $output =~ ^[0-9a-f]{64}$ ]] || die "create"
	local id=$output
	run berth network create --subnet 10.213.1.0/24 --gateway 10.213.1.1 --ip-range 10.213.1.128/25 \
		--aux-address reserved=10.213.1.5 --label bt=yes --label tier=db --label empty \
		-o com.docker.network.driver.mtu=1400 --internal --attachable bt-nw-full
	[[ $status -eq 0 && $output =~ ^[0-9a-f]{64}$ ]] || die "create with options"
	run berth network inspect -f '{{.Name}} {{.Id}} {{.Driver}} {{.Scope}} {{.Internal}} {{.Attachable}}' bt-nw-plain
	[[ $status -eq 0 && $output == "bt-nw-plain $id bridge local false false" ]] || die "plain network"
	run berth network inspect -f '{{.Driver}} {{.Internal}} {{.Attachable}} {{.EnableIPv6}}' bt-nw-full
	[[ $output == "bridge true true false" ]] || die "flags"
	run berth network inspect -f '{{json .IPAM.Config}}' bt-nw-full
	[[ $(pyj j <<<"$output") == '[{"AuxiliaryAddresses": {"reserved": "10.213.1.5"}, "Gateway": "10.213.1.1", "IPRange": "10.213.1.128/25", "Subnet": "10.213.1.0/24"}]' ]] ||
		die "IPAM config"
	run berth network inspect -f '{{json .Labels}}' bt-nw-full
	[[ $(pyj j <<<"$output") == '{"bt": "yes", "empty": "", "tier": "db"}' ]] || die "labels"
	run berth network inspect -f '{{index .Options "com.docker.network.driver.mtu"}}' bt-nw-full
	[[ $output == 1400 ]] || die "options"
	# by a prefix of the id too
	run berth network inspect -f '{{.Name}}' "${id:0:12}"
	[[ $status -eq 0 && $output == bt-nw-plain ]] || die "by id prefix"
	# the indented JSON docker prints
	run berth network inspect bt-nw-plain
	[[ $status -eq 0 && ${lines[0]} == "[" && ${lines[1]} == "    {" ]] || die "indentation"
	[[ ${lines[2]} == '        "Name": "bt-nw-plain",' && ${lines[3]} == "        \"Id\": \"$id\"," ]] || die "first fields"
	[[ ${lines[-1]} == "]" && $(pyj 'j[0]["Name"]' <<<"$output") == bt-nw-plain ]] || die "not a JSON array"
}

@test "network ls: columns, -q, --no-trunc, filters, --format table/json/template, natural order" {
	local a b
	a=$(berth network create --label bt-ls=1 bt-nw-n2) || die "create"
	b=$(berth network create --internal bt-nw-n10) || die "create"
	run berth network ls
	[[ $status -eq 0 && ${lines[0]} =~ ^NETWORK\ ID\ +NAME\ +DRIVER\ +SCOPE$ ]] || die "header"
	[[ $output =~ ${a:0:12}\ +bt-nw-n2\ +bridge\ +local ]] || die "row of bt-nw-n2"
	[[ $output == *none*null*local* ]] || die "no none network"
	# the NAME column starts where its header does
	local col=${lines[0]%%NAME*}
	local row
	row=$(grep " bt-nw-n2 " <<<"$output")
	[[ ${row:${#col}:8} == bt-nw-n2 ]] || die "columns not aligned"
	run berth network ls -q --filter name=bt-nw-
	[[ $status -eq 0 && $output == "${a:0:12}"$'\n'"${b:0:12}" ]] || die "-q in natural order (n2 before n10)"
	run berth network ls -q --no-trunc -f name=bt-nw-n10
	[[ $output == "$b" ]] || die "--no-trunc"
	run berth network ls -f label=bt-ls=1 --format '{{.Name}}'
	[[ $output == bt-nw-n2 ]] || die "label filter"
	run berth network ls -f driver=bridge -f name=bt-nw- --format '{{.Name}} {{.Driver}} {{.Internal}} {{.Labels}}'
	[[ $output == "bt-nw-n2 bridge false bt-ls=1"$'\n'"bt-nw-n10 bridge true " ]] || die "template"
	run berth network ls -f type=custom -f name=bt-nw-n2 -q
	[[ $output == "${a:0:12}" ]] || die "type filter"
	run berth network ls -f id="$b" --format '{{.Name}}'
	[[ $output == bt-nw-n10 ]] || die "id filter"
	run berth network ls -f name=bt-nw- --format 'table {{.Name}}\t{{.Internal}}'
	[[ $output == "NAME        INTERNAL"$'\n'"bt-nw-n2    false"$'\n'"bt-nw-n10   true" ]] || die "table template"
	run berth network ls -f name=bt-nw-n10 --format json
	[[ $(pyj '[j["Name"], j["ID"], j["Driver"], j["Internal"], j["IPv6"], j["Scope"], sorted(j)]' <<<"$output") == \
		"[\"bt-nw-n10\", \"${b:0:12}\", \"bridge\", \"true\", \"false\", \"local\", [\"CreatedAt\", \"Driver\", \"ID\", \"IPv4\", \"IPv6\", \"Internal\", \"Labels\", \"Name\", \"Scope\"]]" ]] ||
		die "json"
	run berth network ls -f name=bt-nw-n10 --format '{{.CreatedAt}}'
	[[ $output =~ ^20[0-9]{2}-[0-9]{2}-[0-9]{2}\ [0-9:.]+\ \+0000\ UTC$ ]] || die "CreatedAt as Go prints a time"
	run berth network ls -f name=bt-nw-nosuch
	[[ $status -eq 0 && $output =~ ^NETWORK\ ID\ +NAME\ +DRIVER\ +SCOPE$ ]] || die "empty listing"
	run berth network ls -f bogus
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "bogus" for "-f, --filter" flag: bad format of filter (expected name=value)' ]] ||
		die "bad filter"
	run berth network ls extra
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network ls' accepts no arguments" ]] || die "arguments"
	run berth network list -q -f name=bt-nw-n2
	[[ $output == "${a:0:12}" ]] || die "network list"
}

@test "network inspect: several names, errors after the output, -f json, empty names, usage" {
	berth network create bt-nw-i1 >/dev/null
	berth network create bt-nw-i2 >/dev/null
	run --separate-stderr berth network inspect bt-nw-i1 bt-nw-nosuch bt-nw-i2
	[[ $status -eq 1 ]] || die "status"
	[[ $(pyj '[n["Name"] for n in j]' <<<"$output") == '["bt-nw-i1", "bt-nw-i2"]' ]] || die "found ones"
	[[ $stderr == "Error response from daemon: network bt-nw-nosuch not found" ]] || die "error: $stderr"
	run --separate-stderr berth network inspect bt-nw-nosuch
	[[ $status -eq 1 && $output == "[]" && $stderr == "Error response from daemon: network bt-nw-nosuch not found" ]] ||
		die "not found"
	run berth network inspect -f json bt-nw-i1 bt-nw-i2
	[[ $status -eq 0 && ${#lines[@]} -eq 1 && $(pyj '[n["Name"] for n in j]' <<<"$output") == '["bt-nw-i1", "bt-nw-i2"]' ]] ||
		die "-f json"
	run berth network inspect -f '{{.Name}}:{{.Driver}}' bt-nw-i2 bt-nw-i1
	[[ $output == "bt-nw-i2:bridge"$'\n'"bt-nw-i1:bridge" ]] || die "template per network"
	run berth network inspect --verbose -f '{{.Name}}' bt-nw-i1
	[[ $status -eq 0 && $output == bt-nw-i1 ]] || die "--verbose"
	# berth inspect finds networks too, after containers and images
	run berth inspect -f '{{.Name}} {{.Driver}}' bt-nw-i1
	[[ $status -eq 0 && $output == "bt-nw-i1 bridge" ]] || die "inspect of a network"
	run --separate-stderr berth inspect --type network -f '{{.Name}}' bt-nw-i2 bt-nw-nosuch
	[[ $status -eq 1 && $output == bt-nw-i2 && $stderr == "Error response from daemon: network bt-nw-nosuch not found" ]] ||
		die "inspect --type network"
	run --separate-stderr berth network inspect ' '
	[[ $status -eq 1 && $stderr == "invalid network name or ID: value is empty" ]] || die "empty name"
	run berth network inspect
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network inspect' requires at least 1 argument" ]] || die "usage"
	[[ ${lines[-1]} == "See 'berth network inspect --help' for more information" ]] || die "usage hint"
}

@test "network rm and remove: several names, -f, errors one per line, exit status" {
	berth network create bt-nw-r1 >/dev/null
	berth network create bt-nw-r2 >/dev/null
	berth network create bt-nw-r3 >/dev/null
	run --separate-stderr berth network rm bt-nw-r1 bt-nw-nosuch bt-nw-r2
	[[ $status -eq 1 && $output == "bt-nw-r1"$'\n'"bt-nw-r2" ]] || die "removed ones"
	[[ $stderr == "Error response from daemon: network bt-nw-nosuch not found"$'\n'"exit status 1" ]] || die "errors: $stderr"
	run berth network inspect bt-nw-r1
	[[ $status -eq 1 ]] || die "bt-nw-r1 still there"
	run --separate-stderr berth network rm -f bt-nw-nosuch bt-nw-r3
	[[ $status -eq 0 && $output == bt-nw-r3 && -z $stderr ]] || die "-f"
	run --separate-stderr berth network remove none
	[[ $status -eq 1 && $stderr == "Error response from daemon: none is a pre-defined network and cannot be removed"$'\n'"exit status 1" ]] ||
		die "pre-defined: $stderr"
	run berth network rm
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network rm' requires at least 1 argument" ]] || die "usage"
	[[ -z $(ids_of networks) ]] || die "networks left"
}

@test "network create: docker's client-side errors, flag errors, a duplicate name" {
	run berth network create
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network create' requires 1 argument" ]] || die "usage"
	[[ ${lines[-1]} == "Run 'berth network create --help' for more information" ]] || die "usage hint"
	run berth network create --gateway 10.213.2.1 bt-nw-e
	[[ $status -eq 1 && $output == "every ip-range or gateway must have a corresponding subnet" ]] || die "gateway alone"
	run berth network create --subnet 10.213.0.0/16 --subnet 10.213.2.0/24 bt-nw-e
	[[ $status -eq 1 && $output == "multiple overlapping subnet configuration is not supported" ]] || die "overlap"
	run berth network create --subnet 10.213.2.0/24 --ip-range 10.213.3.0/25 bt-nw-e
	[[ $status -eq 1 && $output == "no matching subnet for range 10.213.3.0/25" ]] || die "range"
	run berth network create --subnet 10.213.2.0/24 --gateway 10.213.3.1 bt-nw-e
	[[ $status -eq 1 && $output == "no matching subnet for gateway 10.213.3.1" ]] || die "gateway"
	run berth network create --subnet 10.213.2.0/24 --aux-address a=10.213.3.5 bt-nw-e
	[[ $status -eq 1 && $output == "no matching subnet for aux-address 10.213.3.5" ]] || die "aux-address"
	run berth network create --subnet 10.213.2.0/24 --gateway 10.213.2.1,10.213.2.2 bt-nw-e
	[[ $status -eq 1 && $output == "every ip-range or gateway must have a corresponding subnet" ]] || die "two gateways, one subnet"
	run berth network create --subnet 10.213.2.0/24,10.213.20.0/24 --gateway 10.213.2.1,10.213.2.2 bt-nw-e
	[[ $status -eq 1 && $output == "cannot configure multiple gateways (10.213.2.2, 10.213.2.1) for the same subnet (10.213.2.0/24)" ]] ||
		die "two gateways"
	run berth network create --subnet 10.213.2.0/24 --subnet 10.213.2.0/33 bt-nw-e
	[[ $status -eq 1 && $output == "invalid subnet: invalid CIDR address: 10.213.2.0/33" ]] || die "bad subnet"
	run berth network create --label =x bt-nw-e
	[[ $status -eq 125 && ${lines[0]} == "invalid argument \"=x\" for \"--label\" flag: invalid label '=x': empty name" ]] ||
		die "label"
	run berth network create --ipv6=maybe bt-nw-e
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "maybe" for "--ipv6" flag: strconv.ParseBool: parsing "maybe": invalid syntax' ]] ||
		die "bool flag"
	run berth network create --bogus bt-nw-e
	[[ $status -eq 125 && ${lines[0]} == "unknown flag: --bogus" ]] || die "unknown flag"
	[[ -z $(ids_of networks) ]] || die "a refused create made a network"
	berth network create bt-nw-dup >/dev/null
	run berth network create bt-nw-dup
	[[ $status -eq 1 && $output == "Error response from daemon: network with name bt-nw-dup already exists" ]] ||
		die "duplicate"
}

@test "network connect and disconnect: --ip and --alias reach the endpoint; traffic between containers" {
	berth network create --subnet 10.213.3.0/24 bt-nw-c1 >/dev/null
	berth network create --subnet 10.213.4.0/24 bt-nw-c2 >/dev/null
	local id
	id=$(web bt-nw-cweb --network bt-nw-c1 --ip 10.213.3.10) || die "run"
	run berth network connect --ip 10.213.4.20 --alias extra --alias more,most bt-nw-c2 bt-nw-cweb
	[[ $status -eq 0 && -z $output ]] || die "connect"
	run berth inspect -f '{{json .NetworkSettings.Networks}}' bt-nw-cweb
	[[ $(pyj 'sorted(j)' <<<"$output") == '["bt-nw-c1", "bt-nw-c2"]' ]] || die "networks: $output"
	[[ $(pyj 'j["bt-nw-c2"]["IPAddress"]' <<<"$output") == 10.213.4.20 ]] || die "address on bt-nw-c2"
	[[ $(pyj 'j["bt-nw-c2"]["IPAMConfig"]' <<<"$output") == '{"IPv4Address": "10.213.4.20"}' ]] || die "IPAMConfig"
	[[ $(pyj '[a for a in ["extra", "more", "most"] if a in j["bt-nw-c2"]["Aliases"]]' <<<"$output") == '["extra", "more", "most"]' ]] ||
		die "aliases"
	# a container on bt-nw-c2 reaches it by address and by alias
	run berth run --rm --network bt-nw-c2 "$IMG" sh -c \
		'for i in $(seq 50); do wget -qO- http://10.213.4.20/ && break; sleep 0.1; done; wget -qO- http://extra/'
	[[ $status -eq 0 && $output == "hello-bt-nw-cweb"$'\n'"hello-bt-nw-cweb" ]] || die "traffic"
	run berth exec bt-nw-cweb ip -4 addr show
	[[ $output == *"inet 10.213.3.10/24"* && $output == *"inet 10.213.4.20/24"* ]] || die "addresses inside"
	run berth network disconnect bt-nw-c2 bt-nw-cweb
	[[ $status -eq 0 && -z $output ]] || die "disconnect"
	run berth inspect -f '{{json .NetworkSettings.Networks}}' bt-nw-cweb
	[[ $(pyj 'sorted(j)' <<<"$output") == '["bt-nw-c1"]' ]] || die "still on bt-nw-c2"
	run berth network disconnect bt-nw-c2 bt-nw-cweb
	# dockerd's words for a running container
	[[ $status -eq 1 && $output == "Error response from daemon: container $id is not connected to network bt-nw-c2" ]] ||
		die "disconnect twice"
	run berth network connect bt-nw-c2 bt-nw-nosuch
	[[ $status -eq 1 && $output == "Error response from daemon: No such container: bt-nw-nosuch" ]] || die "no container"
	run berth network connect --link a:b:c bt-nw-c2 bt-nw-cweb
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c' ]] ||
		die "--link"
	run berth network connect --driver-opt novalue bt-nw-c2 bt-nw-cweb
	[[ $status -eq 1 && $output == "invalid key/value pair format in driver options" ]] || die "--driver-opt"
	run berth network connect bt-nw-c2
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network connect' requires 2 arguments" ]] || die "usage"
	run berth network disconnect bt-nw-c2
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network disconnect' requires 2 arguments" ]] || die "usage"
	# -f: the daemon removes the endpoint even without the container's help
	berth network connect bt-nw-c2 bt-nw-cweb
	run berth network disconnect -f bt-nw-c2 bt-nw-cweb
	[[ $status -eq 0 && -z $output ]] || die "disconnect -f"
	[[ $(berth inspect -f '{{json .NetworkSettings.Networks}}' bt-nw-cweb | pyj 'sorted(j)') == '["bt-nw-c1"]' ]] ||
		die "-f did not disconnect"
}

@test "run --network --ip --network-alias and the long --network form: endpoint, DNS by alias, conflicts" {
	berth network create --subnet 10.213.5.0/24 bt-nw-run >/dev/null
	web bt-nw-r1 --network bt-nw-run --ip 10.213.5.10 --network-alias web-alias >/dev/null || die "run"
	run berth inspect -f '{{json .NetworkSettings.Networks}}' bt-nw-r1
	[[ $(pyj 'j["bt-nw-run"]["IPAddress"]' <<<"$output") == 10.213.5.10 ]] || die "--ip"
	[[ $(pyj '"web-alias" in j["bt-nw-run"]["Aliases"]' <<<"$output") == true ]] || die "--network-alias"
	run berth inspect -f '{{.HostConfig.NetworkMode}}' bt-nw-r1
	[[ $output == bt-nw-run ]] || die "NetworkMode"
	run berth run --rm --network bt-nw-run "$IMG" sh -c \
		'for i in $(seq 50); do wget -qO- http://web-alias/ && exit; sleep 0.1; done; exit 1'
	[[ $status -eq 0 && $output == hello-bt-nw-r1 ]] || die "by alias"
	# the long form: name, alias and address in one flag
	web bt-nw-r2 --network name=bt-nw-run,alias=two,ip=10.213.5.11 >/dev/null || die "run long form"
	run berth inspect -f '{{json .NetworkSettings.Networks}}' bt-nw-r2
	[[ $(pyj 'j["bt-nw-run"]["IPAddress"]' <<<"$output") == 10.213.5.11 ]] || die "long form ip"
	[[ $(pyj '"two" in j["bt-nw-run"]["Aliases"]' <<<"$output") == true ]] || die "long form alias"
	# refused before anything is created, with docker's words
	run berth run --name bt-nw-bad --network-alias x "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == "berth: network-scoped aliases are only supported for user-defined networks" ]] ||
		die "alias on the default network"
	[[ ${lines[-1]} == "Run 'berth run --help' for more information" ]] || die "hint"
	run berth run --name bt-nw-bad --network bt-nw-run --network none "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == "berth: conflicting options: cannot attach both user-defined and non-user-defined network-modes" ]] ||
		die "mixed modes"
	run berth run --name bt-nw-bad --network bt-nw-run --network bt-nw-run "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'berth: network "bt-nw-run" is specified multiple times' ]] || die "twice"
	run berth run --name bt-nw-bad --network name=bt-nw-run,alias=a --network-alias b "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == "berth: conflicting options: cannot specify both --network-alias and per-network alias" ]] ||
		die "alias twice"
	run berth create --name bt-nw-bad --network name=bt-nw-run,bogus=1 "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "name=bt-nw-run,bogus=1" for "--network" flag: invalid field key bogus' ]] ||
		die "long form key"
	[[ ${lines[1]} == "Usage:  berth create [OPTIONS] IMAGE [COMMAND] [ARG...]" ]] || die "flag usage"
	run berth create --name bt-nw-bad --mac-address zz "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == "berth: zz is not a valid mac address" ]] || die "mac"
	run berth ps -a -q -f name=bt-nw-bad
	[[ -z $output ]] || die "a refused run made a container"
	# a daemon error from create is printed as it is, status 1
	run berth create --name bt-nw-bad --network bt-nw-run --ip notip "$IMG" true
	[[ $status -eq 1 && $output == "Error response from daemon: invalid IPv4 address: notip" ]] || die "create error"
}

@test "run -p: published ports answer on 127.0.0.1; port and ps show them as docker does" {
	local base dyn
	base=$(free_ports 3)
	local r1=$((base + 1)) r2=$((base + 2))
	berth network create --subnet 10.213.6.0/24 bt-nw-pub >/dev/null
	web bt-nw-web --network bt-nw-pub -p "127.0.0.1:$base:80" -p "127.0.0.1:$r1-$r2:$r1-$r2" \
		-p 127.0.0.1::81/udp --expose 7000-7001 >/dev/null || die "run"
	run fetch "http://127.0.0.1:$base/index.html"
	[[ $status -eq 0 && $output == hello-bt-nw-web ]] || die "no answer on 127.0.0.1:$base"
	dyn=$(berth inspect -f '{{json .NetworkSettings.Ports}}' bt-nw-web | pyj 'j["81/udp"][0]["HostPort"]')
	[[ $dyn =~ ^[0-9]+$ ]] || die "no port picked for 81/udp"
	run berth port bt-nw-web
	[[ $status -eq 0 && $output == "80/tcp -> 127.0.0.1:$base"$'\n'"81/udp -> 127.0.0.1:$dyn"$'\n'"$r1/tcp -> 127.0.0.1:$r1"$'\n'"$r2/tcp -> 127.0.0.1:$r2" ]] ||
		die "port"
	run berth port bt-nw-web 80
	[[ $status -eq 0 && $output == "127.0.0.1:$base" ]] || die "port 80"
	run berth port bt-nw-web 80/tcp
	[[ $output == "127.0.0.1:$base" ]] || die "port 80/tcp"
	run berth port bt-nw-web 81/udp
	[[ $output == "127.0.0.1:$dyn" ]] || die "port 81/udp"
	run berth container port bt-nw-web "$r2"
	[[ $output == "127.0.0.1:$r2" ]] || die "container port"
	run berth port bt-nw-web 7000
	[[ $status -eq 1 && $output == "Error: No public port '7000' published for bt-nw-web" ]] || die "exposed only"
	run berth port bt-nw-web 80/udp
	[[ $status -eq 1 && $output == "Error: No public port '80/udp' published for bt-nw-web" ]] || die "other protocol"
	run berth port bt-nw-web abc
	[[ $status -eq 1 && $output == 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax' ]] ||
		die "bad port"
	run berth port bt-nw-web 99999
	[[ $status -eq 1 && $output == 'Error: invalid port (99999): strconv.ParseUint: parsing "99999": value out of range' ]] ||
		die "port out of range"
	run berth port bt-nw-nosuch
	[[ $status -eq 1 && $output == "Error response from daemon: No such container: bt-nw-nosuch" ]] || die "no container"
	run berth port
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth port' requires at least 1 and at most 2 arguments" ]] || die "usage"
	[[ ${lines[-1]} == "Run 'berth port --help' for more information" ]] || die "usage hint"
	# ranges collapsed, exposed-only ports, other mappings last: docker's order
	local want="7000-7001/tcp, 127.0.0.1:$r1-$r2->$r1-$r2/tcp, 127.0.0.1:$base->80/tcp, 127.0.0.1:$dyn->81/udp"
	run berth ps --format '{{.Ports}}' -f name=bt-nw-web
	[[ $output == "$want" ]] || die "ps PORTS: $output"
	run berth ps -f name=bt-nw-web
	[[ ${lines[1]} == *"   $want   bt-nw-web" ]] || die "ps table"
	# every published port is exposed too
	run berth inspect -f '{{json .Config.ExposedPorts}}' bt-nw-web
	[[ $(pyj 'sorted(j)' <<<"$output") == "[\"$r1/tcp\", \"$r2/tcp\", \"7000/tcp\", \"7001/tcp\", \"80/tcp\", \"81/udp\"]" ]] ||
		die "ExposedPorts"
	run berth inspect -f '{{json .HostConfig.PortBindings}}' bt-nw-web
	[[ $(pyj j <<<"$output") == "{\"$r1/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"$r1\"}], \"$r2/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"$r2\"}], \"80/tcp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"$base\"}], \"81/udp\": [{\"HostIp\": \"127.0.0.1\", \"HostPort\": \"\"}]}" ]] ||
		die "PortBindings"
	# once stopped, nothing is published
	berth stop -t 1 bt-nw-web >/dev/null
	run berth port bt-nw-web
	[[ $status -eq 0 && -z $output ]] || die "port of a stopped container"
	run curl -s --max-time 2 "http://127.0.0.1:$base/index.html"
	[[ $output != hello-bt-nw-web ]] || die "still answering"
}

@test "run -P and --expose: every exposed port published; PublishAllPorts" {
	berth network create --subnet 10.213.7.0/24 bt-nw-pa >/dev/null
	web bt-nw-all --network bt-nw-pa -P --expose 80 --expose 8125-8126/udp >/dev/null || die "run"
	run berth inspect -f '{{.HostConfig.PublishAllPorts}} {{json .Config.ExposedPorts}}' bt-nw-all
	[[ ${output%% *} == true && $(pyj 'sorted(j)' <<<"${output#* }") == '["80/tcp", "8125/udp", "8126/udp"]' ]] ||
		die "config: $output"
	run berth port bt-nw-all 80
	[[ $status -eq 0 && ${lines[0]} =~ ^0\.0\.0\.0:([0-9]+)$ ]] || die "80 not published: $output"
	local p=${BASH_REMATCH[1]}
	run fetch "http://127.0.0.1:$p/index.html"
	[[ $output == hello-bt-nw-all ]] || die "no answer on 127.0.0.1:$p"
	run berth port bt-nw-all
	[[ ${lines[0]} == "80/tcp -> 0.0.0.0:$p" && $output == *"8125/udp -> 0.0.0.0:"* && $output == *"8126/udp -> 0.0.0.0:"* ]] ||
		die "port"
	run berth create --name bt-nw-pa2 --publish-all=false --expose 80 "$IMG" true
	[[ $status -eq 0 ]] || die "--publish-all=false"
	run berth inspect -f '{{.HostConfig.PublishAllPorts}}' bt-nw-pa2
	[[ $output == false ]] || die "PublishAllPorts"
}

@test "-p and --expose: docker's errors for bad specs, nothing created" {
	local spec msg
	while IFS='|' read -r spec msg; do
		run berth create --name bt-nw-bad -p "$spec" "$IMG" true
		[[ $status -eq 125 && ${lines[0]} == "berth: $msg" ]] || die "-p '$spec'"
		[[ ${lines[-1]} == "Run 'berth create --help' for more information" ]] || die "hint for '$spec'"
	done <<-'EOF'
		80x|invalid containerPort: 80x
		70000|invalid containerPort: 70000
		a:80|invalid hostPort: a
		8000-7000:80|invalid hostPort: 8000-7000
		1.2.3.4:80:80:90|invalid IP address: 1.2.3.4:80
		8000-8001:80-82|invalid ranges specified for container and host Ports: 80-82 and 8000-8001
		8080:80-81|invalid ranges specified for container and host Ports: 80-81 and 8080
		80/xyz|invalid proto: xyz
		127.0.0.1::|no port specified: 127.0.0.1::<empty>
		published=8080|no port specified: 8080:/tcp<empty>
		target=80,foo|invalid publish opts format (should be name=value but got 'foo')
	EOF
	while IFS='|' read -r spec msg; do
		run berth run --name bt-nw-bad --expose "$spec" "$IMG" true
		[[ $status -eq 125 && ${lines[0]} == "berth: $msg" ]] || die "--expose '$spec'"
	done <<-'EOF'
		80:90|invalid port format for --expose: 80:90
		abc|invalid range format for --expose: abc, error: strconv.ParseUint: parsing "abc": invalid syntax
		90-80|invalid range format for --expose: 90-80, error: invalid range specified for port: 90-80
	EOF
	run berth create --name bt-nw-bad -p '' "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == "berth: no port specified: <empty>" ]] || die "empty spec"
	run berth ps -a -q -f name=bt-nw-bad
	[[ -z $output ]] || die "a refused create made a container"
	# the good ones, as docker sends them
	run berth create --name bt-nw-good -p '[::1]:18080:80' -p 127.0.0.1::81/UDP -p 9000-9001:90-91 \
		-p 9100-9110:92 -p target=93,published=9093 "$IMG" true
	[[ $status -eq 0 ]] || die "good specs refused: $output"
	run berth inspect -f '{{json .HostConfig.PortBindings}}' bt-nw-good
	[[ $(pyj j <<<"$output") == '{"80/tcp": [{"HostIp": "::1", "HostPort": "18080"}], "81/udp": [{"HostIp": "127.0.0.1", "HostPort": ""}], "90/tcp": [{"HostIp": "", "HostPort": "9000"}], "91/tcp": [{"HostIp": "", "HostPort": "9001"}], "92/tcp": [{"HostIp": "", "HostPort": "9100-9110"}], "93/tcp": [{"HostIp": "", "HostPort": "9093"}]}' ]] ||
		die "PortBindings: $output"
}

@test "--dns, --dns-search, --dns-option, --add-host, --link: in HostConfig and in the container" {
	berth network create --subnet 10.213.8.0/24 bt-nw-d >/dev/null
	run berth run --rm --name bt-nw-dns --network bt-nw-d --dns-search example.com. --dns-option ndots:3 \
		--add-host bt-host:10.213.8.77 --add-host 'bt-six=[::1]' "$IMG" sh -c 'cat /etc/resolv.conf /etc/hosts'
	[[ $status -eq 0 ]] || die "run"
	grep -qx "search example.com" <<<"$output" || die "search: $output"
	grep -qx "options ndots:3" <<<"$output" || die "options"
	grep -qx $'10.213.8.77\tbt-host' <<<"$output" || die "add-host"
	grep -qx $'::1\tbt-six' <<<"$output" || die "add-host with brackets"
	run berth create --name bt-nw-hc --network bt-nw-d --dns 10.213.8.53 --dns-search example.com --dns-option ndots:2 \
		--add-host h=10.213.8.9 --link bt-nw-other:peer "$IMG" true
	[[ $status -eq 0 ]] || die "create"
	run berth inspect -f '{{json .HostConfig.Dns}} {{json .HostConfig.DnsSearch}} {{json .HostConfig.DnsOptions}} {{json .HostConfig.ExtraHosts}}' bt-nw-hc
	[[ $output == '["10.213.8.53"] ["example.com"] ["ndots:2"] ["h:10.213.8.9"]' ]] || die "HostConfig: $output"
	# on a user-defined network --link is an endpoint option (the daemon
	# keeps it there, not in HostConfig.Links)
	run berth inspect -f '{{json .NetworkSettings.Networks}}' bt-nw-hc
	[[ $(pyj 'j["bt-nw-d"]["Links"]' <<<"$output") == '["bt-nw-other:peer"]' ]] || die "endpoint links: $output"
	run berth create --name bt-nw-bad --dns nonsense "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "nonsense" for "--dns" flag: IP address is not correctly formatted: nonsense' ]] ||
		die "--dns"
	run berth create --name bt-nw-bad --dns-search -bad "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "-bad" for "--dns-search" flag: -bad is not a valid domain' ]] ||
		die "--dns-search"
	run berth create --name bt-nw-bad --add-host nocolon "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "nocolon" for "--add-host" flag: bad format for add-host: "nocolon"' ]] ||
		die "--add-host"
	run berth create --name bt-nw-bad --add-host h:notip "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "h:notip" for "--add-host" flag: invalid IP address in add-host: "notip"' ]] ||
		die "--add-host ip"
	run berth create --name bt-nw-bad --link a:b:c "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "a:b:c" for "--link" flag: bad format for links: a:b:c' ]] ||
		die "--link"
}

@test "network prune: the prompt, a cancelled prune, --filter, -f, networks in use kept" {
	berth network create --label bt-prune=1 bt-nw-pr1 >/dev/null
	berth network create --label bt-prune=1 bt-nw-pr2 >/dev/null
	berth network create --label bt-prune=1 bt-nw-pr3 >/dev/null
	berth network create bt-nw-pr4 >/dev/null
	berth run -d --name bt-nw-user --network bt-nw-pr3 "$IMG" sleep 1000 >/dev/null
	local warn="WARNING! This will remove all custom networks not used by at least one container."
	# the label keeps the prune to this test's networks on a shared daemon
	run bash -c "echo n | '$BERTH_BIN' network prune --filter label=bt-prune=1"
	[[ $status -eq 0 && $output == "$warn"$'\n'"Are you sure you want to continue? [y/N] " ]] || die "cancelled: $output"
	run berth network ls -q -f name=bt-nw-pr
	[[ ${#lines[@]} -eq 4 ]] || die "a cancelled prune removed networks: $(berth network ls)"
	run bash -c "echo y | '$BERTH_BIN' network prune --filter label=bt-prune=1"
	[[ $status -eq 0 && ${lines[0]} == "$warn" ]] || die "prune"
	[[ ${lines[1]} == "Are you sure you want to continue? [y/N] Deleted Networks:" ]] || die "prompt then list: $output"
	[[ $(printf '%s\n' "${lines[@]:2}" | sort | tr '\n' ' ') == "bt-nw-pr1 bt-nw-pr2 " ]] || die "deleted: $output"
	run berth network ls -f name=bt-nw-pr --format '{{.Name}}'
	[[ $output == "bt-nw-pr3"$'\n'"bt-nw-pr4" ]] || die "left: $output"
	berth rm -f bt-nw-user >/dev/null
	run berth network prune -f --filter label=bt-prune=1
	[[ $status -eq 0 && $output == "Deleted Networks:"$'\n'"bt-nw-pr3" ]] || die "-f: $output"
	run berth network prune -f --filter label=bt-prune=1
	[[ $status -eq 0 && -z $output ]] || die "nothing to prune"
	run berth network ls -q -f name=bt-nw-pr4
	[[ -n $output ]] || die "the unlabelled network was pruned"
	run berth network prune --filter nonsense
	[[ $status -eq 125 && ${lines[0]} == 'invalid argument "nonsense" for "--filter" flag: bad format of filter (expected name=value)' ]] ||
		die "bad filter"
	run berth network prune -f extra
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth network prune' accepts no arguments" ]] || die "arguments"
}

@test "network help: the group, a command's options, unknown subcommands" {
	run berth network
	[[ $status -eq 0 && ${lines[0]} == "Usage:  berth network COMMAND" ]] || die "group"
	[[ $output == *"  connect     Connect a container to a network"* && $output == *"  disconnect  Disconnect a container from a network"* ]] ||
		die "commands"
	[[ $output == *"  prune       Remove all unused networks"* && $output == *"  rm          Remove one or more networks"* ]] ||
		die "commands"
	run berth network create --help
	[[ $status -eq 0 && ${lines[0]} == "Usage:  berth network create [OPTIONS] NETWORK" ]] || die "create help"
	[[ $output == *"      --subnet strings "* && $output == *"  -d, --driver string "* ]] || die "options"
	run berth port --help
	[[ $status -eq 0 && ${lines[0]} == "Usage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]" ]] || die "port help"
	run berth network bogus
	[[ $status -eq 1 && ${lines[0]} == "berth: unknown command: berth network bogus" ]] || die "unknown"
}

# proxy: a logging proxy to the daemon; prints its socket.  Each
# connection's client bytes go to DIR/conn-N.
start_proxy() {
	local dir=$1 sock=$BATS_TEST_TMPDIR/proxy.sock i
	mkdir -p "$dir"
	python3 - "$sock" "${BERTH_HOST#unix://}" "$dir" <<-'EOF' >/dev/null 2>&1 &
		import itertools, os, socket, sys, threading
		listen, upstream, logdir = sys.argv[1:4]
		def pump(src, dst, log):
		    try:
		        while True:
		            b = src.recv(65536)
		            if not b:
		                break
		            if log:
		                log.write(b)
		                log.flush()
		            dst.sendall(b)
		    except OSError:
		        pass
		    try:
		        dst.shutdown(socket.SHUT_WR)
		    except OSError:
		        pass
		srv = socket.socket(socket.AF_UNIX)
		srv.bind(listen)
		srv.listen(64)
		for n in itertools.count():
		    c, _ = srv.accept()
		    up = socket.socket(socket.AF_UNIX)
		    up.connect(upstream)
		    log = open(os.path.join(logdir, "conn-%04d" % n), "wb")
		    threading.Thread(target=pump, args=(c, up, log), daemon=True).start()
		    threading.Thread(target=pump, args=(up, c, None), daemon=True).start()
	EOF
	echo $! >"$BATS_TEST_TMPDIR/proxy.pid"
	for i in $(seq 50); do
		[[ -S $sock ]] && break
		sleep 0.1
	done
	echo "unix://$sock"
}

# requests DIR: "METHOD PATH" and the body of each request but the pings,
# the version prefix dropped, a body's final newline (Go's encoder) too
requests() {
	python3 - "$1" <<-'EOF'
		import os, re, sys
		d = sys.argv[1]
		for name in sorted(os.listdir(d)):
		    data = open(os.path.join(d, name), "rb").read()
		    while data:
		        head, _, rest = data.partition(b"\r\n\r\n")
		        lines = head.decode().split("\r\n")
		        n = 0
		        for h in lines[1:]:
		            k, _, v = h.partition(":")
		            if k.lower() == "content-length":
		                n = int(v)
		        body, data = rest[:n], rest[n:]
		        method, path, _ = lines[0].split(" ")
		        if path.endswith("/_ping"):
		            continue
		        print(method, re.sub(r"^/v[0-9.]+", "", path))
		        print(body.decode().rstrip("\n"))
	EOF
}

@test "the same requests as the docker CLI: network create, connect, disconnect, rm; run and create flags" {
	need_docker
	local host
	berth network create --subnet 10.213.10.0/24 bt-nw-q >/dev/null
	berth create --name bt-nw-qc --network bt-nw-q "$IMG" sleep 1000 >/dev/null
	berth create --name bt-nw-qd --network bt-nw-q "$IMG" sleep 1000 >/dev/null
	berth network create --subnet 10.213.11.0/24 bt-nw-q2 >/dev/null
	# each command through the proxy with berth, undone, then with docker
	local -a cmds=(
		"network create --subnet 10.213.12.0/24 --gateway 10.213.12.1 --ip-range 10.213.12.128/25 --aux-address r=10.213.12.5 --label b=1 --label a -o com.docker.network.driver.mtu=1400 --internal --attachable bt-nw-qn|network rm bt-nw-qn"
		"network create bt-nw-qn|network rm bt-nw-qn"
		"network connect --ip 10.213.11.9 --alias x --alias y,z --link bt-nw-qc:l --driver-opt k=v bt-nw-q2 bt-nw-qd|network disconnect bt-nw-q2 bt-nw-qd"
		"network connect bt-nw-q2 bt-nw-qc|network disconnect bt-nw-q2 bt-nw-qc"
		"network disconnect -f bt-nw-q bt-nw-qc|network connect bt-nw-q bt-nw-qc"
		"network rm bt-nw-q2|network create --subnet 10.213.11.0/24 bt-nw-q2"
		"create --name bt-nw-qr -p 127.0.0.1:18081:80 -p [::1]::81/udp -p 9000-9001:90-91 -p 9100-9110:92 --expose 7000-7001 -P --network bt-nw-q --ip 10.213.10.50 --network-alias web --link bt-nw-qc:peer --dns 10.213.10.53 --dns-search example.com --dns-option ndots:2 --add-host h=10.213.10.9 $IMG true|rm bt-nw-qr"
		"create --name bt-nw-qr $IMG true|rm bt-nw-qr"
		"create --name bt-nw-qr --network bt-nw-q $IMG true|rm bt-nw-qr"
		"create --name bt-nw-qr --network name=bt-nw-q,alias=a,ip=10.213.10.51,driver-opt=k=v $IMG true|rm bt-nw-qr"
	)
	local c n=0
	local -a cmd undo
	for c in "${cmds[@]}"; do
		# split on spaces only: "[::1]" is no glob here
		read -ra cmd <<<"${c%%|*}"
		read -ra undo <<<"${c#*|}"
		n=$((n + 1))
		host=$(start_proxy "$BATS_TEST_TMPDIR/b$n")
		BERTH_HOST=$host "$BERTH_BIN" "${cmd[@]}" >/dev/null 2>&1 || die "berth ${cmd[*]}"
		kill "$(cat "$BATS_TEST_TMPDIR/proxy.pid")"
		"$BERTH_BIN" "${undo[@]}" >/dev/null || die "berth ${undo[*]}"
		rm -f "$BATS_TEST_TMPDIR/proxy.sock"
		host=$(start_proxy "$BATS_TEST_TMPDIR/d$n")
		DOCKER_HOST=$host DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker-config docker "${cmd[@]}" >/dev/null 2>&1 ||
			die "docker ${cmd[*]}"
		kill "$(cat "$BATS_TEST_TMPDIR/proxy.pid")"
		"$BERTH_BIN" "${undo[@]}" >/dev/null || die "berth ${undo[*]}"
		rm -f "$BATS_TEST_TMPDIR/proxy.sock"
		run diff <(requests "$BATS_TEST_TMPDIR/b$n") <(requests "$BATS_TEST_TMPDIR/d$n")
		[[ $status -eq 0 ]] || die "requests differ for: ${cmd[*]}"
		[[ -n $(requests "$BATS_TEST_TMPDIR/b$n") ]] || die "nothing captured for: ${cmd[*]}"
	done
}

# same ARGS: berth and docker print the same bytes on stdout and stderr
# (docker's name in its usage texts read as berth) and exit the same
same() {
	local b=$BATS_TEST_TMPDIR/b d=$BATS_TEST_TMPDIR/d rb rd
	"$BERTH_BIN" "$@" >"$b.out" 2>"$b.err" && rb=0 || rb=$?
	docker_cli "$@" >"$d.out" 2>"$d.err" && rd=0 || rd=$?
	sed -i 's/docker/berth/g' "$d.err"
	if ! cmp -s "$b.out" "$d.out" || ! cmp -s "$b.err" "$d.err" || [[ $rb != "$rd" ]]; then
		echo "differs: $* (exit $rb, docker $rd)" >&2
		diff "$b.out" "$d.out" >&2
		diff "$b.err" "$d.err" >&2
		return 1
	fi
}

@test "the same output as the docker CLI: network ls/inspect/rm errors, port, ps PORTS" {
	need_docker
	local base
	base=$(free_ports 3)
	# one label: docker joins several in Go's random map order
	berth network create --subnet 10.213.13.0/24 --label bt=cmp bt-nw-s1 >/dev/null
	berth network create --internal bt-nw-s2 >/dev/null
	berth network create bt-nw-s10 >/dev/null
	web bt-nw-sweb --network bt-nw-s1 -p "127.0.0.1:$base:80" -p "127.0.0.1:$((base + 1))-$((base + 2)):$((base + 1))-$((base + 2))" \
		--expose 7000-7002 --expose 53/udp >/dev/null || die "run"
	fetch "http://127.0.0.1:$base/index.html" >/dev/null || die "no answer"
	same network ls -f name=bt-nw-s
	same network ls -f name=bt-nw-s --no-trunc
	same network ls -q -f name=bt-nw-s
	same network ls -f name=bt-nw-s --format json
	same network ls -f name=bt-nw-s --format 'table {{.ID}}\t{{.Name}}\t{{.IPv6}}\t{{.Internal}}\t{{.Labels}}\t{{.CreatedAt}}'
	same network ls -f name=bt-nw-s --format '{{.Name}}' -q
	same network ls -f bogus=1
	same network ls -f bogus
	same network inspect bt-nw-s1 bt-nw-s2
	same network inspect bt-nw-s1 bt-nw-nosuch bt-nw-s10
	same network inspect -f '{{.Name}} {{json .IPAM}} {{json .Labels}}' bt-nw-s1 bt-nw-s2
	same network inspect -f json bt-nw-s2
	same network inspect bt-nw-nosuch
	same network inspect ''
	same network inspect
	same network rm bt-nw-nosuch
	same network rm -f bt-nw-nosuch
	same network rm none
	same network create --gateway 10.0.0.1 bt-nw-x
	same network create --subnet 10.213.14.0/24 --ip-range 10.213.15.0/24 bt-nw-x
	same network create a b
	same network connect bt-nw-s1 bt-nw-nosuch
	same network disconnect bt-nw-s2 bt-nw-sweb
	same network connect bt-nw-s1
	same port bt-nw-sweb
	same port bt-nw-sweb 80
	same port bt-nw-sweb 80/udp
	same port bt-nw-sweb 7000
	same port bt-nw-sweb abc
	same port bt-nw-sweb 99999x
	same port bt-nw-nosuch
	same port ''
	same ps --format '{{.Names}} {{.Ports}}' -f name=bt-nw-sweb
	same create --name bt-nw-bad -p 8000-8001:80-82 "$IMG" true
	same create --name bt-nw-bad --expose abc "$IMG" true
	same create --name bt-nw-bad --network-alias x "$IMG" true
	same create --name bt-nw-bad --link a:b:c "$IMG" true
	same run --name bt-nw-bad --network bt-nw-s1 --network none "$IMG" true
	run bash -c "echo n | '$BERTH_BIN' network prune --filter label=bt=cmp"
	local ours=$output
	run bash -c "echo n | DOCKER_HOST='$BERTH_HOST' DOCKER_CONFIG='$BATS_TEST_TMPDIR/docker-config' docker network prune --filter label=bt=cmp"
	[[ $ours == "$output" ]] || die "prune prompt"
}
