#!/usr/bin/env bats
# ConfigMaps and Secrets (k8s-semantics.md rows C1–C6): env and envFrom,
# volumes with the atomic ..data swap, updates reaching mounted files but
# not env or subPath, Secret base64 and stringData, immutability, limits.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	kube_teardown_file
}

teardown() {
	for p in $(kget pods '.items[].metadata.name' 2>/dev/null); do kube delete pod "$p" --grace-period=0 >/dev/null 2>&1; done
	for c in $(kget configmaps '.items[].metadata.name' 2>/dev/null); do kube delete configmap "$c" >/dev/null 2>&1; done
	for s in $(kget secrets '.items[].metadata.name' 2>/dev/null); do kube delete secret "$s" >/dev/null 2>&1; done
	wait_for 30 no_pods || true
}

no_pods() {
	[ "$(kget pods '.items | length')" = 0 ]
}

# apply YAML from stdin
apply() {
	kube apply -f -
}

# pod NAME: a pod whose one container "main" runs until deleted; the rest
# of its container spec (env, envFrom, volumeMounts) and of the pod spec
# (volumes) from $1's two here-doc parts: CTR (indented 4) and POD (2).
pod() {
	local name=$1 ctr=${2:-} podspec=${3:-}
	apply <<EOF
apiVersion: v1
kind: Pod
metadata:
  name: $name
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: $KUBE_IMG
    imagePullPolicy: IfNotPresent
    command: ["sh", "-c", "trap 'exit 0' TERM; while :; do sleep 0.1; done"]
$ctr
$podspec
EOF
}

running() {
	[ "$(kget "pod/$1" '.status.containerStatuses[0].state.running != null')" = true ]
}

waiting_reason() {
	kget "pod/$1" '.status.containerStatuses[0].state.waiting.reason // ""'
}

config_error() {
	[ "$(waiting_reason "$1")" = CreateContainerConfigError ]
}

# in POD CMD...: run CMD in the pod's container
in_pod() {
	local p=$1
	shift
	kube exec "$p" -- "$@"
}

@test "C1: a missing configMapKeyRef key blocks the container until it exists" {
	pod c1 "    env:
    - name: GREETING
      valueFrom:
        configMapKeyRef: {name: c1-cm, key: greeting}
    - name: PASS
      valueFrom:
        secretKeyRef: {name: c1-sec, key: pass}
    - name: OPT
      valueFrom:
        configMapKeyRef: {name: nope, key: x, optional: true}"
	wait_for 20 config_error c1 || die "reason: $(waiting_reason c1)"
	# the message names what is missing
	run kget pod/c1 '.status.containerStatuses[0].state.waiting.message'
	[[ $output == *c1-* ]] || die "message"
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c1-cm}
data: {other: x}
EOF
	sleep 3
	config_error c1 || die "started without the key"
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c1-cm}
data: {greeting: hello}
---
apiVersion: v1
kind: Secret
metadata: {name: c1-sec}
stringData: {pass: s3cret}
EOF
	wait_for 20 running c1 || die "not running: $(waiting_reason c1)"
	run in_pod c1 sh -c 'echo "$GREETING/$PASS/${OPT-unset}"'
	[ "$output" = "hello/s3cret/unset" ] || die "env"
}

@test "C2: envFrom with prefix; env overrides envFrom; later envFrom wins; bad names skipped" {
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c2-a}
data: {A: "1", B: "2", "1BAD": "x"}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: c2-b}
data: {B: "3"}
---
apiVersion: v1
kind: Secret
metadata: {name: c2-s}
data: {S: c2VjcmV0}
EOF
	pod c2 "    envFrom:
    - configMapRef: {name: c2-a}
    - configMapRef: {name: c2-b}
    - configMapRef: {name: c2-a}
      prefix: CFG_
    - secretRef: {name: c2-s}
    env:
    - {name: A, value: \"9\"}"
	wait_for 30 running c2 || die "not running: $(waiting_reason c2)"
	run in_pod c2 sh -c 'echo "$A $B $CFG_A $CFG_B $S"'
	[ "$output" = "9 3 1 2 secret" ] || die "env"
	# "1BAD" is no variable name: skipped; with the prefix, CFG_1BAD is
	# one, and kept (the kubelet checks the prefixed name)
	run in_pod c2 env
	[[ $output != *$'\n1BAD='* ]] || die "an invalid name reached env"
	[[ $output == *CFG_1BAD=x* ]] || die "the prefixed name was dropped"
}

@test "C3: volumes: ..data and symlinks, read-only, nested items, defaultMode, Secrets on tmpfs" {
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c3-cm}
data: {app.conf: "x=1", other: "o"}
---
apiVersion: v1
kind: Secret
metadata: {name: c3-sec}
stringData: {token: t0k}
EOF
	pod c3 "    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: nested, mountPath: /etc/nested}
    - {name: sec, mountPath: /etc/sec}" "  volumes:
  - name: cfg
    configMap: {name: c3-cm}
  - name: nested
    configMap:
      name: c3-cm
      defaultMode: 0400
      items: [{key: app.conf, path: conf/app.conf}]
  - name: sec
    secret: {secretName: c3-sec}"
	wait_for 30 running c3 || die "not running: $(waiting_reason c3)"
	run in_pod c3 ls -la /etc/cfg
	[[ $output == *"..data -> ..20"* ]] || die "no ..data"
	[[ $output == *"app.conf -> ..data/app.conf"* ]] || die "no symlink"
	run in_pod c3 cat /etc/cfg/app.conf
	[ "$output" = "x=1" ] || die "content"
	run in_pod c3 sh -c 'echo x >/etc/cfg/new 2>&1'
	[ "$status" -ne 0 ] && [[ $output == *"Read-only file system"* ]] || die "writable"
	run in_pod c3 cat /etc/nested/conf/app.conf
	[ "$output" = "x=1" ] || die "nested"
	run in_pod c3 ls /etc/nested
	[ "$output" = conf ] || die "items: only the listed key"
	run in_pod c3 stat -L -c %a /etc/nested/conf/app.conf
	[ "$output" = 400 ] || die "defaultMode"
	run in_pod c3 stat -L -c %a /etc/cfg/other
	[ "$output" = 644 ] || die "default mode"
	run in_pod c3 cat /etc/sec/token
	[ "$output" = t0k ] || die "secret decoded"
	run in_pod c3 grep " /etc/sec " /proc/mounts
	[[ $output == tmpfs* ]] || die "secret volume not on tmpfs"
}

