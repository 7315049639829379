/* What kube-apiserver fills in and checks in a Pod (pkg/apis/core/v1
 * defaults.go and the parts of validation the kubelet relies on), so that
 * `get -o yaml` shows what a cluster would show and the kubelet never
 * meets a spec it cannot run. */
#include "orch/kubelet.h"
#include "util/util.h"
#include <ctype.h>

#define DEFAULT_GRACE 30
#define MODE_0644 420

/* A field path as the errors name it: "spec.containers[0].name". */
struct fpath {
        const char *spec;       /* "spec." or "spec.template.spec." */
};

static void set_default(json_t *obj, const char *key, json_t *value)
{
        if (json_object_get(obj, key) == NULL)
                json_object_set_new(obj, key, value);
        else
                json_decref(value);
}

static void set_default_int(json_t *obj, const char *key, json_int_t v)
{
        json_t *cur = json_object_get(obj, key);

        /* 0 is Go's zero value: kube-apiserver defaults it too */
        if (cur == NULL || json_is_null(cur) || (json_is_integer(cur) && json_integer_value(cur) == 0))
                json_object_set_new(obj, key, must(json_integer(v)));
}

const char *kubelet_default_pull_policy(const char *image)
{
        const char *slash, *colon;

        if (image == NULL)
                return "IfNotPresent";
        if (strchr(image, '@'))
                return "IfNotPresent";
        slash = strrchr(image, '/');
        colon = strrchr(slash ? slash : image, ':');
        if (colon == NULL || strcmp(colon + 1, "latest") == 0)
                return "Always";
        return "IfNotPresent";
}

static bool rfc1123_label(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
                        return false;
        return true;
}

static void http_get_defaults(json_t *handler)
{
        json_t *hg = json_object_get(handler, "httpGet");

        if (!json_is_object(hg))
                return;
        json_t *path = json_object_get(hg, "path");
        if (path == NULL || (json_is_string(path) && json_string_value(path)[0] == '\0'))
                json_object_set_new(hg, "path", must(json_string("/")));
        set_default(hg, "scheme", must(json_string("HTTP")));
}

static int handler_count(const json_t *h)
{
        static const char *const kinds[] = { "exec", "httpGet", "tcpSocket", "grpc" };
        int n = 0;

        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                n += json_object_get(h, kinds[i]) != NULL;
        return n;
}

static int probe_defaults(json_t *probe, const char *kind, const char *where, berth_error_t **err)
{
        static const char *const fields[] = { "initialDelaySeconds", "timeoutSeconds", "periodSeconds",
                                              "successThreshold", "failureThreshold",
                                              "terminationGracePeriodSeconds" };

        if (!json_is_object(probe))
                return berth_fail(err, EINVAL, "%s.%s: Invalid value: expected an object", where, kind);
        if (handler_count(probe) != 1)
                return berth_fail(err, EINVAL, "%s.%s: %s", where, kind,
                                  handler_count(probe) ? "Forbidden: may not specify more than 1 handler type"
                                                       : "Required value: must specify a handler type");
        for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
                json_t *v = json_object_get(probe, fields[i]);
                if (v && !json_is_null(v) && (!json_is_integer(v) || json_integer_value(v) < 0))
                        return berth_fail(err, EINVAL, "%s.%s.%s: Invalid value: must be greater than or equal to 0",
                                          where, kind, fields[i]);
        }
        set_default_int(probe, "timeoutSeconds", 1);
        set_default_int(probe, "periodSeconds", 10);
        set_default_int(probe, "successThreshold", 1);
        set_default_int(probe, "failureThreshold", 3);
        http_get_defaults(probe);
        json_int_t st = json_integer_value(json_object_get(probe, "successThreshold"));
        if (strcmp(kind, "readinessProbe") != 0 && st != 1)
                return berth_fail(err, EINVAL, "%s.%s.successThreshold: Invalid value: %lld: must be 1", where, kind,
                                  (long long)st);
        if (json_object_get(probe, "exec") && json_array_size(json_object_get(json_object_get(probe, "exec"),
                                                                               "command")) == 0)
                return berth_fail(err, EINVAL, "%s.%s.exec.command: Required value", where, kind);
        return 0;
}

static int lifecycle_defaults(json_t *ctr, const char *where, berth_error_t **err)
{
        json_t *lc = json_object_get(ctr, "lifecycle");
        static const char *const hooks[] = { "preStop", "postStart" };

        for (size_t i = 0; i < ARRAY_SIZE(hooks); i++) {
                json_t *h = json_object_get(lc, hooks[i]);
                if (h == NULL)
                        continue;
                if (handler_count(h) != 1 && json_object_get(h, "sleep") == NULL)
                        return berth_fail(err, EINVAL, "%s.lifecycle.%s: Required value: must specify a handler type",
                                          where, hooks[i]);
                http_get_defaults(h);
        }
        return 0;
}

