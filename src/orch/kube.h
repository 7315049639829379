/* The orchestrator's shared interface: the object store, events, and the
 * hooks the controllers and the kubelet use to reach each other.
 *
 * Objects are Kubernetes objects as JSON (jansson), exactly as the API
 * shows them: apiVersion, kind, metadata (name, namespace, uid,
 * generation, resourceVersion, creationTimestamp, labels, annotations,
 * ownerReferences, deletionTimestamp), spec/data and status.  They live in
 * berth.db (table kube_objects) and in memory; every read hands out a deep
 * copy the caller owns.  Every store call is thread-safe on its own;
 * kube_update refuses a stale write (the object's resourceVersion is not
 * the stored one: EAGAIN, "the object has been modified"), as
 * kube-apiserver does, so a controller that lost a race retries on its
 * next pass.  kube_lock is for the rare sequence that must not interleave
 * (the API's apply of several documents). */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct engine;
struct kube;

/* jansson's constructors fail only out of memory: abort (engine/docker-json.c). */
json_t *must(json_t *j);

/* Kinds Berth reconciles or stores, with their API group/version and the
 * plural resource name used in /berth/v1 paths. */
struct kube_kind {
        const char *kind;               /* "Deployment" */
        const char *api_version;        /* "apps/v1" */
        const char *resource;           /* "deployments" */
        const char *short_name;         /* "deploy" (NULL: none) */
        bool namespaced;
};
const struct kube_kind *kube_kind_by_name(const char *kind_or_resource);   /* kind, plural, singular or short */
const struct kube_kind *kube_kinds(size_t *n);

struct engine *kube_engine(struct kube *k);
void kube_lock(struct kube *k);
void kube_unlock(struct kube *k);
/* Wake the controllers now (after a write, an engine event). */
void kube_wake(struct kube *k);

/* Store.  Lookups return -ENOENT through berth_fail (status ENOENT,
 * "deployments.apps \"web\" not found") when absent. */
int kube_get(struct kube *k, const char *kind, const char *ns, const char *name, json_t **obj, berth_error_t **err);
/* Every object of kind (ns NULL: every namespace) whose labels match
 * selector (a LabelSelector object {matchLabels, matchExpressions}, or
 * NULL for all); a new array. */
json_t *kube_list(struct kube *k, const char *kind, const char *ns, const json_t *selector);
/* Create: fills uid, creationTimestamp, generation 1, resourceVersion;
 * EEXIST when the name is taken.  metadata.generateName is honoured
 * (5 random lowercase alphanumerics appended).  *out (optional) gets the
 * stored copy. */
int kube_create(struct kube *k, json_t *obj, json_t **out, berth_error_t **err);
/* Replace the object (matched by kind, namespace, name): bumps
 * resourceVersion, and generation when anything but status/metadata
 * changed.  Keeps uid and creationTimestamp. */
int kube_update(struct kube *k, json_t *obj, json_t **out, berth_error_t **err);
/* Write only .status (no generation bump); a no-op when equal. */
int kube_update_status(struct kube *k, const json_t *obj, berth_error_t **err);
/* Graceful deletion: set metadata.deletionTimestamp (kept if already set)
 * and deletionGracePeriodSeconds (only ever shortened); the owner of the
 * object's life (the kubelet for pods) finishes it with kube_remove. */
int kube_mark_deleted(struct kube *k, const char *kind, const char *ns, const char *name, int64_t grace,
                      json_t **out, berth_error_t **err);
/* Remove the record now (controllers call it once a pod's containers are
 * gone; the API's delete goes through kube_delete_request). */
int kube_remove(struct kube *k, const char *kind, const char *ns, const char *name, berth_error_t **err);

/* metadata.<field> as a string (name, namespace, uid...), or NULL. */
const char *kube_meta_str(const json_t *obj, const char *field);

/* A label selector's match ({matchLabels, matchExpressions} or a plain
 * map as Service.spec.selector has). */
bool kube_selector_matches(const json_t *selector, const json_t *labels);
/* Owner reference helpers. */
bool kube_is_owned_by(const json_t *obj, const json_t *owner);
json_t *kube_owner_ref(const json_t *owner);            /* controller: true, blockOwnerDeletion: true */

/* Events (Kubernetes Event objects, kept in memory, the last 1000):
 * type "Normal" or "Warning"; reason "Created", "Started", "BackOff",
 * "Unhealthy", "Killing", "ScalingReplicaSet", ... */
void kube_event(struct kube *k, const json_t *involved, const char *type, const char *reason, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));
json_t *kube_events_for(struct kube *k, const char *kind, const char *ns, const char *name);

