#!/bin/bash
# mkimage.sh OUT.tar [REF]: write an OCI image archive (an OCI image layout
# in a tar: oci-layout, index.json, blobs/sha256/*) holding one layer made
# here from Debian's busybox-static: bin/busybox, a symlink per applet, and
# the few directories a container needs.  No network, no registry.
#
# REF (default localhost/berth-busybox:test) goes into index.json as the
# annotation org.opencontainers.image.ref.name.  Both ctr
# (`ctr images import --index-name REF OUT.tar`) and Podman
# (`podman load -i OUT.tar`, `podman pull oci-archive:OUT.tar`) read it.
set -euo pipefail
out=$1
ref=${2:-localhost/berth-busybox:test}
busybox=${BUSYBOX:-/bin/busybox}
# Go's architecture names, as OCI uses them.
case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
ppc64le) arch=ppc64le ;;
s390x) arch=s390x ;;
riscv64) arch=riscv64 ;;
i?86) arch=386 ;;
*) arch=$(uname -m) ;;
esac

[[ -x $busybox ]] || { echo "mkimage.sh: $busybox missing (apt-get install busybox-static)" >&2; exit 1; }
if ! LC_ALL=C file -L "$busybox" 2>/dev/null | grep -q 'statically linked' &&
	ldd "$busybox" >/dev/null 2>&1; then
	echo "mkimage.sh: $busybox is not static" >&2
	exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/berth-mkimage.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/rootfs
layout=$work/layout
mkdir -p "$root"/{bin,dev,etc,proc,sys,tmp,root,run,var/tmp} "$layout/blobs/sha256"
chmod 1777 "$root/tmp" "$root/var/tmp"
cp "$busybox" "$root/bin/busybox"
for applet in $("$busybox" --list); do
	[[ $applet == busybox || -e $root/bin/$applet ]] && continue
	ln -s busybox "$root/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$root/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"

# Layer: deterministic tar (sorted, fixed owner and mtime), then gzip -n.
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	-C "$root" -cf "$work/layer.tar" .
diff_id=$(sha256sum "$work/layer.tar" | cut -d' ' -f1)
gzip -n -c "$work/layer.tar" >"$work/layer.tar.gz"
layer=$(sha256sum "$work/layer.tar.gz" | cut -d' ' -f1)
layer_size=$(stat -c %s "$work/layer.tar.gz")
mv "$work/layer.tar.gz" "$layout/blobs/sha256/$layer"

# blob FILE: move FILE into the layout, print "digest size".
blob() {
	local d s
	d=$(sha256sum "$1" | cut -d' ' -f1)
	s=$(stat -c %s "$1")
	mv "$1" "$layout/blobs/sha256/$d"
	echo "$d $s"
}

cat >"$work/config.json" <<EOF
{"created":"1970-01-01T00:00:00Z","architecture":"$arch","os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:$diff_id"]},"history":[{"created":"1970-01-01T00:00:00Z","created_by":"tests/interop/mkimage.sh (busybox-static)"}]}
EOF
read -r config config_size < <(blob "$work/config.json")

cat >"$work/manifest.json" <<EOF
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:$config","size":$config_size},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:$layer","size":$layer_size}]}
EOF
read -r manifest manifest_size < <(blob "$work/manifest.json")

cat >"$layout/index.json" <<EOF
{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:$manifest","size":$manifest_size,"platform":{"architecture":"$arch","os":"linux"},"annotations":{"org.opencontainers.image.ref.name":"$ref"}}]}
EOF
echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"

tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
	-C "$layout" -cf "$out.tmp" oci-layout index.json blobs
mv "$out.tmp" "$out"
