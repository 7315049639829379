#!/bin/bash
# The Kubernetes path: berth-runtime as a containerd runtime handler, driven
# through containerd's CRI socket as a kubelet drives it.
#
# A private containerd 1.6 (Debian's, CRI plugin on; config, root, state,
# sockets and CNI dirs all in a temp dir) gets the runtime handler "berth":
#   runtime_type = "io.containerd.runc.v2", options.BinaryName = berth-runtime,
#   options.Root = $T/ctd/berth-root (berth-runtime's --root: .../k8s.io).
# cri.py, a small CRI client (python3-grpcio and a runtime.v1 subset,
# cri.proto, compiled by protoc at test time), then does what a kubelet does
# for a one-container pod: RunPodSandbox(runtime_handler "berth", host
# network) -> CreateContainer -> StartContainer -> ContainerStatus, the CRI
# log file, ExecSync, UpdateContainerResources -> StopContainer ->
# RemoveContainer -> StopPodSandbox -> RemovePodSandbox.  The images (the
# app: busybox; the pod sandbox "pause" image: busybox with a sleep) are
# built here from busybox-static and imported into the k8s.io namespace:
# no network, no registry, no CNI.
#
#   tests/cri/run.sh                           # build/berth-runtime
#   RUNTIME=/usr/sbin/runc tests/cri/run.sh    # validate the test on runc
#   CRI_KEEP=1 tests/cri/run.sh                # keep the temp dir
#
# TAP on stdout (plan at the end), diagnostics on stderr.  Exits 0 when it
# ran (failures are "not ok" lines), 1 only when it cannot run (not root).
# Missing packages are installed with apt-get unless CRI_NO_INSTALL=1.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
RUNTIME=${RUNTIME:-$src/build/berth-runtime}
RUNTIME=$(readlink -f "$RUNTIME" 2>/dev/null || echo "$RUNTIME")
RT_NAME=$(basename "$RUNTIME")
PYTHON=${PYTHON:-/usr/bin/python3}
CMD_TIMEOUT=${CRI_CMD_TIMEOUT:-30}
APP_IMAGE=localhost/berth-busybox:test
PAUSE_IMAGE=localhost/berth-pause:test
HANDLER=berth
export LC_ALL=C

if [[ $(id -u) -ne 0 ]]; then
	echo "run.sh: the CRI test needs root" >&2
	exit 1
fi

started=$SECONDS
T=$(mktemp -d "${CRI_TMP:-/tmp}/berth-cri.XXXXXX")
chmod 755 "$T"
C=$T/ctd
S=$C/containerd.sock
CTR=(ctr -a "$S" -n k8s.io)
BROOT=$C/berth-root/k8s.io # berth-runtime's --root: options.Root + /<namespace>
CGPARENT=berth-cri-$$      # the pod's cgroup_parent, below every hierarchy root
TASK_IDS=()                # sandbox and container ids this run created
mkdir -p "$C/cni-bin" "$C/cni-conf" "$C/opt" "$T/py" "$T/pods"

# ---- TAP -------------------------------------------------------------------
n=0 n_fail=0 n_skip=0
diag() {
	local line l
	for line in "$@"; do
		while IFS= read -r l; do printf '#   %s\n' "$l" >&2; done <<<"$line"
	done
}
tap_ok() { n=$((n + 1)); echo "ok $n - $1"; }
tap_skip() { n=$((n + 1)); n_skip=$((n_skip + 1)); echo "ok $n - $1 # SKIP $2"; }
tap_not_ok() {
	n=$((n + 1)); n_fail=$((n_fail + 1))
	echo "not ok $n - $1"
	echo "# not ok $n - $1" >&2
	shift
	diag "$@"
}

# t NAME FUNC [ARGS]: one test.  FUNC returns non-zero and sets $why on
# failure; the last command (run/cri) is shown with its output.  While
# $skip_reason is set (a prerequisite failed) tests are skipped.
skip_reason=
t() {
	local name=$1
	shift
	if [[ -n $skip_reason ]]; then
		tap_skip "$name" "$skip_reason"
		return 1
	fi
	why='' LAST_CMD='' OUT='' ERR='' RC=''
	if "$@"; then
		tap_ok "$name"
		return 0
	fi
	tap_not_ok "$name" "${why:-failed}" "command: ${LAST_CMD:-none}" "exit status: ${RC:-}" \
		"stdout: ${OUT:-}" "stderr: ${ERR:-}"
	ctd_diag
	return 1
}
# t_needed NAME FUNC...: a test the following ones depend on.
t_needed() {
	t "$@" || skip_reason=${skip_reason:-"an earlier step failed"}
}

