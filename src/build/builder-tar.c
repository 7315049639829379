/* The files of COPY, ADD and WORKDIR as tar streams: a walk of a source
 * tree (sorted, symlinks as symlinks, never followed below the top) that
 * either digests it (the cache's checksum: names, types, modes, owners,
 * sizes, contents, link targets) or writes it as tar entries with the
 * step's owner and mode; the tar goes through an unnamed spool file
 * under the data root into the engine's archive put. */
#include "build/builder-internal.h"
#include "image/digest.h"
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

/* ---- the walk: a checksum, or tar entries -------------------------------- */

static void hash_line(struct copier *c, const char *kind, const char *name, const struct stat *st,
                      const char *extra)
{
        _cleanup_free_ char *line =
                xasprintf("%s %s %o %u %u %lld %s\n", kind, name, (unsigned)(st->st_mode & 07777), (unsigned)st->st_uid,
                          (unsigned)st->st_gid, (long long)st->st_size, extra ? extra : "");
        digester_update(c->hash, line, strlen(line) + 1);
}

int build_tar_header(struct copier *c, const char *name, const struct stat *st, const char *link)
{
        struct archive_entry *e = archive_entry_new();
        int r;

        archive_entry_copy_stat(e, st);
        archive_entry_set_pathname(e, name);
        archive_entry_set_uid(e, c->chown ? c->uid : 0);
        archive_entry_set_gid(e, c->chown ? c->gid : 0);
        archive_entry_unset_atime(e);
        archive_entry_unset_ctime(e);
        archive_entry_unset_birthtime(e);
        if (c->chmod && !S_ISLNK(st->st_mode))
                archive_entry_set_perm(e, c->mode);
        if (link)
                archive_entry_set_symlink(e, link);
        if (!S_ISREG(st->st_mode))
                archive_entry_set_size(e, 0);
        r = archive_write_header(c->a, e);
        archive_entry_free(e);
        if (r < ARCHIVE_WARN)
                return berth_error(c->err, 0, "write the copy's archive: %s", archive_error_string(c->a) ?: "error");
        return 0;
}

static int file_data(struct copier *c, int fd, const char *name)
{
        ssize_t n;

        while ((n = read(fd, c->buf, COPY_BUF)) > 0 || (n < 0 && errno == EINTR)) {
                if (n <= 0)
                        continue;
                if (c->hash)
                        digester_update(c->hash, c->buf, (size_t)n);
                else if (archive_write_data(c->a, c->buf, (size_t)n) < 0)
                        return berth_error(c->err, 0, "write the copy's archive: %s",
                                           archive_error_string(c->a) ?: "error");
        }
        if (n < 0)
                return berth_error(c->err, errno, "read %s", name);
        return 0;
}

