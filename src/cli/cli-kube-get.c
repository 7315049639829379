/* berth kube get: kubectl's tables (the columns of pkg/printers for each
 * type, Go's tabwriter with min width 6 and padding 3, NAMESPACE first
 * with -A, "kind/name" names when several types are listed), -o
 * json|yaml|name|wide, label selectors and a polling -w. */
#include "cli/cli-kube.h"
#include <time.h>

typedef char **(*row_fn)(const json_t *o, bool wide, long long now);

struct printer {
        const char *resource;
        const char *const *head, *const *wide_head;
        row_fn row;
};

#define CELLS(...) cells_new((const char *[]){ __VA_ARGS__, NULL })

/* A row of cells; the arguments are owned by the row from then on. */
static char **cells_new(const char *v[])
{
        size_t n = 0;
        char **c;

        while (v[n])
                n++;
        c = xcalloc(n + 1, sizeof(char *));
        for (size_t i = 0; i < n; i++)
                c[i] = (char *)v[i];
        return c;
}

static char *dup_or(const char *s, const char *dflt)
{
        return xstrdup(s && *s ? s : dflt);
}

static char *num(long long v)
{
        return xasprintf("%lld", v);
}

static char *name_of(const json_t *o)
{
        return dup_or(kube_str(o, "metadata.name"), "");
}

static char *age_of(const json_t *o, long long now)
{
        return kube_age(kube_str(o, "metadata.creationTimestamp"), now);
}

static char **pod_row(const json_t *o, bool wide, long long now)
{
        const char *ip = kube_str(json_array_get(kube_at(o, "status.podIPs"), 0), "ip");
        char **c;

        if (ip == NULL)
                ip = kube_str(o, "status.podIP");
        if (!wide)
                return CELLS(name_of(o), kube_pod_ready(o), kube_pod_status(o), kube_pod_restarts(o, now), age_of(o, now));
        c = CELLS(name_of(o), kube_pod_ready(o), kube_pod_status(o), kube_pod_restarts(o, now), age_of(o, now),
                  dup_or(ip, "<none>"), dup_or(kube_str(o, "spec.nodeName"), "<none>"),
                  dup_or(kube_str(o, "status.nominatedNodeName"), "<none>"), xstrdup("<none>"));
        return c;
}

static char **deploy_row(const json_t *o, bool wide, long long now)
{
        const json_t *ctrs = kube_at(o, "spec.template.spec.containers");
        char *ready = xasprintf("%lld/%lld", kube_int(o, "status.readyReplicas", 0), kube_int(o, "spec.replicas", 1));

        if (!wide)
                return CELLS(name_of(o), ready, num(kube_int(o, "status.updatedReplicas", 0)),
                             num(kube_int(o, "status.availableReplicas", 0)), age_of(o, now));
        return CELLS(name_of(o), ready, num(kube_int(o, "status.updatedReplicas", 0)),
                     num(kube_int(o, "status.availableReplicas", 0)), age_of(o, now), kube_container_names(ctrs),
                     kube_container_images(ctrs), kube_selector_string(kube_at(o, "spec.selector")));
}

static char **rs_row(const json_t *o, bool wide, long long now)
{
        const json_t *ctrs = kube_at(o, "spec.template.spec.containers");

        if (!wide)
                return CELLS(name_of(o), num(kube_int(o, "spec.replicas", 1)), num(kube_int(o, "status.replicas", 0)),
                             num(kube_int(o, "status.readyReplicas", 0)), age_of(o, now));
        return CELLS(name_of(o), num(kube_int(o, "spec.replicas", 1)), num(kube_int(o, "status.replicas", 0)),
                     num(kube_int(o, "status.readyReplicas", 0)), age_of(o, now), kube_container_names(ctrs),
                     kube_container_images(ctrs), kube_selector_string(kube_at(o, "spec.selector")));
}

