/* The names of berth kube (pure, no I/O, built alone into the unit test):
 * the resources kubectl knows and its names for them, the targets a
 * command names, object access by path, and label selectors as
 * apimachinery's labels.Parse takes them and LabelSelectorAsSelector
 * prints them. */
#include "cli/cli-kube.h"
#include <ctype.h>
#include <strings.h>

static const struct kube_res resources[] = {
        { "Pod", "pods", "pod", "po", "", true },
        { "Deployment", "deployments", "deployment", "deploy", "apps", true },
        { "ReplicaSet", "replicasets", "replicaset", "rs", "apps", true },
        { "Service", "services", "service", "svc", "", true },
        { "Endpoints", "endpoints", "endpoints", "ep", "", true },
        { "ConfigMap", "configmaps", "configmap", "cm", "", true },
        { "Secret", "secrets", "secret", NULL, "", true },
        { "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", "hpa", "autoscaling",
          true },
        { "Event", "events", "event", "ev", "", true },
        { "Namespace", "namespaces", "namespace", "ns", "", false },
};

static bool res_named(const struct kube_res *r, const char *name, size_t len)
{
        const char *names[] = { r->kind, r->resource, r->singular, r->short_name };

        for (size_t i = 0; i < ARRAY_SIZE(names); i++)
                if (names[i] && strlen(names[i]) == len && strncasecmp(names[i], name, len) == 0)
                        return true;
        return false;
}

const struct kube_res *kube_res_find(const char *name)
{
        const char *dot = strchr(name, '.');
        size_t len = dot ? (size_t)(dot - name) : strlen(name);

        for (size_t i = 0; i < ARRAY_SIZE(resources); i++) {
                const struct kube_res *r = &resources[i];
                if (!res_named(r, name, len))
                        continue;
                /* "deployments.apps": the group must be the resource's */
                if (dot && strcasecmp(dot + 1, r->group) != 0)
                        continue;
                return r;
        }
        return NULL;
}

const struct kube_res *kube_res_by_kind(const char *kind)
{
        for (size_t i = 0; kind && i < ARRAY_SIZE(resources); i++)
                if (strcmp(resources[i].kind, kind) == 0)
                        return &resources[i];
        return NULL;
}

static char *lower(const char *s)
{
        char *l = xstrdup(s);

        for (char *p = l; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        return l;
}

char *kube_res_qualified(const struct kube_res *r)
{
        return *r->group ? xasprintf("%s.%s", r->singular, r->group) : xstrdup(r->singular);
}

char *kube_res_plural_qualified(const struct kube_res *r)
{
        return *r->group ? xasprintf("%s.%s", r->resource, r->group) : xstrdup(r->resource);
}

char *kube_kind_qualified(const char *kind, const char *api_version)
{
        const struct kube_res *r = kube_res_by_kind(kind);
        _cleanup_free_ char *k = NULL;
        const char *slash;

        if (r)
                return kube_res_qualified(r);
        k = lower(kind ? kind : "unknown");
        slash = api_version ? strchr(api_version, '/') : NULL;
        if (slash == NULL)
                return steal_pointer(&k);
        return xasprintf("%s.%.*s", k, (int)(slash - api_version), api_version);
}

/* ---- what a command names ---- */

static struct kube_group *group_for(struct kube_group **g, size_t *n, const struct kube_res *r)
{
        for (size_t i = 0; i < *n; i++)
                if ((*g)[i].r == r)
                        return &(*g)[i];
        *g = xrealloc(*g, (*n + 1) * sizeof(**g));
        (*g)[*n] = (struct kube_group){ .r = r };
        return &(*g)[(*n)++];
}

static void group_add_name(struct kube_group *g, const char *name)
{
        g->names = xrealloc(g->names, (g->n + 1) * sizeof(char *));
        g->names[g->n++] = xstrdup(name);
}

static int unknown_type(const char *t, berth_error_t **err)
{
        return berth_error(err, 0, "the server doesn't have a resource type \"%s\"", t);
}

/* "TYPE/NAME" arguments, each its own type. */
static int parse_slashed(char **args, int n, struct kube_group **g, size_t *ng, berth_error_t **err)
{
        for (int i = 0; i < n; i++) {
                const char *slash = strchr(args[i], '/');
                _cleanup_free_ char *t = NULL;
                const struct kube_res *r;
                if (slash == NULL)
                        return berth_error(err, 0, "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'berth kube get resource/<resource_name>' instead of 'berth kube get resource resource/<resource_name>'");
                t = xasprintf("%.*s", (int)(slash - args[i]), args[i]);
                r = kube_res_find(t);
                if (r == NULL)
                        return unknown_type(t, err);
                if (slash[1] == '\0')
                        return berth_error(err, 0, "arguments in resource/name form must have a single resource and name");
                group_add_name(group_for(g, ng, r), slash + 1);
        }
        return 0;
}

static int parse_types(const char *spec, struct kube_group **g, size_t *ng, berth_error_t **err)
{
        static const char *const all[] = { "pods", "services", "deployments", "replicasets", "horizontalpodautoscalers" };
        _cleanup_free_ char *copy = xstrdup(spec);
        char *save = NULL;

        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
                const struct kube_res *r = kube_res_find(t);
                if (strcmp(t, "all") == 0) {
                        for (size_t i = 0; i < ARRAY_SIZE(all); i++)
                                group_for(g, ng, kube_res_find(all[i]));
                        continue;
                }
                if (r == NULL)
                        return unknown_type(t, err);
                group_for(g, ng, r);
        }
        if (*ng == 0)
                return unknown_type(spec, err);
        return 0;
}

