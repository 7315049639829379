# Shared by tests/image/*.bats.  The image library is driven through
# build/tests/image/berth-image-test against Debian's docker-registry on
# 127.0.0.1 (tests/registry/run-registry.sh); test images are made by
# tests/image/mkimages.py from busybox-static and pushed with skopeo.
IMG_SRC=$(cd "$BATS_TEST_DIRNAME/../.." && pwd)
BUILD=${BERTH_BUILD:-$IMG_SRC/build}
TOOL=$BUILD/tests/image/berth-image-test
REGISTRY_SCRIPT=$IMG_SRC/tests/registry/run-registry.sh
# all state of one bats file under this directory
IMG_TMP=${BERTH_IMAGE_TMP:-/tmp/berth-image-test}

# bt ARGS: the tool on this file's store
bt() { "$TOOL" --root "$STORE" "$@"; }

# registry_start VAR [start|start-token] [USER:PASS]: sets VAR_URL VAR_HOST VAR_PID VAR_DIR
registry_start() {
	local var=$1 mode=${2:-start} creds=${3:-} out
	out=$(sh "$REGISTRY_SCRIPT" "$mode" $creds) || return 1
	read -r url pid dir <<<"$out"
	printf -v "${var}_URL" %s "$url"
	printf -v "${var}_HOST" %s "${url#http://}"
	printf -v "${var}_PID" %s "$pid"
	printf -v "${var}_DIR" %s "$dir"
	echo "$pid $dir" >>"$IMG_TMP/registries"
}

registries_stop() {
	local pid dir
	[[ -f $IMG_TMP/registries ]] || return 0
	while read -r pid dir; do
		sh "$REGISTRY_SCRIPT" stop "$pid" "$dir" || true
	done <"$IMG_TMP/registries"
	rm -f "$IMG_TMP/registries"
}

# push_fixture KIND HOST/REPO:TAG [skopeo creds]: an OCI layout from mkimages.py into a registry
push_fixture() {
	local kind=$1 dest=$2
	shift 2
	[[ -d $IMG_TMP/fixtures/$kind ]] || python3 "$IMG_SRC/tests/image/mkimages.py" "$IMG_TMP/fixtures" "$kind"
	skopeo copy -q --all --dest-tls-verify=false "$@" "oci:$IMG_TMP/fixtures/$kind:latest" "docker://$dest"
}

# fail with a message and the last output
die() {
	echo "$*" >&2
	echo "output: $output" >&2
	return 1
}

image_setup_file() {
	[[ -x $TOOL ]] || { echo "missing $TOOL: build first" >&2; return 1; }
	mkdir -p "$IMG_TMP"
	STORE=$(mktemp -d "$IMG_TMP/store.XXXXXX")
	export STORE
}

image_teardown_file() {
	registries_stop
	# rootfs mounts a failed test left behind
	grep " $IMG_TMP/" /proc/self/mounts | awk '{print $2}' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$STORE"
}
