/* The kubelet: every Pod object of the store runs on this machine through
 * the engine.  Internal to kubelet*.c, except kubelet_pod_defaults, which
 * the API's apply path calls on every Pod and pod template.
 *
 * Threads:
 * - the controller thread calls kubelet_reconcile: it reads the engine's
 *   events (container exits), lists the Pods and queues the ones that
 *   need a sync; it never calls the engine itself;
 * - KL_WORKERS workers run one pod's sync at a time (a pod is never synced
 *   by two at once): create and start the sandbox and the containers,
 *   inspect the ones that exited, decide restarts, write the status;
 * - KL_PROBERS probe threads run the liveness, readiness and startup
 *   probes as they fall due;
 * - a thread of its own per terminating pod (preStop, stop with the grace
 *   period, removal), per image pull and per liveness kill, so that slow
 *   things never hold a worker.
 * kl->lock guards every field below; nobody holds it across an engine
 * call. */
#pragma once
#include "orch/kube.h"
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define KL_LABEL_POD "io.kubernetes.pod.name"
#define KL_LABEL_NS "io.kubernetes.pod.namespace"
#define KL_LABEL_UID "io.kubernetes.pod.uid"
#define KL_LABEL_CTR "io.kubernetes.container.name"
#define KL_LABEL_ATTEMPT "io.kubernetes.container.restartCount"
#define KL_LABEL_INIT "io.berth.kube.init"
#define KL_SANDBOX "POD"

#define KL_WORKERS 4
#define KL_PROBERS 3

/* ---- apiserver defaults (kubelet-spec.c) ------------------------------- */

/* Fill what kube-apiserver defaults in a Pod (kind "Pod") or a pod
 * template ({metadata, spec}): restartPolicy Always,
 * terminationGracePeriodSeconds 30, dnsPolicy ClusterFirst,
 * schedulerName, enableServiceLinks, securityContext; per container
 * imagePullPolicy, terminationMessagePath/Policy, resources, ports'
 * protocol, probes' timeoutSeconds/periodSeconds/successThreshold/
 * failureThreshold and httpGet path/scheme; volumes' defaultMode; in a Pod
 * only, requests default to limits.  Checks what would stop the kubelet
 * (names, image, probe thresholds, restartPolicy): -EINVAL with
 * "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2:
 * must be 1". */
int kubelet_pod_defaults(json_t *pod, berth_error_t **err);

/* Always for ":latest" or no tag (a digest: IfNotPresent), else IfNotPresent. */
const char *kubelet_default_pull_policy(const char *image);

/* ---- the translation to create bodies (kubelet-spec.c) ---------------- */

/* Kubernetes' $(VAR) expansion: $(NAME) → env's value (env: object name →
 * string), an unknown name stays as written, $$ → $. */
char *kubelet_expand(const char *in, const json_t *env);

/* Where env values come from: lookup returns the ConfigMap or Secret (a
 * new reference), or NULL when absent. */
typedef json_t *(*kl_lookup_fn)(void *data, const char *kind, const char *ns, const char *name);
typedef void (*kl_warn_fn)(void *data, const char *reason, const char *msg);
struct kl_env_ctx {
        const json_t *pod;
        const json_t *ctr;              /* the container's spec */
        const char *pod_ip, *host_ip, *node_name;
        const json_t *service_env;      /* object name → value; NULL: none */
        kl_lookup_fn lookup;
        kl_warn_fn warn;                /* NULL: none; invalid envFrom keys */
        void *data;
        long long node_cpus_milli, node_mem;    /* resourceFieldRef without a limit */
};
/* The container's environment as the kubelet builds it: envFrom (later
 * sources win, prefix), then env in order ($(VAR) expanded against what
 * came before and the service variables; valueFrom not expanded), then
 * the service variables not already set.  *env: object name → value, in
 * that order.  A missing ConfigMap/Secret/key that is not optional: -1
 * with the kubelet's message (`configmap "x" not found`, `couldn't find
 * key K in ConfigMap ns/x`), to show as CreateContainerConfigError. */
int kubelet_env_resolve(const struct kl_env_ctx *c, json_t **env, berth_error_t **err);

/* Names: k8s_<ctr>_<pod>_<ns>_<uid8>_<attempt>, k8s_POD_<pod>_<ns>_<uid8>. */
char *kubelet_container_name(const json_t *pod, const char *ctr, int attempt);
char *kubelet_sandbox_name(const json_t *pod);

/* QoS class of the pod: "Guaranteed", "Burstable" or "BestEffort". */
const char *kubelet_qos(const json_t *pod);

