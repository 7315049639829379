/* docker stats: the container's cgroup accounting in the API's shape, with
 * the previous sample as precpu_stats so the CLI can compute CPU%. */
#include "engine/engine-internal.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include <stdio.h>
#include <time.h>

/* All CPUs' time since boot, in nanoseconds (/proc/stat's cpu line). */
static uint64_t system_cpu_ns(void)
{
        _cleanup_fclose_ FILE *f = fopen("/proc/stat", "re");
        unsigned long long v[8] = { 0 }, total = 0;

        if (f == NULL || fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4],
                                &v[5], &v[6], &v[7]) < 4)
                return 0;
        for (int i = 0; i < 8; i++)
                total += v[i];
        return (uint64_t)total * (1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
}

struct sample {
        struct cgroup_stats cg;
        uint64_t system_ns;
        char *read;
};

static int take(struct engine *e, const char *id, struct sample *s, berth_error_t **err)
{
        memset(s, 0, sizeof(*s));
        if (container_stats(e->runtime_root, id, &s->cg, err) < 0)
                return -1;
        s->system_ns = system_cpu_ns();
        s->read = now_rfc3339();
        return 0;
}

static json_t *cpu_json(const struct sample *s)
{
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        return json_pack("{s:{s:I, s:I, s:I}, s:I, s:i, s:{s:i, s:i, s:i}}", "cpu_usage", "total_usage",
                         (json_int_t)s->cg.cpu_usage_ns, "usage_in_kernelmode", (json_int_t)0, "usage_in_usermode",
                         (json_int_t)0, "system_cpu_usage", (json_int_t)s->system_ns, "online_cpus", (int)cpus,
                         "throttling_data", "periods", 0, "throttled_periods", 0, "throttled_time", 0);
}

static json_int_t limit_or_host(uint64_t v)
{
        if (v != UINT64_MAX && v != 0)
                return (json_int_t)v;
        return (json_int_t)sysconf(_SC_PHYS_PAGES) * (json_int_t)sysconf(_SC_PAGESIZE);
}

/* The container's interfaces but lo, from /proc/<pid>/net/dev (which
 * shows the namespace of that process), as dockerd's "networks". */
static json_t *networks_json(pid_t pid)
{
        _cleanup_free_ char *path = xasprintf("/proc/%d/net/dev", (int)pid);
        _cleanup_fclose_ FILE *f = pid > 0 ? fopen(path, "re") : NULL;
        json_t *out = json_object();
        char line[512];

        while (f && fgets(line, sizeof(line), f)) {
                char ifname[32];
                unsigned long long v[16];
                char *colon = strchr(line, ':');
                if (colon == NULL || sscanf(line, " %31[^:]", ifname) != 1 || strcmp(ifname, "lo") == 0)
                        continue;
                if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
                           &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9], &v[10], &v[11],
                           &v[12], &v[13], &v[14], &v[15]) != 16)
                        continue;
                json_object_set_new(out, ifname,
                                    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_bytes",
                                              (json_int_t)v[0], "rx_packets", (json_int_t)v[1], "rx_errors",
                                              (json_int_t)v[2], "rx_dropped", (json_int_t)v[3], "tx_bytes",
                                              (json_int_t)v[8], "tx_packets", (json_int_t)v[9], "tx_errors",
                                              (json_int_t)v[10], "tx_dropped", (json_int_t)v[11]));
        }
        return out;
}

static json_t *stats_json(struct ctr *c, const struct sample *now, const struct sample *prev)
{
        _cleanup_free_ char *name = xasprintf("/%s", c->name);
        return json_pack("{s:s, s:s, s:{s:I, s:I}, s:o, s:o, s:{s:I, s:I, s:I, s:{s:I}}, s:{}, s:s, s:s, s:o}",
                         "read", now->read, "preread", prev ? prev->read : "0001-01-01T00:00:00Z", "pids_stats",
                         "current", (json_int_t)now->cg.pids_current, "limit",
                         (json_int_t)(now->cg.pids_limit == UINT64_MAX ? 0 : now->cg.pids_limit), "cpu_stats",
                         cpu_json(now), "precpu_stats", prev ? cpu_json(prev) : json_object(), "memory_stats",
                         "usage", (json_int_t)now->cg.memory_usage, "max_usage", (json_int_t)now->cg.memory_peak,
                         "limit", limit_or_host(now->cg.memory_limit), "stats", "inactive_file", (json_int_t)0,
                         "blkio_stats", "name", name, "id", c->id, "networks", networks_json(c->pid));
}

int engine_container_stats(struct engine *e, const char *name, bool stream, engine_json_fn emit, void *data,
                           berth_error_t **err)
{
        struct sample prev = { 0 }, now = { 0 };
        struct ctr *c;
        int r = 0;

        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        bool running = c->status == CTR_RUNNING || c->status == CTR_PAUSED;
        if (!running) {
                /* docker answers zeros for a stopped container */
                json_t *zero = json_pack("{s:s, s:s, s:s, s:{}, s:{}, s:{}, s:{}}", "read", "0001-01-01T00:00:00Z",
                                         "name", c->name, "id", c->id, "cpu_stats", "precpu_stats", "memory_stats",
                                         "pids_stats");
                emit(data, zero);
                ctr_unref(c);
                return 0;
        }
        if (take(e, c->id, &prev, err) < 0) {
                ctr_unref(c);
                return -1;
        }
        for (;;) {
                /* a short first interval for one-shot stats: the CLI only
                 * needs two samples to compute CPU% */
                struct timespec ts = { stream ? 1 : 0, stream ? 0 : 200 * 1000 * 1000 };
                nanosleep(&ts, NULL);
                if (take(e, c->id, &now, NULL) < 0)
                        break;
                r = emit(data, stats_json(c, &now, &prev));
                free(prev.read);
                prev = now;
                now.read = NULL;
                if (r < 0 || !stream)
                        break;
        }
        free(prev.read);
        ctr_unref(c);
        return 0;
}
