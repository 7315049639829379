#!/bin/bash
# The CLI suite: tests/cli/*.bats drive build/berth against a daemon and
# print TAP.  The daemon is BERTH_TEST_HOST (unix:///path) when set, else a
# private dockerd that the suite starts and stops itself.
#   tests/cli/run.sh [FILE.bats...]
# Needs root, bats, skopeo, docker-registry, python3, curl, and dockerd
# unless BERTH_TEST_HOST is set.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export BERTH_BUILD=${BERTH_BUILD:-$(cd "$here/../.." && pwd)/build}
export BERTH_CLI_TMP=${BERTH_CLI_TMP:-/tmp/berth-cli-test}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}
tools=(bats skopeo docker-registry python3 curl script)
[[ -n ${BERTH_TEST_HOST:-} ]] || tools+=(dockerd)
for tool in "${tools[@]}"; do
	command -v "$tool" >/dev/null || { echo "run.sh: missing $tool" >&2; exit 1; }
done
cd "$here"
files=("$@")
((${#files[@]})) || files=(cli.bats more.bats build.bats network.bats)
bats --tap "${files[@]}"
rc=$?
if grep -q " $BERTH_CLI_TMP/" /proc/self/mounts; then
	echo "# leftover mounts under $BERTH_CLI_TMP" >&2
	rc=1
fi
exit $rc
