#!/usr/bin/env bats
# Pods on this machine (k8s-semantics.md rows P1–P7 and R1–R5): restart
# policies, CrashLoopBackOff, phases and container states, graceful
# termination, init containers, OOM kills, the shared sandbox, resources
# → cgroups and QoS; plus what the kubelet leaves behind (nothing).
# Back-off runs with the test flags: base 2 s, max 8 s.

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

# pod NAME POLICY CTR...: each CTR is "name=shell command"
pod() {
	local name=$1 policy=$2 c
	shift 2
	{
		cat <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $name}
spec:
  restartPolicy: $policy
  terminationGracePeriodSeconds: 1
  containers:
EOF
		for c in "$@"; do
			printf '  - {name: %s, image: %s, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "%s"]}\n' \
				"${c%%=*}" "$KUBE_IMG" "${c#*=}"
		done
	} | kube apply -f - >/dev/null
}

phase() {
	kget "pod/$1" '.status.phase'
}

restarts() {
	cstatus "$1" "$2" .restartCount
}

# Conditions for wait_for (which runs a command again and again: an
# argument like "$(phase x)" would be expanded once, before the first try).
is_phase() {
	[ "$(phase "$1")" = "$2" ]
}

kget_is() {
	[ "$(kget "$1" "$2")" = "$3" ]
}

kget_ge() {
	[ "$(kget "$1" "$2")" -ge "$3" ] 2>/dev/null
}

# replaced POD CTR OLD_ID: another instance runs
replaced() {
	local now
	now=$(cid "$1" "$2" 2>/dev/null) || return 1
	[ -n "$now" ] && [ "$now" != "$3" ] && [ "$(cstatus "$1" "$2" '.state.running != null')" = true ]
}

gone() {
	! kube get pod "$1" >/dev/null 2>&1
}

@test "P1/P3: restartPolicy Always restarts both containers" {
	pod always Always "fail=sleep 1; exit 1" "ok=exit 0"
	wait_for 15 restarted always fail 1 || die "fail not restarted"
	wait_for 15 restarted always ok 1 || die "ok not restarted"
	[ "$(phase always)" = Running ]
	wait_for 10 cs_is always fail .lastState.terminated.exitCode 1
	[ "$(cstatus always fail .lastState.terminated.reason)" = Error ]
	wait_for 10 cs_is always ok .lastState.terminated.reason Completed
}

@test "P1/P3: OnFailure restarts only the failed container; exit 0 alone → Succeeded" {
	pod onf OnFailure "fail=sleep 1; exit 1" "ok=exit 0"
	wait_for 15 restarted onf fail 1 || die "fail not restarted"
	[ "$(restarts onf ok)" = 0 ]
	[ "$(cstatus onf ok .state.terminated.reason)" = Completed ]
	[ "$(phase onf)" = Running ]
	pod onf-ok OnFailure "ok=exit 0"
	wait_for 10 is_phase onf-ok Succeeded || die "phase $(phase onf-ok)"
	[ "$(restarts onf-ok ok)" = 0 ]
}

@test "P1/P3: Never → Failed for exit 1, Succeeded for exit 0; phases and states" {
	pod nf Never "fail=sleep 1; exit 1"
	pod ns Never "ok=sleep 1; exit 0"
	wait_for 5 is_phase nf Running || die "not Running: $(phase nf)"
	[ "$(cstatus nf fail '.state.running != null')" = true ]
	wait_for 10 is_phase nf Failed || die "phase $(phase nf)"
	[ "$(cstatus nf fail .state.terminated.exitCode)" = 1 ]
	[ "$(cstatus nf fail .state.terminated.reason)" = Error ]
	[ "$(restarts nf fail)" = 0 ]
	wait_for 10 is_phase ns Succeeded || die "phase $(phase ns)"
	[ "$(cstatus ns ok .state.terminated.reason)" = Completed ]
	[ "$(kget pod/ns '.status.conditions[] | select(.type == "Ready") | .reason')" = PodCompleted ]
	# a finished pod's containers stay for their logs
	run "$DOCKER_CLI" logs "$(cid nf fail)"
	[ "$status" = 0 ]
}

