/* berth kube describe: kubectl's describe output (pkg/describe) for pods,
 * deployments, replica sets, services, config maps, secrets and
 * autoscalers, laid out by Go's tabwriter (min width 0, padding 2) as
 * kubectl lays it out, with the object's events.  A Secret's values are
 * never printed: only their sizes. */
#include "cli/cli-kube.h"
#include "cli/cli-kube-describe.h"
#include <time.h>

/* One line at an indentation level (two spaces each), as kubectl's
 * PrefixWriter writes. */
void dw(struct tabw *w, int level, const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        tabw_printf(w, "%*s%s", level * 2, "", s);
        free(s);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The keys of a map, sorted (the caller frees the array). */
static const char **sorted_keys(const json_t *map, size_t *n)
{
        const char **k = xcalloc(json_object_size(map) + 1, sizeof(char *));
        const char *key;
        json_t *v;

        *n = 0;
        json_object_foreach((json_t *)map, key, v)
                k[(*n)++] = key;
        qsort(k, *n, sizeof(char *), cmp_str);
        return k;
}

void describe_labels(struct tabw *w, const char *indent, const char *title, const json_t *labels)
{
        size_t n;
        _cleanup_free_ const char **k = sorted_keys(labels, &n);

        tabw_printf(w, "%s%s:\t", indent, title);
        if (n == 0)
                tabw_printf(w, "<none>\n");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *v = kube_scalar(json_object_get(labels, k[i]));
                if (i)
                        tabw_printf(w, "%s\t", indent);
                tabw_printf(w, "%s=%s\n", k[i], v);
        }
}

/* Annotations, without kubectl's last-applied-configuration (which would
 * hold a Secret's data); long or multi-line values on lines of their own. */
void describe_annotations(struct tabw *w, const char *indent, const char *title, const json_t *ann)
{
        size_t n, shown = 0;
        _cleanup_free_ const char **k = sorted_keys(ann, &n);

        tabw_printf(w, "%s%s:\t", indent, title);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *v = kube_scalar(json_object_get(ann, k[i]));
                size_t len = strlen(v);
                if (strcmp(k[i], "kubectl.kubernetes.io/last-applied-configuration") == 0)
                        continue;
                if (shown++)
                        tabw_printf(w, "%s\t", indent);
                while (len && v[len - 1] == '\n')
                        v[--len] = '\0';
                if (len + strlen(k[i]) + 2 <= 140 && !strchr(v, '\n')) {
                        tabw_printf(w, "%s: %s\n", k[i], v);
                        continue;
                }
                tabw_printf(w, "%s:\n", k[i]);
                for (char *save = NULL, *line = strtok_r(v, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
                        tabw_printf(w, "%s\t  %.138s\n", indent, line);
        }
        if (shown == 0)
                tabw_printf(w, "<none>\n");
}

/* ---- events ---- */

static long long event_time(const json_t *e)
{
        static const char *const fields[] = { "series.lastObservedTime", "lastTimestamp", "eventTime", "firstTimestamp" };

        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                long long t = kube_time_parse(kube_str(e, fields[i]));
                if (t >= 0)
                        return t;
        }
        return 0;
}

static int cmp_event(const void *a, const void *b)
{
        long long x = event_time(*(json_t *const *)a), y = event_time(*(json_t *const *)b);

        return x < y ? -1 : x > y;
}

static char *event_age(const json_t *e, long long now)
{
        const char *first = kube_str(e, "eventTime");
        long long count = kube_int(e, "count", 0);
        _cleanup_free_ char *since = NULL, *last = NULL;

        if (kube_time_parse(first) < 0)
                first = kube_str(e, "firstTimestamp");
        since = kube_age(first, now);
        if (kube_at(e, "series")) {
                last = kube_age(kube_str(e, "series.lastObservedTime"), now);
                return xasprintf("%s (x%lld over %s)", last, kube_int(e, "series.count", 0), since);
        }
        if (count > 1) {
                last = kube_age(kube_str(e, "lastTimestamp"), now);
                return xasprintf("%s (x%lld over %s)", last, count, since);
        }
        return steal_pointer(&since);
}

