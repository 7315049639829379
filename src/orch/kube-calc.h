/* Kubernetes' arithmetic, as pure functions over JSON objects: the
 * numbers a Deployment, the kubelet and the HPA controller compute, with
 * Kubernetes' rounding, defaults and special cases (read from
 * kube-controller-manager, the kubelet and apimachinery; the Go function
 * each one follows is named next to it).  Nothing here touches the store,
 * the engine or the clock unless its name says so.
 *
 * Quantities ("250m", "64Mi", "1e3") are parsed exactly as
 * resource.ParseQuantity does (including its odd corners: "." is 0,
 * "1.G" is 1G) and rounded up (away from zero) at the requested scale, as
 * Quantity.MilliValue() and Value() do. */
#pragma once
#include "util/error.h"
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- IntOrString and RollingUpdate ---------------------------------------- */

/* intstr.GetScaledValueFromIntOrPercent: an integer is itself; "25%" is
 * 25% of total, rounded up or down.  Anything else (a string without "%",
 * "x%", null) is an error with Go's message. */
int kube_intstr_scaled(const json_t *v, int total, bool round_up, int *out, berth_error_t **err);

/* spec.strategy of a Deployment (NULL or {}: RollingUpdate with the
 * defaults) resolved for `replicas` as the deployment controller does:
 * validation first (ValidateDeploymentStrategy: type, each value >= 0 or a
 * "N%" string, maxUnavailable <= 100%, not both 0 — "may not be 0 when
 * `maxSurge` is 0"), then defaults 25%/25%, maxSurge rounded up,
 * maxUnavailable down, and ResolveFenceposts' rule: when both resolve to
 * 0, maxUnavailable is 1.  For Recreate: surge 0, unavailable = replicas.
 * Errors are EINVAL with the API's field message. */
int kube_rolling_params(const json_t *strategy, int replicas, int *max_surge, int *max_unavailable,
                        berth_error_t **err);
/* Only the validation of kube_rolling_params (for apply). */
int kube_strategy_validate(const json_t *strategy, berth_error_t **err);

/* ---- Quantities ------------------------------------------------------------ */

/* The quantity times 10^-scale, rounded away from zero: scale -3 gives
 * milli-units, 0 units.  EINVAL for a malformed quantity (Go's message),
 * ERANGE when the result does not fit in int64.  A binary-suffixed value
 * ("16Ei") above 2^63-1 is capped there, as ParseQuantity caps it. */
int kube_quantity_scaled(const char *s, int scale, int64_t *out, berth_error_t **err);
int kube_quantity_milli(const char *s, int64_t *milli, berth_error_t **err);       /* CPU: "250m" -> 250 */
int kube_quantity_bytes(const char *s, int64_t *bytes, berth_error_t **err);       /* memory: "64Mi" -> 67108864 */
/* The same for a JSON value as a manifest carries it: a string, or a
 * number (YAML `cpu: 1`, `cpu: 0.5`). */
int kube_quantity_json_milli(const json_t *v, int64_t *milli, berth_error_t **err);
int kube_quantity_json_bytes(const json_t *v, int64_t *bytes, berth_error_t **err);
/* Exact comparison of two quantities (after ParseQuantity's rounding to
 * nano-units): <0, 0, >0; a malformed one counts as 0. */
int kube_quantity_cmp(const char *a, const char *b);
/* resource.NewMilliQuantity(milli, DecimalSI).String(): "250m", "1", "1500m", "2k". */
char *kube_quantity_format_milli(int64_t milli);

/* ---- Resources -> cgroups (kubelet cm helpers) ----------------------------- */

/* MilliCPUToShares: 0 -> 2, else milli*1024/1000 clamped to [2, 262144]. */
uint64_t kube_cpu_shares(int64_t milli);
/* MilliCPUToQuota: milli*period/1000, at least 1000; no limit (milli <= 0)
 * -> -1, the cgroup's "unlimited" (the kubelet returns 0 and then sets no
 * quota).  period <= 0 means the default 100000. */
int64_t kube_cpu_quota(int64_t milli, int64_t period);
#define KUBE_CPU_PERIOD_US 100000
/* cgroup v2 cpu.weight from shares, as the CRI runtimes convert it:
 * 1 + (shares - 2) * 9999 / 262142. */
uint64_t kube_cpu_weight(uint64_t shares);

/* v1qos.ComputePodQOS over a pod spec: "Guaranteed", "Burstable" or
 * "BestEffort".  Requests default to limits (the API server's defaulting,
 * repeated here for objects that never went through it); init containers
 * count; pod-level spec.resources, when present, decide alone. */
const char *kube_qos_class(const json_t *pod_spec);
/* kubelet qos.GetContainerOOMScoreAdjust for one container: Guaranteed
 * -997, BestEffort 1000, Burstable 1000 - 1000*mem_request/node_mem with
 * the kubelet's special cases: below 3 (1000 + -997) it is 3, exactly 1000
 * becomes 999.  node_mem <= 0 is treated as "request is nothing" (999). */
