/* The vfs driver: layers copied one over the other into one directory,
 * with overlay's semantics for whiteouts, opaque directories and
 * replacement (see snapshot.h).  Both trees are walked by fd, every name
 * opened from its parent with O_NOFOLLOW: nothing a layer made is ever
 * followed. */
#include "storage/snapshot.h"
#include "storage/storage-internal.h"
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

/* A hard-linked inode of the layer being copied, and where its first
 * link went (relative to the destination). */
struct link_slot {
        dev_t dev;
        ino_t ino;
        char *path;
};

struct vfs_ctx {
        int rootfd;
        struct link_slot *links; /* open addressing, cap a power of two */
        size_t nlinks, caplinks;
        char *path; /* the entry being copied, relative to the root */
        size_t len, cap;
        bool named; /* the error already names its entry */
};

static size_t link_hash(dev_t dev, ino_t ino, size_t cap)
{
        uint64_t h = ((uint64_t)ino * 0x9e3779b97f4a7c15ULL) ^ (uint64_t)dev;

        return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

static const char *links_find(const struct vfs_ctx *c, const struct stat *st)
{
        if (c->caplinks == 0)
                return NULL;
        for (size_t i = link_hash(st->st_dev, st->st_ino, c->caplinks); c->links[i].path != NULL;
             i = (i + 1) & (c->caplinks - 1))
                if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
                        return c->links[i].path;
        return NULL;
}

static void links_put(struct link_slot *slots, size_t cap, struct link_slot s)
{
        size_t i = link_hash(s.dev, s.ino, cap);

        while (slots[i].path != NULL)
                i = (i + 1) & (cap - 1);
        slots[i] = s;
}

static void links_add(struct vfs_ctx *c, const struct stat *st)
{
        if ((c->nlinks + 1) * 2 > c->caplinks) {
                size_t cap = c->caplinks ? c->caplinks * 2 : 64;
                struct link_slot *n = xcalloc(cap, sizeof(*n));

                for (size_t i = 0; i < c->caplinks; i++)
                        if (c->links[i].path != NULL)
                                links_put(n, cap, c->links[i]);
                free(c->links);
                c->links = n;
                c->caplinks = cap;
        }
        links_put(c->links, c->caplinks,
                  (struct link_slot){ .dev = st->st_dev, .ino = st->st_ino, .path = xstrdup(c->path) });
        c->nlinks++;
}

/* Hard links are per layer: layer_apply makes them inside one layer. */
static void links_clear(struct vfs_ctx *c)
{
        for (size_t i = 0; i < c->caplinks; i++)
                free(c->links[i].path);
        free(c->links);
        c->links = NULL;
        c->nlinks = c->caplinks = 0;
}

static size_t path_push(struct vfs_ctx *c, const char *name)
{
        size_t mark = c->len, n = strlen(name);

        if (c->len + n + 2 > c->cap) {
                c->cap = (c->len + n + 2) * 2;
                c->path = xrealloc(c->path, c->cap);
        }
        if (c->len > 0)
                c->path[c->len++] = '/';
        memcpy(c->path + c->len, name, n + 1);
        c->len += n;
        return mark;
}

static void path_pop(struct vfs_ctx *c, size_t mark)
{
        c->len = mark;
        c->path[mark] = '\0';
}

static int copy_dir(struct vfs_ctx *c, int sfd, int dfd, berth_error_t **err);

/* Another link to the inode whose first link this layer already made. */
static int link_to(struct vfs_ctx *c, const char *first, int ddir, const char *name, berth_error_t **err)
{
        struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS |
                                           RESOLVE_NO_XDEV };
        _cleanup_free_ char *parent = xstrdup(first);
        _cleanup_close_ int pfd = -1;
        char *slash = strrchr(parent, '/');
        const char *base = first;

        if (slash != NULL) {
                *slash = '\0';
                base = slash + 1;
        }
        pfd = (int)syscall(SYS_openat2, c->rootfd, slash != NULL ? parent : ".", &how, sizeof(how));
        if (pfd < 0 || linkat(pfd, base, ddir, name, 0) < 0) {
                _cleanup_free_ char *q = quote(first);

                return berth_error(err, errno, "link to %s", q);
        }
        return 0;
}

static int copy_file(int sdir, int ddir, const char *name, berth_error_t **err)
{
        _cleanup_close_ int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
        _cleanup_close_ int out = -1;
        struct stat st;

        if (in < 0 || fstat(in, &st) < 0)
                return berth_error(err, errno, "open");
        if (!S_ISREG(st.st_mode))
                return berth_error(err, EAGAIN, "changed while being copied");
        out = openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return berth_error(err, errno, "create");
        if (vfs_copy_data(in, out, st.st_size, err) < 0)
                return -1;
        return vfs_copy_meta(&(struct vfs_node){ in, sdir, name }, &st, &(struct vfs_node){ out, ddir, name },
                             false, err);
}

/* Symlinks, devices, fifos, sockets. */
static int copy_special(int sdir, int ddir, const char *name, const struct stat *st, berth_error_t **err)
{
        if (S_ISLNK(st->st_mode)) {
                char target[PATH_MAX];
                ssize_t n = readlinkat(sdir, name, target, sizeof(target));

                if (n < 0)
                        return berth_error(err, errno, "readlink");
                if ((size_t)n == sizeof(target))
                        return berth_error(err, ENAMETOOLONG, "readlink");
                target[n] = '\0';
                if (symlinkat(target, ddir, name) < 0)
                        return berth_error(err, errno, "symlink");
        } else if (mknodat(ddir, name, (st->st_mode & S_IFMT) | 0600, st->st_rdev) < 0) {
                return berth_error(err, errno, "mknod %u:%u", major(st->st_rdev), minor(st->st_rdev));
        }
        return vfs_copy_meta(&(struct vfs_node){ -1, sdir, name }, st, &(struct vfs_node){ -1, ddir, name },
                             false, err);
}

