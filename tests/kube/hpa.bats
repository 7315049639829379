#!/usr/bin/env bats
# HorizontalPodAutoscaler (k8s-semantics.md rows H1–H5) with the daemon's
# test timings: a 3 s sync and a 10 s scale-down stabilization window
# (KUBE_TEST_FLAGS).  CPU comes from the pods' cgroups; the burners are
# shell loops, bounded by cpu limits so the machine stays usable.  The
# exact arithmetic (200% vs 50% -> 8, tolerance, unready pods) is in
# tests/unit/test-kube-calc.c.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	kube_teardown_file
}

teardown() {
	for h in $(kget hpa '.items[].metadata.name' 2>/dev/null); do kube delete hpa "$h" >/dev/null 2>&1; done
	for d in $(kget deployments '.items[].metadata.name' 2>/dev/null); do kube delete deployment "$d" >/dev/null 2>&1; done
	for p in $(kget pods '.items[].metadata.name' 2>/dev/null); do kube delete pod "$p" --grace-period=0 >/dev/null 2>&1; done
	wait_for 30 no_pods || true
}

no_pods() {
	[ "$(kget pods '.items | length')" = 0 ]
}

# deploy NAME REPLICAS COMMAND [RESOURCES-YAML] [HPA extra lines] [MAX]:
# a Deployment and an HPA on it (target 50% unless HPA extra says so).
deploy_with_hpa() {
	local name=$1 replicas=$2 command=$3 resources=${4:-} extra=${5:-} max=${6:-4}
	cat >"$BATS_TEST_TMPDIR/$name.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $name
spec:
  replicas: $replicas
  selector:
    matchLabels: {app: $name}
  template:
    metadata:
      labels: {app: $name}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: $KUBE_IMG
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "trap 'exit 0' TERM; $command"]
$resources
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: $name
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: $name}
  minReplicas: 1
  maxReplicas: $max
$extra
EOF
	grep -q "^  metrics:" "$BATS_TEST_TMPDIR/$name.yaml" || cat >>"$BATS_TEST_TMPDIR/$name.yaml" <<EOF
  metrics:
  - type: Resource
    resource:
      name: cpu
      target: {type: Utilization, averageUtilization: 50}
EOF
	kube apply -f "$BATS_TEST_TMPDIR/$name.yaml"
}

replicas() {
	kget "deployment/$1" '.spec.replicas'
}

ready_count() { # APP N: N pods of app=APP are Ready
	[ "$(ready_pods "app=$1")" = "$2" ]
}

status_replicas() { # HPA N
	[ "$(kget "hpa/$1" '.status.currentReplicas')" = "$2" ]
}

replicas_are() {
	[ "$(replicas "$1")" = "$2" ]
}

# The HPA has measured its pods at least once.
hpa_measured() {
	[ "$(kget "hpa/$1" '.status.currentMetrics[0].resource.current.averageUtilization // empty')" != "" ]
}

hpa_condition() { # NAME TYPE -> "Status Reason"
	kget "hpa/$1" ".status.conditions[] | select(.type == \"$2\") | \"\(.status) \(.reason)\""
}

condition_is() { # NAME TYPE "Status Reason"
	[ "$(hpa_condition "$1" "$2")" = "$3" ]
}

events_of() {
	kube get events -o json | jq -r --arg n "$1" \
		'.items[] | select(.involvedObject.kind == "HorizontalPodAutoscaler" and .involvedObject.name == $n) |
		 "\(.type) \(.reason) \(.message)"'
}

