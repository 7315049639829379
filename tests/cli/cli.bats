#!/usr/bin/env bats
# berth's Docker-compatible commands, end to end through the API: output
# wording and columns, stdout/stderr separation, stdin, exit statuses.
bats_require_minimum_version 1.5.0
load helpers

setup_file() { cli_setup_file; }
teardown_file() { cli_teardown_file; }

@test "version: client and server sections" {
	run berth version
	[[ $status -eq 0 ]] || die "version failed"
	[[ ${lines[0]} == "Client:" ]] || die "no Client section"
	[[ $output == *" Version:           "* ]] || die "no client version"
	[[ $output == *"Server:"* && $output == *" Engine:"* ]] || die "no Server section"
	[[ $output =~ API\ version:\ +[0-9]+\.[0-9]+\ \(minimum\ version ]] || die "no server API version"
}

@test "info: the server's key lines" {
	run berth info
	[[ $status -eq 0 ]] || die "info failed"
	[[ $output == *" Server Version: "* ]] || die "no server version"
	[[ $output == *" Containers: "* && $output == *" Images: "* ]] || die "no counts"
}

@test "host: -H overrides the environment; tcp is refused; a dead socket is named" {
	run berth -H "$BERTH_HOST" version --format '{{.Server.Version}}'
	[[ $status -eq 0 && -n $output ]] || die "-H failed"
	run berth -H unix:///nonexistent/berth.sock ps
	[[ $status -eq 1 ]] || die "expected exit 1"
	[[ $output == "Cannot connect to the Berth daemon at unix:///nonexistent/berth.sock. Is berthd running?" ]] ||
		die "wrong message"
	run berth -H tcp://127.0.0.1:2375 ps
	[[ $status -ne 0 && $output == *"only unix:// sockets are supported"* ]] || die "tcp not refused"
}

@test "pull: progress lines, digest, status, then the reference" {
	run berth pull "$REG/bb:2"
	[[ $status -eq 0 ]] || die "pull failed"
	[[ ${lines[0]} == "2: Pulling from bb" ]] || die "first line"
	[[ $output == *$'\nDigest: sha256:'* ]] || die "no digest line"
	[[ $output == *"Status: "*"$REG/bb:2"* ]] || die "no status line"
	[[ ${lines[-1]} == "$REG/bb:2" ]] || die "last line is not the reference"
	run berth pull "$REG/bb:2"
	[[ $status -eq 0 && $output == *"Status: Image is up to date for $REG/bb:2"* ]] || die "second pull"
	run berth pull "$REG/bb"
	[[ $status -eq 1 ]] || die "pull of a missing tag succeeded"
	[[ ${lines[0]} == "Using default tag: latest" ]] || die "no default tag line"
	[[ $output == *"Error response from daemon: "*"not found"* ]] || die "no daemon error"
}

@test "images: columns, -q" {
	run berth images
	[[ $status -eq 0 ]] || die "images failed"
	[[ ${lines[0]} =~ ^REPOSITORY\ +TAG\ +IMAGE\ ID\ +CREATED\ +SIZE$ ]] || die "header"
	[[ $output =~ $REG/bb\ +1\ +[0-9a-f]{12}\ + ]] || die "no row for bb:1"
	run berth images -q
	[[ $status -eq 0 && ${lines[0]} =~ ^[0-9a-f]{12}$ ]] || die "-q"
	run berth images --format '{{.Repository}}:{{.Tag}}'
	[[ $output == *"$REG/bb:1"* ]] || die "--format"
}

@test "run: stdout of a --rm container" {
	run berth run --rm --network none "$IMG" echo hi
	[[ $status -eq 0 && $output == hi ]] || die "run echo"
}

@test "run: stdout and stderr stay apart, the exit status comes through" {
	run bash -c "'$BERTH_BIN' run --rm --network none '$IMG' sh -c 'echo a; echo b >&2; exit 3' \
		>'$BATS_TEST_TMPDIR/out' 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 3 ]] || die "exit status"
	[[ $(cat "$BATS_TEST_TMPDIR/out") == a ]] || die "stdout: $(cat "$BATS_TEST_TMPDIR/out")"
	[[ $(cat "$BATS_TEST_TMPDIR/err") == b ]] || die "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "run -i: stdin reaches the container, EOF closes it" {
	run bash -c "echo hello | '$BERTH_BIN' run -i --rm --network none '$IMG' cat"
	[[ $status -eq 0 && $output == hello ]] || die "stdin"
	run bash -c "seq 1 20000 | '$BERTH_BIN' run -i --rm --network none '$IMG' sh -c 'wc -l; echo closed >&2' \
		2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 0 && $output =~ ^\ *20000$ ]] || die "large stdin"
	[[ $(cat "$BATS_TEST_TMPDIR/err") == closed ]] || die "stderr after stdin closed"
	# stdin not attached: the container sees EOF at once
	run bash -c "'$BERTH_BIN' run --rm --network none '$IMG' cat </dev/zero"
	[[ $status -eq 0 && -z $output ]] || die "unattached stdin"
}

@test "run -d, logs, stop, rm" {
	run berth run -d --name bt-logger --network none "$IMG" \
		sh -c 'i=0; while true; do echo out $i; echo err $i >&2; i=$((i+1)); sleep 0.2; done'
	[[ $status -eq 0 && $output =~ ^[0-9a-f]{64}$ ]] || die "run -d"
	local id=$output
	sleep 1
	run bash -c "'$BERTH_BIN' logs bt-logger 2>/dev/null"
	[[ ${lines[0]} == "out 0" ]] || die "logs stdout"
	run bash -c "'$BERTH_BIN' logs bt-logger 2>&1 >/dev/null"
	[[ ${lines[0]} == "err 0" ]] || die "logs stderr"
	run berth logs --tail 1 -t bt-logger
	[[ ${#lines[@]} -le 2 && ${lines[0]} =~ ^20[0-9-]+T[0-9:.]+Z\ (out|err)\ [0-9]+$ ]] || die "tail and timestamps"
	run timeout 2 "$BERTH_BIN" logs -f --tail 0 bt-logger
	[[ $status -eq 124 && ${#lines[@]} -ge 2 ]] || die "logs -f"
	run berth inspect -f '{{.State.Status}} {{.Id}}' bt-logger
	[[ $output == "running $id" ]] || die "inspect running"
	run berth stop -t 1 bt-logger
	[[ $status -eq 0 && $output == bt-logger ]] || die "stop"
	run berth inspect -f '{{.State.Status}}' bt-logger
	[[ $output == exited ]] || die "inspect exited"
	run berth rm bt-logger
	[[ $status -eq 0 && $output == bt-logger ]] || die "rm"
}

@test "ps and ps -a: docker's columns, truncation and status wording" {
	berth run -d --name bt-ps-up --network none "$IMG" sh -c 'sleep 1000; echo a long command line here' >/dev/null
	berth run --name bt-ps-done --network none "$IMG" sh -c 'exit 2' || true
	run berth ps
	[[ $status -eq 0 ]] || die "ps"
	[[ ${lines[0]} =~ ^CONTAINER\ ID\ +IMAGE\ +COMMAND\ +CREATED\ +STATUS\ +PORTS\ +NAMES$ ]] || die "header"
	local row_re="[0-9a-f]{12} +$IMG +\"sh -c 'sleep 1000; …\" +[^ ].* ago +Up .*bt-ps-up"
	[[ $output =~ $row_re ]] || die "running row"
	[[ $output != *bt-ps-done* ]] || die "ps shows an exited container"
	run berth ps -a
	[[ $output =~ Exited\ \(2\)\ .*\ ago\ +bt-ps-done ]] || die "exited row"
	run berth ps -aq --no-trunc --filter name=bt-ps-up
	[[ ${#lines[@]} -eq 1 && ${lines[0]} =~ ^[0-9a-f]{64}$ ]] || die "-q --no-trunc --filter"
	run berth ps -a --filter name=bt-ps --format '{{.Names}} {{.State}}'
	[[ $output == *"bt-ps-up running"* && $output == *"bt-ps-done exited"* ]] || die "--format"
	run berth ps -a --filter name=bt-ps-done --format json
	[[ $output == *'"Names":"bt-ps-done"'* && $output == *'"State":"exited"'* ]] || die "--format json"
	run berth rm -f bt-ps-up bt-ps-done
	[[ $status -eq 0 && ${lines[0]} == bt-ps-up && ${lines[1]} == bt-ps-done ]] || die "rm -f"
}

@test "create, start -a, start, wait, kill" {
	run berth create --name bt-cs --network none "$IMG" sh -c 'echo started; exit 4'
	[[ $status -eq 0 && $output =~ ^[0-9a-f]{64}$ ]] || die "create"
	run berth inspect -f '{{.State.Status}}' bt-cs
	[[ $output == created ]] || die "not created"
	run berth start -a bt-cs
	[[ $status -eq 4 && $output == started ]] || die "start -a"
	run berth start bt-cs
	[[ $status -eq 0 && $output == bt-cs ]] || die "start"
	run berth wait bt-cs
	[[ $status -eq 0 && $output == 4 ]] || die "wait"
	berth rm bt-cs >/dev/null
	berth run -d --name bt-kill --network none "$IMG" sleep 1000 >/dev/null
	run berth kill -s KILL bt-kill
	[[ $status -eq 0 && $output == bt-kill ]] || die "kill"
	run berth wait bt-kill
	[[ $output == 137 ]] || die "wait after kill: $output"
	berth rm bt-kill >/dev/null
}

@test "run: a missing image is pulled, unless --pull never" {
	run berth run --rm --network none --pull never "$REG/bb:2-missing" true
	[[ $status -eq 125 ]] || die "--pull never"
	[[ $output == *"berth: Error response from daemon: No such image: $REG/bb:2-missing"* ]] || die "message"
	berth rmi "$REG/bb:2" >/dev/null 2>&1 || true
	run bash -c "'$BERTH_BIN' run --rm --network none '$REG/bb:2' echo pulled 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 0 && $output == pulled ]] || die "run after pull"
	run cat "$BATS_TEST_TMPDIR/err"
	[[ ${lines[0]} == "Unable to find image '$REG/bb:2' locally" ]] || die "no 'Unable to find'"
	[[ $output == *"Status: Downloaded newer image for $REG/bb:2"* ]] || die "no pull status"
}

@test "errors: unknown container exits 1, daemon errors of run 125, exec failures 127 and 126" {
	run berth rm bt-nosuch
	[[ $status -eq 1 && $output == "Error response from daemon: No such container: bt-nosuch" ]] || die "rm"
	run berth inspect bt-nosuch
	[[ $status -eq 1 && ${lines[0]} == "[]" && ${lines[1]} == "Error: No such object: bt-nosuch" ]] || die "inspect"
	run berth start bt-nosuch
	[[ $status -eq 1 && ${lines[-1]} == "Error: failed to start containers: bt-nosuch" ]] || die "start"
	run berth run --rm --network none --name "bad name!" "$IMG" true
	[[ $status -eq 125 && ${lines[0]} == "berth: Error response from daemon: "* ]] || die "create error"
	[[ ${lines[-1]} == "Run 'berth run --help' for more information" ]] || die "hint"
	run -127 berth run --rm --network none "$IMG" bt-no-such-command
	[[ $status -eq 127 ]] || die "missing executable"
	run -126 berth run --rm --network none "$IMG" /etc
	[[ $status -eq 126 ]] || die "not executable"
	run berth run --no-such-flag "$IMG"
	[[ $status -eq 125 && ${lines[0]} == "unknown flag: --no-such-flag" ]] || die "unknown flag"
	run berth rm
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth rm' requires at least 1 argument" ]] || die "usage"
}

@test "inspect: containers, then images, as an indented array" {
	run berth inspect "$IMG"
	[[ $status -eq 0 && ${lines[0]} == "[" && ${lines[1]} == "    {" ]] || die "layout"
	[[ ${lines[2]} =~ ^\ {8}\"Id\":\ \"sha256:[0-9a-f]{64}\",$ ]] || die "image id"
	run berth image inspect -f '{{json .RepoTags}}' "$IMG"
	[[ $output == *"\"$IMG\""* ]] || die "json"
}

@test "tag and rmi" {
	run berth tag "$IMG" bt-tagged:x
	[[ $status -eq 0 && -z $output ]] || die "tag"
	run berth images --format '{{.Repository}}:{{.Tag}}' bt-tagged
	[[ $output == "bt-tagged:x" ]] || die "tag not listed: $output"
	run berth rmi bt-tagged:x
	[[ $status -eq 0 && $output == "Untagged: bt-tagged:x" ]] || die "rmi"
	run berth rmi bt-tagged:x
	[[ $status -eq 1 && $output == "Error response from daemon: No such image: bt-tagged:x" ]] || die "rmi again"
}

@test "run -it: a terminal, its size, the exit status" {
	# the size arrives by the resize after the start (API 1.41 daemons
	# ignore ConsoleSize), so the container looks a moment later
	run script -qec "stty cols 91 rows 27; '$BERTH_BIN' run -it --rm --network none '$IMG' sh -c 'sleep 1; stty size; exit 5'" /dev/null
	[[ $status -eq 5 ]] || die "exit status"
	[[ $output == *"27 91"* ]] || die "terminal size"
	run bash -c "echo | '$BERTH_BIN' run -it --rm --network none '$IMG' true"
	[[ $status -eq 1 && $output == "the input device is not a TTY" ]] || die "no tty check"
}
