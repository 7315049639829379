/* cgroup v1: one directory per controller hierarchy, each with its own
 * file names.  Also what hybrid hosts use for every controller they mount
 * as v1. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* ---- discovery: the hierarchies in /proc/self/mountinfo ---- */

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static void unescape_octal(char *s)
{
        char *w = s;

        for (char *r = s; *r; r++, w++) {
                if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
                    r[3] >= '0' && r[3] <= '7') {
                        *w = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
                        r += 3;
                } else {
                        *w = *r;
                }
        }
        *w = '\0';
}

static bool path_under(const char *path, const char *root)
{
        size_t n = strlen(root);

        return strncmp(path, root, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* Controllers named in a v1 mount's super options ("rw,cpu,cpuacct");
 * *named is set for "name=systemd"-style hierarchies. */
static unsigned v1_ctrls_of(char *opts, bool *named)
{
        unsigned mask = 0;
        char *opt;

        *named = false;
        while ((opt = strsep(&opts, ",")) != NULL) {
                int c = cg_ctrl_by_name(opt, false);

                if (c >= 0)
                        mask |= CG_BIT(c);
                else if (str_has_prefix(opt, "name="))
                        *named = true;
        }
        return mask;
}

static bool have_dev(const struct cg_host *h, const dev_t *devs, dev_t dev)
{
        for (size_t i = 0; i < h->n_v1; i++)
                if (devs[i] == dev)
                        return true;
        return false;
}

/* One mountinfo line: "id parent maj:min root mountpoint opts... - fstype
 * source superopts".  Records v1 hierarchies mounted under the root; the
 * same hierarchy bind-mounted twice (same maj:min) is kept once. */
static void parse_mount_line(char *line, const char *root, struct cg_host *h, dev_t **devs)
{
        char *sep = strstr(line, " - "), *tail, *fields[5], *fstype, *opts;
        unsigned maj, min;
        unsigned ctrls;
        bool named;
        int fd;

        if (sep == NULL)
                return;
        *sep = '\0';
        tail = sep + 3;
        fstype = strsep(&tail, " ");
        strsep(&tail, " "); /* source */
        opts = strsep(&tail, " ");
        if (fstype == NULL || opts == NULL || strcmp(fstype, "cgroup") != 0)
                return;
        for (int i = 0; i < 5; i++)
                if ((fields[i] = strsep(&line, " ")) == NULL)
                        return;
        unescape_octal(fields[4]);
        if (!path_under(fields[4], root) || sscanf(fields[2], "%u:%u", &maj, &min) != 2)
                return;
        ctrls = v1_ctrls_of(opts, &named);
        if ((ctrls == 0 && !named) || have_dev(h, *devs, makedev(maj, min)))
                return;
        fd = open(fields[4], O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return;
        h->v1 = xrealloc(h->v1, (h->n_v1 + 1) * sizeof(*h->v1));
        *devs = xrealloc(*devs, (h->n_v1 + 1) * sizeof(**devs));
        (*devs)[h->n_v1] = makedev(maj, min);
        h->v1[h->n_v1++] = (struct cg_hierarchy){ xstrdup(fields[4]), ctrls, fd };
}

void cg_v1_discover(struct cg_host *h, const char *root)
{
        _cleanup_free_ char *buf = NULL;
        _cleanup_free_ dev_t *devs = NULL;
        char *p, *line;

        if (read_file("/proc/self/mountinfo", &buf, NULL, NULL) < 0)
                return;
        p = buf;
        while ((line = strsep(&p, "\n")) != NULL)
                parse_mount_line(line, root, h, &devs);
}

/* ---- creation ---- */

/* A new v1 cpuset cgroup starts with empty cpuset.cpus and cpuset.mems and
 * refuses tasks until both are set, so each new level copies its
 * parent's; an existing level left empty (someone died half-way) is
 * fixed the same way.  The parent's values are read only when needed. */
struct cpuset_vals {
        char cpus[4096], mems[4096];
        bool loaded;
};

static int cpuset_read(int fd, struct cpuset_vals *v, berth_error_t **err)
{
        int ret = cg_read(fd, "cpuset.cpus", v->cpus, sizeof(v->cpus), err);

        if (ret == 0)
                ret = cg_read(fd, "cpuset.mems", v->mems, sizeof(v->mems), err);
        v->loaded = ret == 0;
        return ret;
}

/* data: the parent's values as we walk down (loaded lazily). */
static int cpuset_inherit(int parentfd, int childfd, bool created, void *data, berth_error_t **err)
{
        struct cpuset_vals *parent = data, own = { .loaded = true };
        int ret;

        if (!created && (ret = cpuset_read(childfd, &own, err)) < 0)
                return ret;
        if (own.cpus[0] && own.mems[0]) {
                *parent = own; /* the next level inherits from this one */
                return 0;
        }
        if (!parent->loaded && (ret = cpuset_read(parentfd, parent, err)) < 0)
                return ret;
        if (!own.cpus[0] && (ret = cg_write(childfd, "cpuset.cpus", parent->cpus, err)) < 0)
                return ret;
        if (!own.mems[0] && (ret = cg_write(childfd, "cpuset.mems", parent->mems, err)) < 0)
                return ret;
        if (own.cpus[0])
                memcpy(parent->cpus, own.cpus, sizeof(own.cpus));
        if (own.mems[0])
                memcpy(parent->mems, own.mems, sizeof(own.mems));
        return 0;
}

int cg_v1_create(struct cgroup *cg, size_t i, int *first_new, berth_error_t **err)
{
        const struct cg_hierarchy *hier = &cg->host->v1[i];
        struct cpuset_vals w = { .loaded = false };
        struct cg_walk_hook hook = { .at_child = cpuset_inherit, .data = &w };
        bool cpuset = hier->ctrls & CG_BIT(CG_CPUSET);
        int fd = cg_mkdir_path(hier->rootfd, cg->rel, cpuset ? &hook : NULL, first_new, err);

        if (fd < 0)
                return berth_error_wrap(err, "%s", hier->mountpoint);
        cg->v1fd[i] = fd;
        return 0;
}

/* ---- memory ---- */

#define MEM_LIMIT "memory.limit_in_bytes"
#define MEMSW_LIMIT "memory.memsw.limit_in_bytes"

/* Without swap accounting there is no memsw file; asking for "no more
 * swap than memory" or "unlimited" is then harmless, anything else is a
 * limit we cannot enforce. */
static int check_no_memsw(struct cg_i64 *swap, struct cg_i64 limit, berth_error_t **err)
{
        if (swap->v != -1 && !(limit.set && swap->v == limit.v))
                return berth_error(err, 0, "memory.swap=%" PRId64 ": swap limit not supported "
                                   "(no %s: swap accounting is off)", swap->v, MEMSW_LIMIT);
        swap->set = false;
        return 0;
}

/* The kernel wants limit <= memsw at every moment, so the order of the
 * two writes depends on old and new values: try the limit first, and if
 * the kernel says EINVAL (new limit above the old memsw), memsw first. */
static int set_limit_and_swap(int fd, struct cg_i64 limit, struct cg_i64 swap, berth_error_t **err)
{
        int ret;

        if (!swap.set)
                return limit.set ? cg_write_i64(fd, MEM_LIMIT, limit.v, err) : 0;
        if (!limit.set)
                return cg_write_i64(fd, MEMSW_LIMIT, swap.v, err);
        ret = cg_write_i64(fd, MEM_LIMIT, limit.v, err);
        if (ret == -EINVAL) {
                berth_error_free(err);
                ret = cg_write_i64(fd, MEMSW_LIMIT, swap.v, err);
                return ret < 0 ? ret : cg_write_i64(fd, MEM_LIMIT, limit.v, err);
        }
        return ret < 0 ? ret : cg_write_i64(fd, MEMSW_LIMIT, swap.v, err);
}

static int v1_limit_and_swap(int fd, const struct cg_resources *r, berth_error_t **err)
{
        struct cg_i64 limit = r->mem.limit, swap = r->mem.swap;
        int ret;

        /* 0 means "not set", as in runc */
        limit.set = limit.set && limit.v != 0;
        swap.set = swap.set && swap.v != 0;
        /* Unlimited memory with swap unsaid means unlimited swap too, or
         * the old memsw would stay below the new limit. */
        if (limit.set && limit.v == -1 && !swap.set)
                swap = (struct cg_i64){ true, -1 };
        if (swap.set && faccessat(fd, MEMSW_LIMIT, F_OK, 0) < 0 &&
            (ret = check_no_memsw(&swap, limit, err)) < 0)
                return ret;
        return set_limit_and_swap(fd, limit, swap, err);
}

int cg_v1_memory(int fd, const struct cg_resources *r, berth_error_t **err)
{
        int ret = v1_limit_and_swap(fd, r, err);

        if (ret == 0 && r->mem.reservation.set && r->mem.reservation.v != 0)
                ret = cg_write_i64(fd, "memory.soft_limit_in_bytes", r->mem.reservation.v, err);
        /* -1 is how Docker says "leave swappiness alone" */
        if (ret == 0 && r->mem.swappiness.set && r->mem.swappiness.v != -1)
                ret = cg_write_i64(fd, "memory.swappiness", r->mem.swappiness.v, err);
        /* only ever switched on, as runc does: false is the default */
        if (ret == 0 && r->mem.disable_oom.set && r->mem.disable_oom.v)
                ret = cg_write(fd, "memory.oom_control", "1", err);
        return ret;
}

/* ---- cpu ---- */

/* runc's order: period first; if the kernel refuses it (EINVAL: old
 * quota over new period exceeds the parent's), set quota and retry. */
static int v1_cfs(int fd, struct cg_i64 quota, struct cg_i64 period, berth_error_t **err)
{
        bool period_pending = false;
        int ret;

        quota.set = quota.set && quota.v != 0;
        if (period.set && period.v != 0) {
                ret = cg_write_i64(fd, "cpu.cfs_period_us", period.v, err);
                if (ret < 0 && (ret != -EINVAL || !quota.set))
                        return ret;
                period_pending = ret < 0;
                if (period_pending)
                        berth_error_free(err);
        }
        if (!quota.set)
                return 0;
        ret = cg_write_i64(fd, "cpu.cfs_quota_us", quota.v, err);
        if (ret == 0 && period_pending)
                ret = cg_write_i64(fd, "cpu.cfs_period_us", period.v, err);
        return ret;
}

int cg_v1_cpu(int fd, const struct cg_resources *r, berth_error_t **err)
{
        int ret = 0;

        if (r->cpu.shares.set && r->cpu.shares.v != 0)
                ret = cg_write_i64(fd, "cpu.shares", r->cpu.shares.v, err);
        if (ret == 0)
                ret = v1_cfs(fd, r->cpu.quota, r->cpu.period, err);
        if (ret == 0 && r->cpu.burst.set)
                ret = cg_write_optional(fd, "cpu.cfs_burst_us", r->cpu.burst.v, err);
        if (ret == 0 && r->cpu.idle.set)
                ret = cg_write_optional(fd, "cpu.idle", r->cpu.idle.v, err);
        /* period before runtime, so a runtime within the new period fits */
        if (ret == 0 && r->cpu.rt_period.set && r->cpu.rt_period.v != 0)
                ret = cg_write_optional(fd, "cpu.rt_period_us", r->cpu.rt_period.v, err);
        if (ret == 0 && r->cpu.rt_runtime.set && r->cpu.rt_runtime.v != 0)
                ret = cg_write_optional(fd, "cpu.rt_runtime_us", r->cpu.rt_runtime.v, err);
        return ret;
}

/* ---- blkio ---- */

/* Kernels with BFQ and no CFQ only have the blkio.bfq.* weight files. */
static int write_weight(int fd, const char *file, const char *bfq_file, const char *value,
                        berth_error_t **err)
{
        if (faccessat(fd, file, F_OK, 0) < 0 && faccessat(fd, bfq_file, F_OK, 0) == 0)
                file = bfq_file;
        return cg_write(fd, file, value, err);
}

static int v1_weight_device(int fd, json_t *list, berth_error_t **err)
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
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, w);
                if (w_set && (ret = write_weight(fd, "blkio.weight_device", "blkio.bfq.weight_device", buf, err)) < 0)
                        return ret;
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, lw);
                if (lw_set && (ret = cg_write(fd, "blkio.leaf_weight_device", buf, err)) < 0)
                        return ret;
        }
        return 0;
}

