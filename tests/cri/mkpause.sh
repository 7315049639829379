#!/bin/bash
# mkpause.sh IN.tar OUT.tar REF: derive the pod sandbox ("pause") image from
# the busybox OCI archive IN.tar made by tests/interop/mkimage.sh.  Same
# layer; the config's Cmd becomes a sleep that never ends (busybox's `sh`,
# the Cmd of IN.tar, would exit at once on an empty stdin and take the pod's
# namespaces with it).  OUT.tar is an OCI image layout tar whose index
# names REF (org.opencontainers.image.ref.name), as `ctr images import`
# wants it.  No network, no registry.
set -euo pipefail
in=$1 out=$2 ref=$3

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-mkpause.XXXXXX")
trap 'rm -rf "$work"' EXIT
layout=$work/layout
mkdir -p "$layout"
tar -C "$layout" -xf "$in"
blobs=$layout/blobs/sha256

# blob FILE: move FILE into the layout, print "digest size".
blob() {
	local d s
	d=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	mv "$1" "$blobs/$d"
	echo "$d $s"
}

old_manifest=$(jq -r '.manifests[0].digest' "$layout/index.json")
old_manifest=${old_manifest#sha256:}
old_config=$(jq -r '.config.digest' "$blobs/$old_manifest")
old_config=${old_config#sha256:}

# 2^31-1 seconds: busybox's sleep takes no "infinity".
jq -c '.config.Cmd = ["sleep", "2147483647"]
	| .history += [{"created": "1970-01-01T00:00:00Z", "created_by": "tests/cri/mkpause.sh (pause: sleep)"}]' \
	"$blobs/$old_config" >"$work/config.json"
read -r config config_size < <(blob "$work/config.json")
jq -c --arg d "sha256:$config" --argjson s "$config_size" '.config.digest = $d | .config.size = $s' \
	"$blobs/$old_manifest" >"$work/manifest.json"
read -r manifest manifest_size < <(blob "$work/manifest.json")
rm -f "$blobs/$old_config" "$blobs/$old_manifest"

jq -c --arg d "sha256:$manifest" --argjson s "$manifest_size" --arg ref "$ref" \
	'.manifests = [.manifests[0] | .digest = $d | .size = $s
		| .annotations["org.opencontainers.image.ref.name"] = $ref]' \
	"$layout/index.json" >"$work/index.json"
mv "$work/index.json" "$layout/index.json"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	-C "$layout" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
