/* cgroup v2: one directory, controllers enabled from the parent's
 * cgroup.subtree_control.  On hybrid hosts the same code drives the
 * cgroup2 hierarchy for whatever v1 does not mount (hugetlb, typically). */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

/* ---- discovery ---- */

/* Controllers a cgroup2 directory offers (cgroup.controllers). */
unsigned cg_v2_controllers(int fd)
{
        char buf[512], *p = buf, *tok;
        unsigned mask = 0;

        if (cg_read(fd, "cgroup.controllers", buf, sizeof(buf), NULL) < 0)
                return 0;
        while ((tok = strsep(&p, " ")) != NULL) {
                int c = cg_ctrl_by_name(tok, true);

                if (c >= 0)
                        mask |= CG_BIT(c);
        }
        return mask;
}

/* ---- creation ---- */

/* What a container may need; enabled when the host's cgroup2 offers it. */
static const enum cg_ctrl wanted[] = { CG_CPU, CG_MEMORY, CG_PIDS, CG_BLKIO, CG_CPUSET, CG_HUGETLB };

static void subtree_list(unsigned avail, char *buf, size_t size)
{
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < ARRAY_SIZE(wanted); i++)
                if (avail & CG_BIT(wanted[i]))
                        n += (size_t)snprintf(buf + n, size - n, "%s+%s", n ? " " : "",
                                              cg_ctrl_name(wanted[i], true));
}

struct subtree_walk {
        char list[128]; /* "+cpu +memory ..." */
        bool at_root;
};

/* A non-root cgroup with processes of its own must not get controllers:
 * the kernel refuses domain ones (EBUSY) but accepts threaded ones (cpu,
 * pids, cpuset), which turns it into a thread root and makes every new
 * child "domain invalid" (EOPNOTSUPP on joining). */
static bool has_own_tasks(int fd)
{
        char buf[16];

        return cg_read(fd, "cgroup.procs", buf, sizeof(buf), NULL) < 0 || buf[0] != '\0';
}

/* One write enables them all.  If the kernel refuses one (cpu while a
 * realtime task sits in a non-root cgroup, say), the write fails as a
 * whole: then enable them one by one and let the refused ones go, as runc
 * does; a limit on a missing controller fails later, naming its file. */
static int enable_controllers(int parentfd, void *data, berth_error_t **err)
{
        struct subtree_walk *w = data;
        _cleanup_free_ char *copy = NULL;
        bool root = w->at_root;
        char *p, *tok;

        (void)err;
        w->at_root = false;
        if (w->list[0] == '\0' || (!root && has_own_tasks(parentfd)))
                return 0;
        if (cg_write(parentfd, "cgroup.subtree_control", w->list, NULL) == 0)
                return 0;
        p = copy = xstrdup(w->list);
        while ((tok = strsep(&p, " ")) != NULL)
                cg_write(parentfd, "cgroup.subtree_control", tok, NULL);
        return 0;
}

int cg_v2_create(struct cgroup *cg, int *first_new, berth_error_t **err)
{
        const struct cg_host *h = cg->host;
        struct subtree_walk w = { .at_root = true };
        struct cg_walk_hook hook = { .at_parent = enable_controllers, .data = &w };
        int fd;

        subtree_list(h->unified_ctrls, w.list, sizeof(w.list));
        fd = cg_mkdir_path(h->unified_rootfd, cg->rel, &hook, first_new, err);
        if (fd < 0)
                return berth_error_wrap(err, "%s", h->unified_path);
        cg->unified_fd = fd;
        return 0;
}

/* ---- memory ---- */

/* v2 spells "no limit" as "max". */
static int write_limit(int fd, const char *file, int64_t v, berth_error_t **err)
{
        return v < 0 ? cg_write(fd, file, "max", err) : cg_write_i64(fd, file, v, err);
}

/* OCI's swap is memory+swap (the v1 memsw); v2's memory.swap.max is swap
 * alone.  runc's conversion: "" means leave it alone. */
static int swap_value(struct cg_i64 limit, struct cg_i64 swap, char *buf, size_t size, berth_error_t **err)
{
        int64_t l = limit.set ? limit.v : 0, s = swap.set ? swap.v : 0;

        buf[0] = '\0';
        if ((l == -1 && s == 0) || s == -1)
                snprintf(buf, size, "max");
        else if (s == 0)
                return 0;
        else if (l <= 0)
                return berth_error(err, 0, "memory.swap=%" PRId64 ": a swap limit needs a memory limit", s);
        else if (s < l)
                return berth_error(err, 0, "memory.swap=%" PRId64 " is below memory.limit=%" PRId64
                                   " (swap counts memory plus swap)", s, l);
        else
                snprintf(buf, size, "%" PRId64, s - l);
        return 0;
}