static int v1_throttle(int fd, json_t *list, const char *name, const char *file, berth_error_t **err)
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
                snprintf(buf, sizeof(buf), "%" PRId64 ":%" PRId64 " %" PRId64, maj, min, rate);
                if ((ret = cg_write(fd, file, buf, err)) < 0)
                        return ret;
        }
        return 0;
}

int cg_v1_blkio(int fd, const struct cg_resources *r, berth_error_t **err)
{
        static const char *const files[4] = {
                "blkio.throttle.read_bps_device", "blkio.throttle.write_bps_device",
                "blkio.throttle.read_iops_device", "blkio.throttle.write_iops_device",
        };
        char buf[32];
        int ret = 0;

        if (r->blkio.weight.set && r->blkio.weight.v != 0) {
                snprintf(buf, sizeof(buf), "%" PRId64, r->blkio.weight.v);
                ret = write_weight(fd, "blkio.weight", "blkio.bfq.weight", buf, err);
        }
        if (ret == 0 && r->blkio.leaf_weight.set && r->blkio.leaf_weight.v != 0)
                ret = cg_write_optional(fd, "blkio.leaf_weight", r->blkio.leaf_weight.v, err);
        if (ret == 0)
                ret = v1_weight_device(fd, r->blkio.weight_device, err);
        for (int i = 0; i < 4 && ret == 0; i++)
                ret = v1_throttle(fd, r->blkio.throttle[i], cg_throttle_names[i], files[i], err);
        return ret;
}