static int pull_policy(json_t *ctr, const char *where, berth_error_t **err)
{
        const char *img = json_string_value(json_object_get(ctr, "image"));
        const char *p = json_string_value(json_object_get(ctr, "imagePullPolicy"));

        if (p == NULL || *p == '\0') {
                json_object_set_new(ctr, "imagePullPolicy", must(json_string(kubelet_default_pull_policy(img))));
                return 0;
        }
        if (strcmp(p, "Always") && strcmp(p, "IfNotPresent") && strcmp(p, "Never")) {
                _cleanup_free_ char *q = quote(p);
                return berth_fail(err, EINVAL, "%s.imagePullPolicy: Unsupported value: %s: supported values: "
                                  "\"Always\", \"IfNotPresent\", \"Never\"", where, q);
        }
        return 0;
}

/* Pods only: a resource with a limit and no request gets the limit as
 * its request. */
static void requests_from_limits(json_t *ctr)
{
        json_t *res = json_object_get(ctr, "resources");
        json_t *lim = json_object_get(res, "limits"), *req, *v;
        const char *key;

        if (!json_is_object(lim) || json_object_size(lim) == 0)
                return;
        req = json_object_get(res, "requests");
        if (!json_is_object(req)) {
                req = must(json_object());
                json_object_set_new(res, "requests", req);
        }
        json_object_foreach(lim, key, v) if (json_object_get(req, key) == NULL) json_object_set(req, key, v);
}

static int env_defaults(json_t *ctr, const char *where, berth_error_t **err)
{
        json_t *env = json_object_get(ctr, "env"), *e;
        size_t i;

        json_array_foreach(env, i, e) {
                const char *name = json_string_value(json_object_get(e, "name"));
                json_t *fr = json_object_get(json_object_get(e, "valueFrom"), "fieldRef");
                if (name == NULL || *name == '\0')
                        return berth_fail(err, EINVAL, "%s.env[%zu].name: Required value", where, i);
                if (json_is_object(fr))
                        set_default(fr, "apiVersion", must(json_string("v1")));
        }
        return 0;
}

static int container_defaults(json_t *ctr, const char *where, bool is_pod, berth_error_t **err)
{
        static const char *const probes[] = { "livenessProbe", "readinessProbe", "startupProbe" };
        const char *image = json_string_value(json_object_get(ctr, "image"));
        json_t *ports = json_object_get(ctr, "ports"), *port;
        size_t i;
        int ret;

        if (image == NULL || *image == '\0')
                return berth_fail(err, EINVAL, "%s.image: Required value", where);
        if ((ret = pull_policy(ctr, where, err)) < 0)
                return ret;
        set_default(ctr, "terminationMessagePath", must(json_string("/dev/termination-log")));
        set_default(ctr, "terminationMessagePolicy", must(json_string("File")));
        if (!json_is_object(json_object_get(ctr, "resources")))
                json_object_set_new(ctr, "resources", must(json_object()));
        if (is_pod)
                requests_from_limits(ctr);
        json_array_foreach(ports, i, port) {
                if (json_is_object(port))
                        set_default(port, "protocol", must(json_string("TCP")));
        }
        for (i = 0; i < ARRAY_SIZE(probes); i++) {
                json_t *p = json_object_get(ctr, probes[i]);
                if (p && !json_is_null(p) && (ret = probe_defaults(p, probes[i], where, err)) < 0)
                        return ret;
        }
        if ((ret = lifecycle_defaults(ctr, where, err)) < 0)
                return ret;
        return env_defaults(ctr, where, err);
}

static int containers_defaults(json_t *spec, const char *list, const struct fpath *fp, bool is_pod, json_t *names,
                               berth_error_t **err)
{
        json_t *ctrs = json_object_get(spec, list), *c;
        size_t i;
        int ret;

        if (ctrs && !json_is_array(ctrs))
                return berth_fail(err, EINVAL, "%s%s: Invalid value: expected a list", fp->spec, list);
        json_array_foreach(ctrs, i, c) {
                _cleanup_free_ char *where = xasprintf("%s%s[%zu]", fp->spec, list, i);
                const char *name = json_string_value(json_object_get(c, "name"));

                if (!json_is_object(c))
                        return berth_fail(err, EINVAL, "%s: Invalid value: expected an object", where);
                if (name == NULL || *name == '\0')
                        return berth_fail(err, EINVAL, "%s.name: Required value", where);
                if (!rfc1123_label(name)) {
                        _cleanup_free_ char *q = quote(name);
                        return berth_fail(err, EINVAL, "%s.name: Invalid value: %s: a lowercase RFC 1123 label "
                                          "must consist of lower case alphanumeric characters or '-', and must "
                                          "start and end with an alphanumeric character", where, q);
                }
                if (json_object_get(names, name))
                        return berth_fail(err, EINVAL, "%s.name: Duplicate value: \"%s\"", where, name);
                json_object_set_new(names, name, json_true());
                if (strcmp(list, "initContainers") == 0) {
                        /* sidecars (restartPolicy: Always) are not supported */
                        static const char *const no[] = { "livenessProbe", "readinessProbe", "startupProbe" };
                        for (size_t k = 0; k < ARRAY_SIZE(no); k++)
                                if (json_object_get(c, no[k]))
                                        return berth_fail(err, EINVAL, "%s.%s: Forbidden: may not be set for init "
                                                          "containers", where, no[k]);
                }
                if ((ret = container_defaults(c, where, is_pod, err)) < 0)
                        return ret;
        }
        return 0;
}