@test "P2: CrashLoopBackOff: immediate first restart, then doubling back-off, capped" {
	pod crash Always "c=exit 1"
	local times=() last=0 n
	local deadline=$(($(date +%s) + 40))
	while [ "$(date +%s)" -lt "$deadline" ] && [ ${#times[@]} -lt 5 ]; do
		n=$(restarts crash c 2>/dev/null) || n=0
		if [ "${n:-0}" -gt "$last" ]; then
			times+=("$(date +%s%N)")
			last=$n
		fi
		sleep 0.1
	done
	[ ${#times[@]} -ge 5 ] || die "only ${#times[@]} restarts"
	# gaps between restarts 1→2, 2→3, 3→4, 4→5: base 2, 4, 8, 8 (the cap)
	local want=(2 4 8 8) i gap
	for i in 0 1 2 3; do
		gap=$(((times[i + 1] - times[i]) / 1000000))
		echo "gap $i: ${gap} ms (want ${want[i]} s)" >&3
		((gap >= want[i] * 1000 - 700 && gap <= want[i] * 1000 + 2000)) || die "gap $i = $gap ms"
	done
	[ "$(cstatus crash c .lastState.terminated.exitCode)" = 1 ]
	[ "$(cstatus crash c .lastState.terminated.reason)" = Error ]
	wait_for 5 cs_is crash c .state.waiting.reason CrashLoopBackOff
	[[ $(cstatus crash c .state.waiting.message) == "back-off "*"s restarting failed container=c pod=crash_default("*")" ]]
	kube get events -o json | jq -e '[.items[] | select(.reason == "BackOff")] | length > 0' >/dev/null
	# logs --previous: the instance before the current one is kept, older ones are removed
	uid=$(kget pod/crash .metadata.uid)
	[ "$("$DOCKER_CLI" ps -aq --filter "label=io.kubernetes.pod.uid=$uid" | wc -l)" -le 3 ]
}

@test "P2: after running longer than the reset time (12 s here, 10 min by default) the back-off starts over" {
	# runs 1-3 crash at once (back-off 0, 2, 4 s); run 4 lasts 14 s, then
	# crashes: the next wait is the base (2 s) again, not 8
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: reset}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: d, emptyDir: {}}]
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    volumeMounts: [{name: d, mountPath: /d}]
    command: ["sh", "-c", "n=\$(cat /d/n 2>/dev/null || echo 0); echo \$((n + 1)) >/d/n; [ \$n = 3 ] && sleep 14; exit 1"]
EOF
	local times=() last=0 n
	local deadline=$(($(date +%s) + 60))
	while [ "$(date +%s)" -lt "$deadline" ] && [ ${#times[@]} -lt 4 ]; do
		n=$(restarts reset c 2>/dev/null) || n=0
		if [ "${n:-0}" -gt "$last" ]; then
			times+=("$(date +%s%N)")
			last=$n
		fi
		sleep 0.1
	done
	[ ${#times[@]} -ge 4 ] || die "only ${#times[@]} restarts"
	# restart 3 -> 4: 14 s of running plus the wait (2 s after a reset, 8 without)
	gap=$(((times[3] - times[2]) / 1000000))
	echo "run 4 and the wait after it: ${gap} ms (reset: about 16000, none: about 22000)" >&3
	((gap >= 15000 && gap <= 19000)) || die "gap $gap ms"
}

@test "P4: delete: a container that traps TERM ends at once; one that ignores it is killed after the grace" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: trap}
spec:
  terminationGracePeriodSeconds: 30
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]}
---
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 3
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "trap '' TERM; while :; do sleep 0.1; done"]}
EOF
	wait_for 10 is_phase trap Running
	wait_for 10 is_phase stubborn Running
	id=$(cid stubborn c)
	t0=$(date +%s%N)
	kube delete pod trap --wait=false >/dev/null
	wait_for 10 gone trap || die "trap pod still there"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "trap: $ms ms" >&3
	((ms < 2500)) || die "took $ms ms"
	t0=$(date +%s%N)
	kube delete pod stubborn --wait=false >/dev/null
	# deleting: the object shows deletionTimestamp meanwhile
	[ "$(kget pod/stubborn '.metadata.deletionTimestamp != null')" = true ]
	wait_for 10 gone stubborn || die "stubborn pod still there"
	ms=$((($(date +%s%N) - t0) / 1000000))
	echo "stubborn: $ms ms" >&3
	((ms >= 2800 && ms < 5500)) || die "took $ms ms"
	run "$DOCKER_CLI" inspect "$id"
	[ "$status" != 0 ]
}

