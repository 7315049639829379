#!/bin/bash
# Install what building and testing Berth needs on Debian 12 (as root).
# Only calls apt-get when something is missing, so a second run is instant.
set -euo pipefail
build_pkgs=(gcc meson ninja-build pkg-config libjansson-dev libseccomp-dev libcap-dev libssl-dev libarchive-dev libcurl4-openssl-dev libsqlite3-dev libgnutls28-dev libmnl-dev libnftables-dev libyaml-dev)
run_pkgs=(busybox-static jq procps curl iproute2)
test_pkgs=(bats jq iproute2 nftables libcmocka-dev libc6-dev runc hyperfine time clang libclang-rt-14-dev zstd docker-registry apache2-utils curl python3 skopeo podman docker.io docker-compose containerd python3-grpcio python3-protobuf protobuf-compiler)
want=("${build_pkgs[@]}" "${run_pkgs[@]}")
[[ ${1:-} == --test ]] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing: ${missing[*]}" >&2
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq "${missing[@]}" >/dev/null
fi
