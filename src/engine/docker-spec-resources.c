/* linux.resources: memory, CPU, pids and block I/O limits from HostConfig,
 * with Docker's checks and messages, so a bad limit fails at create rather
 * than as a cgroup write error at start. */
#include "engine/docker-spec-internal.h"
#include <limits.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

/* Below this a container cannot even start its runtime (Docker 25+). */
#define MIN_MEMORY (6LL << 20)
#define CFS_PERIOD 100000LL     /* Docker's period for NanoCpus, in us */
#define NANO 1000000000LL

struct limits {
        long long memory, swap, reservation, kmem, nano, shares, quota, period, rt_period, rt_runtime, pids;
        long long swappiness;   /* -1: unset */
        bool oom_kill_disable;
        const char *cpus, *mems;
};

static int read_limits(json_t *hc, struct limits *l, berth_error_t **err)
{
        static const struct { const char *key; size_t off; } ints[] = {
                { "Memory", offsetof(struct limits, memory) },
                { "MemorySwap", offsetof(struct limits, swap) },
                { "MemoryReservation", offsetof(struct limits, reservation) },
                { "KernelMemory", offsetof(struct limits, kmem) },
                { "NanoCpus", offsetof(struct limits, nano) },
                { "CpuShares", offsetof(struct limits, shares) },
                { "CpuQuota", offsetof(struct limits, quota) },
                { "CpuPeriod", offsetof(struct limits, period) },
                { "CpuRealtimePeriod", offsetof(struct limits, rt_period) },
                { "CpuRealtimeRuntime", offsetof(struct limits, rt_runtime) },
                { "PidsLimit", offsetof(struct limits, pids) },
        };
        json_t *sw = dj_get(hc, "MemorySwappiness");
        int ret;

        for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
                if ((ret = dj_int(hc, "HostConfig.", ints[i].key, (long long *)((char *)l + ints[i].off), err)) < 0)
                        return ret;
        if ((ret = dj_bool(hc, "HostConfig.", "OomKillDisable", &l->oom_kill_disable, err)) < 0 ||
            (ret = dj_string(hc, "HostConfig.", "CpusetCpus", &l->cpus, err)) < 0 ||
            (ret = dj_string(hc, "HostConfig.", "CpusetMems", &l->mems, err)) < 0)
                return ret;
        if ((ret = dj_int(hc, "HostConfig.", "MemorySwappiness", &l->swappiness, err)) < 0)
                return ret;
        if (sw == NULL || json_is_null(sw))
                l->swappiness = -1;
        return 0;
}

static int check_memory(const struct limits *l, berth_error_t **err)
{
        if (l->memory != 0 && l->memory < MIN_MEMORY)
                return berth_error(err, 0, "HostConfig.Memory: Minimum memory limit allowed is 6MB");
        if (l->swap < -1)
                return berth_error(err, 0, "HostConfig.MemorySwap: invalid value %lld (-1 is unlimited)", l->swap);
        if (l->swap > 0 && l->memory == 0)
                return berth_error(err, 0, "HostConfig.MemorySwap: You should always set the Memory limit when using "
                                   "Memoryswap limit, see usage");
        if (l->memory > 0 && l->swap > 0 && l->swap < l->memory)
                return berth_error(err, 0, "HostConfig.MemorySwap: Minimum memoryswap limit should be larger than "
                                   "memory limit, see usage");
        if (l->reservation < 0 || (l->reservation > 0 && l->reservation < MIN_MEMORY))
                return berth_error(err, 0, "HostConfig.MemoryReservation: Minimum memory reservation allowed is 6MB");
        if (l->memory > 0 && l->reservation > 0 && l->memory < l->reservation)
                return berth_error(err, 0, "HostConfig.MemoryReservation: Minimum memory limit can not be less than "
                                   "memory reservation limit, see usage");
        if (l->swappiness != -1 && (l->swappiness < 0 || l->swappiness > 100))
                return berth_error(err, 0, "HostConfig.MemorySwappiness: Invalid value: %lld, valid memory swappiness "
                                   "range is 0-100", l->swappiness);
        return 0;
}

