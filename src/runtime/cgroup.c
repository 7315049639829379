/* The cgroup object: create (in every hierarchy, undone on failure), open,
 * free, destroy.  Host discovery is in cgroup-discover.c, the directory
 * walks in cgroup-dirs.c, what runs on a live cgroup in cgroup-ops.c and
 * linux.resources in cgroup-resources.c; the file formats live in
 * cgroup-v1.c and cgroup-v2.c. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define CG_RMDIR_TIMEOUT_MS 1000

static struct cgroup *cg_new(const char *path)
{
        struct cgroup *cg = xcalloc(1, sizeof(*cg));

        cg->host = cg_host();
        cg->path = cg_clean_path(path);
        cg->rel = cg->path + 1;
        cg->v1fd = xcalloc(cg->host->n_v1, sizeof(int));
        cg->v1tasks = xcalloc(cg->host->n_v1, sizeof(int));
        for (size_t i = 0; i < cg->host->n_v1; i++)
                cg->v1fd[i] = cg->v1tasks[i] = -1;
        cg->unified_fd = -1;
        return cg;
}

static void close_fds(struct cgroup *cg)
{
        cgroup_self_enter_close(cg);
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
        free(cg->v1tasks);
        free(cg->path);
        free(cg);
}

static inline void cgroup_freep(struct cgroup **cg) { cgroup_free(*cg); }
#define _cleanup_cgroup_ __attribute__((cleanup(cgroup_freep)))

const char *cgroup_path(const struct cgroup *cg)
{
        return cg->path;
}

/* On a hybrid host the cgroup2 directory holds just a few controllers: a
 * child spawned into it alone would miss the v1 ones, unless it enters
 * those itself (cgroup_self_enter_open).  unified_fd was opened O_RDONLY |
 * O_DIRECTORY (cg_open_dir, cg_mkdir_path), which clone3's
 * CLONE_INTO_CGROUP accepts on every kernel that has it. */
int cgroup_unified_dir_fd(const struct cgroup *cg)
{
        return cg->host->mode == CGROUP_MODE_V2 || cg->self_enter ? cg->unified_fd : -1;
}

struct cgroup *cgroup_open(const char *path)
{
        struct cgroup *cg = cg_new(path);

        for (size_t i = 0; i < cg->host->n_v1; i++)
                cg->v1fd[i] = cg_open_dir(cg->host->v1[i].rootfd, cg->rel);
        if (cg->host->unified_rootfd >= 0)
                cg->unified_fd = cg_open_dir(cg->host->unified_rootfd, cg->rel);
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
/* The runtime's own parent ("berth"), and the directories between it and
 * the container's cgroup ("berth/pods/x" for "pods/x/<id>"), go with their
 * last container, so the host is left as it was.  rmdir refuses while
 * another container lives there; a create racing with this retries its
 * mkdir walk. */
static void remove_empty_runtime_parent(struct cgroup *cg)
{
        const struct cg_host *h = cg->host;
        _cleanup_free_ char *dir = xstrdup(cg->rel);
        char *slash;

        if (!str_has_prefix(cg->rel, CG_PARENT "/"))
                return;
        while ((slash = strrchr(dir, '/')) != NULL) {
                *slash = '\0';
                for (size_t i = 0; i < h->n_v1; i++)
                        unlinkat(h->v1[i].rootfd, dir, AT_REMOVEDIR);
                if (h->unified_rootfd >= 0)
                        unlinkat(h->unified_rootfd, dir, AT_REMOVEDIR);
        }
}

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
        if (ret == 0)
                remove_empty_runtime_parent(cg);
        return ret;
}
