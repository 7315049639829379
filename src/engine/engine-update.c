/* docker update: new limits and restart policy for a container.  They go
 * into its HostConfig (what inspect shows, what the record keeps), into
 * its config.json (what the next start uses), and, while it runs, into its
 * cgroup through the runtime library.  As dockerd, 0 (or "") in the body
 * means "unchanged". */
#include "engine/docker-spec.h"
#include "engine/engine-internal.h"
#include "runtime/container.h"

static inline void json_decref_p(json_t **j) { json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(json_decref_p)))

static const char *const int_fields[] = {
        "BlkioWeight", "CpuShares",   "NanoCpus",     "CpuPeriod",         "CpuQuota",          "Memory",
        "MemorySwap",  "MemoryReservation", "KernelMemory", "CpuRealtimePeriod", "CpuRealtimeRuntime",
};
static const char *const string_fields[] = { "CpusetCpus", "CpusetMems" };

/* Every HostConfig field linux.resources is made from (docker-spec-resources.c). */
static const char *const resource_fields[] = {
        "Memory",           "MemorySwap",          "MemoryReservation",   "KernelMemory",        "NanoCpus",
        "CpuShares",        "CpuQuota",            "CpuPeriod",           "CpuRealtimePeriod",   "CpuRealtimeRuntime",
        "PidsLimit",        "MemorySwappiness",    "OomKillDisable",      "CpusetCpus",          "CpusetMems",
        "BlkioWeight",      "BlkioWeightDevice",   "BlkioDeviceReadBps",  "BlkioDeviceWriteBps", "BlkioDeviceReadIOps",
        "BlkioDeviceWriteIOps",
};

/* The linux.resources sections an update owns; the rest (devices, hugepages)
 * stay as create made them. */
static const char *const resource_sections[] = { "memory", "cpu", "pids", "blockIO" };

static long long int_of(json_t *o, const char *key)
{
        return (long long)json_integer_value(json_object_get(o, key));
}

static int check_types(json_t *body, berth_error_t **err)
{
        for (size_t i = 0; i < ARRAY_SIZE(int_fields); i++) {
                json_t *v = json_object_get(body, int_fields[i]);
                if (v && !json_is_integer(v) && !json_is_null(v))
                        return berth_fail(err, EINVAL, "%s: expected an integer", int_fields[i]);
        }
        for (size_t i = 0; i < ARRAY_SIZE(string_fields); i++) {
                json_t *v = json_object_get(body, string_fields[i]);
                if (v && !json_is_string(v) && !json_is_null(v))
                        return berth_fail(err, EINVAL, "%s: expected a string", string_fields[i]);
        }
        json_t *pids = json_object_get(body, "PidsLimit");
        if (pids && !json_is_integer(pids) && !json_is_null(pids))
                return berth_fail(err, EINVAL, "PidsLimit: expected an integer");
        return 0;
}

/* NanoCpus sets the period and quota itself: dockerd refuses to mix them
 * across updates, with these words. */
static int check_cpu_conflicts(json_t *hc, json_t *body, berth_error_t **err)
{
        static const char *const fmt = "Conflicting options: %s cannot be updated as %s has already been set";

        if (int_of(body, "NanoCpus") > 0 && int_of(hc, "CpuPeriod") > 0)
                return berth_fail(err, EBUSY, fmt, "Nano CPUs", "CPU Period");
        if (int_of(body, "NanoCpus") > 0 && int_of(hc, "CpuQuota") > 0)
                return berth_fail(err, EBUSY, fmt, "Nano CPUs", "CPU Quota");
        if (int_of(body, "CpuPeriod") > 0 && int_of(hc, "NanoCpus") > 0)
                return berth_fail(err, EBUSY, fmt, "CPU Period", "NanoCPUs");
        if (int_of(body, "CpuQuota") > 0 && int_of(hc, "NanoCpus") > 0)
                return berth_fail(err, EBUSY, fmt, "CPU Quota", "NanoCPUs");
        return 0;
}

