#!/bin/bash
# The quick-start demo: install, build, start berthd (its own data root,
# exec root and socket in a temp dir), make an image from Debian's
# busybox-static with `berth import`, run it: from the inside it reports
# its hostname, that it is PID 1, and its 64 MiB memory limit; then a
# detached container shown by `berth ps`, `berth logs` and `berth stats`;
# then a network: a web server reached by name from another container and
# through a published port on 127.0.0.1; then Kubernetes manifests with
# `berth kube`: a Deployment and a NodePort Service, a deleted pod
# replaced, a scale-up.  berthd is stopped and everything removed at the
# end (its networks too).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh

d=$(mktemp -d /tmp/berth-demo.XXXXXX)
berthd_pid=""
cleanup() {
	build/berth rm -f ticker web >/dev/null 2>&1 || true
	build/berth network rm demo-net >/dev/null 2>&1 || true
	# in the foreground: the pods are gone before the Deployment is, and
	# so before berthd stops (it leaves running containers running)
	build/berth kube delete -f "$d/web.yaml" --cascade=foreground >/dev/null 2>&1 || true
	build/berth rm -f $(build/berth ps -aq 2>/dev/null) >/dev/null 2>&1 || true
	build/berth network rm berth-kube >/dev/null 2>&1 || true
	[ -n "$berthd_pid" ] && kill "$berthd_pid" 2>/dev/null && wait "$berthd_pid" 2>/dev/null || true
	grep -o " $d[^ ]*" /proc/self/mounts | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
	ip link del berth0 2>/dev/null || true
	rm -rf "$d"
}
trap cleanup EXIT
export BERTH_HOST=unix://$d/berth.sock
build/berthd -H "$BERTH_HOST" --data-root "$d/data" --exec-root "$d/run" >"$d/berthd.log" 2>&1 &
berthd_pid=$!
for _ in $(seq 100); do [ -S "$d/berth.sock" ] && break; sleep 0.05; done

say() { echo; echo "\$ berth $*"; build/berth "$@"; }
mkdir -p "$d/rootfs/bin"
cp /bin/busybox "$d/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do [ "$applet" = busybox ] || ln -s busybox "$d/rootfs/bin/$applet"; done
tar -C "$d/rootfs" -cf "$d/busybox.tar" .

say import -c 'CMD ["/bin/sh"]' -c 'ENV PATH=/bin' "$d/busybox.tar" demo/busybox:1
# and an image built from it by a Dockerfile
mkdir -p "$d/app"
echo "hello from a Dockerfile" >"$d/app/greeting"
cat >"$d/app/Dockerfile" <<'DOCKERFILE'
FROM demo/busybox:1
COPY greeting /greeting
RUN echo "built on $(date -u +%F)" >> /greeting
CMD ["cat", "/greeting"]
DOCKERFILE
say build -t demo/app:1 "$d/app"
say run --rm demo/app:1
say images
script='echo "hostname:     $(hostname)"; echo "pid:          $$ (PID 1 inside its own PID namespace)"; limit=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes); echo "memory limit: $limit bytes ($((limit / 1048576)) MiB)"'
say run --rm --network none --hostname berth-demo -m 64m demo/busybox:1 sh -c "$script"
say run -d --name ticker --network none demo/busybox:1 sh -c 'i=0; while true; do echo "tick $i"; i=$((i+1)); sleep 0.5; done' >/dev/null
sleep 1.2
say ps
say logs ticker
say stats --no-stream ticker

# networking: a user network gives names; -p publishes on the host
say network create demo-net >/dev/null
say run -d --name web --network demo-net -p 127.0.0.1:18080:80 demo/busybox:1 httpd -f -p 80 -h /etc >/dev/null
say run --rm --network demo-net demo/busybox:1 wget -qO- http://web/hostname
echo
echo "\$ curl http://127.0.0.1:18080/hostname"
curl -s http://127.0.0.1:18080/hostname
say port web

# Kubernetes manifests, reconciled: a Deployment and a Service
cat >"$d/web.yaml" <<YAML
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec:
  replicas: 3
  selector: {matchLabels: {app: hello}}
  template:
    metadata: {labels: {app: hello}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: demo/busybox:1
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "mkdir -p /www && hostname >/www/index.html && exec httpd -f -p 8080 -h /www"]
        ports: [{name: http, containerPort: 8080}]
        readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  type: NodePort
  selector: {app: hello}
  ports: [{port: 80, targetPort: http, nodePort: 30080}]
YAML
say kube apply -f "$d/web.yaml"
build/berth kube rollout status deployment/hello --timeout=60s >/dev/null
say kube get deployments,pods,services
echo
echo "\$ for i in \$(seq 9); do curl -s http://127.0.0.1:30080/; done | sort | uniq -c    # spread over the pods"
for _ in $(seq 9); do curl -s http://127.0.0.1:30080/; done | sort | uniq -c
victim=$(build/berth kube get pods -l app=hello -o name | head -1)
say kube delete "$victim" --wait=false
sleep 1
say kube get pods
say kube scale deployment/hello --replicas=5
build/berth kube rollout status deployment/hello --timeout=60s >/dev/null
say kube get deployment hello
