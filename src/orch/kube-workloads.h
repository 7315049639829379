/* Shared by the ReplicaSet and Deployment controllers (and the API's
 * rollback): small readers of Pod and workload objects. */
#pragma once
#include "orch/kube.h"

#define KUBE_REVISION_ANNOTATION "deployment.kubernetes.io/revision"
#define KUBE_HASH_LABEL "pod-template-hash"

json_int_t kube_spec_int(const json_t *obj, const char *field, json_int_t dflt);
bool kube_is_terminating(const json_t *obj);
/* Ready condition True (and since when, seconds since the epoch). */
bool kube_pod_ready(const json_t *pod, int64_t *since);
/* Ready for at least min_ready seconds at now. */
bool kube_pod_available(const json_t *pod, int64_t min_ready, int64_t now);
/* Running or pending, not terminating: what a ReplicaSet counts. */
bool kube_pod_active(const json_t *pod);
long kube_revision(const json_t *rs);
/* A ReplicaSet's template without the pod-template-hash label: what a
 * Deployment's template is compared with. */
json_t *kube_template_without_hash(const json_t *rs);

void kube_replicasets_reconcile(struct kube *k);
void kube_deployments_reconcile(struct kube *k);
/* Objects whose controller owner is gone: deleted (background cascade);
 * owners deleted in the foreground: removed once their dependents are. */
void kube_gc_reconcile(struct kube *k);
/* Foreground deletion of a Deployment or ReplicaSet: it stays, marked
 * and holding the foregroundDeletion finalizer, until the garbage
 * collector has deleted its dependents and seen them gone. */
int kube_delete_foreground(struct kube *k, const char *kind, const char *ns, const char *name, berth_error_t **err);