int kube_parse_targets(char **args, int n, struct kube_group **out, size_t *nout, berth_error_t **err)
{
        struct kube_group *g = NULL;
        size_t ng = 0;
        int ret;

        if (n > 0 && strchr(args[0], '/')) {
                ret = parse_slashed(args, n, &g, &ng, err);
        } else if (n > 0) {
                ret = parse_types(args[0], &g, &ng, err);
                for (int i = 1; ret == 0 && i < n; i++) {
                        if (strchr(args[i], '/')) {
                                ret = berth_error(err, 0, "there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'berth kube get resource/<resource_name>' instead of 'berth kube get resource resource/<resource_name>'");
                                break;
                        }
                        for (size_t j = 0; j < ng; j++)
                                group_add_name(&g[j], args[i]);
                }
        } else {
                ret = berth_error(err, 0, "you must specify the type of resource to get");
        }
        if (ret < 0) {
                kube_groups_free(g, ng);
                return -1;
        }
        *out = g;
        *nout = ng;
        return 0;
}

void kube_groups_free(struct kube_group *g, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                for (size_t j = 0; j < g[i].n; j++)
                        free(g[i].names[j]);
                free(g[i].names);
        }
        free(g);
}

const char *kube_status_reason(long status, const char *message)
{
        switch (status) {
        case 400: return "BadRequest";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "NotFound";
        case 405: return "MethodNotAllowed";
        case 409: return message && strstr(message, "already exists") ? "AlreadyExists" : "Conflict";
        case 410: return "Gone";
        case 413: return "RequestEntityTooLarge";
        case 415: return "UnsupportedMediaType";
        case 422: return "Invalid";
        case 429: return "TooManyRequests";
        case 503: return "ServiceUnavailable";
        case 504: return "Timeout";
        default: return "InternalError";
        }
}

/* ---- object access ---- */

const json_t *kube_at(const json_t *obj, const char *path)
{
        const char *p = path;

        while (obj && *p) {
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t)(dot - p) : strlen(p);
                char key[128];
                if (n >= sizeof(key))
                        return NULL;
                memcpy(key, p, n);
                key[n] = '\0';
                obj = json_object_get(obj, key);
                p += n + (dot ? 1 : 0);
        }
        return obj;
}

const char *kube_str(const json_t *obj, const char *path)
{
        return json_string_value(kube_at(obj, path));
}

long long kube_int(const json_t *obj, const char *path, long long dflt)
{
        const json_t *v = kube_at(obj, path);

        if (json_is_integer(v))
                return json_integer_value(v);
        if (json_is_real(v))
                return (long long)json_real_value(v);
        return dflt;
}

const char *kube_map_str(const json_t *obj, const char *map_path, const char *key)
{
        return json_string_value(json_object_get(kube_at(obj, map_path), key));
}

char *kube_scalar(const json_t *v)
{
        if (json_is_string(v))
                return xstrdup(json_string_value(v));
        if (json_is_integer(v))
                return xasprintf("%lld", (long long)json_integer_value(v));
        if (json_is_real(v))
                return xasprintf("%g", json_real_value(v));
        if (json_is_boolean(v))
                return xstrdup(json_is_true(v) ? "true" : "false");
        return xstrdup("");
}

/* ---- label selectors ---- */

struct lexer {
        const char *p;
        char *tok;      /* the current token's text */
        int kind;       /* T_* */
};
enum { T_END, T_IDENT, T_EQ, T_DEQ, T_NEQ, T_NOT, T_OPEN, T_CLOSE, T_COMMA, T_GT, T_LT, T_IN, T_NOTIN };

static bool special(char ch)
{
        return ch == '=' || ch == '!' || ch == '(' || ch == ')' || ch == ',' || ch == '<' || ch == '>';
}

