/* What runs on a live cgroup: moving a task in (or letting a new one move
 * itself in), listing its tasks, freezing and thawing them, and reading
 * usage. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Write pid to cgroup.procs of the v1 hierarchies and/or the cgroup2 one.
 * ENOENT only when the cgroup has no directory left in any hierarchy. */
static int enter(struct cgroup *cg, pid_t pid, bool v1, bool unified, berth_error_t **err)
{
        const struct cg_host *h = cg->host;
        char buf[16];
        bool any = cg->unified_fd >= 0;

        snprintf(buf, sizeof(buf), "%d", (int)pid);
        for (size_t i = 0; i < h->n_v1; i++) {
                if (cg->v1fd[i] < 0)
                        continue;
                if (v1 && cg_write(cg->v1fd[i], "cgroup.procs", buf, err) < 0)
                        return berth_error_wrap(err, "%s/%s", h->v1[i].mountpoint, cg->rel);
                any = true;
        }
        if (unified && cg->unified_fd >= 0 && cg_write(cg->unified_fd, "cgroup.procs", buf, err) < 0)
                return berth_error_wrap(err, "%s/%s", h->unified_path, cg->rel);
        return any ? 0 : berth_error(err, ENOENT, "cgroup %s", cg->path);
}

int cgroup_enter(struct cgroup *cg, pid_t pid, berth_error_t **err)
{
        return enter(cg, pid, true, true, err);
}

int cgroup_enter_rest(struct cgroup *cg, pid_t pid, bool born_in_unified, berth_error_t **err)
{
        return enter(cg, pid, !cg->self_enter, !born_in_unified, err);
}

int cgroup_self_enter_open(struct cgroup *cg, berth_error_t **err)
{
        const struct cg_host *h = cg->host;

        for (size_t i = 0; i < h->n_v1; i++) {
                if (cg->v1fd[i] < 0 || cg->v1tasks[i] >= 0)
                        continue;
                cg->v1tasks[i] = openat(cg->v1fd[i], "tasks", O_WRONLY | O_CLOEXEC);
                if (cg->v1tasks[i] < 0) {
                        int e = errno;

                        cgroup_self_enter_close(cg);
                        return berth_error(err, e, "open %s/%s/tasks", h->v1[i].mountpoint, cg->rel);
                }
        }
        cg->self_enter = true;
        return 0;
}

/* "0" is the writer itself, as a single thread: the kernel's
 * cgroup_procs_write_start takes no cgroup_threadgroup_rwsem for it. */
int cgroup_self_enter(struct cgroup *cg, berth_error_t **err)
{
        const struct cg_host *h = cg->host;
        int ret = 0;

        for (size_t i = 0; i < h->n_v1 && ret == 0; i++) {
                ssize_t n;

                if (cg->v1tasks[i] < 0)
                        continue;
                n = write(cg->v1tasks[i], "0", 1);
                if (n != 1)
                        ret = berth_error(err, n < 0 ? errno : EIO, "%s/%s: write tasks=0", h->v1[i].mountpoint,
                                          cg->rel);
        }
        cgroup_self_enter_close(cg);
        return ret;
}

void cgroup_self_enter_close(struct cgroup *cg)
{
        for (size_t i = 0; i < cg->host->n_v1; i++) {
                if (cg->v1tasks[i] >= 0)
                        close(cg->v1tasks[i]);
                cg->v1tasks[i] = -1;
        }
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
