/* The kubelet's AtomicWriter for projected volumes (configMap, secret,
 * downward API), relative to the volume's directory fd.  See the header
 * for the layout. */
#include "orch/kube-projection.h"
#include "orch/kube-configdata.h"
#include "util/util.h"
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#define DATA_DIR "..data"
#define DATA_TMP "..data_tmp"
#define LINK_TMP "..link_tmp"
#define MAX_PATH_LEN 4096
#define MAX_NAME_LEN 255
#define DIR_MODE 0755

/* ---- the payload: validated, cleaned paths ---- */

void kube_projected_files_free(struct kube_projected_file *files, size_t n)
{
        for (size_t i = 0; i < n && files; i++) {
                free(files[i].path);
                free(files[i].data);
        }
        free(files);
}

/* Join the components of path other than "" and "." with '/'. */
static char *clean_path(const char *path)
{
        _cleanup_free_ char *copy = xstrdup(path);
        struct strbuf b = { 0 };
        char *save = NULL;

        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                if (strcmp(c, ".") == 0)
                        continue;
                if (b.len > 0)
                        strbuf_adds(&b, "/");
                strbuf_adds(&b, c);
        }
        return b.data ? b.data : xstrdup("");
}

static bool has_dotdot_component(const char *path)
{
        for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL) {
                if (str_has_prefix(p, "..") && (p[2] == '/' || p[2] == '\0'))
                        return true;
        }
        return false;
}

static bool has_long_component(const char *path)
{
        for (const char *p = path; p; p = strchr(p, '/'), p = p ? p + 1 : NULL) {
                const char *end = strchr(p, '/');
                if ((end ? (size_t)(end - p) : strlen(p)) > MAX_NAME_LEN)
                        return true;
        }
        return false;
}

int kube_projection_path_check(const char *path, char **clean, berth_error_t **err)
{
        _cleanup_free_ char *q = quote(path), *c = NULL;

        if (!*path)
                return berth_fail(err, EINVAL, "invalid path: must not be empty: %s", q);
        if (path[0] == '/')
                return berth_fail(err, EINVAL, "invalid path: must be relative path: %s", q);
        if (strlen(path) > MAX_PATH_LEN)
                return berth_fail(err, EINVAL, "invalid path: must be less than or equal to %d characters",
                                  MAX_PATH_LEN);
        if (has_dotdot_component(path))
                return berth_fail(err, EINVAL, "invalid path: must not contain '..': %s", q);
        if (has_long_component(path))
                return berth_fail(err, EINVAL, "invalid path: filenames must be less than or equal to %d characters",
                                  MAX_NAME_LEN);
        c = clean_path(path);
        /* the names of the data directories start with ".." */
        if (str_has_prefix(c, ".."))
                return berth_fail(err, EINVAL, "invalid path: must not start with '..': %s", q);
        if (!*c)
                return berth_fail(err, EINVAL, "invalid path: must name a file: %s", q);
        if (clean)
                *clean = steal_pointer(&c);
        return 0;
}

struct entry {
        char *path;             /* cleaned */
        const char *data;
        size_t len;
        mode_t mode;
};

struct payload {
        struct entry *e;
        size_t n;
};

static void payload_free(struct payload *p)
{
        for (size_t i = 0; i < p->n; i++)
                free(p->e[i].path);
        free(p->e);
}

static int check_mode(int mode, const char *what, berth_error_t **err)
{
        if (mode < 0 || mode > 0777)
                return berth_fail(err, EINVAL, "%s: must be a number between 0 and 0777 (octal), both inclusive",
                                  what);
        return 0;
}

/* True when a is a directory prefix of b ("conf" of "conf/app.conf"). */
static bool is_dir_prefix(const char *a, const char *b)
{
        size_t n = strlen(a);
        return strncmp(a, b, n) == 0 && b[n] == '/';
}

static int payload_add(struct payload *p, const struct kube_projected_file *f, int default_mode, berth_error_t **err)
{
        _cleanup_free_ char *path = NULL;
        int mode = f->mode < 0 ? default_mode : f->mode;
        int r = kube_projection_path_check(f->path, &path, err);

        if (r < 0)
                return r;
        r = check_mode(mode, path, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < p->n; i++) {
                if (strcmp(p->e[i].path, path) == 0) {
                        /* the later one wins, as in kubelet's payload map */
                        p->e[i] = (struct entry){ p->e[i].path, f->data, f->len, (mode_t)mode };
                        return 0;
                }
                if (is_dir_prefix(p->e[i].path, path) || is_dir_prefix(path, p->e[i].path))
                        return berth_fail(err, EINVAL, "invalid path: %s and %s: a file cannot also be a directory",
                                          p->e[i].path, path);
        }
        p->e = xrealloc(p->e, (p->n + 1) * sizeof(*p->e));
        p->e[p->n++] = (struct entry){ steal_pointer(&path), f->data, f->len, (mode_t)mode };
        return 0;
}

