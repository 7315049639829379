/* Creating one tar entry inside the destination: regular files,
 * directories, symlinks, hardlinks, devices and fifos, and their metadata
 * (owner, mode, xattrs, times).  The parent is resolved in the root
 * (layer-path.c); the last component is never followed. */
#include "image/layer-internal.h"
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

static void clamp_ns(struct timespec *t)
{
        if (t->tv_nsec < 0 || t->tv_nsec > 999999999)
                t->tv_nsec = 0;
}

static void entry_times(struct archive_entry *e, struct timespec ts[2])
{
        ts[1].tv_sec = archive_entry_mtime(e);
        ts[1].tv_nsec = archive_entry_mtime_nsec(e);
        clamp_ns(&ts[1]);
        if (!archive_entry_mtime_is_set(e))
                ts[1].tv_nsec = UTIME_OMIT;
        if (archive_entry_atime_is_set(e)) {
                ts[0].tv_sec = archive_entry_atime(e);
                ts[0].tv_nsec = archive_entry_atime_nsec(e);
                clamp_ns(&ts[0]);
        } else {
                ts[0] = ts[1];
        }
}

/* pax archives from libarchive carry each xattr twice (LIBARCHIVE.xattr
 * and SCHILY.xattr), and the reader reports both */
static bool xattr_seen_before(struct archive_entry *e, const char *name, int upto)
{
        const char *n;
        const void *v;
        size_t len;
        bool seen = false;

        archive_entry_xattr_reset(e);
        for (int i = 0; i < upto && archive_entry_xattr_next(e, &n, &v, &len) == ARCHIVE_OK; i++)
                if (n != NULL && strcmp(n, name) == 0)
                        seen = true;
        /* back to where the caller was */
        archive_entry_xattr_next(e, &n, &v, &len);
        return seen;
}

static bool xattr_skippable(const char *name, int e)
{
        if (e == EOPNOTSUPP)
                return true;
        return e == EPERM && (str_has_prefix(name, "user.") || str_has_prefix(name, "trusted."));
}

/* fd: the node itself when we hold it open; otherwise parentfd/base. */
static int set_xattrs(struct layer_ctx *c, struct archive_entry *e, int fd, int parentfd, const char *base,
                      berth_error_t **err)
{
        _cleanup_free_ char *proc = NULL;
        const char *name;
        const void *value;
        size_t size;

        if (archive_entry_xattr_reset(e) == 0)
                return 0;
        for (int i = 0; archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK; i++) {
                int r;

                if (i >= 1024) /* the duplicate check is quadratic */
                        return berth_error(err, 0, "more than 1024 xattrs");
                if (name == NULL || name[0] == '\0' || (i > 0 && xattr_seen_before(e, name, i)))
                        continue;
                if (str_has_prefix(name, "trusted.overlay.") || str_has_prefix(name, "user.overlay.")) {
                        c->st->skipped_xattrs++;
                        continue;
                }
                if (fd >= 0) {
                        r = fsetxattr(fd, name, value, size, 0);
                } else {
                        /* no fsetxattr on an O_PATH fd, no lsetxattrat: the parent
                         * through its fd, the last component not followed */
                        if (proc == NULL)
                                proc = xasprintf("/proc/self/fd/%d/%s", parentfd, base);
                        r = lsetxattr(proc, name, value, size, 0);
                }
                if (r < 0) {
                        _cleanup_free_ char *q = NULL;

                        if (xattr_skippable(name, errno)) {
                                c->st->skipped_xattrs++;
                                continue;
                        }
                        q = layer_quote(name);
                        return berth_error(err, errno, "set xattr %s", q);
                }
        }
        return 0;
}

/* Owner, mode, xattrs, and (except for directories) times, in the order
 * that keeps them: chown clears setuid bits and file capabilities. */