static int v2_swap(int fd, const struct cg_resources *r, berth_error_t **err)
{
        char val[32];
        int ret = swap_value(r->mem.limit, r->mem.swap, val, sizeof(val), err);

        if (ret < 0 || val[0] == '\0')
                return ret;
        if (faccessat(fd, "memory.swap.max", F_OK, 0) == 0)
                return cg_write(fd, "memory.swap.max", val, err);
        /* no swap accounting: "no swap" and "unlimited" cost nothing */
        if (strcmp(val, "max") == 0 || strcmp(val, "0") == 0)
                return 0;
        return berth_error(err, 0, "memory.swap=%" PRId64 ": swap limit not supported "
                           "(no memory.swap.max: swap accounting is off)", r->mem.swap.v);
}

/* swappiness and disableOOMKiller have no v2 files: ignored, as runc
 * does, since Docker sends them by default. */
int cg_v2_memory(int fd, const struct cg_resources *r, berth_error_t **err)
{
        int ret = v2_swap(fd, r, err);

        if (ret == 0 && r->mem.limit.set && r->mem.limit.v != 0)
                ret = write_limit(fd, "memory.max", r->mem.limit.v, err);
        if (ret == 0 && r->mem.reservation.set && r->mem.reservation.v != 0)
                ret = write_limit(fd, "memory.low", r->mem.reservation.v, err);
        return ret;
}

/* ---- cpu ---- */

/* runc's mapping of v1 shares [2, 262144] onto v2 weight [1, 10000]. */
static int64_t shares_to_weight(int64_t shares)
{
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        return 1 + ((shares - 2) * 9999) / 262142;
}

/* cpu.max is "quota period" with "max" for no quota. */
static int v2_cpu_max(int fd, struct cg_i64 quota, struct cg_i64 period, berth_error_t **err)
{
        char buf[64];
        int n;

        if (!(quota.set && quota.v != 0) && !(period.set && period.v != 0))
                return 0;
        if (quota.set && quota.v > 0)
                n = snprintf(buf, sizeof(buf), "%" PRId64, quota.v);
        else
                n = snprintf(buf, sizeof(buf), "max");
        if (period.set && period.v != 0)
                snprintf(buf + n, sizeof(buf) - (size_t)n, " %" PRId64, period.v);
        return cg_write(fd, "cpu.max", buf, err);
}

int cg_v2_cpu(int fd, const struct cg_resources *r, berth_error_t **err)
{
        int ret = 0;

        if ((r->cpu.rt_runtime.set && r->cpu.rt_runtime.v != 0) || (r->cpu.rt_period.set && r->cpu.rt_period.v != 0))
                return berth_error(err, 0, "cpu.realtimeRuntime/realtimePeriod: cpu.rt_runtime_us is "
                                   "not supported on cgroup v2");
        if (r->cpu.shares.set && r->cpu.shares.v != 0)
                ret = cg_write_i64(fd, "cpu.weight", shares_to_weight(r->cpu.shares.v), err);
        if (ret == 0)
                ret = v2_cpu_max(fd, r->cpu.quota, r->cpu.period, err);
        if (ret == 0 && r->cpu.burst.set)
                ret = cg_write_optional(fd, "cpu.max.burst", r->cpu.burst.v, err);
        if (ret == 0 && r->cpu.idle.set)
                ret = cg_write_optional(fd, "cpu.idle", r->cpu.idle.v, err);
        return ret;
}

/* ---- io ---- */

/* runc's mapping of blkio weight [10, 1000] onto io.weight [1, 10000];
 * io.bfq.weight keeps the blkio range. */
static int64_t io_weight(int64_t w, bool bfq)
{
        if (bfq)
                return w;
        if (w < 10)
                w = 10;
        if (w > 1000)
                w = 1000;
        return 1 + (w - 10) * 9999 / 990;
}

static int v2_weight_device(int fd, json_t *list, bool bfq, berth_error_t **err)
{
        size_t i;
        json_t *e;

        json_array_foreach(list, i, e) {
                int64_t maj, min, w, lw;
                bool w_set, lw_set;
                char buf[96];
                int ret;

                if ((ret = cg_json_dev_entry(e, "blockIO.weightDevice", "weight", &maj, &min, &w, &w_set, err)) < 0 ||
                    (ret = cg_json_dev_entry(e, "blockIO.weightDevice", "leafWeight", &maj, &min, &lw, &lw_set, err)) < 0)
                        return ret;
                if (lw_set && lw != 0)
                        return berth_error(err, 0, "blockIO.weightDevice.leafWeight: not supported on cgroup v2");
                if (!w_set)
                        continue;
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, io_weight(w, bfq));
                if ((ret = cg_write(fd, bfq ? "io.bfq.weight" : "io.weight", buf, err)) < 0)
                        return ret;
        }
        return 0;
}

