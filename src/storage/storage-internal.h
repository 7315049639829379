/* Internals of src/storage, shared by its files; not an API. */
#pragma once
#include "util/util.h"
#include <stdbool.h>
#include <sys/stat.h>


/* A node being copied by the vfs driver: open (fd >= 0), or only named in
 * its parent directory (symlinks, devices, fifos: no fd can carry their
 * xattrs, they are reached as /proc/self/fd/<dirfd>/<name>). */
struct vfs_node {
        int fd;
        int dirfd;
        const char *name;
};

/* vfs-meta.c */
/* Give dst src's owner, mode, xattrs and times (st is src's stat), in the
 * order that keeps them: chown clears setuid bits and file capabilities.
 * merge: dst is a directory lower layers made; xattrs src lacks are
 * removed from it. */
int vfs_copy_meta(const struct vfs_node *src, const struct stat *st, const struct vfs_node *dst, bool merge,
                  berth_error_t **err);

/* vfs-data.c */
/* Copy size bytes of regular file in to out (empty, same size after):
 * a reflink where the filesystem shares extents, else copy_file_range
 * (read/write across filesystems), data segments only so holes stay. */
int vfs_copy_data(int in, int out, off_t size, berth_error_t **err);
