#!/bin/sh
# Start Debian's docker-registry on 127.0.0.1:<free port> from a temp dir.
#   run-registry.sh start [USER:PASSWORD]   prints "URL PID DIR" on one line
#   run-registry.sh stop PID DIR            stops that registry, removes DIR
# With USER:PASSWORD the registry requires htpasswd (basic) auth.
set -eu

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

case "${1:-start}" in
start)
        dir=$(mktemp -d /tmp/berth-registry-XXXXXX)
        port=$(free_port)
        mkdir -p "$dir/data"
        auth=""
        if [ -n "${2:-}" ]; then
                user=${2%%:*}
                pass=${2#*:}
                htpasswd -Bbn "$user" "$pass" > "$dir/htpasswd" 2>/dev/null
                auth="auth:
  htpasswd:
    realm: berth-test
    path: $dir/htpasswd"
        fi
        cat > "$dir/config.yml" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: berth-test-secret
$auth
CFG
        docker-registry serve "$dir/config.yml" > "$dir/registry.log" 2>&1 < /dev/null &
        pid=$!
        echo "$pid" > "$dir/pid"
        i=0
        while :; do
                code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true)
                case "$code" in 200|401) break ;; esac
                i=$((i + 1))
                if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
                        echo "run-registry.sh: registry did not start:" >&2
                        cat "$dir/registry.log" >&2
                        kill "$pid" 2>/dev/null || true
                        rm -rf "$dir"
                        exit 1
                fi
                sleep 0.1
        done
        echo "http://127.0.0.1:$port $pid $dir"
        ;;
stop)
        pid=$2 dir=$3
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$pid" 2>/dev/null || true
        case "$dir" in /tmp/berth-registry-*) rm -rf "$dir" ;; esac
        ;;
*)
        echo "usage: $0 start [USER:PASSWORD] | stop PID DIR" >&2
        exit 2
        ;;
esac