struct kl_body_in {
        const json_t *pod;
        const json_t *ctr;              /* container spec */
        bool init;                      /* an init container */
        const char *sandbox_id;
        const char *image;              /* image reference to run */
        const json_t *env;              /* kubelet_env_resolve's result */
        json_t *mounts;                 /* HostConfig.Mounts (a reference is taken) */
        int attempt;
        long long node_mem;             /* bytes, for Burstable's oom_score_adj */
        const char *cgroup_parent;      /* NULL: none */
};
/* The Docker create body of an app or init container.  *clamped (may be
 * NULL) says a negative oom_score_adj was raised to 0 (no
 * CAP_SYS_RESOURCE here). */
json_t *kubelet_container_body(const struct kl_body_in *in, bool *clamped);
/* The sandbox's: pause (berth-init -p) on the pod network, hostname = the
 * pod's name, IPC shareable, the cluster's DNS search path. */
json_t *kubelet_sandbox_body(const json_t *pod, const char *image, const char *network, const char *cgroup_parent);
/* kubepods/{burstable,besteffort}/pod<uid> (Guaranteed: kubepods/pod<uid>). */
char *kubelet_cgroup_parent(const json_t *pod);

/* ---- state ------------------------------------------------------------- */

enum kl_state { KL_WAITING, KL_RUNNING, KL_TERMINATED };
enum kl_probe_kind { KL_LIVENESS, KL_READINESS, KL_STARTUP, KL_PROBE_KINDS };

struct kl_probe {
        bool configured;
        int64_t next_ms;                /* monotonic: when it falls due */
        bool running;
        int successes, failures;        /* in a row */
        char *last_error;
};

struct kl_ctr {
        char *name;
        bool init;
        char *image;
        char *id;                       /* current instance; NULL: none */
        int attempt;                    /* of the current instance */
        int restarts;
        enum kl_state state;
        char *reason, *message;         /* waiting (or terminated) reason */
        char *started_at;               /* RFC 3339, running/terminated */
        json_t *term;                   /* state.terminated of the current instance */
        char *prev_id;                  /* the previous instance, kept for logs --previous */
        json_t *last_term;              /* lastState.terminated */
        bool exited;                    /* a die event came for id: inspect it */
        int64_t running_since;          /* monotonic ms */
        int64_t backoff_until;          /* monotonic ms; 0: none */
        int backoff_s;                  /* the last back-off used */
        int64_t retry_at;               /* image pull / config error retry, monotonic ms */
        int pull_failures;
        char *image_id;
        bool done;                      /* an init container that exited 0 */
        bool restart_pending;           /* terminated, to be started again */
        /* probes */
        struct kl_probe probes[KL_PROBE_KINDS];
        bool started, ready;
        bool killing;                   /* a liveness/startup kill is under way */
};

struct kl_pod {
        int refs;
        char *uid, *ns, *name;
        json_t *pod;                    /* the stored object, as last seen */
        char *rv;                       /* its resourceVersion */
        bool seen, queued, busy, dirty;
        int64_t due_ms;                 /* monotonic; 0: none */
        bool terminating;               /* the termination thread owns it */
        bool gone;                      /* removed from the store and cleaned up */
        bool finished;                  /* Succeeded/Failed: nothing runs again */
        char *sandbox_id;
        bool sandbox_exited;
        char *ip;
        json_t *etc;                    /* the sandbox's /etc files: target → host path */
        char *start_time;
        struct kl_ctr *ctrs;            /* init containers first, then the app's */
        size_t n_init, n_ctrs;
        bool volumes_ready;
        int64_t cm_refresh_ms;
        bool scheduled;
        json_t *conditions;             /* type → {status, lastTransitionTime} */
        char *status_json;              /* the status last written (to skip equal writes) */
        json_t *died;                   /* ids the engine said exited, not yet looked at */
        bool stopped_sandbox;           /* finished: its sandbox was stopped */
        int64_t checked_ms;             /* the running containers were last checked */
};

struct kl_image;

struct kubelet {
        struct kube *k;
        struct engine *e;
        pthread_mutex_t lock;
        pthread_cond_t work_cond, probe_cond, idle_cond;
        struct kl_pod **pods;
        size_t n_pods, cap_pods;
        struct kl_pod **queue;
        size_t n_queue, cap_queue;
        pthread_t workers[KL_WORKERS], probers[KL_PROBERS];
        int detached;                   /* detached threads still running */
        bool stopping;
        uint64_t ev_seq;
        bool ev_first;
        struct kl_image *images;
        char *node_name, *host_ip;
        long long node_mem, node_cpus_milli;
        bool oom_warned;
        int64_t last_resync_ms;
};

