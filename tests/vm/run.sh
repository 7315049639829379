#!/bin/bash
# Test build/berth-runtime on a pure cgroup v2 kernel: Debian's kernel booted
# with cgroup_no_v1=all in a QEMU guest whose initramfs holds busybox, the
# runtime (and the shared libraries it needs), a busybox container rootfs,
# one bundle per test and tests/vm/guest-tests.sh.  See README.md.
#
#   tests/vm/run.sh            TAP on stdout, diagnostics on stderr
#
# Exits 0 whenever it ran (failures are "not ok" lines); when this machine
# cannot run the guest at all (no qemu, no kernel package) it prints
# "ok 1 - cgroup v2 guest # SKIP <reason>" and exits 0.  Exits 2 only on a
# usage error.
#
# Environment:
#   BERTH_BUILD        meson build dir (default <repo>/build)
#   RUNTIME            runtime under test (default $BERTH_BUILD/berth-runtime);
#                      RUNTIME=/usr/sbin/runc validates the tests themselves.
#                      In the guest it is always /bin/berth-runtime.
#   BERTH_VM_CACHE     where the unpacked kernel is kept across runs
#                      (default /var/cache/berth-vm as root, else ~/.cache/berth-vm)
#   BERTH_VM_TIMEOUT   hard limit on the guest, seconds (default 200)
#   BERTH_VM_ACCEL     tcg or kvm (default: kvm only with real vmx/svm, never kvm_pvm)
#   BERTH_VM_KEEP=1    keep the temp dir (initramfs, console log) for debugging
#   BERTH_VM_EXTRA=F   source the sh snippet F in the guest after the tests
#                      (ad-hoc checks; bundles are /bundles/<id>, the runtime is
#                      berth-runtime; its output is on the console, see verbose)
#   BERTH_VM_VERBOSE=1 the guest shows every test's output on its console, which
#                      is copied to stderr
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
BERTH_BUILD=${BERTH_BUILD:-$src/build}
RUNTIME=${RUNTIME:-$BERTH_BUILD/berth-runtime}
TIMEOUT=${BERTH_VM_TIMEOUT:-200}
if [[ $(id -u) -eq 0 ]]; then
	CACHE=${BERTH_VM_CACHE:-/var/cache/berth-vm}
else
	CACHE=${BERTH_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/berth-vm}
