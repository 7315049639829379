/* linux.resources, routed: each part goes to the hierarchy that holds its
 * controller, in v1 or v2 form, and a missing controller is an error only
 * when the part asks for a real limit.  Decoding is in cgroup-decode.c. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"

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
 * part is ignored (devices on v2: an eBPF program, cgroup-v2-devices.c). */
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
        { "devices", CG_DEVICES, want_devices, cg_v1_devices, cg_v2_devices },
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
        /* v2 has no devices controller file: the program goes on the directory */
        if (fd < 0 && a->ctrl == CG_DEVICES && cg->host->mode == CGROUP_MODE_V2 && cg->unified_fd >= 0)
                return cg_v2_devices(cg->unified_fd, r, err);
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
        ret = cg_decode_resources(resources, &r, err);
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

/* hugepageLimits: one file per page size, and its reservation twin where
 * the kernel has one (5.7+), or a reservation would slip past the limit.
 * The versions differ only in file names and how "unlimited" is written. */
int cg_set_hugetlb(int fd, const struct cg_resources *r, const char *limit_suffix, const char *rsvd_suffix,
                   int (*write_limit)(int fd, const char *file, int64_t v, berth_error_t **err),
                   berth_error_t **err)
{
        size_t i;
        json_t *e;

        json_array_foreach(r->hugepages, i, e) {
                _cleanup_free_ char *file = NULL, *rsvd = NULL;
                const char *size;
                int64_t limit;
                int ret = cg_json_hugepage(e, &size, &limit, err);

                if (ret < 0)
                        return ret;
                file = xasprintf("hugetlb.%s.%s", size, limit_suffix);
                if ((ret = write_limit(fd, file, limit, err)) < 0)
                        return ret;
                rsvd = xasprintf("hugetlb.%s.%s", size, rsvd_suffix);
                if (faccessat(fd, rsvd, F_OK, 0) == 0 && (ret = write_limit(fd, rsvd, limit, err)) < 0)
                        return ret;
        }
        return 0;
}
