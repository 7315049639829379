#!/usr/bin/env bats
# Deployments and ReplicaSets (k8s-semantics.md rows D1–D12): ownership,
# self-healing, scaling, rolling updates within maxSurge/maxUnavailable,
# Recreate, minReadySeconds, progress deadline, history, rollback, cascade.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	kube_teardown_file
}

teardown() {
	kube delete deployment --all >/dev/null 2>&1 || true
	for d in $(kget deployments '.items[].metadata.name' 2>/dev/null); do kube delete deployment "$d" >/dev/null 2>&1; done
	for p in $(kget pods '.items[].metadata.name' 2>/dev/null); do kube delete pod "$p" --grace-period=0 >/dev/null 2>&1; done
	wait_eq 30 0 kget pods '.items | length' || true
}

# deploy NAME REPLICAS [ENV_VALUE] [extra spec lines for the Deployment]
deploy() {
	local name=$1 replicas=$2 value=${3:-one} extra=${4:-}
	cat >"$BATS_TEST_TMPDIR/$name.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $name
spec:
  replicas: $replicas
$extra
  selector:
    matchLabels:
      app: $name
  template:
    metadata:
      labels:
        app: $name
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: $KUBE_IMG
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
        env:
        - name: VERSION
          value: "$value"
EOF
	kube apply -f "$BATS_TEST_TMPDIR/$name.yaml"
}

count_pods() {
	kube get pods -l "$1" -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length'
}

rs_count() {
	kube get rs -l "app=$1" -o json | jq '.items | length'
}

@test "D1: the selector must match the template, and cannot change" {
	cat >"$BATS_TEST_TMPDIR/bad.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: bad}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec:
      containers: [{name: c, image: $KUBE_IMG}]
EOF
	run ! kube apply -f "$BATS_TEST_TMPDIR/bad.yaml"
	[[ $output == *"does not match template"* ]] || die "no selector error"
	run ! kube get deployment bad
	deploy sel 1
	sed -i 's/app: sel$/app: other/' "$BATS_TEST_TMPDIR/sel.yaml"
	run ! kube apply -f "$BATS_TEST_TMPDIR/sel.yaml"
	[[ $output == *"field is immutable"* ]] || die "selector change was not refused"
}

@test "D2: Deployment owns one ReplicaSet <name>-<hash>, which owns the pods" {
	deploy web 3
	wait_eq 10 3 ready_pods app=web || die "3 pods not ready"
	[ "$(rs_count web)" = 1 ]
	rs=$(kget rs '.items[0]' -l app=web)
	rsname=$(jq -r .metadata.name <<<"$rs")
	hash=$(jq -r '.metadata.labels["pod-template-hash"]' <<<"$rs")
	[ "$rsname" = "web-$hash" ] || die "rs name $rsname hash $hash"
	[ "$(jq -r '.metadata.ownerReferences[0].kind' <<<"$rs")" = Deployment ]
	[ "$(jq -r '.metadata.ownerReferences[0].controller' <<<"$rs")" = true ]
	[ "$(jq -r '.spec.selector.matchLabels["pod-template-hash"]' <<<"$rs")" = "$hash" ]
	for owner in $(kget pods '.items[] | .metadata.ownerReferences[0].name + "/" + .metadata.labels["pod-template-hash"]' -l app=web); do
		[ "$owner" = "$rsname/$hash" ] || die "pod owner $owner"
	done
	for name in $(kget pods '.items[].metadata.name' -l app=web); do
		[[ $name =~ ^$rsname-[bcdfghjklmnpqrstvwxz2456789]{5}$ ]] || die "pod name $name"
	done
	[ "$(kget deployment/web .status.readyReplicas)" = 3 ]
}

