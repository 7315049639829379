#!/bin/bash
# berthd end to end: tests/daemon/*.bats with the real docker CLI.  TAP on
# stdout.  Needs root, bats, jq, curl, skopeo, docker-registry, python3,
# and the docker CLI at /usr/local/bin/docker (or DOCKER_CLI).
set -u
here=$(cd "$(dirname "$0")" && pwd)
export BERTH_BUILD=${BERTH_BUILD:-$(cd "$here/../.." && pwd)/build}
export BERTH_DAEMON_TMP=${BERTH_DAEMON_TMP:-/tmp/berth-daemon-test}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}
export DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
if [[ ! -x $DOCKER_CLI ]]; then
	echo "1..1"
	echo "ok 1 docker CLI end to end # skip no docker CLI at $DOCKER_CLI"
	exit 0
fi
rm -rf "$BERTH_DAEMON_TMP"
cd "$here"
files=("$@")
((${#files[@]})) || files=(*.bats)
bats --tap "${files[@]}"