# ---- running commands ------------------------------------------------------
# run CMD...: with stdin /dev/null and a timeout; sets OUT, ERR, RC and
# LAST_CMD.  Every command goes to $T/commands.log.
run() {
	LAST_CMD=$(printf '%q ' "$@")
	timeout -k 5 "$CMD_TIMEOUT" "$@" </dev/null >"$T/.out" 2>"$T/.err"
	RC=$?
	OUT=$(<"$T/.out")
	ERR=$(<"$T/.err")
	{
		echo "\$ $LAST_CMD"
		[[ -n $OUT ]] && echo "$OUT"
		[[ -n $ERR ]] && echo "[stderr] $ERR"
		echo "[exit $RC]"
	} >>"$T/commands.log"
}
# cri METHOD [JSON]: one CRI call; the response JSON in OUT.
cri() {
	run env CRI_PY_DIR="$T/py" "$PYTHON" "$here/cri.py" "$S" "$@" --timeout "$CMD_TIMEOUT"
}
want_rc() {
	[[ $RC == "$1" ]] && return 0
	why="exit status $RC, expected $1"
	return 1
}
# jq_out FILTER: FILTER applied to OUT (raw output).
jq_out() { jq -r "$1" <<<"$OUT"; }
# want_jq FILTER VALUE: OUT | FILTER is VALUE.
want_jq() {
	local got
	got=$(jq_out "$1" 2>&1)
	[[ $got == "$2" ]] && return 0
	why="$1 is '$got', expected '$2'"
	return 1
}
# poll SECONDS CMD...: retry CMD every 0.1 s until it succeeds or SECONDS pass.
poll() {
	local end=$((SECONDS + $1))
	shift
	while :; do
		"$@" && return 0
		((SECONDS >= end)) && return 1
		sleep 0.1
	done
}

# ---- what the run leaves behind --------------------------------------------
declare -A ancestors=()
p=$$
while [[ -n $p && $p -gt 1 ]]; do
	ancestors[$p]=1
	p=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null)
