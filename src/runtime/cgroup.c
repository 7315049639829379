/* The cgroup interface: finds out what the host runs (v1, v2, hybrid),
 * creates/opens/removes the container's directories in every hierarchy,
 * decodes linux.resources once and hands each part to the hierarchy that
 * holds its controller.  The file formats live in cgroup-v1.c and
 * cgroup-v2.c. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <dirent.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/magic.h>
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <time.h>

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"
#define CG_PARENT "berth"
#define CG_RMDIR_TIMEOUT_MS 1000

/* ---- controller names ---- */

static const char *const ctrl_names[CG_N_CTRL][2] = {
        [CG_CPU] = { "cpu", "cpu" },
        [CG_CPUACCT] = { "cpuacct", NULL },
        [CG_CPUSET] = { "cpuset", "cpuset" },
        [CG_MEMORY] = { "memory", "memory" },
        [CG_DEVICES] = { "devices", NULL },
        [CG_FREEZER] = { "freezer", NULL },
        [CG_NET_CLS] = { "net_cls", NULL },
        [CG_NET_PRIO] = { "net_prio", NULL },
        [CG_BLKIO] = { "blkio", "io" },
        [CG_PERF_EVENT] = { "perf_event", "perf_event" },
        [CG_HUGETLB] = { "hugetlb", "hugetlb" },
        [CG_PIDS] = { "pids", "pids" },
        [CG_RDMA] = { "rdma", "rdma" },
        [CG_MISC] = { "misc", "misc" },
};

const char *cg_ctrl_name(enum cg_ctrl c, bool v2)
{
        return ctrl_names[c][v2];
}

int cg_ctrl_by_name(const char *name, bool v2)
{
        for (int c = 0; c < CG_N_CTRL; c++)
                if (ctrl_names[c][v2] && strcmp(ctrl_names[c][v2], name) == 0)
                        return c;
        return -1;
}

/* ---- host discovery: once per process ---- */

static const char *cg_root(void)
{
        const char *root = getenv("BERTH_CGROUP_ROOT");

        return root && *root ? root : CG_DEFAULT_ROOT;
}

static bool is_cgroup2(const char *path)
{
        struct statfs sfs;

        return statfs(path, &sfs) == 0 && sfs.f_type == CGROUP2_SUPER_MAGIC;
}

static enum cgroup_mode detected_mode;
static pthread_once_t mode_once = PTHREAD_ONCE_INIT;

static void detect_mode(void)
{
        _cleanup_free_ char *unified = xasprintf("%s/unified", cg_root());
        struct statfs sfs;

        detected_mode = CGROUP_MODE_V1;
        if (statfs(cg_root(), &sfs) < 0)
                return;
        if (sfs.f_type == CGROUP2_SUPER_MAGIC)
                detected_mode = CGROUP_MODE_V2;
        else if (sfs.f_type == TMPFS_MAGIC && is_cgroup2(unified))
                detected_mode = CGROUP_MODE_HYBRID;
}

enum cgroup_mode cgroup_mode(void)
{
        pthread_once(&mode_once, detect_mode);
        return detected_mode;
}

static struct cg_host host;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void discover_host(void)
{
        const char *root = cg_root();
        _cleanup_free_ char *unified = NULL;
        unsigned v1_mask = 0;

        host.mode = cgroup_mode();
        host.unified_rootfd = -1;
        if (host.mode != CGROUP_MODE_V2)
                cg_v1_discover(&host, root);
        for (size_t i = 0; i < host.n_v1; i++)
                v1_mask |= host.v1[i].ctrls;
        if (host.mode == CGROUP_MODE_V1)
                return;
        unified = host.mode == CGROUP_MODE_V2 ? xstrdup(root) : xasprintf("%s/unified", root);
        host.unified_rootfd = open(unified, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (host.unified_rootfd < 0)
                return;
        host.unified_ctrls = cg_v2_controllers(host.unified_rootfd) & ~v1_mask;
        host.unified_path = steal_pointer(&unified);
}

const struct cg_host *cg_host(void)
{
        pthread_once(&host_once, discover_host);
        return &host;
}

int cg_ctrl_fd(const struct cgroup *cg, enum cg_ctrl c, bool *v2)
{
        for (size_t i = 0; i < cg->host->n_v1; i++) {
                if (cg->host->v1[i].ctrls & CG_BIT(c)) {
                        *v2 = false;
                        return cg->v1fd[i];
                }
        }
        *v2 = true;
        return cg->host->unified_ctrls & CG_BIT(c) ? cg->unified_fd : -1;
}

/* ---- paths ---- */

/* Lexically clean an absolute path, like Go's filepath.Clean: ".." never
 * climbs above "/", so a cgroupsPath cannot escape the hierarchy roots. */
static char *clean_abs_path(const char *in)
{
        _cleanup_free_ char *copy = xstrdup(in);
        char *out = xmalloc(strlen(in) + 2), *p = copy, *comp;
        size_t n = 1;

        out[0] = '/';
        while ((comp = strsep(&p, "/")) != NULL) {
                if (*comp == '\0' || strcmp(comp, ".") == 0)
                        continue;
                if (strcmp(comp, "..") == 0) {
                        char *slash = memrchr(out, '/', n);
                        n = slash == out ? 1 : (size_t)(slash - out);
                        continue;
                }
                if (n > 1)
                        out[n++] = '/';
                memcpy(out + n, comp, strlen(comp));
                n += strlen(comp);
        }
        out[n] = '\0';
        return out;
}

char *cgroup_resolve_path(const char *cgroups_path, const char *id)
{
        _cleanup_free_ char *raw = NULL;

        if (cgroups_path == NULL || *cgroups_path == '\0')
                raw = xasprintf("/" CG_PARENT "/%s", id);
        else if (cgroups_path[0] == '/')
                raw = xstrdup(cgroups_path);
        else
                raw = xasprintf("/" CG_PARENT "/%s", cgroups_path);
        return clean_abs_path(raw);
}

/* ---- the cgroup object ---- */

static struct cgroup *cg_new(const char *path)
{
        struct cgroup *cg = xcalloc(1, sizeof(*cg));

