/* A directory tree (or one node) written as a tar stream, as moby writes
 * them: for docker cp and export, and for the layer docker commit makes
 * of an overlay upper directory.  Every node below the top is opened from
 * its parent's fd with O_NOFOLLOW and read through that fd: a symlink is
 * written as a symlink, never followed. */
#include "engine/engine-archive.h"
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/xattr.h>

#define TAR_IO_BUF (128 * 1024)

static la_ssize_t tar_write_cb(struct archive *a, void *data, const void *buf, size_t len)
{
        struct tree_tar *t = data;

        if (t->write(t->data, buf, len) < 0) {
                archive_set_error(a, EPIPE, "the reader went away");
                return -1;
        }
        return (la_ssize_t)len;
}

int tree_tar_open(struct tree_tar *t, struct archive **out, berth_error_t **err)
{
        struct archive *a = archive_write_new();

        if (a == NULL)
                abort();
        /* blocks of 32 KiB on the wire, but no padding after the end
         * marker: the archive is exactly as long as Go's */
        if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
            archive_write_add_filter_none(a) != ARCHIVE_OK ||
            archive_write_set_bytes_per_block(a, 32768) != ARCHIVE_OK ||
            archive_write_set_bytes_in_last_block(a, 1) != ARCHIVE_OK ||
            archive_write_open2(a, t, NULL, tar_write_cb, NULL, NULL) != ARCHIVE_OK) {
                int r = berth_error(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "tar: %s",
                                    archive_error_string(a) ?: "cannot start");
                archive_write_free(a);
                return r;
        }
        *out = a;
        return 0;
}

int tree_tar_close(struct archive *a, bool ok, berth_error_t **err)
{
        int r = 0;

        if (a == NULL)
                return 0;
        if (!ok)
                archive_write_fail(a);
        else if (archive_write_close(a) != ARCHIVE_OK)
                r = berth_error(err, archive_errno(a) > 0 ? archive_errno(a) : 0, "tar: %s",
                                archive_error_string(a) ?: "cannot finish");
        archive_write_free(a);
        return r;
}

struct walk {
        struct tree_tar *t;
        struct archive *a;
        struct archive_entry_linkresolver *links;
        char *buf;
};

static int tar_fail(struct walk *w, const char *name, berth_error_t **err)
{
        return berth_error(err, archive_errno(w->a) > 0 ? archive_errno(w->a) : 0, "tar %s: %s", name,
                           archive_error_string(w->a) ?: "write failed");
}

static char *child_name(const char *name, const char *child)
{
        if (*name == '\0')
                return xstrdup(child);
        size_t n = strlen(name);
        return xasprintf("%s%s%s", name, name[n - 1] == '/' ? "" : "/", child);
}

/* A header from st as moby writes them: seconds only, no atime/ctime,
 * "root" for owner 0, directories named with a trailing "/". */
static struct archive_entry *header(const char *name, const struct stat *st)
{
        struct archive_entry *e = archive_entry_new();
        size_t n = strlen(name);

        if (e == NULL)
                abort();
        archive_entry_copy_stat(e, st);
        if (S_ISDIR(st->st_mode) && (n == 0 || name[n - 1] != '/')) {
                _cleanup_free_ char *d = xasprintf("%s/", name);
                archive_entry_copy_pathname(e, d);
        } else {
                archive_entry_copy_pathname(e, name);
        }
        archive_entry_set_mtime(e, st->st_mtim.tv_sec, 0);
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        if (st->st_uid == 0)
                archive_entry_copy_uname(e, "root");
        if (st->st_gid == 0)
                archive_entry_copy_gname(e, "root");
        if (!S_ISREG(st->st_mode))
                archive_entry_set_size(e, 0);
        return e;
}

static int write_header(struct walk *w, struct archive_entry *e, berth_error_t **err)
{
        if (archive_write_header(w->a, e) < ARCHIVE_WARN)
                return tar_fail(w, archive_entry_pathname(e), err);
        w->t->entries++;
        return 0;
}

/* A regular file's bytes: exactly its size in the header, zeros if it
 * shrank meanwhile (the container may be running). */
static int write_content(struct walk *w, int fd, int64_t size, const char *name, berth_error_t **err)
{
        int64_t done = 0;

        while (done < size) {
                size_t want = size - done < TAR_IO_BUF ? (size_t)(size - done) : TAR_IO_BUF;
                ssize_t n = read(fd, w->buf, want);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read %s", name);
                if (n == 0) {
                        memset(w->buf, 0, want);
                        n = (ssize_t)want;
                }
                if (archive_write_data(w->a, w->buf, (size_t)n) < 0)
                        return tar_fail(w, name, err);
                done += n;
        }
        return 0;
}

