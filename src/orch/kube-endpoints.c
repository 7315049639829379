/* What a Service's Endpoints hold, as Kubernetes' endpoints controller
 * computes them, and what the Service's ports lead to (kube-service.h).
 * Pure functions over objects: the controller in kube-service.c reads
 * and writes the store. */
#include "orch/kube-service.h"
#include "util/util.h"
#include <arpa/inet.h>

static const char *str_at(const json_t *obj, const char *a, const char *b)
{
        return json_string_value(json_object_get(json_object_get(obj, a), b));
}

static const char *protocol_of(const json_t *port)
{
        const char *p = json_string_value(json_object_get(port, "protocol"));

        return p && *p ? p : "TCP";
}

static const char *name_of(const json_t *port)
{
        const char *n = json_string_value(json_object_get(port, "name"));

        return n ? n : "";
}

/* ---- pods ---- */

static bool pod_ready(const json_t *pod)
{
        const json_t *c;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
                const char *type = json_string_value(json_object_get(c, "type"));
                if (type && strcmp(type, "Ready") == 0)
                        return json_string_value(json_object_get(c, "status")) &&
                               strcmp(json_string_value(json_object_get(c, "status")), "True") == 0;
        }
        return false;
}

/* Whether the pod is in the Service's namespace and selected, and may
 * be an endpoint at all (ShouldPodBeInEndpoints). */
static bool pod_selected(const json_t *svc, const json_t *pod, bool publish_not_ready)
{
        const json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");
        const char *ns = str_at(svc, "metadata", "namespace"), *pns = str_at(pod, "metadata", "namespace");
        const char *ip = str_at(pod, "status", "podIP"), *phase = str_at(pod, "status", "phase");

        if (!ns || !pns || strcmp(ns, pns) != 0 || !ip || !*ip)
                return false;
        if (phase && (strcmp(phase, "Succeeded") == 0 || strcmp(phase, "Failed") == 0))
                return false;
        if (!publish_not_ready && json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp"))
                return false;
        return json_object_size(sel) > 0 &&
               kube_selector_matches(sel, json_object_get(json_object_get(pod, "metadata"), "labels"));
}

/* A service port's targetPort on this pod: a number, the port itself
 * when unset, or a name looked up among the containers' ports of the
 * same protocol.  0: the pod has no such port. */
static long long target_port(const json_t *pod, const json_t *sp)
{
        const json_t *tp = json_object_get(sp, "targetPort"), *c, *p;
        size_t i, j;

        if (json_is_integer(tp) && json_integer_value(tp) != 0)
                return json_integer_value(tp);
        if (!json_is_string(tp) || *json_string_value(tp) == '\0')
                return json_integer_value(json_object_get(sp, "port"));
        json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c)
                json_array_foreach(json_object_get(c, "ports"), j, p) {
                        const char *name = json_string_value(json_object_get(p, "name"));
                        if (name && strcmp(name, json_string_value(tp)) == 0 &&
                            strcmp(protocol_of(p), protocol_of(sp)) == 0)
                                return json_integer_value(json_object_get(p, "containerPort"));
                }
        return 0;
}

/* The EndpointPorts this pod serves, one per service port it resolves. */
static json_t *pod_ports(const json_t *svc, const json_t *pod)
{
        json_t *out = must(json_array());
        const json_t *sp;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, sp) {
                long long port = target_port(pod, sp);
                json_t *ep;
                if (port <= 0 || port > 65535)
                        continue;
                ep = must(json_pack("{s:I, s:s}", "port", (json_int_t)port, "protocol", protocol_of(sp)));
                if (*name_of(sp))
                        json_object_set_new(ep, "name", json_string(name_of(sp)));
                json_array_append_new(out, ep);
        }
        return out;
}

static json_t *pod_address(const json_t *svc, const json_t *pod)
{
        const json_t *meta = json_object_get(pod, "metadata"), *spec = json_object_get(pod, "spec");
        const char *node = json_string_value(json_object_get(spec, "nodeName"));
        const char *host = json_string_value(json_object_get(spec, "hostname"));
        const char *sub = json_string_value(json_object_get(spec, "subdomain"));
        json_t *a = must(json_pack("{s:s, s:{s:s, s:O*, s:O*, s:O*}}", "ip", str_at(pod, "status", "podIP"),
                                   "targetRef", "kind", "Pod", "namespace", json_object_get(meta, "namespace"),
                                   "name", json_object_get(meta, "name"), "uid", json_object_get(meta, "uid")));

        if (node && *node)
                json_object_set_new(a, "nodeName", json_string(node));
        /* a pod's own name under the service (<hostname>.<svc>...) */
        if (host && *host && sub && strcmp(sub, str_at(svc, "metadata", "name") ?: "") == 0)
                json_object_set_new(a, "hostname", json_string(host));
        return a;
}

/* ---- subsets ---- */

static uint32_t ip_value(const json_t *addr_or_ip)
{
        const char *s = json_is_string(addr_or_ip) ? json_string_value(addr_or_ip)
                                                   : json_string_value(json_object_get(addr_or_ip, "ip"));
        struct in_addr a = { 0 };

        if (s)
                inet_pton(AF_INET, s, &a);
        return ntohl(a.s_addr);
}

static int by_ip(const void *x, const void *y)
{
        uint32_t a = ip_value(*(json_t *const *)x), b = ip_value(*(json_t *const *)y);

        return a < b ? -1 : a > b;
}

/* The array sorted by IP (addresses, or IP strings), in place. */
static void sort_by_ip(json_t *arr)
{
        size_t n = json_array_size(arr);
        json_t **v = xcalloc(n + 1, sizeof(*v));

        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), by_ip);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