/* A non-directory replaces whatever lower layers had at its name. */
static int copy_nondir(struct vfs_ctx *c, int sdir, int ddir, const char *name, const struct stat *st,
                       berth_error_t **err)
{
        const char *first = st->st_nlink > 1 ? links_find(c, st) : NULL;
        int r = remove_tree_at(ddir, name);

        if (r < 0)
                return berth_error(err, -r, "remove what lower layers put there");
        if (first != NULL)
                return link_to(c, first, ddir, name, err);
        r = S_ISREG(st->st_mode) ? copy_file(sdir, ddir, name, err) : copy_special(sdir, ddir, name, st, err);
        if (r == 0 && st->st_nlink > 1)
                links_add(c, st);
        return r;
}

/* The destination directory for name: the lower layers' one to merge
 * into (*merge), or a new one where there was nothing or a non-directory
 * (a symlink included: never followed, replaced). */
static int open_dest_dir(int ddir, const char *name, bool *merge, berth_error_t **err)
{
        int fd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        *merge = fd >= 0;
        if (fd >= 0)
                return fd;
        if (errno == ELOOP || errno == ENOTDIR) {
                if (unlinkat(ddir, name, 0) < 0)
                        return berth_error(err, errno, "remove the lower non-directory");
        } else if (errno != ENOENT) {
                return berth_error(err, errno, "open");
        }
        if (mkdirat(ddir, name, 0700) < 0)
                return berth_error(err, errno, "mkdir");
        fd = openat(ddir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "open");
        return fd;
}

static bool is_opaque(int fd)
{
        char v[2];

        return fgetxattr(fd, "trusted.overlay.opaque", v, sizeof(v)) == 1 && v[0] == 'y';
}

static int copy_subdir(struct vfs_ctx *c, int sdir, int ddir, const char *name, const struct stat *st,
                       berth_error_t **err)
{
        _cleanup_close_ int sfd = openat(sdir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        _cleanup_close_ int dfd = -1;
        bool merge;
        int r;

        if (sfd < 0)
                return berth_error(err, errno, "open");
        dfd = open_dest_dir(ddir, name, &merge, err);
        if (dfd < 0)
                return -1;
        if (merge && is_opaque(sfd) && (r = clear_dir(dfd)) < 0)
                return berth_error(err, -r, "clear the lower content of an opaque directory");
        if (copy_dir(c, sfd, dfd, err) < 0)
                return -1;
        /* after the content, which changes the directory's times */
        return vfs_copy_meta(&(struct vfs_node){ sfd, sdir, name }, st, &(struct vfs_node){ dfd, ddir, name },
                             merge, err);
}

static int copy_entry(struct vfs_ctx *c, int sdir, int ddir, const char *name, berth_error_t **err)
{
        struct stat st;
        int r;

        if (fstatat(sdir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat");
        if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) { /* whiteout */
                r = remove_tree_at(ddir, name);
                return r < 0 ? berth_error(err, -r, "remove (whiteout)") : 0;
        }
        if (S_ISDIR(st.st_mode))
                return copy_subdir(c, sdir, ddir, name, &st, err);
        return copy_nondir(c, sdir, ddir, name, &st, err);
}

static int copy_dir(struct vfs_ctx *c, int sfd, int dfd, berth_error_t **err)
{
        int dup = fcntl(sfd, F_DUPFD_CLOEXEC, 3), r = 0;
        struct dirent *de;
        DIR *d;

        if (dup < 0 || (d = fdopendir(dup)) == NULL) {
                r = berth_error(err, errno, "read directory");
                if (dup >= 0)
                        close(dup);
                return r;
        }
        while (r == 0 && (errno = 0, de = readdir(d)) != NULL) {
                size_t mark;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                mark = path_push(c, de->d_name);
                r = copy_entry(c, sfd, dfd, de->d_name, err);
                if (r < 0 && !c->named) {
                        _cleanup_free_ char *q = quote(c->path);

                        berth_error_wrap(err, "%s", q);
                        c->named = true;
                }
                path_pop(c, mark);
        }
        if (r == 0 && errno != 0)
                r = berth_error(err, errno, "read directory");
        closedir(d);
        return r;
}

static int copy_layer(struct vfs_ctx *c, const char *layer, berth_error_t **err)
{
        _cleanup_close_ int sfd = open(layer, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        int r;

        if (sfd < 0 || fstat(sfd, &st) < 0)
                return berth_error(err, errno, "open");
        c->named = false;
        path_pop(c, 0);
        r = copy_dir(c, sfd, c->rootfd, err);
        links_clear(c);
        if (r < 0)
                return -1;
        /* the root takes the upper layer's owner, mode, xattrs, times, like
         * any merged directory; its opacity is ignored, as overlay does */
        return vfs_copy_meta(&(struct vfs_node){ sfd, AT_FDCWD, layer }, &st,
                             &(struct vfs_node){ c->rootfd, AT_FDCWD, "." }, true, err);
}

int snapshot_vfs_create(const char *const *layers, size_t nlayers, const char *dest, berth_error_t **err)
{
        struct vfs_ctx c = { .rootfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC) };
        int r = 0;

        if (c.rootfd < 0)
                return berth_error(err, errno, "open %s", dest);
        c.cap = 256;
        c.path = xmalloc(c.cap);
        for (size_t i = 0; r == 0 && i < nlayers; i++)
                if ((r = copy_layer(&c, layers[i], err)) < 0)
                        berth_error_wrap(err, "copy layer %zu (%s) into %s", i, layers[i], dest);
        free(c.path);
        close(c.rootfd);
        return r;
}