void describe_events(struct cli *c, struct tabw *w, const json_t *obj)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *list = NULL;
        const char *kind = kube_str(obj, "kind"), *name = kube_str(obj, "metadata.name");
        const char *ns = kube_str(obj, "metadata.namespace");
        _cleanup_free_ char *fs = xasprintf("involvedObject.kind=%s,involvedObject.name=%s", kind ? kind : "",
                                            name ? name : "");
        _cleanup_free_ char *fq = cli_escape_query(fs), *q = xasprintf("fieldSelector=%s", fq);
        _cleanup_free_ char *path = kube_path(kube_res_find("events"), ns ? ns : "default", NULL, q);
        _cleanup_free_ json_t **ev = NULL;
        long long now = (long long)time(NULL);
        const json_t *items;
        size_t n;

        if (kube_get_json(c, path, &list, &err) < 0) {
                dw(w, 0, "Events:\t<unknown>\n");
                return;
        }
        items = json_object_get(list, "items");
        n = json_array_size(items);
        if (n == 0) {
                dw(w, 0, "Events:\t<none>\n");
                return;
        }
        ev = xcalloc(n, sizeof(json_t *));
        for (size_t i = 0; i < n; i++)
                ev[i] = json_array_get(items, i);
        qsort(ev, n, sizeof(json_t *), cmp_event);
        dw(w, 0, "Events:\n  Type\tReason\tAge\tFrom\tMessage\n");
        dw(w, 1, "----\t------\t----\t----\t-------\n");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *age = event_age(ev[i], now);
                const char *from = kube_str(ev[i], "source.component");
                _cleanup_free_ char *msg = xstrdup(kube_str(ev[i], "message") ? kube_str(ev[i], "message") : "");
                size_t len = strlen(msg);
                if (from == NULL || *from == '\0')
                        from = kube_str(ev[i], "reportingComponent");
                while (len && (msg[len - 1] == '\n' || msg[len - 1] == ' '))
                        msg[--len] = '\0';
                dw(w, 1, "%s\t%s\t%s\t%s\t%s\n", kube_str(ev[i], "type") ? kube_str(ev[i], "type") : "",
                   kube_str(ev[i], "reason") ? kube_str(ev[i], "reason") : "", age, from ? from : "", msg);
        }
}

/* ---- the objects ---- */

static void describe_meta(struct tabw *w, const json_t *o, bool created)
{
        const char *ns = kube_str(o, "metadata.namespace");

        dw(w, 0, "Name:\t%s\n", kube_str(o, "metadata.name"));
        if (ns)
                dw(w, 0, "Namespace:\t%s\n", ns);
        if (created) {
                _cleanup_free_ char *t = kube_time_rfc1123z(kube_str(o, "metadata.creationTimestamp"));
                dw(w, 0, "CreationTimestamp:\t%s\n", t);
        }
        describe_labels(w, "", "Labels", kube_at(o, "metadata.labels"));
        describe_annotations(w, "", "Annotations", kube_at(o, "metadata.annotations"));
}

static void describe_configmap(struct cli *c, struct tabw *w, const json_t *o)
{
        const json_t *data = json_object_get(o, "data"), *bin = json_object_get(o, "binaryData");
        size_t n;
        _cleanup_free_ const char **k = sorted_keys(data, &n);
        _cleanup_free_ const char **bk = NULL;

        describe_meta(w, o, false);
        dw(w, 0, "\nData\n====\n");
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *v = kube_scalar(json_object_get(data, k[i]));
                dw(w, 0, "%s:\n----\n%s\n", k[i], v);
        }
        dw(w, 0, "\nBinaryData\n====\n");
        bk = sorted_keys(bin, &n);
        for (size_t i = 0; i < n; i++)
                dw(w, 0, "%s: %zu bytes\n", bk[i], kube_b64_len(json_string_value(json_object_get(bin, bk[i]))));
        dw(w, 0, "\n");
        describe_events(c, w, o);
}

