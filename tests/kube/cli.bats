#!/usr/bin/env bats
# The `berth kube` command line end to end against berthd (docs/kube-api.md):
# apply from files, directories and stdin; get's kubectl tables, -o
# wide|json|yaml|name, -l, -n, -A and several types; describe; delete by
# name, selector and manifest; scale; rollout status|history|undo; logs
# (also --previous) and exec by the pod's container; generate; and the
# errors kubectl prints.  The columns themselves are unit-tested in
# tests/unit/test-cli-kube.c.

bats_require_minimum_version 1.5.0
load helpers

NODEPORT=31789

setup_file() {
	kube_setup_file
	mkdir -p "$DAEMON_TMP/m"
	cat >"$DAEMON_TMP/m/10-web.yaml" <<EOF
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, tier: front}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: main
        image: $KUBE_IMG
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "echo hello from \$HOSTNAME; trap 'exit 0' TERM; while :; do sleep 0.1; done"]
        env:
        - {name: VERSION, value: one}
        - name: PASSWORD
          valueFrom: {secretKeyRef: {name: creds, key: password}}
        resources:
          requests: {cpu: 100m}
          limits: {cpu: 500m, memory: 64Mi}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: NodePort
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080, nodePort: $NODEPORT}
EOF
	cat >"$DAEMON_TMP/m/00-config.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data:
  mode: prod
  index.html: |
    hello
---
apiVersion: v1
kind: Secret
metadata: {name: creds}
stringData:
  password: hunter2-secret
  user: admin
EOF
	cat >"$DAEMON_TMP/m/20-hpa.json" <<EOF
{"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
 "metadata": {"name": "web"},
 "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
          "minReplicas": 1, "maxReplicas": 4,
          "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                       "target": {"type": "Utilization", "averageUtilization": 80}}}]}}
EOF
	echo "not a manifest" >"$DAEMON_TMP/m/README.txt"
}

teardown_file() {
	kube_teardown_file
}

# A Ready, not terminating pod of the web Deployment.
a_web_pod() {
	kube get pods -l app=web -o json | jq -r '[.items[] | select(.metadata.deletionTimestamp == null) |
		select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))][0].metadata.name'
}

web_ready() {
	[ "$(ready_pods app=web)" = 2 ]
}

# The objects of the manifest directory, applied and ready.
apply_web() {
	kube apply -f "$DAEMON_TMP/m" >/dev/null
	wait_for 60 web_ready || die "web not ready: $(kube get pods 2>&1)"
}

@test "help: kube lists its commands, each has its flags, bad commands and flags fail" {
	run berth --help
	[[ $output == *"kube "* ]] || die "kube not in berth --help"
	run -0 berth kube --help
	for c in apply get describe delete scale rollout logs exec generate; do
		[[ $output == *"  $c "* ]] || die "no $c in kube --help"
	done
	run -0 berth kube get --help
	[[ $output == *"--all-namespaces"* && $output == *"--selector"* && $output == *"--output"* ]] || die "get flags"
	run -0 berth kube rollout --help
	[[ $output == *"--to-revision"* && $output == *"--timeout"* ]] || die "rollout flags"
	run -1 berth kube frobnicate
	[[ $output == *'unknown command "frobnicate"'* ]] || die "unknown command"
	run -1 berth kube get pods --frobnicate
	[[ $output == *"unknown flag: --frobnicate"* ]] || die "unknown flag"
	run -1 berth kube get
	[[ $output == *"you must specify the type of resource"* ]] || die "no type"
	run -1 berth kube get widgets
	[[ $output == *"doesn't have a resource type \"widgets\""* ]] || die "bad type"
	run -1 berth kube apply
	run -1 berth kube scale deploy/web
	[[ $output == *'"replicas" not set'* ]] || die "scale without --replicas"
	run -1 berth kube get pods -l 'app in (a'
	[[ $output == *"unable to parse requirement"* ]] || die "bad selector"
}

@test "apply: a directory in name order, then unchanged, configured, from stdin, warnings, errors" {
	run --separate-stderr -0 kube apply -f "$DAEMON_TMP/m"
	expected="configmap/web-config created
secret/creds created
deployment.apps/web created
service/web created
horizontalpodautoscaler.autoscaling/web created"
	[ "$output" = "$expected" ] || die "first apply"
	run --separate-stderr -0 kube apply -f "$DAEMON_TMP/m/10-web.yaml"
	[ "$output" = $'deployment.apps/web unchanged\nservice/web unchanged' ] || die "second apply"
	# the Deployment stays at revision 1 for the rollout test
	sed 's/mode: prod/mode: staging/' "$DAEMON_TMP/m/00-config.yaml" >"$BATS_TEST_TMPDIR/config2.yaml"
	run --separate-stderr -0 kube apply -f - <"$BATS_TEST_TMPDIR/config2.yaml"
	[[ $output == "configmap/web-config configured"$'\n'* ]] || die "stdin apply: $output"
	kube apply -f "$DAEMON_TMP/m/00-config.yaml" >/dev/null
	cat >"$BATS_TEST_TMPDIR/warn.yaml" <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: warned}