done
# procs_matching PATTERN [EXCEPT_PID]: "pid cmdline" of processes whose
# command line or cgroup path contains PATTERN (not our ancestors).
procs_matching() {
	local pat=$1 except=${2:-} d pid cmd
	for d in /proc/[0-9]*; do
		pid=${d#/proc/}
		[[ -n ${ancestors[$pid]:-} || $pid == "$except" || $pid == "$BASHPID" ]] && continue
		{ cmd=$(tr '\0' ' ' <"$d/cmdline"); } 2>/dev/null || continue
		if [[ $cmd == *"$pat"* ]] || grep -qF -- "$pat" "$d/cgroup" 2>/dev/null; then
			echo "$pid $cmd"
		fi
	done
}
mounts_under() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 {print $5}' /proc/self/mountinfo | sort -r
}
# shim_socket ID: the runc v2 shim's socket for task ID of our containerd:
# /run/containerd/s/ + sha256(containerd address/namespace/id).  A shim
# that exits removes it; one killed by the cleanup does not.
shim_socket() {
	echo "/run/containerd/s/$(printf '%s' "$S/k8s.io/$1" | sha256sum | cut -d' ' -f1)"
}
kill_pids() {
	local pid
	for pid in "$@"; do kill -KILL "$pid" 2>/dev/null; done
}
# cgroup dirs of the pod (the sandbox's and the container's, and the
# cgroup_parent itself), below every hierarchy root.
pod_cgroups() {
	local d
	for d in /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/"$CGPARENT"; do
		[[ -d $d ]] && find "$d" -type d
	done
}
# cg_purge: SIGKILL what is left in the pod's cgroups, remove them
# depth-first.  Only the cgroup_parent this run named.
cg_purge() {
	local f pid
	while IFS= read -r f; do
		case $f in
		*/freezer.state) echo THAWED >"$f" ;;
		*/cgroup.procs) while read -r pid; do kill -KILL "$pid"; done <"$f" ;;
		esac
	done < <(find /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/"$CGPARENT" \
		\( -name freezer.state -o -name cgroup.procs \) 2>/dev/null) 2>/dev/null
	_cg_rmdir_all() {
		local d
		for d in /sys/fs/cgroup/*/"$CGPARENT" /sys/fs/cgroup/"$CGPARENT"; do
			[[ -d $d ]] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
		done
		[[ -z $(pod_cgroups) ]]
	}
	poll 3 _cg_rmdir_all || echo "# could not remove cgroups: $(pod_cgroups | tr '\n' ' ')" >&2
}

# ---- packages --------------------------------------------------------------
# protobuf-compiler: protoc from the same protobuf release as
# python3-protobuf, so the generated cri_pb2 matches the library.
pkgs=(containerd busybox-static jq python3-grpcio python3-protobuf protobuf-compiler)
missing=()
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }
for pkg in "${pkgs[@]}"; do
	pkg_installed "$pkg" || missing+=("$pkg")
done
if ((${#missing[@]})) && [[ ${CRI_NO_INSTALL:-0} != 1 ]]; then
	echo "# installing ${missing[*]}" >&2
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"; } >&2 ||
		echo "# apt-get install ${missing[*]} failed" >&2
	missing2=()
	for pkg in "${missing[@]}"; do
		pkg_installed "$pkg" || missing2+=("$pkg")
	done
	missing=("${missing2[@]}")
fi

# ---- containerd --------------------------------------------------------------
ctd_pid=
ctd_diag() {
	[[ -f $C/containerd.log ]] && diag "containerd log (errors, last 10):" \
		"$(grep -E 'level=(error|warning)' "$C/containerd.log" |
			grep -v 'snapshotter\|tracing\|cni\|CNI' | tail -n 10)"
}
ctd_stop() {
	[[ -n $ctd_pid ]] || return 0
	kill -TERM "$ctd_pid" 2>/dev/null
	poll 10 ctd_gone || kill -KILL "$ctd_pid" 2>/dev/null
	wait "$ctd_pid" 2>/dev/null
	ctd_pid=
}
ctd_gone() { ! kill -0 "$ctd_pid" 2>/dev/null; }

# Cleanup, also after failures: pods through the CRI (which stops their
# containers), then containerd, then whatever is left by PID, mount and
# cgroup, all of them this run's.
cleanup() {
	local id m
	if [[ -n $ctd_pid ]]; then
		for id in $(timeout 10 env CRI_PY_DIR="$T/py" "$PYTHON" "$here/cri.py" "$S" ListPodSandbox 2>/dev/null |
			jq -r '.items[].id' 2>/dev/null); do
			timeout 15 env CRI_PY_DIR="$T/py" "$PYTHON" "$here/cri.py" "$S" StopPodSandbox \
				"{\"pod_sandbox_id\":\"$id\"}" >/dev/null 2>&1
			timeout 15 env CRI_PY_DIR="$T/py" "$PYTHON" "$here/cri.py" "$S" RemovePodSandbox \
				"{\"pod_sandbox_id\":\"$id\"}" >/dev/null 2>&1
		done
	fi
	ctd_stop
	# shellcheck disable=SC2046 # one PID a word
	kill_pids $(procs_matching "$C/" | awk '{print $1}')
	cg_purge
	for id in "${TASK_IDS[@]}"; do
		rm -f "$(shim_socket "$id")"
	done
	for m in $(mounts_under "$T"); do
		umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null
	done
	if [[ ${CRI_KEEP:-0} == 1 ]]; then
		echo "# kept $T" >&2
	else
		rm -rf "$T" 2>/dev/null || echo "# could not remove $T" >&2
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -n1)); temp dir $T" >&2

# ---- prerequisites -----------------------------------------------------------
prereqs() {
	if ((${#missing[@]})); then
		why="packages missing: ${missing[*]}"
		return 1
	fi
	if [[ ! -x $RUNTIME ]]; then
		why="$RUNTIME is not an executable (ninja -C build)"
		return 1
	fi
	run protoc -I "$here" --python_out="$T/py" "$here/cri.proto"
	want_rc 0 || return 1
	run "$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); import grpc, cri_pb2' "$T/py"
	want_rc 0
}
t_needed "prerequisites: packages, $(basename "$RUNTIME") executable, CRI stubs generated by protoc" prereqs

images() {
	run "$src/tests/interop/mkimage.sh" "$T/app.tar" "$APP_IMAGE"
	want_rc 0 || return 1
	run "$here/mkpause.sh" "$T/app.tar" "$T/pause.tar" "$PAUSE_IMAGE"
	want_rc 0
}
t_needed "images: busybox app image and pause image built from busybox-static (OCI archives)" images

ctd_config() {
	cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "$C/state"
disabled_plugins = [
  "io.containerd.snapshotter.v1.aufs",
  "io.containerd.snapshotter.v1.btrfs",
  "io.containerd.snapshotter.v1.devmapper",
  "io.containerd.snapshotter.v1.zfs",
  "io.containerd.tracing.processor.v1.otlp",
  "io.containerd.internal.v1.tracing",
]
[grpc]
  address = "$S"
[ttrpc]
  address = "$S.ttrpc"
[debug]
  level = "info"
[plugins."io.containerd.internal.v1.opt"]
  path = "$C/opt"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # Without CAP_SYS_RESOURCE (CI's VM) the sandbox's oomScoreAdj -998
  # cannot be written: clamp it to containerd's own score.
  restrict_oom_score_adj = true
  disable_apparmor = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$C/cni-bin"
    conf_dir = "$C/cni-conf"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    # The default handler ("" = runc) must be declared once runtimes are.
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$HANDLER]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.$HANDLER.options]
        BinaryName = "$RUNTIME"
        Root = "$C/berth-root"
        SystemdCgroup = false
EOF
}
ctd_cri_failed() { grep -qs 'failed to load plugin io.containerd.grpc.v1.cri' "$C/containerd.log"; }
ctd_ready() {
	kill -0 "$ctd_pid" 2>/dev/null || return 1
	ctd_cri_failed && return 0
	[[ -S $S ]] && timeout 5 env CRI_PY_DIR="$T/py" "$PYTHON" "$here/cri.py" "$S" Version >/dev/null 2>&1
}
ctd_start() {
	ctd_config
	containerd --config "$C/config.toml" </dev/null >"$C/containerd.log" 2>&1 &
	ctd_pid=$!
	LAST_CMD="containerd --config $C/config.toml"
	if ! poll 20 ctd_ready; then
		why="no CRI answer on $S within 20 s"
		ERR=$(tail -n 20 "$C/containerd.log")
		return 1
	fi
	if ctd_cri_failed; then
		why="containerd did not load its CRI plugin"
		ERR=$(grep 'grpc.v1.cri' "$C/containerd.log" | tail -n 5)
		return 1
	fi
	cri Version '{"version":"v1"}'
	want_rc 0 && want_jq .runtime_name containerd && want_jq .runtime_api_version v1
}
t_needed "containerd $(containerd --version 2>/dev/null | awk '{print $3}') with CRI starts privately; CRI Version answers (runtime_api_version v1)" ctd_start

image_known() { cri ImageStatus "{\"image\":{\"image\":\"$1\"}}" && [[ $(jq_out '.image.id') == sha256:* ]]; }
ctd_import() {
	local tar
	for tar in "$T/pause.tar" "$T/app.tar"; do
		run "${CTR[@]}" images import "$tar"
		want_rc 0 || return 1
	done
	# The CRI plugin learns of images imported by ctr through events.
	poll 10 image_known "$PAUSE_IMAGE" || { why="CRI ImageStatus does not know $PAUSE_IMAGE"; return 1; }
	poll 10 image_known "$APP_IMAGE" || { why="CRI ImageStatus does not know $APP_IMAGE"; return 1; }
}
t_needed "images imported into namespace k8s.io (ctr) and seen by CRI ImageStatus" ctd_import

# ---- the pod ---------------------------------------------------------------
POD_UID=$(cat /proc/sys/kernel/random/uuid)
LOGDIR=$T/pods/default_berth-cri-pod_$POD_UID
POD_CONFIG=$(jq -nc --arg uid "$POD_UID" --arg logdir "$LOGDIR" --arg cg "/$CGPARENT" '{
	metadata: {name: "berth-cri-pod", uid: $uid, namespace: "default", attempt: 0},
	log_directory: $logdir,
	labels: {app: "berth-cri"},
	linux: {cgroup_parent: $cg,
		security_context: {namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"}}}}')
SBX='' CTR_ID='' sbx_pid='' ctr_pid=''

# ran_by_berth ID PID INFO_JSON: evidence that berth-runtime (not runc) runs
# task ID whose init is PID: containerd's runtime options for it name
# berth-runtime; the shim's bundle options.json does; berth-runtime's state
# (its own format: "pid", "cgroup_path"; runc's has "init_process_pid")
# holds PID under options.Root; `berth-runtime state` reports it running;
# stock runc's default root has nothing for ID.
# The init PID in the runtime's state.json; berth-runtime's own format is
# required when it is the runtime under test.
if [[ $RT_NAME == berth-runtime ]]; then
	STATE_PID='if has("cgroup_path") and has("pid") and (has("init_process_pid") | not) then .pid
		else "not berth-runtime state" end'
else
	STATE_PID='.init_process_pid // .pid'
fi
ran_by_berth() {
	local id=$1 pid=$2 info=$3 f
	[[ $(jq -r '.runtimeType' <<<"$info") == io.containerd.runc.v2 ]] ||
		{ why="runtimeType is $(jq -r '.runtimeType' <<<"$info")"; return 1; }
	[[ $(jq -r '.runtimeOptions.binary_name' <<<"$info") == "$RUNTIME" ]] ||
		{ why="CRI runtimeOptions: $(jq -c '.runtimeOptions' <<<"$info"), expected binary_name $RUNTIME"; return 1; }
	f=$C/state/io.containerd.runtime.v2.task/k8s.io/$id/options.json
	[[ $(jq -r '.binary_name' "$f" 2>&1) == "$RUNTIME" ]] ||
		{ why="$f: $(cat "$f" 2>&1)"; return 1; }
	f=$BROOT/$id/state.json
	[[ $(jq -r "$STATE_PID" "$f" 2>&1) == "$pid" ]] ||
		{ why="$f: $(head -c 300 "$f" 2>&1), expected pid $pid"; return 1; }
	run "$RUNTIME" --root "$BROOT" state "$id"
	want_rc 0 && want_jq .status running && want_jq .pid "$pid" || return 1
	[[ ! -e /run/containerd/runc/k8s.io/$id ]] || { why="runc state exists: /run/containerd/runc/k8s.io/$id"; return 1; }
}

run_pod() {
	cri RunPodSandbox "$(jq -nc --argjson c "$POD_CONFIG" --arg h "$HANDLER" '{config: $c, runtime_handler: $h}')"
	want_rc 0 || return 1
	SBX=$(jq_out .pod_sandbox_id)
	[[ -n $SBX ]] || { why="no pod_sandbox_id"; return 1; }
	TASK_IDS+=("$SBX")
	cri PodSandboxStatus "{\"pod_sandbox_id\":\"$SBX\",\"verbose\":true}"
	want_rc 0 && want_jq .status.state SANDBOX_READY && want_jq .status.runtime_handler "$HANDLER" || return 1
	sbx_pid=$(jq_out '.info.info | fromjson | .pid')
	[[ $sbx_pid -gt 0 ]] && kill -0 "$sbx_pid" || { why="sandbox pid '$sbx_pid' not alive"; return 1; }
}
t_needed "RunPodSandbox(runtime_handler \"$HANDLER\", host network): SANDBOX_READY, handler $HANDLER" run_pod

sbx_by_berth() {
	cri PodSandboxStatus "{\"pod_sandbox_id\":\"$SBX\",\"verbose\":true}"
	want_rc 0 || return 1
	ran_by_berth "$SBX" "$sbx_pid" "$(jq_out '.info.info')"
}
t "pod sandbox (pause) is run by $RT_NAME: CRI runtimeOptions, shim options.json, $RT_NAME state under Root" sbx_by_berth

create_ctr() {
	local cfg
	cfg=$(jq -nc --arg img "$APP_IMAGE" '{
		metadata: {name: "app", attempt: 0},
		image: {image: $img},
		command: ["sh", "-c"],
		args: ["echo hello-from-berth-cri; echo to-stderr >&2; trap \"exit 7\" TERM; while :; do sleep 1 & wait $!; done"],
		envs: [{key: "GREETING", value: "from-cri"}],
		log_path: "app/0.log",
		linux: {
			resources: {cpu_shares: 512, cpu_quota: 50000, cpu_period: 100000, memory_limit_in_bytes: 67108864},
			security_context: {namespace_options: {network: "NODE", pid: "CONTAINER", ipc: "POD"}}}}')
	cri CreateContainer "$(jq -nc --arg s "$SBX" --argjson c "$cfg" --argjson p "$POD_CONFIG" \
		'{pod_sandbox_id: $s, config: $c, sandbox_config: $p}')"
	want_rc 0 || return 1
	CTR_ID=$(jq_out .container_id)
	[[ -n $CTR_ID ]] || { why="no container_id"; return 1; }
	TASK_IDS+=("$CTR_ID")
	cri ContainerStatus "{\"container_id\":\"$CTR_ID\"}"
	want_rc 0 && want_jq .status.state CONTAINER_CREATED
}
t_needed "CreateContainer in the pod (cpu_shares 512, quota 50000/100000, memory 64Mi): CONTAINER_CREATED" create_ctr

ctr_state_is() {
	cri ContainerStatus "{\"container_id\":\"$CTR_ID\",\"verbose\":true}" && [[ $(jq_out .status.state) == "$1" ]]
}
start_ctr() {
	cri StartContainer "{\"container_id\":\"$CTR_ID\"}"
	want_rc 0 || return 1
	poll 10 ctr_state_is CONTAINER_RUNNING || { why="state $(jq_out .status.state), not CONTAINER_RUNNING"; return 1; }
	ctr_pid=$(jq_out '.info.info | fromjson | .pid')
	[[ $ctr_pid -gt 0 ]] && kill -0 "$ctr_pid" || { why="container pid '$ctr_pid' not alive"; return 1; }
}
t_needed "StartContainer: ContainerStatus CONTAINER_RUNNING, its process alive" start_ctr

ctr_by_berth() {
	cri ContainerStatus "{\"container_id\":\"$CTR_ID\",\"verbose\":true}"
	want_rc 0 || return 1
	ran_by_berth "$CTR_ID" "$ctr_pid" "$(jq_out '.info.info')"
}
t "container is run by $RT_NAME: CRI runtimeOptions, shim options.json, $RT_NAME state under Root" ctr_by_berth

LOG_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?(Z|[+-][0-9]{2}:[0-9]{2}) '
log_has() { grep -qE "$LOG_RE$1\$" "$LOGDIR/app/0.log" 2>/dev/null; }
ctr_log() {
	cri ContainerStatus "{\"container_id\":\"$CTR_ID\"}"
	want_jq .status.log_path "$LOGDIR/app/0.log" || return 1
	poll 5 log_has 'stdout F hello-from-berth-cri' ||
		{ why="no 'TIMESTAMP stdout F hello-from-berth-cri' in $LOGDIR/app/0.log: $(head -c 500 "$LOGDIR/app/0.log" 2>&1)"; return 1; }
	poll 5 log_has 'stderr F to-stderr' ||
		{ why="no 'TIMESTAMP stderr F to-stderr' in the log: $(head -c 500 "$LOGDIR/app/0.log" 2>&1)"; return 1; }
}
t "the container's stdout and stderr are in the CRI log file (TIMESTAMP stdout|stderr F line)" ctr_log

same_ns() { [[ $(readlink "/proc/$1/ns/$3") == "$(readlink "/proc/$2/ns/$3")" ]]; }
ctr_in_pod() {
	same_ns "$ctr_pid" "$sbx_pid" ipc || { why="container's ipc namespace is not the sandbox's"; return 1; }
	! same_ns "$ctr_pid" $$ ipc || { why="container's ipc namespace is the host's"; return 1; }
	same_ns "$ctr_pid" $$ net || { why="host-network pod: container's net namespace is not the host's"; return 1; }
	! same_ns "$ctr_pid" "$sbx_pid" pid || { why="pid CONTAINER: container shares the sandbox's pid namespace"; return 1; }
	! same_ns "$ctr_pid" "$sbx_pid" mnt || { why="container shares the sandbox's mount namespace"; return 1; }
}
t "container joined the sandbox's IPC namespace (host network; own pid and mount namespaces)" ctr_in_pod

# cg_file PID CONTROLLER FILE: FILE of PID's cgroup in the v1 hierarchy of CONTROLLER.
cg_file() {
	local rel
	rel=$(awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup")
	echo "/sys/fs/cgroup/$2$rel/$3"
}
want_cg() { # want_cg PID CONTROLLER FILE VALUE
	local f v
	f=$(cg_file "$1" "$2" "$3")
	v=$(cat "$f" 2>&1)
	[[ $v == "$4" ]] && return 0
	why="$f reads '$v', expected $4"
	return 1
}
cgroup_v1() { [[ -d /sys/fs/cgroup/cpu && $(stat -fc %T /sys/fs/cgroup/cpu) == cgroupfs ]]; }
r1_shares() {
	local f
	f=$(cg_file "$ctr_pid" cpu cpu.shares)
	[[ $f == */$CGPARENT/$CTR_ID/cpu.shares ]] || { why="cgroup $f is not $CGPARENT/$CTR_ID (cgroup_parent/id)"; return 1; }
	want_cg "$ctr_pid" cpu cpu.shares 512 &&
		want_cg "$ctr_pid" cpu cpu.cfs_quota_us 50000 &&
		want_cg "$ctr_pid" cpu cpu.cfs_period_us 100000 &&
		want_cg "$ctr_pid" memory memory.limit_in_bytes 67108864
}
if cgroup_v1; then
	t "R1: CRI cpu_shares 512 -> container cgroup cpu.shares 512 (and cfs quota 50000/100000, memory.limit_in_bytes 64Mi)" r1_shares