static void lex(struct lexer *l)
{
        const char *s;

        free(l->tok);
        l->tok = NULL;
        while (isspace((unsigned char)*l->p))
                l->p++;
        s = l->p;
        if (*s == '\0') {
                l->kind = T_END;
                l->tok = xstrdup("");
                return;
        }
        if (special(*s)) {
                static const struct {
                        const char *text;
                        int kind;
                } ops[] = { { "==", T_DEQ }, { "!=", T_NEQ }, { "=", T_EQ }, { "!", T_NOT }, { "(", T_OPEN },
                            { ")", T_CLOSE }, { ",", T_COMMA }, { ">", T_GT }, { "<", T_LT } };
                for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
                        if (str_has_prefix(s, ops[i].text)) {
                                l->kind = ops[i].kind;
                                l->tok = xstrdup(ops[i].text);
                                l->p += strlen(ops[i].text);
                                return;
                        }
                }
        }
        while (*l->p && !isspace((unsigned char)*l->p) && !special(*l->p))
                l->p++;
        l->tok = xasprintf("%.*s", (int)(l->p - s), s);
        l->kind = strcmp(l->tok, "in") == 0 ? T_IN : strcmp(l->tok, "notin") == 0 ? T_NOTIN : T_IDENT;
}

/* A label name: [prefix/]name, name up to 63 of [A-Za-z0-9-_.] starting
 * and ending alphanumeric; a value the same or empty. */