data: {a: b}
frobnicate: 1
EOF
	run --separate-stderr -0 kube apply -f "$BATS_TEST_TMPDIR/warn.yaml"
	[ "$output" = "configmap/warned created" ] || die "warned apply"
	[[ $stderr == *'Warning: unknown field "'*'frobnicate"'* ]] || die "no warning: $stderr"
	printf 'apiVersion: v1\nkind: Widget\nmetadata: {name: w}\n' >"$BATS_TEST_TMPDIR/widget.yaml"
	run --separate-stderr -1 kube apply -f "$BATS_TEST_TMPDIR/widget.yaml"
	[[ $stderr == "Error from server ("*"): error when applying \"$BATS_TEST_TMPDIR/widget.yaml\": "* ]] || die "bad kind: $stderr"
	run -1 kube apply -f "$BATS_TEST_TMPDIR/absent.yaml"
	[[ $output == *"the path \"$BATS_TEST_TMPDIR/absent.yaml\" does not exist"* ]] || die "absent file"
	kube delete configmap warned >/dev/null
}

@test "get: kubectl's tables for each type, aliases, wide, labels, several types" {
	apply_web
	run -0 kube get pods
	[[ ${lines[0]} =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE$ ]] || die "pods header"
	[ "${#lines[@]}" = 3 ] || die "pods rows"
	[[ ${lines[1]} =~ ^web-[a-z0-9]+-[a-z0-9]{5}\ +1/1\ +Running\ +0\ +[0-9]+s$ ]] || die "pod row: ${lines[1]}"
	run -0 kube get po -o wide
	[[ ${lines[0]} =~ ^NAME\ +READY\ +STATUS\ +RESTARTS\ +AGE\ +IP\ +NODE\ +NOMINATED\ NODE\ +READINESS\ GATES$ ]] || die "wide header"
	ip=$(kget pods '.items[0].status.podIP')
	[[ ${lines[1]} == *" $ip "* ]] || die "no IP $ip in ${lines[1]}"
	run -0 kube get deploy
	[[ ${lines[0]} =~ ^NAME\ +READY\ +UP-TO-DATE\ +AVAILABLE\ +AGE$ ]] || die "deploy header"
	[[ ${lines[1]} =~ ^web\ +2/2\ +2\ +2\ +[0-9]+s$ ]] || die "deploy row: ${lines[1]}"
	run -0 kube get deployments.apps web -o wide
	[[ ${lines[0]} == *"CONTAINERS"*"IMAGES"*"SELECTOR" ]] || die "deploy wide header"
	[[ ${lines[1]} =~ \ main\ +$KUBE_IMG\ +app=web$ ]] || die "deploy wide row: ${lines[1]}"
	run -0 kube get rs
	[[ ${lines[0]} =~ ^NAME\ +DESIRED\ +CURRENT\ +READY\ +AGE$ ]] || die "rs header"
	[[ ${lines[1]} =~ ^web-[a-z0-9]+\ +2\ +2\ +2\ +[0-9]+s$ ]] || die "rs row: ${lines[1]}"
	run -0 kube get svc web
	[[ ${lines[0]} =~ ^NAME\ +TYPE\ +CLUSTER-IP\ +EXTERNAL-IP\ +PORT\(S\)\ +AGE$ ]] || die "svc header"
	[[ ${lines[1]} =~ ^web\ +NodePort\ +[0-9.]+\ +\<none\>\ +80:$NODEPORT/TCP\ +[0-9]+s$ ]] || die "svc row: ${lines[1]}"
	run -0 kube get cm web-config
	[[ ${lines[1]} =~ ^web-config\ +2\ +[0-9]+s$ ]] || die "cm row: ${lines[1]}"
	run -0 kube get secret creds
	[[ ${lines[0]} =~ ^NAME\ +TYPE\ +DATA\ +AGE$ ]] || die "secret header"
	[[ ${lines[1]} =~ ^creds\ +Opaque\ +2\ +[0-9]+s$ ]] || die "secret row: ${lines[1]}"
	run -0 kube get hpa
	[[ ${lines[0]} =~ ^NAME\ +REFERENCE\ +TARGETS\ +MINPODS\ +MAXPODS\ +REPLICAS\ +AGE$ ]] || die "hpa header"
	[[ ${lines[1]} =~ ^web\ +Deployment/web\ +cpu:\ [^\ ]+/80%\ +1\ +4\ +[0-9]+\ +[0-9]+s$ ]] || die "hpa row: ${lines[1]}"
	wait_for 10 eval '[[ "$(kube get ep web)" =~ [0-9.]+:8080,[0-9.]+:8080 ]]' || die "endpoints: $(kube get ep web)"
	run -0 kube get events
	[[ ${lines[0]} =~ ^LAST\ SEEN\ +TYPE\ +REASON\ +OBJECT\ +MESSAGE$ ]] || die "events header"
	[[ $output == *"pod/web-"* ]] || die "no pod events"
	run -0 kube get pods -l tier=front --show-labels
	[[ ${lines[0]} == *" LABELS" && ${lines[1]} == *"app=web,"*"tier=front" ]] || die "labels"
	run -0 kube get deploy,svc
	[[ $output == *$'\n\nNAME'* ]] || die "no blank line between the tables"
	[[ $output == *"deployment.apps/web "* && $output == *"service/web "* ]] || die "no kind/ names: $output"
	run -0 kube get deploy/web svc/web -o name
	[ "$output" = $'deployment.apps/web\nservice/web' ] || die "-o name"
	run -0 kube get all -o name
	[[ $output == *pod/web-* && $output == *replicaset.apps/web-* && $output == *horizontalpodautoscaler.autoscaling/web* ]] || die "all"
}