else
	tap_skip "R1: CRI cpu_shares 512 -> container cgroup cpu.shares 512" "no cgroup v1 cpu hierarchy"
fi

exec_sync() {
	cri ExecSync "$(jq -nc --arg id "$CTR_ID" '{container_id: $id, timeout: 10,
		cmd: ["sh", "-c", "echo exec-out $GREETING; tr \"\\0\" \" \" </proc/1/cmdline; echo; echo exec-err >&2; exit 3"]}')"
	want_rc 0 && want_jq .exit_code 3 || return 1
	local out err
	out=$(jq_out '.stdout | @base64d')
	err=$(jq_out '.stderr | @base64d')
	grep -qx 'exec-out from-cri' <<<"$out" || { why="stdout: $out"; return 1; }
	grep -q '^sh -c echo hello-from-berth-cri' <<<"$out" || { why="PID 1 in the exec's view is not the app: $out"; return 1; }
	[[ $err == exec-err ]] || { why="stderr: $err"; return 1; }
}
t "ExecSync: runs in the container (its env, PID 1 is the app), stdout, stderr, exit code 3" exec_sync

update_res() {
	cri UpdateContainerResources "$(jq -nc --arg id "$CTR_ID" '{container_id: $id,
		linux: {cpu_shares: 256, cpu_quota: 20000, cpu_period: 100000, memory_limit_in_bytes: 134217728}}')"
	want_rc 0 || return 1
	cgroup_v1 || return 0
	want_cg "$ctr_pid" cpu cpu.shares 256 && want_cg "$ctr_pid" cpu cpu.cfs_quota_us 20000 &&
		want_cg "$ctr_pid" memory memory.limit_in_bytes 134217728
}
t "UpdateContainerResources: cpu.shares 256, quota 20000, memory 128Mi in the cgroup" update_res