static void describe_secret(struct cli *c, struct tabw *w, const json_t *o)
{
        const json_t *data = json_object_get(o, "data");
        size_t n;
        _cleanup_free_ const char **k = sorted_keys(data, &n);

        (void)c;
        describe_meta(w, o, false);
        dw(w, 0, "\nType:\t%s\n", kube_str(o, "type") ? kube_str(o, "type") : "Opaque");
        dw(w, 0, "\nData\n====\n");
        for (size_t i = 0; i < n; i++)
                dw(w, 0, "%s:\t%zu bytes\n", k[i], kube_b64_len(json_string_value(json_object_get(data, k[i]))));
}

static void describe_service(struct cli *c, struct tabw *w, const json_t *o)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *ep = NULL;
        _cleanup_free_ char *sel = kube_labels_string(kube_at(o, "spec.selector"));
        _cleanup_free_ char *path = kube_path(kube_res_find("endpoints"), kube_str(o, "metadata.namespace"),
                                             kube_str(o, "metadata.name"), NULL);
        const json_t *ports = kube_at(o, "spec.ports"), *ips = kube_at(o, "spec.clusterIPs");
        const char *aff = kube_str(o, "spec.sessionAffinity"), *etp = kube_str(o, "spec.externalTrafficPolicy");

        kube_get_json(c, path, &ep, &err);
        describe_meta(w, o, false);
        dw(w, 0, "Selector:\t%s\n", sel);
        dw(w, 0, "Type:\t%s\n", kube_str(o, "spec.type") ? kube_str(o, "spec.type") : "ClusterIP");
        if (kube_str(o, "spec.ipFamilyPolicy"))
                dw(w, 0, "IP Family Policy:\t%s\n", kube_str(o, "spec.ipFamilyPolicy"));
        if (json_array_size(kube_at(o, "spec.ipFamilies"))) {
                struct strbuf b = { 0 };
                strbuf_adds(&b, "");
                for (size_t i = 0; i < json_array_size(kube_at(o, "spec.ipFamilies")); i++) {
                        strbuf_adds(&b, i ? "," : "");
                        strbuf_adds(&b, json_string_value(json_array_get(kube_at(o, "spec.ipFamilies"), i)) ?: "");
                }
                dw(w, 0, "IP Families:\t%s\n", b.data);
                free(b.data);
        }
        dw(w, 0, "IP:\t%s\n", kube_str(o, "spec.clusterIP") ? kube_str(o, "spec.clusterIP") : "");
        if (json_array_size(ips)) {
                struct strbuf b = { 0 };
                strbuf_adds(&b, "");
                for (size_t i = 0; i < json_array_size(ips); i++) {
                        strbuf_adds(&b, i ? "," : "");
                        strbuf_adds(&b, json_string_value(json_array_get(ips, i)) ?: "");
                }
                dw(w, 0, "IPs:\t%s\n", b.data);
                free(b.data);
        }
        if (kube_str(o, "spec.externalName"))
                dw(w, 0, "External Name:\t%s\n", kube_str(o, "spec.externalName"));
        for (size_t i = 0; i < json_array_size(ports); i++) {
                const json_t *p = json_array_get(ports, i);
                const char *name = kube_str(p, "name"), *proto = kube_str(p, "protocol");
                _cleanup_free_ char *target = kube_at(p, "targetPort") ? kube_scalar(kube_at(p, "targetPort"))
                                                                      : xasprintf("%lld", kube_int(p, "port", 0));
                _cleanup_free_ char *eps = ep ? kube_endpoints_string(ep, name ? name : "") : xstrdup("<none>");
                if (proto == NULL)
                        proto = "TCP";
                dw(w, 0, "Port:\t%s\t%lld/%s\n", name && *name ? name : "<unset>", kube_int(p, "port", 0), proto);
                dw(w, 0, "TargetPort:\t%s/%s\n", target, proto);
                if (kube_int(p, "nodePort", 0))
                        dw(w, 0, "NodePort:\t%s\t%lld/%s\n", name && *name ? name : "<unset>", kube_int(p, "nodePort", 0),
                           proto);
                dw(w, 0, "Endpoints:\t%s\n", eps);
        }
        dw(w, 0, "Session Affinity:\t%s\n", aff ? aff : "None");
        if (etp)
                dw(w, 0, "External Traffic Policy:\t%s\n", etp);
        describe_events(c, w, o);
}