int64_t kl_now_ms(void);
struct kl_pod *kl_pod_find(struct kubelet *kl, const char *uid);
void kl_pod_ref(struct kl_pod *p);
void kl_pod_unref(struct kubelet *kl, struct kl_pod *p);     /* with kl->lock held */
void kl_learn_host_ip(struct kubelet *kl);
struct kl_ctr *kl_ctr_find(struct kl_pod *p, const char *name);
const json_t *kl_ctr_spec(const struct kl_pod *p, const struct kl_ctr *c);
/* Queue the pod for a sync (kl->lock held). */
void kl_pod_queue(struct kubelet *kl, struct kl_pod *p);
/* Ask for a sync at the latest at when (monotonic ms; kl->lock held). */
void kl_pod_due(struct kl_pod *p, int64_t when);
/* Run fn(arg) in a detached thread counted in kl->detached (kl->lock held). */
int kl_spawn(struct kubelet *kl, void *(*fn)(void *), void *arg);
void kl_spawn_done(struct kubelet *kl);
void kl_set_str(char **field, const char *value);
/* The engine's labels of a pod container. */
json_t *kl_labels(const json_t *pod, const char *ctr, int attempt);

/* A pod seen for the first time (kl->lock held). */
struct kl_pod *kl_pod_add(struct kubelet *kl, json_t *obj);

/* kubelet-pod.c: one sync of a pod (a worker, no lock held). */
void kl_pod_sync(struct kubelet *kl, struct kl_pod *p);
/* Build the pod's containers from its spec (kl->lock held). */
void kl_pod_init_ctrs(struct kl_pod *p);
/* kubelet-inspect.c.  An engine time ("...123456789Z") as Kubernetes
 * shows it, in whole seconds; JSON null for the zero time. */
json_t *kl_k8s_time(const char *engine_time);
/* The terminated state of an engine container (inspect). */
json_t *kl_terminated_of(struct kubelet *kl, const char *id);
/* A container's IP on its network (inspect output); NULL: none. */
char *kl_ip_of(const json_t *info);
/* The sandbox's /etc/resolv.conf, hosts and hostname (inspect output),
 * which the pod's containers share: {target: host path}. */
json_t *kl_etc_of(const json_t *info);

/* kubelet-adopt.c: take back what the engine runs for the pods (berthd
 * restarted), remove what belongs to no pod. */
void kl_adopt(struct kubelet *kl);

/* kubelet-term.c: graceful termination of a pod with a
 * deletionTimestamp, or the cleanup of a pod gone from the store. */
void kl_pod_terminate(struct kubelet *kl, struct kl_pod *p, bool remove_object);
/* Stop (grace seconds) then nothing else: a liveness kill. */
void kl_ctr_kill(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c, int grace, const char *why);
/* Remove every engine container with this pod uid. */
void kl_remove_containers(struct kubelet *kl, const char *uid);

/* kubelet-status.c: the pod's status from the state (kl->lock held). */
json_t *kl_pod_status(struct kubelet *kl, struct kl_pod *p);
/* Write it unless equal to the last written (no lock held). */
void kl_status_write(struct kubelet *kl, struct kl_pod *p);
/* Succeeded or Failed: nothing of it runs again (no lock held). */
bool kl_pod_finished(struct kubelet *kl, struct kl_pod *p);

/* kubelet-image.c: 1 when the image can run now, 0 while a pull runs
 * (kube_wake when done), -1 with *reason and *message set (waiting). */
int kl_image_ensure(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c, const char *policy, char **reason,
                    char **message);
void kl_images_free(struct kubelet *kl);

/* kubelet-volume.c: the pod's volume directories (under the data root),
 * prepared once and refreshed; the HostConfig.Mounts of a container. */
int kl_volumes_setup(struct kubelet *kl, struct kl_pod *p, berth_error_t **err);
void kl_volumes_refresh(struct kubelet *kl, struct kl_pod *p);
int kl_volume_mounts(struct kubelet *kl, struct kl_pod *p, const json_t *ctr, json_t **mounts, berth_error_t **err);
void kl_volumes_teardown(struct kubelet *kl, const char *uid);
char *kl_pod_dir(struct kubelet *kl, const char *uid);

/* kubelet-probe.c */
int kl_probers_start(struct kubelet *kl, berth_error_t **err);
void kl_probers_stop(struct kubelet *kl);
/* (Re)arm the probes of a container that just started (kl->lock held). */
void kl_probes_arm(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c);
/* A preStop or probe handler ({exec}|{httpGet}|{tcpSocket}): 0 success,
 * else -1 with *why.  timeout_ms bounds it. */
int kl_handler_run(struct kubelet *kl, const char *ip, const char *ctr_id, const json_t *handler,
                   const json_t *ctr_spec, int timeout_ms, char **why);
