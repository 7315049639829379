/* linux.resources JSON decoded into struct cg_resources, and the entries
 * of its device-keyed and hugepage lists, so the writers deal with C
 * values only and every type error is reported the same way. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <stddef.h>
#include <string.h>

const char *const cg_throttle_names[4] = {
        "throttleReadBpsDevice", "throttleWriteBpsDevice",
        "throttleReadIOPSDevice", "throttleWriteIOPSDevice",
};

enum field_kind { F_I64, F_STR, F_ARR, F_OBJ };

struct field {
        const char *section; /* NULL: directly in linux.resources */
        const char *key;
        enum field_kind kind;
        size_t off;
};

#define FIELD(sec, key, kind, member) { sec, key, kind, offsetof(struct cg_resources, member) }
static const struct field fields[] = {
        FIELD("memory", "limit", F_I64, mem.limit),
        FIELD("memory", "reservation", F_I64, mem.reservation),
        FIELD("memory", "swap", F_I64, mem.swap),
        FIELD("memory", "swappiness", F_I64, mem.swappiness),
        FIELD("memory", "disableOOMKiller", F_I64, mem.disable_oom),
        FIELD("cpu", "shares", F_I64, cpu.shares),
        FIELD("cpu", "quota", F_I64, cpu.quota),
        FIELD("cpu", "period", F_I64, cpu.period),
        FIELD("cpu", "burst", F_I64, cpu.burst),
        FIELD("cpu", "realtimeRuntime", F_I64, cpu.rt_runtime),
        FIELD("cpu", "realtimePeriod", F_I64, cpu.rt_period),
        FIELD("cpu", "idle", F_I64, cpu.idle),
        FIELD("cpu", "cpus", F_STR, cpuset.cpus),
        FIELD("cpu", "mems", F_STR, cpuset.mems),
        FIELD("pids", "limit", F_I64, pids_limit),
        FIELD("blockIO", "weight", F_I64, blkio.weight),
        FIELD("blockIO", "leafWeight", F_I64, blkio.leaf_weight),
        FIELD("blockIO", "weightDevice", F_ARR, blkio.weight_device),
        FIELD("blockIO", "throttleReadBpsDevice", F_ARR, blkio.throttle[0]),
        FIELD("blockIO", "throttleWriteBpsDevice", F_ARR, blkio.throttle[1]),
        FIELD("blockIO", "throttleReadIOPSDevice", F_ARR, blkio.throttle[2]),
        FIELD("blockIO", "throttleWriteIOPSDevice", F_ARR, blkio.throttle[3]),
        FIELD(NULL, "hugepageLimits", F_ARR, hugepages),
        FIELD(NULL, "devices", F_ARR, devices),
        FIELD("network", "classID", F_I64, net.class_id),
        FIELD("network", "priorities", F_ARR, net.priorities),
        FIELD(NULL, "unified", F_OBJ, unified),
        FIELD(NULL, "rdma", F_OBJ, rdma),
};

static const char *const kind_names[] = { "an integer", "a string", "an array", "an object" };

static bool kind_matches(json_t *v, enum field_kind kind)
{
        switch (kind) {
        case F_I64: return json_is_integer(v) || json_is_boolean(v); /* disableOOMKiller */
        case F_STR: return json_is_string(v);
        case F_ARR: return json_is_array(v);
        case F_OBJ: return json_is_object(v);
        }
        return false;
}

static void store_field(struct cg_resources *r, const struct field *f, json_t *v)
{
        void *slot = (char *)r + f->off;

        switch (f->kind) {
        case F_I64:
                *(struct cg_i64 *)slot = (struct cg_i64){ true,
                        json_is_boolean(v) ? json_is_true(v) : json_integer_value(v) };
                break;
        case F_STR:
                *(const char **)slot = json_string_value(v);
                break;
        case F_ARR:
        case F_OBJ:
                *(json_t **)slot = v;
                break;
        }
}

/* Wrong types are errors, not silently ignored: `update --resources` takes
 * this straight from the user. Unknown keys (memory.kernel, kernelTCP,
 * useHierarchy...) are ignored as runc does. */
int cg_decode_resources(json_t *res, struct cg_resources *r, berth_error_t **err)
{
        *r = (struct cg_resources){ 0 };
        if (!json_is_object(res))
                return berth_error(err, 0, "linux.resources: expected an object");
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                const struct field *f = &fields[i];
                json_t *obj = f->section ? json_object_get(res, f->section) : res;
                json_t *v;

                if (obj == NULL || json_is_null(obj))
                        continue;
                if (!json_is_object(obj))
                        return berth_error(err, 0, "linux.resources.%s: expected an object", f->section);
                v = json_object_get(obj, f->key);
                if (v == NULL || json_is_null(v))
                        continue;
                if (!kind_matches(v, f->kind))
                        return berth_error(err, 0, "linux.resources.%s%s%s: expected %s",
                                           f->section ? f->section : "", f->section ? "." : "", f->key,
                                           kind_names[f->kind]);
                store_field(r, f, v);
        }
        return 0;
}

/* ---- list entries ---- */

static int get_int(json_t *e, const char *key, int64_t *v, bool *set)
{
        json_t *x = json_object_get(e, key);

        *set = x != NULL && !json_is_null(x);
        if (*set && !json_is_integer(x))
                return -1;
        *v = *set ? json_integer_value(x) : 0;
        return 0;
}

int cg_json_dev_entry(json_t *e, const char *list, const char *key, int64_t *major,
                      int64_t *minor, int64_t *value, bool *value_set, berth_error_t **err)
{
        bool maj_set, min_set;

        if (!json_is_object(e) || get_int(e, "major", major, &maj_set) < 0 ||
            get_int(e, "minor", minor, &min_set) < 0 || !maj_set || !min_set || *major < 0 ||
            *minor < 0 || get_int(e, key, value, value_set) < 0)
                return berth_error(err, 0, "%s: each entry needs integer major, minor and %s", list, key);
        return 0;
}

int cg_json_hugepage(json_t *e, const char **size, int64_t *limit, berth_error_t **err)
{
        const char *s = json_string_value(json_object_get(e, "pageSize"));
        bool set;

        if (s == NULL || *s == '\0' || strspn(s, "0123456789KMGTPkmgtpBb") != strlen(s) ||
            get_int(e, "limit", limit, &set) < 0 || !set)
                return berth_error(err, 0, "hugepageLimits: each entry needs pageSize (like \"2MB\") and an integer limit");
        *size = s;
        return 0;
}
