/* libFuzzer target: what berth kube apply does to a document before it
 * reaches the store, for the checks that need no store: the kubelet's
 * defaults and checks of a Pod or pod template, ConfigMap and Secret
 * normalisation (base64, stringData, key rules, size), RollingUpdate
 * parameters, and the parsers those lean on: label selectors and
 * Kubernetes quantities, fed every string of the document.
 *
 * Nothing may crash or leak, and what normalisation accepts must be
 * accepted again unchanged (normalising is idempotent). */
#include "orch/kube-calc.h"
#include "orch/kube-configdata.h"
#include "orch/kube-selector.h"
#include "orch/kube-yaml.h"
#include "orch/kubelet.h"
#include "util/util.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(bool ok, const char *what)
{
        if (!ok) {
                fprintf(stderr, "fuzz-kube-objects: %s\n", what);
                abort();
        }
}

/* Every string in v through the selector and quantity parsers. */
static void strings(const json_t *v, int depth)
{
        const char *key;
        json_t *child;
        size_t i;

        if (depth > 64)
                return;
        if (json_is_string(v)) {
                berth_error_t *err = NULL;
                json_t *sel = NULL;
                int64_t n;
                if (kube_selector_parse(json_string_value(v), &sel, &err) == 0) {
                        json_t *labels = json_pack("{s:s}", "app", "web");
                        (void)kube_selector_matches(sel, labels);
                        json_decref(labels);
                        json_decref(sel);
                }
                berth_error_free(&err);
                kube_quantity_milli(json_string_value(v), &n, &err);
                berth_error_free(&err);
                kube_quantity_bytes(json_string_value(v), &n, &err);
                berth_error_free(&err);
                return;
        }
        json_object_foreach((json_t *)v, key, child) strings(child, depth + 1);
        json_array_foreach(v, i, child) strings(child, depth + 1);
}

typedef int (*normalize_fn)(json_t *obj, const json_t *old, berth_error_t **err);

static void normalized_twice(json_t *doc, normalize_fn normalize)
{
        berth_error_t *err = NULL;

        if (normalize(doc, NULL, &err) == 0) {
                json_t *again = json_deep_copy(doc);
                check(normalize(again, doc, &err) == 0, "a normalised object is refused");
                check(json_equal(again, doc), "normalising is not idempotent");
                json_decref(again);
        }
        berth_error_free(&err);
}

static void one(json_t *doc)
{
        const char *kind = json_string_value(json_object_get(doc, "kind"));
        berth_error_t *err = NULL;
        int surge, unavail;

        strings(doc, 0);
        if (kind == NULL)
                return;
        if (strcmp(kind, "ConfigMap") == 0) {
                normalized_twice(doc, kube_configmap_normalize);
        } else if (strcmp(kind, "Secret") == 0) {
                normalized_twice(doc, kube_secret_normalize);
        } else if (strcmp(kind, "Pod") == 0) {
                kubelet_pod_defaults(doc, &err);
        } else if (strcmp(kind, "Deployment") == 0) {
                json_t *spec = json_object_get(doc, "spec");
                kubelet_pod_defaults(json_object_get(spec, "template"), &err);
                berth_error_free(&err);
                kube_rolling_params(json_object_get(spec, "strategy"),
                                    (int)json_integer_value(json_object_get(spec, "replicas")), &surge, &unavail, &err);
        }
        berth_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        berth_error_t *err = NULL;
        json_t *docs = NULL, *doc;
        size_t i;

        if (size > 64 * 1024)
                return 0;
        if (kube_yaml_parse((const char *)data, size, &docs, &err) < 0) {
                berth_error_free(&err);
                return 0;
        }
        json_array_foreach(docs, i, doc) one(doc);
        json_decref(docs);
        return 0;
}