@test "P4: preStop runs first and counts against the grace period" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: prestop}
spec:
  terminationGracePeriodSeconds: 10
  volumes: [{name: out, hostPath: {path: $BATS_TEST_TMPDIR, type: Directory}}]
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "trap 'echo term >> /out/log; exit 0' TERM; while :; do sleep 0.1; done"]
    volumeMounts: [{name: out, mountPath: /out}]
    lifecycle:
      preStop:
        exec: {command: ["sh", "-c", "echo prestop >> /out/log; sleep 1"]}
EOF
	wait_for 10 is_phase prestop Running
	kube delete pod prestop --wait=false >/dev/null
	wait_for 10 gone prestop || die "still there"
	[ "$(cat "$BATS_TEST_TMPDIR/log")" = "$(printf 'prestop\nterm')" ] || die "log: $(cat "$BATS_TEST_TMPDIR/log")"
}

@test "P5: init containers run in order, each to exit 0, before the app" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  terminationGracePeriodSeconds: 1
  volumes: [{name: w, emptyDir: {}}]
  initContainers:
  - {name: i1, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "sleep 1; echo i1 >> /w/order"], volumeMounts: [{name: w, mountPath: /w}]}
  - {name: i2, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "echo i2 >> /w/order"], volumeMounts: [{name: w, mountPath: /w}]}
  containers:
  - {name: app, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "echo app >> /w/order; trap 'exit 0' TERM; while :; do sleep 0.1; done"], volumeMounts: [{name: w, mountPath: /w}]}
EOF
	wait_for 3 is_phase init Pending
	[ "$(kget pod/init '.status.conditions[] | select(.type == "Initialized") | .status')" = False ]
	[ "$(cstatus init app .state.waiting.reason)" = PodInitializing ]
	wait_for 10 is_phase init Running || die "phase $(phase init)"
	[ "$("$DOCKER_CLI" exec "$(cid init app)" cat /w/order | tr '\n' ' ')" = "i1 i2 app " ]
	[ "$(kget pod/init '.status.initContainerStatuses[0].state.terminated.reason')" = Completed ]
	[ "$(kget pod/init '.status.conditions[] | select(.type == "Initialized") | .status')" = True ]
}

@test "P5: a failing init container is retried with back-off and the app never starts" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: badinit}
spec:
  terminationGracePeriodSeconds: 1
  initContainers:
  - {name: i, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "exit 1"]}
  containers:
  - {name: app, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
---
apiVersion: v1
kind: Pod
metadata: {name: badinit-never}
spec:
  restartPolicy: Never
  initContainers:
  - {name: i, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "exit 1"]}
  containers:
  - {name: app, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
EOF
	wait_for 10 kget_ge pod/badinit '.status.initContainerStatuses[0].restartCount' 2 || die "not retried"
	wait_for 5 kget_is pod/badinit '.status.initContainerStatuses[0].state.waiting.reason' CrashLoopBackOff
	[ "$(cstatus badinit app .state.waiting.reason)" = PodInitializing ]
	[ "$(phase badinit)" = Pending ]
	wait_for 10 is_phase badinit-never Failed || die "phase $(phase badinit-never)"
	[ "$(cstatus badinit-never app .state.waiting.reason)" = PodInitializing ]
}

@test "P6: over its memory limit a container is OOMKilled (137) and restarted" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "sleep 1; dd if=/dev/zero bs=1M count=64 | tail"]
    resources: {limits: {memory: 32Mi}}
EOF
	wait_for 15 restarted oom c 1 || die "not restarted"
	[ "$(cstatus oom c .lastState.terminated.reason)" = OOMKilled ]
	[ "$(cstatus oom c .lastState.terminated.exitCode)" = 137 ]
}