static char *cluster_ip(const json_t *o)
{
        const char *ip = json_string_value(json_array_get(kube_at(o, "spec.clusterIPs"), 0));

        return dup_or(ip ? ip : kube_str(o, "spec.clusterIP"), "<none>");
}

static char **svc_row(const json_t *o, bool wide, long long now)
{
        char *type = dup_or(kube_str(o, "spec.type"), "ClusterIP");

        if (!wide)
                return CELLS(name_of(o), type, cluster_ip(o), kube_service_external_ip(o), kube_service_ports(o),
                             age_of(o, now));
        return CELLS(name_of(o), type, cluster_ip(o), kube_service_external_ip(o), kube_service_ports(o),
                     age_of(o, now), kube_labels_string(kube_at(o, "spec.selector")));
}

static char **ep_row(const json_t *o, bool wide, long long now)
{
        (void)wide;
        return CELLS(name_of(o), kube_endpoints_string(o, NULL), age_of(o, now));
}

static char **cm_row(const json_t *o, bool wide, long long now)
{
        (void)wide;
        return CELLS(name_of(o), num((long long)(json_object_size(json_object_get(o, "data")) +
                                                 json_object_size(json_object_get(o, "binaryData")))),
                     age_of(o, now));
}

static char **secret_row(const json_t *o, bool wide, long long now)
{
        (void)wide;
        return CELLS(name_of(o), dup_or(kube_str(o, "type"), "Opaque"),
                     num((long long)json_object_size(json_object_get(o, "data"))), age_of(o, now));
}

static char **hpa_row(const json_t *o, bool wide, long long now)
{
        const json_t *minr = kube_at(o, "spec.minReplicas");

        (void)wide;
        return CELLS(name_of(o),
                     xasprintf("%s/%s", kube_str(o, "spec.scaleTargetRef.kind") ? kube_str(o, "spec.scaleTargetRef.kind") : "",
                               kube_str(o, "spec.scaleTargetRef.name") ? kube_str(o, "spec.scaleTargetRef.name") : ""),
                     kube_hpa_targets(o), minr ? kube_scalar(minr) : xstrdup("<unset>"),
                     num(kube_int(o, "spec.maxReplicas", 0)), num(kube_int(o, "status.currentReplicas", 0)),
                     age_of(o, now));
}