stop_ctr() {
	local t0=$SECONDS
	cri StopContainer "{\"container_id\":\"$CTR_ID\",\"timeout\":10}"
	want_rc 0 || return 1
	cri ContainerStatus "{\"container_id\":\"$CTR_ID\"}"
	want_jq .status.state CONTAINER_EXITED && want_jq .status.exit_code 7 || return 1
	((SECONDS - t0 < 8)) || { why="StopContainer took $((SECONDS - t0)) s: SIGTERM not delivered?"; return 1; }
	! kill -0 "$ctr_pid" 2>/dev/null || { why="container process $ctr_pid still alive"; return 1; }
}
t "StopContainer(timeout 10): SIGTERM reaches the app, CONTAINER_EXITED with exit code 7" stop_ctr

rm_ctr() {
	cri RemoveContainer "{\"container_id\":\"$CTR_ID\"}"
	want_rc 0 || return 1
	cri ContainerStatus "{\"container_id\":\"$CTR_ID\"}"
	[[ $RC == 2 && $ERR == NOT_FOUND:* ]] || { why="ContainerStatus after RemoveContainer did not fail with NOT_FOUND"; return 1; }
	[[ ! -e $BROOT/$CTR_ID ]] || { why="berth-runtime state $BROOT/$CTR_ID left"; return 1; }
}
t "RemoveContainer: ContainerStatus NOT_FOUND, $RT_NAME state of the container gone" rm_ctr

