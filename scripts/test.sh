#!/bin/bash
# The whole test suite, as CI runs it (.ci/run): install, build, then
#   1. the unit tests (cmocka),
#   2. the same unit tests built with ASan+UBSan,
#   3. the integration suite driving build/berth-runtime as containerd does
#      (tests/integration, bats), ending with a leak check,
#   4. interop (containerd, Podman), the image suite (tests/image), the
#      shim, berthd driven by the docker CLI and by berth (tests/shim,
#      tests/daemon, tests/cli), the cgroup v2 guest (tests/vm).
# Ends with the line "N passed, N failed, N skipped".
set -uo pipefail
cd "$(dirname "$0")/.."
src=$PWD
logdir=$(mktemp -d /tmp/berth-test-logs.XXXXXX)

scripts/install-deps.sh --test || { echo "0 passed, 1 failed, 0 skipped"; exit 1; }
if ! scripts/build.sh; then
	echo "build failed"; echo "0 passed, 1 failed, 0 skipped"; exit 1
fi

passed=0 failed=0 skipped=0
# count one TAP stream: "ok", "not ok", "# skip"
count_tap() {
	local label=$1 file=$2 line
	while IFS= read -r line; do
		case "$line" in
		"not ok"*"# TODO"*) skipped=$((skipped + 1)); echo "todo [$label] ${line#not ok }" ;;
		"not ok"*) failed=$((failed + 1)); echo "FAIL [$label] ${line#not ok }" ;;
		ok*"# skip"* | ok*"# SKIP"*) skipped=$((skipped + 1)); echo "skip [$label] ${line#ok }" ;;
		ok*) passed=$((passed + 1)) ;;
		esac
	done <"$file"
}

run_unit_tests() {
	local label=$1 dir=$2 t out
	for t in "$dir"/tests/unit/test-*; do
		[[ -x $t && ! -d $t ]] || continue
		out=$logdir/$label-$(basename "$t").tap
		CMOCKA_MESSAGE_OUTPUT=TAP "$t" >"$out" 2>"$out.err"
		local rc=$?
		if ! grep -qE '^(not )?ok' "$out"; then
			echo "FAIL [$label] $(basename "$t") produced no results (exit $rc)"; cat "$out.err"
			failed=$((failed + 1)); continue
		fi
		if ((rc != 0)) && ! grep -q '^not ok' "$out"; then
			echo "FAIL [$label] $(basename "$t") exited $rc"; tail -20 "$out.err"
			failed=$((failed + 1))
		fi
		count_tap "$label" "$out"
	done
}

echo "== unit tests"
run_unit_tests unit build

echo "== unit tests under ASan+UBSan"
if [[ ! -f build-asan/build.ninja ]]; then
	meson setup build-asan --buildtype=debug -Db_sanitize=address,undefined -Db_lundef=false >/dev/null
fi
if ninja -C build-asan >"$logdir/asan-build.log" 2>&1; then
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_unit_tests asan build-asan
else
	echo "FAIL [asan] build"; tail -30 "$logdir/asan-build.log"; failed=$((failed + 1))
fi

echo "== fuzz targets (libFuzzer, ${FUZZ_RUNS:=200000} inputs each, fuzz-layer, fuzz-dockerfile and fuzz-seccomp fewer)"
if [[ ! -f build-fuzz/build.ninja ]]; then
	CC=clang meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined -Db_lundef=false \
		--buildtype=debug >"$logdir/fuzz-setup.log" 2>&1
