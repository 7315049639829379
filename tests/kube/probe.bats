#!/usr/bin/env bats
# Probes (k8s-semantics.md rows PR1–PR7): defaults written into the
# stored spec; exec inside the container; httpGet and tcpSocket from the
# host to the pod's IP (nothing needed in the image); liveness kills and
# restarts with back-off; readiness drives Ready; startup gates the
# others.  Periods are shortened (1 s) so the rows run in seconds.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	[ -n "${KUBE_KEEP_LOG:-}" ] && cp "$DAEMON_TMP/d/berthd.log" "$KUBE_KEEP_LOG"
	kube_teardown_file
}

teardown() {
	for p in $(kget pods '.items[].metadata.name' 2>/dev/null); do kube delete pod "$p" --grace-period=0 >/dev/null 2>&1; done
	wait_for 30 no_pods || true
}

ready_is() {
	[ "$(kget "pod/$1" '.status.conditions[]? | select(.type == "Ready") | .status' 2>/dev/null)" = "$2" ]
}

event_has() {
	kube get events -o json | jq -e --arg m "$1" '[.items[] | select(.message | contains($m))] | length > 0' >/dev/null
}

@test "PR1: a probe with no fields gets Kubernetes' defaults in the stored spec" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: defaults}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sleep", "1000"]
    livenessProbe:
      exec: {command: ["true"]}
    readinessProbe:
      httpGet: {port: 8080}
EOF
	run kube get pod defaults -o yaml
	[ "$status" = 0 ]
	p=$(kget pod/defaults '.spec.containers[0].livenessProbe')
	[ "$(jq -c . <<<"$p")" = '{"exec":{"command":["true"]},"timeoutSeconds":1,"periodSeconds":10,"successThreshold":1,"failureThreshold":3}' ] || die "$p"
	[ "$(kget pod/defaults '.spec.containers[0].readinessProbe.httpGet.path')" = / ]
	[ "$(kget pod/defaults '.spec.containers[0].readinessProbe.httpGet.scheme')" = HTTP ]
	[[ $output == *"periodSeconds: 10"* ]] || die "yaml: $output"
	# successThreshold must be 1 for liveness
	run ! kube apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  containers:
  - {name: c, image: $KUBE_IMG, livenessProbe: {exec: {command: ["true"]}, successThreshold: 2}}
EOF
	[[ $output == *"livenessProbe.successThreshold: Invalid value: 2: must be 1"* ]] || die "$output"
}

@test "PR2/PR5: exec liveness failing × failureThreshold restarts the container, then with back-off" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: live}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "touch /tmp/healthy; trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    livenessProbe:
      exec: {command: ["cat", "/tmp/healthy"]}
      periodSeconds: 1
      failureThreshold: 3
EOF
	wait_for 10 cs_is live c '.state.running != null' true
	sleep 2
	[ "$(cstatus live c .restartCount)" = 0 ] || die "restarted while healthy"
	t0=$(date +%s%N)
	"$DOCKER_CLI" exec "$(cid live c)" rm /tmp/healthy
	wait_for 10 restarted live c 1 || die "not restarted"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "restarted $ms ms after the file went (3 failures, period 1 s)" >&3
	((ms >= 1500 && ms <= 6000)) || die "restart after $ms ms"
	event_has "Liveness probe failed: cat: can't open '/tmp/healthy'" || die "no Unhealthy event"
	event_has "Container c failed liveness probe, will be restarted" || die "no Killing event"
	# the new instance is healthy again; fail it once more: the second
	# kill is followed by a back-off (2 s with the test flags)
	wait_for 5 cs_is live c '.state.running != null' true
	"$DOCKER_CLI" exec "$(cid live c)" rm /tmp/healthy
	wait_for 10 cs_is live c .state.waiting.reason CrashLoopBackOff || die "no back-off after the second kill"
	wait_for 10 restarted live c 2
}

@test "PR3: httpGet from the host: 200–399 passes, 404 fails; named port, headers, User-Agent" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: http}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: web
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "mkdir -p /www/cgi-bin; echo ok > /www/index.html; exec httpd -f -p 8080 -h /www"]
    ports: [{name: http, containerPort: 8080}]
    readinessProbe:
      httpGet: {path: /index.html, port: http}
      periodSeconds: 1
      failureThreshold: 2
    livenessProbe:
      httpGet:
        path: /cgi-bin/ua
        port: 8080
        httpHeaders: [{name: X-Probe, value: hello}]
      periodSeconds: 1
      failureThreshold: 30
EOF
	wait_for 10 ready_is http True || die "never ready"
	id=$(cid http web)
	# a CGI script that records what the prober sent
	"$DOCKER_CLI" exec -i "$id" sh -c 'cat > /www/cgi-bin/ua; chmod +x /www/cgi-bin/ua' <<'CGI'