        cg->host = cg_host();
        cg->path = clean_abs_path(path);
        cg->rel = cg->path + 1;
        cg->v1fd = xcalloc(cg->host->n_v1, sizeof(int));
        for (size_t i = 0; i < cg->host->n_v1; i++)
                cg->v1fd[i] = -1;
        cg->unified_fd = -1;
        return cg;
}

static void close_fds(struct cgroup *cg)
{
        for (size_t i = 0; i < cg->host->n_v1; i++) {
                if (cg->v1fd[i] >= 0)
                        close(cg->v1fd[i]);
                cg->v1fd[i] = -1;
        }
        if (cg->unified_fd >= 0)
                close(cg->unified_fd);
        cg->unified_fd = -1;
}

void cgroup_free(struct cgroup *cg)
{
        if (cg == NULL)
                return;
        close_fds(cg);
        free(cg->v1fd);
        free(cg->path);
        free(cg);
}

static inline void cgroup_freep(struct cgroup **cg) { cgroup_free(*cg); }
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))

const char *cgroup_path(const struct cgroup *cg)
{
        return cg->path;
}

static int open_dir(int rootfd, const char *rel)
{
        return openat(rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

struct cgroup *cgroup_open(const char *path)
{
        struct cgroup *cg = cg_new(path);

        for (size_t i = 0; i < cg->host->n_v1; i++)
                cg->v1fd[i] = open_dir(cg->host->v1[i].rootfd, cg->rel);
        if (cg->host->unified_rootfd >= 0)
                cg->unified_fd = open_dir(cg->host->unified_rootfd, cg->rel);
        return cg;
}

/* Remove what cgroup_create made before it failed. */
static void rollback(struct cgroup *cg, const int *first_new_v1, int first_new_unified)
{
        const struct cg_host *h = cg->host;

        close_fds(cg);
        for (size_t i = 0; i < h->n_v1; i++)
                cg_rmdir_created(h->v1[i].rootfd, cg->rel, first_new_v1[i]);
        if (h->unified_rootfd >= 0)
                cg_rmdir_created(h->unified_rootfd, cg->rel, first_new_unified);
}

int cgroup_create(const char *path, struct cgroup **out, berth_error_t **err)
{
        _cleanup_cgroup_ struct cgroup *cg = cg_new(path);
        const struct cg_host *h = cg->host;
        _cleanup_free_ int *first_new = xcalloc(h->n_v1, sizeof(int));
        int first_new_unified = -1, ret = 0;

        if (h->n_v1 == 0 && h->unified_rootfd < 0)
                return berth_error(err, ENOENT, "no cgroup hierarchy found under %s", cg_root());
        for (size_t i = 0; i < h->n_v1; i++)
                first_new[i] = -1;
        for (size_t i = 0; i < h->n_v1 && ret == 0; i++)
                ret = cg_v1_create(cg, i, &first_new[i], err);
        if (ret == 0 && h->unified_rootfd >= 0)
                ret = cg_v2_create(cg, &first_new_unified, err);
        if (ret < 0) {
                rollback(cg, first_new, first_new_unified);
                return ret;
        }
        *out = steal_pointer(&cg);
        return 0;
}

/* ---- small file I/O for cgroup knobs ---- */

int cg_write(int dirfd, const char *file, const char *value, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_WRONLY | O_CLOEXEC);
        size_t len = strlen(value);
        ssize_t n;

        if (fd < 0)
                return berth_error(err, errno, "write %s=%s", file, value);
        /* A cgroup knob takes its value in one write(); kernfs never
         * writes short, but don't trust a stale errno if it ever did. */
        n = write(fd, value, len);
        if (n != (ssize_t)len)
                return berth_error(err, n < 0 ? errno : EIO, "write %s=%s", file, value);
        return 0;
}

int cg_write_i64(int dirfd, const char *file, int64_t value, berth_error_t **err)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%" PRId64, value);
        return cg_write(dirfd, file, buf, err);
}