static void memory(struct spec_ctx *ctx, const struct limits *l, json_t *res)
{
        json_t *m = must(json_object());

        if (l->memory > 0) {
                json_object_set_new(m, "limit", must(json_integer(l->memory)));
                /* Docker: no MemorySwap means as much swap as memory */
                if (l->swap == 0)
                        json_object_set_new(m, "swap", must(json_integer(l->memory > LLONG_MAX / 2 ? -1 : 2 * l->memory)));
        }
        if (l->swap != 0)
                json_object_set_new(m, "swap", must(json_integer(l->swap)));
        if (l->reservation > 0)
                json_object_set_new(m, "reservation", must(json_integer(l->reservation)));
        if (l->swappiness >= 0)
                json_object_set_new(m, "swappiness", must(json_integer(l->swappiness)));
        if (l->oom_kill_disable)
                json_object_set_new(m, "disableOOMKiller", json_true());
        if (l->kmem != 0)
                spec_warn(ctx, "Kernel memory limits are not supported: HostConfig.KernelMemory ignored");
        if (l->oom_kill_disable && l->memory == 0)
                spec_warn(ctx, "OOM killer is disabled for the container, but no memory limit is set, this can result "
                               "in the system running out of resources.");
        if (json_object_size(m) > 0)
                json_object_set_new(res, "memory", m);
        else
                json_decref(m);
}

/* "0-3,5": numbers and ranges, comma-separated (cpuset's list format). */
static bool cpuset_valid(const char *s)
{
        while (*s) {
                const char *p = s;
                long long lo, hi;
                char *end;

                if (*p < '0' || *p > '9')
                        return false;
                lo = hi = strtoll(p, &end, 10);
                if (*end == '-') {
                        if (end[1] < '0' || end[1] > '9')
                                return false;
                        hi = strtoll(end + 1, &end, 10);
                }
                if (lo > hi || hi > 65535 || (*end != ',' && *end != '\0') || (*end == ',' && end[1] == '\0'))
                        return false;
                s = *end ? end + 1 : end;
        }
        return true;
}

static int check_cpu(const struct limits *l, berth_error_t **err)
{
        if (l->nano < 0 || (l->nano > 0 && l->nano < NANO / 100) || l->nano > 1000000 * NANO)
                return berth_error(err, 0, "HostConfig.NanoCpus: %lld is out of range (0.01 CPU is 10000000)", l->nano);
        if (l->nano > 0 && l->period > 0)
                return berth_error(err, 0, "Conflicting options: Nano CPUs and CPU Period cannot both be set");
        if (l->nano > 0 && l->quota > 0)
                return berth_error(err, 0, "Conflicting options: Nano CPUs and CPU Quota cannot both be set");
        if (l->period != 0 && (l->period < 1000 || l->period > 1000000))
                return berth_error(err, 0, "HostConfig.CpuPeriod: CPU cfs period can not be less than 1ms (i.e. 1000) "
                                   "or larger than 1s (i.e. 1000000)");
        if (l->quota > 0 && l->quota < 1000)
                return berth_error(err, 0, "HostConfig.CpuQuota: CPU cfs quota can not be less than 1ms (i.e. 1000)");
        if (l->shares < 0)
                return berth_error(err, 0, "HostConfig.CpuShares: must not be negative");
        if (l->rt_period < 0 || l->rt_runtime < 0)
                return berth_error(err, 0, "HostConfig.CpuRealtimePeriod, CpuRealtimeRuntime: must not be negative");
        if (l->rt_period > 0 && l->rt_runtime > l->rt_period)
                return berth_error(err, 0, "HostConfig.CpuRealtimeRuntime: cpu-rt-runtime cannot be higher than "
                                   "cpu-rt-period");
        if (!cpuset_valid(l->cpus)) {
                _cleanup_free_ char *q = printable(l->cpus);
                return berth_error(err, 0, "HostConfig.CpusetCpus: Invalid value %s for cpuset cpus", q);
        }
        if (!cpuset_valid(l->mems)) {
                _cleanup_free_ char *q = printable(l->mems);
                return berth_error(err, 0, "HostConfig.CpusetMems: Invalid value %s for cpuset mems", q);
        }
        return 0;
}

static void set_if(json_t *o, const char *key, long long v)
{
        if (v > 0)
                json_object_set_new(o, key, must(json_integer(v)));
}

static void cpu(const struct limits *l, json_t *res)
{
        json_t *c = must(json_object());

        set_if(c, "shares", l->shares);
        if (l->nano > 0) {
                json_object_set_new(c, "quota", must(json_integer(l->nano * CFS_PERIOD / NANO)));
                json_object_set_new(c, "period", must(json_integer(CFS_PERIOD)));
        }
        set_if(c, "quota", l->quota);
        set_if(c, "period", l->period);
        set_if(c, "realtimeRuntime", l->rt_runtime);
        set_if(c, "realtimePeriod", l->rt_period);
        if (l->cpus[0])
                json_object_set_new(c, "cpus", must(json_string(l->cpus)));
        if (l->mems[0])
                json_object_set_new(c, "mems", must(json_string(l->mems)));
        if (json_object_size(c) > 0)
                json_object_set_new(res, "cpu", c);
        else
                json_decref(c);
}

