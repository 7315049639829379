#!/bin/bash
# Run the integration suite against $RUNTIME (default: build/berth-runtime)
# and exit with bats' status.  Output is TAP (bats --tap).
#
#   tests/integration/run.sh                       # berth-runtime
#   RUNTIME=/usr/sbin/runc tests/integration/run.sh  # validate the tests on runc
#   tests/integration/run.sh lifecycle.bats         # some files only
#
# Needs root, bats, jq, gcc (for the helpers when the meson build has none),
# /bin/busybox (busybox-static).  bats runs under tests/helpers/subreaper,
# which reaps detached containers and records their exit codes, as a shim.
# tests/leakcheck.sh runs before (cleaning up after an earlier aborted run)
# and as the last test, zz-leakcheck.bats.
set -u
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
export BERTH_BUILD=${BERTH_BUILD:-$src/build}
export RUNTIME=${RUNTIME:-$BERTH_BUILD/berth-runtime}
export BERTH_ITEST_TMP=${BERTH_ITEST_TMP:-/tmp/berth-itest}
# A hung test fails after this many seconds instead of hanging CI.
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-120}

if [[ $(id -u) -ne 0 ]]; then
	echo "run.sh: the integration suite needs root" >&2
	exit 1
fi
for tool in bats jq unshare timeout /bin/busybox; do
	if ! command -v "$tool" >/dev/null; then
		echo "run.sh: missing $tool" >&2
		exit 1
	fi
done
if [[ ! -x $RUNTIME ]]; then
	echo "run.sh: runtime $RUNTIME is not an executable" >&2
	exit 1
fi

# Leftovers of an earlier, interrupted run: report, clean, go on.
if ! "$src/tests/leakcheck.sh" --clean >&2; then
	echo "run.sh: cleaned up leftovers of an earlier run (above)" >&2
fi

mkdir -p "$BERTH_ITEST_TMP"
source "$here/helpers.bash"
reaper=$(helper_bin subreaper) || exit 1
helper_bin berth-probe >/dev/null || exit 1
helper_bin recvtty >/dev/null || exit 1

export BERTH_EXITDIR
BERTH_EXITDIR=$(mktemp -d "$BERTH_ITEST_TMP/exits.XXXXXX")
trap 'rm -rf "$BERTH_EXITDIR"' EXIT

files=()
if [[ $# -gt 0 ]]; then
	for f in "$@"; do
		[[ -e $f ]] || f=$here/$f
		[[ $(basename "$f") == zz-leakcheck.bats ]] && continue
		files+=("$f")
	done
	# A partial run ends with the leak check too.
	files+=("$here/zz-leakcheck.bats")
else
	files=("$here"/*.bats)
fi
echo "# runtime: $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -n1))" >&2
"$reaper" "$BERTH_EXITDIR" bats --tap "${files[@]}"
