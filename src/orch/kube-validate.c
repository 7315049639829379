/* Validation and defaulting of objects on their way into the store, as
 * kube-apiserver does it, with its messages:
 *   Deployment.apps "web" is invalid: spec.selector: Invalid value: ...
 * Kind-specific rules live with their controllers (kubelet_pod_defaults,
 * kube_service_validate, kube_configmap_normalize...); this file holds
 * the shared ones and the dispatch. */
#include "orch/kube-validate.h"
#include "orch/kube-calc.h"
#include "orch/kube-configdata.h"
#include "orch/kube-service.h"
#include "orch/kube-workloads.h"
#include "orch/kubelet.h"
#include "util/util.h"
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>

static char *group_kind(const json_t *obj)
{
        const char *kind = json_string_value(json_object_get(obj, "kind"));
        const char *av = json_string_value(json_object_get(obj, "apiVersion"));
        const char *slash = av ? strchr(av, '/') : NULL;

        if (slash == NULL)
                return xstrdup(kind ? kind : "Object");
        return xasprintf("%s.%.*s", kind, (int)(slash - av), av);
}

__attribute__((format(printf, 3, 4))) static int invalid(const json_t *obj, berth_error_t **err, const char *fmt,
                                                         ...)
{
        _cleanup_free_ char *gk = group_kind(obj);
        _cleanup_free_ char *msg = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        return berth_fail(err, EINVAL, "%s \"%s\" is invalid: %s", gk, kube_meta_str(obj, "name"), msg);
}

/* The detail of a helper's error, under the object's name. */
static int invalid_wrap(const json_t *obj, berth_error_t **err)
{
        _cleanup_free_ char *gk = group_kind(obj);
        const char *name = kube_meta_str(obj, "name");
        _cleanup_free_ char *prefix = xasprintf("%s \"%s\" is invalid", gk, name);

        /* "is invalid" messages name the object already; decoding errors
         * ("cannot be handled as a Secret") are kube-apiserver's as they are */
        if (*err && strstr((*err)->msg, "is invalid") == NULL && strstr((*err)->msg, "cannot be handled") == NULL)
                return berth_error_wrap(err, "%s", prefix);
        return -EINVAL;
}