/* cgroup v1 wants memory <= memory+swap.  dockerd refuses a memory limit
 * above the swap limit already set unless swap comes along; it stores the
 * swap it derived at create (twice the memory), so it refuses even where
 * that derived swap would follow.  Berth keeps the body's MemorySwap 0,
 * which follows the memory limit (twice it), so only a swap limit set
 * explicitly can conflict. */
static int check_memory_swap(json_t *hc, json_t *body, berth_error_t **err)
{
        long long mem = int_of(body, "Memory"), swap = int_of(hc, "MemorySwap");

        if (mem != 0 && int_of(body, "MemorySwap") == 0 && swap > 0 && mem > swap)
                return berth_fail(err, EBUSY, "Memory limit should be smaller than already set memoryswap limit, "
                                              "update the memoryswap at the same time");
        return 0;
}

static int merge_restart_policy(struct ctr *c, json_t *hc, json_t *body, berth_error_t **err)
{
        json_t *policy = json_object_get(body, "RestartPolicy");
        const char *name = json_string_value(json_object_get(policy, "Name"));
        json_int_t max = json_integer_value(json_object_get(policy, "MaximumRetryCount"));

        if (name == NULL || *name == '\0')
                return 0;
        if (strcmp(name, "no") != 0 && strcmp(name, "always") != 0 && strcmp(name, "unless-stopped") != 0 &&
            strcmp(name, "on-failure") != 0)
                return berth_fail(err, EINVAL, "invalid restart policy '%s'", name);
        if (max < 0)
                return berth_fail(err, EINVAL, "invalid restart policy: maximum retry count cannot be negative");
        if (max > 0 && strcmp(name, "on-failure") != 0)
                return berth_fail(err, EINVAL, "invalid restart policy: maximum retry count can only be used with "
                                               "'on-failure'");
        if (strcmp(name, "no") != 0 && c->auto_remove)
                return berth_fail(err, EBUSY,
                                  "Restart policy cannot be updated because AutoRemove is enabled for the container");
        json_object_set_new(hc, "RestartPolicy", json_pack("{s:s, s:I}", "Name", name, "MaximumRetryCount", max));
        return 0;
}

/* hc (a copy of the container's HostConfig) with the update applied. */
static int merge(struct ctr *c, json_t *hc, json_t *body, berth_error_t **err)
{
        if (check_types(body, err) < 0 || check_cpu_conflicts(hc, body, err) < 0 ||
            check_memory_swap(hc, body, err) < 0 || merge_restart_policy(c, hc, body, err) < 0)
                return -1;
        for (size_t i = 0; i < ARRAY_SIZE(int_fields); i++)
                if (int_of(body, int_fields[i]) != 0)
                        json_object_set(hc, int_fields[i], json_object_get(body, int_fields[i]));
        for (size_t i = 0; i < ARRAY_SIZE(string_fields); i++) {
                const char *s = json_string_value(json_object_get(body, string_fields[i]));
                if (s && *s)
                        json_object_set_new(hc, string_fields[i], json_string(s));
        }
        /* a pointer in dockerd: present means set, 0 and -1 mean unlimited */
        json_t *pids = json_object_get(body, "PidsLimit");
        if (json_is_integer(pids))
                json_object_set(hc, "PidsLimit", pids);
        return 0;
}

/* linux.resources for hc, made exactly as create makes them (same checks,
 * same messages), from a body that holds only the resource fields. */
