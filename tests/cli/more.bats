#!/usr/bin/env bats
# The rest of docker's commands, end to end through the API: exec and
# attach (with a real terminal through script), container management,
# cp both ways, commit/history, export, save/load, push and pull back,
# login/logout against a registry with basic auth, volumes, system df and
# prune, events.  Every test checks what happened, not only the status.
bats_require_minimum_version 1.5.0
load helpers

setup_file() { cli_setup_file; }

teardown_file() {
	if [[ -n ${BERTH_HOST:-} ]]; then
		"$BERTH_BIN" ps -aq --filter name=bt- 2>/dev/null | while read -r id; do
			"$BERTH_BIN" rm -f "$id" >/dev/null 2>&1 || true
		done
		"$BERTH_BIN" volume ls -q --filter name=bt- 2>/dev/null | while read -r v; do
			"$BERTH_BIN" volume rm -f "$v" >/dev/null 2>&1 || true
		done
		"$BERTH_BIN" images --format '{{.Repository}}:{{.Tag}}' 2>/dev/null | grep bt- | while read -r i; do
			"$BERTH_BIN" rmi -f "$i" >/dev/null 2>&1 || true
		done
	fi
	if [[ -f $CLI_TMP/auth-registry ]]; then
		read -r pid dir <"$CLI_TMP/auth-registry"
		sh "$REGISTRY_SCRIPT" stop "$pid" "$dir" || true
	fi
	cli_teardown_file
}

# sleeper NAME: a running container to work in
sleeper() {
	"$BERTH_BIN" run -d --name "$1" --network none "$IMG" sleep 1000 >/dev/null
}

@test "exec: output streams apart, exit status, -e -w -u, -i stdin, -d" {
	sleeper bt-ex
	run bash -c "'$BERTH_BIN' exec bt-ex sh -c 'echo out; echo err >&2; exit 5' \
		>'$BATS_TEST_TMPDIR/out' 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 5 ]] || die "exit status"
	[[ $(cat "$BATS_TEST_TMPDIR/out") == out && $(cat "$BATS_TEST_TMPDIR/err") == err ]] || die "streams"
	run berth exec -e BT_A=1 -w /tmp -u 1000 bt-ex sh -c 'echo "$BT_A $(pwd) $(id -u)"'
	[[ $status -eq 0 && $output == "1 /tmp 1000" ]] || die "-e -w -u"
	run bash -c "seq 1 5000 | '$BERTH_BIN' exec -i bt-ex wc -l"
	[[ $status -eq 0 && $output =~ ^\ *5000$ ]] || die "-i"
	run berth exec -d bt-ex sh -c 'echo detached > /tmp/bt-d'
	[[ $status -eq 0 && -z $output ]] || die "-d"
	sleep 0.5
	run berth exec bt-ex cat /tmp/bt-d
	[[ $output == detached ]] || die "-d did not run"
	run berth exec bt-nosuch true
	[[ $status -eq 1 && $output == "Error response from daemon: No such container: bt-nosuch" ]] || die "no container"
	# the daemon decides between 126 and 127; the CLI passes it on
	run bash -c "'$BERTH_BIN' exec bt-ex bt-no-such-command; echo rc=\$?"
	[[ ${lines[-1]} == rc=126 || ${lines[-1]} == rc=127 ]] || die "missing command"
	run berth exec bt-ex
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth exec' requires at least 2 arguments" ]] || die "usage"
	run bash -c "echo | '$BERTH_BIN' exec -it bt-ex true"
	[[ $status -eq 1 && $output == "the input device is not a TTY" ]] || die "tty check"
}

@test "exec -it: a terminal of the right size, the exit status, ctrl-p ctrl-q detaches" {
	sleeper bt-exit
	# the size comes with the resize after the start, so look a moment later
	run script -qec "stty cols 91 rows 27; '$BERTH_BIN' exec -it bt-exit sh -c 'sleep 1; tty; stty size; exit 3'" /dev/null
	[[ $status -eq 3 ]] || die "exit status"
	[[ $output == *"/dev/pts/"* && $output == *"27 91"* ]] || die "no terminal"
	run bash -c "(sleep 1; printf 'echo typed-\$((6*7))\n'; sleep 1; printf '\020\021'; sleep 1) |
		script -qec \"'$BERTH_BIN' exec -it bt-exit sh; echo rc=\\\$?\" /dev/null"
	[[ $output == *"typed-42"* ]] || die "input did not reach the shell"
	[[ $output == *"read escape sequence"* && $output == *"rc=1"* ]] || die "detach"
	run berth inspect -f '{{.State.Running}}' bt-exit
	[[ $output == true ]] || die "container stopped"
}

