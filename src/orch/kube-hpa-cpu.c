/* CPU use of pods for the HPA, from their containers' cgroups: the
 * cumulative usage (cpuacct.usage, or cpu.stat usage_usec on cgroup v2) is
 * read at every sync, and a pod's use is the difference from the previous
 * sync over the time between them, summed over its containers — what
 * metrics-server serves from the kubelet's cAdvisor, over our sync window
 * instead of its 15 s scrape.  The runtime's container_stats reads the
 * state file and the cgroup directly (no 200 ms sleep, no JSON for the
 * Docker API as engine_container_stats would cost). */
#include "orch/kube-hpa.h"
#include "engine/engine.h"
#include "runtime/cgroup.h"
#include "runtime/container.h"
#include "util/util.h"

#include <string.h>

#define LABEL_UID "io.kubernetes.pod.uid"
#define LABEL_CTR "io.kubernetes.container.name"

struct hpa_cpu {
        json_t *last;           /* container id -> {"ns": usage, "t": ms} */
};

struct hpa_cpu *hpa_cpu_new(void)
{
        struct hpa_cpu *c = xcalloc(1, sizeof(*c));
        c->last = must(json_object());
        return c;
}

void hpa_cpu_free(struct hpa_cpu *c)
{
        if (!c)
                return;
        json_decref(c->last);
        free(c);
}

/* pod uid -> [container id...] for the running containers of pods (not
 * the sandbox: its pause process is not the pod's work). */
static json_t *containers_by_pod(struct engine *e)
{
        json_t *filters = must(json_pack("{s:[s]}", "label", LABEL_UID)), *list = NULL, *out = must(json_object());
        size_t i;
        json_t *v;
        if (engine_container_list(e, false, filters, &list, NULL) < 0)
                list = must(json_array());
        json_array_foreach(list, i, v) {
                const json_t *labels = json_object_get(v, "Labels");
                const char *uid = json_string_value(json_object_get(labels, LABEL_UID));
                const char *name = json_string_value(json_object_get(labels, LABEL_CTR));
                const char *id = json_string_value(json_object_get(v, "Id"));
                if (!uid || !id || (name && strcmp(name, "POD") == 0))
                        continue;
                json_t *ids = json_object_get(out, uid);
                if (!ids)
                        json_object_set_new(out, uid, ids = must(json_array()));
                json_array_append_new(ids, must(json_string(id)));
        }
        json_decref(filters);
        json_decref(list);
        return out;
}

/* One pod: read its containers into next; its use since c->last. */
static void sample_pod(struct hpa_cpu *c, const char *root, const json_t *ids, int64_t now_ms, json_t *next,
                       struct kube_hpa_pod *out, int64_t *window_ms)
{
        size_t i;
        json_t *id;
        uint64_t delta_ns = 0;
        int64_t window = 0;
        bool complete = json_array_size(ids) > 0;
        json_array_foreach(ids, i, id) {
                struct cgroup_stats st;
                if (container_stats(root, json_string_value(id), &st, NULL) < 0) {
                        complete = false;
                        continue;
                }
                json_object_set_new(next, json_string_value(id),
                                    must(json_pack("{s:I, s:I}", "ns", (json_int_t)st.cpu_usage_ns, "t",
                                                   (json_int_t)now_ms)));
                const json_t *prev = json_object_get(c->last, json_string_value(id));
                json_int_t prev_ns = json_integer_value(json_object_get(prev, "ns"));
                json_int_t prev_t = json_integer_value(json_object_get(prev, "t"));
                if (!prev || prev_t >= now_ms || (uint64_t)prev_ns > st.cpu_usage_ns) {
                        complete = false;
                        continue;
                }
                delta_ns += st.cpu_usage_ns - (uint64_t)prev_ns;
                if (now_ms - prev_t > window)
                        window = now_ms - prev_t;
        }
        out->has_metric = complete && window > 0;
        /* cores = ns / (window_ms × 10^6); milliCPU = cores × 1000 */
        out->usage_milli = out->has_metric ? (int64_t)(delta_ns / (uint64_t)window / 1000) : 0;
        if (out->has_metric && window > *window_ms)
                *window_ms = window;
}

void hpa_cpu_sample(struct hpa_cpu *c, struct kube *k, const json_t *pods, int64_t now_ms, struct kube_hpa_pod *out,
                    int64_t *window_ms)
{
        struct engine *e = kube_engine(k);
        const char *root = engine_options(e)->runtime_root;
        json_t *by_pod = containers_by_pod(e), *next = must(json_object());
        size_t i;
        const json_t *pod;
        *window_ms = 0;
        json_array_foreach(pods, i, pod) {
                const char *uid = json_string_value(json_object_get(json_object_get(pod, "metadata"), "uid"));
                out[i].has_metric = false;
                out[i].usage_milli = 0;
                if (uid)
                        sample_pod(c, root, json_object_get(by_pod, uid), now_ms, next, &out[i], window_ms);
        }
        /* Only the containers seen now are kept: gone ones drop out. */
        json_decref(c->last);
        c->last = next;
        json_decref(by_pod);
}
