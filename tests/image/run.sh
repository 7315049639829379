#!/bin/bash
# The image suite: tests/image/*.bats against Debian's docker-registry on
# 127.0.0.1, driving build/tests/image/berth-image-test.  TAP on stdout.
#   tests/image/run.sh [FILE.bats...]
# Needs root (overlay mounts, device nodes, ownership), bats, jq, skopeo,
# docker-registry, htpasswd, openssl, python3, zstd; podman for interop.
set -u
here=$(cd "$(dirname "$0")" && pwd)
export BERTH_BUILD=${BERTH_BUILD:-$(cd "$here/../.." && pwd)/build}
export BERTH_IMAGE_TMP=${BERTH_IMAGE_TMP:-/tmp/berth-image-test}
export BATS_TEST_TIMEOUT=${BATS_TEST_TIMEOUT:-300}
for tool in bats jq skopeo docker-registry htpasswd openssl python3 zstd; do
	command -v "$tool" >/dev/null || { echo "run.sh: missing $tool" >&2; exit 1; }
done
rm -rf "$BERTH_IMAGE_TMP"
mkdir -p "$BERTH_IMAGE_TMP"
cd "$here"
files=("$@")
((${#files[@]})) || files=(pull.bats push.bats store.bats)
bats --tap "${files[@]}"
rc=$?
# nothing may stay mounted or running
if grep -q " $BERTH_IMAGE_TMP/" /proc/self/mounts; then
	echo "# leftover mounts under $BERTH_IMAGE_TMP" >&2
	rc=1
fi
rm -rf "$BERTH_IMAGE_TMP"
exit $rc