@test "exec -it: SIGWINCH resizes the exec's terminal" {
	sleeper bt-winch
	# a pty we can resize: the size changes while the exec runs
	run python3 - "$BERTH_BIN" <<-'EOF'
		import fcntl, os, pty, signal, struct, sys, termios, time
		pid, fd = pty.fork()
		if pid == 0:
		    os.execv(sys.argv[1], [sys.argv[1], "exec", "-it", "bt-winch", "sh", "-c", "sleep 2; stty size; exit 4"])
		def size(rows, cols):
		    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
		size(24, 80)
		time.sleep(0.8)
		size(33, 77)
		os.kill(pid, signal.SIGWINCH)
		out = b""
		while True:
		    try:
		        data = os.read(fd, 1024)
		    except OSError:
		        break
		    if not data:
		        break
		    out += data
		_, st = os.waitpid(pid, 0)
		print(out.decode(errors="replace").strip())
		print("status", os.waitstatus_to_exitcode(st))
	EOF
	[[ ${lines[-1]} == "status 4" ]] || die "exit status"
	[[ $output == *"33 77"* ]] || die "not resized"
}

@test "attach: output and exit status; run -it and attach detach with ctrl-p ctrl-q" {
	berth run -d --name bt-att --network none "$IMG" sh -c 'sleep 1; echo att-out; echo att-err >&2; exit 2' >/dev/null
	run bash -c "'$BERTH_BIN' attach bt-att 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 2 && $output == att-out ]] || die "attach"
	[[ $(cat "$BATS_TEST_TMPDIR/err") == att-err ]] || die "stderr"
	run berth attach bt-att
	[[ $status -eq 1 && $output == "You cannot attach to a stopped container, start it first" ]] || die "stopped"
	# run -it: detaching leaves it running and run exits 0
	run bash -c "(sleep 1.5; printf '\020\021'; sleep 1) |
		script -qec \"'$BERTH_BIN' run -it --name bt-itd --network none '$IMG' sh; echo rc=\\\$?\" /dev/null"
	[[ $output == *"rc=0"* ]] || die "run -it detach status"
	run berth inspect -f '{{.State.Running}}' bt-itd
	[[ $output == true ]] || die "run -it detach stopped it"
	# attach again, type, detach with custom keys
	run bash -c "(sleep 1; printf 'echo again-\$((2*3))\n'; sleep 1; printf '\001\002'; sleep 1) |
		script -qec \"'$BERTH_BIN' attach --detach-keys ctrl-a,ctrl-b bt-itd; echo rc=\\\$?\" /dev/null"
	[[ $output == *"again-6"* && $output == *"read escape sequence"* && $output == *"rc=1"* ]] || die "attach detach"
	run berth inspect -f '{{.State.Running}}' bt-itd
	[[ $output == true ]] || die "attach detach stopped it"
	# and leave through the shell: the status is the container's
	run bash -c "(sleep 1; printf 'exit 7\n'; sleep 1) | script -qec \"'$BERTH_BIN' attach bt-itd; echo rc=\\\$?\" /dev/null"
	[[ $output == *"rc=7"* ]] || die "attach exit status"
}