@test "P7: containers share network, IPC and UTS (hostname = pod name); PID only with shareProcessNamespace" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: shared}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sh", "-c", "mkdir /www; echo hello > /www/index.html; httpd -f -p 8080 -h /www"]}
  - {name: client, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
---
apiVersion: v1
kind: Pod
metadata: {name: sharedpid}
spec:
  terminationGracePeriodSeconds: 1
  shareProcessNamespace: true
  containers:
  - {name: a, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
  - {name: b, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "2000"]}
EOF
	wait_for 10 kget_is pod/shared '[.status.containerStatuses[].ready] | all' true
	client=$(cid shared client)
	wait_for 5 "$DOCKER_CLI" exec "$client" wget -qO- http://localhost:8080/ || die "no localhost across containers"
	[ "$("$DOCKER_CLI" exec "$client" wget -qO- http://localhost:8080/)" = hello ]
	[ "$("$DOCKER_CLI" exec "$client" hostname)" = shared ]
	[ "$("$DOCKER_CLI" exec "$(cid shared web)" hostname)" = shared ]
	# IPC: the same namespace as the sandbox
	[ "$("$DOCKER_CLI" exec "$client" readlink /proc/self/ns/ipc)" = "$("$DOCKER_CLI" exec "$(cid shared web)" readlink /proc/self/ns/ipc)" ]
	# PID: own processes only
	run "$DOCKER_CLI" exec "$client" ps -o comm
	[[ $output != *httpd* ]] || die "sees the other container's processes"
	wait_for 10 is_phase sharedpid Running
	run "$DOCKER_CLI" exec "$(cid sharedpid a)" ps -o args
	[[ $output == *"sleep 2000"* ]] || die "shareProcessNamespace: $output"
	# the cluster's DNS search path in every container
	grep -q "search default.svc.cluster.local svc.cluster.local cluster.local" <("$DOCKER_CLI" exec "$client" cat /etc/resolv.conf)
	grep -q "ndots:5" <("$DOCKER_CLI" exec "$client" cat /etc/resolv.conf)
	[ "$(kget pod/shared .status.podIP)" != null ]
}

# cg POD CTR CONTROLLER FILE: a cgroup v1 file of the container, from the host
cg() {
	local id uid f
	id=$(cid "$1" "$2")
	f=$(find "/sys/fs/cgroup/$3" -maxdepth 6 -type d -name "$id" 2>/dev/null | head -1)
	[ -n "$f" ] || return 1
	cat "$f/$4"
}

