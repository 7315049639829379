#!/bin/bash
# berth-shim's tests; TAP on stdout, bats' exit status.
#
#   tests/shim/run.sh
#
# Needs root, bats, jq and /bin/busybox (busybox-static), plus gcc when the
# meson build has no tests/shim/shim-client (the unix-socket client the
# tests talk to the shim with; busybox has none).
#   BERTH_BUILD     meson build dir with berth-shim and berth-runtime
#                   (default <repo>/build)
#   BERTH_SHIM_TMP  parent of the suite's temp dir (default /tmp/berth-shim-test)
# Containers use the cgroup parent /berth-shim-test and carry the env marker
# BERTH_SHIM_TEST=<id>, so nothing here touches the integration suite's.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export BERTH_BUILD=${BERTH_BUILD:-$src/build}
export BERTH_SHIM_TMP=${BERTH_SHIM_TMP:-/tmp/berth-shim-test}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-60}

if [[ $(id -u) -ne 0 ]]; then
	echo "run.sh: the shim tests need root" >&2
	exit 1
fi
for tool in bats jq /bin/busybox; do
	if ! command -v "$tool" >/dev/null; then
		echo "run.sh: missing $tool" >&2
		exit 1
	fi
done
for bin in berth-shim berth-runtime; do
	if [[ ! -x $BERTH_BUILD/$bin ]]; then
		echo "run.sh: no $BERTH_BUILD/$bin (build first, or set BERTH_BUILD)" >&2
		exit 1
	fi
done
mkdir -p "$BERTH_SHIM_TMP"
bats --tap "$here/shim.bats"
rc=$?
# each test removes its own directory; the parent goes last
rmdir "$BERTH_SHIM_TMP" 2>/dev/null
exit $rc