@test "get: -o json and yaml, selectors, namespaces, not found and empty" {
	apply_web
	kube get deployment web -o json | jq -e '.kind == "Deployment" and .metadata.name == "web" and .spec.replicas == 2'
	kube get pods -o json | jq -e '.kind == "List" and (.items | length) == 2'
	kube get pods,svc -o json | jq -e '[.items[].kind] | sort == ["Pod", "Pod", "Service"]'
	run -0 kube get deploy web -o yaml
	[[ ${lines[0]} == "apiVersion: apps/v1" || $output == *$'\nkind: Deployment'* ]] || die "yaml: $output"
	[[ $output == *"name: web"* ]] || die "yaml name"
	run -0 kube get svc,cm -o yaml
	[[ $output == *"kind: Service"* && $output == *"kind: ConfigMap"* && $output == *$'\n---\n'* ]] || die "yaml docs"
	[ "$(kget pods '.items | length' -l 'app=web,tier in (front,back)')" = 2 ]
	[ "$(kget pods '.items | length' -l 'app=web,tier notin (front)')" = 0 ]
	[ "$(kget pods '.items | length' -l '!tier')" = 0 ]
	run -1 kube get deployment nope
	[ "$output" = 'Error from server (NotFound): deployments.apps "nope" not found' ] || die "not found: $output"
	run -1 kube get deploy web nope -o name
	[[ $output == *"deployment.apps/web"* && $output == *'"nope" not found'* ]] || die "one found, one not"
	run --separate-stderr -0 kube get pods -n empty
	[ -z "$output" ] && [ "$stderr" = "No resources found in empty namespace." ] || die "empty: $output / $stderr"
	# another namespace
	kube apply -f - -n team <<EOF
apiVersion: v1
kind: Namespace
metadata: {name: team}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web-config}
data: {mode: team}
EOF
	run -0 kube get cm -n team -o name
	[ "$output" = configmap/web-config ] || die "-n team: $output"
	run -0 kube get cm -A
	[[ ${lines[0]} =~ ^NAMESPACE\ +NAME\ +DATA\ +AGE$ ]] || die "-A header"
	[[ $output == *$'\ndefault '*web-config* && $output == *$'\nteam '*web-config* ]] || die "-A rows: $output"
	run -1 kube get cm web-config -A
	[[ $output == *"cannot be retrieved by name across all namespaces"* ]] || die "-A with a name"
	run -0 kube get ns team -o name
	[ "$output" = namespace/team ] || die "get ns: $output"
	kube delete cm web-config -n team >/dev/null
}

