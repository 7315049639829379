/* A container's environment as the kubelet makes it
 * (kubelet_pods.go makeEnvironmentVariables): envFrom, then env with
 * $(VAR) expansion, then the service variables; and the expansion itself
 * (third_party/forked/golang/expansion). */
#include "orch/kubelet.h"
#include "orch/kube-calc.h"
#include "orch/kube-configdata.h"
#include "util/util.h"
#include <ctype.h>

/* ---- $(VAR) ---------------------------------------------------------------- */

static void expand_var(struct strbuf *b, const char *name, size_t n, const json_t *env)
{
        _cleanup_free_ char *key = xasprintf("%.*s", (int)n, name);
        const char *v = json_string_value(json_object_get(env, key));

        if (v) {
                strbuf_adds(b, v);
                return;
        }
        strbuf_adds(b, "$(");
        strbuf_add(b, name, n);
        strbuf_adds(b, ")");
}

char *kubelet_expand(const char *in, const json_t *env)
{
        struct strbuf b = { 0 };
        size_t i = 0, len = strlen(in);

        strbuf_adds(&b, "");
        while (i < len) {
                if (in[i] != '$' || i + 1 >= len) {
                        strbuf_add(&b, in + i, 1);
                        i++;
                        continue;
                }
                char next = in[i + 1];
                if (next == '$') {              /* escaped operator */
                        strbuf_adds(&b, "$");
                        i += 2;
                } else if (next == '(') {
                        const char *close = strchr(in + i + 2, ')');
                        if (close == NULL) {    /* incomplete: as written */
                                strbuf_adds(&b, "$(");
                                i += 2;
                                continue;
                        }
                        expand_var(&b, in + i + 2, (size_t)(close - (in + i + 2)), env);
                        i = (size_t)(close - in) + 1;
                } else {                        /* not an expression */
                        strbuf_add(&b, in + i, 2);
                        i += 2;
                }
        }
        return b.data;
}

/* ---- sources ------------------------------------------------------------- */

/* The classic rule (C_IDENTIFIER plus '-' and '.'), as the spec's row C2
 * asks. */