/* Regular files are opened through their O_PATH fd (the exact inode
 * found, no lookup again); O_NONBLOCK in case it is not one after all. */
static int open_node(int fd, int flags)
{
        char proc[64];

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        return open(proc, flags | O_CLOEXEC | O_NONBLOCK);
}

static int tar_file(struct walk *w, int fd, const char *name, const struct stat *st, berth_error_t **err)
{
        _cleanup_close_ int rfd = open_node(fd, O_RDONLY);
        struct archive_entry *e, *spare = NULL;
        char cap[1024];
        ssize_t caplen;
        int r;

        if (rfd < 0)
                return berth_error(err, errno, "open %s", name);
        e = header(name, st);
        /* file capabilities are part of what a binary is (moby keeps them) */
        caplen = fgetxattr(rfd, "security.capability", cap, sizeof(cap));
        if (caplen > 0)
                archive_entry_xattr_add_entry(e, "security.capability", cap, (size_t)caplen);
        archive_entry_linkify(w->links, &e, &spare);
        r = write_header(w, e, err);
        if (r == 0 && archive_entry_hardlink(e) == NULL)
                r = write_content(w, rfd, st->st_size, name, err);
        archive_entry_free(e);
        archive_entry_free(spare);
        return r;
}

static int tar_symlink(struct walk *w, int fd, const char *name, const struct stat *st, berth_error_t **err)
{
        char target[PATH_MAX];
        ssize_t n = readlinkat(fd, "", target, sizeof(target) - 1);
        struct archive_entry *e;
        int r;

        if (n < 0)
                return berth_error(err, errno, "readlink %s", name);
        target[n] = '\0';
        e = header(name, st);
        archive_entry_copy_symlink(e, target);
        r = write_header(w, e, err);
        archive_entry_free(e);
        return r;
}

/* An overlay whiteout (0:0 character device) as an image layer says it. */
static int tar_whiteout(struct walk *w, const char *name, const struct stat *st, berth_error_t **err)
{
        const char *slash = strrchr(name, '/');
        _cleanup_free_ char *wh = slash ? xasprintf("%.*s/.wh.%s", (int)(slash - name), name, slash + 1)
                                        : xasprintf(".wh.%s", name);
        struct stat ws = *st;
        struct archive_entry *e;
        int r;

        ws.st_mode = S_IFREG | 0600;
        ws.st_size = 0;
        ws.st_rdev = 0;
        ws.st_nlink = 1;
        e = header(wh, &ws);
        r = write_header(w, e, err);
        archive_entry_free(e);
        return r;
}