@test "describe: pod, deployment, replicaset, service, configmap, hpa; a secret's values never" {
	apply_web
	pod=$(a_web_pod)
	run -0 kube describe pod "$pod"
	for want in "Name:  *$pod" "Namespace:  *default" "Labels:  *app=web" "Status:  *Running" "IP:  *[0-9.]+" \
		"Controlled By:  *ReplicaSet/web-" "Container ID:  *berth://[0-9a-f]+" "State:  *Running" "Ready:  *True" \
		"Restart Count:  *0" "cpu:  *500m" "memory:  *64Mi" "VERSION:  *one" \
		"PASSWORD:  *<set to the key 'password' in secret 'creds'>" "Conditions:" "Ready  *True" "QoS Class:  *Burstable" \
		"Events:"; do
		grep -Eq "$want" <<<"$output" || die "describe pod: no /$want/"
	done
	[[ $output != *hunter2* ]] || die "the secret's value in describe pod"
	run -0 kube describe deploy web
	for want in "Replicas:  *2 desired \| 2 updated \| 2 total \| 2 available \| 0 unavailable" "StrategyType:  *RollingUpdate" \
		"Pod Template:" "Image:  *$KUBE_IMG" "NewReplicaSet:  *web-[a-z0-9]+ \(2/2 replicas created\)" "Available  *True"; do
		grep -Eq "$want" <<<"$output" || die "describe deploy: no /$want/"
	done
	run -0 kube describe rs
	grep -Eq "Pods Status:  *2 Running / 0 Waiting / 0 Succeeded / 0 Failed" <<<"$output" || die "describe rs"
	run -0 kube describe svc web
	for want in "Type:  *NodePort" "Port:  *http  *80/TCP" "TargetPort:  *8080/TCP" "NodePort:  *http  *$NODEPORT/TCP" \
		"Endpoints:  *[0-9.]+:8080"; do
		grep -Eq "$want" <<<"$output" || die "describe svc: no /$want/"
	done
	run -0 kube describe cm web-config
	[[ $output == *$'mode:\n----\nprod'* ]] || die "describe cm"
	run -0 kube describe secret creds
	grep -Eq "password:  *14 bytes" <<<"$output" || die "secret size"
	grep -Eq "user:  *5 bytes" <<<"$output" || die "secret size"
	[[ $output != *hunter2* && $output != *admin* ]] || die "secret value shown"
	run -0 kube describe hpa web
	grep -Eq "Reference:  *Deployment/web" <<<"$output" || die "describe hpa"
	# a name prefix describes every match, as kubectl
	run -0 kube describe pods web-
	[ "$(grep -c '^Name:' <<<"$output")" = 2 ] || die "prefix"
	run -1 kube describe pod nope
	[ "$output" = 'Error from server (NotFound): pods "nope" not found' ] || die "describe not found"
}

@test "scale and rollout: status, history, undo" {
	apply_web
	run -0 kube scale deploy/web --replicas=3
	[ "$output" = "deployment.apps/web scaled" ]
	run -0 kube rollout status deployment/web --timeout=60s
	[[ ${lines[-1]} == 'deployment "web" successfully rolled out' ]] || die "status: $output"
	[ "$(ready_pods app=web)" = 3 ]
	run -0 kube scale deployment web --replicas 2
	sed 's/value: one/value: two/' "$DAEMON_TMP/m/10-web.yaml" | kube apply -f - >/dev/null
	run -0 kube rollout status deploy/web --timeout=60s
	[[ $output == *'Waiting for deployment "web" rollout to finish'* ]] || echo "# (rollout finished before the first look)" >&3
	[[ ${lines[-1]} == 'deployment "web" successfully rolled out' ]] || die "status v2: $output"
	run -0 kube rollout history deploy/web
	[ "${lines[0]}" = "deployment.apps/web" ] || die "history title: $output"
	[[ ${lines[1]} =~ ^REVISION\ +CHANGE-CAUSE$ ]] || die "history header"
	[[ ${lines[2]} =~ ^1\ +\<none\>$ && ${lines[3]} =~ ^2\ +\<none\>$ ]] || die "history rows: $output"
	run -0 kube rollout history deploy/web --revision=1
	[[ $output == *"with revision #1"* && $output == *"VERSION:  "*"one"* ]] || die "history --revision: $output"
	run -0 kube rollout undo deploy/web
	[ "$output" = "deployment.apps/web rolled back" ]
	run -0 kube rollout status deploy/web --timeout=60s
	[ "$(kget pods '[.items[] | select(.metadata.deletionTimestamp == null) | .spec.containers[0].env[0].value] | unique | join(",")' -l app=web)" = one ]
	run -1 kube rollout undo deploy/web --to-revision=9
	[[ $output == *"unable to find specified revision 9"* ]] || die "undo 9"
	run -1 kube rollout status deploy/nope
	[[ $output == *'deployments.apps "nope" not found'* ]] || die "status nope"
	run -1 kube rollout status svc/web
	[[ $output == *"no status viewer has been implemented for Service"* ]] || die "status svc"
	run -1 kube scale svc/web --replicas=1
	run -1 kube scale deploy/nope --replicas=1
	[[ $output == *'deployments.apps "nope" not found'* ]] || die "scale nope"
}

