#!/usr/bin/env bats
# The pod network (berth-kube): made by the first pod, not at start, so a
# daemon that runs no pods has no bridge for them; made again by the
# next pod when someone removed it, with the cluster names and the route
# of the service range moved to it.

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	kube_setup_file
}

teardown_file() {
	kube_teardown_file
}

teardown() {
	kube delete svc --all >/dev/null 2>&1
	for p in $(kget pods '.items[].metadata.name' 2>/dev/null); do
		kube delete pod "$p" --grace-period=0 >/dev/null 2>&1
	done
}

# service NAME: a ClusterIP Service for the pods labelled app=NAME
service() {
	echo "{apiVersion: v1, kind: Service, metadata: {name: $1}, spec: {selector: {app: $1}, ports: [{port: 80}]}}" |
		kube apply -f - >/dev/null
}

# resolves POD NAME IP: NAME resolves to IP from inside POD
resolves() {
	kube exec "$1" -- nslookup "$2" 2>/dev/null | grep -q "Address: *$3\$"
}

@test "a daemon with no pods has no pod network, no bridge, no route for it" {
	run "$DOCKER_CLI" network inspect berth-kube
	[ "$status" -ne 0 ] || die "berth-kube exists before any pod: $output"
	[ -z "$(ip route show 10.42.0.0/16)" ] || die "route: $(ip route show 10.42.0.0/16)"
}

@test "the first pod makes it: the pod's address in 10.42.0.0/16, hostIP its gateway, Service names" {
	sleeping_pod one app=one
	wait_for 60 pod_ready one || die "not ready: $(kube describe pod one)"
	run -0 "$DOCKER_CLI" network inspect berth-kube -f '{{(index .IPAM.Config 0).Subnet}} {{(index .IPAM.Config 0).Gateway}}'
	[ "$output" = "10.42.0.0/16 10.42.0.1" ] || die "network: $output"
	[[ "$(kget pod/one .status.podIP)" == 10.42.* ]] || die "podIP $(kget pod/one .status.podIP)"
	[ "$(kget pod/one .status.hostIP)" = 10.42.0.1 ] || die "hostIP $(kget pod/one .status.hostIP)"
	service one
	local ip
	wait_for 5 bash -c "[[ \$($BUILD/berth kube get svc one -o json | jq -r .spec.clusterIP) == 10.43.* ]]"
	ip=$(kget svc/one .spec.clusterIP)
	wait_for 10 resolves one one.default.svc.cluster.local "$ip" || die "no name: $(kube exec one -- nslookup one.default.svc.cluster.local 2>&1)"
}

@test "removed while no pod runs, the next pod makes it again: names and the service route follow" {
	sleeping_pod one app=one
	wait_for 60 pod_ready one
	local old
	old=$(pod_bridge)
	kube delete pod one >/dev/null
	run -0 "$DOCKER_CLI" network rm berth-kube
	! ip link show "$old" 2>/dev/null || die "bridge $old left"
	service two
	sleeping_pod two app=two
	wait_for 60 pod_ready two || die "not ready: $(kube describe pod two)"
	local br ip
	br=$(pod_bridge)
	[ "$br" != "$old" ] || die "the same bridge $br"
	ip=$(kget svc/two .spec.clusterIP)
	wait_for 10 resolves two two.default.svc.cluster.local "$ip" || die "no name: $(kube exec two -- nslookup two.default.svc.cluster.local 2>&1)"
	# host traffic to the service range goes into the new bridge
	wait_for 10 bash -c "[[ \"\$(ip route show 10.43.0.0/16)\" == '10.43.0.0/16 dev $br '* ]]" ||
		die "route: $(ip route show 10.43.0.0/16), bridge $br"
}