static bool dns_label_char(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

/* RFC 1123 subdomain (most names) or RFC 1035 label (Services). */
static int check_name(const json_t *obj, bool label_1035, berth_error_t **err)
{
        const char *name = kube_meta_str(obj, "name");
        size_t len = name ? strlen(name) : 0;
        bool ok = len > 0 && len <= (label_1035 ? 63 : 253) && isalnum((unsigned char)name[0]) &&
                  isalnum((unsigned char)name[len - 1]);

        if (name == NULL)
                return berth_fail(err, EINVAL, "%s: metadata.name: Required value: name is required",
                                  json_string_value(json_object_get(obj, "kind")));
        if (label_1035 && !(name[0] >= 'a' && name[0] <= 'z'))
                ok = false;
        for (size_t i = 0; ok && i < len; i++)
                ok = dns_label_char(name[i]) || (!label_1035 && name[i] == '.');
        if (!ok)
                return invalid(obj, err,
                               label_1035 ? "metadata.name: Invalid value: \"%s\": a DNS-1035 label must consist of "
                                            "lower case alphanumeric characters or '-', start with an alphabetic "
                                            "character, and end with an alphanumeric character"
                                          : "metadata.name: Invalid value: \"%s\": a lowercase RFC 1123 subdomain "
                                            "must consist of lower case alphanumeric characters, '-' or '.', and must "
                                            "start and end with an alphanumeric character",
                               name);
        return 0;
}

static int check_labels(const json_t *obj, berth_error_t **err)
{
        json_t *meta = json_object_get(obj, "metadata");
        static const char *const maps[] = { "labels", "annotations" };
        const char *key;
        json_t *v;

        for (size_t i = 0; i < 2; i++) {
                json_t *m = json_object_get(meta, maps[i]);
                if (m && !json_is_object(m))
                        return invalid(obj, err, "metadata.%s: Invalid value: must be a map of strings", maps[i]);
                json_object_foreach(m, key, v) if (!json_is_string(v)) return invalid(
                        obj, err, "metadata.%s.%s: Invalid value: must be a string", maps[i], key);
        }
        return 0;
}

/* selector must exist and select the template's labels. */
static int check_workload_selector(const json_t *obj, const json_t *old, berth_error_t **err)
{
        json_t *spec = json_object_get(obj, "spec");
        json_t *sel = json_object_get(spec, "selector");
        json_t *labels = json_object_get(json_object_get(json_object_get(spec, "template"), "metadata"), "labels");

        if (!json_is_object(sel) || (json_object_size(json_object_get(sel, "matchLabels")) == 0 &&
                                     json_array_size(json_object_get(sel, "matchExpressions")) == 0))
                return invalid(obj, err, "spec.selector: Required value");
        if (!kube_selector_matches(sel, labels)) {
                _cleanup_free_ char *shown = labels ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : xstrdup("{}");
                return invalid(obj, err,
                               "spec.template.metadata.labels: Invalid value: %s: `selector` does not match "
                               "template `labels`",
                               shown);
        }
        if (old) {
                json_t *old_sel = json_object_get(json_object_get(old, "spec"), "selector");
                if (!json_equal(old_sel, sel))
                        return invalid(obj, err, "spec.selector: Invalid value: field is immutable");
        }
        return 0;
}

static int default_template(json_t *obj, berth_error_t **err)
{
        json_t *tmpl = json_object_get(json_object_get(obj, "spec"), "template");

        if (!json_is_object(json_object_get(tmpl, "spec")))
                return invalid(obj, err, "spec.template.spec: Required value");
        if (kubelet_pod_defaults(tmpl, err) < 0)
                return invalid_wrap(obj, err);
        const char *policy = json_string_value(json_object_get(json_object_get(tmpl, "spec"), "restartPolicy"));
        if (policy && strcmp(policy, "Always") != 0)
                return invalid(obj, err,
                               "spec.template.spec.restartPolicy: Unsupported value: \"%s\": supported values: "
                               "\"Always\"",
                               policy);
        return 0;
}

static void default_int(json_t *spec, const char *field, json_int_t v)
{
        if (!json_is_integer(json_object_get(spec, field)))
                json_object_set_new(spec, field, json_integer(v));
}

static int check_deployment(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        json_t *spec = json_object_get(obj, "spec");
        int surge, unavail;
        (void)k;

        if (!json_is_object(spec))
                return invalid(obj, err, "spec: Required value");
        if (check_workload_selector(obj, old, err) < 0 || default_template(obj, err) < 0)
                return -EINVAL;
        default_int(spec, "replicas", 1);
        if (json_integer_value(json_object_get(spec, "replicas")) < 0)
                return invalid(obj, err, "spec.replicas: Invalid value: %lld: must be greater than or equal to 0",
                               (long long)json_integer_value(json_object_get(spec, "replicas")));
        default_int(spec, "revisionHistoryLimit", 10);
        default_int(spec, "progressDeadlineSeconds", 600);
        default_int(spec, "minReadySeconds", 0);
        json_t *strategy = json_object_get(spec, "strategy");
        if (!json_is_object(strategy))
                json_object_set_new(spec, "strategy", strategy = must(json_object()));
        const char *type = json_string_value(json_object_get(strategy, "type"));
        if (type == NULL)
                json_object_set_new(strategy, "type", json_string(type = "RollingUpdate"));
        if (strcmp(type, "RollingUpdate") == 0) {
                json_t *ru = json_object_get(strategy, "rollingUpdate");
                if (!json_is_object(ru))
                        json_object_set_new(strategy, "rollingUpdate", ru = must(json_object()));
                if (!json_object_get(ru, "maxSurge"))
                        json_object_set_new(ru, "maxSurge", json_string("25%"));
                if (!json_object_get(ru, "maxUnavailable"))
                        json_object_set_new(ru, "maxUnavailable", json_string("25%"));
        } else if (strcmp(type, "Recreate") != 0) {
                return invalid(obj, err,
                               "spec.strategy.type: Unsupported value: \"%s\": supported values: \"Recreate\", "
                               "\"RollingUpdate\"",
                               type);
        } else if (json_object_get(strategy, "rollingUpdate")) {
                return invalid(obj, err,
                               "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is "
                               "'Recreate'");
        }
        if (kube_rolling_params(strategy, (int)json_integer_value(json_object_get(spec, "replicas")), &surge, &unavail,
                                err) < 0)
                return invalid_wrap(obj, err);
        return 0;
}

static int check_replicaset(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        json_t *spec = json_object_get(obj, "spec");
        (void)k;

        if (!json_is_object(spec))
                return invalid(obj, err, "spec: Required value");
        if (check_workload_selector(obj, old, err) < 0 || default_template(obj, err) < 0)
                return -EINVAL;
        default_int(spec, "replicas", 1);
        default_int(spec, "minReadySeconds", 0);
        return 0;
}

static int check_pod(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        (void)k;
        if (!json_is_object(json_object_get(obj, "spec")))
                return invalid(obj, err, "spec: Required value");
        if (kubelet_pod_defaults(obj, err) < 0)
                return invalid_wrap(obj, err);
        /* a pod's spec is immutable but for images and a few fields;
         * apply of a changed spec is refused as kube-apiserver does */
        if (old && !json_equal(json_object_get(obj, "spec"), json_object_get(old, "spec")))
                return invalid(obj, err, "spec: Forbidden: pod updates may not change fields other than "
                                         "`spec.containers[*].image`, `spec.initContainers[*].image`, "
                                         "`spec.activeDeadlineSeconds`, `spec.tolerations` (only additions to "
                                         "existing tolerations) or `spec.terminationGracePeriodSeconds`");
        return 0;
}

static int check_hpa(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        json_t *spec = json_object_get(obj, "spec");
        json_t *ref = json_object_get(spec, "scaleTargetRef");
        (void)k;
        (void)old;

        if (!json_is_object(ref) || !json_string_value(json_object_get(ref, "name")) ||
            !json_string_value(json_object_get(ref, "kind")))
                return invalid(obj, err, "spec.scaleTargetRef: Required value");
        if (!json_is_integer(json_object_get(spec, "maxReplicas")))
                return invalid(obj, err, "spec.maxReplicas: Required value");
        default_int(spec, "minReplicas", 1);
        json_int_t min = json_integer_value(json_object_get(spec, "minReplicas"));
        json_int_t max = json_integer_value(json_object_get(spec, "maxReplicas"));
        if (min < 1)
                return invalid(obj, err, "spec.minReplicas: Invalid value: %lld: must be greater than or equal to 1",
                               (long long)min);
        if (max < min)
                return invalid(obj, err,
                               "spec.maxReplicas: Invalid value: %lld: must be greater than or equal to `minReplicas`",
                               (long long)max);
        return 0;
}

static int check_service(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        if (!json_is_object(json_object_get(obj, "spec")))
                return invalid(obj, err, "spec: Required value");
        /* defaults and allocation now, not at the controller's next pass:
         * pods applied with the Service must see its environment */
        if (kube_service_validate(k, obj, old, err) < 0 || kube_service_default(k, obj, old, err) < 0)
                return invalid_wrap(obj, err);
        return 0;
}

static int check_configmap(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        (void)k;
        return kube_configmap_normalize(obj, old, err) < 0 ? invalid_wrap(obj, err) : 0;
}

static int check_secret(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        (void)k;
        return kube_secret_normalize(obj, old, err) < 0 ? invalid_wrap(obj, err) : 0;
}

int kube_validate(struct kube *k, json_t *obj, const json_t *old, berth_error_t **err)
{
        static const struct {
                const char *kind;
                int (*check)(struct kube *, json_t *, const json_t *, berth_error_t **);
        } checks[] = {
                { "Deployment", check_deployment },
                { "ReplicaSet", check_replicaset },
                { "Pod", check_pod },
                { "HorizontalPodAutoscaler", check_hpa },
                { "Service", check_service },
                { "ConfigMap", check_configmap },
                { "Secret", check_secret },
        };
        const char *kind = json_string_value(json_object_get(obj, "kind"));

        if (check_name(obj, kind && strcmp(kind, "Service") == 0, err) < 0 || check_labels(obj, err) < 0)
                return -EINVAL;
        for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
                if (kind && strcmp(kind, checks[i].kind) == 0)
                        return checks[i].check(k, obj, old, err);
        return 0;
}