restarted() {
	[ "$(kget "pod/$1" '.status.containerStatuses[0].restartCount')" -ge 1 ] 2>/dev/null
}

@test "logs and exec reach the pod's container; --previous the instance before" {
	apply_web
	pod=$(a_web_pod)
	wait_for 10 eval '[[ "$(kube logs "$pod")" == "hello from "* ]]' || die "logs: $(kube logs "$pod" 2>&1)"
	run -0 kube logs "pod/$pod" -c main --tail 1
	[[ $output == "hello from "* ]] || die "logs -c"
	run -1 kube logs "$pod" -c nope
	[[ $output == *"container nope is not valid for pod $pod"* ]] || die "logs -c nope"
	run -0 kube exec "$pod" -- sh -c 'echo "$VERSION $PASSWORD"'
	[ "$output" = "one hunter2-secret" ] || die "exec: $output"
	run -3 kube exec "$pod" -c main -- sh -c 'exit 3'
	run -0 kube exec -i "$pod" -- cat <<<"from stdin"
	[ "$output" = "from stdin" ] || die "exec -i: $output"
	run -1 kube exec nope -- true
	[[ $output == *'pods "nope" not found'* ]] || die "exec nope"
	# a container that exits and restarts: --previous reads the instance before
	kube apply -f - <<EOF
apiVersion: v1
kind: Pod
metadata: {name: twice}
spec:
  restartPolicy: Always
  containers:
  - name: c
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "echo run at \$(cat /proc/uptime); sleep 1; exit 1"]
EOF
	wait_for 30 restarted twice || die "no restart"
	run -0 kube logs twice --previous
	[[ $output == "run at "* ]] || die "--previous: $output"
	prev=$output
	wait_for 30 eval '[[ "$(kube logs twice 2>/dev/null)" == "run at "* ]]' || die "current: $(kube logs twice 2>&1)"
	kube logs twice --previous | grep -q "run at" || die "--previous again"
	[ "$(kget pod/twice '.status.containerStatuses[0].lastState.terminated.containerID' | cut -c1-8)" = "berth://" ] ||
		die "lastState.terminated.containerID"
	echo "# previous: $prev" >&3
	kube delete pod twice --grace-period=0 >/dev/null
}

@test "delete: by name, by selector, by manifest; waits until gone; not found" {
	apply_web
	run -0 kube delete -f "$DAEMON_TMP/m/20-hpa.json"
	[ "$output" = 'horizontalpodautoscaler.autoscaling "web" deleted' ] || die "delete -f: $output"
	run -1 kube delete -f "$DAEMON_TMP/m/20-hpa.json"
	[[ $output == *'Error from server (NotFound): error when deleting "'*'20-hpa.json": horizontalpodautoscalers.autoscaling "web" not found'* ]] ||
		die "delete -f again: $output"
	run -0 kube delete -f "$DAEMON_TMP/m/20-hpa.json" --ignore-not-found
	[ -z "$output" ]
	pod=$(a_web_pod)
	run -0 kube delete pod "$pod"
	[ "$output" = "pod \"$pod\" deleted" ]
	# kubectl's --wait: gone when delete returns
	run -1 kube get pod "$pod"
	[[ $output == *"NotFound"* ]] || die "pod still there after delete: $output"
	run -1 kube delete pod nope
	[ "$output" = 'Error from server (NotFound): pods "nope" not found' ]
	run -1 kube delete pods
	[[ $output == *"no name was specified"* ]] || die "delete without names"
	run -0 kube delete deploy/web svc/web
	[ "$output" = $'deployment.apps "web" deleted\nservice "web" deleted' ] || die "delete two: $output"
	wait_eq 30 0 kget pods '.items | length' -l app=web || die "pods not cascaded"
	run -0 kube delete cm,secret -l 'nothing-has-this'
	run -0 kube delete cm --all
	[[ $output == *'configmap "web-config" deleted'* ]] || die "--all: $output"
	run -1 kube get cm web-config
	kube delete -f "$DAEMON_TMP/m" --ignore-not-found >/dev/null
	run --separate-stderr -0 kube get all
	[ -z "$output" ] || die "left over: $output"
}

@test "generate: a running container as a Pod manifest" {
	"$DOCKER_CLI" run -d --name gen "$KUBE_IMG" sleep 1000 >/dev/null
	run -0 kube generate gen
	[[ $output == *"kind: Pod"* && $output == *"$KUBE_IMG"* ]] || die "generate: $output"
	run -1 kube generate
	"$DOCKER_CLI" rm -f gen >/dev/null
}
