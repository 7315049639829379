/* A node's metadata in the vfs copy: owner, mode, xattrs, times.  Nodes
 * without an fd (symlinks, devices, fifos) are reached through
 * /proc/self/fd/<parent>/<name> with the l*xattr calls, which do not
 * follow the last component: there is no *xattrat. */
#include "storage/storage-internal.h"
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/xattr.h>

#define PROC_PATH_MAX (sizeof("/proc/self/fd//") + 12 + NAME_MAX)

static const char *proc_path(const struct vfs_node *n, char *buf)
{
        snprintf(buf, PROC_PATH_MAX, "/proc/self/fd/%d/%s", n->dirfd, n->name);
        return buf;
}

static ssize_t x_list(const struct vfs_node *n, char *list, size_t size)
{
        char p[PROC_PATH_MAX];

        return n->fd >= 0 ? flistxattr(n->fd, list, size) : llistxattr(proc_path(n, p), list, size);
}

static ssize_t x_get(const struct vfs_node *n, const char *name, void *value, size_t size)
{
        char p[PROC_PATH_MAX];

        return n->fd >= 0 ? fgetxattr(n->fd, name, value, size) : lgetxattr(proc_path(n, p), name, value, size);
}

static int x_set(const struct vfs_node *n, const char *name, const void *value, size_t size)
{
        char p[PROC_PATH_MAX];

        return n->fd >= 0 ? fsetxattr(n->fd, name, value, size, 0)
                          : lsetxattr(proc_path(n, p), name, value, size, 0);
}

static int x_remove(const struct vfs_node *n, const char *name)
{
        char p[PROC_PATH_MAX];

        return n->fd >= 0 ? fremovexattr(n->fd, name) : lremovexattr(proc_path(n, p), name);
}

/* All of n's xattr names, NUL-separated, in *out (NULL when none). */
static int list_names(const struct vfs_node *n, char **out, size_t *len)
{
        *out = NULL;
        *len = 0;
        for (;;) {
                ssize_t size = x_list(n, NULL, 0), got;
                char *buf;

                if (size < 0 && errno == EOPNOTSUPP)
                        return 0;
                if (size <= 0)
                        return (int)size;
                buf = xmalloc((size_t)size);
                got = x_list(n, buf, (size_t)size);
                if (got >= 0) {
                        *out = buf;
                        *len = (size_t)got;
                        return 0;
                }
                free(buf);
                if (errno != ERANGE) /* ERANGE: it grew meanwhile */
                        return -1;
        }
}

/* name's value in *out; 1, or 0 when it went away meanwhile, or -1. */
static int get_value(const struct vfs_node *n, const char *name, char **out, size_t *len)
{
        for (;;) {
                ssize_t size = x_get(n, name, NULL, 0), got;
                char *buf;

                if (size < 0)
                        return errno == ENODATA ? 0 : -1;
                buf = xmalloc((size_t)size);
                got = x_get(n, name, buf, (size_t)size);
                if (got >= 0) {
                        *out = buf;
                        *len = (size_t)got;
                        return 1;
                }
                free(buf);
                if (errno != ERANGE)
                        return errno == ENODATA ? 0 : -1;
        }
}

/* How overlay marks opaque directories, whiteouts, redirects: meaningful
 * to overlay only, never part of the copied tree. */
static bool overlay_private(const char *name)
{
        return str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.overlay.");
}

static bool listed(const char *list, size_t len, const char *name)
{
        for (const char *p = list; p != NULL && p < list + len; p += strlen(p) + 1)
                if (strcmp(p, name) == 0)
                        return true;
        return false;
}

/* xattr names come from image layers: quoted in messages */
static int xattr_error(berth_error_t **err, int e, const char *what, const char *name)
{
        _cleanup_free_ char *q = quote(name);

        return berth_error(err, e, "%s xattr %s", what, q);
}

/* A merged directory shows only the upper one's xattrs. */
static int drop_extra(const struct vfs_node *dst, const char *keep, size_t keeplen, berth_error_t **err)
{
        _cleanup_free_ char *names = NULL;
        size_t len;

        if (list_names(dst, &names, &len) < 0)
                return berth_error(err, errno, "list xattrs");
        for (const char *p = names; p != NULL && p < names + len; p += strlen(p) + 1) {
                if (overlay_private(p) || listed(keep, keeplen, p))
                        continue;
                if (x_remove(dst, p) < 0 && errno != ENODATA)
                        return xattr_error(err, errno, "remove", p);
        }
        return 0;
}

static int copy_xattrs(const struct vfs_node *src, const struct vfs_node *dst, bool merge, berth_error_t **err)
{
        _cleanup_free_ char *names = NULL;
        size_t len;

        if (list_names(src, &names, &len) < 0)
                return berth_error(err, errno, "list xattrs");
        if (merge && drop_extra(dst, names, len, err) < 0)
                return -1;
        for (const char *p = names; p != NULL && p < names + len; p += strlen(p) + 1) {
                _cleanup_free_ char *value = NULL;
                size_t vlen;
                int r;

                if (overlay_private(p))
                        continue;
                r = get_value(src, p, &value, &vlen);
                if (r < 0)
                        return xattr_error(err, errno, "read", p);
                /* EOPNOTSUPP: the destination filesystem has no such namespace */
                if (r > 0 && x_set(dst, p, value, vlen) < 0 && errno != EOPNOTSUPP)
                        return xattr_error(err, errno, "set", p);
        }
        return 0;
}

int vfs_copy_meta(const struct vfs_node *src, const struct stat *st, const struct vfs_node *dst, bool merge,
                  berth_error_t **err)
{
        const struct timespec ts[2] = { st->st_atim, st->st_mtim };
        mode_t mode = st->st_mode & 07777;
        int r;

        r = dst->fd >= 0 ? fchown(dst->fd, st->st_uid, st->st_gid)
                         : fchownat(dst->dirfd, dst->name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return berth_error(err, errno, "chown to %u:%u", (unsigned)st->st_uid, (unsigned)st->st_gid);
        if (!S_ISLNK(st->st_mode)) {
                /* without an fd: a device or fifo just made, not a symlink */
                r = dst->fd >= 0 ? fchmod(dst->fd, mode) : fchmodat(dst->dirfd, dst->name, mode, 0);
                if (r < 0)
                        return berth_error(err, errno, "chmod %04o", (unsigned)mode);
        }
        if (copy_xattrs(src, dst, merge, err) < 0)
                return -1;
        r = dst->fd >= 0 ? futimens(dst->fd, ts) : utimensat(dst->dirfd, dst->name, ts, AT_SYMLINK_NOFOLLOW);
        if (r < 0)
                return berth_error(err, errno, "set times");
        return 0;
}