int cg_read(int dirfd, const char *file, char *buf, size_t size, berth_error_t **err)
{
        _cleanup_close_ int fd = openat(dirfd, file, O_RDONLY | O_CLOEXEC);
        size_t used = 0;

        if (fd < 0)
                return berth_error(err, errno, "open %s", file);
        while (used + 1 < size) {
                ssize_t n = read(fd, buf + used, size - used - 1);

                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read %s", file);
                if (n == 0)
                        break;
                used += (size_t)n;
        }
        while (used > 0 && buf[used - 1] == '\n')
                used--;
        buf[used] = '\0';
        return 0;
}

static int parse_u64(const char *s, const char *file, uint64_t *out, berth_error_t **err)
{
        char *end;

        if (strcmp(s, "max") == 0) {
                *out = UINT64_MAX;
                return 0;
        }
        errno = 0;
        *out = strtoull(s, &end, 10);
        if (errno || end == s || (*end != '\0' && *end != '\n' && *end != ' '))
                return berth_error(err, 0, "%s: not a number: \"%s\"", file, s);
        return 0;
}

int cg_read_u64(int dirfd, const char *file, uint64_t *out, berth_error_t **err)
{
        char buf[64];
        int ret = cg_read(dirfd, file, buf, sizeof(buf), err);

        return ret < 0 ? ret : parse_u64(buf, file, out, err);
}

int cg_read_keyed(int dirfd, const char *file, const char *key, uint64_t *out, berth_error_t **err)
{
        char buf[4096], *p = buf, *line;
        size_t klen = strlen(key);
        int ret = cg_read(dirfd, file, buf, sizeof(buf), err);

        if (ret < 0)
                return ret;
        *out = 0;
        while ((line = strsep(&p, "\n")) != NULL)
                if (strncmp(line, key, klen) == 0 && line[klen] == ' ')
                        return parse_u64(line + klen + 1, file, out, err);
        return 0;
}

int cg_write_optional(int dirfd, const char *file, int64_t v, berth_error_t **err)
{
        int ret = cg_write_i64(dirfd, file, v, err);

        if (ret != -ENOENT)
                return ret;
        if (v == 0) {
                berth_error_free(err);
                return 0;
        }
        return berth_error(err, 0, "write %s=%" PRId64 ": not supported by this kernel (no such file)", file, v);
}

int cg_stat(int dirfd, const char *file, const char *key, uint64_t *out, berth_error_t **err)
{
        uint64_t v;
        int ret;

        if (dirfd < 0)
                return 0;
        ret = key ? cg_read_keyed(dirfd, file, key, &v, err) : cg_read_u64(dirfd, file, &v, err);
        if (ret == -ENOENT) {
                berth_error_free(err);
                return 0;
        }
        if (ret == 0)
                *out = v;
        return ret;
}

void cg_backoff(unsigned *step)
{
        long us = 50L << (*step < 8 ? *step : 8);
        struct timespec ts;

        if (us > 10000)
                us = 10000;
        ts = (struct timespec){ 0, us * 1000 };
        nanosleep(&ts, NULL);
        (*step)++;
}

uint64_t cg_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- directory walking ---- */

static int count_components(const char *rel)
{
        int n = 1;

        for (; *rel; rel++)
                n += *rel == '/';
        return n;
}

/* Without a hook only the leaf matters, and its parent usually exists
 * ("berth"): one mkdirat does it.  -ENOENT (err untouched) when a parent
 * is missing, so the caller walks. */
