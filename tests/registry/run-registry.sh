#!/bin/sh
# Start Debian's docker-registry on 127.0.0.1:<free port> from a temp dir.
#   run-registry.sh start [USER:PASSWORD]   prints "URL PID DIR" on one line
#   run-registry.sh start-token USER:PASSWORD
#                                           same, with bearer token auth
#   run-registry.sh start-flaky BLOBFILE PLAN
#                                           same, for flaky-server.py: a
#                                           fake registry serving BLOBFILE
#                                           badly as PLAN says
#   run-registry.sh stop PID DIR            stops that registry (and its
#                                           token server), removes DIR
# With USER:PASSWORD `start` requires htpasswd (basic) auth.  start-token
# also runs token-server.py (next to this script) on another free port of
# 127.0.0.1: the registry trusts its certificate; DIR/token.pid is its pid
# and DIR/token.log lists the scopes clients asked for.
# BERTH_REGISTRY_RELATIVE_URLS=1 makes the registry answer relative
# Location headers (http.relativeurls).
set -eu

here=$(cd "$(dirname "$0")" && pwd)

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

# fail DIR MESSAGE: clean up what was started and give up
fail() {
        echo "run-registry.sh: $2" >&2
        for f in "$1/registry.log" "$1/token-server.log"; do
                [ -s "$f" ] && cat "$f" >&2
        done
        for f in "$1/pid" "$1/token.pid"; do
                [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
        done
        rm -rf "$1"
        exit 1
}

# start_token DIR USER:PASSWORD: prints the token server's port
start_token() {
        BERTH_TOKEN_CREDS=$2 python3 "$here/token-server.py" "$1" > "$1/token-server.log" 2>&1 < /dev/null &
        echo "$!" > "$1/token.pid"
        i=0
        while [ ! -f "$1/token.port" ]; do
                i=$((i + 1))
                if [ $i -gt 200 ] || ! kill -0 "$(cat "$1/token.pid")" 2>/dev/null; then
                        fail "$1" "token server did not start"
                fi
                sleep 0.05
        done
        cat "$1/token.port"
}

auth_htpasswd() {
        user=${2%%:*}
        pass=${2#*:}
        htpasswd -Bbn "$user" "$pass" > "$1/htpasswd" 2>/dev/null
        printf 'auth:\n  htpasswd:\n    realm: berth-test\n    path: %s/htpasswd\n' "$1"
}

auth_token() {
        printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: berth-registry\n' "$2"
        printf '    issuer: berth-token-server\n    rootcertbundle: %s/token.crt\n' "$1"
}

start_registry() {
        dir=$1 port=$2 auth=$3
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
  relativeurls: $([ "${BERTH_REGISTRY_RELATIVE_URLS:-}" = 1 ] && echo true || echo false)
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
                        fail "$dir" "registry did not start:"
                fi
                sleep 0.1
        done
        echo "http://127.0.0.1:$port $pid $dir"
}

stop_pid() {
        kill "$1" 2>/dev/null || true
        i=0
        while kill -0 "$1" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
        kill -9 "$1" 2>/dev/null || true
}

case "${1:-start}" in
start)
        dir=$(mktemp -d /tmp/berth-registry-XXXXXX)
        mkdir -p "$dir/data"
        auth=""
        if [ -n "${2:-}" ]; then
                auth=$(auth_htpasswd "$dir" "$2")
        fi
        start_registry "$dir" "$(free_port)" "$auth"
        ;;
start-token)
        case "${2:-}" in *:*) ;; *) echo "usage: $0 start-token USER:PASSWORD" >&2; exit 2 ;; esac
        dir=$(mktemp -d /tmp/berth-registry-XXXXXX)
        mkdir -p "$dir/data"
        tport=$(start_token "$dir" "$2")
        start_registry "$dir" "$(free_port)" "$(auth_token "$dir" "$tport")"
        ;;
start-flaky)
        dir=$(mktemp -d /tmp/berth-registry-XXXXXX)
        python3 "$here/flaky-server.py" "$dir" "$2" "$3" > "$dir/flaky-server.log" 2>&1 < /dev/null &
        echo "$!" > "$dir/pid"
        i=0
        while [ ! -f "$dir/flaky.port" ]; do
                i=$((i + 1))
                if [ $i -gt 200 ] || ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
                        fail "$dir" "flaky server did not start"
                fi
                sleep 0.05
        done
        echo "http://127.0.0.1:$(cat "$dir/flaky.port") $(cat "$dir/pid") $dir"
        ;;
stop)
        pid=$2 dir=$3
        stop_pid "$pid"
        case "$dir" in
        /tmp/berth-registry-*)
                if [ -f "$dir/token.pid" ]; then
                        stop_pid "$(cat "$dir/token.pid")"
                fi
                rm -rf "$dir"
                ;;
        esac
        ;;
*)
        echo "usage: $0 start [USER:PASSWORD] | start-token USER:PASSWORD | start-flaky BLOBFILE PLAN |" \
                "stop PID DIR" >&2
        exit 2
        ;;
esac