@test "D3: a deleted pod is replaced within 2 s; a surplus pod with the labels is deleted" {
	deploy heal 3
	wait_eq 10 3 ready_pods app=heal || die "not ready"
	victim=$(kget pods '.items[0].metadata.name' -l app=heal)
	t0=$(date +%s%N)
	kube delete pod "$victim" --grace-period=1 >/dev/null
	wait_eq 2 3 count_pods app=heal || die "not replaced within 2 s"
	echo "replaced in $((($(date +%s%N) - t0) / 1000000)) ms" >&3
	kube get pods -l app=heal -o json | jq -e --arg v "$victim" '[.items[] | select(.metadata.deletionTimestamp == null) | .metadata.name] | index($v) == null'
	# a bare pod with the ReplicaSet's labels (its selector has the
	# pod-template-hash too): adopted, then one over, so one is deleted
	hash=$(kget rs '.items[0].metadata.labels["pod-template-hash"]' -l app=heal)
	cat >"$BATS_TEST_TMPDIR/bare.yaml" <<EOF
apiVersion: v1
kind: Pod
metadata: {name: bare, labels: {app: heal, pod-template-hash: "$hash"}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: [sleep, "1000"]}]
EOF
	kube apply -f "$BATS_TEST_TMPDIR/bare.yaml"
	wait_eq 5 3 count_pods app=heal || die "surplus pod not deleted"
	sleep 1
	[ "$(count_pods app=heal)" = 3 ]
}

@test "D3: a killed pod process is restarted (the pod stays, restartCount grows)" {
	deploy kill 1
	wait_eq 10 1 ready_pods app=kill || die "not ready"
	pod=$(kget pods '.items[0].metadata.name' -l app=kill)
	cid=$(kget "pods/$pod" '.status.containerStatuses[0].containerID')
	"$DOCKER_CLI" kill "${cid#berth://}" >/dev/null
	wait_eq 5 1 kget "pods/$pod" '.status.containerStatuses[0].restartCount' || die "not restarted"
	wait_eq 5 1 ready_pods app=kill
}

@test "D4: scaling changes the current ReplicaSet only: 3 -> 10 -> 2" {
	deploy scale 3
	wait_eq 10 3 ready_pods app=scale || die "3 not ready"
	rev=$(kget deployment/scale '.metadata.annotations["deployment.kubernetes.io/revision"]')
	kube scale deployment scale --replicas=10
	wait_eq 15 10 ready_pods app=scale || die "10 not ready"
	[ "$(rs_count scale)" = 1 ]
	[ "$(kget deployment/scale '.metadata.annotations["deployment.kubernetes.io/revision"]')" = "$rev" ]
	kube scale deployment/scale --replicas=2
	wait_eq 5 2 count_pods app=scale || die "not scaled down to 2"
	[ "$(rs_count scale)" = 1 ]
}

@test "D5: only a template change makes a new revision" {
	deploy rev 2
	wait_eq 10 2 ready_pods app=rev
	deploy rev 3
	wait_eq 10 3 ready_pods app=rev
	[ "$(rs_count rev)" = 1 ]
	deploy rev 3 two
	wait_eq 10 2 kget deployment/rev '.metadata.annotations["deployment.kubernetes.io/revision"]' || die "no revision 2"
	[ "$(rs_count rev)" = 2 ]
}

# sample_rollout NAME MAX_TOTAL MIN_READY SECONDS: sample every 0.5 s
# while a rollout runs; fails when a bound is crossed
sample_rollout() {
	local name=$1 max_total=$2 min_ready=$3 secs=$4 total ready i
	for ((i = 0; i < secs * 2; i++)); do
		total=$(count_pods "app=$name")
		ready=$(ready_pods "app=$name")
		echo "t=$i total=$total ready=$ready" >>"$BATS_TEST_TMPDIR/samples"
		((total <= max_total)) || die "total $total > $max_total"
		((ready >= min_ready)) || die "ready $ready < $min_ready"
		[ "$(kget "deployment/$name" '.status.updatedReplicas')" = "$(kget "deployment/$name" .spec.replicas)" ] &&
			[ "$(kget "deployment/$name" '.status.availableReplicas')" = "$(kget "deployment/$name" .spec.replicas)" ] &&
			[ "$(kget "deployment/$name" '.status.replicas')" = "$(kget "deployment/$name" .spec.replicas)" ] && return 0
		sleep 0.5
	done
	die "rollout did not finish in $secs s"
}