@test "restart, pause, unpause, top, rename" {
	sleeper bt-mg
	local pid1 pid2
	pid1=$(berth inspect -f '{{.State.Pid}}' bt-mg)
	run berth restart -t 1 bt-mg
	[[ $status -eq 0 && $output == bt-mg ]] || die "restart"
	pid2=$(berth inspect -f '{{.State.Pid}}' bt-mg)
	[[ $pid1 != "$pid2" && $pid2 -gt 0 ]] || die "restart kept pid $pid1"
	run berth pause bt-mg
	[[ $status -eq 0 && $output == bt-mg ]] || die "pause"
	run berth inspect -f '{{.State.Status}} {{.State.Paused}}' bt-mg
	[[ $output == "paused true" ]] || die "not paused: $output"
	run berth unpause bt-mg bt-nosuch
	[[ $status -eq 1 && ${lines[0]} == bt-mg && $output == *"No such container: bt-nosuch"* ]] || die "unpause"
	run berth inspect -f '{{.State.Status}} {{.State.Paused}}' bt-mg
	[[ $output == "running false" ]] || die "not unpaused: $output"
	run berth top bt-mg
	[[ $status -eq 0 && ${lines[0]} =~ ^UID\ +PID\ +PPID ]] || die "top header"
	[[ $output == *"sleep 1000"* ]] || die "top rows"
	run berth top bt-mg -o pid,comm
	[[ ${lines[0]} =~ ^PID\ +COMMAND$ && ${lines[1]} =~ ^[0-9]+\ +sleep$ ]] || die "top -o"
	run berth rename bt-mg bt-mg2
	[[ $status -eq 0 && -z $output ]] || die "rename"
	run berth inspect -f '{{.Name}}' bt-mg2
	[[ $output == /bt-mg2 ]] || die "renamed: $output"
	run berth rename bt-nosuch x
	[[ $status -eq 1 && ${lines[-1]} == "Error: failed to rename container named bt-nosuch" ]] || die "rename error"
}

@test "update: resources and restart policy land in the container's config" {
	sleeper bt-up
	run berth update --memory 64m --memory-swap 128m --cpus 0.5 --cpu-shares 512 --pids-limit 50 \
		--restart on-failure:3 bt-up
	[[ $status -eq 0 && ${lines[-1]} == bt-up ]] || die "update"
	run berth inspect -f '{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}} {{.HostConfig.NanoCpus}} {{.HostConfig.CpuShares}} {{.HostConfig.PidsLimit}} {{.HostConfig.RestartPolicy.Name}} {{.HostConfig.RestartPolicy.MaximumRetryCount}}' bt-up
	[[ $output == "67108864 134217728 500000000 512 50 on-failure 3" ]] || die "not applied: $output"
	run berth update bt-up
	[[ $status -eq 1 && $output == "you must provide one or more flags when using this command" ]] || die "no flags"
	run berth update --memory 1x bt-up
	[[ $status -eq 125 && ${lines[0]} == "invalid argument \"1x\" for \"-m, --memory\" flag: invalid suffix: 'x'" ]] ||
		die "bad size"
	run berth update --restart :3 bt-up
	[[ $status -eq 1 && $output == "invalid restart policy format: no policy provided before colon" ]] || die "bad policy"
}

@test "cp: files and directories both ways, contents and modes kept, docker's naming rules" {
	sleeper bt-cp
	local h=$BATS_TEST_TMPDIR
	mkdir -p "$h/src/sub"
	echo file-content >"$h/src/f"
	chmod 640 "$h/src/f"
	echo nested >"$h/src/sub/n"
	ln -s f "$h/src/link"
	run berth cp "$h/src/f" bt-cp:/tmp/
	[[ $status -eq 0 && -z $output ]] || die "cp file into a directory"
	run berth exec bt-cp stat -c '%a %s' /tmp/f
	[[ $output == "640 13" ]] || die "mode/size in the container: $output"
	run berth cp "$h/src/f" bt-cp:/tmp/renamed
	run berth exec bt-cp cat /tmp/renamed
	[[ $output == file-content ]] || die "cp file to a new name"
	# a directory to a new name, then into the existing one
	berth cp "$h/src" bt-cp:/tmp/d
	berth cp "$h/src" bt-cp:/tmp/d
	run berth exec bt-cp sh -c 'cat /tmp/d/sub/n /tmp/d/src/f; readlink /tmp/d/link'
	[[ $output == $'nested\nfile-content\nf' ]] || die "cp dir: $output"
	# and back
	run berth cp bt-cp:/tmp/d "$h/back"
	[[ $status -eq 0 ]] || die "cp from container"
	[[ $(cat "$h/back/f") == file-content && $(cat "$h/back/sub/n") == nested ]] || die "dir content"
	[[ $(readlink "$h/back/link") == f && $(stat -c %a "$h/back/f") == 640 ]] || die "link or mode"
	mkdir "$h/into"
	berth cp bt-cp:/tmp/d/. "$h/into"
	[[ -f $h/into/f && -f $h/into/src/f && ! -e $h/into/d ]] || die "dir/. copies the contents"
	berth cp bt-cp:/tmp/renamed "$h/single"
	[[ $(cat "$h/single") == file-content ]] || die "single file"
	berth cp bt-cp:/tmp/renamed "$h/into"
	[[ $(cat "$h/into/renamed") == file-content ]] || die "file into a directory"
	# tar streams on stdout and stdin
	run bash -c "'$BERTH_BIN' cp bt-cp:/tmp/renamed - | tar -tf -"
	[[ $output == renamed ]] || die "cp to stdout: $output"
	tar -C "$h/src" -cf - f | berth cp - bt-cp:/tmp/d/sub
	run berth exec bt-cp cat /tmp/d/sub/f
	[[ $output == file-content ]] || die "cp from stdin"
	# docker's errors
	run berth cp bt-cp:/nosuch "$h/x"
	[[ $status -eq 1 && $output == "Error response from daemon: "*"/nosuch"* ]] || die "missing source"
	run berth cp "$h/nosuch" bt-cp:/tmp
	[[ $status -eq 1 && $output == "lstat $h/nosuch: no such file or directory" ]] || die "missing local source"
	run berth cp bt-cp:/tmp/renamed "$h/nodir/x"
	[[ $status -eq 1 && $output == "invalid output path: directory \"$h/nodir\" does not exist" ]] || die "no parent"
	run berth cp "$h/src" bt-cp:/tmp/renamed
	[[ $status -eq 1 && $output == "cannot copy directory" ]] || die "dir over file"
	run berth cp a b
	[[ $status -eq 1 && $output == "must specify at least one container source" ]] || die "no container"
}