/* io.max takes "maj:min rbps=N"; rate 0 meant "no limit" in v1. */
static int v2_throttle(int fd, json_t *list, const char *name, const char *key, berth_error_t **err)
{
        size_t i;
        json_t *e;

        json_array_foreach(list, i, e) {
                int64_t maj, min, rate;
                bool set;
                char buf[96];
                int ret = cg_json_dev_entry(e, name, "rate", &maj, &min, &rate, &set, err);

                if (ret < 0)
                        return ret;
                if (rate > 0)
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=%" PRId64, maj, min, key, rate);
                else
                        snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %s=max", maj, min, key);
                if ((ret = cg_write(fd, "io.max", buf, err)) < 0)
                        return ret;
        }
        return 0;
}

int cg_v2_io(int fd, const struct cg_resources *r, berth_error_t **err)
{
        static const char *const keys[4] = { "rbps", "wbps", "riops", "wiops" };
        bool bfq = faccessat(fd, "io.bfq.weight", F_OK, 0) == 0;
        int ret = 0;

        if (r->blkio.leaf_weight.set && r->blkio.leaf_weight.v != 0)
                return berth_error(err, 0, "blockIO.leafWeight: not supported on cgroup v2");
        if (r->blkio.weight.set && r->blkio.weight.v != 0)
                ret = cg_write_i64(fd, bfq ? "io.bfq.weight" : "io.weight", io_weight(r->blkio.weight.v, bfq), err);
        if (ret == 0)
                ret = v2_weight_device(fd, r->blkio.weight_device, bfq, err);
        for (int i = 0; i < 4 && ret == 0; i++)
                ret = v2_throttle(fd, r->blkio.throttle[i], cg_throttle_names[i], keys[i], err);
        return ret;
}

/* ---- hugetlb ---- */

int cg_v2_hugetlb(int fd, const struct cg_resources *r, berth_error_t **err)
{
        return cg_set_hugetlb(fd, r, "max", "rsvd.max", write_limit, err);
}

/* ---- linux.resources.unified: raw file writes ---- */

int cg_v2_unified(int fd, const struct cg_resources *r, berth_error_t **err)
{
        const char *key;
        json_t *v;

        json_object_foreach(r->unified, key, v) {
                int ret;

                if (!json_is_string(v))
                        return berth_error(err, 0, "unified.%s: expected a string", key);
                /* a key is a file of this cgroup, never a path out of it */
                if (*key == '\0' || *key == '.' || strchr(key, '/'))
                        return berth_error(err, 0, "unified: bad key \"%s\"", key);
                if ((ret = cg_write(fd, key, json_string_value(v), err)) < 0)
                        return ret;
        }
        return 0;
}

/* ---- freezer ---- */

#define FREEZE_TIMEOUT_MS 2000

/* cgroup.freeze asks; cgroup.events "frozen 1" says every task stopped. */
int cg_v2_freeze(int fd, bool frozen, berth_error_t **err)
{
        uint64_t deadline = cg_now_ms() + FREEZE_TIMEOUT_MS, state = !frozen;
        unsigned step = 0;
        int ret = cg_write(fd, "cgroup.freeze", frozen ? "1" : "0", err);

        while (ret == 0) {
                ret = cg_read_keyed(fd, "cgroup.events", "frozen", &state, err);
                if (ret < 0 || state == (uint64_t)frozen)
                        return ret;
                if (cg_now_ms() > deadline)
                        break;
                cg_backoff(&step);
        }
        if (ret < 0)
                return ret;
        if (frozen)
                cg_write(fd, "cgroup.freeze", "0", NULL); /* not half-frozen */
        return berth_error(err, EBUSY, "cgroup.events still says frozen %" PRIu64 " after %d ms",
                           state, FREEZE_TIMEOUT_MS);
}

bool cg_v2_is_frozen(int fd)
{
        char buf[8];

        return cg_read(fd, "cgroup.freeze", buf, sizeof(buf), NULL) == 0 && strcmp(buf, "1") == 0;
}

/* ---- stats ---- */

int cg_v2_stats(int fd, struct cgroup_stats *st, berth_error_t **err)
{
        uint64_t usage_us = 0;
        int ret;

        if ((ret = cg_stat(fd, "memory.current", NULL, &st->memory_usage, err)) < 0 ||
            (ret = cg_stat(fd, "memory.peak", NULL, &st->memory_peak, err)) < 0 ||
            (ret = cg_stat(fd, "memory.max", NULL, &st->memory_limit, err)) < 0 ||
            (ret = cg_stat(fd, "memory.events", "oom_kill", &st->oom_kill_events, err)) < 0 ||
            (ret = cg_stat(fd, "cpu.stat", "usage_usec", &usage_us, err)) < 0 ||
            (ret = cg_stat(fd, "pids.current", NULL, &st->pids_current, err)) < 0 ||
            (ret = cg_stat(fd, "pids.max", NULL, &st->pids_limit, err)) < 0)
                return ret;
        st->cpu_usage_ns = usage_us * 1000;
        return 0;
}