/* ---- hugetlb ---- */

int cg_v1_hugetlb(int fd, const struct cg_resources *r, berth_error_t **err)
{
        return cg_set_hugetlb(fd, r, "limit_in_bytes", "rsvd.limit_in_bytes", cg_write_i64, err);
}

/* ---- devices ---- */

int cg_parse_dev_rule(json_t *e, struct cg_dev_rule *d, berth_error_t **err)
{
        json_t *allow = json_object_get(e, "allow");
        const char *type = json_string_value(json_object_get(e, "type"));
        json_t *maj = json_object_get(e, "major"), *min = json_object_get(e, "minor");

        d->access = json_string_value(json_object_get(e, "access"));
        if (!json_is_object(e) || !json_is_boolean(allow))
                return berth_error(err, 0, "devices: each rule needs a boolean \"allow\"");
        d->allow = json_is_true(allow);
        d->type = type && *type ? type[0] : 'a';
        d->major = json_is_integer(maj) ? json_integer_value(maj) : -1;
        d->minor = json_is_integer(min) ? json_integer_value(min) : -1;
        if (d->access == NULL || *d->access == '\0')
                d->access = "rwm";
        if (!strchr("abc", d->type) || (type && *type && strlen(type) != 1) ||
            strspn(d->access, "rwm") != strlen(d->access))
                return berth_error(err, 0, "devices: bad rule type \"%s\" access \"%s\"",
                                   type ? type : "", d->access);
        return 0;
}