stop_pod() {
	cri StopPodSandbox "{\"pod_sandbox_id\":\"$SBX\"}"
	want_rc 0 || return 1
	cri PodSandboxStatus "{\"pod_sandbox_id\":\"$SBX\"}"
	want_jq .status.state SANDBOX_NOTREADY || return 1
	poll 5 eval '! kill -0 "$sbx_pid" 2>/dev/null' || { why="sandbox process $sbx_pid still alive"; return 1; }
}
t "StopPodSandbox: SANDBOX_NOTREADY, pause process gone" stop_pod

rm_pod() {
	cri RemovePodSandbox "{\"pod_sandbox_id\":\"$SBX\"}"
	want_rc 0 || return 1
	cri ListPodSandbox
	want_jq '.items | length' 0 || return 1
	cri PodSandboxStatus "{\"pod_sandbox_id\":\"$SBX\"}"
	[[ $RC == 2 && $ERR == NOT_FOUND:* ]] || { why="PodSandboxStatus after RemovePodSandbox did not fail with NOT_FOUND"; return 1; }
}
t "RemovePodSandbox: ListPodSandbox empty, PodSandboxStatus NOT_FOUND" rm_pod

# Nothing of the pod left: berth-runtime state, shims and containers,
# cgroups below the pod's cgroup_parent (which kubelet, not containerd,
# owns: the test removes it), mounts under the temp dir.
leftovers() {
	local left=() d
	[[ -d $BROOT && -n $(ls -A "$BROOT") ]] && left+=("berth-runtime state: $(ls -A "$BROOT" | tr '\n' ' ')")
	d=$(procs_matching "$C/" "$ctd_pid")
	[[ -n $d ]] && left+=("processes: $d")
	d=$(procs_matching "/$CGPARENT/")
	[[ -n $d ]] && left+=("processes in the pod's cgroups: $d")
	d=$(pod_cgroups | grep -v "/$CGPARENT\$")
	[[ -n $d ]] && left+=("cgroups: $(tr '\n' ' ' <<<"$d")")
	d=$(mounts_under "$T")
	[[ -n $d ]] && left+=("mounts: $(tr '\n' ' ' <<<"$d")")
	[[ -e $(shim_socket "$SBX") ]] && left+=("shim socket: $(shim_socket "$SBX")")
	((${#left[@]} == 0)) && return 0
	why=$(printf '%s\n' "${left[@]}")
	return 1
}
t "nothing of the pod left ($RT_NAME state, shim and its socket, processes, cgroups, mounts)" poll 5 leftovers

shutdown() {
	LAST_CMD="kill -TERM $ctd_pid (containerd)"
	ctd_stop
	cg_purge
	local d
	d=$(procs_matching "$C/")
	[[ -z $d ]] || { why="processes left after containerd stopped: $d"; return 1; }
	d=$(mounts_under "$T")
	[[ -z $d ]] || { why="mounts left: $d"; return 1; }
	d=$(pod_cgroups)
	[[ -z $d ]] || { why="cgroups left: $d"; return 1; }
}
if [[ -n $ctd_pid ]]; then
	skip_reason=
	t "containerd stops; no process, mount or cgroup of the run remains" shutdown
fi

echo "1..$n"
echo "# cri: $((n - n_fail - n_skip)) passed, $n_fail failed, $n_skip skipped in $((SECONDS - started)) s" >&2
exit 0