static int set_meta(struct layer_ctx *c, struct archive_entry *e, mode_t type, int fd, int parentfd,
                    const char *base, berth_error_t **err)
{
        if (c->o.keep_ownership) {
                la_int64_t uid = archive_entry_uid(e), gid = archive_entry_gid(e);
                int r;

                if (uid < 0 || uid >= UINT32_MAX || gid < 0 || gid >= UINT32_MAX)
                        return berth_error(err, 0, "owner %lld:%lld out of range", (long long)uid,
                                           (long long)gid);
                r = fd >= 0 ? fchown(fd, (uid_t)uid, (gid_t)gid)
                            : fchownat(parentfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return berth_error(err, errno, "chown to %lld:%lld", (long long)uid, (long long)gid);
        }
        if (type != AE_IFLNK) {
                mode_t perm = archive_entry_perm(e) & 07777;
                /* without fd: a fifo or device node we just made, not a symlink */
                int r = fd >= 0 ? fchmod(fd, perm) : fchmodat(parentfd, base, perm, 0);

                if (r < 0)
                        return berth_error(err, errno, "chmod %04o", (unsigned)perm);
        }
        if (set_xattrs(c, e, fd, parentfd, base, err) < 0)
                return -1;
        if (type != AE_IFDIR) {
                struct timespec ts[2];
                int r;

                entry_times(e, ts);
                r = fd >= 0 ? futimens(fd, ts) : utimensat(parentfd, base, ts, AT_SYMLINK_NOFOLLOW);
                if (r < 0)
                        return berth_error(err, errno, "set times");
        }
        return 0;
}

static int pwrite_all(int fd, const char *buf, size_t len, off_t off)
{
        while (len > 0) {
                ssize_t n = pwrite(fd, buf, len, off);

                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -1;
                }
                buf += n;
                len -= (size_t)n;
                off += n;
        }
        return 0;
}

static int make_file(struct layer_ctx *c, struct archive_entry *e, int parent, const char *base,
                     berth_error_t **err)
{
        _cleanup_close_ int fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        la_int64_t size = archive_entry_size(e), end = 0;

        if (fd < 0)
                return berth_error(err, errno, "create");
        for (;;) {
                const void *buf;
                size_t len;
                la_int64_t off;
                int r = archive_read_data_block(c->a, &buf, &len, &off);

                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_error(err, archive_errno(c->a) > 0 ? archive_errno(c->a) : 0,
                                           "read: %s", archive_error_string(c->a));
                if (off < 0 || (la_int64_t)len > size || off > size - (la_int64_t)len)
                        return berth_error(err, 0, "data beyond the entry's size");
                if (pwrite_all(fd, buf, len, (off_t)off) < 0)
                        return berth_error(err, errno, "write");
                if (off + (la_int64_t)len > end)
                        end = off + (la_int64_t)len;
        }
        if (end < size && ftruncate(fd, (off_t)size) < 0) /* a sparse tail */
                return berth_error(err, errno, "truncate");
        c->st->bytes += (uint64_t)size;
        return set_meta(c, e, AE_IFREG, fd, parent, base, err);
}

static void defer_dir_times(struct layer_ctx *c, struct archive_entry *e, const char *path)
{
        if (c->ndirs == c->capdirs) {
                c->capdirs = c->capdirs ? c->capdirs * 2 : 64;
                c->dirs = xrealloc(c->dirs, c->capdirs * sizeof(*c->dirs));
        }
        c->dirs[c->ndirs].path = xstrdup(path);
        entry_times(e, c->dirs[c->ndirs].ts);
        c->ndirs++;
}

static int make_dir(struct layer_ctx *c, struct archive_entry *e, int parent, const char *base, const char *path,
                    bool merge, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;

        if (!merge && mkdirat(parent, base, 0700) < 0)
                return berth_error(err, errno, "mkdir");
        fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open the directory");
        if (set_meta(c, e, AE_IFDIR, fd, parent, base, err) < 0)
                return -1;
        defer_dir_times(c, e, path);
        return 0;
}

