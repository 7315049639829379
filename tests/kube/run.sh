#!/bin/bash
# berth kube end to end: tests/kube/*.bats (the rows of
# ../shared/k8s-semantics.md).  TAP on stdout.  Each file runs its own
# berthd under $BERTH_DAEMON_TMP.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export BERTH_BUILD=${BERTH_BUILD:-$(cd "$here/../.." && pwd)/build}
export BERTH_DAEMON_TMP=${BERTH_DAEMON_TMP:-/tmp/berth-kube-test}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-180}
export DOCKER_CLI=${DOCKER_CLI:-/usr/local/bin/docker}
rm -rf "$BERTH_DAEMON_TMP"
cd "$here"
files=("$@")
((${#files[@]})) || files=(*.bats)
bats --tap "${files[@]}"