@test "D6: RollingUpdate defaults: replicas 4 keeps total <= 5 and ready >= 3" {
	deploy roll 4
	wait_eq 10 4 ready_pods app=roll
	[ "$(kget deployment/roll '.spec.strategy.rollingUpdate.maxSurge')" = "25%" ]
	deploy roll 4 two
	sample_rollout roll 5 3 40
	[ "$(kube get pods -l app=roll -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[0].env[0].value] | unique | join(",")')" = two ]
}

@test "D6: replicas 3 with defaults never drops below 3 ready; maxSurge 0 never exceeds 3" {
	deploy three 3
	wait_eq 10 3 ready_pods app=three
	deploy three 3 two
	sample_rollout three 4 3 40
	extra='  strategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: 1}'
	deploy three 3 three "$extra"
	sample_rollout three 3 2 40
}

@test "D6: maxSurge 0 and maxUnavailable 0 together are invalid" {
	extra='  strategy:
    rollingUpdate: {maxSurge: 0, maxUnavailable: 0}'
	run ! deploy zero 2 one "$extra"
	[[ $output == *"may not be 0"* ]] || die "no validation error"
}

@test "D7: Recreate terminates every old pod before the first new one" {
	extra='  strategy: {type: Recreate}'
	deploy rec 2 one "$extra"
	wait_eq 10 2 ready_pods app=rec
	deploy rec 2 two "$extra"
	overlap=0
	for _ in $(seq 60); do
		versions=$(kube get pods -l app=rec -o json | jq -r '[.items[].spec.containers[0].env[0].value] | unique | join(",")')
		[ "$versions" = "one,two" ] && overlap=1
		[ "$(ready_pods app=rec)" = 2 ] && [ "$versions" = two ] && break
		sleep 0.25
	done
	[ "$overlap" = 0 ] || die "old and new pods existed at once"
	[ "$versions" = two ] || die "rollout did not finish: $versions"
}

@test "D8: minReadySeconds holds availability; a bad image exceeds the progress deadline" {
	extra='  minReadySeconds: 3
  progressDeadlineSeconds: 6'
	deploy minready 2 one "$extra"
	wait_eq 10 2 ready_pods app=minready
	wait_eq 10 2 kget deployment/minready .status.availableReplicas
	t0=$(date +%s)
	deploy minready 2 two "$extra"
	sample_rollout minready 3 2 60
	elapsed=$(($(date +%s) - t0))
	((elapsed >= 6)) || die "2 pods with minReadySeconds 3 rolled out in ${elapsed}s"
	sed -i "s|image: .*|image: localhost/no-such-image:1|" "$BATS_TEST_TMPDIR/minready.yaml"
	kube apply -f "$BATS_TEST_TMPDIR/minready.yaml"
	run -1 kube rollout status deployment/minready --timeout=30s
	[[ $output == *"exceeded its progress deadline"* ]] || die "no deadline message"
	[ "$(kget deployment/minready '.status.conditions[] | select(.type == "Progressing") | .reason')" = ProgressDeadlineExceeded ]
	# the old pods keep serving
	[ "$(ready_pods app=minready)" -ge 1 ]
}

hist_status() {
	kget deployment/hist '"\(.status.updatedReplicas)/\(.status.availableReplicas)/\(.status.replicas)"'
}

