#!/usr/bin/env bats
# The suite's last test: nothing the tests or the runtime made is left
# (mounts, cgroups, state dirs, processes).  See tests/leakcheck.sh.

@test "leakcheck: no mounts, cgroups, state or processes left after the suite" {
	run "$BATS_TEST_DIRNAME/../leakcheck.sh" --clean
	echo "$output"
	[ "$status" -eq 0 ]
}