static int resources_of(struct ctr *c, json_t *hc, json_t **out, berth_error_t **err)
{
        json_t *rhc = json_pack("{s:s}", "NetworkMode", "none");
        struct docker_spec_info info = { 0 };
        json_t *spec = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(resource_fields); i++)
                if (json_object_get(hc, resource_fields[i]))
                        json_object_set(rhc, resource_fields[i], json_object_get(hc, resource_fields[i]));
        json_t *body = json_pack("{s:[s], s:o}", "Cmd", "true", "HostConfig", rhc);
        struct docker_spec_input in = { .create = body, .id = c->id };
        int r = docker_spec_build(&in, &spec, &info, err);
        json_decref(body);
        if (r < 0) {
                /* a limit the checks refuse is the client's mistake */
                if ((*err)->status == 0)
                        (*err)->status = EINVAL;
                return -1;
        }
        json_t *res = json_object_get(json_object_get(spec, "linux"), "resources");
        *out = json_object();
        for (size_t i = 0; i < ARRAY_SIZE(resource_sections); i++)
                if (json_object_get(res, resource_sections[i]))
                        json_object_set(*out, resource_sections[i], json_object_get(res, resource_sections[i]));
        json_decref(spec);
        docker_spec_info_clear(&info);
        return 0;
}

/* The running cgroup.  A limit the spec leaves out is not written, so a
 * pids limit lifted by the update (0 or -1) is written as "max". */
static int apply_live(struct engine *e, struct ctr *c, json_t *res, json_t *body, berth_error_t **err)
{
        json_t *pids = json_object_get(body, "PidsLimit");
        _cleanup_json_ json_t *live = json_deep_copy(res);

        if (json_is_integer(pids) && json_integer_value(pids) <= 0)
                json_object_set_new(live, "pids", json_pack("{s:i}", "limit", -1));
        return container_update(e->runtime_root, c->id, live, err);
}

/* config.json: the bundle's copy is what the shim creates the container
 * from at the next start. */
static int save_config(struct engine *e, struct ctr *c, json_t *res, berth_error_t **err)
{
        _cleanup_free_ char *dir = ctr_dir(e, c);
        _cleanup_free_ char *path = xasprintf("%s/config.json", dir);
        json_t *lx = json_object_get(c->config, "linux");
        json_t *old = json_object_get(lx, "resources");

        if (lx == NULL)
                return 0;
        if (old == NULL)
                json_object_set_new(lx, "resources", old = json_object());
        for (size_t i = 0; i < ARRAY_SIZE(resource_sections); i++) {
                json_t *v = json_object_get(res, resource_sections[i]);
                if (v)
                        json_object_set(old, resource_sections[i], v);
                else
                        json_object_del(old, resource_sections[i]);
        }
        _cleanup_free_ char *text = json_dumps(c->config, JSON_INDENT(2));
        return write_file_atomic(path, text, strlen(text), err);
}

static int update_locked(struct engine *e, struct ctr *c, json_t *body, berth_error_t **err)
{
        _cleanup_json_ json_t *hc = json_deep_copy(json_object_get(c->body, "HostConfig"));
        _cleanup_json_ json_t *res = NULL;

        if (c->removed || c->status == CTR_REMOVING || c->status == CTR_DEAD)
                return berth_fail(err, EBUSY, "container is marked for removal and cannot be \"update\"");
        if (hc == NULL)
                hc = json_object();
        if (merge(c, hc, body, err) < 0 || resources_of(c, hc, &res, err) < 0)
                return -1;
        /* a restarting container gets them from config.json at its start */
        if ((c->status == CTR_RUNNING || c->status == CTR_PAUSED) && apply_live(e, c, res, body, err) < 0)
                return -1;
        json_object_set(c->body, "HostConfig", hc);
        if (save_config(e, c, res, err) < 0)
                return -1;
        return engine_db_save(e, c, err);
}

int engine_container_update(struct engine *e, const char *name, json_t *body, json_t **warnings, berth_error_t **err)
{
        struct ctr *c;
        int r;

        if (!json_is_object(body))
                return berth_fail(err, EINVAL, "the request body is not a JSON object");
        if (ctr_find(e, name, &c, err) < 0)
                return -1;
        pthread_mutex_lock(&c->lock);
        r = update_locked(e, c, body, err);
        pthread_mutex_unlock(&c->lock);
        if (r < 0 && (*err)->status != EINVAL)
                berth_error_wrap(err, "Cannot update container %s", c->id);
        if (r == 0) {
                engine_container_event(e, c, "update", NULL);
                if (warnings)
                        *warnings = json_array();
        }
        ctr_unref(c);
        return r;
}