static int cmp_str(const void *x, const void *y)
{
        return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int build_walk(struct copier *c, int fd, const struct stat *st, const char *name, bool top);

static int walk_dir(struct copier *c, int fd, const char *name)
{
        int dfd = dup(fd);
        DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
        char **names = NULL;
        size_t n = 0, cap = 0;
        struct dirent *de;
        int r = 0;

        if (d == NULL) {
                if (dfd >= 0)
                        close(dfd);
                return berth_error(c->err, errno, "read the directory %s", *name ? name : ".");
        }
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (n == cap)
                        names = xrealloc(names, (cap = cap ? 2 * cap : 32) * sizeof(char *));
                names[n++] = xstrdup(de->d_name);
        }
        qsort(names, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n && r == 0; i++) {
                struct stat cst;
                _cleanup_free_ char *child = *name ? xasprintf("%s/%s", name, names[i]) : xstrdup(names[i]);
                if (fstatat(fd, names[i], &cst, AT_SYMLINK_NOFOLLOW) < 0) {
                        r = berth_error(c->err, errno, "stat %s", child);
                        break;
                }
                int cfd = -1;
                if (S_ISREG(cst.st_mode) || S_ISDIR(cst.st_mode)) {
                        cfd = openat(fd, names[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
                        if (cfd < 0) {
                                r = berth_error(c->err, errno, "open %s", child);
                                break;
                        }
                } else if (S_ISLNK(cst.st_mode)) {
                        cfd = openat(fd, names[i], O_PATH | O_NOFOLLOW | O_CLOEXEC);
                        if (cfd < 0) {
                                r = berth_error(c->err, errno, "open %s", child);
                                break;
                        }
                        /* readlinkat needs the parent */
                        close(cfd);
                        cfd = -1;
                        char target[4096];
                        ssize_t tl = readlinkat(fd, names[i], target, sizeof(target) - 1);
                        if (tl < 0) {
                                r = berth_error(c->err, errno, "readlink %s", child);
                                break;
                        }
                        target[tl] = '\0';
                        if (c->hash)
                                hash_line(c, "l", child, &cst, target);
                        else
                                r = build_tar_header(c, child, &cst, target);
                        continue;
                } else {
                        continue; /* sockets, devices, fifos: not copied */
                }
                r = build_walk(c, cfd, &cst, child, false);
                close(cfd);
        }
        for (size_t i = 0; i < n; i++)
                free(names[i]);
        free(names);
        closedir(d);
        return r;
}

/* fd (opened for reading) at name: a file's entry and content, or a
 * directory's entry (except the top one, whose contents are what is
 * copied) and everything below it. */
int build_walk(struct copier *c, int fd, const struct stat *st, const char *name, bool top)
{
        if (S_ISREG(st->st_mode)) {
                if (c->hash)
                        hash_line(c, "f", name, st, NULL);
                else if (build_tar_header(c, name, st, NULL) < 0)
                        return -1;
                return file_data(c, fd, name);
        }
        if (!S_ISDIR(st->st_mode))
                return 0;
        if (!top) {
                if (c->hash)
                        hash_line(c, "d", name, st, NULL);
                else if (build_tar_header(c, name, st, NULL) < 0)
                        return -1;
        }
        return walk_dir(c, fd, name);
}

/* ---- spool and put ------------------------------------------------------- */

int build_spool_open(struct build *b, berth_error_t **err)
{
        const char *root = engine_options(b->e)->data_root;
        int fd = open(root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
                _cleanup_free_ char *path = xasprintf("%s/.build-copy-XXXXXX", root);
                fd = mkostemp(path, O_CLOEXEC);
                if (fd >= 0)
                        unlink(path);
        }
        if (fd < 0)
                return berth_error(err, errno, "create a spool file in %s", root);
        return fd;
}

static ssize_t fd_read(void *data, void *buf, size_t len)
{
        int fd = *(int *)data;
        ssize_t n;

        do
                n = read(fd, buf, len);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : n;
}

int build_put_fd(struct build *b, const char *ctr, const char *path, int fd, berth_error_t **err)
{
        if (lseek(fd, 0, SEEK_SET) < 0)
                return berth_error(err, errno, "rewind");
        return engine_archive_put(b->e, ctr, path, NULL, fd_read, &fd, err);
}

/* A directory entry for path (absolute) in c's tar. */
int build_dir_entry(struct copier *c, const char *path)
{
        struct stat st = { .st_mode = S_IFDIR | 0755, .st_mtime = time(NULL) };

        if (*path == '/')
                path++;
        if (*path == '\0')
                return 0;
        return build_tar_header(c, path, &st, NULL);
}

int build_tar_open(struct copier *c, int fd)
{
        c->a = archive_write_new();
        if (archive_write_set_format_pax_restricted(c->a) != ARCHIVE_OK ||
            archive_write_add_filter_none(c->a) != ARCHIVE_OK || archive_write_open_fd(c->a, fd) != ARCHIVE_OK)
                return berth_error(c->err, 0, "write the copy's archive: %s", archive_error_string(c->a) ?: "error");
        return 0;
}

int build_tar_close(struct copier *c, int r)
{
        if (c->a == NULL)
                return r;
        if (archive_write_close(c->a) != ARCHIVE_OK && r == 0)
                r = berth_error(c->err, 0, "write the copy's archive: %s", archive_error_string(c->a) ?: "error");
        archive_write_free(c->a);
        c->a = NULL;
        return r;
}

