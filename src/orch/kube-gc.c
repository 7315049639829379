/* Garbage collection and the workloads controller's entry points.
 * Deleting an owner (background propagation, kubectl's default) removes
 * it at once; its dependents are found here on the next pass, their
 * controller owner gone, and deleted in turn: a Deployment's ReplicaSets,
 * then their pods (gracefully, through the kubelet).  In the foreground
 * the owner waits, marked, until its dependents are gone. */
#include "orch/kube-workloads.h"
#include "util/util.h"
#include <errno.h>
#include <string.h>

#define FOREGROUND "foregroundDeletion"

static bool has_finalizer(const json_t *obj, const char *name)
{
        json_t *f;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(obj, "metadata"), "finalizers"), i, f) {
                if (json_is_string(f) && strcmp(json_string_value(f), name) == 0)
                        return true;
        }
        return false;
}

int kube_delete_foreground(struct kube *k, const char *kind, const char *ns, const char *name, berth_error_t **err)
{
        int r = -EAGAIN;

        /* the controllers write status meanwhile: a stale write is tried again */
        for (int attempt = 0; attempt < 10 && r == -EAGAIN; attempt++) {
                _cleanup_error_ berth_error_t *e = NULL;
                json_t *obj = NULL, *meta, *fins;

                if (kube_get(k, kind, ns, name, &obj, err) < 0)
                        return -ENOENT;
                if (has_finalizer(obj, FOREGROUND)) {
                        json_decref(obj);
                        r = 0;
                        break;
                }
                meta = json_object_get(obj, "metadata");
                if ((fins = json_object_get(meta, "finalizers")) == NULL || !json_is_array(fins)) {
                        fins = must(json_array());
                        json_object_set_new(meta, "finalizers", fins);
                }
                json_array_append_new(fins, must(json_string(FOREGROUND)));
                r = kube_update(k, obj, NULL, &e);
                json_decref(obj);
                if (r < 0 && r != -EAGAIN) {
                        *err = e;
                        e = NULL;
                        return r;
                }
        }
        /* marked without the finalizer, it would wait for nothing, for ever */
        if (r < 0)
                return berth_fail(err, EAGAIN, "%s \"%s\" kept changing: try the delete again", kind, name);
        return kube_mark_deleted(k, kind, ns, name, 0, NULL, err);
}

/* Owners deleted in the foreground: their dependents deleted (in the
 * foreground too, so a Deployment waits for its pods), and the owner
 * removed once none is left. */
static void foreground(struct kube *k, const char *kind)
{
        static const char *const dep_kinds[] = { "ReplicaSet", "Pod" };
        json_t *all = kube_list(k, kind, NULL, NULL), *owner, *dep;
        size_t i, j;

        json_array_foreach(all, i, owner) {
                const char *ns = kube_meta_str(owner, "namespace");
                size_t left = 0;
                if (!kube_is_terminating(owner) || !has_finalizer(owner, FOREGROUND))
                        continue;
                for (size_t d = 0; d < ARRAY_SIZE(dep_kinds); d++) {
                        json_t *deps = kube_list(k, dep_kinds[d], ns, NULL);
                        json_array_foreach(deps, j, dep) {
                                _cleanup_error_ berth_error_t *err = NULL;
                                const char *name = kube_meta_str(dep, "name");
                                if (!kube_is_owned_by(dep, owner))
                                        continue;
                                left++;
                                if (kube_is_terminating(dep))
                                        continue;
                                if (d == 1)
                                        kube_mark_deleted(k, "Pod", ns, name,
                                                          kube_spec_int(dep, "terminationGracePeriodSeconds", 30),
                                                          NULL, &err);
                                else
                                        kube_delete_foreground(k, dep_kinds[d], ns, name, &err);
                        }
                        json_decref(deps);
                }
                if (left == 0) {
                        _cleanup_error_ berth_error_t *err = NULL;
                        kube_remove(k, kind, ns, kube_meta_str(owner, "name"), &err);
                }
        }
        json_decref(all);
}

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
        foreground(k, "Deployment");
        foreground(k, "ReplicaSet");
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
