/* Extracting an image layer (a tar stream: plain, gzip or zstd) into a
 * directory, safely: the tar is hostile input.
 *
 * Two models, after the OCI image spec (layer.md) and Docker:
 *  - apply (default): layer N is extracted over the union of layers
 *    0..N-1 in the same directory.  `.wh.NAME` deletes NAME (a file or a
 *    whole tree); `.wh..wh..opq` deletes what lower layers put in its
 *    directory, keeping what this layer put there (before or after it).
 *  - overlay (opts.overlay_whiteouts): each layer is extracted into its own
 *    empty directory, used as an overlayfs lowerdir.  `.wh.NAME` becomes a
 *    0:0 character device NAME, `.wh..wh..opq` sets trusted.overlay.opaque=y
 *    on its directory; nothing is deleted.  (A userxattr mount would need
 *    user.overlay.opaque instead: not done, Berth's overlays are mounted by
 *    root.)
 * In both models a whiteout naming something this layer itself created is
 * ignored: the layer's own content wins.
 *
 * Safety, whatever the tar says:
 *  - Entry names are cleaned lexically: a leading '/' is stripped (Docker
 *    does the same), "." and empty components dropped, ".." resolved;
 *    a name or hardlink target whose ".." leads above the root is rejected.
 *  - Every parent directory is opened with openat2(RESOLVE_IN_ROOT |
 *    RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV) from the destination, so a
 *    symlink in a parent (from this layer or a lower one) is followed as if
 *    the destination were "/", never out of it.  Missing parents are created
 *    0755 (as Docker does).  The last component is never followed:
 *    creation is O_CREAT|O_EXCL|O_NOFOLLOW, mkdirat, symlinkat, mknodat,
 *    linkat without AT_SYMLINK_FOLLOW; what is in the way is removed first
 *    (a directory over a directory merges).  Symlink entries may point
 *    anywhere (they are just links), nothing is written through them.
 *  - Hardlink targets must already exist inside the destination (resolved
 *    the same way; from this layer or, in the apply model, a lower one) and
 *    must not be directories.  A hardlink takes the target's metadata (the
 *    inode is shared); its own header's mode and owner are not applied.
 *  - Whiteouts whose directory is reached through a symlink are rejected
 *    (real layers never have them; they would delete something the layer
 *    does not name).
 *  - Character and block devices are created only with allow_devices;
 *    otherwise they are skipped and counted in skipped_devices (real base
 *    images ship /dev nodes; refusing them would refuse those images).
 *    Sockets and AUFS metadata (.wh..wh.*) are skipped (skipped_other).
 *  - xattrs from the tar are set on the created node (user.*, trusted.*,
 *    security.* including security.capability, after chown, which would
 *    clear it).  trusted.overlay.* and user.overlay.* from the tar are
 *    dropped: they change how overlayfs reads a lowerdir (redirects,
 *    metacopy, opacity) and only whiteouts may set them.  An xattr the
 *    filesystem does not support (EOPNOTSUPP), or a user.* or trusted.* one
 *    the kernel refuses (EPERM: user.* on a symlink or device, trusted.*
 *    without CAP_SYS_ADMIN), is skipped and counted; any other failure is
 *    an error.  More than 1024 xattrs on one entry is an error.  xattrs of
 *    symlinks, fifos and devices are set through /proc/self/fd/<parent>/name
 *    (there is no lsetxattrat), so /proc must be mounted for those.
 *  - Modes are set exactly (umask does not apply), including setuid, setgid
 *    and sticky bits; owners only with keep_ownership (otherwise the
 *    caller owns everything); mtime and atime (atime = mtime when the tar
 *    has none) on every node, directories' after all the layer's content.
 *  - max_bytes bounds the uncompressed tar stream (a decompression bomb is
 *    cut short), checked before each file is written too.
 *
 * Needs openat2 (Linux 5.6).  No global state: layers can be extracted
 * in parallel threads, each into its own directory.
 *
 * Errors: one line naming the entry and the reason, e.g.
 *   layer entry "../x": leads outside the layer
 * On error layer_apply returns at once; what it already extracted stays in
 * dest_dir.  Callers extract into a fresh temporary directory and rename it
 * into place only on success.
 */
#pragma once
#include "util/error.h"
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct layer_apply_opts {
        bool allow_devices;     /* mknod char/block devices (root outside a userns) */
        bool keep_ownership;    /* chown to the tar's numeric uid/gid */
        bool overlay_whiteouts; /* overlay model, see above; default is apply */
        uint64_t max_bytes;     /* limit on the uncompressed tar; 0 = none */
};

struct layer_stats {
        uint64_t bytes;           /* regular files' content (logical sizes) */
        uint64_t tar_bytes;       /* the uncompressed tar stream */
        uint64_t files;           /* nodes created: files, dirs, links, devices, fifos */
        uint64_t whiteouts;       /* whiteouts and opaque markers applied */
        uint64_t skipped_devices; /* devices not created (!allow_devices) */
        uint64_t skipped_other;   /* sockets, AUFS metadata entries */
        uint64_t skipped_xattrs;  /* xattrs the filesystem or kernel refused */
        char diff_id[7 + 64 + 1]; /* "sha256:<hex>" of the uncompressed tar (the DiffID) */
};

/* Read up to len bytes; 0 at end of stream; -1 with errno on error. */
typedef ssize_t (*layer_read_fn)(void *cookie, void *buf, size_t len);

/* Extract the tar read from fd_in (compression autodetected) into
 * dest_dir, an existing directory.  o may be NULL (all defaults); st may
 * be NULL.  Returns 0, or a negative value with *err set. */
int layer_apply(int fd_in, const char *dest_dir, const struct layer_apply_opts *o,
                struct layer_stats *st, berth_error_t **err);

/* The same, pulling the stream through fn (e.g. a download that digests
 * the compressed bytes as they pass). */
int layer_apply_read(layer_read_fn fn, void *cookie, const char *dest_dir,
                     const struct layer_apply_opts *o, struct layer_stats *st, berth_error_t **err);