fi
[[ $# -eq 0 ]] || { echo "usage: $0 (no arguments; see the header)" >&2; exit 2; }

log() { echo "vm: $*" >&2; }
skip_all() {
	log "skipping: $*"
	echo "ok 1 - cgroup v2 guest # SKIP $*"
	echo "1..1"
	exit 0
}
fail_all() {
	log "error: $*"
	echo "not ok 1 - cgroup v2 guest: $*"
	echo "1..1"
	exit 0
}

start=$SECONDS
tmp=
qpid=
cleanup() {
	# the guest, if we are interrupted while it runs (timeout passes it on)
	[[ -n $qpid ]] && kill "$qpid" 2>/dev/null
	if [[ -n $tmp && -d $tmp ]]; then
		if [[ ${BERTH_VM_KEEP:-} == 1 ]]; then log "kept $tmp"; else rm -rf "$tmp"; fi
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[[ $(uname -m) == x86_64 ]] || skip_all "host is $(uname -m), the guest kernel and binaries are x86_64"

# ------------------------------------------------------ host packages ----

apt_quiet() { DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 "$@" >&2; }

need_pkgs() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
	done
	((${#missing[@]} == 0)) && return 0
	command -v apt-get >/dev/null || { log "no apt-get to install ${missing[*]}"; return 1; }
	[[ $(id -u) -eq 0 ]] || { log "not root: cannot install ${missing[*]}"; return 1; }
	log "installing ${missing[*]}"
	apt_quiet update || log "apt-get update failed"
	apt_quiet install --no-install-recommends "${missing[@]}"
}

command -v dpkg-query >/dev/null || skip_all "not a Debian-like host (no dpkg-query)"
need_pkgs qemu-system-x86 kmod cpio busybox-static jq ||
	skip_all "cannot install qemu-system-x86 kmod cpio busybox-static jq"
for tool in qemu-system-x86_64 cpio jq /bin/busybox dpkg-deb; do
	command -v "$tool" >/dev/null || skip_all "missing $tool after install"
done

# --------------------------------------------------------- the kernel ----

# The package behind linux-image-amd64 (linux-image-6.1.0-NN-amd64).
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}

# fetch_kernel PKG: download and unpack PKG's /boot into $CACHE/PKG.
fetch_kernel() {
	local pkg=$1 dl
	dl=$(mktemp -d "$CACHE/.dl.XXXXXX") || return 1
	chmod 755 "$dl"
	chown _apt "$dl" 2>/dev/null # apt downloads as _apt when it can
	log "downloading $pkg"
	if ! (cd "$dl" && apt_quiet download "$pkg"); then
		rm -rf "$dl"
		return 1
	fi
	mkdir -p "$dl/x"
	if ! dpkg-deb -x "$dl"/*.deb "$dl/x" || ! ls "$dl"/x/boot/vmlinuz-* >/dev/null 2>&1; then
		log "cannot unpack $(ls "$dl"/*.deb)"
		rm -rf "$dl"
		return 1
	fi
	# only the kernel is used; the modules (~400 MB unpacked) are not kept
	rm -rf "${CACHE:?}/$pkg"
	mkdir -p "$CACHE/$pkg"
	mv "$dl"/x/boot/vmlinuz-* "$dl"/x/boot/config-* "$CACHE/$pkg/"
	rm -rf "$dl"
}

find_kernel() {
	local pkg cached
	rm -rf "$CACHE"/.dl.* # an interrupted download (we hold the lock)
	pkg=$(kernel_pkg)
	if [[ -z $pkg && $(id -u) -eq 0 ]]; then
		apt_quiet update || log "apt-get update failed"
		pkg=$(kernel_pkg)
	fi
	if [[ -n $pkg ]]; then
		if ! ls "$CACHE/$pkg"/vmlinuz-* >/dev/null 2>&1; then
			fetch_kernel "$pkg" || log "cannot download $pkg"
		fi
		if ls "$CACHE/$pkg"/vmlinuz-* >/dev/null 2>&1; then
			# drop kernels that linux-image-amd64 no longer points at
			for cached in "$CACHE"/linux-image-*; do
				[[ $cached == "$CACHE/$pkg" ]] || rm -rf "$cached"
			done
			ls "$CACHE/$pkg"/vmlinuz-*
			return 0
		fi
	fi
	# offline: whatever was fetched before
	cached=$(ls -d "$CACHE"/linux-image-*/vmlinuz-* 2>/dev/null | sort -V | tail -n1)
	[[ -n $cached ]] && echo "$cached"
}

mkdir -p "$CACHE" 2>/dev/null || skip_all "cannot create the kernel cache $CACHE"
kernel=$(
	# one download at a time when runs overlap
	exec 9>>"$CACHE/.lock" && flock -w 600 9
	find_kernel
) || true
[[ -n $kernel && -f $kernel ]] || skip_all "no kernel: linux-image-amd64 not downloadable and nothing cached in $CACHE"
log "kernel $kernel ($((SECONDS - start)) s)"

# ------------------------------------------------------ what we test ----

[[ -x $RUNTIME ]] || fail_all "$RUNTIME is not built"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX") || fail_all "mktemp"
root=$tmp/root
mkdir -p "$root"/{bin,lib64,newroot,etc,bundles,rootfs,dev,proc,sys,tmp,run}

probe=$BERTH_BUILD/tests/helpers/berth-probe
if [[ ! -x $probe || $src/tests/helpers/berth-probe.c -nt $probe ]]; then
	probe=$tmp/berth-probe
	gcc -std=gnu11 -O2 -static -o "$probe" "$src/tests/helpers/berth-probe.c" >&2 ||
		fail_all "cannot build a static tests/helpers/berth-probe"
fi

# copy_with_libs BIN: BIN into /bin, its shared libraries and loader at their paths
copy_with_libs() {
	local bin=$1 lib
	cp "$bin" "$root/bin/" || return 1
	for lib in $(ldd "$bin" 2>/dev/null | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'); do
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib" || return 1
	done
}

# guest system: busybox (applets as symlinks), init, the runtime
cp /bin/busybox "$root/bin/busybox"
for a in $(/bin/busybox --list); do
	[[ $a == busybox ]] || ln -s busybox "$root/bin/$a"
done
copy_with_libs "$RUNTIME" || fail_all "cannot copy $RUNTIME and its libraries"
[[ $(basename "$RUNTIME") == berth-runtime ]] || mv "$root/bin/$(basename "$RUNTIME")" "$root/bin/berth-runtime"
log "runtime under test: $RUNTIME ($("$RUNTIME" --version 2>/dev/null | head -n1))"
install -m 755 "$here/init" "$root/init"
install -m 755 "$here/guest-tests.sh" "$root/guest-tests.sh"
if [[ -n ${BERTH_VM_EXTRA:-} ]]; then
	cp "$BERTH_VM_EXTRA" "$root/extra.sh" || fail_all "cannot read BERTH_VM_EXTRA=$BERTH_VM_EXTRA"
fi
printf '::sysinit:/guest-tests.sh\n::sysinit:/bin/poweroff -f\n' >"$root/etc/inittab"
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true

# container rootfs, shared by every bundle (root.path is absolute)
r=$root/rootfs
mkdir -p "$r"/{bin,dev,proc,sys,tmp,etc,root,run}
chmod 1777 "$r/tmp"
cp /bin/busybox "$r/bin/busybox"
for a in $(/bin/busybox --list); do
	[[ $a == busybox ]] || ln -s busybox "$r/bin/$a"
done
cp "$probe" "$r/bin/berth-probe"
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"

# ------------------------------------------------------------ bundles ----

mkdir -p "$tmp/spec"
(cd "$tmp/spec" && "$RUNTIME" spec) >&2 || fail_all "$RUNTIME spec failed"
jq '.process.terminal = false
	| .process.args = ["true"]
	| .root = {"path": "/rootfs", "readonly": false}
	| .hostname = "berth-vm"
	| .linux.namespaces |= map(select(.type != "cgroup")) + [{"type": "cgroup"}]' "$tmp/spec/config.json" >"$tmp/base.json" || fail_all "jq on the base config"

# bundle ID SCRIPT [JQ-FILTER]: /bundles/ID runs `sh -c SCRIPT` in cgroup /berth-vm/ID
bundle() {
	local id=$1 script=$2 filter=${3:-.}
	mkdir -p "$root/bundles/$id"
	jq --arg id "$id" --arg s "$script" '
		.process.args = ["sh", "-c", $s]
		| .linux.cgroupsPath = "/berth-vm/" + $id
		| '"$filter" "$tmp/base.json" >"$root/bundles/$id/config.json" || fail_all "jq for bundle $id"
}
# Every bundle has a cgroup namespace, as containerd gives containers on v2:
# then /sys/fs/cgroup inside is the container's own cgroup with any runtime
# (without one, runc mounts the whole hierarchy there).
nocgns='.linux.namespaces |= map(select(.type != "cgroup"))'
c=/sys/fs/cgroup

bundle exit3 'exit 3'
bundle exit0 'true'
bundle view "cat /proc/self/cgroup; stat -f -c %t $c; cat $c/cgroup.controllers
	if echo max >$c/memory.max 2>/dev/null; then echo writable; else echo read-only; fi"
bundle nocgns 'cat /proc/self/cgroup' "$nocgns"
bundle mem "cat $c/memory.max" '.linux.resources.memory = {"limit": 33554432}'
bundle memx "cat $c/memory.low $c/memory.swap.max" \
	'.linux.resources.memory = {"limit": 33554432, "reservation": 16777216, "swap": 50331648}'
bundle oom '' '.process.args = ["berth-probe", "alloc", "64"] | .linux.resources.memory = {"limit": 33554432}'
bundle oom2 '' '.process.args = ["berth-probe", "alloc", "64"] | .linux.resources.memory = {"limit": 33554432}'
bundle pids "cat $c/pids.max; berth-probe fork 40" '.linux.resources.pids = {"limit": 16}'
bundle cpu "cat $c/cpu.max $c/cpu.weight" \
	'.linux.resources.cpu = {"quota": 50000, "period": 100000, "shares": 512}'
bundle cpuset "cat $c/cpuset.cpus $c/cpuset.mems; grep Cpus_allowed_list /proc/self/status" \
	'.linux.resources.cpu = {"cpus": "1", "mems": "0"}'
bundle cpux "cat $c/cpu.max $c/cpu.max.burst $c/cpu.idle" \
	'.linux.resources.cpu = {"period": 100000, "burst": 10000, "idle": 1}'
bundle io "cat $c/io.weight" '.linux.resources.blockIO = {"weight": 500}'
bundle unified "cat $c/memory.high $c/pids.max" \
	'.linux.resources.unified = {"memory.high": "41943040", "pids.max": "20"}'
bundle devices 'if echo x >/dev/null; then echo null ok; else echo null denied; fi
	rm -f /tmp/kmsg; mknod /tmp/kmsg c 1 11 || echo "mknod failed"
	if echo berth-vm-devices-test >/tmp/kmsg 2>/dev/null; then echo kmsg writable; else echo kmsg denied; fi' \
	'.process.capabilities.bounding += ["CAP_MKNOD"] | .process.capabilities.effective += ["CAP_MKNOD"]
	| .process.capabilities.permitted += ["CAP_MKNOD"]'
bundle huge "cat $c/hugetlb.2MB.max; cat $c/hugetlb.2MB.rsvd.max 2>/dev/null" \
	'.linux.resources.hugepageLimits = [{"pageSize": "2MB", "limit": 4194304}]'
for id in life life3 life4; do
	bundle $id '' "$nocgns"' | .process.args = ["sleep", "600"] | .linux.resources.memory = {"limit": 33554432}'
done
bundle life2 'sleep 600 & sleep 601 & exec sleep 602' "$nocgns"

# ---------------------------------------------------------- initramfs ----

# Uncompressed: unpacking is a memcpy for the guest, while gunzip under TCG
# costs more than the few MB of extra copying.
(cd "$root" && find . | cpio -o -H newc -R 0:0 --quiet) >"$tmp/initrd.cpio" ||
	fail_all "cpio"
log "initramfs $(($(stat -c %s "$tmp/initrd.cpio") / 1024)) KiB ($((SECONDS - start)) s)"

# -------------------------------------------------------------- boot ----

# KVM only on real hardware virtualisation: /dev/kvm served by kvm_pvm (no
# vmx/svm) cannot run a stock kernel.
accel=${BERTH_VM_ACCEL:-}
if [[ -z $accel ]]; then
	accel=tcg
	if [[ -w /dev/kvm && ! -e /sys/module/kvm_pvm ]] && grep -qwE 'vmx|svm' /proc/cpuinfo; then
		accel=kvm
	fi
fi
case $accel in
kvm) accel_args=(-accel kvm -cpu host) ;;
*) accel_args=(-accel "tcg,thread=multi" -cpu max) ;;
esac

log "booting ($accel, timeout ${TIMEOUT}s)"
boot=$SECONDS
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 "${accel_args[@]}" -smp 2 -m 1024 \
	-nodefaults -no-user-config -display none -no-reboot -nic none \
	-kernel "$kernel" -initrd "$tmp/initrd.cpio" \
	-append "console=ttyS0 cgroup_no_v1=all panic=-1 quiet${BERTH_VM_VERBOSE:+ berth.verbose=1}" \
	-serial "file:$tmp/console.log" -serial "file:$tmp/results.log" \
	</dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!
wait "$qpid"
qrc=$?
qpid=
log "guest ran $((SECONDS - boot)) s (qemu exit $qrc)"

# ------------------------------------------------------------ results ----

tr -d '\r' <"$tmp/results.log" >"$tmp/results.tap" 2>/dev/null
if ! grep -q . "$tmp/results.tap"; then
	# no second serial port in the guest: the console has the same lines
	tr -d '\r' <"$tmp/console.log" | sed -n 's/^TAP: //p' >"$tmp/results.tap"
fi

n=0
done_seen=0
while IFS= read -r l; do
	case $l in
	"ok - "* | "not ok - "*)
		n=$((n + 1))
		echo "${l%% - *} $n - ${l#* - }"
		;;
	"#"*) echo "$l" >&2 ;;
	BERTH-VM-DONE) done_seen=1 ;;
	esac
done <"$tmp/results.tap"

if ((done_seen == 0)); then
	n=$((n + 1))
	if ((qrc == 124 || qrc == 137)); then
		echo "not ok $n - guest finished its tests (timed out after ${TIMEOUT}s)"
	else
		echo "not ok $n - guest finished its tests (qemu exit $qrc)"
	fi
	log "qemu output:"
	sed 's/^/  /' "$tmp/qemu.out" >&2
	log "guest console (last 60 lines):"
	tr -d '\r' <"$tmp/console.log" | tail -n 60 | sed 's/^/  /' >&2
elif [[ -n ${BERTH_VM_VERBOSE:-} ]]; then
	log "guest console:"
	tr -d '\r' <"$tmp/console.log" | sed 's/^/  /' >&2
elif grep -q '^not ok' "$tmp/results.tap"; then
	log "guest console (for the failures above):"
	tr -d '\r' <"$tmp/console.log" | grep -v '^TAP: ' | tail -n 60 | sed 's/^/  /' >&2
fi
echo "1..$n"
log "done in $((SECONDS - start)) s"
exit 0
