#!/usr/bin/env bats
# Services (k8s-semantics.md rows S1–S7): cluster IPs from the service
# range, Endpoints that follow readiness, port → targetPort (named too),
# per-connection balancing and ClientIP affinity, NodePorts on the host,
# DNS names and environment variables, refusal without endpoints.
# Pods serve their own name: busybox httpd on 8080, /www/index.html.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
	# a client pod for wget and nslookup, made before any Service
	sleeping_pod client role=client
	wait_for 60 pod_ready client
}

teardown_file() {
	[ -n "${KUBE_KEEP_LOG:-}" ] && cp "$DAEMON_TMP/d/berthd.log" "$KUBE_KEEP_LOG"
	kube_teardown_file
}

teardown() {
	kube delete svc --all >/dev/null 2>&1
	kube delete deploy --all >/dev/null 2>&1
	for p in $(kget pods '.items[].metadata.name' 2>/dev/null); do
		[ "$p" = client ] || kube delete pod "$p" --grace-period=0 >/dev/null 2>&1
	done
	wait_for 30 only_client || true
}

only_client() {
	[ "$(kget pods '[.items[].metadata.name] | join(" ")')" = client ]
}

# deployment NAME REPLICAS [READINESS]: pods labelled app=NAME serving
# their hostname on 8080 (port name "http"); with READINESS, Ready only
# while /tmp/ready exists (it does at start).
deployment() {
	local probe=
	[ -n "${3:-}" ] && probe='
        readinessProbe: {exec: {command: ["cat", "/tmp/ready"]}, periodSeconds: 1, failureThreshold: 1}'
	kube apply -f - >/dev/null <<EOF
apiVersion: apps/v1
kind: Deployment
metadata: {name: $1}
spec:
  replicas: $2
  selector: {matchLabels: {app: $1}}
  template:
    metadata: {labels: {app: $1}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: web
        image: $KUBE_IMG
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "touch /tmp/ready; mkdir -p /www; hostname > /www/index.html; exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]$probe
EOF
}

# service NAME [EXTRA-SPEC-YAML...]: by default selector app=NAME and
# port 80 → 8080
service() {
	local name=$1
	shift
	{
		printf 'apiVersion: v1\nkind: Service\nmetadata: {name: %s}\nspec:\n' "$name"
		printf '  %s\n' "$@"
		printf '%s\n' "$@" | grep -q '^selector:' || printf '  selector: {app: %s}\n' "$name"
		printf '%s\n' "$@" | grep -q '^ports:' || printf '  ports: [{port: 80, targetPort: 8080}]\n'
	} | kube apply -f -
}

vip() {
	kget "svc/$1" '.spec.clusterIP'
}

has_vip() {
	[[ "$(vip "$1")" == 10.43.* ]]
}

# The number of ready addresses in the Service's Endpoints.
endpoints() {
	kget "endpoints/$1" '[.subsets[]?.addresses[]?] | length' 2>/dev/null
}

endpoints_are() {
	[ "$(endpoints "$1")" = "$2" ]
}

# fetch FROM-POD URL: wget from inside a pod (busybox 1.35's wget -T
# crashes: timeout instead)
fetch() {
	kube exec "$1" -- timeout 3 wget -qO- "$2"
}

# hostget URL: wget from the host
hostget() {
	timeout 3 busybox wget -qO- "$1"
}

# The pod network's bridge: where the pod range is routed.
in_range() {
	local a b c d
	IFS=. read -r a b c d <<<"$1"
	[ "$a.$b" = 10.43 ] && [ "$1" != 10.43.0.0 ] && [ "$1" != 10.43.0.1 ] && [ "$1" != 10.43.255.255 ]
}

# ---- S1 ----

@test "S1: a Service gets a cluster IP from the range, kept across pod restarts; pods and the host reach it" {
	deployment web 2
	run -0 service web
	[ "$output" = "service/web created" ] || die "apply: $output"
	wait_for 5 has_vip web || die "no cluster IP: $(kube get svc web -o yaml)"
	local ip
	ip=$(vip web)
	in_range "$ip" || die "cluster IP $ip is not in 10.43.0.0/16"
	[ "$(kget svc/web '.spec.clusterIPs[0]')" = "$ip" ]
	wait_for 60 endpoints_are web 2 || die "endpoints: $(kube get endpoints web -o yaml)"
	run -0 fetch client "http://$ip/"
	[[ "$output" == web-* ]] || die "from a pod: $output"
	# from the host, through the route into the pod bridge
	run -0 hostget "http://$ip/"
	[[ "$output" == web-* ]] || die "from the host: $output"
	[[ "$(ip route show 10.43.0.0/16)" == "10.43.0.0/16 dev $(pod_bridge) "* ]] ||
		die "route: $(ip route show 10.43.0.0/16), the pod bridge: $(pod_bridge)"

	# the pods replaced, the address stays; applying again keeps it too
	for p in $(kget pods '.items[] | select(.metadata.labels.app == "web") | .metadata.name'); do
		kube delete pod "$p" --grace-period=0 >/dev/null
	done
	wait_for 60 endpoints_are web 2
	[ "$(vip web)" = "$ip" ]
	run -0 service web
	[ "$(vip web)" = "$ip" ]
	run -0 fetch client "http://$ip/"
}

@test "S1: clusterIP None is headless: no address, DNS answers the pods' IPs" {
	deployment hl 2
	run -0 service hl 'clusterIP: None'
	wait_for 60 endpoints_are hl 2
	[ "$(vip hl)" = None ]
	local want got
	want=$(kget endpoints/hl '[.subsets[].addresses[].ip] | sort | join(" ")')
	got=$(kube exec client -- nslookup hl.default.svc.cluster.local 2>/dev/null |
		sed -n '/^Name:/,$ s/^Address: *\([0-9.]*\).*/\1/p' | sort | xargs)
	[ "$got" = "$want" ] || die "nslookup: '$got', endpoints: '$want'"
	nft list table ip berth-svc | grep -q 'default/hl' && die "rules for a headless service"
	true
}

@test "S1: a cluster IP given must be in the range and free" {
	deployment web 1
	run -0 service web 'clusterIP: 10.43.7.7'
	[ "$(vip web)" = 10.43.7.7 ]
	run -1 service web2 'clusterIP: 10.43.7.7'
	[[ "$output" == *'Service "web2" is invalid: spec.clusterIPs: Invalid value: []string{"10.43.7.7"}: failed to allocate IP 10.43.7.7: provided IP is already allocated'* ]] || die "$output"
	run -1 service web3 'clusterIP: 192.168.7.7'
	[[ "$output" == *'Service "web3" is invalid: spec.clusterIPs: Invalid value: []string{"192.168.7.7"}: failed to allocate IP 192.168.7.7: the provided IP (192.168.7.7) is not in the valid range. The range of valid IPs is 10.43.0.0/16'* ]] || die "$output"
	run -1 service web 'clusterIP: 10.43.7.8'
	[[ "$output" == *'may not change once set'* ]] || die "$output"
}

@test "apply fills kube-apiserver's defaults: type, protocol, targetPort, affinity timeout, the address" {
	run -0 service dflt 'ports: [{name: a, port: 80}, {name: b, port: 81, targetPort: http}]' 'sessionAffinity: ClientIP'
	# at once, as the apiserver answers a create: no controller pass needed
	run -0 kube get svc dflt -o json
	local svc=$output
	[ "$(jq -r .spec.type <<<"$svc")" = ClusterIP ] || die "$svc"
	[ "$(jq -r '.spec.ports | map("\(.protocol) \(.targetPort)") | join(",")' <<<"$svc")" = "TCP 80,TCP http" ] || die "$svc"
	[ "$(jq -r .spec.sessionAffinityConfig.clientIP.timeoutSeconds <<<"$svc")" = 10800 ] || die "$svc"
	in_range "$(jq -r .spec.clusterIP <<<"$svc")" || die "$svc"
	[ "$(jq -r '.spec.clusterIPs[0] == .spec.clusterIP' <<<"$svc")" = true ] || die "$svc"
	[ "$(jq -r '.spec.ipFamilies | join(",")' <<<"$svc")" = IPv4 ] || die "$svc"
	# applied again unchanged: unchanged, the address kept
	run -0 service dflt 'ports: [{name: a, port: 80}, {name: b, port: 81, targetPort: http}]' 'sessionAffinity: ClientIP'
	[ "$output" = "service/dflt unchanged" ] || die "$output"
	[ "$(vip dflt)" = "$(jq -r .spec.clusterIP <<<"$svc")" ]
}

# ---- S2 ----

@test "S2: Endpoints follow scale and readiness" {
	deployment rd 1 probe
	run -0 service rd
	wait_for 60 endpoints_are rd 1
	[ "$(kget endpoints/rd '.subsets[0].addresses[0].targetRef.kind')" = Pod ]
	[ "$(kget endpoints/rd '.subsets[0].ports[0].port')" = 8080 ]
	kube scale deploy/rd --replicas=3 >/dev/null
	wait_for 60 endpoints_are rd 3 || die "scaled up: $(endpoints rd)"
	# readiness failing on one: it leaves, the others serve every request
	local victim vip_
	victim=$(kget pods '[.items[] | select(.metadata.labels.app == "rd")][0].metadata.name')
	kube exec "$victim" -- rm /tmp/ready
	wait_for 5 endpoints_are rd 2 || die "not-ready pod still in: $(kube get endpoints rd -o yaml)"
	[ "$(kget endpoints/rd '.subsets[0].notReadyAddresses[0].targetRef.name')" = "$victim" ]
	vip_=$(vip rd)
	for _ in $(seq 20); do
		run -0 fetch client "http://$vip_/"
		[ "$output" != "$victim" ] || die "request reached the not-ready pod"
	done
	kube exec "$victim" -- touch /tmp/ready
	wait_for 5 endpoints_are rd 3 || die "back: $(endpoints rd)"
}

@test "S2: publishNotReadyAddresses keeps not-ready pods in" {
	deployment pn 2 probe
	run -0 service pn 'publishNotReadyAddresses: true'
	wait_for 60 endpoints_are pn 2
	local p
	p=$(kget pods '[.items[] | select(.metadata.labels.app == "pn")][0].metadata.name')
	kube exec "$p" -- rm /tmp/ready
	wait_for 5 bash -c "[ \"\$($BUILD/berth kube get pod $p -o json | jq -r '.status.conditions[] | select(.type == \"Ready\") | .status')\" = False ]"
	sleep 2
	endpoints_are pn 2 || die "publishNotReadyAddresses: $(kube get endpoints pn -o yaml)"
}

# ---- S3 ----

@test "S3: port 80 → targetPort 8080; a named targetPort; TCP by default" {
	deployment web 1
	run -0 service web
	run -0 service named 'selector: {app: web}' 'ports: [{name: web, port: 8081, targetPort: http}]'
	wait_for 60 endpoints_are web 1
	wait_for 5 endpoints_are named 1
	[ "$(kget endpoints/named '.subsets[0].ports[0] | "\(.name) \(.port) \(.protocol)"')" = "web 8080 TCP" ]
	run -0 fetch client "http://$(vip web):80/"
	[[ "$output" == web-* ]] || die "$output"
	run -0 fetch client "http://$(vip named):8081/"
	[[ "$output" == web-* ]] || die "$output"
}

# ---- S4 ----

# tally SVC N: N requests from the client pod, counted per answering pod
tally() {
	kube exec client -- sh -c "for i in \$(seq $2); do timeout 3 wget -qO- http://$(vip "$1")/; done" | sort | uniq -c
}

@test "S4: connections are spread at random over the endpoints; ClientIP affinity pins a client" {
	deployment web 3
	run -0 service web
	wait_for 60 endpoints_are web 3
	run -0 tally web 300
	echo "$output"
	[ "$(wc -l <<<"$output")" = 3 ] || die "not every pod answered: $output"
	local n
	while read -r n _; do
		((n >= 70 && n <= 130)) || die "uneven: $output"
	done <<<"$output"

	run -0 service sticky 'selector: {app: web}' 'sessionAffinity: ClientIP'
	wait_for 5 endpoints_are sticky 3
	run -0 tally sticky 100
	echo "$output"
	[ "$(wc -l <<<"$output")" = 1 ] || die "affinity: $output"
	[ "$(awk '{print $1}' <<<"$output")" = 100 ]
}

# ---- S5 ----

@test "S5: NodePort: a given port on every local address, 127.0.0.1 too; one allocated in range" {
	deployment web 1
	run -0 service web 'type: NodePort' 'ports: [{port: 80, targetPort: 8080, nodePort: 30080}]'
	wait_for 60 endpoints_are web 1
	has_vip web
	run -0 hostget http://127.0.0.1:30080/
	[[ "$output" == web-* ]] || die "127.0.0.1: $output"
	local gw
	gw=$(ip -4 -o addr show dev "$(pod_bridge)" | awk '{print $4}' | cut -d/ -f1)
	run -0 hostget "http://$gw:30080/"
	[[ "$output" == web-* ]] || die "$gw: $output"
	run -0 fetch client "http://$gw:30080/"
	[[ "$output" == web-* ]] || die "from a pod: $output"

	run -0 service auto 'selector: {app: web}' 'type: NodePort'
	local np
	np=$(kget svc/auto '.spec.ports[0].nodePort')
	((np >= 30000 && np <= 32767)) || die "allocated $np"
	wait_for 5 endpoints_are auto 1
	run -0 hostget "http://127.0.0.1:$np/"
}

@test "S5: a node port outside the range, or taken, is refused" {
	run -1 service bad 'type: NodePort' 'ports: [{port: 80, nodePort: 8080}]'
	[[ "$output" == *'Service "bad" is invalid: spec.ports[0].nodePort: Invalid value: 8080: provided port is not in the valid range. The range of valid ports is 30000-32767'* ]] || die "$output"
	run -0 service one 'type: NodePort' 'ports: [{port: 80, nodePort: 30090}]'
	run -1 service two 'type: NodePort' 'ports: [{port: 80, nodePort: 30090}]'
	[[ "$output" == *'spec.ports[0].nodePort: Invalid value: 30090: provided port is already allocated'* ]] || die "$output"
	run -1 service three 'ports: [{port: 80, nodePort: 30091}]'
	[[ "$output" == *"spec.ports[0].nodePort: Forbidden: may not be used when \`type\` is 'ClusterIP'"* ]] || die "$output"
}

# ---- S6 ----

@test "S6: DNS names of a Service; a bare name through the search list; misses fail fast" {
	deployment web 1
	run -0 service web
	wait_for 5 has_vip web
	local ip name
	ip=$(vip web)
	for name in web.default.svc.cluster.local web.default.svc web.default web WEB.Default.SVC.cluster.local; do
		run kube exec client -- nslookup "$name"
		grep -q "Address: *$ip" <<<"$output" || die "$name: $output"
	done
	local t0=$(date +%s%N)
	run kube exec client -- nslookup nothing.default.svc.cluster.local
	[ "$status" != 0 ] || die "a name that is not there: $output"
	(($(date +%s%N) - t0 < 2000000000)) || die "NXDOMAIN took $((($(date +%s%N) - t0) / 1000000)) ms"
	# gone with the Service
	kube delete svc web >/dev/null
	wait_for 5 bash -c "! $BUILD/berth kube exec client -- nslookup web.default.svc.cluster.local >/dev/null 2>&1"
}

@test "S6: pods made after a Service have its variables" {
	run -0 service envsvc 'selector: {app: none}' 'ports: [{name: http, port: 80, targetPort: 8080}, {name: dns, port: 53, protocol: UDP}]'
	wait_for 5 has_vip envsvc
	local ip
	ip=$(vip envsvc)
	sleeping_pod late role=client
	wait_for 60 pod_ready late
	run -0 kube exec late -- env
	grep -qx "ENVSVC_SERVICE_HOST=$ip" <<<"$output" || die "$output"
	grep -qx "ENVSVC_SERVICE_PORT=80" <<<"$output"
	grep -qx "ENVSVC_SERVICE_PORT_HTTP=80" <<<"$output"
	grep -qx "ENVSVC_SERVICE_PORT_DNS=53" <<<"$output"
	grep -qx "ENVSVC_PORT=tcp://$ip:80" <<<"$output"
	grep -qx "ENVSVC_PORT_53_UDP=udp://$ip:53" <<<"$output"
	grep -qx "ENVSVC_PORT_53_UDP_ADDR=$ip" <<<"$output"
	# the client pod came before the Service: none
	run -0 kube exec client -- env
	grep -q ENVSVC <<<"$output" && die "an older pod got the variables"
	true
}

# ---- S7 ----

@test "S7: no ready endpoints: connections refused at once, not left hanging" {
	deployment web 1
	run -0 service web
	wait_for 60 endpoints_are web 1
	local ip
	ip=$(vip web)
	run -0 fetch client "http://$ip/"
	kube scale deploy/web --replicas=0 >/dev/null
	wait_for 30 endpoints_are web 0
	local t0=$(date +%s%N)
	run fetch client "http://$ip/"
	local ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$status" != 0 ] || die "answered: $output"
	[[ "$output" == *refused* ]] || die "not refused: $output"
	((ms < 1000)) || die "took $ms ms"
	t0=$(date +%s%N)
	run hostget "http://$ip/"
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$status" != 0 ] && ((ms < 1000)) || die "from the host: $status after $ms ms: $output"
}

@test "a deleted Service takes its Endpoints and rules along" {
	deployment web 1
	run -0 service web
	wait_for 60 endpoints_are web 1
	local ip
	ip=$(vip web)
	nft list table ip berth-svc | grep -q "$ip" || die "no rules for $ip"
	kube delete svc web >/dev/null
	wait_for 5 bash -c "! $BUILD/berth kube get endpoints web >/dev/null 2>&1" || die "endpoints left"
	wait_for 5 bash -c "! nft list table ip berth-svc | grep -q '$ip'" || die "rules left"
}

@test "after berthd restarts: the same address and node port, endpoints, rules and names again" {
	deployment web 1
	run -0 service web 'type: NodePort' 'ports: [{port: 80, targetPort: 8080, nodePort: 30085}]'
	wait_for 60 endpoints_are web 1
	local ip
	ip=$(vip web)
	berthd_stop
	# the daemon took its rules and route along
	nft list table ip berth-svc >/dev/null 2>&1 && die "table left: $(nft list table ip berth-svc)"
	[ -z "$(ip route show 10.43.0.0/16)" ] || die "route left: $(ip route show 10.43.0.0/16)"
	berthd_start
	wait_for 30 bash -c "nft list table ip berth-svc 2>/dev/null | grep -q '$ip'" || die "no rules again"
	[ "$(vip web)" = "$ip" ]
	[ "$(kget svc/web '.spec.ports[0].nodePort')" = 30085 ]
	wait_for 60 endpoints_are web 1
	run -0 fetch client "http://$ip/"
	run -0 hostget http://127.0.0.1:30085/
	run kube exec client -- nslookup web.default.svc.cluster.local
	grep -q "Address: *$ip" <<<"$output" || die "$output"
}
