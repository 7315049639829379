/* docker cp and docker export: HEAD, GET and PUT of container paths,
 * running or not, through the rootfs mount (the overlay under
 * <data-root>/containers/<id>/rootfs) or, under a bind mount or volume,
 * the mount's source.  Paths are found with engine-archive-path.c (never
 * out of the container) and sent with engine-archive-tar.c.  Uploads go
 * through the image layer extractor (layer-internal.h), which resolves
 * every parent with openat2(RESOLVE_IN_ROOT) from the root and never
 * follows the last component. */
#include "engine/engine-archive.h"
#include "image/layer-internal.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define ARCHIVE_IO_BUF (128 * 1024)

/* The container, its rootfs mounted again if a reboot took the mount
 * away: docker cp works on stopped containers too. */
static int cp_ctr(struct engine *e, const char *name, struct ctr **c, berth_error_t **err)
{
        if (archive_ctr(e, name, c, err) < 0)
                return -1;
        return ctr_rootfs_ensure(e, *c, err);
}

/* ---- the stat docker's CLI decides with ------------------------------- */

/* Go's os.FileMode: permission bits plus its own type and special bits. */
static uint32_t go_file_mode(mode_t m)
{
        uint32_t g = m & 0777;

        if (S_ISDIR(m))
                g |= 1u << 31;
        else if (S_ISLNK(m))
                g |= 1u << 27;
        else if (S_ISBLK(m))
                g |= 1u << 26;
        else if (S_ISCHR(m))
                g |= 1u << 26 | 1u << 21;
        else if (S_ISFIFO(m))
                g |= 1u << 25;
        else if (S_ISSOCK(m))
                g |= 1u << 24;
        if (m & S_ISUID)
                g |= 1u << 23;
        if (m & S_ISGID)
                g |= 1u << 22;
        if (m & S_ISVTX)
                g |= 1u << 20;
        return g;
}

/* RFC 3339 as Go's time.MarshalJSON writes it: trailing zeros of the
 * fraction dropped. */
static char *rfc3339_nano(const struct timespec *ts)
{
        char buf[64], frac[16] = "";
        struct tm tm;

        gmtime_r(&ts->tv_sec, &tm);
        strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
        if (ts->tv_nsec > 0 && ts->tv_nsec < 1000000000) {
                snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
                for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
                        frac[n - 1] = '\0';
        }
        return xasprintf("%s%sZ", buf, frac);
}

/* Where a symlink leads, followed inside the container, as an absolute
 * container path ("" when it leads nowhere). */
static char *link_target(struct ctr_target *t)
{
        int fd = cpath_open_in_root(t->root.fd, t->rel, false);
        char *p;

        if (fd < 0)
                return xstrdup("");
        p = ctr_root_path(&t->root, fd);
        close(fd);
        return p ? p : xstrdup("");
}

static json_t *path_stat(struct ctr_target *t, const struct stat *st)
{
        _cleanup_free_ char *name = cpath_base(t->abs);
        _cleanup_free_ char *mtime = rfc3339_nano(&st->st_mtim);
        _cleanup_free_ char *target = S_ISLNK(st->st_mode) ? link_target(t) : xstrdup("");

        return json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", name, "size", (json_int_t)st->st_size, "mode",
                         (json_int_t)go_file_mode(st->st_mode), "mtime", mtime, "linkTarget", target);
}