static void describe_hpa(struct cli *c, struct tabw *w, const json_t *o)
{
        const json_t *specs = kube_at(o, "spec.metrics"), *stats = kube_at(o, "status.currentMetrics");
        const json_t *conds = kube_at(o, "status.conditions"), *minr = kube_at(o, "spec.minReplicas");
        const char *kind = kube_str(o, "spec.scaleTargetRef.kind");
        _cleanup_free_ char *created = kube_time_rfc1123z(kube_str(o, "metadata.creationTimestamp"));
        _cleanup_free_ char *min = minr ? kube_scalar(minr) : xstrdup("<unset>");

        describe_meta(w, o, false);
        dw(w, 0, "CreationTimestamp:\t%s\n", created);
        dw(w, 0, "Reference:\t%s/%s\n", kind ? kind : "", kube_str(o, "spec.scaleTargetRef.name") ?: "");
        dw(w, 0, "Metrics:\t( current / target )\n");
        for (size_t i = 0; i < json_array_size(specs); i++) {
                const json_t *m = json_array_get(specs, i), *st = json_array_get(stats, i);
                const char *name = kube_str(m, "resource.name");
                if (kube_at(m, "resource") == NULL)
                        continue;
                if (kube_at(m, "resource.target.averageValue")) {
                        _cleanup_free_ char *t = kube_scalar(kube_at(m, "resource.target.averageValue"));
                        _cleanup_free_ char *cur = kube_at(st, "resource.current.averageValue")
                                                           ? kube_scalar(kube_at(st, "resource.current.averageValue"))
                                                           : xstrdup("<unknown>");
                        dw(w, 1, "resource %s on pods:\t%s / %s\n", name ?: "", cur, t);
                } else {
                        _cleanup_free_ char *cur = NULL, *t = NULL, *v = NULL;
                        v = kube_scalar(kube_at(st, "resource.current.averageValue"));
                        cur = kube_at(st, "resource.current.averageUtilization")
                                      ? xasprintf("%lld%% (%s)", kube_int(st, "resource.current.averageUtilization", 0), v)
                                      : xstrdup("<unknown>");
                        t = kube_at(m, "resource.target.averageUtilization")
                                    ? xasprintf("%lld%%", kube_int(m, "resource.target.averageUtilization", 0))
                                    : xstrdup("<auto>");
                        dw(w, 1, "resource %s on pods  (as a percentage of request):\t%s / %s\n", name ?: "", cur, t);
                }
        }
        dw(w, 0, "Min replicas:\t%s\n", min);
        dw(w, 0, "Max replicas:\t%lld\n", kube_int(o, "spec.maxReplicas", 0));
        dw(w, 0, "%s pods:\t%lld current / %lld desired\n", kind ? kind : "", kube_int(o, "status.currentReplicas", 0),
           kube_int(o, "status.desiredReplicas", 0));
        if (json_array_size(conds)) {
                dw(w, 0, "Conditions:\n");
                dw(w, 1, "Type\tStatus\tReason\tMessage\n");
                dw(w, 1, "----\t------\t------\t-------\n");
                for (size_t i = 0; i < json_array_size(conds); i++) {
                        const json_t *cd = json_array_get(conds, i);
                        dw(w, 1, "%s\t%s\t%s\t%s\n", kube_str(cd, "type") ?: "", kube_str(cd, "status") ?: "",
                           kube_str(cd, "reason") ?: "", kube_str(cd, "message") ?: "");
                }
        }
        describe_events(c, w, o);
}

static void describe_generic(struct cli *c, struct tabw *w, const json_t *o)
{
        describe_meta(w, o, true);
        if (kube_str(o, "status.phase"))
                dw(w, 0, "Status:\t%s\n", kube_str(o, "status.phase"));
        describe_events(c, w, o);
}

/* ---- the command ---- */

typedef void (*describe_fn)(struct cli *c, struct tabw *w, const json_t *o);