static int payload_build(struct payload *p, const struct kube_projected_file *files, size_t n, int default_mode,
                         berth_error_t **err)
{
        int r = check_mode(default_mode, "defaultMode", err);

        for (size_t i = 0; r == 0 && i < n; i++)
                r = payload_add(p, &files[i], default_mode, err);
        return r;
}

/* Whether rel is one of the payload's paths or a directory above one. */
static bool payload_has(const struct payload *p, const char *rel)
{
        for (size_t i = 0; i < p->n; i++) {
                if (strcmp(p->e[i].path, rel) == 0 || is_dir_prefix(rel, p->e[i].path))
                        return true;
        }
        return false;
}

/* ---- walking inside the volume, never following symlinks ---- */

/* The directory dir (a relative path, "" for fd itself) below fd, made
 * when create.  A new fd or -errno. */
static int open_dir(int fd, const char *dir, bool create)
{
        _cleanup_free_ char *copy = xstrdup(dir);
        _cleanup_close_ int cur = fcntl(fd, F_DUPFD_CLOEXEC, 3);
        char *save = NULL;

        if (cur < 0)
                return -errno;
        for (char *c = strtok_r(copy, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
                int next;
                if (create && mkdirat(cur, c, DIR_MODE) < 0 && errno != EEXIST)
                        return -errno;
                next = openat(cur, c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0)
                        return -errno;
                if (create && fchmod(next, DIR_MODE) < 0) {
                        int r = -errno;
                        close(next);
                        return r;
                }
                close(cur);
                cur = next;
        }
        return steal_fd(&cur);
}

/* The directory holding path's last component, and that component. */
static int open_parent(int fd, const char *path, bool create, const char **base)
{
        _cleanup_free_ char *dir = xstrdup(path);
        char *slash = strrchr(dir, '/');

        *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
        if (!slash)
                dir[0] = '\0';
        else
                *slash = '\0';
        return open_dir(fd, dir, create);
}

/* ---- what is there now ---- */

/* The timestamped directory ..data points at; NULL when there is none. */
static int current_ts_dir(int dirfd, char **name, berth_error_t **err)
{
        char buf[MAX_NAME_LEN + 1];
        ssize_t n = readlinkat(dirfd, DATA_DIR, buf, sizeof(buf) - 1);

        *name = NULL;
        if (n < 0 && errno == ENOENT)
                return 0;
        if (n < 0)
                return berth_error(err, errno, "readlink %s", DATA_DIR);
        buf[n] = '\0';
        if (!str_has_prefix(buf, "..") || strchr(buf, '/'))
                return berth_fail(err, EINVAL, "%s points outside the volume", DATA_DIR);
        *name = xstrdup(buf);
        return 0;
}

/* Whether the file at fd has exactly e's bytes. */
static bool same_bytes(int fd, const struct entry *e)
{
        char buf[65536];
        size_t off = 0;

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return false;
                if (n == 0)
                        return off == e->len;
                if ((size_t)n > e->len - off || memcmp(buf, e->data + off, (size_t)n) != 0)
                        return false;
                off += (size_t)n;
        }
}

