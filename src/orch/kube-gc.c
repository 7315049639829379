/* Garbage collection and the workloads controller's entry points.
 * Deleting an owner (background propagation, kubectl's default) removes
 * it at once; its dependents are found here on the next pass, their
 * controller owner gone, and deleted in turn: a Deployment's ReplicaSets,
 * then their pods (gracefully, through the kubelet). */
#include "orch/kube-workloads.h"
#include "util/util.h"
#include <string.h>

static bool owner_exists(struct kube *k, const json_t *obj, const json_t *ref)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const char *kind = json_string_value(json_object_get(ref, "kind"));
        const char *name = json_string_value(json_object_get(ref, "name"));
        const char *uid = json_string_value(json_object_get(ref, "uid"));
        json_t *owner = NULL;

        if (kind == NULL || name == NULL || kube_get(k, kind, kube_meta_str(obj, "namespace"), name, &owner, &err) < 0)
                return false;
        bool same = uid && strcmp(uid, kube_meta_str(owner, "uid")) == 0;
        json_decref(owner);
        return same;
}

static void collect(struct kube *k, const char *kind)
{
        json_t *all = kube_list(k, kind, NULL, NULL), *obj, *ref;
        size_t i, j;

        json_array_foreach(all, i, obj) {
                json_t *refs = json_object_get(json_object_get(obj, "metadata"), "ownerReferences");
                bool orphaned = json_array_size(refs) > 0;
                json_array_foreach(refs, j, ref) if (owner_exists(k, obj, ref)) orphaned = false;
                if (!orphaned || kube_is_terminating(obj))
                        continue;
                _cleanup_error_ berth_error_t *err = NULL;
                const char *ns = kube_meta_str(obj, "namespace"), *name = kube_meta_str(obj, "name");
                if (strcmp(kind, "Pod") == 0)
                        kube_mark_deleted(k, kind, ns, name, kube_spec_int(obj, "terminationGracePeriodSeconds", 30),
                                          NULL, &err);
                else
                        kube_remove(k, kind, ns, name, &err);
        }
        json_decref(all);
}

void kube_gc_reconcile(struct kube *k)
{
        collect(k, "ReplicaSet");
        collect(k, "Pod");
        collect(k, "Endpoints");
}

int kube_workloads_init(struct kube *k, berth_error_t **err)
{
        (void)k;
        (void)err;
        return 0;
}

/* ReplicaSets first, so the availability the Deployments read is what
 * the pods show now (a stale count could let a rollout take down more
 * than maxUnavailable); then the Deployments size them, and the
 * ReplicaSets act on that in the same pass; then what lost its owner. */
void kube_workloads_reconcile(struct kube *k)
{
        kube_replicasets_reconcile(k);
        kube_deployments_reconcile(k);
        kube_replicasets_reconcile(k);
        kube_gc_reconcile(k);
}

void kube_workloads_fini(struct kube *k)
{
        (void)k;
}