static describe_fn describer(const struct kube_res *r)
{
        static const struct {
                const char *resource;
                describe_fn fn;
        } table[] = {
                { "pods", describe_pod },           { "deployments", describe_deployment },
                { "replicasets", describe_replicaset }, { "services", describe_service },
                { "configmaps", describe_configmap }, { "secrets", describe_secret },
                { "horizontalpodautoscalers", describe_hpa },
        };

        for (size_t i = 0; i < ARRAY_SIZE(table); i++)
                if (strcmp(table[i].resource, r->resource) == 0)
                        return table[i].fn;
        return describe_generic;
}

/* The objects a name stands for: the one of that name, else (as kubectl)
 * every object whose name starts with it. */
static int describe_lookup(struct cli *c, const struct kube_res *r, const char *ns, const char *name, json_t *out,
                           berth_error_t **err)
{
        _cleanup_free_ char *path = kube_path(r, ns, name, NULL);
        _cleanup_json_ json_t *items = NULL;
        _cleanup_error_ berth_error_t *e2 = NULL;
        json_t *obj = NULL;
        size_t before = json_array_size(out);

        if (kube_get_json(c, path, &obj, err) == 0) {
                json_array_append_new(out, obj);
                return 0;
        }
        if ((*err)->status != ENOENT || kube_list(c, r, ns, NULL, &items, &e2) < 0)
                return -1;
        for (size_t i = 0; i < json_array_size(items); i++) {
                const char *n = kube_str(json_array_get(items, i), "metadata.name");
                if (n && str_has_prefix(n, name))
                        json_array_append(out, json_array_get(items, i));
        }
        if (json_array_size(out) == before)
                return -1;
        berth_error_free(err);
        return 0;
}

int kube_cmd_describe(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "all-namespaces", no_argument, NULL, 'A' },
                { "selector", required_argument, NULL, 'l' },
                { "namespace", required_argument, NULL, 'n' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        const char *ns = "default", *selector = NULL;
        struct kube_group *g = NULL;
        size_t ng = 0, shown = 0;
        bool all_ns = false;
        int o, status = 0;

        while ((o = kube_getopt(argc, argv, ":Al:n:h", longopts, "describe")) != -1) {
                switch (o) {
                case 'A': all_ns = true; break;
                case 'l': selector = optarg; break;
                case 'n': ns = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (optind >= argc)
                return kube_usage("describe", "You must specify the type of resource to describe.");
        if (kube_parse_targets(argv + optind, argc - optind, &g, &ng, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        for (size_t i = 0; i < ng; i++) {
                _cleanup_json_ json_t *objs = json_array();
                for (size_t j = 0; j < g[i].n; j++)
                        if (describe_lookup(c, g[i].r, ns, g[i].names[j], objs, &err) < 0) {
                                kube_print_error(err);
                                berth_error_free(&err);
                                status = 1;
                        }
                if (g[i].n == 0) {
                        json_t *items = NULL;
                        if (kube_list(c, g[i].r, all_ns ? NULL : ns, selector, &items, &err) < 0) {
                                kube_print_error(err);
                                berth_error_free(&err);
                                status = 1;
                                continue;
                        }
                        json_array_extend(objs, items);
                        json_decref(items);
                }
                for (size_t j = 0; j < json_array_size(objs); j++) {
                        struct tabw w;
                        _cleanup_free_ char *text = NULL;
                        json_t *obj = json_array_get(objs, j);
                        if (kube_str(obj, "kind") == NULL)
                                json_object_set_new(obj, "kind", json_string(g[i].r->kind));
                        tabw_init(&w, 0, 2);
                        describer(g[i].r)(c, &w, obj);
                        text = tabw_render(&w);
                        tabw_free(&w);
                        printf("%s%s", shown++ ? "\n\n" : "", text);
                        fflush(stdout);
                }
        }
        if (shown == 0 && status == 0 && all_ns)
                fprintf(stderr, "No resources found\n");
        else if (shown == 0 && status == 0)
                fprintf(stderr, "No resources found in %s namespace.\n", ns);
        kube_groups_free(g, ng);
        return status;
}