@test "C4: a ConfigMap update reaches mounted files, not env, not subPath" {
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c4}
data: {k: v1}
EOF
	pod c4 "    env:
    - name: K
      valueFrom:
        configMapKeyRef: {name: c4, key: k}
    volumeMounts:
    - {name: cfg, mountPath: /etc/cfg}
    - {name: cfg, mountPath: /etc/sub.k, subPath: k}" "  volumes:
  - name: cfg
    configMap: {name: c4}"
	wait_for 30 running c4 || die "not running: $(waiting_reason c4)"
	before=$(in_pod c4 readlink /etc/cfg/..data)
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c4}
data: {k: v2}
EOF
	# --kube-configmap-sync 2: well within 15 s
	wait_for 15 sh -c "[ \"\$('$BUILD/berth' kube exec c4 -- cat /etc/cfg/k)\" = v2 ]" || die "file not updated"
	after=$(in_pod c4 readlink /etc/cfg/..data)
	[ "$before" != "$after" ] || die "no ..data swap"
	run in_pod c4 sh -c 'echo $K'
	[ "$output" = v1 ] || die "env changed"
	run in_pod c4 cat /etc/sub.k
	[ "$output" = v1 ] || die "subPath changed"
}

@test "C5: Secret base64 and stringData: merged, stringData wins, never returned" {
	apply <<EOF
apiVersion: v1
kind: Secret
metadata: {name: c5}
data: {P: c2VjcmV0LXZhbHVl}
stringData: {T: plain, P: override}
EOF
	run kget secret/c5 '.data.P + " " + .data.T + " " + (.stringData | tostring) + " " + .type'
	[ "$output" = "b3ZlcnJpZGU= cGxhaW4= null Opaque" ] || die "stored form"
	run kube get secret c5 -o yaml
	[[ $output != *stringData* && $output != *override* ]] || die "yaml shows stringData"
	pod c5 "    env:
    - name: P
      valueFrom: {secretKeyRef: {name: c5, key: P}}
    - name: T
      valueFrom: {secretKeyRef: {name: c5, key: T}}
    volumeMounts:
    - {name: s, mountPath: /etc/s}" "  volumes:
  - name: s
    secret: {secretName: c5}"
	wait_for 30 running c5 || die "not running: $(waiting_reason c5)"
	run in_pod c5 sh -c 'echo "$P $T $(cat /etc/s/P)"'
	[ "$output" = "override plain override" ] || die "consumers"
	run kube describe secret c5
	[[ $output == *"P:"*"8 bytes"* && $output != *override* && $output != *b3ZlcnJpZGU* ]] || die "describe"
	run kube apply -f - <<EOF
apiVersion: v1
kind: Secret
metadata: {name: c5-bad}
data: {user: admin}
EOF
	[ "$status" -ne 0 ] || die "invalid base64 accepted"
	[[ $output == *"illegal base64 data at input byte 4"* ]] || die "message"
}

@test "C6: immutable, binaryData overlapping data, size limit" {
	apply <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c6}
data: {k: v}
immutable: true
EOF
	run kube apply -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c6}
data: {k: changed}
immutable: true
EOF
	[ "$status" -ne 0 ] || die "immutable changed"
	[[ $output == *'data: Forbidden: field is immutable when `immutable` is set'* ]] || die "message"
	[ "$(kget configmap/c6 .data.k)" = v ] || die "stored anyway"
	run kube apply -f - <<EOF
apiVersion: v1
kind: ConfigMap
metadata: {name: c6-dup}
data: {k: v}
binaryData: {k: dg==}
EOF
	[ "$status" -ne 0 ] && [[ $output == *"duplicate of key present in binaryData"* ]] || die "overlap"
	head -c 1048577 /dev/zero | tr '\0' v >"$BATS_TEST_TMPDIR/big"
	{
		printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c6-big}\ndata:\n  big: '
		cat "$BATS_TEST_TMPDIR/big"
		echo
	} >"$BATS_TEST_TMPDIR/big.yaml"
	run kube apply -f "$BATS_TEST_TMPDIR/big.yaml"
	[ "$status" -ne 0 ] && [[ $output == *"Too long: must have at most 1048576 bytes"* ]] || die "size"
	run kube apply -f - <<EOF
apiVersion: v1
kind: Secret
metadata: {name: c6-sec}
stringData: {a: "1"}
immutable: true
EOF
	[ "$status" -eq 0 ] || die "create"
	run kube apply -f - <<EOF
apiVersion: v1
kind: Secret
metadata: {name: c6-sec}
stringData: {a: "2"}
immutable: true
EOF
	[ "$status" -ne 0 ] && [[ $output == *"field is immutable"* ]] || die "secret immutable"
}