static int target_for(struct engine *e, const char *name, const char *path, struct ctr **c, struct ctr_target *t,
                      struct stat *st, berth_error_t **err)
{
        *t = (struct ctr_target){ .fd = -1, .root.fd = -1 };
        if (path == NULL || *path == '\0')
                return berth_fail(err, EINVAL, "path cannot be empty");
        if (cp_ctr(e, name, c, err) < 0)
                return -1;
        if (ctr_target_open(e, *c, name, path, t, err) < 0)
                return -1;
        if (fstatat(t->fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0)
                return berth_error(err, errno, "stat %s", path);
        return 0;
}

int engine_archive_stat(struct engine *e, const char *name, const char *path, json_t **stat, berth_error_t **err)
{
        struct ctr *c = NULL;
        struct ctr_target t;
        struct stat st;
        int r = target_for(e, name, path, &c, &t, &st, err);

        if (r == 0)
                *stat = path_stat(&t, &st);
        ctr_target_clear(&t);
        ctr_unref(c);
        return r;
}

/* ---- GET and HEAD /containers/{id}/archive, GET .../export ------------ */

int engine_archive_get(struct engine *e, const char *name, const char *path, engine_begin_fn begin,
                       engine_write_fn write, void *data, berth_error_t **err)
{
        struct ctr *c = NULL;
        struct ctr_target t;
        struct stat st;
        struct tree_tar tt = { .write = write, .data = data };
        struct archive *a = NULL;
        int r = target_for(e, name, path, &c, &t, &st, err);

        if (r == 0) {
                json_t *stat = path_stat(&t, &st);
                _cleanup_free_ char *entry = cpath_base(t.abs);
                _cleanup_free_ char *top = ctr_root_path(&t.root, t.fd);
                tt.config = top ? c->config : NULL;
                tt.top_path = top;
                r = begin(data, stat);
                /* the reply has started: what fails now ends it short */
                if (r == 0 && (r = tree_tar_open(&tt, &a, err)) == 0) {
                        r = tree_tar_write(&tt, a, t.fd, entry, true, err);
                        r = tree_tar_close(a, r == 0, r == 0 ? err : NULL) < 0 ? -1 : r;
                }
        }
        ctr_target_clear(&t);
        ctr_unref(c);
        return r;
}

int engine_container_export(struct engine *e, const char *name, engine_begin_fn begin, engine_write_fn write,
                            void *data, berth_error_t **err)
{
        struct ctr *c = NULL;
        struct tree_tar tt = { .write = write, .data = data };
        struct archive *a = NULL;
        _cleanup_free_ char *dir = NULL, *rootfs = NULL;
        _cleanup_close_ int root = -1;
        int r;

        if (cp_ctr(e, name, &c, err) < 0) {
                ctr_unref(c);
                return -1;
        }
        dir = ctr_dir(e, c);
        rootfs = xasprintf("%s/rootfs", dir);
        root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        r = root < 0 ? berth_error(err, errno, "open %s", rootfs) : begin(data, NULL);
        /* docker export: the rootfs as the image and the container made
         * it, without volumes and the files berth mounts in */
        if (r == 0 && (r = tree_tar_open(&tt, &a, err)) == 0) {
                r = tree_tar_write(&tt, a, root, "", false, err);
                r = tree_tar_close(a, r == 0, r == 0 ? err : NULL) < 0 ? -1 : r;
        }
        ctr_unref(c);
        return r;
}

/* ---- PUT /containers/{id}/archive ------------------------------------- */

struct body {
        engine_read_fn read;
        void *data;
        char *buf;
};

static la_ssize_t body_cb(struct archive *a, void *data, const void **buf)
{
        struct body *b = data;
        ssize_t n = b->read(b->data, b->buf, ARCHIVE_IO_BUF);

        if (n < 0) {
                archive_set_error(a, (int)-n, "read the archive: %s", strerror((int)-n));
                return -1;
        }
        *buf = b->buf;
        return n;
}

static void body_drain(struct body *b)
{
        while (b->read(b->data, b->buf, ARCHIVE_IO_BUF) > 0)
                ;
}

/* Plain tar, or gzip or zstd around it (docker accepts any); never an
 * external decompressor. */
static int body_open(struct body *b, struct archive **out, berth_error_t **err)
{
        struct archive *a = archive_read_new();

        if (a == NULL)
                abort();
        if (archive_read_support_filter_gzip(a) != ARCHIVE_OK || archive_read_support_filter_zstd(a) != ARCHIVE_OK ||
            archive_read_support_format_tar(a) != ARCHIVE_OK) {
                archive_read_free(a);
                return berth_error(err, 0, "libarchive lacks built-in tar, gzip or zstd support");
        }
        if (archive_read_open(a, b, NULL, body_cb, NULL) != ARCHIVE_OK) {
                int r = berth_fail(err, EINVAL, "not a tar archive: %s", archive_error_string(a) ?: "empty");
                archive_read_free(a);
                return r;
        }
        *out = a;
        return 0;
}

struct extract {
        struct layer_ctx lc;
        struct layer_stats st;
        const char *prefix;             /* the destination, relative to lc.destfd */
        const struct engine_extract_opts *o;
        bool chown;
        uid_t uid;
        gid_t gid;
};

static char *under_prefix(const char *prefix, const char *p)
{
        return *prefix ? xasprintf("%s/%s", prefix, p) : xstrdup(p);
}

/* noOverwriteDirNonDir: neither a directory replaced by something else
 * nor the other way round. */
static int check_overwrite(struct extract *x, struct archive_entry *e, const char *path, berth_error_t **err)
{
        _cleanup_free_ char *dir = NULL;
        const char *base = layer_split(path, &dir);
        _cleanup_close_ int pfd = layer_openat2(x->lc.destfd, dir, O_PATH | O_DIRECTORY, 0);
        bool is_dir = archive_entry_hardlink(e) == NULL && archive_entry_filetype(e) == AE_IFDIR;
        struct stat st;

        if (pfd < 0 || fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return 0;
        if (S_ISDIR(st.st_mode) && !is_dir)
                return berth_fail(err, EINVAL, "cannot overwrite directory \"/%s\" with non-directory", path);
        if (!S_ISDIR(st.st_mode) && is_dir)
                return berth_fail(err, EINVAL, "cannot overwrite non-directory \"/%s\" with directory", path);
        return 0;
}

static int extract_entry(struct extract *x, struct archive_entry *e, const char *name, berth_error_t **err)
{
        _cleanup_free_ char *clean = layer_clean_path(name), *path = NULL;
        const char *hl = archive_entry_hardlink(e);

        if (clean == NULL)
                return berth_fail(err, EINVAL, "leads outside the destination");
        if (*clean == '\0')
                return 0; /* the destination itself: docker leaves it as it is */
        path = under_prefix(x->prefix, clean);
        if (hl != NULL) {
                _cleanup_free_ char *hclean = layer_clean_path(hl), *hpath = NULL;
                if (hclean == NULL || *hclean == '\0')
                        return berth_fail(err, EINVAL, "hardlink target leads outside the destination");
                hpath = under_prefix(x->prefix, hclean);
                archive_entry_copy_hardlink(e, hpath);
        }
        if (x->o->no_overwrite_dir_non_dir && check_overwrite(x, e, path, err) < 0)
                return -1;
        if (x->chown) {
                archive_entry_set_uid(e, x->uid);
                archive_entry_set_gid(e, x->gid);
        }
        return layer_create(&x->lc, e, path, err);
}

static int extract_all(struct extract *x, berth_error_t **err)
{
        struct archive_entry *e;

        for (;;) {
                int r = archive_read_next_header(x->lc.a, &e);
                if (r == ARCHIVE_EOF)
                        break;
                if (r < ARCHIVE_WARN)
                        return berth_fail(err, EINVAL, "read the archive: %s",
                                          archive_error_string(x->lc.a) ?: "not a tar archive");
                const char *name = archive_entry_pathname(e);
                if (name == NULL)
                        return berth_fail(err, EINVAL, "read the archive: an entry without a name");
                if (extract_entry(x, e, name, err) < 0) {
                        _cleanup_free_ char *q = layer_quote(name);
                        return berth_error_wrap(err, "extract %s", q);
                }
        }
        return layer_finish_dirs(&x->lc, err);
}

static void extract_clear(struct extract *x)
{
        if (x->lc.a)
                archive_read_free(x->lc.a);
        layer_cache_drop(&x->lc);
        layer_pathset_free(&x->lc.mine);
        for (size_t i = 0; i < x->lc.ndirs; i++)
                free(x->lc.dirs[i].path);
        free(x->lc.dirs);
        if (x->lc.destfd >= 0)
                close(x->lc.destfd);
}

/* copyUIDGID: docker gives what it copies to the container's user, when
 * it has one (config.json holds it resolved). */
static void container_owner(struct ctr *c, struct extract *x)
{
        json_t *u = json_object_get(json_object_get(c->config, "process"), "user");
        json_int_t uid = json_integer_value(json_object_get(u, "uid"));
        json_int_t gid = json_integer_value(json_object_get(u, "gid"));

        if (uid == 0 && gid == 0)
                return;
        x->chown = true;
        x->uid = (uid_t)uid;
        x->gid = (gid_t)gid;
}

/* The destination directory, followed all the way (docker's
 * GetResourcePath); *prefix its path below the root the entries are
 * resolved in. */
static int extract_dest(struct engine *e, struct ctr *c, const char *name, const char *path, struct extract *x,
                        char **prefix, berth_error_t **err)
{
        _cleanup_free_ char *abs = cpath_abs(path);
        struct ctr_root root;
        const char *rel;
        int r = ctr_root_open(e, c, abs, &root, &rel, err);

        if (r == 0 && root.read_only)
                r = berth_fail(err, EACCES, strcmp(root.dest, "/") == 0 ? "container rootfs is marked read-only"
                                                                        : "mounted volume is marked read-only");
        if (r == 0) {
                int fd = cpath_open_in_root(root.fd, rel, false);
                struct stat st;
                if (fd < 0)
                        r = cpath_not_found(err, fd, path, name);
                else if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode))
                        r = berth_fail(err, EINVAL, "extraction point is not a directory");
                _cleanup_free_ char *in = r == 0 ? ctr_root_path(&root, fd) : NULL;
                if (r == 0 && in == NULL)
                        r = berth_fail(err, EIO, "%s: resolved outside the container", path);
                if (r == 0) {
                        /* the destination as a path inside root, for the extractor */
                        const char *below = in + (strcmp(root.dest, "/") == 0 ? 0 : strlen(root.dest));
                        *prefix = xstrdup(below + strspn(below, "/"));
                        x->lc.destfd = openat(root.fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                        if (x->lc.destfd < 0)
                                r = berth_error(err, errno, "open the root of %s", path);
                }
                if (fd >= 0)
                        close(fd);
        }
        ctr_root_clear(&root);
        return r;
}

int engine_archive_put(struct engine *e, const char *name, const char *path, const struct engine_extract_opts *o,
                       engine_read_fn read, void *data, berth_error_t **err)
{
        static const struct engine_extract_opts defaults;
        struct body b = { .read = read, .data = data, .buf = xmalloc(ARCHIVE_IO_BUF) };
        struct extract x = { .lc = { .destfd = -1, .cache_fd = -1 }, .o = o ? o : &defaults };
        _cleanup_free_ char *prefix = NULL;
        struct ctr *c = NULL;
        int r;

        x.lc.st = &x.st;
        /* owners from the archive, devices as root may make them: as dockerd */
        x.lc.o = (struct layer_apply_opts){ .keep_ownership = true, .allow_devices = geteuid() == 0 };
        if (path == NULL || *path == '\0')
                r = berth_fail(err, EINVAL, "path cannot be empty");
        else
                r = cp_ctr(e, name, &c, err);
        if (r == 0)
                r = extract_dest(e, c, name, path, &x, &prefix, err);
        if (r == 0) {
                x.prefix = prefix;
                if (x.o->copy_uid_gid)
                        container_owner(c, &x);
                r = body_open(&b, &x.lc.a, err);
        }
        if (r == 0)
                r = extract_all(&x, err);
        body_drain(&b);
        extract_clear(&x);
        free(b.buf);
        ctr_unref(c);
        return r;
}
