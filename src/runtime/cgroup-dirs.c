/* The container's directories in one hierarchy: made level by level (with
 * hooks for what each version must set on the way down), rolled back after
 * a failed create, and removed children first. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cg_open_dir(int rootfd, const char *rel)
{
        return openat(rootfd, *rel ? rel : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

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
                fd = cg_open_dir(rootfd, rel);
                return fd >= 0 ? fd : berth_error(err, errno, "open cgroup root");
        }
        if (hook == NULL && (fd = mkdir_leaf(rootfd, rel, first_new, err)) != -ENOENT)
                return fd;
        fd = mkdir_walk(rootfd, rel, hook, first_new, err);
        if (fd == -ENOENT) {
                /* a parent was removed under us by the last container's delete */
                berth_error_free(err);
                fd = mkdir_walk(rootfd, rel, hook, first_new, err);
        }
        return fd;
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
