/* Snapshots: a container's root filesystem made from an image's layers.
 *
 * The layers are directories extracted by layer_apply in the overlay model
 * (src/image/layer.h): one directory per layer, a whiteout is a 0:0
 * character device, an opaque directory carries trusted.overlay.opaque=y.
 * Layers are always listed bottom first, the order of the image config's
 * diff_ids.
 *
 * Two drivers:
 *  - overlay (snapshot_mount): an overlayfs of the layers plus the
 *    container's upper/ and work/.  Nothing is copied.
 *  - vfs (snapshot_vfs_create): the layers copied into one directory, for
 *    filesystems where overlay cannot be mounted (snapshot_overlay_supported
 *    says so), e.g. a data root on overlayfs itself (Berth inside a
 *    container) or on a filesystem without the xattrs overlay needs.
 *    The result shows what the overlay would show; the caller bind-mounts
 *    or uses it as the rootfs directly.
 *
 * Everything here needs root (CAP_SYS_ADMIN, CAP_MKNOD, CAP_CHOWN, the
 * trusted.* xattr namespace) and /proc mounted (paths through
 * /proc/self/fd).  Thread-safe: no state but two per-process caches.
 */
#pragma once
#include "util/error.h"
#include <stdbool.h>
#include <stddef.h>

/* Overlayfs stacks at most this many lower layers (OVL_MAX_STACK). */
#define SNAPSHOT_MAX_LAYERS 500

struct snapshot_spec {
        const char *const *layers; /* layer directories, bottom first */
        size_t nlayers;
        const char *upper;         /* existing writable directory; unused with read_only */
        const char *work;          /* existing empty directory on upper's filesystem; unused with read_only */
        bool read_only;            /* no writable layer at all (--read-only) */
};

/* Mount the layers at target, an existing directory.
 *
 * Writable: overlayfs with lowers = the layers, upperdir, workdir.  With
 * zero layers (FROM scratch and nothing else) there is nothing to merge:
 * upper is bind-mounted at target, which behaves as the overlay would
 * (writes land in upper) and needs no empty lower directory.
 * Read-only: lowers only.  Overlay needs two lowers when it has no upper,
 * so one layer is a read-only bind mount of that layer and zero layers an
 * empty read-only tmpfs.  (A bind shows the layer as it is on disk: a
 * whiteout there is a 0:0 device that hides nothing; bottom layers have
 * none in practice.)
 *
 * Overlay options: index=off, redirect_dir=off, metacopy=off, so the
 * upper directory stays a plain layer (whiteouts and opaque markers only,
 * no redirect or metacopy xattrs) that can be exported as a tar diff and
 * needs no index bookkeeping; xino is left to the kernel's default.
 *
 * How: the new mount API (fsopen, one fsconfig "lowerdir+" per layer,
 * fsmount, move_mount) where overlay knows lowerdir+ (Linux 6.8), so the
 * layer count is not bounded by the one page mount(2) copies.  Otherwise
 * mount(2) with each lower given as /proc/self/fd/N (about 18 bytes a
 * layer, ~200 layers in a 4 KiB page; paths with ',' ':' '\' cannot
 * mislead the option parser either); more than a page is a clear error.
 * More than SNAPSHOT_MAX_LAYERS layers is an error either way. */
int snapshot_mount(const struct snapshot_spec *spec, const char *target, berth_error_t **err);

/* Unmount target (a lazy detach when it is busy).  Not mounted, or
 * missing, is success: callers unmount unconditionally on cleanup. */
int snapshot_unmount(const char *target, berth_error_t **err);

/* Can an overlay with upper and work directories on dir's filesystem be
 * mounted and used (a whiteout made, a file written)?  Probed once per
 * filesystem and process by mounting a tiny overlay in a temporary
 * directory inside dir (removed afterwards).
 * Returns 1 (yes), 0 (no: *err, when err is not NULL, says why, for the
 * log line that announces the vfs fallback), or a negative value with *err
 * set when the probe itself could not run (dir missing, read-only...). */
int snapshot_overlay_supported(const char *dir, berth_error_t **err);

/* The vfs driver: copy the layers, bottom first, into dest, an existing
 * (normally empty) directory, applying overlay semantics:
 *  - a 0:0 character device deletes that name (file or tree) from what
 *    lower layers put, and is not copied;
 *  - a directory with trusted.overlay.opaque=y drops what lower layers put
 *    in it first (as overlay does, not on a layer's root directory);
 *  - a non-directory replaces whatever lower layers had at its name, and a
 *    directory replaces a lower non-directory (a symlink included): the
 *    copy never writes through a symlink a layer made, every destination
 *    directory is opened from its parent with O_NOFOLLOW;
 *  - a directory over a directory merges, and takes the upper one's
 *    owner, mode, xattrs and times, as the merged overlay directory does
 *    (the layers' roots are applied to dest itself the same way).
 * Preserved: type, content (reflink or copy_file_range where the
 * filesystem allows, holes kept), owner, mode with setuid/setgid/sticky,
 * atime and mtime, xattrs (security.capability after the chown that would
 * clear it; trusted.overlay.* and user.overlay.* are overlay's own and
 * dropped), hard links within a layer, symlinks (never followed), devices,
 * fifos, sockets.
 * On error what was copied stays in dest: the caller removes it. */
int snapshot_vfs_create(const char *const *layers, size_t nlayers, const char *dest, berth_error_t **err);

/* Tests only: make snapshot_mount take the mount(2) path even where the
 * new mount API with lowerdir+ works. */
extern bool snapshot_force_legacy_mount;
