#!/usr/bin/env bats
# berth build: docker's legacy-builder protocol end to end (the context
# walked with its .dockerignore, -f from outside, tags, build args,
# --target, -q, a failing RUN, a tar on stdin), checked against what the
# daemon built.  Written to dockerd's behaviour; a daemon without POST
# /build (404 "page not found", berthd before its builder) skips them all,
# saying so, and they run as soon as it has one.
bats_require_minimum_version 1.5.0
load helpers

BASE=bt-build-base:1

setup_file() {
	cli_setup_file || return 1
	# the base image: Debian's busybox-static, imported (nothing downloaded)
	local root=$CLI_TMP/build-rootfs a
	mkdir -p "$root/bin" "$root/tmp" "$root/etc"
	cp /bin/busybox "$root/bin/busybox"
	for a in sh echo cat ls false true test mkdir id wc; do
		ln -s busybox "$root/bin/$a"
	done
	tar -C "$root" -cf "$CLI_TMP/build-rootfs.tar" .
	"$BERTH_BIN" import "$CLI_TMP/build-rootfs.tar" "$BASE" >/dev/null || return 1
	# does the daemon have POST /build at all?
	local sock=${BERTH_HOST#unix://} code
	code=$(curl -s -o "$CLI_TMP/build-probe" -w '%{http_code}' --unix-socket "$sock" -X POST \
		-H 'Content-Type: application/x-tar' --data-binary @/dev/null 'http://x/v1.41/build?version=1')
	if [[ $code == 404 ]] && grep -q "page not found" "$CLI_TMP/build-probe"; then
		export BUILD_SKIP="the daemon has no POST /build yet (404 page not found)"
	fi
}
teardown_file() { cli_teardown_file; }

setup() {
	[[ -z ${BUILD_SKIP:-} ]] || skip "$BUILD_SKIP"
	CTX=$BATS_TEST_TMPDIR/ctx
	mkdir -p "$CTX"
}

@test "build: steps, two tags, --build-arg, --label; the image runs" {
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		ARG X=1
		ARG Y
		RUN echo "arg=\$X y=\$Y" > /arg
		CMD ["cat", "/arg"]
	EOF
	run bash -c "Y=from-env '$BERTH_BIN' build -t bt-build:a -t bt-build:b --build-arg X=42 --build-arg Y \
		--label bt.label=yes '$CTX' 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 0 ]] || die "build failed: $(cat "$BATS_TEST_TMPDIR/err")"
	[[ ${lines[0]} =~ ^Sending\ build\ context\ to\ Docker\ daemon\ +[0-9.]+[kM]?B ]] || die "no context line"
	# dockerd counts --label as one more step (LABEL) after the Dockerfile's
	[[ ${lines[1]} =~ ^Step\ 1/[56]\ :\ FROM\ $BASE$ ]] || die "first step"
	[[ ${lines[2]} =~ ^\ ---\>\ [0-9a-f]{12}$ ]] || die "base id line"
	[[ $output == *$'\nStep 4/'[56]$' : RUN echo "arg=$X y=$Y" > /arg\n'* ]] || die "RUN step"
	[[ $output == *$'\n ---> Running in '* ]] || die "no Running in"
	[[ ${lines[-3]} =~ ^Successfully\ built\ [0-9a-f]{12}$ ]] || die "no Successfully built"
	[[ ${lines[-2]} == "Successfully tagged bt-build:a" ]] || die "first tag"
	[[ ${lines[-1]} == "Successfully tagged bt-build:b" ]] || die "second tag"
	local short=${lines[-3]#Successfully built }
	run berth image inspect -f '{{.Id}}' bt-build:a
	[[ $output == sha256:$short* ]] || die "tag a is not the built image"
	run berth image inspect -f '{{.Id}}' bt-build:b
	[[ $output == sha256:$short* ]] || die "tag b is not the built image"
	run berth image inspect -f '{{index .Config.Labels "bt.label"}}' bt-build:a
	[[ $output == yes ]] || die "label"
	run berth run --rm --network none bt-build:a
	[[ $status -eq 0 && $output == "arg=42 y=from-env" ]] || die "build args in the image"
	# the same again comes from the cache, --no-cache does not
	run berth build -t bt-build:a --build-arg X=42 --build-arg Y=from-env "$CTX"
	[[ $status -eq 0 && $output == *" ---> Using cache"* ]] || die "no cache"
	run berth build --no-cache -t bt-build:a --build-arg X=42 --build-arg Y=from-env "$CTX"
	[[ $status -eq 0 && $output != *"Using cache"* ]] || die "--no-cache used the cache"
}

@test "build: .dockerignore keeps files out, exceptions bring them back" {
	mkdir -p "$CTX/secret" "$CTX/docs"
	echo a >"$CTX/a.txt"
	echo log >"$CTX/x.log"
	echo keep >"$CTX/keep.log"
	echo key >"$CTX/secret/key"
	echo readme >"$CTX/docs/readme.md"
	echo other >"$CTX/docs/other.md"
	printf '*.log\n!keep.log\nsecret\ndocs\n!docs/readme.md\n' >"$CTX/.dockerignore"
	printf 'FROM %s\nCOPY . /ctx\n' "$BASE" >"$CTX/Dockerfile"
	run berth build -q -t bt-build:ignore "$CTX"
	[[ $status -eq 0 ]] || die "build failed"
	run berth run --rm --network none bt-build:ignore sh -c 'cd /ctx && ls -a . docs'
	[[ $status -eq 0 ]] || die "run failed"
	[[ $output == *a.txt* && $output == *keep.log* && $output == *readme.md* ]] || die "a file is missing"
	[[ $output != *x.log* ]] || die "an ignored file is in the image"
	[[ $output != *secret* ]] || die "an ignored directory is in the image"
	[[ $output != *other.md* ]] || die "an ignored file under a re-included directory is in the image"
}

@test "build: -f outside the context" {
	mkdir -p "$BATS_TEST_TMPDIR/elsewhere"
	echo in-context >"$CTX/file"
	printf 'FROM %s\nCOPY . /ctx\nRUN cat /ctx/file\n' "$BASE" >"$BATS_TEST_TMPDIR/elsewhere/Dockerfile.out"
	run berth build -t bt-build:outside -f "$BATS_TEST_TMPDIR/elsewhere/Dockerfile.out" "$CTX"
	[[ $status -eq 0 ]] || die "build failed"
	[[ $output == *$'\nin-context\n'* ]] || die "the RUN did not see the context"
	run berth run --rm --network none bt-build:outside ls -a /ctx
	[[ $status -eq 0 && $output == *file* ]] || die "context file missing"
	[[ $output != *.dockerfile.* && $output != *.dockerignore* ]] || die "the added Dockerfile is in the image"
	# relative to the working directory, as docker
	run bash -c "cd '$BATS_TEST_TMPDIR' && '$BERTH_BIN' build -q -f elsewhere/Dockerfile.out ctx"
	[[ $status -eq 0 && $output =~ ^sha256:[0-9a-f]{64}$ ]] || die "relative -f"
	run berth build -f "$BATS_TEST_TMPDIR/nope/Dockerfile" "$CTX"
	[[ $status -eq 1 && $output == "unable to prepare context: "* ]] || die "missing Dockerfile"
}

@test "build: --target stops at the stage" {
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE AS one
		RUN echo one > /stage
		FROM $BASE AS two
		RUN echo two > /stage
	EOF
	run berth build -q --target one -t bt-build:one "$CTX"
	[[ $status -eq 0 ]] || die "build --target one"
	run berth run --rm --network none bt-build:one cat /stage
	[[ $output == one ]] || die "target one: $output"
	run berth build -q -t bt-build:two "$CTX"
	run berth run --rm --network none bt-build:two cat /stage
	[[ $output == two ]] || die "last stage: $output"
}

@test "build -q: only the image ID; --iidfile; image build" {
	printf 'FROM %s\nRUN echo quiet > /q\n' "$BASE" >"$CTX/Dockerfile"
	run bash -c "'$BERTH_BIN' build -q --iidfile '$BATS_TEST_TMPDIR/iid' -t bt-build:q '$CTX' 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 0 ]] || die "build -q failed"
	[[ ${#lines[@]} -eq 1 && $output =~ ^sha256:[0-9a-f]{64}$ ]] || die "not only the ID"
	[[ ! -s $BATS_TEST_TMPDIR/err ]] || die "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
	[[ $(cat "$BATS_TEST_TMPDIR/iid") == "$output" ]] || die "iidfile: $(cat "$BATS_TEST_TMPDIR/iid")"
	run berth image inspect -f '{{.Id}}' bt-build:q
	[[ $output == "${lines[0]}" ]] || die "the ID is not the tagged image"
	# without -q the iidfile holds the ID from the aux message
	run berth image build --iidfile "$BATS_TEST_TMPDIR/iid2" -t bt-build:q "$CTX"
	[[ $status -eq 0 && $output == *"Successfully tagged bt-build:q"* ]] || die "image build"
	[[ $(cat "$BATS_TEST_TMPDIR/iid2") =~ ^sha256:[0-9a-f]{64}$ ]] || die "iidfile without -q"
}

@test "build: a failing RUN prints docker's message, exits with the code" {
	printf 'FROM %s\nRUN echo before && false\n' "$BASE" >"$CTX/Dockerfile"
	run bash -c "'$BERTH_BIN' build '$CTX' >'$BATS_TEST_TMPDIR/out' 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 1 ]] || die "exit status"
	# docker's message (berthd may add where in the Dockerfile, as issue 6 asks)
	[[ $(cat "$BATS_TEST_TMPDIR/err") == "The command '/bin/sh -c echo before && false' returned a non-zero code: 1"* ]] ||
		die "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
	grep -qx before "$BATS_TEST_TMPDIR/out" || die "the RUN's output is not on stdout"
	grep -q "^Step 2/2 : RUN echo before && false$" "$BATS_TEST_TMPDIR/out" || die "no step line"
	# the errorDetail code is the exit status, as docker
	printf 'FROM %s\nRUN exit 3\n' "$BASE" >"$CTX/Dockerfile"
	run bash -c "'$BERTH_BIN' build -q '$CTX' >'$BATS_TEST_TMPDIR/out' 2>'$BATS_TEST_TMPDIR/err'"
	[[ $status -eq 3 ]] || die "exit status of exit 3"
	[[ ! -s $BATS_TEST_TMPDIR/out ]] || die "-q printed on stdout"
	# with -q the held-back output goes to stderr, then the message
	grep -q "^Step 2/2 : RUN exit 3$" "$BATS_TEST_TMPDIR/err" || die "-q did not show the steps"
	[[ $(tail -n1 "$BATS_TEST_TMPDIR/err") == "The command '/bin/sh -c exit 3' returned a non-zero code: 3"* ]] ||
		die "-q message"
	run berth build "$BATS_TEST_TMPDIR/nonexistent"
	[[ $status -eq 1 && $output == "unable to prepare context: path \"$BATS_TEST_TMPDIR/nonexistent\" not found" ]] ||
		die "missing context"
}

@test "build -: a tar on stdin, or a Dockerfile on stdin" {
	echo from-tar >"$CTX/file"
	printf 'FROM %s\nCOPY file /file\n' "$BASE" >"$CTX/Dockerfile"
	run bash -c "tar -C '$CTX' -cf - . | '$BERTH_BIN' build -t bt-build:stdin -"
	[[ $status -eq 0 && $output == *"Successfully tagged bt-build:stdin"* ]] || die "tar on stdin"
	run berth run --rm --network none bt-build:stdin cat /file
	[[ $output == from-tar ]] || die "file from the tar: $output"
	# compressed too
	run bash -c "tar -C '$CTX' -czf - . | '$BERTH_BIN' build -q -"
	[[ $status -eq 0 && $output =~ ^sha256: ]] || die "gzipped tar on stdin"
	# -f names the Dockerfile inside the tar
	mv "$CTX/Dockerfile" "$CTX/Other"
	run bash -c "tar -C '$CTX' -cf - . | '$BERTH_BIN' build -q -f Other -"
	[[ $status -eq 0 && $output =~ ^sha256: ]] || die "-f with a tar on stdin"
	# a Dockerfile alone
	run bash -c "printf 'FROM %s\nRUN echo from-stdin > /s\n' '$BASE' | '$BERTH_BIN' build -q -t bt-build:df -"
	[[ $status -eq 0 ]] || die "Dockerfile on stdin"
	run berth run --rm --network none bt-build:df cat /s
	[[ $output == from-stdin ]] || die "Dockerfile on stdin built: $output"
}

@test "build --reproducible: SOURCE_DATE_EPOCH is sent; berthd gives one image ID for two builds" {
	echo data >"$CTX/file"
	cat >"$CTX/Dockerfile" <<-EOF
		FROM $BASE
		COPY file /file
		RUN echo built > /built
		CMD ["cat", "/file"]
	EOF
	if [[ -z ${BERTH_TEST_HOST:-} ]]; then
		# dockerd's legacy builder has no use for it, and says so
		run "$BERTH_BIN" build --no-cache --reproducible "$CTX"
		[[ $status -eq 0 ]] || die "build"
		[[ $output == *"[SOURCE_DATE_EPOCH] were not consumed"* ]] || die "the arg did not reach dockerd"
		return 0
	fi
	a=$("$BERTH_BIN" build -q --no-cache --reproducible "$CTX") || die "first build"
	sleep 1
	touch "$CTX/file"
	b=$("$BERTH_BIN" build -q --no-cache --reproducible "$CTX") || die "second build"
	[[ $a == sha256:* && $a == "$b" ]] || die "two IDs: $a $b"
	# SOURCE_DATE_EPOCH from the environment is passed on the same way
	c=$(SOURCE_DATE_EPOCH=0 "$BERTH_BIN" build -q --no-cache "$CTX") || die "third build"
	[[ $c == "$a" ]] || die "SOURCE_DATE_EPOCH=0 gave $c, --reproducible $a"
}