fi
if ninja -C build-fuzz >"$logdir/fuzz-build.log" 2>&1; then
	for f in build-fuzz/tests/fuzz/fuzz-*; do
		[[ -x $f && ! -d $f ]] || continue
		name=$(basename "$f")
		corpus=$(mktemp -d "$logdir/$name.XXXXXX")
		runs=$FUZZ_RUNS
		# a layer input is a whole extraction (about 2.4 ms): fewer inputs
		[[ $name == fuzz-layer ]] && runs=${FUZZ_LAYER_RUNS:-10000}
		# each input is parsed, then every word expanded with both escape
		# characters: 200000 took 248 s of the suite
		[[ $name == fuzz-dockerfile ]] && runs=${FUZZ_DOCKERFILE_RUNS:-50000}
		# each input is compiled to a BPF program: 200000 took 202 s
		[[ $name == fuzz-seccomp ]] && runs=${FUZZ_SECCOMP_RUNS:-50000}
		if LSAN_OPTIONS=suppressions=$src/tests/fuzz/lsan.supp "$f" -runs="$runs" -detect_leaks=1 "$corpus" "tests/fuzz/corpus/${name#fuzz-}" \
			>"$logdir/$name.log" 2>&1; then
			passed=$((passed + 1))
		else
			failed=$((failed + 1)); echo "FAIL [fuzz] $name"; tail -30 "$logdir/$name.log"
		fi
	done
else
	echo "FAIL [fuzz] build"; tail -30 "$logdir/fuzz-build.log"; failed=$((failed + 1))
fi

echo "== integration tests (berth-runtime)"
tests/integration/run.sh >"$logdir/integration.tap" 2>"$logdir/integration.err"
count_tap integration "$logdir/integration.tap"
if ! grep -qE '^(not )?ok' "$logdir/integration.tap"; then
	echo "FAIL [integration] no results"; tail -30 "$logdir/integration.err"; failed=$((failed + 1))
fi
grep '^not ok' -A12 "$logdir/integration.tap" | grep '^#' | head -150

echo "== interop: containerd 1.6 and Podman 4 calling berth-runtime (tests/interop)"
tests/interop/run.sh >"$logdir/interop.tap" 2>"$logdir/interop.err"
count_tap interop "$logdir/interop.tap"
if ! grep -qE '^(not )?ok' "$logdir/interop.tap"; then
	echo "FAIL [interop] no results"; tail -30 "$logdir/interop.err"; failed=$((failed + 1))
fi

echo "== images: registry pull/push, auth, interop, hostile layers, crashes (tests/image)"
tests/image/run.sh >"$logdir/image.tap" 2>"$logdir/image.err"
count_tap image "$logdir/image.tap"
if ! grep -qE '^(not )?ok' "$logdir/image.tap"; then
	echo "FAIL [image] no results"; tail -30 "$logdir/image.err"; failed=$((failed + 1))
fi

# run_suite LABEL CMD...: one TAP-printing suite
run_suite() {
	local label=$1
	shift
	"$@" >"$logdir/$label.tap" 2>"$logdir/$label.err"
	count_tap "$label" "$logdir/$label.tap"
	if ! grep -qE '^(not )?ok' "$logdir/$label.tap"; then
		echo "FAIL [$label] no results"; tail -30 "$logdir/$label.err"; failed=$((failed + 1))
	fi
}

echo "== containerd CRI with berth-runtime (tests/cri)"
run_suite cri tests/cri/run.sh

echo "== berth-shim (tests/shim)"
run_suite shim tests/shim/run.sh

echo "== berthd with the real docker CLI (tests/daemon)"
run_suite daemon tests/daemon/run.sh

echo "== berth kube: Kubernetes manifests on one machine (tests/kube)"
run_suite kube tests/kube/run.sh

echo "== the berth CLI against berthd, then against dockerd (tests/cli)"
run_suite cli-berthd tests/daemon/with-berthd.sh tests/cli/run.sh
run_suite cli-dockerd tests/cli/run.sh

echo "== cgroup v2 in a QEMU guest (tests/vm)"
tests/vm/run.sh >"$logdir/vm.tap" 2>"$logdir/vm.err"
count_tap cgroup-v2-vm "$logdir/vm.tap"
if ! grep -qE '^(not )?ok' "$logdir/vm.tap"; then
	echo "FAIL [cgroup-v2-vm] no results"; tail -30 "$logdir/vm.err"; failed=$((failed + 1))
fi

echo "logs: $logdir"
echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
