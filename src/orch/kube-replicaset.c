/* The ReplicaSet controller: exactly spec.replicas active pods matching
 * the selector.  Missing pods are made from the template at once (a
 * deleted pod counts as gone the moment it is marked); surplus pods are
 * deleted in Kubernetes' order (not ready, cheaper, restarted more,
 * newer first); orphans that match are adopted. */
#include "orch/kube-calc.h"
#include "orch/kube-workloads.h"
#include "util/log.h"
#include "util/util.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

json_int_t kube_spec_int(const json_t *obj, const char *field, json_int_t dflt)
{
        json_t *v = json_object_get(json_object_get(obj, "spec"), field);
        return json_is_integer(v) ? json_integer_value(v) : dflt;
}

bool kube_is_terminating(const json_t *obj)
{
        return json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") != NULL;
}

bool kube_pod_ready(const json_t *pod, int64_t *since)
{
        const json_t *c = kube_pod_ready_condition(pod);

        if (c && since)
                *since = kube_parse_rfc3339(json_string_value(json_object_get(c, "lastTransitionTime")));
        return kube_pod_is_ready(pod);
}

bool kube_pod_available(const json_t *pod, int64_t min_ready, int64_t now)
{
        int64_t since = 0;

        if (!kube_pod_ready(pod, &since) || kube_is_terminating(pod))
                return false;
        return min_ready <= 0 || (since > 0 && now - since >= min_ready);
}

bool kube_pod_active(const json_t *pod)
{
        const char *phase = json_string_value(json_object_get(json_object_get(pod, "status"), "phase"));

        if (kube_is_terminating(pod))
                return false;
        return phase == NULL || (strcmp(phase, "Succeeded") != 0 && strcmp(phase, "Failed") != 0);
}

long kube_revision(const json_t *rs)
{
        const char *v = json_string_value(
                json_object_get(json_object_get(json_object_get(rs, "metadata"), "annotations"), KUBE_REVISION_ANNOTATION));
        return v ? strtol(v, NULL, 10) : 0;
}

json_t *kube_template_without_hash(const json_t *rs)
{
        json_t *t = json_deep_copy(json_object_get(json_object_get(rs, "spec"), "template"));
        json_t *labels = json_object_get(json_object_get(t, "metadata"), "labels");

        json_object_del(labels, KUBE_HASH_LABEL);
        return t;
}

static bool has_controller(const json_t *obj)
{
        size_t i;
        json_t *ref;

        json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "ownerReferences"), i, ref)
                if (json_is_true(json_object_get(ref, "controller")))
                        return true;
        return false;
}

static json_t *pod_from_template(const json_t *rs)
{
        json_t *tmpl = json_object_get(json_object_get(rs, "spec"), "template");
        json_t *tmeta = json_object_get(tmpl, "metadata");
        json_t *meta = must(json_pack("{s:s+, s:s, s:[o]}", "generateName", kube_meta_str(rs, "name"), "-", "namespace",
                                      kube_meta_str(rs, "namespace"), "ownerReferences", kube_owner_ref(rs)));

        if (json_object_get(tmeta, "labels"))
                json_object_set_new(meta, "labels", json_deep_copy(json_object_get(tmeta, "labels")));
        if (json_object_get(tmeta, "annotations"))
                json_object_set_new(meta, "annotations", json_deep_copy(json_object_get(tmeta, "annotations")));
        return must(json_pack("{s:s, s:s, s:o, s:O}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec",
                              json_object_get(tmpl, "spec")));
}

/* The pods this ReplicaSet controls, adopting matching orphans. */
static json_t *owned_pods(struct kube *k, const json_t *rs)
{
        const char *ns = kube_meta_str(rs, "namespace");
        json_t *selector = json_object_get(json_object_get(rs, "spec"), "selector");
        json_t *pods = kube_list(k, "Pod", ns, selector), *owned = must(json_array()), *pod;
        size_t i;

        json_array_foreach(pods, i, pod) {
                if (kube_is_owned_by(pod, rs)) {
                        json_array_append(owned, pod);
                } else if (!has_controller(pod) && !kube_is_terminating(pod) && !kube_is_terminating(rs)) {
                        _cleanup_error_ berth_error_t *err = NULL;
                        json_t *meta = json_object_get(pod, "metadata"), *refs = json_object_get(meta, "ownerReferences");
                        if (!json_is_array(refs))
                                json_object_set_new(meta, "ownerReferences", refs = must(json_array()));
                        json_array_append_new(refs, kube_owner_ref(rs));
                        json_t *stored = NULL;
                        if (kube_update(k, pod, &stored, &err) == 0)
                                json_array_append_new(owned, stored);
                }
        }
        json_decref(pods);
        return owned;
}