static int strcmp_ptr(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void subset_add(json_t *groups, json_t *ports, json_t *addr, bool ready)
{
        _cleanup_free_ char *key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *g = json_object_get(groups, key);

        if (g == NULL) {
                g = must(json_pack("{s:[], s:[], s:O}", "addresses", "notReadyAddresses", "ports", ports));
                json_object_set_new(groups, key, g);
        }
        json_array_append_new(json_object_get(g, ready ? "addresses" : "notReadyAddresses"), addr);
}

/* The groups, by their ports' text, as subsets without empty lists. */
static json_t *subsets_of(json_t *groups)
{
        json_t *out = must(json_array()), *g;
        size_t n = json_object_size(groups), i = 0;
        const char **keys = xcalloc(n + 1, sizeof(*keys));
        const char *key;

        json_object_foreach(groups, key, g) keys[i++] = key;
        qsort(keys, n, sizeof(*keys), strcmp_ptr);
        for (i = 0; i < n; i++) {
                g = json_object_get(groups, keys[i]);
                for (const char *const *f = (const char *const[]){ "addresses", "notReadyAddresses", NULL }; *f; f++) {
                        sort_by_ip(json_object_get(g, *f));
                        if (json_array_size(json_object_get(g, *f)) == 0)
                                json_object_del(g, *f);
                }
                if (json_array_size(json_object_get(g, "ports")) == 0)
                        json_object_del(g, "ports");
                json_array_append(out, g);
        }
        free(keys);
        return out;
}

json_t *kube_endpoints_subsets(const json_t *svc, const json_t *pods)
{
        const json_t *spec = json_object_get(svc, "spec"), *pod;
        bool publish = json_is_true(json_object_get(spec, "publishNotReadyAddresses"));
        bool portless = json_array_size(json_object_get(spec, "ports")) == 0;
        json_t *groups = must(json_object()), *out;
        size_t i;

        json_array_foreach((json_t *)pods, i, pod) {
                json_t *ports;
                if (!pod_selected(svc, pod, publish))
                        continue;
                ports = pod_ports(svc, pod);
                /* a pod that serves none of the ports is no endpoint;
                 * a headless Service without ports takes bare addresses */
                if (json_array_size(ports) > 0 || portless)
                        subset_add(groups, ports, pod_address(svc, pod), publish || pod_ready(pod));
                json_decref(ports);
        }
        out = subsets_of(groups);
        json_decref(groups);
        return out;
}

/* ---- what the subsets lead to ---- */

/* The endpoint port of this subset that serves the service port sp:
 * the same name ("" for a lone unnamed port) and protocol. */
static long long subset_port(const json_t *subset, const json_t *sp)
{
        const json_t *p;
        size_t i;

        json_array_foreach(json_object_get(subset, "ports"), i, p)
                if (strcmp(name_of(p), name_of(sp)) == 0 && strcmp(protocol_of(p), protocol_of(sp)) == 0)
                        return json_integer_value(json_object_get(p, "port"));
        return 0;
}

static bool has_target(const json_t *targets, const char *ip, long long port)
{
        const json_t *t;
        size_t i;

        json_array_foreach((json_t *)targets, i, t)
                if (strcmp(json_string_value(json_array_get(t, 0)), ip) == 0 &&
                    json_integer_value(json_array_get(t, 1)) == port)
                        return true;
        return false;
}

static int by_target(const void *x, const void *y)
{
        const json_t *a = *(json_t *const *)x, *b = *(json_t *const *)y;
        uint32_t ia = ip_value(json_array_get(a, 0)), ib = ip_value(json_array_get(b, 0));
        json_int_t pa = json_integer_value(json_array_get(a, 1)), pb = json_integer_value(json_array_get(b, 1));

        if (ia != ib)
                return ia < ib ? -1 : 1;
        return pa < pb ? -1 : pa > pb;
}

/* [[ip, port]...] by IP, then port, in place. */
static void sort_targets(json_t *arr)
{
        size_t n = json_array_size(arr);
        json_t **v = xcalloc(n + 1, sizeof(*v));

        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(arr, i));
        qsort(v, n, sizeof(*v), by_target);
        json_array_clear(arr);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, v[i]);
        free(v);
}

json_t *kube_endpoints_targets(const json_t *sp, const json_t *subsets)
{
        json_t *out = must(json_array());
        const json_t *s, *a;
        size_t i, j;

        json_array_foreach((json_t *)subsets, i, s) {
                long long port = subset_port(s, sp);
                if (port <= 0 || port > 65535)
                        continue;
                json_array_foreach(json_object_get(s, "addresses"), j, a) {
                        const char *ip = json_string_value(json_object_get(a, "ip"));
                        if (ip && !has_target(out, ip, port))
                                json_array_append_new(out, must(json_pack("[s, I]", ip, (json_int_t)port)));
                }
        }
        sort_targets(out);
        return out;
}

json_t *kube_endpoints_ips(const json_t *subsets)
{
        json_t *out = must(json_array());
        const json_t *s, *a, *known;
        size_t i, j, k;

        json_array_foreach((json_t *)subsets, i, s) json_array_foreach(json_object_get(s, "addresses"), j, a) {
                const char *ip = json_string_value(json_object_get(a, "ip"));
                bool dup = false;
                json_array_foreach(out, k, known) dup = dup || strcmp(json_string_value(known), ip ? ip : "") == 0;
                if (ip && !dup)
                        json_array_append_new(out, json_string(ip));
        }
        sort_by_ip(out);
        return out;
}