static bool env_name_valid(const char *s)
{
        if (!(isalpha((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
                return false;
        for (s++; *s; s++)
                if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
                        return false;
        return true;
}

struct src_kind {
        const char *kind;       /* "ConfigMap" */
        const char *lower;      /* "configmap" */
};
static const struct src_kind CM = { "ConfigMap", "configmap" }, SECRET = { "Secret", "secret" };

static const char *ns_of(const json_t *pod)
{
        const char *ns = json_string_value(json_object_get(json_object_get(pod, "metadata"), "namespace"));

        return ns && *ns ? ns : "default";
}

static int env_from_one(const struct kl_env_ctx *c, const json_t *src, json_t *env, berth_error_t **err)
{
        const struct src_kind *sk = json_object_get(src, "configMapRef") ? &CM : &SECRET;
        const json_t *ref = json_object_get(src, sk == &CM ? "configMapRef" : "secretRef");
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *prefix = json_string_value(json_object_get(src, "prefix"));
        struct kube_data_entry *ents = NULL;
        size_t n = 0;
        json_t *obj;

        if (name == NULL)
                return 0;
        obj = c->lookup(c->data, sk->kind, ns_of(c->pod), name);
        if (obj == NULL) {
                if (json_is_true(json_object_get(ref, "optional")))
                        return 0;
                return berth_fail(err, ENOENT, "%s \"%s\" not found", sk->lower, name);
        }
        if (kube_data_entries(obj, &ents, &n, err) < 0) {
                json_decref(obj);
                return -1;
        }
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *key = xasprintf("%s%s", prefix ? prefix : "", ents[i].key);
                if (!env_name_valid(key)) {
                        if (c->warn) {
                                _cleanup_free_ char *msg = xasprintf("Keys [%s] from the EnvFrom %s %s/%s were skipped "
                                                                     "since they are considered invalid environment "
                                                                     "variable names.", key, sk->lower,
                                                                     ns_of(c->pod), name);
                                c->warn(c->data, "InvalidEnvironmentVariableNames", msg);
                        }
                        continue;
                }
                json_object_set_new(env, key, must(json_stringn_nocheck(ents[i].val, strnlen(ents[i].val, ents[i].len))));
        }
        kube_data_entries_free(ents, n);
        json_decref(obj);
        return 0;
}

static int key_ref(const struct kl_env_ctx *c, const struct src_kind *sk, const json_t *ref, char **out,
                   berth_error_t **err)
{
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *key = json_string_value(json_object_get(ref, "key"));
        bool optional = json_is_true(json_object_get(ref, "optional"));
        size_t len;
        json_t *obj;
        int r;

        obj = name ? c->lookup(c->data, sk->kind, ns_of(c->pod), name) : NULL;
        if (obj == NULL) {
                if (optional)
                        return 0;
                return berth_fail(err, ENOENT, "%s \"%s\" not found", sk->lower, name ? name : "");
        }
        r = key ? kube_data_get(obj, key, out, &len) : -ENOENT;
        json_decref(obj);
        if (r < 0 && optional)
                return 0;
        if (r < 0)
                return berth_fail(err, ENOENT, "couldn't find key %s in %s %s/%s", key ? key : "", sk->kind,
                                  ns_of(c->pod), name);
        (*out)[strnlen(*out, len)] = '\0';
        return 1;
}

static char *label_value(const json_t *pod, const char *what, const char *path)
{
        /* metadata.labels['app'] */
        size_t n = strlen(what);
        if (strncmp(path, what, n) != 0 || path[n] != '[')
                return NULL;
        const char *key = path + n + 1;
        char quote_ch = *key;
        if (quote_ch != '\'' && quote_ch != '"')
                return NULL;
        const char *end = strchr(key + 1, quote_ch);
        if (end == NULL || end[1] != ']' || end[2] != '\0')
                return NULL;
        _cleanup_free_ char *k = xasprintf("%.*s", (int)(end - key - 1), key + 1);
        const json_t *map = json_object_get(json_object_get(pod, "metadata"), what + strlen("metadata."));
        const char *v = json_string_value(json_object_get(map, k));
        return xstrdup(v ? v : "");
}

static int field_ref(const struct kl_env_ctx *c, const json_t *ref, char **out, berth_error_t **err)
{
        const char *path = json_string_value(json_object_get(ref, "fieldPath"));
        const json_t *md = json_object_get(c->pod, "metadata"), *spec = json_object_get(c->pod, "spec");
        const char *v = NULL;

        if (path == NULL)
                return berth_fail(err, EINVAL, "fieldRef: fieldPath is required");
        if ((*out = label_value(c->pod, "metadata.labels", path)) != NULL ||
            (*out = label_value(c->pod, "metadata.annotations", path)) != NULL)
                return 1;
        if (strcmp(path, "metadata.name") == 0)
                v = json_string_value(json_object_get(md, "name"));
        else if (strcmp(path, "metadata.namespace") == 0)
                v = ns_of(c->pod);
        else if (strcmp(path, "metadata.uid") == 0)
                v = json_string_value(json_object_get(md, "uid"));
        else if (strcmp(path, "spec.nodeName") == 0)
                v = json_string_value(json_object_get(spec, "nodeName")) ?: c->node_name;
        else if (strcmp(path, "spec.serviceAccountName") == 0)
                v = json_string_value(json_object_get(spec, "serviceAccountName")) ?: "default";
        else if (strcmp(path, "status.podIP") == 0 || strcmp(path, "status.podIPs") == 0)
                v = c->pod_ip;
        else if (strcmp(path, "status.hostIP") == 0 || strcmp(path, "status.hostIPs") == 0)
                v = c->host_ip;
        else
                return berth_fail(err, EINVAL, "unsupported fieldPath: %s", path);
        *out = xstrdup(v ? v : "");
        return 1;
}

/* limits.cpu / requests.memory ... of a container, divided by divisor
 * and rounded up, as the downward API gives it. */
static int resource_ref(const struct kl_env_ctx *c, const json_t *ref, char **out, berth_error_t **err)
{
        const char *res = json_string_value(json_object_get(ref, "resource"));
        const char *div = json_string_value(json_object_get(ref, "divisor"));
        const char *dot = res ? strchr(res, '.') : NULL;

        if (dot == NULL)
                return berth_fail(err, EINVAL, "resourceFieldRef: unsupported resource %s", res ? res : "");
        _cleanup_free_ char *group = xasprintf("%.*s", (int)(dot - res), res);
        const char *name = dot + 1;
        const json_t *q = json_object_get(json_object_get(json_object_get(c->ctr, "resources"), group), name);
        bool cpu = strcmp(name, "cpu") == 0;
        int64_t val, d = cpu ? 1000 : 1;

        if (!cpu && strcmp(name, "memory") != 0)
                return berth_fail(err, EINVAL, "resourceFieldRef: unsupported resource %s", res);
        if (q == NULL && strcmp(group, "requests") == 0 && !cpu)
                val = 0;
        else if (q == NULL)
                val = cpu ? c->node_cpus_milli : c->node_mem;   /* no limit: the node's allocatable */
        else if ((cpu ? kube_quantity_json_milli(q, &val, err) : kube_quantity_json_bytes(q, &val, err)) < 0)
                return -1;
        if (div && (cpu ? kube_quantity_milli(div, &d, NULL) : kube_quantity_bytes(div, &d, NULL)) < 0)
                return berth_fail(err, EINVAL, "resourceFieldRef: invalid divisor %s", div);
        if (d <= 0)
                d = 1;
        *out = xasprintf("%lld", (long long)((val + d - 1) / d));
        return 1;
}

/* One env[] entry's value: 1 and *out, 0 when an optional source is
 * missing (the variable is left out), -1 on error. */
static int env_value(const struct kl_env_ctx *c, const json_t *e, const json_t *sofar, char **out,
                     berth_error_t **err)
{
        const json_t *vf = json_object_get(e, "valueFrom"), *ref;
        const char *v = json_string_value(json_object_get(e, "value"));

        if (vf == NULL) {
                *out = kubelet_expand(v ? v : "", sofar);
                return 1;
        }
        if ((ref = json_object_get(vf, "configMapKeyRef")) != NULL)
                return key_ref(c, &CM, ref, out, err);
        if ((ref = json_object_get(vf, "secretKeyRef")) != NULL)
                return key_ref(c, &SECRET, ref, out, err);
        if ((ref = json_object_get(vf, "fieldRef")) != NULL)
                return field_ref(c, ref, out, err);
        if ((ref = json_object_get(vf, "resourceFieldRef")) != NULL)
                return resource_ref(c, ref, out, err);
        return berth_fail(err, EINVAL, "env %s: unsupported valueFrom",
                          json_string_value(json_object_get(e, "name")));
}

int kubelet_env_resolve(const struct kl_env_ctx *c, json_t **out, berth_error_t **err)
{
        json_t *env = must(json_object()), *mapping, *src, *e, *v;
        const char *key;
        size_t i;

        json_array_foreach(json_object_get(c->ctr, "envFrom"), i, src) {
                if (env_from_one(c, src, env, err) < 0) {
                        json_decref(env);
                        return -1;
                }
        }
        json_array_foreach(json_object_get(c->ctr, "env"), i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                char *val = NULL;
                int r;
                if (name == NULL)
                        continue;
                /* what $(VAR) sees: the variables so far, then the services' */
                mapping = json_deep_copy(env);
                json_object_foreach((json_t *)c->service_env, key, v) {
                        if (json_object_get(mapping, key) == NULL)
                                json_object_set(mapping, key, v);
                }
                r = env_value(c, e, mapping, &val, err);
                json_decref(mapping);
                if (r < 0) {
                        json_decref(env);
                        return -1;
                }
                if (r > 0)
                        json_object_set_new(env, name, must(json_string_nocheck(val)));
                free(val);
        }
        json_object_foreach((json_t *)c->service_env, key, v) {
                if (json_object_get(env, key) == NULL)
                        json_object_set(env, key, v);
        }
        *out = env;
        return 0;
}