static void dev_num(char *buf, size_t size, int64_t n)
{
        if (n < 0)
                snprintf(buf, size, "*");
        else
                snprintf(buf, size, "%" PRId64, n);
}

/* Rules are applied in order, as the kernel's own list would be.  Type
 * "a" means every device whatever else the rule says; writing "a" to
 * devices.deny clears the allow list (the usual first rule: deny all). */
int cg_v1_devices(int fd, const struct cg_resources *r, berth_error_t **err)
{
        size_t i;
        json_t *e;

        json_array_foreach(r->devices, i, e) {
                struct cg_dev_rule d = { 0 };
                char maj[24], min[24], buf[80];
                int ret = cg_parse_dev_rule(e, &d, err);

                if (ret < 0)
                        return ret;
                dev_num(maj, sizeof(maj), d.major);
                dev_num(min, sizeof(min), d.minor);
                if (d.type == 'a')
                        snprintf(buf, sizeof(buf), "a");
                else
                        snprintf(buf, sizeof(buf), "%c %s:%s %s", d.type, maj, min, d.access);
                ret = cg_write(fd, d.allow ? "devices.allow" : "devices.deny", buf, err);
                if (ret < 0)
                        return ret;
        }
        return 0;
}

/* ---- network ---- */

int cg_v1_net_cls(int fd, const struct cg_resources *r, berth_error_t **err)
{
        if (!r->net.class_id.set)
                return 0;
        return cg_write_i64(fd, "net_cls.classid", r->net.class_id.v, err);
}