/* LAST SEEN: lastTimestamp, else firstTimestamp, else eventTime. */
static char **event_row(const json_t *o, bool wide, long long now)
{
        const char *last = kube_str(o, "lastTimestamp"), *kind = kube_str(o, "involvedObject.kind");
        const char *name = kube_str(o, "involvedObject.name");
        _cleanup_free_ char *k = NULL;
        char *msg;

        (void)wide;
        if (last == NULL || *last == '\0')
                last = kube_str(o, "firstTimestamp");
        if (last == NULL || *last == '\0')
                last = kube_str(o, "eventTime");
        k = xstrdup(kind ? kind : "");
        for (char *p = k; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
        msg = dup_or(kube_str(o, "message"), "");
        for (char *p = msg; *p; p++)
                if (*p == '\n' || *p == '\t')
                        *p = ' ';
        return CELLS(kube_age(last, now), dup_or(kube_str(o, "type"), ""), dup_or(kube_str(o, "reason"), ""),
                     name && *name ? xasprintf("%s/%s", k, name) : xstrdup(k), msg);
}

static char **ns_row(const json_t *o, bool wide, long long now)
{
        (void)wide;
        return CELLS(name_of(o), dup_or(kube_str(o, "status.phase"), "Active"), age_of(o, now));
}

#define HEAD(...) ((const char *const[]){ __VA_ARGS__, NULL })

static const struct printer printers[] = {
        { "pods", HEAD("NAME", "READY", "STATUS", "RESTARTS", "AGE"),
          HEAD("IP", "NODE", "NOMINATED NODE", "READINESS GATES"), pod_row },
        { "deployments", HEAD("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"),
          HEAD("CONTAINERS", "IMAGES", "SELECTOR"), deploy_row },
        { "replicasets", HEAD("NAME", "DESIRED", "CURRENT", "READY", "AGE"), HEAD("CONTAINERS", "IMAGES", "SELECTOR"),
          rs_row },
        { "services", HEAD("NAME", "TYPE", "CLUSTER-IP", "EXTERNAL-IP", "PORT(S)", "AGE"), HEAD("SELECTOR"), svc_row },
        { "endpoints", HEAD("NAME", "ENDPOINTS", "AGE"), NULL, ep_row },
        { "configmaps", HEAD("NAME", "DATA", "AGE"), NULL, cm_row },
        { "secrets", HEAD("NAME", "TYPE", "DATA", "AGE"), NULL, secret_row },
        { "horizontalpodautoscalers", HEAD("NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"),
          NULL, hpa_row },
        { "events", HEAD("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"), NULL, event_row },
        { "namespaces", HEAD("NAME", "STATUS", "AGE"), NULL, ns_row },
};

static const struct printer *printer_for(const struct kube_res *r)
{
        for (size_t i = 0; i < ARRAY_SIZE(printers); i++)
                if (strcmp(printers[i].resource, r->resource) == 0)
                        return &printers[i];
        return &printers[0];
}

struct get_opts {
        const char *ns, *selector, *output;
        bool all_ns, no_headers, show_labels, watch, wide, with_kind;
        size_t widths[32];      /* remembered across -w updates */
};

/* ---- tables ---- */

static size_t text_width(const char *s)
{
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        w++;
        return w;
}

/* Rows from first on, aligned with every row's widths (as the tabwriter
 * kubectl uses, with RememberWidths for -w). */
static void table_out(struct table *t, size_t first, size_t *widths)
{
        for (size_t c = 0; c + 1 < t->ncols && c < 32; c++)
                for (size_t r = 0; r < t->nrows; r++) {
                        size_t w = text_width(t->cells[r * t->ncols + c]) + 3;
                        if (w < 6)
                                w = 6;
                        if (w > widths[c])
                                widths[c] = w;
                }
        for (size_t r = first; r < t->nrows; r++) {
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *cell = t->cells[r * t->ncols + c];
                        fputs(cell, stdout);
                        if (c + 1 < t->ncols && c < 32)
                                printf("%*s", (int)(widths[c] - text_width(cell)), "");
                }
                putchar('\n');
        }
        fflush(stdout);
}