static int cmp_names(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in directory dfd, sorted as Go's filepath.Walk visits them. */
static int list_dir(int dfd, char ***out, size_t *count)
{
        int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        char **v = NULL;
        size_t n = 0;
        struct dirent *de;

        if (d == NULL) {
                int e = errno;
                if (fd >= 0)
                        close(fd);
                return -e;
        }
        while ((errno = 0, de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                v = xrealloc(v, (n + 2) * sizeof(char *));
                v[n++] = xstrdup(de->d_name);
                v[n] = NULL;
        }
        int e = errno;
        closedir(d);
        if (e != 0) {
                cleanup_strvp(&v);
                return -e;
        }
        if (n > 0)
                qsort(v, n, sizeof(char *), cmp_names);
        *out = v;
        *count = n;
        return 0;
}

static int tar_node(struct walk *w, int fd, const char *name, const char *cpath, bool include, berth_error_t **err);

/* Overlay's own attributes on an upper directory: opaque becomes the
 * layer's opaque marker; a redirect (a directory renamed) would need the
 * lower content copied, and berth mounts with redirect_dir=off. */
static int dir_whiteouts(struct walk *w, int dfd, const char *name, const struct stat *st, berth_error_t **err)
{
        char v[8];
        ssize_t n = fgetxattr(dfd, "trusted.overlay.redirect", v, sizeof(v));

        if (n >= 0 || errno == ERANGE)
                return berth_fail(err, EOPNOTSUPP, "%s: a renamed directory (overlay redirect) cannot be committed",
                                  name);
        n = fgetxattr(dfd, "trusted.overlay.opaque", v, sizeof(v));
        if (n != 1 || v[0] != 'y')
                return 0;
        _cleanup_free_ char *opq = child_name(name, ".wh..wh..opq");
        struct stat os = *st;
        os.st_mode = S_IFREG | (st->st_mode & 0777);
        os.st_size = 0;
        os.st_nlink = 1;
        struct archive_entry *e = header(opq, &os);
        int r = write_header(w, e, err);
        archive_entry_free(e);
        return r;
}

/* The child of cpath named child, as the container path it is. */
static char *ctr_child(const char *cpath, const char *child)
{
        return xasprintf("%s%s%s", cpath, strcmp(cpath, "/") == 0 ? "" : "/", child);
}

/* A bind mount's destination at cpath: docker cp shows its source; a
 * commit skips the empty file the runtime made for it.  *fd is replaced,
 * or -1 to skip the node; 0 when it is no mount point. */
static int mount_point(struct walk *w, const char *cpath, int *fd)
{
        size_t n;
        json_t *m = cpath_find_mount(w->t->config, cpath, &n);
        struct stat st;

        if (m == NULL || n != strlen(cpath))
                return 0;
        if (w->t->whiteouts) {
                if (fstatat(*fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
                    st.st_size == 0) {
                        close(*fd);
                        *fd = -1;
                }
                return 0;
        }
        const char *src = json_string_value(json_object_get(m, "source"));
        int sfd = src ? open(src, O_PATH | O_CLOEXEC) : -1;
        if (sfd < 0)
                return -errno;
        close(*fd);
        *fd = sfd;
        return 0;
}

static int tar_dir(struct walk *w, int fd, const char *name, const char *cpath, const struct stat *st, bool include,
                   berth_error_t **err)
{
        _cleanup_close_ int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_strv_ char **names = NULL;
        size_t n = 0;
        int r = 0;

        if (dfd < 0)
                return berth_error(err, errno, "open %s", name);
        if (include) {
                struct archive_entry *e = header(name, st);
                r = write_header(w, e, err);
                archive_entry_free(e);
        }
        if (r == 0 && w->t->whiteouts && *name)
                r = dir_whiteouts(w, dfd, name, st, err);
        if (r == 0 && (r = list_dir(dfd, &names, &n)) < 0)
                return berth_error(err, -r, "read directory %s", name);
        for (size_t i = 0; r == 0 && i < n; i++) {
                _cleanup_close_ int cfd = openat(dfd, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                _cleanup_free_ char *cname = child_name(name, names[i]);
                _cleanup_free_ char *ccpath = cpath ? ctr_child(cpath, names[i]) : NULL;
                if (cfd < 0 && errno == ENOENT)
                        continue; /* removed meanwhile: the container runs */
                if (cfd < 0)
                        return berth_error(err, errno, "open %s", cname);
                if (ccpath && (r = mount_point(w, ccpath, &cfd)) < 0)
                        return berth_error(err, -r, "open the mount at %s", ccpath);
                if (cfd >= 0)
                        r = tar_node(w, cfd, cname, ccpath, true, err);
        }
        return r;
}

static int tar_node(struct walk *w, int fd, const char *name, const char *cpath, bool include, berth_error_t **err)
{
        struct stat st;
        struct archive_entry *e;
        int r;

        if (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat %s", name);
        switch (st.st_mode & S_IFMT) {
        case S_IFDIR:
                return tar_dir(w, fd, name, cpath, &st, include, err);
        case S_IFREG:
                return tar_file(w, fd, name, &st, err);
        case S_IFLNK:
                return tar_symlink(w, fd, name, &st, err);
        case S_IFSOCK:
                return 0; /* tar has no sockets; moby skips them too */
        case S_IFCHR:
                if (w->t->whiteouts && st.st_rdev == 0)
                        return tar_whiteout(w, name, &st, err);
                break;
        }
        e = header(name, &st);
        r = write_header(w, e, err);
        archive_entry_free(e);
        return r;
}

int tree_tar_write(struct tree_tar *t, struct archive *a, int fd, const char *name, bool include_top,
                   berth_error_t **err)
{
        struct walk w = { .t = t, .a = a, .links = archive_entry_linkresolver_new(), .buf = xmalloc(TAR_IO_BUF) };
        int r;

        if (w.links == NULL)
                abort();
        archive_entry_linkresolver_set_strategy(w.links, archive_format(a));
        r = tar_node(&w, fd, name, t->config ? t->top_path : NULL, include_top, err);
        archive_entry_linkresolver_free(w.links);
        free(w.buf);
        return r;
}