@test "export: the container's filesystem as a tar, to -o or a pipe, never to a terminal" {
	sleeper bt-exp
	berth exec bt-exp sh -c 'echo exported > /bt-marker'
	run berth export -o "$BATS_TEST_TMPDIR/fs.tar" bt-exp
	[[ $status -eq 0 && -z $output ]] || die "export -o"
	run tar -xOf "$BATS_TEST_TMPDIR/fs.tar" bt-marker
	[[ $output == exported ]] || die "marker not in the tar"
	run bash -c "'$BERTH_BIN' export bt-exp | tar -tf - | grep -c '^bin/busybox$'"
	[[ $output == 1 ]] || die "export to a pipe"
	run script -qec "'$BERTH_BIN' export bt-exp" /dev/null
	[[ $status -eq 1 && $output == *"cowardly refusing to save to a terminal. Use the -o flag or redirect"* ]] ||
		die "terminal"
}

@test "commit: a runnable image with the change and message; history shows it" {
	sleeper bt-cm
	berth exec bt-cm sh -c 'echo committed-data > /bt-data'
	run berth commit -a bt-author -m bt-message -c 'CMD ["cat", "/bt-data"]' bt-cm bt-committed:1
	[[ $status -eq 0 && $output =~ ^sha256:[0-9a-f]{64}$ ]] || die "commit"
	local id=$output
	run berth run --rm --network none bt-committed:1
	[[ $status -eq 0 && $output == committed-data ]] || die "committed image does not run: $output"
	run berth image inspect -f '{{.Author}} {{.Comment}} {{.Id}}' bt-committed:1
	[[ $output == "bt-author bt-message $id" ]] || die "inspect: $output"
	run berth history bt-committed:1
	[[ ${lines[0]} =~ ^IMAGE\ +CREATED\ +CREATED\ BY\ +SIZE\ +COMMENT$ ]] || die "history header"
	[[ ${lines[1]} =~ ^${id:7:12}\ .*\ bt-message$ ]] || die "history first row: ${lines[1]}"
	run berth history -q --no-trunc bt-committed:1
	[[ ${lines[0]} == "$id" ]] || die "history -q --no-trunc"
	run berth history --format json bt-committed:1
	[[ ${lines[0]} == *'"Comment":"bt-message"'* && ${lines[0]} == *'"ID":"'"${id:7:12}"'"'* ]] || die "json"
	run berth commit bt-nosuch
	[[ $status -eq 1 && $output == "Error response from daemon: No such container: bt-nosuch" ]] || die "error"
}