static int delete_order(const void *a, const void *b)
{
        return kube_pod_delete_cmp(*(json_t *const *)a, *(json_t *const *)b);
}

static void scale_down(struct kube *k, const json_t *rs, json_t *active, size_t surplus)
{
        size_t n = json_array_size(active);
        json_t **v = xcalloc(n ? n : 1, sizeof(*v));

        for (size_t i = 0; i < n; i++)
                v[i] = json_array_get(active, i);
        qsort(v, n, sizeof(*v), delete_order);
        for (size_t i = 0; i < surplus && i < n; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                json_int_t grace = kube_spec_int(v[i], "terminationGracePeriodSeconds", 30);
                if (kube_mark_deleted(k, "Pod", kube_meta_str(v[i], "namespace"), kube_meta_str(v[i], "name"), grace,
                                      NULL, &err) == 0)
                        kube_event(k, rs, "Normal", "SuccessfulDelete", "Deleted pod: %s", kube_meta_str(v[i], "name"));
        }
        free(v);
}

static void scale_up(struct kube *k, const json_t *rs, size_t missing)
{
        for (size_t i = 0; i < missing; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                json_t *pod = pod_from_template(rs), *made = NULL;
                if (kube_create(k, pod, &made, &err) == 0) {
                        kube_event(k, rs, "Normal", "SuccessfulCreate", "Created pod: %s",
                                   kube_meta_str(made, "name"));
                        json_decref(made);
                } else {
                        kube_event(k, rs, "Warning", "FailedCreate", "Error creating: %s", err->msg);
                }
                json_decref(pod);
        }
}

static void write_status(struct kube *k, json_t *rs, const json_t *owned, size_t active)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_int_t min_ready = kube_spec_int(rs, "minReadySeconds", 0);
        int64_t now = time(NULL);
        size_t ready = 0, available = 0, i;
        json_t *pod;

        json_array_foreach(owned, i, pod) {
                if (!kube_pod_active(pod))
                        continue;
                ready += kube_pod_ready(pod, NULL);
                available += kube_pod_available(pod, min_ready, now);
        }
        json_t *status = must(json_pack("{s:I, s:I, s:I, s:I, s:O}", "replicas", (json_int_t)active,
                                        "fullyLabeledReplicas", (json_int_t)active, "readyReplicas", (json_int_t)ready,
                                        "availableReplicas", (json_int_t)available, "observedGeneration",
                                        json_object_get(json_object_get(rs, "metadata"), "generation")));
        json_object_set_new(rs, "status", status);
        if (kube_update_status(k, rs, &err) < 0)
                berth_debug("replicaset %s: status: %s", kube_meta_str(rs, "name"), err->msg);
}

static void sync_replicaset(struct kube *k, json_t *rs)
{
        json_t *owned = owned_pods(k, rs), *active = must(json_array()), *pod;
        json_int_t want = kube_spec_int(rs, "replicas", 1);
        size_t i;

        json_array_foreach(owned, i, pod) if (kube_pod_active(pod)) json_array_append(active, pod);
        size_t have = json_array_size(active);
        if (!kube_is_terminating(rs)) {
                if ((json_int_t)have < want)
                        scale_up(k, rs, (size_t)(want - (json_int_t)have));
                else if ((json_int_t)have > want)
                        scale_down(k, rs, active, have - (size_t)want);
        }
        write_status(k, rs, owned, have);
        json_decref(active);
        json_decref(owned);
}

void kube_replicasets_reconcile(struct kube *k)
{
        json_t *all = kube_list(k, "ReplicaSet", NULL, NULL), *rs;
        size_t i;

        json_array_foreach(all, i, rs) sync_replicaset(k, rs);
        json_decref(all);
}
