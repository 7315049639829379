#!/usr/bin/env bats
# Desired state persists: after berthd restarts (pods are adopted, not
# restarted), and after every container is gone (a reboot), the
# controllers bring the machine back to what was declared.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	kube_teardown_file
}

apply_web() {
	cat <<EOF | kube apply -f -
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 3
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: $KUBE_IMG
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
EOF
}

container_ids() {
	kget pods '[.items[].status.containerStatuses[0].containerID] | sort | join(",")' -l app=web
}

pod_names() {
	kget pods '[.items[].metadata.name] | sort | join(",")' -l app=web
}

@test "a restarted berthd adopts its pods: same pods, same containers, nothing restarted" {
	apply_web
	wait_eq 15 3 ready_pods app=web || die "not ready"
	names=$(pod_names)
	ids=$(container_ids)
	kill -9 "$BERTHD_PID"
	for _ in $(seq 50); do kill -0 "$BERTHD_PID" 2>/dev/null || break; sleep 0.1; done
	BERTHD_PID=
	berthd_start
	wait_eq 10 3 ready_pods app=web || die "not ready after the restart"
	sleep 2
	[ "$(pod_names)" = "$names" ] || die "pods changed: $names -> $(pod_names)"
	[ "$(container_ids)" = "$ids" ] || die "containers changed: $ids -> $(container_ids)"
	[ "$(kget pods '[.items[].status.containerStatuses[0].restartCount] | add' -l app=web)" = 0 ]
	[ "$(kget deployment/web .status.readyReplicas)" = 3 ]
}

@test "after a reboot (every container and the daemon gone) the declared pods come back" {
	wait_eq 15 3 ready_pods app=web || apply_web
	wait_eq 15 3 ready_pods app=web || die "not ready"
	local d=$DAEMON_TMP/d pidf
	# the daemon test 1 started (each test is a process of its own)
	BERTHD_PID=$(cat "$d/berthd.pid")
	berthd_stop
	# what a reboot takes: every process of every container, the
	# runtime's state and the mounts under the exec root
	for pidf in "$d"/run/shims/*/shim.pid; do
		[ -f "$pidf" ] && kill -9 "$(cat "$pidf")" 2>/dev/null
	done
	for c in "$d"/run/runtime/*/; do
		[ -d "$c" ] && "$BUILD/berth-runtime" --root "$d/run/runtime" delete --force "$(basename "$c")" 2>/dev/null
	done
	grep -o " $d/run[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null
	rm -rf "$d/run"
	berthd_start
	wait_eq 30 3 ready_pods app=web || die "pods did not come back: $(kube get pods 2>&1)"
	[ "$(kget deployment/web .status.availableReplicas)" = 3 ]
	# they serve: each pod runs its command again
	pod=$(kget pods '.items[0].metadata.name' -l app=web)
	run kube exec "$pod" -- echo alive
	[ "$output" = alive ]
}
