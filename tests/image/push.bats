#!/usr/bin/env bats
# Push to a real registry (what is there is not sent, other repositories'
# blobs are mounted, chunked uploads), auth (htpasswd basic and a token
# server's bearer flow, credentials in a Docker-style config.json), and
# interop both ways with skopeo and Podman.

load helpers

setup_file() {
	image_setup_file
	registry_start REG
	registry_start BASIC start alice:wonderland
	registry_start TOKEN start-token bob:builder
	export REG_HOST BASIC_HOST TOKEN_HOST
	push_fixture multi "$REG_HOST/src/multi:latest"
}

teardown_file() {
	[[ -n ${PODMAN_DIR:-} ]] && rm -rf "$PODMAN_DIR"
	image_teardown_file
}

@test "push: to a new repository, the manifest digest is kept" {
	bt pull "$REG_HOST/src/multi"
	want=$(bt inspect "$REG_HOST/src/multi" | jq -r '.RepoDigests[0]' | cut -d@ -f2)
	run bt push "$REG_HOST/src/multi" "$REG_HOST/dst/multi:v1"
	[ "$status" -eq 0 ] || die "push"
	[ "${lines[-1]}" = "$want" ] || die "digest changed: ${lines[-1]} != $want"
	[[ $output == *"Mounted from src/multi"* ]] || die "expected cross-repository mounts"
	got=$(skopeo inspect --tls-verify=false "docker://$REG_HOST/dst/multi:v1" | jq -r .Digest)
	[ "$got" = "$want" ]
}

@test "push: again, only the manifest travels" {
	run bt push "$REG_HOST/src/multi" "$REG_HOST/dst/multi:v2"
	[ "$status" -eq 0 ] || die "push"
	[ "$(grep -c 'Layer already exists' <<<"$output")" -eq 4 ] || die "expected 3 layers + config present"
	[[ $output != *"Pushed"* ]] || die "a blob was sent again"
}

@test "push: chunked uploads to a fresh registry path" {
	run bt push --chunk 65536 "$REG_HOST/src/multi" "$REG_HOST/chunked/multi:c"
	[ "$status" -eq 0 ] || die "push"
	skopeo copy -q --src-tls-verify=false "docker://$REG_HOST/chunked/multi:c" "oci:$IMG_TMP/chunked:c"
	[ -d "$IMG_TMP/chunked/blobs" ]
	rm -rf "$IMG_TMP/chunked"
}

@test "auth: basic (htpasswd) needs credentials; login stores them in config.json" {
	push_fixture one "$BASIC_HOST/p/one:latest" --dest-creds alice:wonderland
	run bt pull "$BASIC_HOST/p/one"
	[ "$status" -ne 0 ]
	[[ $output == *"authentication required"* ]] || die "expected a clear auth error"
	cfg=$IMG_TMP/auth.json
	"$TOOL" --auth-config "$cfg" login "$BASIC_HOST" alice wonderland
	[ "$(stat -c %a "$cfg")" = 600 ]
	jq -e --arg h "$BASIC_HOST" '.auths[$h].auth == ("alice:wonderland" | @base64)' "$cfg" >/dev/null || die "config.json"
	run bt --auth-config "$cfg" pull "$BASIC_HOST/p/one"
	[ "$status" -eq 0 ] || die "pull with stored credentials"
	run bt --auth-config "$cfg" push "$BASIC_HOST/p/one" "$BASIC_HOST/p/copy:1"
	[ "$status" -eq 0 ] || die "push with stored credentials"
	"$TOOL" --auth-config "$cfg" logout "$BASIC_HOST"
	jq -e --arg h "$BASIC_HOST" '.auths[$h] == null' "$cfg" >/dev/null
}

@test "auth: bearer tokens from a token server, for pull and push scopes" {
	push_fixture one "$TOKEN_HOST/t/one:latest" --dest-creds bob:builder
	run bt pull "$TOKEN_HOST/t/one"
	[ "$status" -ne 0 ] || die "anonymous pull should fail"
	run bt --user bob --password wrong pull "$TOKEN_HOST/t/one"
	[ "$status" -ne 0 ]
	run bt --user bob --password builder pull "$TOKEN_HOST/t/one"
	[ "$status" -eq 0 ] || die "pull with a token"
	run bt --user bob --password builder push "$TOKEN_HOST/t/one" "$TOKEN_HOST/t/pushed:1"
	[ "$status" -eq 0 ] || die "push with a token"
	skopeo inspect --tls-verify=false --creds bob:builder "docker://$TOKEN_HOST/t/pushed:1" >/dev/null
}

podman_setup() {
	PODMAN_DIR=$(mktemp -d "$IMG_TMP/podman.XXXXXX")
	PM=(podman --root "$PODMAN_DIR/root" --runroot "$PODMAN_DIR/runroot" --tmpdir "$PODMAN_DIR/tmp"
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file --runtime /usr/sbin/runc)
	cat >"$PODMAN_DIR/containers.conf" <<EOF
[containers]
default_ulimits = []
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
events_logfile_path = "$PODMAN_DIR/events.log"
lock_type = "file"
EOF
	export CONTAINERS_CONF=$PODMAN_DIR/containers.conf
}

@test "interop: an image Berth pushes is pulled and run by Podman" {
	command -v podman >/dev/null || skip "podman not installed"
	podman_setup
	bt push "$REG_HOST/src/multi" "$REG_HOST/interop/berth:1"
	run "${PM[@]}" pull --tls-verify=false "$REG_HOST/interop/berth:1"
	[ "$status" -eq 0 ] || die "podman pull"
	run "${PM[@]}" run --rm --network none "$REG_HOST/interop/berth:1" sh -c 'cat /etc/b; ls /data/dir; test -e /etc/a || echo gone'
	[ "$status" -eq 0 ] || die "podman run"
	[ "$output" = "$(printf 'b\nz\ngone')" ] || die "files differ"
}

@test "interop: an image Podman pushes is pulled by Berth and its files are right" {
	command -v podman >/dev/null || skip "podman not installed"
	[[ -n ${PODMAN_DIR:-} ]] || podman_setup
	"${PM[@]}" pull -q --tls-verify=false "$REG_HOST/interop/berth:1" >/dev/null
	"${PM[@]}" run --name berth-interop-commit --network none "$REG_HOST/interop/berth:1" sh -c 'echo podman >/made-by; rm /etc/b'
	"${PM[@]}" commit -q berth-interop-commit "$REG_HOST/interop/podman:1" >/dev/null
	"${PM[@]}" rm berth-interop-commit >/dev/null
	run "${PM[@]}" push --tls-verify=false "$REG_HOST/interop/podman:1"
	[ "$status" -eq 0 ] || die "podman push"
	run bt pull "$REG_HOST/interop/podman:1"
	[ "$status" -eq 0 ] || die "berth pull"
	target=$IMG_TMP/rootfs-podman
	mkdir -p "$target"
	bt rootfs-create c-podman "$REG_HOST/interop/podman:1" "$target"
	[ "$(cat "$target/made-by")" = podman ] || die "made-by"
	[ ! -e "$target/etc/b" ] || die "podman's whiteout not applied"
	[ "$(ls "$target/data/dir")" = z ]
	bt rootfs-remove c-podman "$target"
}
