# Shared by tests/kube/*.bats: a private berthd with the orchestrator's
# test timings, the image localhost/orch-busybox:latest (busybox made by
# tests/image/mkimages.py, pulled from a registry on 127.0.0.1 and
# tagged), and `kube` = the berth CLI's `kube` command against it.
# Each .bats file gets its own daemon (setup_file/teardown_file).
load ../daemon/helpers

KUBE_IMG=localhost/orch-busybox:latest
# Timings shortened for tests (berthd flags); files may add to this.
KUBE_TEST_FLAGS=${KUBE_TEST_FLAGS:-"--kube-backoff-base 2 --kube-backoff-max 8 --kube-backoff-reset 12 --kube-hpa-sync 3 --kube-hpa-downscale-window 10 --kube-configmap-sync 2"}

kube() { "$BUILD/berth" kube "$@"; }
berth() { "$BUILD/berth" "$@"; }

kube_setup_file() {
	mkdir -p "$DAEMON_TMP"
	local out url pid dir
	out=$(sh "$SRC/tests/registry/run-registry.sh" start)
	read -r url pid dir <<<"$out"
	echo "$pid $dir" >"$DAEMON_TMP/registry"
	export REG_HOST=${url#http://}
	[ -d "$DAEMON_TMP/fixtures/one" ] || python3 "$SRC/tests/image/mkimages.py" "$DAEMON_TMP/fixtures" one
	skopeo copy -q --dest-tls-verify=false "oci:$DAEMON_TMP/fixtures/one:latest" "docker://$REG_HOST/bb:1"
	export BERTHD_ARGS="${BERTHD_ARGS:-} $KUBE_TEST_FLAGS"
	berthd_start
	export BERTHD_PID DOCKER_HOST BERTH_HOST=$DOCKER_HOST
	"$DOCKER_CLI" pull -q "$REG_HOST/bb:1" >/dev/null
	"$DOCKER_CLI" tag "$REG_HOST/bb:1" "$KUBE_IMG"
}

# The pod network's bridge link (the network comes with the first pod).
pod_bridge() {
	echo "br-$("$DOCKER_CLI" network inspect berth-kube -f '{{.Id}}' | cut -c1-12)"
}

kube_teardown_file() {
	"$DOCKER_CLI" rm -f $("$DOCKER_CLI" ps -aq 2>/dev/null) >/dev/null 2>&1
	"$DOCKER_CLI" network rm berth-kube >/dev/null 2>&1
	daemon_cleanup
	# what the orchestrator made on the host: its Service table (the pod
	# network's bridge, if removing the network failed, went with
	# daemon_cleanup)
	nft delete table ip berth-svc 2>/dev/null
	[ -f "$DAEMON_TMP/registry" ] && sh "$SRC/tests/registry/run-registry.sh" stop $(cat "$DAEMON_TMP/registry")
	rm -rf "$DAEMON_TMP"
}

# wait_for SECONDS CMD...: retry CMD every 0.2 s until it succeeds.
wait_for() {
	local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000))
	shift
	while :; do
		"$@" && return 0
		(($(date +%s%N) / 1000000 > deadline)) && return 1
		sleep 0.2
	done
}

# jq over `kube get -o json`: kget RESOURCE[/NAME] JQ-FILTER [extra get args]
kget() {
	local what=$1 filter=$2
	shift 2
	kube get "$what" -o json "$@" | jq -r "$filter"
}

# The number of pods matching a label selector that are Ready and not terminating.
ready_pods() {
	kube get pods -l "$1" -o json |
		jq '[.items[] | select(.metadata.deletionTimestamp == null) |
			select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length'
}

# wait_eq SECONDS EXPECTED CMD...: retry CMD every 0.2 s until its output
# is EXPECTED (CMD runs each time; wait_for's arguments are expanded once).
wait_eq() {
	local deadline=$(($(date +%s%N) / 1000000 + $1 * 1000)) want=$2 got
	shift 2
	while :; do
		got=$("$@" 2>/dev/null)
		[ "$got" = "$want" ] && return 0
		(($(date +%s%N) / 1000000 > deadline)) && { echo "wanted '$want', last got '$got' from: $*" >&2; return 1; }
		sleep 0.2
	done
}

# Pods by name, for pod.bats and probe.bats: cstatus POD CTR JQ is a
# container status field; cid POD CTR its engine id.
no_pods() {
	[ "$(kget pods '.items | length')" = 0 ]
}

cstatus() {
	kget "pod/$1" ".status.containerStatuses[] | select(.name == \"$2\") | $3"
}

cid() {
	local id
	id=$(cstatus "$1" "$2" .containerID)
	echo "${id#berth://}"
}

cs_is() {
	[ "$(cstatus "$1" "$2" "$3" 2>/dev/null)" = "$4" ]
}

restarted() {
	[ "$(cstatus "$1" "$2" .restartCount 2>/dev/null)" -ge "${3:-1}" ] 2>/dev/null
}

# pod_ready POD: its Ready condition is True.
pod_ready() {
	[ "$(kget "pod/$1" '[.status.conditions[]? | select(.type == "Ready")][0].status')" = True ]
}

# sleeping_pod NAME LABEL=VALUE: a pod that sleeps for an hour and stops
# at once.
sleeping_pod() {
	kube apply -f - >/dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {${2%%=*}: ${2#*=}}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "3600"]}
EOF
}