static int make_hardlink(struct layer_ctx *c, const char *target, int parent, const char *path, const char *base,
                         berth_error_t **err)
{
        _cleanup_free_ char *tpath = layer_clean_path(target), *tdir = NULL, *q = layer_quote(target);
        _cleanup_close_ int tparent = -1;
        struct stat tst, old;
        const char *tbase;
        int r;

        if (tpath == NULL)
                return berth_error(err, 0, "hardlink target %s leads outside the layer", q);
        if (tpath[0] == '\0')
                return berth_error(err, 0, "hardlink to the layer root");
        if (strcmp(tpath, path) == 0)
                return 0; /* a link to itself: already there or nothing to link */
        tbase = layer_split(tpath, &tdir);
        r = layer_open_dir(c, tdir, false, false);
        if (r < 0)
                return berth_error(err, -r, "hardlink target %s", q);
        tparent = r;
        if (fstatat(tparent, tbase, &tst, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "hardlink target %s", q);
        if (S_ISDIR(tst.st_mode))
                return berth_error(err, 0, "hardlink target %s is a directory", q);
        if (fstatat(parent, base, &old, AT_SYMLINK_NOFOLLOW) == 0) {
                if (old.st_dev == tst.st_dev && old.st_ino == tst.st_ino)
                        return 0;
                r = layer_remove_tree(parent, base);
                layer_cache_drop(c);
                if (r < 0)
                        return berth_error(err, -r, "remove what is in the way");
        }
        if (linkat(tparent, tbase, parent, base, 0) < 0)
                return berth_error(err, errno, "link to %s", q);
        return 0;
}

int layer_create(struct layer_ctx *c, struct archive_entry *e, const char *path, berth_error_t **err)
{
        const char *hl = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        _cleanup_free_ char *dir = NULL;
        _cleanup_close_ int parent = -1;
        const char *base = layer_split(path, &dir);
        struct stat old;
        bool isdir = false;
        int r;

        if (hl == NULL) {
                switch (type) {
                case AE_IFCHR:
                case AE_IFBLK:
                        if (!c->o.allow_devices) {
                                c->st->skipped_devices++;
                                return 0;
                        }
                        break;
                case AE_IFSOCK:
                        c->st->skipped_other++;
                        return 0;
                case AE_IFREG:
                case AE_IFDIR:
                case AE_IFLNK:
                case AE_IFIFO:
                        break;
                default:
                        return berth_error(err, 0, "unsupported file type 0%o", (unsigned)type);
                }
        }
        if (hl == NULL && type == AE_IFREG && c->o.max_bytes > 0) {
                la_int64_t size = archive_entry_size(e), pos = archive_read_header_position(c->a);

                if (size < 0 || pos < 0 || (uint64_t)size > c->o.max_bytes ||
                    (uint64_t)pos > c->o.max_bytes - (uint64_t)size)
                        return berth_error(err, 0, "larger than the layer size limit of %llu bytes",
                                           (unsigned long long)c->o.max_bytes);
        }
        r = layer_open_dir(c, dir, true, false);
        if (r < 0)
                return berth_error(err, -r, "open its directory");
        parent = r;
        if (hl != NULL) {
                if (make_hardlink(c, hl, parent, path, base, err) < 0)
                        return -1;
                goto done;
        }
        if (fstatat(parent, base, &old, AT_SYMLINK_NOFOLLOW) == 0) {
                isdir = S_ISDIR(old.st_mode);
                if (!(type == AE_IFDIR && isdir)) {
                        r = layer_remove_tree(parent, base);
                        layer_cache_drop(c);
                        if (r < 0)
                                return berth_error(err, -r, "remove what is in the way");
                }
        } else if (errno != ENOENT) {
                return berth_error(err, errno, "stat");
        }
        switch (type) {
        case AE_IFREG:
                r = make_file(c, e, parent, base, err);
                break;
        case AE_IFDIR:
                r = make_dir(c, e, parent, base, path, isdir, err);
                break;
        case AE_IFLNK: {
                const char *target = archive_entry_symlink(e);

                if (target == NULL || target[0] == '\0')
                        return berth_error(err, 0, "symlink without a target");
                if (symlinkat(target, parent, base) < 0)
                        return berth_error(err, errno, "symlink");
                r = set_meta(c, e, type, -1, parent, base, err);
                break;
        }
        default: {
                dev_t dev = type == AE_IFIFO ? 0 : makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e));

                if (mknodat(parent, base, type | 0600, dev) < 0)
                        return berth_error(err, errno, "mknod");
                r = set_meta(c, e, type, -1, parent, base, err);
                break;
        }
        }
        if (r < 0)
                return r;
done:
        layer_pathset_add(&c->mine, path);
        c->st->files++;
        return 0;
}

int layer_root_meta(struct layer_ctx *c, struct archive_entry *e, berth_error_t **err)
{
        if (set_meta(c, e, AE_IFDIR, c->destfd, -1, NULL, err) < 0)
                return -1;
        defer_dir_times(c, e, "");
        return 0;
}

int layer_finish_dirs(struct layer_ctx *c, berth_error_t **err)
{
        for (size_t i = 0; i < c->ndirs; i++) {
                struct layer_dirtime *d = &c->dirs[i];
                _cleanup_free_ char *dir = NULL, *q = NULL;
                _cleanup_close_ int fd = -1;
                const char *base;
                struct stat st;

                if (d->path[0] == '\0') {
                        if (futimens(c->destfd, d->ts) < 0)
                                return berth_error(err, errno, "set times of the layer root");
                        continue;
                }
                base = layer_split(d->path, &dir);
                fd = layer_open_dir(c, dir, false, false);
                /* gone, or no longer a directory: a later entry or whiteout */
                if (fd < 0 || fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                if (utimensat(fd, base, d->ts, AT_SYMLINK_NOFOLLOW) < 0) {
                        q = layer_quote(d->path);
                        return berth_error(err, errno, "layer entry %s: set times", q);
                }
        }
        return 0;
}
