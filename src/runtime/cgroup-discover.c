/* What the host runs, found once per process: the hierarchy mode (v1, v2,
 * hybrid), the mounted v1 hierarchies, the cgroup2 mount and which
 * controllers it serves, and from that which directory holds a given
 * controller for a cgroup. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <linux/magic.h>
#include <pthread.h>
#include <string.h>
#include <sys/statfs.h>

#define CG_DEFAULT_ROOT "/sys/fs/cgroup"

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

const char *cg_root(void)
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