@test "save and load: a round trip through a file and through a pipe" {
	berth tag "$IMG" bt-saved:1
	run berth save -o "$BATS_TEST_TMPDIR/img.tar" bt-saved:1
	[[ $status -eq 0 && -z $output ]] || die "save"
	run tar -tf "$BATS_TEST_TMPDIR/img.tar"
	[[ $output == *manifest.json* ]] || die "not an image archive"
	berth rmi bt-saved:1 >/dev/null
	run berth load -i "$BATS_TEST_TMPDIR/img.tar"
	[[ $status -eq 0 && $output == "Loaded image: bt-saved:1" ]] || die "load: $output"
	run berth run --rm --network none bt-saved:1 echo loaded-ok
	[[ $output == loaded-ok ]] || die "loaded image does not run"
	berth rmi bt-saved:1 >/dev/null
	# both requests at once: a daemon must not hold its image store while
	# it waits for the upload (bounded, so a deadlock fails the test)
	run timeout 60 bash -c "'$BERTH_BIN' save '$IMG' | '$BERTH_BIN' load -q"
	[[ $status -eq 0 && $output == "Loaded image: $IMG" ]] || die "pipe: $output"
	run berth save bt-nosuch:1
	[[ $status -eq 1 && $output == "Error response from daemon: "* ]] || die "save error"
}

@test "push: progress lines like pull, then the image comes back by pull" {
	berth tag "$IMG" "$REG/bt-pushed:1"
	run berth push "$REG/bt-pushed:1"
	[[ $status -eq 0 ]] || die "push"
	[[ ${lines[0]} == "The push refers to repository [$REG/bt-pushed]" ]] || die "first line"
	[[ ${lines[-1]} =~ ^1:\ digest:\ sha256:[0-9a-f]{64}\ size:\ [0-9]+$ ]] || die "digest line"
	berth rmi "$REG/bt-pushed:1" >/dev/null
	run berth pull "$REG/bt-pushed:1"
	[[ $status -eq 0 && ${lines[-1]} == "$REG/bt-pushed:1" ]] || die "pull back"
	run berth run --rm --network none "$REG/bt-pushed:1" echo pushed-and-pulled
	[[ $output == pushed-and-pulled ]] || die "run the pulled image"
	run berth push "$REG/bt-pushed"
	[[ $status -eq 1 && ${lines[0]} == "Using default tag: latest" ]] || die "default tag"
}

@test "login and logout: credentials in \$DOCKER_CONFIG, sent on push and pull" {
	local out areg
	out=$(sh "$REGISTRY_SCRIPT" start bt-user:bt-pass) || die "no registry with auth"
	read -r areg pid dir <<<"$out"
	echo "$pid $dir" >"$CLI_TMP/auth-registry"
	areg=${areg#http://}
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/dockercfg
	berth tag "$IMG" "$areg/bt-auth:1"
	run berth push "$areg/bt-auth:1"
	[[ $status -eq 1 && $output != *"digest: sha256:"* ]] || die "push without login"
	run bash -c "echo wrong | '$BERTH_BIN' login -u bt-user --password-stdin '$areg'"
	[[ $status -eq 1 && $output == *"Error response from daemon: "*"401"* ]] || die "bad password"
	[[ ! -e $DOCKER_CONFIG/config.json ]] || die "bad password stored"
	run bash -c "echo bt-pass | '$BERTH_BIN' login -u bt-user --password-stdin '$areg' 2>/dev/null"
	[[ $status -eq 0 && $output == "Login Succeeded" ]] || die "login: $output"
	run python3 -c 'import json,sys,base64; print(base64.b64decode(json.load(open(sys.argv[1]))["auths"][sys.argv[2]]["auth"]).decode())' \
		"$DOCKER_CONFIG/config.json" "$areg"
	[[ $output == bt-user:bt-pass ]] || die "stored: $output"
	[[ $(stat -c %a "$DOCKER_CONFIG/config.json") == 600 ]] || die "config.json mode"
	run berth push "$areg/bt-auth:1"
	[[ $status -eq 0 && ${lines[-1]} == "1: digest: sha256:"* ]] || die "push with login"
	berth rmi "$areg/bt-auth:1" >/dev/null
	run berth pull "$areg/bt-auth:1"
	[[ $status -eq 0 && ${lines[-1]} == "$areg/bt-auth:1" ]] || die "pull with login"
	run berth logout "$areg"
	[[ $status -eq 0 && $output == "Removing login credentials for $areg" ]] || die "logout"
	run python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["auths"]))' "$DOCKER_CONFIG/config.json"
	[[ $output == 0 ]] || die "credentials left"
	berth rmi "$areg/bt-auth:1" >/dev/null
	run berth pull "$areg/bt-auth:1"
	[[ $status -eq 1 && $output != *"Digest: sha256:"* ]] || die "pull after logout"
	run berth login -u a --password-stdin -p b "$areg"
	[[ $status -eq 1 && ${lines[-1]} == "--password and --password-stdin are mutually exclusive" ]] || die "flags"
}