int cg_v1_net_prio(int fd, const struct cg_resources *r, berth_error_t **err)
{
        size_t i;
        json_t *e;

        json_array_foreach(r->net.priorities, i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                json_t *prio = json_object_get(e, "priority");
                char buf[128];
                int ret;

                if (name == NULL || *name == '\0' || strpbrk(name, " \n/") || !json_is_integer(prio))
                        return berth_error(err, 0, "network.priorities: each entry needs an interface name and an integer priority");
                snprintf(buf, sizeof(buf), "%s %" JSON_INTEGER_FORMAT, name, json_integer_value(prio));
                if ((ret = cg_write(fd, "net_prio.ifpriomap", buf, err)) < 0)
                        return ret;
        }
        return 0;
}

/* ---- freezer ---- */

#define FREEZE_TIMEOUT_MS 2000

/* Tasks can hold the freezer in FREEZING (e.g. in vfork or an
 * uninterruptible sleep); writing FROZEN again retries them. */
int cg_v1_freeze(int fd, bool frozen, berth_error_t **err)
{
        const char *want = frozen ? "FROZEN" : "THAWED";
        uint64_t deadline = cg_now_ms() + FREEZE_TIMEOUT_MS;
        unsigned step = 0;
        char state[32];
        int ret;

        for (;;) {
                if ((ret = cg_write(fd, "freezer.state", want, err)) < 0 ||
                    (ret = cg_read(fd, "freezer.state", state, sizeof(state), err)) < 0)
                        return ret;
                if (strcmp(state, want) == 0)
                        return 0;
                if (cg_now_ms() > deadline)
                        break;
                cg_backoff(&step);
        }
        if (frozen)
                cg_write(fd, "freezer.state", "THAWED", NULL); /* not half-frozen */
        return berth_error(err, EBUSY, "freezer.state still %s after %d ms", state, FREEZE_TIMEOUT_MS);
}

bool cg_v1_is_frozen(int fd)
{
        char state[32];

        return cg_read(fd, "freezer.state", state, sizeof(state), NULL) == 0 &&
               strcmp(state, "FROZEN") == 0;
}

/* ---- stats ---- */

/* v1 reports "no limit" as the largest page-aligned long (~2^63). */
#define V1_UNLIMITED (UINT64_C(1) << 62)

/* The controller's directory if a v1 hierarchy holds it. */
static int v1_fd(const struct cgroup *cg, enum cg_ctrl c)
{
        bool v2;
        int fd = cg_ctrl_fd(cg, c, &v2);

        return v2 ? -1 : fd;
}

int cg_v1_stats(const struct cgroup *cg, struct cgroup_stats *st, berth_error_t **err)
{
        int mem = v1_fd(cg, CG_MEMORY), acct = v1_fd(cg, CG_CPUACCT), pids = v1_fd(cg, CG_PIDS);
        int ret;

        if ((ret = cg_stat(mem, "memory.usage_in_bytes", NULL, &st->memory_usage, err)) < 0 ||
            (ret = cg_stat(mem, "memory.max_usage_in_bytes", NULL, &st->memory_peak, err)) < 0 ||
            (ret = cg_stat(mem, MEM_LIMIT, NULL, &st->memory_limit, err)) < 0 ||
            (ret = cg_stat(mem, "memory.oom_control", "oom_kill", &st->oom_kill_events, err)) < 0 ||
            (ret = cg_stat(acct, "cpuacct.usage", NULL, &st->cpu_usage_ns, err)) < 0 ||
            (ret = cg_stat(pids, "pids.current", NULL, &st->pids_current, err)) < 0 ||
            (ret = cg_stat(pids, "pids.max", NULL, &st->pids_limit, err)) < 0)
                return ret;
        if (st->memory_limit >= V1_UNLIMITED)
                st->memory_limit = UINT64_MAX;
        return 0;
}
