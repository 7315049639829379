/* What the /berth/v1 routes (src/api/routes-kube.c) call: whole
 * operations over the store, each validating its input and answering
 * with kube-apiserver's words. */
#pragma once
#include "orch/kube.h"

/* Apply YAML or JSON documents: validated and defaulted all first (one bad
 * document writes nothing), then created or updated.  *result:
 * {"results": [{apiVersion, kind, namespace, name, action}], "warnings": [..]}. */
int kube_apply_text(struct kube *k, const char *text, size_t len, const char *ns, json_t **result,
                    berth_error_t **err);
/* Delete the objects the documents name; absent ones are reported as
 * "not found", not an error. */
int kube_delete_text(struct kube *k, const char *text, size_t len, const char *ns, const char *propagation,
                     int64_t grace, json_t **result, berth_error_t **err);
/* propagation: "Background" (default), "Foreground" or "Orphan"; grace
 * < 0: the pod's own terminationGracePeriodSeconds. */
int kube_delete_object(struct kube *k, const char *kind, const char *ns, const char *name, const char *propagation,
                       int64_t grace, json_t **out, berth_error_t **err);
int kube_scale(struct kube *k, const char *kind, const char *ns, const char *name, int64_t replicas, json_t **out,
               berth_error_t **err);
/* to_revision 0: the previous one.  *revision: the revision whose
 * template is now the Deployment's. */
int kube_rollback(struct kube *k, const char *ns, const char *name, long to_revision, long *revision,
                  berth_error_t **err);
/* A List object ({apiVersion, kind: "<Kind>List", items}) of kind in ns
 * (NULL: all) matching the string selector (NULL: all). */
int kube_list_objects(struct kube *k, const char *kind, const char *ns, const char *selector, json_t **out,
                      berth_error_t **err);
/* Pods or containers as YAML that kubectl apply accepts. */
int kube_generate(struct kube *k, const char *const *names, size_t n, char **yaml, berth_error_t **err);