@test "D9: revisionHistoryLimit keeps that many old ReplicaSets" {
	extra='  revisionHistoryLimit: 3'
	deploy hist 1 v0 "$extra"
	for i in $(seq 1 6); do
		deploy hist 1 "v$i" "$extra" >/dev/null
		wait_eq 20 1/1/1 hist_status ||
			die "rollout $i did not finish"
	done
	wait_eq 5 4 rs_count hist || die "$(rs_count hist) ReplicaSets"
}

@test "D10/D11: rollout undo makes the old template the newest revision; status waits" {
	deploy undo 2 A
	kube rollout status deployment/undo --timeout=30s
	deploy undo 2 B
	run kube rollout status deployment/undo --timeout=30s
	[ "$status" = 0 ] || die "rollout status failed"
	[[ $output == *"successfully rolled out"* ]]
	rs1=$(kube get rs -l app=undo -o json | jq -r '.items[] | select(.metadata.annotations["deployment.kubernetes.io/revision"] == "1") | .metadata.name')
	kube rollout undo deployment/undo
	wait_eq 10 3 kget "rs/$rs1" '.metadata.annotations["deployment.kubernetes.io/revision"]' || die "rev1 RS is not revision 3"
	kube rollout status deployment/undo --timeout=30s
	run kube rollout history deployment/undo
	[[ $output == *2* && $output == *3* ]]
	[[ $output != *$'\n1 '* ]] || die "revision 1 still listed: $output"
	[ "$(kube get pods -l app=undo -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[0].env[0].value] | unique | join(",")')" = A ]
	run ! kube rollout undo deployment/undo --to-revision=9
	[[ $output == *"unable to find specified revision 9"* ]]
}

@test "D12: deleting a Deployment cascades; --cascade=orphan leaves the ReplicaSet" {
	deploy gone 2
	wait_eq 10 2 ready_pods app=gone
	kube delete deployment gone
	wait_eq 5 0 rs_count gone || die "RS left"
	wait_eq 5 0 kget pods '.items | length' -l app=gone || die "pods left"
	deploy orphan 1
	wait_eq 10 1 ready_pods app=orphan
	kube delete deployment orphan --cascade=orphan
	sleep 2
	[ "$(rs_count orphan)" = 1 ] || die "orphaned RS was deleted"
	[ "$(kget rs '.items[0].metadata.ownerReferences | length' -l app=orphan)" = 0 ]
	[ "$(ready_pods app=orphan)" = 1 ]
	kube delete rs "$(kget rs '.items[0].metadata.name' -l app=orphan)"
}

@test "D12: --cascade=foreground: the Deployment stays, marked, until its ReplicaSet and pods are gone" {
	# pods that ignore SIGTERM take their whole grace period (3 s): the
	# owner is seen waiting
	cat >"$BATS_TEST_TMPDIR/fg.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: fg}
spec:
  replicas: 3
  selector: {matchLabels: {app: fg}}
  template:
    metadata: {labels: {app: fg}}
    spec:
      terminationGracePeriodSeconds: 3
      containers:
      - {name: main, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]}
EOF
	kube apply -f "$BATS_TEST_TMPDIR/fg.yaml"
	wait_eq 10 3 ready_pods app=fg
	kube delete deployment fg --cascade=foreground --wait=false
	run -0 kube get deployment fg -o json
	[ "$(jq -r '.metadata.finalizers[0]' <<<"$output")" = foregroundDeletion ] || die "no finalizer: $output"
	[ "$(jq -r '.metadata.deletionTimestamp != null' <<<"$output")" = true ] || die "not marked: $output"
	# with --wait (the default) delete returns once it is gone: nothing of it is left then
	kube delete deployment fg --cascade=foreground
	run kube get deployment fg
	[ "$status" -ne 0 ] || die "the Deployment is still there"
	[ "$(rs_count fg)" = 0 ] || die "RS left"
	[ "$(kget pods '.items | length' -l app=fg)" = 0 ] || die "pods left"
	run -0 berth ps -a --format '{{.Names}}' --filter name=_fg-
	[ -z "$output" ] || die "containers left: $output"
}