/* Timestamps as Kubernetes writes them: "2026-11-29T17:00:00Z". */
char *kube_now_rfc3339(void);
int64_t kube_parse_rfc3339(const char *s);

/* Daemon tunables (berthd flags), for tests that cannot wait minutes. */
struct kube_opts {
        int resync_ms;                  /* periodic resync, default 1000 */
        int hpa_sync_s;                 /* 15 */
        int hpa_downscale_window_s;     /* 300 */
        int backoff_base_s;             /* 10 (CrashLoopBackOff's first wait) */
        int backoff_max_s;              /* 300 */
        int backoff_reset_s;            /* 600 */
        int configmap_sync_s;           /* how often mounted ConfigMaps/Secrets are refreshed, 10 */
        const char *service_cidr;       /* "10.43.0.0/16" */
        const char *pod_network;        /* "berth-kube" */
        const char *pod_cidr;           /* "10.42.0.0/16" */
};
const struct kube_opts *kube_options(struct kube *k);

/* Where pods live: the engine network every pod sandbox joins, the
 * embedded DNS server (service names), the cluster domain. */
struct dns_server;
const char *kube_pod_network(struct kube *k);           /* engine network name, e.g. "berth-kube" */
const char *kube_pod_network_id(struct kube *k);        /* its id (DNS records are per network id); NULL before
                                                         * the first pod made it */
/* Make the pod network if it is missing (the first pod, or one after
 * someone removed it). */
int kube_pod_network_ensure(struct kube *k, berth_error_t **err);
struct dns_server *kube_dns(struct kube *k);
#define KUBE_CLUSTER_DOMAIN "cluster.local"

/* Controllers.  Each is called from the one controller thread on every
 * wake (an object written, an engine event such as a container's exit,
 * the resync tick), with no lock held; it reads the store and writes what
 * it changes.  A controller must not block for long: anything slow (a
 * pod's graceful termination, an image pull, a probe) runs in a thread
 * of its own and calls kube_wake when done.  init runs once at start
 * (after the store is loaded), fini at shutdown; state lives in the slot. */
enum kube_slot { KUBE_SLOT_KUBELET, KUBE_SLOT_SERVICES, KUBE_SLOT_HPA, KUBE_SLOT_WORKLOADS, KUBE_SLOT_MAX };
void **kube_slot(struct kube *k, enum kube_slot slot);

int kube_workloads_init(struct kube *k, berth_error_t **err);  /* kube-deployment.c, kube-replicaset.c (lead) */
void kube_workloads_reconcile(struct kube *k);
void kube_workloads_fini(struct kube *k);

int kubelet_init(struct kube *k, berth_error_t **err);         /* kubelet*.c: every Pod on this machine */
void kubelet_reconcile(struct kube *k);
void kubelet_fini(struct kube *k);                              /* containers keep running */

int kube_services_init(struct kube *k, berth_error_t **err);   /* kube-service.c: ClusterIP, NodePort, DNS */
void kube_services_reconcile(struct kube *k);
void kube_services_fini(struct kube *k);

int kube_hpa_init(struct kube *k, berth_error_t **err);        /* kube-hpa.c */
void kube_hpa_reconcile(struct kube *k);
void kube_hpa_fini(struct kube *k);

/* The contract between the kubelet and the other controllers, through
 * Pod objects:
 * - The API's delete of a pod sets metadata.deletionTimestamp and
 *   metadata.deletionGracePeriodSeconds; the kubelet then runs preStop,
 *   stops the containers (SIGTERM, grace, SIGKILL), removes them and
 *   calls kube_remove.  Owners count a pod with a deletionTimestamp as
 *   gone (ReplicaSets replace it at once).
 * - The kubelet fills status as Kubernetes does: phase, conditions
 *   (PodScheduled, Initialized, ContainersReady, Ready, each with status
 *   "True"/"False" and lastTransitionTime), podIP, hostIP, startTime,
 *   qosClass, initContainerStatuses and containerStatuses (name, image,
 *   imageID, containerID "berth://<id>", ready, started, restartCount,
 *   state and lastState {waiting{reason,message} | running{startedAt} |
 *   terminated{exitCode,reason,startedAt,finishedAt}}).
 * - Pod containers carry engine labels io.kubernetes.pod.name,
 *   io.kubernetes.pod.namespace, io.kubernetes.pod.uid and
 *   io.kubernetes.container.name ("POD" for the sandbox), so a restarted
 *   berthd finds them again. */