static size_t count(const char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

static void table_header(struct table *t, const struct printer *p, const struct get_opts *o)
{
        size_t n = t->ncols, k = 0;
        _cleanup_free_ char **h = xcalloc(n, sizeof(char *));

        if (o->all_ns)
                h[k++] = "NAMESPACE";
        for (size_t i = 0; p->head[i]; i++)
                h[k++] = (char *)p->head[i];
        for (size_t i = 0; o->wide && p->wide_head && p->wide_head[i]; i++)
                h[k++] = (char *)p->wide_head[i];
        if (o->show_labels)
                h[k++] = "LABELS";
        table_addv(t, h);
}

static size_t table_cols(const struct printer *p, const struct get_opts *o)
{
        return (o->all_ns ? 1 : 0) + count(p->head) + (o->wide ? count(p->wide_head) : 0) + (o->show_labels ? 1 : 0);
}

static void table_row(struct table *t, const struct printer *p, const struct kube_res *r, const json_t *obj,
                      const struct get_opts *o, long long now)
{
        char **cells = p->row(obj, o->wide, now);
        size_t n = count((const char *const *)cells), k = 0;
        _cleanup_free_ char **row = xcalloc(t->ncols + 1, sizeof(char *));
        _cleanup_free_ char *ns = NULL, *named = NULL, *labels = NULL;

        if (o->all_ns)
                row[k++] = ns = dup_or(kube_str(obj, "metadata.namespace"), "");
        for (size_t i = 0; i < n && k < t->ncols; i++)
                row[k++] = cells[i];
        if (o->with_kind && strcmp(r->resource, "events") != 0) {
                _cleanup_free_ char *q = kube_res_qualified(r);
                named = xasprintf("%s/%s", q, row[o->all_ns ? 1 : 0]);
                row[o->all_ns ? 1 : 0] = named;
        }
        if (o->show_labels && k < t->ncols)
                row[k++] = labels = kube_labels_string(kube_at(obj, "metadata.labels"));
        table_addv(t, row);
        for (size_t i = 0; i < n; i++)
                free(cells[i]);
        free(cells);
}

static void print_table(const struct kube_res *r, const json_t *items, struct get_opts *o, bool header)
{
        const struct printer *p = printer_for(r);
        long long now = (long long)time(NULL);
        struct table t;

        table_init(&t, table_cols(p, o));
        if (header && !o->no_headers)
                table_header(&t, p, o);
        for (size_t i = 0; i < json_array_size(items); i++)
                table_row(&t, p, r, json_array_get(items, i), o, now);
        table_out(&t, 0, o->widths);
        table_free(&t);
}

/* ---- fetching ---- */

static int fetch_group(struct cli *c, const struct kube_group *g, const struct get_opts *o, json_t *items)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *list = NULL;
        const char *ns = o->all_ns ? NULL : o->ns;
        int status = 0;

        if (g->n == 0) {
                if (kube_list(c, g->r, ns, o->selector, &list, &err) < 0) {
                        kube_print_error(err);
                        return 1;
                }
                json_array_extend(items, list);
                return 0;
        }
        for (size_t i = 0; i < g->n; i++) {
                _cleanup_free_ char *path = kube_path(g->r, o->ns, g->names[i], NULL);
                json_t *obj = NULL;
                if (kube_get_json(c, path, &obj, &err) < 0) {
                        kube_print_error(err);
                        berth_error_free(&err);
                        status = 1;
                        continue;
                }
                json_array_append_new(items, obj);
        }
        return status;
}

/* ---- -o yaml, json, name ---- */

static int yaml_of(struct cli *c, const struct kube_res *r, const json_t *obj, char **out, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *path = kube_path(r, kube_str(obj, "metadata.namespace"), kube_str(obj, "metadata.name"),
                                             "output=yaml");

        if (kube_request(c, "GET", path, NULL, NULL, &resp, err) < 0)
                return -1;
        *out = steal_pointer(&resp.body);
        return 0;
}

/* Several objects: the server's YAML of each, as documents separated by
 * "---" (as the server prints a list); objects gone in between are left
 * out. */
static int print_yaml_docs(struct cli *c, const struct kube_res **res, json_t *items)
{
        size_t printed = 0;
        int status = 0;

        for (size_t i = 0; i < json_array_size(items); i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_free_ char *y = NULL;
                if (yaml_of(c, res[i], json_array_get(items, i), &y, &err) < 0) {
                        if (err->status != ENOENT) {
                                kube_print_error(err);
                                status = 1;
                        }
                        continue;
                }
                printf("%s%s", printed++ ? "---\n" : "", str_has_prefix(y, "---\n") ? y + 4 : y);
        }
        return status;
}

/* One type listed: the server's YAML of the list (its items as
 * documents), as it is. */