static void volume_defaults(json_t *spec)
{
        json_t *vols = json_object_get(spec, "volumes"), *v;
        static const char *const with_mode[] = { "configMap", "secret", "projected", "downwardAPI" };
        static const char *const sources[] = { "emptyDir", "hostPath", "configMap", "secret", "projected",
                                               "downwardAPI", "persistentVolumeClaim", "nfs", "csi", "ephemeral" };
        size_t i;

        json_array_foreach(vols, i, v) {
                bool any = false;
                for (size_t k = 0; k < ARRAY_SIZE(sources); k++)
                        any |= json_object_get(v, sources[k]) != NULL;
                if (!any)
                        json_object_set_new(v, "emptyDir", must(json_object()));
                for (size_t k = 0; k < ARRAY_SIZE(with_mode); k++) {
                        json_t *src = json_object_get(v, with_mode[k]);
                        if (json_is_object(src))
                                set_default(src, "defaultMode", must(json_integer(MODE_0644)));
                }
                json_t *hp = json_object_get(v, "hostPath");
                if (json_is_object(hp))
                        set_default(hp, "type", must(json_string("")));
        }
}

static int spec_defaults(json_t *spec, const struct fpath *fp, bool is_pod, berth_error_t **err)
{
        const char *rp = json_string_value(json_object_get(spec, "restartPolicy"));
        _cleanup_free_ char *q = NULL;
        json_t *names = must(json_object());
        int ret;

        if (json_array_size(json_object_get(spec, "containers")) == 0) {
                json_decref(names);
                return berth_fail(err, EINVAL, "%scontainers: Required value", fp->spec);
        }
        if (rp && strcmp(rp, "Always") && strcmp(rp, "OnFailure") && strcmp(rp, "Never")) {
                json_decref(names);
                q = quote(rp);
                return berth_fail(err, EINVAL, "%srestartPolicy: Unsupported value: %s: supported values: "
                                  "\"Always\", \"OnFailure\", \"Never\"", fp->spec, q);
        }
        ret = containers_defaults(spec, "initContainers", fp, is_pod, names, err);
        if (ret == 0)
                ret = containers_defaults(spec, "containers", fp, is_pod, names, err);
        json_decref(names);
        if (ret < 0)
                return ret;
        set_default(spec, "restartPolicy", must(json_string("Always")));
        set_default(spec, "dnsPolicy", must(json_string("ClusterFirst")));
        set_default(spec, "schedulerName", must(json_string("default-scheduler")));
        set_default(spec, "securityContext", must(json_object()));
        if (json_object_get(spec, "terminationGracePeriodSeconds") == NULL ||
            json_is_null(json_object_get(spec, "terminationGracePeriodSeconds")))
                json_object_set_new(spec, "terminationGracePeriodSeconds", must(json_integer(DEFAULT_GRACE)));
        if (is_pod)
                set_default(spec, "enableServiceLinks", json_true());
        volume_defaults(spec);
        return 0;
}

int kubelet_pod_defaults(json_t *pod, berth_error_t **err)
{
        const char *kind = json_string_value(json_object_get(pod, "kind"));
        bool is_pod = kind && strcmp(kind, "Pod") == 0;
        struct fpath fp = { .spec = is_pod ? "spec." : "spec.template.spec." };
        json_t *spec = json_object_get(pod, "spec");

        if (!json_is_object(spec))
                return berth_fail(err, EINVAL, "%.*s: Required value", (int)strlen(fp.spec) - 1, fp.spec);
        return spec_defaults(spec, &fp, is_pod, err);
}

/* kube.c reaches the kubelet through weak references, which do not pull
 * an object out of a static library: this strong one (the API's apply
 * always links this file) brings kubelet.c into every binary. */
__attribute__((used)) static void (*const kubelet_anchor[])(struct kube *) = { kubelet_reconcile, kubelet_fini };