missing_request_reported() {
	local msg
	msg=$(kget "hpa/$1" '.status.conditions[]? | select(.type == "ScalingActive") | .message')
	[[ "$msg" == "the HPA was unable to compute the replica count: failed to get cpu utilization: missing request for cpu in container main of Pod $1-"* ]]
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

@test "H1-H4: a CPU burner scales the Deployment up; after it stops, the 10 s window holds, then it goes down" {
	deploy_with_hpa burn 1 "while :; do sleep 0.2; done" "        resources:
          requests: {cpu: 100m}
          limits: {cpu: 500m}"
	wait_for 60 ready_count burn 1 || die "the pod did not become ready"
	wait_for 30 hpa_measured burn || die "no metrics: $(kube describe hpa burn)"
	replicas_are burn 1
	condition_is burn ScalingActive "True ValidMetricFound"

	# One busy loop in the one pod: about 500% of its 100m request vs 50%.
	pod=$(kget pods '.items[0].metadata.name' -l app=burn)
	kube exec "$pod" -- sh -c 'sh -c "while :; do :; done" >/dev/null 2>&1 & echo $! >/tmp/burn.pid'
	# 1 -> 4: no spec.behavior, so Kubernetes' legacy limit max(2x, 4), and maxReplicas 4.
	wait_for 30 replicas_are burn 4 || die "not scaled up: $(kube describe hpa burn)"
	run events_of burn
	[[ "$output" == *"Normal SuccessfulRescale New size: 4; reason: cpu resource utilization (percentage of request) above target"* ]] ||
		die "no SuccessfulRescale event"
	[ "$(kget hpa/burn '.status.desiredReplicas')" = 4 ]
	[ -n "$(kget hpa/burn '.status.lastScaleTime // empty')" ]
	condition_is burn AbleToScale "True SucceededRescale"
	wait_for 60 ready_count burn 4
	# The burner alone keeps the average above target: it stays at 4.
	sleep 4
	replicas_are burn 4

	kube exec "$pod" -- sh -c 'kill $(cat /tmp/burn.pid)'
	local stopped=$(now_ms)
	# Held by the stabilization window (10 s) ...
	sleep 6
	replicas_are burn 4 || die "scaled down within 6 s of the load stopping"
	# ... then down to the window's highest recommendation, 1.
	wait_for 30 replicas_are burn 1 || die "not scaled down: $(kube describe hpa burn)"
	local held=$(($(now_ms) - stopped))
	((held >= 9000)) || die "scaled down after only $held ms"
	echo "# scaled down $held ms after the load stopped (window 10 s, sync 3 s)" >&3
	run events_of burn
	[[ "$output" == *"Normal SuccessfulRescale New size: 1; reason: All metrics below target"* ]] ||
		die "no scale-down event: $output"
	wait_for 30 status_replicas burn 1
}

@test "H4: the default scale-up policies go 2 -> 6 -> 8, one 15 s period apart" {
	# Every pod burns, capped at 50m each, against a 10m request: far above
	# target, so each step is the policy's limit: max(+100%, +4) per 15 s.
	deploy_with_hpa steps 2 "while :; do :; done" "        resources:
          requests: {cpu: 10m}
          limits: {cpu: 50m}" "  behavior: {}" 8
	wait_for 60 ready_count steps 2 || die "pods not ready"
	local t6= t8= now deadline=$(($(now_ms) + 90000))
	while :; do
		now=$(now_ms)
		case "$(replicas steps)" in
		6) [ -n "$t6" ] || t6=$now ;;
		8) [ -n "$t8" ] || t8=$now; break ;;
		2) ;;
		*) die "unexpected size $(replicas steps)" ;;
		esac
		((now < deadline)) || die "did not reach 8: $(kube describe hpa steps)"
		sleep 0.25
	done
	[ -n "$t6" ] || die "went to 8 without stopping at 6"
	local gap=$((t8 - t6))
	((gap >= 14000 && gap <= 25000)) || die "6 -> 8 took $gap ms"
	echo "# 6 -> 8 took $gap ms" >&3
	run events_of steps
	[[ "$output" == *"New size: 6; reason: cpu resource utilization (percentage of request) above target"* ]]
	[[ "$output" == *"New size: 8; reason: cpu resource utilization (percentage of request) above target"* ]]
	[ "$(hpa_condition steps ScalingLimited)" = "True TooManyReplicas" ] || wait_for 10 condition_is steps ScalingLimited "True TooManyReplicas"
}

@test "H5: scale --replicas=0 by hand leaves the HPA inactive" {
	deploy_with_hpa idle 2 "while :; do sleep 0.2; done" "        resources:
          requests: {cpu: 100m}" "" 3
	wait_for 60 ready_count idle 2 || die "pods not ready"
	kube scale deployment idle --replicas=0
	wait_for 15 condition_is idle ScalingActive "False ScalingDisabled" ||
		die "not disabled: $(kube describe hpa idle)"
	# Several syncs later it is still 0: the HPA does not scale it back up.
	sleep 8
	replicas_are idle 0
	[ "$(kget hpa/idle '.status.desiredReplicas')" = 0 ]
	[ "$(kget hpa/idle '.status.conditions[] | select(.type == "ScalingActive") | .message')" = \
		"scaling is disabled since the replica count of the target is zero" ]
	# Back to 1 by hand: the HPA takes over again (low load: stays within [1, 3]).
	kube scale deployment idle --replicas=1
	wait_for 20 condition_is idle ScalingActive "True ValidMetricFound" || die "$(kube describe hpa idle)"
}

@test "H1: pods without cpu requests -> ScalingActive=False, FailedGetResourceMetric" {
	deploy_with_hpa noreq 1 "while :; do sleep 0.2; done"
	wait_for 60 ready_count noreq 1 || die "pod not ready"
	# (the first syncs may still find no sample, the same reason with another message)
	wait_for 30 missing_request_reported noreq || die "$(kube describe hpa noreq)"
	condition_is noreq ScalingActive "False FailedGetResourceMetric"
	run events_of noreq
	[[ "$output" == *"Warning FailedComputeMetricsReplicas invalid metrics (1 invalid out of 1), first error is: failed to get cpu resource metric value: failed to get cpu utilization: missing request for cpu in container main of Pod noreq-"* ]] ||
		die "events: $output"
	replicas_are noreq 1
}