static int print_server_yaml_list(struct cli *c, const struct kube_res *r, const struct get_opts *o)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *sel = o->selector ? cli_escape_query(o->selector) : NULL;
        _cleanup_free_ char *q = xasprintf("output=yaml%s%s", sel ? "&labelSelector=" : "", sel ? sel : "");
        _cleanup_free_ char *path = kube_path(r, o->all_ns ? NULL : o->ns, NULL, q);

        if (kube_request(c, "GET", path, NULL, NULL, &resp, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        fwrite(resp.body, 1, resp.len, stdout);
        return 0;
}

static void print_json(const json_t *v)
{
        char *s = json_dumps(v, JSON_INDENT(4));

        if (s)
                puts(s);
        free(s);
}

static void print_names(const struct kube_res *r, const json_t *items)
{
        _cleanup_free_ char *q = kube_res_qualified(r);

        for (size_t i = 0; i < json_array_size(items); i++)
                printf("%s/%s\n", q, kube_str(json_array_get(items, i), "metadata.name"));
}

/* ---- -w ---- */

static const char *uid_of(const json_t *o)
{
        const char *u = kube_str(o, "metadata.uid");
        return u ? u : kube_str(o, "metadata.name") ? kube_str(o, "metadata.name") : "";
}

/* Print a row for every object that changed (or went away) since the
 * last look, once a second, until interrupted. */
static int watch(struct cli *c, const struct kube_group *g, struct get_opts *o, json_t *seen_items)
{
        _cleanup_json_ json_t *seen = json_object();

        for (size_t i = 0; i < json_array_size(seen_items); i++)
                json_object_set(seen, uid_of(json_array_get(seen_items, i)), json_array_get(seen_items, i));
        for (;;) {
                _cleanup_json_ json_t *now = json_array(), *changed = json_array(), *next = json_object();
                const char *uid;
                json_t *old;
                sleep(1);
                if (fetch_group(c, g, o, now) != 0 && json_array_size(now) == 0)
                        continue;
                for (size_t i = 0; i < json_array_size(now); i++) {
                        json_t *it = json_array_get(now, i);
                        const char *rv = kube_str(it, "metadata.resourceVersion");
                        old = json_object_get(seen, uid_of(it));
                        if (old == NULL || !rv || !kube_str(old, "metadata.resourceVersion") ||
                            strcmp(rv, kube_str(old, "metadata.resourceVersion")) != 0)
                                json_array_append(changed, it);
                        json_object_set(next, uid_of(it), it);
                }
                json_object_foreach(seen, uid, old)
                        if (json_object_get(next, uid) == NULL)
                                json_array_append(changed, old);
                json_object_clear(seen);
                json_object_update(seen, next);
                if (json_array_size(changed))
                        print_table(g->r, changed, o, false);
        }
        return 0;
}

/* ---- the command ---- */

static int get_parse(int argc, char **argv, struct get_opts *o)
{
        static const struct option longopts[] = {
                { "all-namespaces", no_argument, NULL, 'A' },
                { "selector", required_argument, NULL, 'l' },
                { "namespace", required_argument, NULL, 'n' },
                { "output", required_argument, NULL, 'o' },
                { "no-headers", no_argument, NULL, 'H' },
                { "show-labels", no_argument, NULL, 'L' },
                { "watch", no_argument, NULL, 'w' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_json_ json_t *reqs = NULL;
        _cleanup_error_ berth_error_t *err = NULL;
        int opt;

        while ((opt = kube_getopt(argc, argv, ":Al:n:o:wh", longopts, "get")) != -1) {
                switch (opt) {
                case 'A': o->all_ns = true; break;
                case 'l': o->selector = optarg; break;
                case 'n': o->ns = optarg; break;
                case 'o': o->output = optarg; break;
                case 'H': o->no_headers = true; break;
                case 'L': o->show_labels = true; break;
                case 'w': o->watch = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (o->output && strcmp(o->output, "wide") != 0 && strcmp(o->output, "yaml") != 0 &&
            strcmp(o->output, "json") != 0 && strcmp(o->output, "name") != 0)
                return kube_usage("get", "unable to match a printer suitable for the output format \"%s\", allowed formats are: json,name,wide,yaml",
                                  o->output);
        o->wide = o->output && strcmp(o->output, "wide") == 0;
        if (o->selector && kube_selector_parse(o->selector, &reqs, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        if (optind >= argc)
                return kube_usage("get", "you must specify the type of resource to get");
        return -1;
}

/* Exactly one object named: -o json/yaml print it alone, not in a List. */
static bool single_named(const struct kube_group *g, size_t n)
{
        return n == 1 && g[0].n == 1;
}

static int print_all(struct cli *c, struct kube_group *g, size_t ng, json_t **items, struct get_opts *o)
{
        const char *out = o->output ? o->output : "";
        int status = 0;

        if (strcmp(out, "json") == 0 || strcmp(out, "yaml") == 0) {
                _cleanup_json_ json_t *all = json_array();
                _cleanup_free_ const struct kube_res **res = NULL;
                size_t n = 0;
                for (size_t i = 0; i < ng; i++)
                        n += json_array_size(items[i]);
                res = xcalloc(n + 1, sizeof(*res));
                n = 0;
                for (size_t i = 0; i < ng; i++)
                        for (size_t j = 0; j < json_array_size(items[i]); j++) {
                                res[n++] = g[i].r;
                                json_array_append(all, json_array_get(items[i], j));
                        }
                if (single_named(g, ng) && n == 1 && strcmp(out, "json") == 0) {
                        print_json(json_array_get(all, 0));
                } else if (single_named(g, ng) && n == 1) {
                        _cleanup_error_ berth_error_t *err = NULL;
                        _cleanup_free_ char *y = NULL;
                        if (yaml_of(c, g[0].r, json_array_get(all, 0), &y, &err) < 0) {
                                kube_print_error(err);
                                return 1;
                        }
                        fputs(y, stdout);
                } else if (strcmp(out, "json") == 0 && (n || !single_named(g, ng))) {
                        _cleanup_json_ json_t *list = json_pack("{s:s, s:O, s:s, s:{s:s}}", "apiVersion", "v1", "items", all,
                                                                "kind", "List", "metadata", "resourceVersion", "");
                        print_json(list);
                } else if (strcmp(out, "yaml") == 0 && ng == 1 && g[0].n == 0) {
                        status = print_server_yaml_list(c, g[0].r, o);
                } else if (strcmp(out, "yaml") == 0 && (n || !single_named(g, ng))) {
                        status = print_yaml_docs(c, res, all);
                }
                return status;
        }
        for (size_t i = 0, printed = 0; i < ng; i++) {
                if (json_array_size(items[i]) == 0)
                        continue;
                if (strcmp(out, "name") == 0) {
                        print_names(g[i].r, items[i]);
                        continue;
                }
                if (printed++)
                        putchar('\n');
                memset(o->widths, 0, sizeof(o->widths));
                print_table(g[i].r, items[i], o, true);
        }
        return status;
}

int kube_cmd_get(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct get_opts o = { .ns = "default" };
        struct kube_group *g = NULL;
        size_t ng = 0, total = 0;
        json_t **items;
        int status = 0, ret;

        ret = get_parse(argc, argv, &o);
        if (ret >= 0)
                return ret;
        if (kube_parse_targets(argv + optind, argc - optind, &g, &ng, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        for (size_t i = 0; i < ng; i++)
                if (g[i].n && o.all_ns) {
                        kube_groups_free(g, ng);
                        return kube_usage("get", "a resource cannot be retrieved by name across all namespaces");
                }
        o.with_kind = ng > 1;
        items = xcalloc(ng, sizeof(json_t *));
        for (size_t i = 0; i < ng; i++) {
                items[i] = json_array();
                status |= fetch_group(c, &g[i], &o, items[i]);
                total += json_array_size(items[i]);
        }
        status |= print_all(c, g, ng, items, &o);
        if (total == 0 && (o.output == NULL || o.wide || strcmp(o.output, "name") == 0) && !o.watch &&
            (ng > 1 || g[0].n == 0)) {
                if (o.all_ns || !g[0].r->namespaced)
                        fprintf(stderr, "No resources found\n");
                else
                        fprintf(stderr, "No resources found in %s namespace.\n", o.ns);
        }
        if (o.watch && ng == 1 && (o.output == NULL || o.wide))
                status = watch(c, &g[0], &o, items[0]);
        for (size_t i = 0; i < ng; i++)
                json_decref(items[i]);
        free(items);
        kube_groups_free(g, ng);
        return status;
}