/* Whether the old data directory already holds e, bytes and mode. */
static bool file_matches(int tsfd, const struct entry *e)
{
        const char *base;
        _cleanup_close_ int parent = open_parent(tsfd, e->path, false, &base);
        _cleanup_close_ int fd = -1;
        struct stat st;

        if (parent < 0)
                return false;
        fd = openat(parent, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
                return false;
        if ((st.st_mode & 07777) != e->mode || (size_t)st.st_size != e->len)
                return false;
        return same_bytes(fd, e);
}

static void strv_push(char ***v, size_t *n, char *s)
{
        *v = xrealloc(*v, (*n + 2) * sizeof(**v));
        (*v)[(*n)++] = s;
        (*v)[*n] = NULL;
}

/* Every path below fd (prefixed with prefix) that the payload does not
 * have: what an update removes. */
static int collect_stale(int fd, const char *prefix, const struct payload *p, char ***stale, size_t *n)
{
        /* a new open file description: a dup would share (and move) fd's offset */
        int dup = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup < 0)
                return -errno;
        d = fdopendir(dup);
        if (!d) {
                close(dup);
                return -errno;
        }
        while (r == 0 && (errno = 0, de = readdir(d))) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                char *rel = *prefix ? xasprintf("%s/%s", prefix, de->d_name) : xstrdup(de->d_name);
                if (de->d_type == DT_DIR) {
                        _cleanup_close_ int sub =
                                openat(fd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                        r = sub < 0 ? -errno : collect_stale(sub, rel, p, stale, n);
                }
                if (payload_has(p, rel))
                        free(rel);
                else
                        strv_push(stale, n, rel);
        }
        if (r == 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

/* ---- writing ---- */

/* A new "..2026_11_29_17_00_00.123456789" directory (UTC). */
static int make_ts_dir(int dirfd, char **name, int *fd, berth_error_t **err)
{
        struct timespec ts;
        struct tm tm;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return berth_error(err, errno, "clock_gettime");
        gmtime_r(&ts.tv_sec, &tm);
        for (int attempt = 0; attempt < 1000; attempt++) {
                long ns = (ts.tv_nsec + attempt) % 1000000000L;
                _cleanup_free_ char *n = xasprintf("..%04d_%02d_%02d_%02d_%02d_%02d.%09ld", tm.tm_year + 1900,
                                                   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ns);
                if (mkdirat(dirfd, n, DIR_MODE) < 0) {
                        if (errno == EEXIST)
                                continue;
                        return berth_error(err, errno, "mkdir %s", n);
                }
                *fd = openat(dirfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (*fd < 0 || fchmod(*fd, DIR_MODE) < 0) {
                        int r = berth_error(err, errno, "open %s", n);
                        remove_tree_at(dirfd, n);
                        return r;
                }
                *name = steal_pointer(&n);
                return 0;
        }
        return berth_fail(err, EEXIST, "no free name for a data directory");
}

static int write_entry(int tsfd, const struct entry *e, berth_error_t **err)
{
        const char *base;
        _cleanup_close_ int parent = open_parent(tsfd, e->path, true, &base);
        _cleanup_close_ int fd = -1;

        if (parent < 0)
                return berth_error(err, -parent, "mkdir for %s", e->path);
        fd = openat(parent, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_error(err, errno, "create %s", e->path);
        if (write_all(fd, e->data, e->len) < 0)
                return berth_error(err, errno, "write %s", e->path);
        /* exactly the mode asked for, whatever the umask */
        if (fchmod(fd, e->mode) < 0)
                return berth_error(err, errno, "chmod %s", e->path);
        return 0;
}

/* Point ..data at ts in one rename. */
static int swap_data(int dirfd, const char *ts, berth_error_t **err)
{
        if (unlinkat(dirfd, DATA_TMP, 0) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", DATA_TMP);
        if (symlinkat(ts, dirfd, DATA_TMP) < 0)
                return berth_error(err, errno, "symlink %s", DATA_TMP);
        if (renameat(dirfd, DATA_TMP, dirfd, DATA_DIR) < 0) {
                int r = berth_error(err, errno, "rename %s to %s", DATA_TMP, DATA_DIR);
                unlinkat(dirfd, DATA_TMP, 0);
                return r;
        }
        return 0;
}

/* A new data directory with the payload, swapped in. */
static int write_new(int dirfd, const struct payload *p, char **ts, berth_error_t **err)
{
        _cleanup_close_ int tsfd = -1;
        int r = make_ts_dir(dirfd, ts, &tsfd, err);

        for (size_t i = 0; r == 0 && i < p->n; i++)
                r = write_entry(tsfd, &p->e[i], err);
        if (r == 0)
                r = swap_data(dirfd, *ts, err);
        if (r < 0 && *ts) {
                remove_tree_at(dirfd, *ts);
                free(steal_pointer(ts));
        }
        return r;
}

/* The top-level name of path ("conf" of "conf/app.conf"). */
static char *top_name(const char *path)
{
        const char *slash = strchr(path, '/');
        return slash ? xasprintf("%.*s", (int)(slash - path), path) : xstrdup(path);
}

/* name -> ..data/name, replacing a symlink that points elsewhere; an
 * entry that is not a symlink is left alone, as kubelet leaves it. */
static int link_user_visible(int dirfd, const char *name, berth_error_t **err)
{
        _cleanup_free_ char *target = xasprintf(DATA_DIR "/%s", name);
        char buf[MAX_PATH_LEN + 1];
        ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf) - 1);

        if (n >= 0 && (size_t)n == strlen(target) && memcmp(buf, target, (size_t)n) == 0)
                return 0;
        if (n < 0 && errno != ENOENT)
                return 0;       /* EINVAL: not a symlink */
        if (n < 0) {
                if (symlinkat(target, dirfd, name) < 0 && errno != EEXIST)
                        return berth_error(err, errno, "symlink %s", name);
                return 0;
        }
        if (unlinkat(dirfd, LINK_TMP, 0) < 0 && errno != ENOENT)
                return berth_error(err, errno, "remove %s", LINK_TMP);
        if (symlinkat(target, dirfd, LINK_TMP) < 0)
                return berth_error(err, errno, "symlink %s", LINK_TMP);
        if (renameat(dirfd, LINK_TMP, dirfd, name) < 0)
                return berth_error(err, errno, "rename %s to %s", LINK_TMP, name);
        return 0;
}

static int link_all_user_visible(int dirfd, const struct payload *p, berth_error_t **err)
{
        for (size_t i = 0; i < p->n; i++) {
                _cleanup_free_ char *name = top_name(p->e[i].path);
                int r = link_user_visible(dirfd, name, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* The top-level symlinks of paths gone from the payload. */
static int unlink_user_visible(int dirfd, char *const *stale, berth_error_t **err)
{
        for (size_t i = 0; stale && stale[i]; i++) {
                struct stat st;
                if (strchr(stale[i], '/'))
                        continue;
                if (fstatat(dirfd, stale[i], &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISLNK(st.st_mode))
                        continue;
                if (unlinkat(dirfd, stale[i], 0) < 0 && errno != ENOENT)
                        return berth_error(err, errno, "remove %s", stale[i]);
        }
        return 0;
}

/* "..2026_11_29_17_00_00.": the shape of a data directory's name. */
static bool is_ts_name(const char *s)
{
        static const char shape[] = "..DDDD_DD_DD_DD_DD_DD.";

        for (size_t i = 0; i < sizeof(shape) - 1; i++) {
                if (shape[i] == 'D' ? (s[i] < '0' || s[i] > '9') : s[i] != shape[i])
                        return false;
        }
        return true;
}

/* Remove data directories other than keep: the one just replaced, and
 * any a crash left half written. */
static int remove_old_ts_dirs(int dirfd, const char *keep, berth_error_t **err)
{
        /* a new open file description: a dup would share (and move) dirfd's offset */
        int dup = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int r = 0;

        if (dup < 0)
                return berth_error(err, errno, "open the volume directory");
        d = fdopendir(dup);
        if (!d) {
                close(dup);
                return berth_error(err, errno, "opendir");
        }
        while ((errno = 0, de = readdir(d))) {
                if (!is_ts_name(de->d_name) || strcmp(de->d_name, keep) == 0)
                        continue;
                r = remove_tree_at(dirfd, de->d_name);
                if (r < 0) {
                        r = berth_error(err, -r, "remove %s", de->d_name);
                        break;
                }
        }
        if (r == 0 && errno != 0)
                r = berth_error(err, errno, "readdir");
        closedir(d);
        return r;
}

/* Whether the payload differs from old data directory: a file changed, or
 * a path to remove (*stale). */
static int needs_write(int dirfd, const char *old_ts, const struct payload *p, char ***stale, berth_error_t **err)
{
        _cleanup_close_ int oldfd = -1;
        size_t n = 0;
        int r;

        if (!old_ts)
                return 1;
        oldfd = openat(dirfd, old_ts, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (oldfd < 0 && errno == ENOENT)
                return 1;
        if (oldfd < 0)
                return berth_error(err, errno, "open %s", old_ts);
        r = collect_stale(oldfd, "", p, stale, &n);
        if (r < 0)
                return berth_error(err, -r, "read %s", old_ts);
        if (n > 0)
                return 1;
        for (size_t i = 0; i < p->n; i++) {
                if (!file_matches(oldfd, &p->e[i]))
                        return 1;
        }
        return 0;
}

int kube_projection_write(int dirfd, const struct kube_projected_file *files, size_t n, int default_mode,
                          berth_error_t **err)
{
        struct payload p = { 0 };
        _cleanup_free_ char *old_ts = NULL, *new_ts = NULL;
        _cleanup_strv_ char **stale = NULL;
        int r;

        r = payload_build(&p, files, n, default_mode, err);
        if (r == 0)
                r = current_ts_dir(dirfd, &old_ts, err);
        if (r == 0)
                r = needs_write(dirfd, old_ts, &p, &stale, err);
        if (r > 0)
                r = write_new(dirfd, &p, &new_ts, err);
        /* the links, also when nothing changed: someone may have removed one */
        if (r == 0)
                r = link_all_user_visible(dirfd, &p, err);
        if (r == 0)
                r = unlink_user_visible(dirfd, stale, err);
        if (r == 0 && new_ts)
                r = remove_old_ts_dirs(dirfd, new_ts, err);
        payload_free(&p);
        return r;
}

/* ---- volume sources ---- */

struct source {
        const char *kind;               /* "configmap" or "secret", as kubelet's errors say */
        const char *name;
        bool optional;
        int default_mode;
};

static int read_source(const json_t *vs, const json_t *obj, struct source *s, berth_error_t **err)
{
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        json_t *mode = json_object_get(vs, "defaultMode");
        bool secret = kind ? strcmp(kind, "Secret") == 0 : json_object_get(vs, "secretName") != NULL;

        s->kind = secret ? "secret" : "configmap";
        /* a projected volume's secret source says name, a secret volume secretName */
        s->name = json_string_value(json_object_get(vs, json_object_get(vs, "secretName") ? "secretName" : "name"));
        if (!s->name)
                s->name = "";
        s->optional = json_is_true(json_object_get(vs, "optional"));
        s->default_mode = KUBE_PROJECTION_DEFAULT_MODE;
        if (mode && !json_is_null(mode)) {
                if (!json_is_integer(mode))
                        return check_mode(-1, "defaultMode", err);
                s->default_mode = json_integer_value(mode) > 0777 ? -1 : (int)json_integer_value(mode);
                return check_mode(s->default_mode, "defaultMode", err);
        }
        return 0;
}

static int item_mode(const json_t *item, const char *path, int *mode, berth_error_t **err)
{
        json_t *m = json_object_get(item, "mode");

        *mode = -1;
        if (!m || json_is_null(m))
                return 0;
        *mode = json_is_integer(m) && json_integer_value(m) >= 0 && json_integer_value(m) <= 0777 ?
                (int)json_integer_value(m) : -1;
        return check_mode(*mode, path, err);
}

static void files_push(struct kube_projected_file **files, size_t *n, struct kube_projected_file f)
{
        *files = xrealloc(*files, (*n + 1) * sizeof(**files));
        (*files)[(*n)++] = f;
}

/* items: [{key, path, mode}] */
static int files_from_items(const json_t *items, const json_t *obj, const struct source *s,
                            struct kube_projected_file **files, size_t *n, berth_error_t **err)
{
        size_t i;
        json_t *item;

        json_array_foreach(items, i, item) {
                const char *key = json_string_value(json_object_get(item, "key"));
                const char *path = json_string_value(json_object_get(item, "path"));
                struct kube_projected_file f = { 0 };
                int r;

                if (!key || !path)
                        return berth_fail(err, EINVAL, "items[%zu]: key and path are required", i);
                r = kube_projection_path_check(path, NULL, err);
                if (r == 0)
                        r = item_mode(item, path, &f.mode, err);
                if (r < 0)
                        return r;
                r = obj ? kube_data_get(obj, key, &f.data, &f.len) : -ENOENT;
                if (r == -ENOENT && s->optional)
                        continue;
                if (r < 0) {
                        _cleanup_free_ char *q = quote(key);
                        return berth_fail(err, -r, "%s references non-existent %s key: %s", s->kind,
                                          strcmp(s->kind, "secret") == 0 ? "secret" : "config", q);
                }
                f.path = xstrdup(path);
                files_push(files, n, f);
        }
        return 0;
}

static int files_from_keys(const json_t *obj, struct kube_projected_file **files, size_t *n, berth_error_t **err)
{
        struct kube_data_entry *e = NULL;
        size_t count = 0;
        int r = kube_data_entries(obj, &e, &count, err);

        if (r < 0)
                return r;
        for (size_t i = 0; i < count; i++) {
                files_push(files, n, (struct kube_projected_file){ steal_pointer(&e[i].key),
                                                                   steal_pointer(&e[i].val), e[i].len, -1 });
        }
        kube_data_entries_free(e, count);
        return 0;
}

int kube_volume_source_files(const json_t *vs, const json_t *obj, struct kube_projected_file **files, size_t *n,
                             int *default_mode, berth_error_t **err)
{
        struct kube_projected_file *f = NULL;
        json_t *items = json_object_get(vs, "items");
        struct source s;
        size_t count = 0;
        int r = read_source(vs, obj, &s, err);

        if (r < 0)
                return r;
        if (!obj && !s.optional) {
                _cleanup_free_ char *q = quote(s.name);
                return berth_fail(err, ENOENT, "%s %s not found", s.kind, q);
        }
        if (json_array_size(items) > 0)
                r = files_from_items(items, obj, &s, &f, &count, err);
        else if (obj)
                r = files_from_keys(obj, &f, &count, err);
        if (r < 0) {
                kube_projected_files_free(f, count);
                return r;
        }
        *files = f;
        *n = count;
        *default_mode = s.default_mode;
        return 0;
}
