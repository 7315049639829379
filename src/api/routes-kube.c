/* /berth/v1: Kubernetes objects (docs/kube-api.md).  The orchestrator
 * (src/orch/kube-api.h) does the work; these are the HTTP shapes. */
#include "api/http.h"
#include "api/routes.h"
#include "orch/kube-api.h"
#include "orch/kube-yaml.h"
#include "util/util.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct kube *kube_of(struct api *api, berth_error_t **err)
{
        if (api->kube == NULL)
                http_errorf(err, ENOSYS, "the orchestrator is not running in this daemon");
        return api->kube;
}

/* JSON, or YAML when the client asked ?output=yaml. */
static int reply_object(struct http_request *req, unsigned status, json_t *obj)
{
        const char *output = http_query(req, "output");

        if (output && strcmp(output, "yaml") == 0) {
                const char *kind = json_string_value(json_object_get(obj, "kind"));
                _cleanup_free_ char *text = NULL;
                /* a list prints as its items, one document each, as kubectl
                 * prints several objects */
                if (kind && strlen(kind) > 4 && strcmp(kind + strlen(kind) - 4, "List") == 0)
                        text = kube_yaml_emit_docs(json_object_get(obj, "items"));
                else
                        text = kube_yaml_emit(obj);
                json_decref(obj);
                return http_reply_raw(req, status, "application/yaml", text, strlen(text));
        }
        return http_reply_json(req, status, obj);
}

static const struct kube_kind *resource_of(struct http_request *req, berth_error_t **err)
{
        const char *res = http_param(req, "resource");
        const struct kube_kind *kk = kube_kind_by_name(res);

        if (kk == NULL)
                http_errorf(err, ENOENT, "the server doesn't have a resource type \"%s\"", res);
        return kk;
}

static int post_apply(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        size_t len;
        const char *body = http_body(req, &len);
        json_t *out;

        if (k == NULL || kube_apply_text(k, body, len, http_query(req, "namespace"), &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int post_delete(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        size_t len;
        const char *body = http_body(req, &len);
        json_t *out;

        const char *grace = http_query(req, "gracePeriodSeconds");

        if (k == NULL || kube_delete_text(k, body, len, http_query(req, "namespace"), http_query(req, "propagationPolicy"),
                                          grace ? strtoll(grace, NULL, 10) : -1, &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int get_list(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        const struct kube_kind *kk = k ? resource_of(req, err) : NULL;
        json_t *out;

        if (kk == NULL ||
            kube_list_objects(k, kk->kind, http_param(req, "ns"), http_query(req, "labelSelector"), &out, err) < 0)
                return -1;
        /* events: ?fieldSelector=involvedObject.kind=K,involvedObject.name=N */
        const char *fs = http_query(req, "fieldSelector");
        if (fs && strcmp(kk->kind, "Event") == 0) {
                json_t *items = json_object_get(out, "items"), *keep = must(json_array()), *ev;
                size_t i;
                json_array_foreach(items, i, ev) {
                        json_t *inv = json_object_get(ev, "involvedObject");
                        _cleanup_free_ char *copy = xstrdup(fs);
                        bool ok = true;
                        for (char *save = NULL, *term = strtok_r(copy, ",", &save); term && ok;
                             term = strtok_r(NULL, ",", &save)) {
                                char *eq = strchr(term, '=');
                                if (eq == NULL || strncmp(term, "involvedObject.", 15) != 0)
                                        continue;
                                *eq = '\0';
                                const char *v = json_string_value(json_object_get(inv, term + 15));
                                ok = v && strcmp(v, eq + 1) == 0;
                        }
                        if (ok)
                                json_array_append(keep, ev);
                }
                json_object_set_new(out, "items", keep);
        }
        return reply_object(req, 200, out);
}

static int get_object(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        const struct kube_kind *kk = k ? resource_of(req, err) : NULL;
        json_t *obj;

        if (kk == NULL || kube_get(k, kk->kind, kk->namespaced ? http_param(req, "ns") : NULL, http_param(req, "name"),
                                   &obj, err) < 0)
                return -1;
        return reply_object(req, 200, obj);
}

static int delete_object(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        const struct kube_kind *kk = k ? resource_of(req, err) : NULL;
        const char *grace = http_query(req, "gracePeriodSeconds");
        json_t *out = NULL;

        if (kk == NULL ||
            kube_delete_object(k, kk->kind, kk->namespaced ? http_param(req, "ns") : NULL, http_param(req, "name"),
                               http_query(req, "propagationPolicy"), grace ? strtoll(grace, NULL, 10) : -1, &out,
                               err) < 0)
                return -1;
        return http_reply_json(req, 200, out ? out : json_object());
}

static int put_scale(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        const struct kube_kind *kk = k ? resource_of(req, err) : NULL;
        json_t *body = NULL, *out;

        if (kk == NULL || http_body_json(req, &body, err) < 0)
                return -1;
        json_t *replicas = json_object_get(json_object_get(body, "spec"), "replicas");
        if (!json_is_integer(replicas)) {
                json_decref(body);
                return http_errorf(err, EINVAL, "spec.replicas: Required value");
        }
        int r = kube_scale(k, kk->kind, http_param(req, "ns"), http_param(req, "name"), json_integer_value(replicas),
                           &out, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

static int post_rollback(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        json_t *body = NULL;
        long revision = 0;

        if (k == NULL || http_body_json(req, &body, err) < 0)
                return -1;
        long to = (long)json_integer_value(json_object_get(body, "toRevision"));
        json_decref(body);
        if (kube_rollback(k, http_param(req, "ns"), http_param(req, "name"), to, &revision, err) < 0)
                return -1;
        return http_reply_json(req, 200, json_pack("{s:I}", "revision", (json_int_t)revision));
}

static int get_generate(struct http_request *req, void *data, berth_error_t **err)
{
        struct kube *k = kube_of(data, err);
        const char *names = http_query(req, "names");
        _cleanup_free_ char *copy = xstrdup(names ? names : "");
        _cleanup_free_ char *yaml = NULL;
        const char *list[64];
        size_t n = 0;

        if (k == NULL)
                return -1;
        for (char *save = NULL, *p = strtok_r(copy, ",", &save); p && n < 64; p = strtok_r(NULL, ",", &save))
                list[n++] = p;
        if (n == 0)
                return http_errorf(err, EINVAL, "generate: name at least one container or pod");
        if (kube_generate(k, list, n, &yaml, err) < 0)
                return -1;
        return http_reply_raw(req, 200, "application/yaml", yaml, strlen(yaml));
}

void api_routes_kube(struct api *api)
{
        struct http_server *s = api->http;

        http_route(s, "POST", "/berth/v1/apply", post_apply, api);
        http_route(s, "POST", "/berth/v1/delete", post_delete, api);
        http_route(s, "GET", "/berth/v1/generate", get_generate, api);
        http_route(s, "GET", "/berth/v1/namespaces/{ns}/{resource}", get_list, api);
        http_route(s, "GET", "/berth/v1/namespaces/{ns}/{resource}/{name}", get_object, api);
        http_route(s, "DELETE", "/berth/v1/namespaces/{ns}/{resource}/{name}", delete_object, api);
        http_route(s, "PUT", "/berth/v1/namespaces/{ns}/{resource}/{name}/scale", put_scale, api);
        http_route(s, "POST", "/berth/v1/namespaces/{ns}/deployments/{name}/rollback", post_rollback, api);
        http_route(s, "GET", "/berth/v1/{resource}", get_list, api);
        http_route(s, "GET", "/berth/v1/{resource}/{name}", get_object, api);
}