int kube_oom_score_adj(const char *qos, int64_t mem_request, int64_t node_mem);

/* ---- Restart back-off -------------------------------------------------------- */

/* flowcontrol.Backoff.Next without jitter: prev <= 0 -> base, else
 * min(prev * 2, max).  10, 20, 40, 80, 160, 300, 300... */
int kube_backoff_next(int prev_s, int base_s, int max_s);

/* ---- Names -------------------------------------------------------------------- */

/* The pod-template-hash label.  Kubernetes (controller.ComputeHash) runs
 * FNV-32a over a deep print of the Go PodTemplateSpec, which cannot be
 * reproduced outside Go; Berth runs FNV-32a over the template as canonical
 * JSON (sorted keys, compact) instead, then adds the collision count the
 * same way (8 bytes, little-endian uint32 then zeros; only when > 0, as Go
 * adds it only when non-nil) and encodes the decimal uint32 with
 * rand.SafeEncodeString.  So the value looks like Kubernetes' ("5d8b9c7f6")
 * and is stable for a template, but differs from a real cluster's. */
char *kube_pod_template_hash(const json_t *tmpl, int collision_count);
/* rand.SafeEncodeString: each byte mapped into "bcdfghjklmnpqrstvwxz2456789". */
char *kube_safe_encode(const char *s);
/* rand.String(5): five characters of that alphabet, from getrandom. */
char *kube_random_suffix(void);

/* ---- ReplicaSet scale-down order ------------------------------------------- */

/* controller.ActivePodsWithRanks.Less as a qsort comparator over two Pod
 * objects (json_t *): < 0 when a should be deleted before b.  Unassigned
 * before assigned, Pending < Unknown < Running, not Ready before Ready,
 * lower controller.kubernetes.io/pod-deletion-cost first, then (both
 * Ready) the more recently Ready first, more container restarts first
 * (sidecars second), newer creationTimestamp first.  The node rank ties on
 * one node.  This is the comparison with LogarithmicScaleDown off (exact
 * timestamps); kube_pod_delete_cmp_at is the one Kubernetes uses by
 * default, bucketing ages by powers of two as of now_ms and breaking ties
 * by uid. */
int kube_pod_delete_cmp(const json_t *a, const json_t *b);
int kube_pod_delete_cmp_at(const json_t *a, const json_t *b, int64_t now_ms);
/* qsort(3) wrapper for an array of json_t * (exact timestamps). */
int kube_pod_delete_qsort_cmp(const void *a, const void *b);
/* An RFC 3339 time ("2026-11-29T17:00:00Z", fractions and offsets too) in
 * milliseconds since the epoch; -1 when absent or malformed. */
int64_t kube_time_ms(const char *s);
/* A pod's Ready condition is True (podutil.IsPodReady). */
bool kube_pod_is_ready(const json_t *pod);
/* The pod's Ready condition, or NULL. */
const json_t *kube_pod_ready_condition(const json_t *pod);

/* ---- HorizontalPodAutoscaler (autoscaling/v2, cpu Utilization) --------------- */

#define KUBE_HPA_TOLERANCE 0.1
#define KUBE_HPA_CPU_INIT_PERIOD_MS (5 * 60 * 1000)     /* --horizontal-pod-autoscaler-cpu-initialization-period */
#define KUBE_HPA_READINESS_DELAY_MS (30 * 1000)         /* --horizontal-pod-autoscaler-initial-readiness-delay */
#define KUBE_HPA_DEFAULT_CPU_UTILIZATION 80             /* spec.metrics empty */

/* One pod as the replica calculator sees it. */
struct kube_hpa_pod {
        int64_t usage_milli;    /* average CPU use over the metric window, milliCPU */
        int64_t request_milli;  /* the pod's cpu request (kube_pod_cpu_request_milli) */
        bool has_metric;        /* a usage sample exists */
        bool ignored;           /* deleting or Failed: left out entirely */
        bool pending;           /* phase Pending: set aside as unready */
        bool unready;           /* not Ready by groupPods' CPU rules */
};
/* groupPods for one pod: fills ignored/pending/unready from the Pod object
 * and its sample (taken at metric_ms over window_ms), as of now_ms. */
void kube_hpa_pod_group(const json_t *pod, bool has_metric, int64_t metric_ms, int64_t window_ms, int64_t now_ms,
                        struct kube_hpa_pod *out);
/* The pod's cpu request in milliCPU: containers plus restartable (sidecar)
 * init containers, or pod-level spec.resources.requests.cpu when set; a
 * container without one fails with "missing request for cpu in container
 * C of Pod P" (limits stand in for a missing request, as the API server
 * defaults them). */
int kube_pod_cpu_request_milli(const json_t *pod, int64_t *milli, berth_error_t **err);