/* A block device's numbers, for the per-device blkio limits. */
static int block_device(const char *field, const char *path, json_t **out, berth_error_t **err)
{
        struct stat st;
        _cleanup_free_ char *q = printable(path);

        if (stat(path, &st) < 0)
                return berth_error(err, errno, "%s: stat %s", field, q);
        if (!S_ISBLK(st.st_mode))
                return berth_error(err, 0, "%s: %s is not a block device", field, q);
        *out = must(json_pack("{s:I, s:I}", "major", (json_int_t)major(st.st_rdev), "minor",
                              (json_int_t)minor(st.st_rdev)));
        return 0;
}

/* [{"Path": "/dev/sda", "Weight": 500}] or [{"Path": ..., "Rate": N}] */
static int device_limits(json_t *hc, const char *key, const char *value_key, const char *oci_key, json_t *blkio,
                         berth_error_t **err)
{
        json_t *list, *d, *out = NULL;
        size_t i;
        int ret;

        if ((ret = dj_array(hc, "HostConfig.", key, &list, err)) < 0 || json_array_size(list) == 0)
                return ret;
        out = must(json_array());
        json_object_set_new(blkio, oci_key, out);
        json_array_foreach(list, i, d) {
                _cleanup_free_ char *field = xasprintf("HostConfig.%s[%zu]", key, i), *where = xasprintf("%s.", field);
                const char *path;
                long long v;
                json_t *dev = NULL;
                if (!json_is_object(d))
                        return berth_error(err, 0, "%s: expected an object", field);
                if ((ret = dj_string(d, where, "Path", &path, err)) < 0 || (ret = dj_int(d, where, value_key, &v, err)) < 0)
                        return ret;
                if (v < 0 || (strcmp(value_key, "Weight") == 0 && (v < 10 || v > 1000)))
                        return berth_error(err, 0, "%s: invalid %s %lld", field, value_key, v);
                if ((ret = block_device(field, path, &dev, err)) < 0)
                        return ret;
                json_object_set_new(dev, strcmp(value_key, "Weight") == 0 ? "weight" : "rate", must(json_integer(v)));
                json_array_append_new(out, dev);
        }
        return 0;
}

static int blkio(json_t *hc, json_t *res, berth_error_t **err)
{
        static const struct { const char *key, *value, *oci; } per_device[] = {
                { "BlkioWeightDevice", "Weight", "weightDevice" },
                { "BlkioDeviceReadBps", "Rate", "throttleReadBpsDevice" },
                { "BlkioDeviceWriteBps", "Rate", "throttleWriteBpsDevice" },
                { "BlkioDeviceReadIOps", "Rate", "throttleReadIOPSDevice" },
                { "BlkioDeviceWriteIOps", "Rate", "throttleWriteIOPSDevice" },
        };
        json_t *b = must(json_object());
        long long weight;
        int ret;

        json_object_set_new(res, "blockIO", b);
        if ((ret = dj_int(hc, "HostConfig.", "BlkioWeight", &weight, err)) < 0)
                return ret;
        if (weight != 0 && (weight < 10 || weight > 1000))
                return berth_error(err, 0, "HostConfig.BlkioWeight: Range of blkio weight is from 10 to 1000");
        set_if(b, "weight", weight);
        for (size_t i = 0; i < ARRAY_SIZE(per_device); i++)
                if ((ret = device_limits(hc, per_device[i].key, per_device[i].value, per_device[i].oci, b, err)) < 0)
                        return ret;
        if (json_object_size(b) == 0)
                json_object_del(res, "blockIO");
        return 0;
}

int spec_resources(struct spec_ctx *ctx, berth_error_t **err)
{
        json_t *res = must(json_object());
        struct limits l = { 0 };
        int ret;

        json_object_set_new(json_object_get(ctx->spec, "linux"), "resources", res);
        if ((ret = read_limits(ctx->hc, &l, err)) < 0 || (ret = check_memory(&l, err)) < 0 ||
            (ret = check_cpu(&l, err)) < 0)
                return ret;
        memory(ctx, &l, res);
        cpu(&l, res);
        if (l.pids > 0)         /* Docker: 0 and -1 both mean unlimited */
                json_object_set_new(res, "pids", must(json_pack("{s:I}", "limit", (json_int_t)l.pids)));
        if ((ret = blkio(ctx->hc, res, err)) < 0)
                return ret;
        return spec_devices(ctx, res, err);
}