@test "volume: create, ls, inspect, data survives the container, rm, prune" {
	run berth volume create bt-vol
	[[ $status -eq 0 && $output == bt-vol ]] || die "create"
	berth volume create --label bt=yes bt-vol2 >/dev/null
	run berth volume ls
	[[ ${lines[0]} =~ ^DRIVER\ +VOLUME\ NAME$ && $output =~ local\ +bt-vol$'\n' ]] || die "ls"
	run berth volume ls -q --filter name=bt-vol
	[[ ${lines[*]} == "bt-vol bt-vol2" ]] || die "ls -q sorted: ${lines[*]}"
	run berth volume ls --filter label=bt=yes --format json
	[[ ${#lines[@]} -eq 1 && $output == *'"Name":"bt-vol2"'* && $output == *'"Labels":"bt=yes"'* ]] || die "json"
	run berth volume inspect -f '{{.Name}} {{.Driver}}' bt-vol
	[[ $output == "bt-vol local" ]] || die "inspect"
	run berth volume inspect bt-vol
	[[ ${lines[0]} == "[" && $output == *'"Name": "bt-vol"'* ]] || die "inspect json"
	berth run --name bt-vw --network none -v bt-vol:/data "$IMG" sh -c 'echo persisted > /data/f'
	berth rm bt-vw >/dev/null
	run berth run --rm --network none -v bt-vol:/data "$IMG" cat /data/f
	[[ $output == persisted ]] || die "data lost with the container"
	berth run -d --name bt-vu --network none -v bt-vol:/data "$IMG" sleep 1000 >/dev/null
	run berth volume rm bt-vol
	[[ $status -eq 1 && $output == "Error response from daemon: "*"in use"* ]] || die "rm of a volume in use"
	berth rm -f bt-vu >/dev/null
	run berth volume rm bt-vol bt-nosuch-vol
	[[ $status -eq 1 && ${lines[0]} == bt-vol && $output == *"bt-nosuch-vol"* ]] || die "rm"
	run berth volume inspect bt-vol
	[[ $status -eq 1 ]] || die "still there"
	run berth volume prune -f --filter label=bt=yes
	[[ $status -eq 0 && ${lines[-1]} == "Total reclaimed space: "* ]] || die "prune"
}

@test "container prune, image prune, system prune: what goes and what stays" {
	berth run --name bt-pr-done --network none "$IMG" true
	sleeper bt-pr-up
	run bash -c "echo n | '$BERTH_BIN' container prune"
	[[ $status -eq 0 && $output == "WARNING! This will remove all stopped containers."*"[y/N] " ]] || die "prompt"
	berth inspect bt-pr-done >/dev/null || die "removed without a yes"
	run berth container prune -f
	[[ $status -eq 0 && ${lines[0]} == "Deleted Containers:" && ${lines[-1]} == "Total reclaimed space: "* ]] ||
		die "container prune"
	run berth inspect bt-pr-done
	[[ $status -eq 1 ]] || die "stopped container left"
	run berth inspect -f '{{.State.Running}}' bt-pr-up
	[[ $output == true ]] || die "running container pruned"
	run berth image prune -f
	[[ $status -eq 0 && ${lines[-1]} == "Total reclaimed space: "* ]] || die "image prune"
	berth run --name bt-pr-done2 --network none "$IMG" true
	run berth system prune -f
	[[ $status -eq 0 && $output == *"Deleted Containers:"* && ${lines[-1]} == "Total reclaimed space: "* ]] ||
		die "system prune: $output"
	berth inspect "$IMG" >/dev/null || die "system prune removed a used image"
}

@test "system df: docker's summary, -v sections, --format json" {
	sleeper bt-df
	run berth system df
	[[ $status -eq 0 && ${lines[0]} =~ ^TYPE\ +TOTAL\ +ACTIVE\ +SIZE\ +RECLAIMABLE$ ]] || die "header"
	[[ ${lines[1]} =~ ^Images\ +[0-9]+\ +[1-9][0-9]*\ + ]] || die "images row: ${lines[1]}"
	[[ ${lines[2]} =~ ^Containers\ +[1-9][0-9]*\ +[1-9] ]] || die "containers row: ${lines[2]}"
	[[ ${lines[3]} == "Local Volumes "* && ${lines[4]} == "Build Cache "* ]] || die "rows"
	run berth system df --format json
	[[ ${#lines[@]} -eq 4 && ${lines[0]} == '{"Active":'*'"Type":"Images"}' ]] || die "json"
	run berth system df -v
	[[ $output == "Images space usage:"* && $output == *"Containers space usage:"* ]] || die "-v"
	[[ $output == *"Local Volumes space usage:"* && $output == *"Build cache usage: "* ]] || die "-v sections"
	[[ $output =~ [0-9a-f]{12}\ +$IMG\ +\"sleep\ 1000\" ]] || die "-v container row"
}

@test "events: --since/--until show a container's start and die; --filter and --format" {
	local t0 t1
	t0=$(date +%s)
	berth run --rm --name bt-ev --network none "$IMG" true
	sleep 1
	t1=$(date +%s)
	run berth events --since "$t0" --until "$t1" --filter container=bt-ev
	[[ $status -eq 0 ]] || die "events"
	[[ $output =~ container\ start\ [0-9a-f]{64}\ \(.*name=bt-ev ]] || die "no start"
	[[ $output =~ container\ die\ [0-9a-f]{64}\ \(.*exitCode=0.*name=bt-ev ]] || die "no die"
	[[ ${lines[0]} =~ ^20[0-9-]+T[0-9:]+\.[0-9]{9}(Z|[+-][0-9:]+)\ container\  ]] || die "time format"
	run berth events --since "$t0" --until "$t1" --filter container=bt-ev --filter event=die \
		--format '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}'
	[[ $output == "container die bt-ev" ]] || die "--format: $output"
	run berth events --since "$t0" --until "$t1" --filter container=bt-ev --filter event=start --format json
	[[ ${#lines[@]} -eq 1 && $output == *'"Action":"start"'* && $output == *'"Type":"container"'* ]] || die "json"
	run berth events --since bogus
	[[ $status -eq 1 && $output == 'failed to parse value as time or duration: "bogus"' ]] || die "bad since"
}

@test "--format json and -q: ps, images, volume ls, history" {
	sleeper bt-fmt
	run berth ps --filter name=bt-fmt --format json
	[[ $output == '{"Command":'*'"Names":"bt-fmt"'* ]] || die "ps"
	run berth ps -q --filter name=bt-fmt
	[[ $output =~ ^[0-9a-f]{12}$ ]] || die "ps -q"
	run berth images --format json "$REG/bb"
	[[ $output == *'"Repository":"'"$REG"'/bb"'* && $output == *'"Tag":"1"'* ]] || die "images"
	run berth history -q "$IMG"
	[[ ${lines[0]} =~ ^[0-9a-f]{12}$ || ${lines[0]} == "<missing>" ]] || die "history -q"
}

@test "management spellings and usage errors" {
	run berth container exec bt-nosuch true
	[[ $status -eq 1 && $output == *"No such container"* ]] || die "container exec"
	run berth volume
	[[ $status -eq 0 && $output == *"Manage volumes"* && $output == *"  prune "* ]] || die "volume help"
	run berth volume create a b
	[[ $status -eq 1 && ${lines[0]} == "berth: 'berth volume create' requires at most 1 argument" ]] || die "usage"
	[[ ${lines[-1]} == "See 'berth volume create --help' for more information" ]] || die "hint"
	run berth system df --bogus
	[[ $status -eq 125 && ${lines[0]} == "unknown flag: --bogus" ]] || die "flag"
	[[ ${lines[-1]} == "Run 'berth system df --help' for more information" ]] || die "flag hint"
}