static int mkdir_leaf(int rootfd, const char *rel, int *first_new, berth_error_t **err)
{
        int fd;

        if (mkdirat(rootfd, rel, 0755) == 0)
                *first_new = count_components(rel) - 1;
        else if (errno == ENOENT)
                return -ENOENT;
        else if (errno != EEXIST)
                return berth_error(err, errno, "mkdir %s", rel);
        fd = openat(rootfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        return fd >= 0 ? fd : berth_error(err, errno, "open %s", rel);
}

/* One level at a time, so hooks see every parent and child. */
static int mkdir_walk(int rootfd, const char *rel, const struct cg_walk_hook *hook, int *first_new,
                      berth_error_t **err)
{
        _cleanup_free_ char *copy = xstrdup(rel);
        _cleanup_close_ int owned = -1; /* cur, once below the root */
        int cur = rootfd, ret;
        char *p = copy, *comp;

        for (int idx = 0; (comp = strsep(&p, "/")) != NULL; idx++) {
                int len = (int)(comp - copy + strlen(comp));
                _cleanup_close_ int child = -1;
                bool created;

                if (hook && hook->at_parent && (ret = hook->at_parent(cur, hook->data, err)) < 0)
                        return ret;
                created = mkdirat(cur, comp, 0755) == 0;
                if (!created && errno != EEXIST)
                        return berth_error(err, errno, "mkdir %.*s", len, rel);
                if (created && *first_new < 0)
                        *first_new = idx;
                child = openat(cur, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (child < 0)
                        return berth_error(err, errno, "open %.*s", len, rel);
                if (hook && hook->at_child && (ret = hook->at_child(cur, child, created, hook->data, err)) < 0)
                        return ret;
                if (owned >= 0)
                        close(owned);
                cur = owned = steal_fd(&child);
        }
        return steal_fd(&owned);
}

int cg_mkdir_path(int rootfd, const char *rel, const struct cg_walk_hook *hook, int *first_new,
                  berth_error_t **err)
{
        int fd;

        *first_new = -1;
        if (*rel == '\0') {
                fd = open_dir(rootfd, rel);
                return fd >= 0 ? fd : berth_error(err, errno, "open cgroup root");
        }
        if (hook == NULL && (fd = mkdir_leaf(rootfd, rel, first_new, err)) != -ENOENT)
                return fd;
        return mkdir_walk(rootfd, rel, hook, first_new, err);
}

void cg_rmdir_created(int rootfd, const char *rel, int first_new)
{
        _cleanup_free_ char *copy = xstrdup(rel);
        int depth = 0;

        if (first_new < 0 || *rel == '\0')
                return;
        for (const char *p = rel; *p; p++)
                depth += *p == '/';
        /* depth is the index of the last component; strip one per rmdir */
        for (; depth >= first_new; depth--) {
                char *slash = strrchr(copy, '/');

                unlinkat(rootfd, copy, AT_REMOVEDIR);
                if (slash)
                        *slash = '\0';
        }
}

static int rmdir_tree(int dirfd, const char *name, uint64_t deadline, berth_error_t **err);

static int rmdir_children(int dfd, const char *name, uint64_t deadline, berth_error_t **err)
{
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d;
        struct dirent *de;
        int ret = 0;

        if (fd < 0)
                return errno == ENOENT ? 0 : berth_error(err, errno, "open %s", name);
        d = fdopendir(fd);
        if (d == NULL) {
                close(fd);
                return berth_error(err, errno, "opendir %s", name);
        }
        while (ret == 0 && (de = readdir(d)) != NULL)
                if (de->d_type == DT_DIR && strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        ret = rmdir_tree(dirfd(d), de->d_name, deadline, err);
        closedir(d);
        if (ret < 0)
                berth_error_wrap(err, "%s", name);
        return ret;
}

static int try_rmdir(int dirfd, const char *name)
{
        if (unlinkat(dirfd, name, AT_REMOVEDIR) == 0 || errno == ENOENT)
                return 0;
        return -errno;
}

/* rmdir fails with EBUSY while the cgroup has children or tasks: children
 * go first, and tasks that are exiting get until the deadline to leave. */
static int rmdir_tree(int dirfd, const char *name, uint64_t deadline, berth_error_t **err)
{
        unsigned step = 0;
        int r = try_rmdir(dirfd, name);

        while (r == -EBUSY) {
                int ret = rmdir_children(dirfd, name, deadline, err);

                if (ret < 0)
                        return ret;
                r = try_rmdir(dirfd, name);
                if (r != -EBUSY || cg_now_ms() > deadline)
                        break;
                cg_backoff(&step);
        }
        return r < 0 ? berth_error(err, -r, "rmdir %s", name) : 0;
}

int cg_rmdir_tree(int rootfd, const char *rel, uint64_t deadline, berth_error_t **err)
{
        if (*rel == '\0')
                return 0; /* never the hierarchy root itself */
        return rmdir_tree(rootfd, rel, deadline, err);
}

/* Keep the first error of several, prefixed with where it happened. */
static int keep_first(berth_error_t **err, berth_error_t **e, const char *where)
{
        int ret = (*e)->status > 0 ? -(*e)->status : -1;

        if (err) {
                berth_error_free(err);
                *err = steal_pointer(e);
                berth_error_wrap(err, "%s", where);
        }
        return ret;
}

/* Every hierarchy is tried even when one fails, so as little as possible
 * is left behind; they share one deadline, so a task that will not leave
 * costs a second, not a second per hierarchy. */
int cgroup_destroy(struct cgroup *cg, berth_error_t **err)
{
        const struct cg_host *h = cg->host;
        uint64_t deadline = cg_now_ms() + CG_RMDIR_TIMEOUT_MS;
        int ret = 0;

        for (size_t i = 0; i < h->n_v1; i++) {
                _cleanup_error_ berth_error_t *e = NULL;

                if (cg_rmdir_tree(h->v1[i].rootfd, cg->rel, deadline, &e) < 0 && ret == 0)
                        ret = keep_first(err, &e, h->v1[i].mountpoint);
        }
        if (h->unified_rootfd >= 0) {
                _cleanup_error_ berth_error_t *e = NULL;

                if (cg_rmdir_tree(h->unified_rootfd, cg->rel, deadline, &e) < 0 && ret == 0)
                        ret = keep_first(err, &e, h->unified_path);
        }
        return ret;
}

/* ---- membership, pids, freezer, stats ---- */

int cgroup_enter(struct cgroup *cg, pid_t pid, berth_error_t **err)
{
        const struct cg_host *h = cg->host;
        char buf[16];
        bool any = false;

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t i = 0; i < h->n_v1; i++) {
                if (cg->v1fd[i] < 0)
                        continue;
                if (cg_write(cg->v1fd[i], "cgroup.procs", buf, err) < 0)
                        return berth_error_wrap(err, "%s/%s", h->v1[i].mountpoint, cg->rel);
                any = true;
        }
        if (cg->unified_fd >= 0) {
                if (cg_write(cg->unified_fd, "cgroup.procs", buf, err) < 0)
                        return berth_error_wrap(err, "%s/%s", h->unified_path, cg->rel);
                any = true;
        }
        return any ? 0 : berth_error(err, ENOENT, "cgroup %s", cg->path);
}

/* The directory whose cgroup.procs lists the container's tasks: on v1 any
 * hierarchy would do, these are the ones a container always has. */
static int procs_fd(const struct cgroup *cg)
{
        static const enum cg_ctrl prefer[] = { CG_PIDS, CG_FREEZER, CG_MEMORY };
        bool v2;

        for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
                int fd = cg_ctrl_fd(cg, prefer[i], &v2);
                if (fd >= 0 && !v2)
                        return fd;
        }
        if (cg->unified_fd >= 0)
                return cg->unified_fd;
        for (size_t i = 0; i < cg->host->n_v1; i++)
                if (cg->v1fd[i] >= 0)
                        return cg->v1fd[i];
        return -1;
}

struct pid_list {
        pid_t *v;
        size_t n, cap;
};

static void parse_procs(char *buf, struct pid_list *l)
{
        char *line;

        while ((line = strsep(&buf, "\n")) != NULL) {
                long long pid = parse_ll(line);

                if (pid <= 0)
                        continue;
                if (l->n == l->cap) {
                        l->cap = l->cap ? l->cap * 2 : 16;
                        l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
                }
                l->v[l->n++] = (pid_t)pid;
        }
}

/* cgroup.procs of dfd/name and of every cgroup below it.  A sub-cgroup
 * that vanishes while we walk is not an error. */
static int collect_pids(int dfd, const char *name, struct pid_list *l, berth_error_t **err)
{
        _cleanup_free_ char *buf = NULL;
        int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct dirent *de;
        DIR *d;
        int ret;

        if (fd < 0)
                return berth_error(err, errno, "open %s", name);
        ret = read_file_at(fd, "cgroup.procs", &buf, NULL, err);
        if (ret < 0 || (d = fdopendir(fd)) == NULL) {
                close(fd);
                return ret < 0 ? ret : berth_error(err, errno, "opendir %s", name);
        }
        parse_procs(buf, l);
        while (ret == 0 && (de = readdir(d)) != NULL) {
                if (de->d_type != DT_DIR || strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                ret = collect_pids(dirfd(d), de->d_name, l, err);
                if (ret == -ENOENT || ret == -ENODEV) {
                        berth_error_free(err);
                        ret = 0;
                }
        }
        closedir(d);
        return ret;
}

int cgroup_pids(struct cgroup *cg, pid_t **pids, berth_error_t **err)
{
        struct pid_list l = { 0 };
        int fd = procs_fd(cg);
        int ret;

        if (fd < 0)
                return berth_error(err, ENOENT, "cgroup %s", cg->path);
        ret = collect_pids(fd, ".", &l, err);
        if (ret < 0) {
                free(l.v);
                return berth_error_wrap(err, "cgroup %s", cg->path);
        }
        *pids = l.v ? l.v : xmalloc(sizeof(pid_t));
        return (int)l.n;
}

/* v1 freezer where it is mounted (it is the one that works there); else
 * the cgroup2 core freezer, which needs no controller. */
int cgroup_freeze(struct cgroup *cg, bool frozen, berth_error_t **err)
{
        bool v2;
        int fd = cg_ctrl_fd(cg, CG_FREEZER, &v2);
        int ret;

        if (fd >= 0)
                ret = cg_v1_freeze(fd, frozen, err);
        else if (cg->unified_fd >= 0)
                ret = cg_v2_freeze(cg->unified_fd, frozen, err);
        else
                return berth_error(err, ENOENT, "cgroup %s: no freezer", cg->path);
        return ret < 0 ? berth_error_wrap(err, "%s %s", frozen ? "freeze" : "thaw", cg->path) : 0;
}

bool cgroup_is_frozen(struct cgroup *cg)
{
        bool v2;
        int fd = cg_ctrl_fd(cg, CG_FREEZER, &v2);

        if (fd >= 0)
                return cg_v1_is_frozen(fd);
        return cg->unified_fd >= 0 && cg_v2_is_frozen(cg->unified_fd);
}

int cgroup_stats(struct cgroup *cg, struct cgroup_stats *st, berth_error_t **err)
{
        int ret;

        *st = (struct cgroup_stats){ .memory_limit = UINT64_MAX, .pids_limit = UINT64_MAX };
        if (procs_fd(cg) < 0)
                ret = berth_error(err, ENOENT, "open");
        else if (cg->host->mode == CGROUP_MODE_V2)
                ret = cg_v2_stats(cg->unified_fd, st, err);
        else
                ret = cg_v1_stats(cg, st, err);
        return ret < 0 ? berth_error_wrap(err, "stats of cgroup %s", cg->path) : 0;
}

/* ---- linux.resources ---- */

const char *const cg_throttle_names[4] = {
        "throttleReadBpsDevice", "throttleWriteBpsDevice",
        "throttleReadIOPSDevice", "throttleWriteIOPSDevice",
};

enum field_kind { F_I64, F_STR, F_ARR, F_OBJ };

struct field {
        const char *section; /* NULL: directly in linux.resources */
        const char *key;
        enum field_kind kind;
        size_t off;
};

#define FIELD(sec, key, kind, member) { sec, key, kind, offsetof(struct cg_resources, member) }
static const struct field fields[] = {
        FIELD("memory", "limit", F_I64, mem.limit),
        FIELD("memory", "reservation", F_I64, mem.reservation),
        FIELD("memory", "swap", F_I64, mem.swap),
        FIELD("memory", "swappiness", F_I64, mem.swappiness),
        FIELD("memory", "disableOOMKiller", F_I64, mem.disable_oom),
        FIELD("cpu", "shares", F_I64, cpu.shares),
        FIELD("cpu", "quota", F_I64, cpu.quota),
        FIELD("cpu", "period", F_I64, cpu.period),
        FIELD("cpu", "burst", F_I64, cpu.burst),
        FIELD("cpu", "realtimeRuntime", F_I64, cpu.rt_runtime),
        FIELD("cpu", "realtimePeriod", F_I64, cpu.rt_period),
        FIELD("cpu", "idle", F_I64, cpu.idle),
        FIELD("cpu", "cpus", F_STR, cpuset.cpus),
        FIELD("cpu", "mems", F_STR, cpuset.mems),
        FIELD("pids", "limit", F_I64, pids_limit),
        FIELD("blockIO", "weight", F_I64, blkio.weight),
        FIELD("blockIO", "leafWeight", F_I64, blkio.leaf_weight),
        FIELD("blockIO", "weightDevice", F_ARR, blkio.weight_device),
        FIELD("blockIO", "throttleReadBpsDevice", F_ARR, blkio.throttle[0]),
        FIELD("blockIO", "throttleWriteBpsDevice", F_ARR, blkio.throttle[1]),
        FIELD("blockIO", "throttleReadIOPSDevice", F_ARR, blkio.throttle[2]),
        FIELD("blockIO", "throttleWriteIOPSDevice", F_ARR, blkio.throttle[3]),
        FIELD(NULL, "hugepageLimits", F_ARR, hugepages),
        FIELD(NULL, "devices", F_ARR, devices),
        FIELD("network", "classID", F_I64, net.class_id),
        FIELD("network", "priorities", F_ARR, net.priorities),
        FIELD(NULL, "unified", F_OBJ, unified),
        FIELD(NULL, "rdma", F_OBJ, rdma),
};

static const char *const kind_names[] = { "an integer", "a string", "an array", "an object" };

static bool kind_matches(json_t *v, enum field_kind kind)
{
        switch (kind) {
        case F_I64: return json_is_integer(v) || json_is_boolean(v); /* disableOOMKiller */
        case F_STR: return json_is_string(v);
        case F_ARR: return json_is_array(v);
        case F_OBJ: return json_is_object(v);
        }
        return false;
}

static void store_field(struct cg_resources *r, const struct field *f, json_t *v)
{
        void *slot = (char *)r + f->off;

        switch (f->kind) {
        case F_I64:
                *(struct cg_i64 *)slot = (struct cg_i64){ true,
                        json_is_boolean(v) ? json_is_true(v) : json_integer_value(v) };
                break;
        case F_STR:
                *(const char **)slot = json_string_value(v);
                break;
        case F_ARR:
        case F_OBJ:
                *(json_t **)slot = v;
                break;
        }
}

/* Wrong types are errors, not silently ignored: `update --resources` takes
 * this straight from the user. Unknown keys (memory.kernel, kernelTCP,
 * useHierarchy...) are ignored as runc does. */
static int decode_resources(json_t *res, struct cg_resources *r, berth_error_t **err)
{
        *r = (struct cg_resources){ 0 };
        if (!json_is_object(res))
                return berth_error(err, 0, "linux.resources: expected an object");
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                const struct field *f = &fields[i];
                json_t *obj = f->section ? json_object_get(res, f->section) : res;
                json_t *v;

                if (obj == NULL || json_is_null(obj))
                        continue;
                if (!json_is_object(obj))
                        return berth_error(err, 0, "linux.resources.%s: expected an object", f->section);
                v = json_object_get(obj, f->key);
                if (v == NULL || json_is_null(v))
                        continue;
                if (!kind_matches(v, f->kind))
                        return berth_error(err, 0, "linux.resources.%s%s%s: expected %s",
                                           f->section ? f->section : "", f->section ? "." : "", f->key,
                                           kind_names[f->kind]);
                store_field(r, f, v);
        }
        return 0;
}

/* How much a section asks for: 0 nothing, 1 only values meaning "no
 * limit" (fine to skip when the controller is missing), 2 a real limit. */
static int lvl(struct cg_i64 x) { return !x.set ? 0 : x.v > 0 ? 2 : 1; }
static int lvl_str(const char *s) { return s && *s ? 2 : 0; }
static int lvl_json(json_t *a) { return json_array_size(a) || json_object_size(a) ? 2 : 0; }
static int max2(int a, int b) { return a > b ? a : b; }

static int want_memory(const struct cg_resources *r)
{
        return max2(max2(lvl(r->mem.limit), lvl(r->mem.reservation)),
                    max2(max2(lvl(r->mem.swap), lvl(r->mem.swappiness)), lvl(r->mem.disable_oom)));
}

static int want_cpu(const struct cg_resources *r)
{
        int l = max2(lvl(r->cpu.shares), max2(lvl(r->cpu.quota), lvl(r->cpu.period)));

        l = max2(l, max2(lvl(r->cpu.burst), lvl(r->cpu.idle)));
        return max2(l, max2(lvl(r->cpu.rt_runtime), lvl(r->cpu.rt_period)));
}

static int want_cpuset(const struct cg_resources *r)
{
        return max2(lvl_str(r->cpuset.cpus), lvl_str(r->cpuset.mems));
}

static int want_pids(const struct cg_resources *r) { return lvl(r->pids_limit); }

static int want_blkio(const struct cg_resources *r)
{
        int l = max2(lvl(r->blkio.weight), lvl(r->blkio.leaf_weight));

        l = max2(l, lvl_json(r->blkio.weight_device));
        for (int i = 0; i < 4; i++)
                l = max2(l, lvl_json(r->blkio.throttle[i]));
        return l;
}

static int want_hugetlb(const struct cg_resources *r) { return lvl_json(r->hugepages); }
static int want_devices(const struct cg_resources *r) { return lvl_json(r->devices); }
static int want_net_cls(const struct cg_resources *r) { return lvl(r->net.class_id); }
static int want_net_prio(const struct cg_resources *r) { return lvl_json(r->net.priorities); }

typedef int (*cg_setter)(int fd, const struct cg_resources *r, berth_error_t **err);

/* One part of linux.resources, the controller it needs, and its writers.
 * A NULL v2 writer means cgroup v2 has no such files: on a v2 host the
 * part is ignored (devices: enforced by a BPF program, a later issue). */
struct applier {
        const char *what;
        enum cg_ctrl ctrl;
        int (*want)(const struct cg_resources *r);
        cg_setter v1, v2;
};

static const struct applier appliers[] = {
        { "memory", CG_MEMORY, want_memory, cg_v1_memory, cg_v2_memory },
        { "cpu", CG_CPU, want_cpu, cg_v1_cpu, cg_v2_cpu },
        { "cpu.cpus/mems", CG_CPUSET, want_cpuset, cg_set_cpuset, cg_set_cpuset },
        { "pids", CG_PIDS, want_pids, cg_set_pids, cg_set_pids },
        { "blockIO", CG_BLKIO, want_blkio, cg_v1_blkio, cg_v2_io },
        { "hugepageLimits", CG_HUGETLB, want_hugetlb, cg_v1_hugetlb, cg_v2_hugetlb },
        { "devices", CG_DEVICES, want_devices, cg_v1_devices, NULL },
        { "network.classID", CG_NET_CLS, want_net_cls, cg_v1_net_cls, NULL },
        { "network.priorities", CG_NET_PRIO, want_net_prio, cg_v1_net_prio, NULL },
};

static int apply_one(struct cgroup *cg, const struct applier *a, const struct cg_resources *r,
                     berth_error_t **err)
{
        int want = a->want(r);
        bool v2;
        int fd;

        if (want == 0)
                return 0;
        fd = cg_ctrl_fd(cg, a->ctrl, &v2);
        if (fd < 0 && a->ctrl == CG_DEVICES && cg->host->mode == CGROUP_MODE_V2)
                return 0; /* accepted: the v2 device program comes with a later issue */
        if (fd < 0 && want == 1)
                return 0;
        if (fd < 0)
                return berth_error(err, 0, "%s: cgroup controller %s is not available", a->what,
                                   cg_ctrl_name(a->ctrl, false));
        if (v2 && a->v2 == NULL)
                return 0;
        return v2 ? a->v2(fd, r, err) : a->v1(fd, r, err);
}

int cgroup_apply_resources(struct cgroup *cg, json_t *resources, berth_error_t **err)
{
        struct cg_resources r;
        int ret;

        if (resources == NULL || json_is_null(resources))
                return 0;
        ret = decode_resources(resources, &r, err);
        if (ret < 0)
                return ret;
        if (json_object_size(r.rdma))
                return berth_error(err, 0, "linux.resources.rdma: not supported");
        for (size_t i = 0; i < ARRAY_SIZE(appliers); i++)
                if ((ret = apply_one(cg, &appliers[i], &r, err)) < 0)
                        return ret;
        if (json_object_size(r.unified) == 0)
                return 0;
        if (cg->unified_fd < 0)
                return berth_error(err, 0, "linux.resources.unified: needs cgroup v2");
        return cg_v2_unified(cg->unified_fd, &r, err);
}

/* ---- writers both versions share ---- */

int cg_set_cpuset(int fd, const struct cg_resources *r, berth_error_t **err)
{
        int ret = 0;

        if (lvl_str(r->cpuset.cpus))
                ret = cg_write(fd, "cpuset.cpus", r->cpuset.cpus, err);
        if (ret == 0 && lvl_str(r->cpuset.mems))
                ret = cg_write(fd, "cpuset.mems", r->cpuset.mems, err);
        return ret;
}

/* pids.limit 0 or -1 both mean no limit. */
int cg_set_pids(int fd, const struct cg_resources *r, berth_error_t **err)
{
        if (!r->pids_limit.set)
                return 0;
        if (r->pids_limit.v <= 0)
                return cg_write(fd, "pids.max", "max", err);
        return cg_write_i64(fd, "pids.max", r->pids_limit.v, err);
}

/* ---- list entries ---- */

static int get_int(json_t *e, const char *key, int64_t *v, bool *set)
{
        json_t *x = json_object_get(e, key);

        *set = x != NULL && !json_is_null(x);
        if (*set && !json_is_integer(x))
                return -1;
        *v = *set ? json_integer_value(x) : 0;
        return 0;
}

int cg_json_dev_entry(json_t *e, const char *list, const char *key, int64_t *major,
                      int64_t *minor, int64_t *value, bool *value_set, berth_error_t **err)
{
        bool maj_set, min_set;

        if (!json_is_object(e) || get_int(e, "major", major, &maj_set) < 0 ||
            get_int(e, "minor", minor, &min_set) < 0 || !maj_set || !min_set || *major < 0 ||
            *minor < 0 || get_int(e, key, value, value_set) < 0)
                return berth_error(err, 0, "%s: each entry needs integer major, minor and %s", list, key);
        return 0;
}

int cg_json_hugepage(json_t *e, const char **size, int64_t *limit, berth_error_t **err)
{
        const char *s = json_string_value(json_object_get(e, "pageSize"));
        bool set;

        if (s == NULL || *s == '\0' || strspn(s, "0123456789KMGTPkmgtpBb") != strlen(s) ||
            get_int(e, "limit", limit, &set) < 0 || !set)
                return berth_error(err, 0, "hugepageLimits: each entry needs pageSize (like \"2MB\") and an integer limit");
        *size = s;
        return 0;
}