#!/bin/sh
echo "$HTTP_USER_AGENT|$HTTP_X_PROBE" > /tmp/seen
echo "Content-Type: text/plain"
echo
echo seen
CGI
	wait_for 5 "$DOCKER_CLI" exec "$id" test -s /tmp/seen || die "the CGI never ran"
	[ "$("$DOCKER_CLI" exec "$id" cat /tmp/seen)" = "kube-probe/1.32|hello" ] || die "seen: $("$DOCKER_CLI" exec "$id" cat /tmp/seen)"
	"$DOCKER_CLI" exec "$id" rm /www/index.html
	wait_for 6 ready_is http False || die "still ready after 404"
	event_has "Readiness probe failed: HTTP probe failed with statuscode: 404" || die "no event"
	[ "$(cstatus http web .restartCount)" = 0 ]
	"$DOCKER_CLI" exec "$id" sh -c 'echo ok > /www/index.html'
	wait_for 6 ready_is http True || die "not ready again"
	# the image has no curl or wget in the way: the probe came from the host
	[ "$(cstatus http web .restartCount)" = 0 ]
}

@test "PR4: tcpSocket from the host: readiness goes False, liveness restarts" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: tcp}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: r
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "nc -ll -p 9000 -e true & trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    readinessProbe: {tcpSocket: {port: 9000}, periodSeconds: 1, failureThreshold: 3}
  - name: l
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "nc -ll -p 9001 -e true & trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    livenessProbe: {tcpSocket: {port: 9001}, periodSeconds: 1, failureThreshold: 3}
EOF
	wait_for 10 ready_is tcp True || die "never ready"
	"$DOCKER_CLI" exec "$(cid tcp r)" sh -c 'kill -9 $(pidof nc)'
	wait_for 6 cs_is tcp r .ready false || die "r still ready"
	ready_is tcp False
	event_has "Readiness probe failed: dial tcp" || die "no event"
	[ "$(cstatus tcp r .restartCount)" = 0 ]
	"$DOCKER_CLI" exec "$(cid tcp l)" sh -c 'kill -9 $(pidof nc)'
	wait_for 8 restarted tcp l 1 || die "l not restarted"
	[ "$(cstatus tcp r .restartCount)" = 0 ]
}

@test "PR6: readiness: not Ready until the first success, back and forth for the pod's whole life" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: ready}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    readinessProbe:
      exec: {command: ["test", "-f", "/tmp/ready"]}
      periodSeconds: 1
      failureThreshold: 2
      successThreshold: 2
EOF
	wait_for 10 cs_is ready c '.state.running != null' true
	ready_is ready False
	[ "$(cstatus ready c .ready)" = false ]
	wait_for 8 ready_is ready True || die "never ready"
	t1=$(kget pod/ready '.status.conditions[] | select(.type == "Ready") | .lastTransitionTime')
	"$DOCKER_CLI" exec "$(cid ready c)" rm /tmp/ready
	wait_for 6 ready_is ready False || die "still ready"
	[ "$(kget pod/ready .status.phase)" = Running ]
	"$DOCKER_CLI" exec "$(cid ready c)" touch /tmp/ready
	wait_for 6 ready_is ready True || die "not ready again"
	t2=$(kget pod/ready '.status.conditions[] | select(.type == "Ready") | .lastTransitionTime')
	[ "$t1" != "$t2" ] || [ "$(date +%s)" -lt 3 ] || die "lastTransitionTime did not move"
	[ "$(cstatus ready c .restartCount)" = 0 ]
}

@test "PR7: the startup probe holds liveness back; failing it restarts the container" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: startup}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    startupProbe: {exec: {command: ["test", "-f", "/tmp/started"]}, periodSeconds: 1, failureThreshold: 6}
    livenessProbe: {exec: {command: ["test", "-f", "/tmp/alive"]}, periodSeconds: 1, failureThreshold: 1}
    readinessProbe: {exec: {command: ["true"]}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: neverstarts}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
    startupProbe: {exec: {command: ["test", "-f", "/tmp/started"]}, periodSeconds: 1, failureThreshold: 4}
EOF
	wait_for 10 cs_is startup c '.state.running != null' true
	t0=$(date +%s%N)
	sleep 3
	# liveness would fail at once, but startup has not passed
	[ "$(cstatus startup c .restartCount)" = 0 ] || die "liveness ran during startup"
	[ "$(cstatus startup c .started)" = false ]
	[ "$(cstatus startup c .ready)" = false ]
	"$DOCKER_CLI" exec "$(cid startup c)" touch /tmp/started
	# startup passes, then liveness runs and fails at once: the restart
	# is the proof (started is true for about a second only, too short
	# to sample reliably on a loaded machine)
	wait_for 6 restarted startup c 1 || die "liveness never ran after startup"
	event_has "Liveness probe failed" || die "no liveness event"
	# the one whose startup never succeeds: restarted after failureThreshold × period
	wait_for 12 restarted neverstarts c 1 || die "not restarted"
	event_has "Startup probe failed" || die "no event"
	event_has "Container c failed startup probe, will be restarted" || die "no Killing event"
}