/* ReplicaCalculator.GetResourceReplicas over the pods: the proposal, the
 * utilization in percent of request (integer, truncated) and the raw
 * average use.  Errors: "did not receive metrics for targeted pods (pods
 * might be unready)", "no pods returned by selector while calculating
 * replica count", "no metrics returned matched known pods". */
int kube_hpa_resource_replicas(int current, const struct kube_hpa_pod *pods, size_t n, int target_utilization,
                               double tolerance, int *replicas, int *utilization, int64_t *raw_milli,
                               berth_error_t **err);

enum kube_hpa_select { KUBE_HPA_SELECT_MAX, KUBE_HPA_SELECT_MIN, KUBE_HPA_SELECT_DISABLED };
enum kube_hpa_policy_type { KUBE_HPA_POLICY_PODS, KUBE_HPA_POLICY_PERCENT };
#define KUBE_HPA_MAX_POLICIES 10
struct kube_hpa_policy {
        enum kube_hpa_policy_type type;
        int value;
        int period_s;
};
struct kube_hpa_rules {
        int stabilization_s;
        enum kube_hpa_select select;
        size_t n_policies;
        struct kube_hpa_policy policies[KUBE_HPA_MAX_POLICIES];
};
struct kube_hpa_behavior {
        bool set;               /* spec.behavior present: the behavior path; absent: the legacy one */
        struct kube_hpa_rules up, down;
};
/* spec.behavior with the API defaults filled in (scaleUp: window 0,
 * Pods 4/15s and Percent 100/15s, Max; scaleDown: Percent 100/15s, Max,
 * window = downscale_window_s, the controller flag, when unset).  NULL or
 * JSON null: set = false. */
int kube_hpa_behavior_parse(const json_t *behavior, int downscale_window_s, struct kube_hpa_behavior *out,
                            berth_error_t **err);

/* What the controller keeps per HPA between syncs (its recommendations and
 * scale events maps); the caller owns it, kube_hpa_decide updates it. */
struct kube_hpa_rec {
        int64_t t_ms;
        int replicas;
};
struct kube_hpa_scale_event {
        int64_t t_ms;
        int change;             /* absolute */
        bool outdated;
};
struct kube_hpa_history {
        bool started;           /* recordInitialRecommendation ran */
        struct kube_hpa_rec *recs;
        size_t n_recs;
        struct kube_hpa_scale_event *ups, *downs;
        size_t n_ups, n_downs;
};
void kube_hpa_history_free(struct kube_hpa_history *h);

/* One metric's outcome (computeReplicasForMetric). */
struct kube_hpa_metric {
        bool ok;
        int replicas;           /* proposal */
        int utilization;        /* percent of request */
        int64_t raw_milli;      /* average use */
        const char *resource;   /* "cpu" */
        const char *name;       /* "cpu resource utilization (percentage of request)" */
        const char *error;      /* !ok: "failed to get cpu utilization: ..." */
        const char *reason;     /* !ok: the condition reason, "FailedGetResourceMetric" */
};

struct kube_hpa_input {
        int current;            /* the target's spec.replicas (the /scale) */
        int min_replicas;       /* spec.minReplicas, default 1 */
        int max_replicas;
        const struct kube_hpa_metric *metrics;
        size_t n_metrics;
        const struct kube_hpa_behavior *behavior;
        int downscale_window_s; /* the legacy path's stabilisation window */
        int64_t now_ms;
};

struct kube_hpa_cond {
        bool set;
        bool status;
        char reason[48];
        char message[320];
};
struct kube_hpa_result {
        bool failed;            /* no metric usable: keep the status' desiredReplicas, record events */
        bool rescale;           /* write desired to the target */
        int desired;            /* status.desiredReplicas when !failed */
        char reason[200];       /* "New size: N; reason: <this>" */
        char error[400];        /* failed: FailedComputeMetricsReplicas' message */
        struct kube_hpa_cond able, active, limited;     /* AbleToScale, ScalingActive, ScalingLimited */
};

/* HorizontalController.reconcileAutoscaler after the scale was read: the
 * disabled/above-max/below-min cases, the largest metric proposal, the
 * legacy normalisation (stabilisation window, scale-up limit max(2x, 4))
 * or the behavior one (stabilisation windows, policies, selectPolicy),
 * and the conditions; it records the recommendation in h.  The caller
 * writes the scale and then calls kube_hpa_store_scale_event.
 * Deterministic in in->now_ms. */
void kube_hpa_decide(const struct kube_hpa_input *in, struct kube_hpa_history *h, struct kube_hpa_result *out);
/* storeScaleEvent: after the target was rescaled from prev to next (only
 * with a behavior; the legacy path keeps no events). */
void kube_hpa_store_scale_event(struct kube_hpa_history *h, const struct kube_hpa_behavior *b, int prev, int next,
                                int64_t now_ms);