static bool valid_name_part(const char *s, size_t n, bool allow_empty)
{
        if (n == 0)
                return allow_empty;
        if (n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
                        return false;
        return true;
}

static bool valid_key(const char *k)
{
        const char *slash = strchr(k, '/');

        if (slash == NULL)
                return valid_name_part(k, strlen(k), false);
        if (slash == k || slash - k > 253)
                return false;
        for (const char *p = k; p < slash; p++)
                if (!islower((unsigned char)*p) && !isdigit((unsigned char)*p) && *p != '-' && *p != '.')
                        return false;
        return valid_name_part(slash + 1, strlen(slash + 1), false);
}

static int parse_values(struct lexer *l, json_t *values, berth_error_t **err)
{
        lex(l);
        if (l->kind != T_OPEN)
                return berth_error(err, 0, "unable to parse requirement: found '%s', expected: '('", l->tok);
        lex(l);
        while (l->kind != T_CLOSE) {
                if (l->kind != T_IDENT)
                        return berth_error(err, 0, "unable to parse requirement: found '%s', expected: ',', ')' or identifier", l->tok);
                json_array_append_new(values, json_string(l->tok));
                lex(l);
                if (l->kind == T_COMMA)
                        lex(l);
                else if (l->kind != T_CLOSE)
                        return berth_error(err, 0, "unable to parse requirement: found '%s', expected: ',' or ')'", l->tok);
        }
        if (json_array_size(values) == 0)
                return berth_error(err, 0, "unable to parse requirement: for 'in', 'notin' operators, values set can't be empty");
        lex(l);
        return 0;
}

static int parse_requirement(struct lexer *l, json_t *reqs, berth_error_t **err)
{
        _cleanup_free_ char *key = NULL;
        json_t *values = json_array();
        const char *op;
        bool negated = false;

        if (l->kind == T_NOT) {
                negated = true;
                lex(l);
        }
        if (l->kind != T_IDENT) {
                json_decref(values);
                return berth_error(err, 0, "unable to parse requirement: found '%s', expected: identifier", l->tok);
        }
        key = steal_pointer(&l->tok);
        if (!valid_key(key)) {
                json_decref(values);
                return berth_error(err, 0, "unable to parse requirement: invalid label key \"%s\"", key);
        }
        lex(l);
        if (negated || l->kind == T_END || l->kind == T_COMMA) {
                op = negated ? "DoesNotExist" : "Exists";
        } else if (l->kind == T_IN || l->kind == T_NOTIN) {
                op = l->kind == T_IN ? "In" : "NotIn";
                if (parse_values(l, values, err) < 0) {
                        json_decref(values);
                        return -1;
                }
        } else if (l->kind == T_EQ || l->kind == T_DEQ || l->kind == T_NEQ || l->kind == T_GT || l->kind == T_LT) {
                op = l->kind == T_NEQ ? "NotEquals" : l->kind == T_GT ? "Gt" : l->kind == T_LT ? "Lt" : "Equals";
                lex(l);
                if (l->kind == T_IDENT) {
                        json_array_append_new(values, json_string(l->tok));
                        lex(l);
                } else if (l->kind == T_END || l->kind == T_COMMA) {
                        json_array_append_new(values, json_string(""));
                } else {
                        json_decref(values);
                        return berth_error(err, 0, "unable to parse requirement: found '%s', expected: identifier", l->tok);
                }
        } else {
                json_decref(values);
                return berth_error(err, 0, "unable to parse requirement: found '%s', expected: in, notin, =, ==, !=, gt, lt", l->tok);
        }
        for (size_t i = 0; i < json_array_size(values); i++) {
                const char *v = json_string_value(json_array_get(values, i));
                if (!valid_name_part(v, strlen(v), true)) {
                        berth_error(err, 0, "unable to parse requirement: invalid label value: \"%s\"", v);
                        json_decref(values);
                        return -1;
                }
        }
        json_array_append_new(reqs, json_pack("{s:s, s:s, s:o}", "key", key, "operator", op, "values", values));
        return 0;
}

int kube_selector_parse(const char *s, json_t **out, berth_error_t **err)
{
        struct lexer l = { .p = s };
        json_t *reqs = json_array();

        lex(&l);
        while (l.kind != T_END) {
                if (parse_requirement(&l, reqs, err) < 0)
                        goto fail;
                if (l.kind == T_COMMA) {
                        lex(&l);
                        if (l.kind == T_END) {
                                berth_error(err, 0, "found '', expected: identifier after ','");
                                goto fail;
                        }
                } else if (l.kind != T_END) {
                        berth_error(err, 0, "found '%s', expected: ',' or 'end of string'", l.tok);
                        goto fail;
                }
        }
        free(l.tok);
        *out = reqs;
        return 0;
fail:
        free(l.tok);
        json_decref(reqs);
        return -1;
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The values of an expression, sorted, joined with ",". */
static char *sorted_join(const json_t *values)
{
        size_t n = json_array_size(values);
        _cleanup_free_ const char **v = xcalloc(n + 1, sizeof(char *));
        struct strbuf b = { 0 };

        for (size_t i = 0; i < n; i++)
                v[i] = json_string_value(json_array_get(values, i)) ? json_string_value(json_array_get(values, i)) : "";
        qsort(v, n, sizeof(char *), cmp_str);
        strbuf_adds(&b, "");
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strbuf_adds(&b, ",");
                strbuf_adds(&b, v[i]);
        }
        return b.data;
}

static char *expression_string(const json_t *e)
{
        const char *key = kube_str(e, "key"), *op = kube_str(e, "operator");
        _cleanup_free_ char *vals = sorted_join(json_object_get(e, "values"));

        if (key == NULL || op == NULL)
                return xstrdup("");
        if (strcmp(op, "In") == 0)
                return xasprintf("%s in (%s)", key, vals);
        if (strcmp(op, "NotIn") == 0)
                return xasprintf("%s notin (%s)", key, vals);
        if (strcmp(op, "Exists") == 0)
                return xstrdup(key);
        if (strcmp(op, "DoesNotExist") == 0)
                return xasprintf("!%s", key);
        return xasprintf("%s %s (%s)", key, op, vals);
}

struct keyed {
        const char *key;
        char *text;
};

static int cmp_keyed(const void *a, const void *b)
{
        return strcmp(((const struct keyed *)a)->key, ((const struct keyed *)b)->key);
}

char *kube_selector_string(const json_t *sel)
{
        const json_t *ml = json_object_get(sel, "matchLabels"), *me = json_object_get(sel, "matchExpressions");
        size_t n = 0, cap;
        struct keyed *k;
        struct strbuf b = { 0 };
        const char *key;
        json_t *v;

        if (ml == NULL && me == NULL)
                ml = sel;       /* a plain map, as Service.spec.selector */
        cap = json_object_size(ml) + json_array_size(me) + 1;
        k = xcalloc(cap, sizeof(*k));
        json_object_foreach((json_t *)ml, key, v) {
                _cleanup_free_ char *s = kube_scalar(v);
                k[n].key = key;
                k[n++].text = xasprintf("%s=%s", key, s);
        }
        for (size_t i = 0; i < json_array_size(me); i++) {
                const json_t *e = json_array_get(me, i);
                k[n].key = kube_str(e, "key") ? kube_str(e, "key") : "";
                k[n++].text = expression_string(e);
        }
        qsort(k, n, sizeof(*k), cmp_keyed);
        strbuf_adds(&b, "");
        for (size_t i = 0; i < n; i++) {
                if (i)
                        strbuf_adds(&b, ",");
                strbuf_adds(&b, k[i].text);
                free(k[i].text);
        }
        free(k);
        return b.data;
}

char *kube_labels_string(const json_t *labels)
{
        char *s;

        if (json_object_size(labels) == 0)
                return xstrdup("<none>");
        s = kube_selector_string(labels);
        return s;
}
