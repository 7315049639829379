#!/usr/bin/env bats
# A rolling update under traffic: v1 → v2 while a client pod loops
# requests through the Service by name.  Ready replicas never drop below
# replicas − maxUnavailable, no request fails, the answers move from v1
# to v2; then rollout undo brings v1 back the same way.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	kube_teardown_file
}

# web VERSION: 4 replicas of an httpd answering VERSION, ready when it
# serves; preStop gives the endpoint removal a second to reach every rule
# before SIGTERM, as one does on a cluster
web() {
	cat <<EOF | kube apply -f -
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 4
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 5
      containers:
      - name: httpd
        image: $KUBE_IMG
        imagePullPolicy: IfNotPresent
        env: [{name: VERSION, value: "$1"}]
        command: ["sh", "-c", "mkdir -p /www && echo \$VERSION >/www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
        lifecycle: {preStop: {exec: {command: ["sleep", "1"]}}}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
EOF
}

versions_served() {
	kube logs client | tail -n 20 | sort -u | tr '\n' ' '
}

# sample for up to SECS seconds while the rollout runs: ready never
# below 3 (4 replicas, maxUnavailable 25% = 1), at most 5 pods (maxSurge 1)
watch_rollout() {
	local secs=$1 i ready total
	for ((i = 0; i < secs * 2; i++)); do
		ready=$(ready_pods app=web)
		total=$(kube get pods -l app=web -o json | jq '[.items[] | select(.metadata.deletionTimestamp == null)] | length')
		((ready >= 3)) || die "ready $ready < 3"
		((total <= 5)) || die "$total pods > 5"
		[ "$(kget deployment/web '"\(.status.updatedReplicas)/\(.status.availableReplicas)/\(.status.replicas)"')" = 4/4/4 ] &&
			return 0
		sleep 0.5
	done
	die "the rollout did not finish in $secs s"
}

@test "v1 -> v2 under a client's requests through the Service: no failure, ready >= 3 throughout; undo the same" {
	web v1
	wait_eq 30 4 ready_pods app=web || die "v1 not ready"
	cat <<EOF | kube apply -f -
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do timeout 3 wget -q -O- http://web/ 2>/dev/null || echo FAIL; sleep 0.05; done"]
EOF
	wait_for 20 eval '[[ "$(versions_served)" == "v1 " ]]' || die "client: $(kube logs client | tail -5)"
	before=$(kube logs client | wc -l)
	web v2
	watch_rollout 90
	wait_for 10 eval '[[ "$(versions_served)" == "v2 " ]]' || die "still served: $(versions_served)"
	kube logs client | tail -n +"$before" >"$BATS_TEST_TMPDIR/during"
	echo "requests during the rollout: $(wc -l <"$BATS_TEST_TMPDIR/during"), $(grep -c v1 "$BATS_TEST_TMPDIR/during") v1, $(grep -c v2 "$BATS_TEST_TMPDIR/during") v2" >&3
	! grep -q FAIL "$BATS_TEST_TMPDIR/during" || die "$(grep -c FAIL "$BATS_TEST_TMPDIR/during") requests failed"
	grep -q v1 "$BATS_TEST_TMPDIR/during" && grep -q v2 "$BATS_TEST_TMPDIR/during"
	# and back
	before=$(kube logs client | wc -l)
	kube rollout undo deployment/web
	watch_rollout 90
	wait_for 10 eval '[[ "$(versions_served)" == "v1 " ]]' || die "after undo: $(versions_served)"
	kube logs client | tail -n +"$before" >"$BATS_TEST_TMPDIR/undo"
	! grep -q FAIL "$BATS_TEST_TMPDIR/undo" || die "$(grep -c FAIL "$BATS_TEST_TMPDIR/undo") requests failed during undo"
}