@test "R1–R5: requests and limits → cpu.shares, CFS quota, memory limit, QoS, oom_score_adj, hierarchy" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: burst}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sleep", "1000"]
    resources: {requests: {cpu: 250m, memory: 32Mi}, limits: {cpu: 500m, memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: guaranteed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sleep", "1000"]
    resources: {limits: {cpu: "1", memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: besteffort}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
EOF
	for p in burst guaranteed besteffort; do wait_for 10 is_phase $p Running || die "$p"; done
	[ "$(kget pod/burst .status.qosClass)" = Burstable ]
	[ "$(kget pod/guaranteed .status.qosClass)" = Guaranteed ]
	[ "$(kget pod/besteffort .status.qosClass)" = BestEffort ]
	# R1
	[ "$(cg burst c cpu cpu.shares)" = 256 ]
	[ "$(cg besteffort c cpu cpu.shares)" = 2 ]
	[ "$(cg guaranteed c cpu cpu.shares)" = 1024 ]
	# R2
	[ "$(cg burst c cpu cpu.cfs_quota_us)" = 50000 ]
	[ "$(cg burst c cpu cpu.cfs_period_us)" = 100000 ]
	[ "$(cg besteffort c cpu cpu.cfs_quota_us)" = -1 ]
	# R3, R4: the limit, and no soft limit for the request
	[ "$(cg burst c memory memory.limit_in_bytes)" = 67108864 ]
	[ "$(cg burst c memory memory.soft_limit_in_bytes)" = "$(cat /sys/fs/cgroup/memory/memory.soft_limit_in_bytes)" ]
	# R5: oom_score_adj (Guaranteed's -997 needs CAP_SYS_RESOURCE: clamped to 0)
	[ "$("$DOCKER_CLI" exec "$(cid besteffort c)" cat /proc/1/oom_score_adj)" = 1000 ]
	mem=$(($(awk '/MemTotal/ {print $2}' /proc/meminfo) * 1024))
	want=$((1000 - 1000 * 33554432 / mem))
	((want < 3)) && want=3
	((want > 999)) && want=999
	[ "$("$DOCKER_CLI" exec "$(cid burst c)" cat /proc/1/oom_score_adj)" = "$want" ]
	[ "$("$DOCKER_CLI" exec "$(cid guaranteed c)" cat /proc/1/oom_score_adj)" = 0 ]
	# the hierarchy kubepods/{burstable,besteffort}/pod<uid>/<id>
	uid=$(kget pod/burst .metadata.uid)
	id=$(cid burst c)
	find /sys/fs/cgroup/cpu/ -maxdepth 6 -type d -path "*/kubepods/burstable/pod$uid/$id" | grep -q . || die "no burstable cgroup"
	uid=$(kget pod/besteffort .metadata.uid)
	find /sys/fs/cgroup/cpu/ -maxdepth 6 -type d -path "*/kubepods/besteffort/pod$uid/*" | grep -q . || die "no besteffort cgroup"
}

@test "restart of berthd: pods are adopted, not restarted; killed containers come back" {
	pod keep Always "c=trap 'exit 0' TERM; while :; do sleep 0.1; done"
	wait_for 10 is_phase keep Running
	id=$(cid keep c)
	ip=$(kget pod/keep .status.podIP)
	berthd_stop
	berthd_start
	sleep 2
	[ "$(cid keep c)" = "$id" ] || die "container replaced"
	[ "$(restarts keep c)" = 0 ]
	[ "$(kget pod/keep .status.podIP)" = "$ip" ]
	# every container of the pod killed (as a reboot would): started again
	uid=$(kget pod/keep .metadata.uid)
	"$DOCKER_CLI" kill $("$DOCKER_CLI" ps -q --filter "label=io.kubernetes.pod.uid=$uid") >/dev/null
	wait_for 15 replaced keep c "$id" || die "not started again"
	[ "$(cstatus keep c .restartCount)" -ge 1 ]
}

@test "delete leaves nothing behind: containers, volumes, mounts" {
	cat <<EOF | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: tidy}
spec:
  terminationGracePeriodSeconds: 1
  volumes:
  - {name: m, emptyDir: {medium: Memory, sizeLimit: 8Mi}}
  - {name: d, emptyDir: {}}
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"], volumeMounts: [{name: m, mountPath: /m}, {name: d, mountPath: /d}]}
EOF
	wait_for 10 is_phase tidy Running
	uid=$(kget pod/tidy .metadata.uid)
	[ "$("$DOCKER_CLI" exec "$(cid tidy c)" stat -f -c %T /m)" = tmpfs ]
	grep -q "kubelet/pods/$uid" /proc/self/mounts
	kube delete pod tidy --grace-period=0 >/dev/null
	wait_for 10 gone tidy
	[ "$("$DOCKER_CLI" ps -aq --filter "label=io.kubernetes.pod.uid=$uid" | wc -l)" = 0 ]
	! grep -q "kubelet/pods/$uid" /proc/self/mounts
	[ ! -e "$DAEMON_TMP/d/data/kubelet/pods/$uid" ]
}

@test "S6: a pod created after a Service sees <SVC>_SERVICE_HOST/_PORT (enableServiceLinks)" {
	cat <<EOF2 | kube apply -f - >/dev/null
apiVersion: v1
kind: Service
metadata: {name: web-svc}
spec:
  selector: {app: nothing}
  ports: [{port: 80, targetPort: 8080}]
EOF2
	wait_for 5 kget_is service/web-svc '.spec.clusterIP != null' true
	ip=$(kget service/web-svc .spec.clusterIP)
	cat <<EOF2 | kube apply -f - >/dev/null
apiVersion: v1
kind: Pod
metadata: {name: envpod}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
---
apiVersion: v1
kind: Pod
metadata: {name: nolinks}
spec:
  terminationGracePeriodSeconds: 1
  enableServiceLinks: false
  containers:
  - {name: c, image: $KUBE_IMG, imagePullPolicy: IfNotPresent, command: ["sleep", "1000"]}
EOF2
	wait_for 10 is_phase envpod Running
	wait_for 10 is_phase nolinks Running
	run "$DOCKER_CLI" exec "$(cid envpod c)" env
	[[ $output == *"WEB_SVC_SERVICE_HOST=$ip"* ]] || die "env: $output"
	[[ $output == *"WEB_SVC_SERVICE_PORT=80"* ]] || die "env: $output"
	run "$DOCKER_CLI" exec "$(cid nolinks c)" env
	[[ $output != *"WEB_SVC_SERVICE_HOST"* ]] || die "enableServiceLinks: false: $output"
	kube delete service web-svc >/dev/null
}
