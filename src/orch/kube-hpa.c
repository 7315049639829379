/* The HorizontalPodAutoscaler controller (autoscaling/v2, cpu
 * Utilization): every --kube-hpa-sync seconds per HPA it reads the
 * target's scale (a Deployment's or ReplicaSet's spec.replicas and
 * selector), samples its pods' CPU (kube-hpa-cpu.c), runs Kubernetes'
 * arithmetic (kube-hpa-calc.c) and writes spec.replicas back, the status
 * (currentReplicas, desiredReplicas, currentMetrics, lastScaleTime,
 * conditions) and the events kube-controller-manager records.  The
 * recommendations and scale events the policies need live here, per HPA,
 * like the controller's in-memory maps (a restart starts them afresh, as
 * there). */
#include "orch/kube-hpa.h"
#include "util/log.h"
#include "util/util.h"

#include <limits.h>
#include <string.h>
#include <time.h>

struct hpa_state {
        char *uid;
        int64_t next_ms;        /* when this HPA is due */
        bool baseline;          /* the first CPU readings are taken */
        bool seen;
        struct kube_hpa_history history;
        struct hpa_cpu *cpu;
};

struct hpa_ctl {
        struct hpa_state **v;
        size_t n;
};

static int64_t now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *str_at(const json_t *o, const char *a, const char *b)
{
        const json_t *v = json_object_get(o, a);
        if (b)
                v = json_object_get(v, b);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- state ------------------------------------------------------------------ */

static void state_free(struct hpa_state *s)
{
        free(s->uid);
        kube_hpa_history_free(&s->history);
        hpa_cpu_free(s->cpu);
        free(s);
}

static struct hpa_state *state_for(struct hpa_ctl *ctl, const char *uid)
{
        for (size_t i = 0; i < ctl->n; i++)
                if (strcmp(ctl->v[i]->uid, uid) == 0)
                        return ctl->v[i];
        struct hpa_state *s = xcalloc(1, sizeof(*s));
        s->uid = xstrdup(uid);
        s->cpu = hpa_cpu_new();
        ctl->v = xrealloc(ctl->v, (ctl->n + 1) * sizeof(*ctl->v));
        ctl->v[ctl->n++] = s;
        return s;
}

/* Forget the HPAs that are gone (reconcileKey's delete of the maps). */
static void sweep(struct hpa_ctl *ctl)
{
        size_t kept = 0;
        for (size_t i = 0; i < ctl->n; i++) {
                if (ctl->v[i]->seen) {
                        ctl->v[i]->seen = false;
                        ctl->v[kept++] = ctl->v[i];
                } else {
                        state_free(ctl->v[i]);
                }
        }
        ctl->n = kept;
}

/* ---- status ---------------------------------------------------------------- */

/* setConditionInList: lastTransitionTime moves only when the status flips. */
static void condition_put(json_t *status, const char *type, const struct kube_hpa_cond *c, const char *now)
{
        if (!c->set)
                return;
        json_t *list = json_object_get(status, "conditions"), *cond = NULL, *v;
        size_t i;
        if (!json_is_array(list))
                json_object_set_new(status, "conditions", list = must(json_array()));
        json_array_foreach(list, i, v)
                if (str_at(v, "type", NULL) && strcmp(str_at(v, "type", NULL), type) == 0)
                        cond = v;
        if (!cond) {
                cond = must(json_pack("{s:s}", "type", type));
                json_array_append_new(list, cond);
        }
        const char *want = c->status ? "True" : "False", *had = str_at(cond, "status", NULL);
        if (!had || strcmp(had, want) != 0)
                json_object_set_new(cond, "lastTransitionTime", must(json_string(now)));
        json_object_set_new(cond, "status", must(json_string(want)));
        json_object_set_new(cond, "reason", must(json_string(c->reason)));
        json_object_set_new(cond, "message", must(json_string(c->message)));
}

static json_t *metric_status(const struct kube_hpa_metric *m)
{
        if (!m->ok)
                return must(json_pack("{s:s}", "type", ""));
        _cleanup_free_ char *avg = kube_quantity_format_milli(m->raw_milli);
        return must(json_pack("{s:s, s:{s:s, s:{s:i, s:s}}}", "type", "Resource", "resource", "name", m->resource,
                              "current", "averageUtilization", m->utilization, "averageValue", avg));
}

/* The HPA's status after a sync (setStatus / setCurrentReplicasAndMetricsInStatus). */
static void write_status(struct kube *k, json_t *hpa, int current, int desired, const struct kube_hpa_metric *metrics,
                         size_t n_metrics, const struct kube_hpa_result *res, bool rescaled)
{
        _cleanup_free_ char *now = kube_now_rfc3339();
        json_t *old = json_object_get(hpa, "status");
        json_t *status = must(json_object());
        json_t *gen = json_object_get(json_object_get(hpa, "metadata"), "generation");
        if (gen)
                json_object_set(status, "observedGeneration", gen);
        if (rescaled)
                json_object_set_new(status, "lastScaleTime", must(json_string(now)));
        else if (json_object_get(old, "lastScaleTime"))
                json_object_set(status, "lastScaleTime", json_object_get(old, "lastScaleTime"));
        json_object_set_new(status, "currentReplicas", must(json_integer(current)));
        json_object_set_new(status, "desiredReplicas", must(json_integer(desired)));
        if (n_metrics) {
                json_t *list = must(json_array());
                for (size_t i = 0; i < n_metrics; i++)
                        json_array_append_new(list, metric_status(&metrics[i]));
                json_object_set_new(status, "currentMetrics", list);
        }
        if (json_is_array(json_object_get(old, "conditions")))
                json_object_set_new(status, "conditions", json_deep_copy(json_object_get(old, "conditions")));
        condition_put(status, "AbleToScale", &res->able, now);
        condition_put(status, "ScalingActive", &res->active, now);
        condition_put(status, "ScalingLimited", &res->limited, now);
        json_object_set_new(hpa, "status", status);
        _cleanup_error_ berth_error_t *err = NULL;
        if (kube_update_status(k, hpa, &err) < 0)
                berth_debug("hpa %s: status: %s", str_at(hpa, "metadata", "name"), err->msg);
}

/* ---- the scale target ------------------------------------------------------------ */

/* The /scale of a Deployment or ReplicaSet: spec.replicas (default 1) and
 * spec.selector. */
static int get_scale(struct kube *k, const json_t *hpa, json_t **target, int *replicas, berth_error_t **err)
{
        const json_t *ref = json_object_get(json_object_get(hpa, "spec"), "scaleTargetRef");
        const char *kind = str_at(ref, "kind", NULL), *name = str_at(ref, "name", NULL);
        const char *ns = str_at(hpa, "metadata", "namespace");
        if (!kind || !name)
                return berth_fail(err, EINVAL, "spec.scaleTargetRef: Required value");
        if (strcmp(kind, "Deployment") != 0 && strcmp(kind, "ReplicaSet") != 0)
                return berth_fail(err, ENOENT, "no matches for kind \"%s\" that berth can scale (Deployment, "
                                               "ReplicaSet)", kind);
        if (kube_get(k, kind, ns ? ns : "default", name, target, err) < 0)
                return -ENOENT;
        const json_t *r = json_object_get(json_object_get(*target, "spec"), "replicas");
        *replicas = json_is_integer(r) ? (int)json_integer_value(r) : 1;
        return 0;
}

/* Scales(ns).Update: write spec.replicas, retrying when another writer
 * got there first. */
static int set_scale(struct kube *k, json_t *target, int replicas, berth_error_t **err)
{
        const char *kind = str_at(target, "kind", NULL), *ns = str_at(target, "metadata", "namespace");
        _cleanup_free_ char *name = xstrdup(str_at(target, "metadata", "name"));
        json_t *obj = json_incref(target);
        int r = -1;
        for (int attempt = 0; attempt < 3; attempt++) {
                berth_error_free(err);
                json_object_set_new(json_object_get(obj, "spec"), "replicas", must(json_integer(replicas)));
                r = kube_update(k, obj, NULL, err);
                json_decref(obj);
                obj = NULL;
                if (r == 0 || r != -EAGAIN || kube_get(k, kind, ns, name, &obj, NULL) < 0)
                        break;
        }
        json_decref(obj);
        return r;
}

/* ---- metrics ------------------------------------------------------------------- */

/* spec.metrics, or the default cpu 80% when empty. */
static json_t *metric_specs(const json_t *hpa)
{
        const json_t *m = json_object_get(json_object_get(hpa, "spec"), "metrics");
        if (json_is_array(m) && json_array_size(m) > 0)
                return json_incref((json_t *)m);
        return must(json_pack("[{s:s, s:{s:s, s:{s:s, s:i}}}]", "type", "Resource", "resource", "name", "cpu", "target",
                              "type", "Utilization", "averageUtilization", KUBE_HPA_DEFAULT_CPU_UTILIZATION));
}

/* Per pod: requests and grouping; the calculator's errors in its order. */
struct pod_set {
        json_t *pods;
        struct kube_hpa_pod *p;
        size_t n;
        char *request_error;    /* the first pod without a cpu request */
        bool any_metric;
        int64_t window_ms;
};

static void pod_set_free(struct pod_set *ps)
{
        json_decref(ps->pods);
        free(ps->p);
        free(ps->request_error);
}

static void pod_set_load(struct kube *k, struct hpa_state *st, const json_t *target, const char *ns, int64_t now,
                         struct pod_set *ps)
{
        const json_t *selector = json_object_get(json_object_get(target, "spec"), "selector");
        memset(ps, 0, sizeof(*ps));
        ps->pods = kube_list(k, "Pod", ns, selector);
        ps->n = json_array_size(ps->pods);
        ps->p = xcalloc(ps->n ? ps->n : 1, sizeof(*ps->p));
        hpa_cpu_sample(st->cpu, k, ps->pods, now, ps->p, &ps->window_ms);
        for (size_t i = 0; i < ps->n; i++) {
                const json_t *pod = json_array_get(ps->pods, i);
                _cleanup_error_ berth_error_t *err = NULL;
                if (kube_pod_cpu_request_milli(pod, &ps->p[i].request_milli, &err) < 0 && !ps->request_error)
                        ps->request_error = xstrdup(err->msg);
                kube_hpa_pod_group(pod, ps->p[i].has_metric, now, ps->window_ms, now, &ps->p[i]);
                ps->any_metric |= ps->p[i].has_metric;
        }
}

static bool counted(const struct kube_hpa_pod *p)
{
        return !p->ignored && !p->pending && p->has_metric && !p->unready;
}

/* computeStatusForResourceMetric for cpu Utilization over the pods. */
static void cpu_metric(const struct pod_set *ps, int current, int target, struct kube_hpa_metric *m, char *buf,
                       size_t len)
{
        _cleanup_error_ berth_error_t *err = NULL;
        const char *why = NULL;
        size_t ready = 0;
        for (size_t i = 0; i < ps->n; i++)
                ready += counted(&ps->p[i]);
        if (!ps->any_metric)
                why = "unable to get metrics for resource cpu: no metrics returned from resource metrics API";
        else if (ready == 0)
                why = "did not receive metrics for targeted pods (pods might be unready)";
        else if (ps->request_error)
                why = ps->request_error;
        else if (kube_hpa_resource_replicas(current, ps->p, ps->n, target, KUBE_HPA_TOLERANCE, &m->replicas,
                                            &m->utilization, &m->raw_milli, &err) < 0)
                why = err->msg;
        m->ok = why == NULL;
        if (why) {
                snprintf(buf, len, "failed to get cpu utilization: %s", why);
                m->error = buf;
        }
}

/* One entry of spec.metrics; only Resource cpu Utilization is measured. */
static void compute_metric(const json_t *spec, const struct pod_set *ps, int current, struct kube_hpa_metric *m,
                           char *buf, size_t len)
{
        const char *type = str_at(spec, "type", NULL);
        const json_t *res = json_object_get(spec, "resource");
        const char *name = str_at(res, "name", NULL), *target_type = str_at(res, "target", "type");
        const json_t *util = json_object_get(json_object_get(res, "target"), "averageUtilization");
        memset(m, 0, sizeof(*m));
        m->resource = name ? name : "cpu";
        m->name = "cpu resource utilization (percentage of request)";
        m->reason = "FailedGetResourceMetric";
        if (!type || strcmp(type, "Resource") != 0) {
                snprintf(buf, len, "unknown metric source type \"%s\"; berth measures Resource cpu only",
                         type ? type : "");
                m->reason = "InvalidMetricSourceType";
                m->error = buf;
        } else if (!name || strcmp(name, "cpu") != 0) {
                snprintf(buf, len, "failed to get %s utilization: unable to get metrics for resource %s: berth "
                                   "measures cpu only", name ? name : "", name ? name : "");
                m->error = buf;
        } else if (!json_is_integer(util) || (target_type && strcmp(target_type, "Utilization") != 0)) {
                snprintf(buf, len, "invalid resource metric source: berth supports an averageUtilization target only");
                m->error = buf;
        } else {
                cpu_metric(ps, current, (int)json_integer_value(util), m, buf, len);
        }
}

/* ---- one sync ------------------------------------------------------------------------ */

static int spec_int(const json_t *hpa, const char *field, int dflt)
{
        const json_t *v = json_object_get(json_object_get(hpa, "spec"), field);
        if (!json_is_integer(v))
                return dflt;
        json_int_t n = json_integer_value(v);
        return n > INT_MAX ? INT_MAX : n < INT_MIN ? INT_MIN : (int)n;
}

static void record_metric_failures(struct kube *k, const json_t *hpa, const struct kube_hpa_metric *m, size_t n)
{
        for (size_t i = 0; i < n; i++)
                if (!m[i].ok)
                        kube_event(k, hpa, "Warning", m[i].reason, "%s", m[i].error);
}

/* Scale the target and finish the status (the rescale branch). */
static void apply(struct kube *k, struct hpa_state *st, json_t *hpa, json_t *target, int current,
                  const struct kube_hpa_behavior *b, struct kube_hpa_metric *metrics, size_t n_metrics,
                  struct kube_hpa_result *res, int64_t now)
{
        _cleanup_error_ berth_error_t *err = NULL;
        if (!res->rescale) {
                write_status(k, hpa, current, current, metrics, n_metrics, res, false);
                return;
        }
        if (set_scale(k, target, res->desired, &err) < 0) {
                kube_event(k, hpa, "Warning", "FailedRescale", "New size: %d; reason: %s; error: %s", res->desired,
                           res->reason, err->msg);
                res->able = (struct kube_hpa_cond){ .set = true, .status = false };
                snprintf(res->able.reason, sizeof(res->able.reason), "FailedUpdateScale");
                snprintf(res->able.message, sizeof(res->able.message),
                         "the HPA controller was unable to update the target scale: %s", err->msg);
                const json_t *d = json_object_get(json_object_get(hpa, "status"), "desiredReplicas");
                write_status(k, hpa, current, json_is_integer(d) ? (int)json_integer_value(d) : current, metrics,
                             n_metrics, res, false);
                return;
        }
        kube_event(k, hpa, "Normal", "SuccessfulRescale", "New size: %d; reason: %s", res->desired, res->reason);
        kube_hpa_store_scale_event(&st->history, b, current, res->desired, now);
        write_status(k, hpa, current, res->desired, metrics, n_metrics, res, true);
}

static void sync_failed_scale(struct kube *k, json_t *hpa, const char *why)
{
        struct kube_hpa_result res = { 0 };
        kube_event(k, hpa, "Warning", "FailedGetScale", "%s", why);
        res.able = (struct kube_hpa_cond){ .set = true, .status = false };
        snprintf(res.able.reason, sizeof(res.able.reason), "FailedGetScale");
        snprintf(res.able.message, sizeof(res.able.message),
                 "the HPA controller was unable to get the target's current scale: %s", why);
        json_t *old = json_object_get(hpa, "status");
        json_t *status = old ? json_deep_copy(old) : must(json_object());
        _cleanup_free_ char *now = kube_now_rfc3339();
        condition_put(status, "AbleToScale", &res.able, now);
        json_object_set_new(hpa, "status", status);
        kube_update_status(k, hpa, NULL);
}

static void sync_one(struct kube *k, struct hpa_state *st, json_t *hpa, int64_t now)
{
        const char *ns = str_at(hpa, "metadata", "namespace");
        int window_s = kube_options(k)->hpa_downscale_window_s;
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *target = NULL;
        int current = 0;
        if (get_scale(k, hpa, &target, &current, &err) < 0) {
                sync_failed_scale(k, hpa, err->msg);
                return;
        }
        struct kube_hpa_behavior behavior;
        if (kube_hpa_behavior_parse(json_object_get(json_object_get(hpa, "spec"), "behavior"), window_s, &behavior,
                                    &err) < 0) {
                kube_event(k, hpa, "Warning", "InvalidBehavior", "%s", err->msg);
                kube_hpa_behavior_parse(NULL, window_s, &behavior, NULL);
        }
        int min = spec_int(hpa, "minReplicas", 1), max = spec_int(hpa, "maxReplicas", 1);
        json_t *specs = metric_specs(hpa);
        size_t n_metrics = json_array_size(specs);
        struct kube_hpa_metric *metrics = xcalloc(n_metrics ? n_metrics : 1, sizeof(*metrics));
        char (*bufs)[400] = xcalloc(n_metrics ? n_metrics : 1, sizeof(*bufs));
        struct pod_set ps = { 0 };
        bool measured = !(current == 0 && min != 0) && current <= max && current >= min;
        if (measured) {
                pod_set_load(k, st, target, ns ? ns : "default", now, &ps);
                for (size_t i = 0; i < n_metrics; i++)
                        compute_metric(json_array_get(specs, i), &ps, current, &metrics[i], bufs[i], sizeof(bufs[i]));
        }
        if (measured && !st->baseline) {
                /* The first readings only start the window (metrics-server
                 * has nothing for a pod it scraped once either). */
                st->baseline = true;
        } else {
                struct kube_hpa_input in = { .current = current, .min_replicas = min, .max_replicas = max,
                                             .metrics = metrics, .n_metrics = measured ? n_metrics : 0,
                                             .behavior = &behavior, .downscale_window_s = window_s, .now_ms = now };
                struct kube_hpa_result res;
                kube_hpa_decide(&in, &st->history, &res);
                if (measured)
                        record_metric_failures(k, hpa, metrics, n_metrics);
                if (res.failed) {
                        kube_event(k, hpa, "Warning", "FailedComputeMetricsReplicas", "%s", res.error);
                        const json_t *d = json_object_get(json_object_get(hpa, "status"), "desiredReplicas");
                        write_status(k, hpa, current, json_is_integer(d) ? (int)json_integer_value(d) : current,
                                     metrics, n_metrics, &res, false);
                } else {
                        apply(k, st, hpa, target, current, &behavior, metrics, measured ? n_metrics : 0, &res, now);
                }
        }
        pod_set_free(&ps);
        free(bufs);
        free(metrics);
        json_decref(specs);
        json_decref(target);
}

/* ---- the controller ------------------------------------------------------------------ */

int kube_hpa_init(struct kube *k, berth_error_t **err)
{
        (void)err;
        *kube_slot(k, KUBE_SLOT_HPA) = xcalloc(1, sizeof(struct hpa_ctl));
        return 0;
}

void kube_hpa_reconcile(struct kube *k)
{
        struct hpa_ctl *ctl = *kube_slot(k, KUBE_SLOT_HPA);
        if (!ctl)
                return;
        json_t *hpas = kube_list(k, "HorizontalPodAutoscaler", NULL, NULL), *hpa;
        int64_t period = (int64_t)kube_options(k)->hpa_sync_s * 1000, now = now_ms();
        size_t i;
        json_array_foreach(hpas, i, hpa) {
                const char *uid = str_at(hpa, "metadata", "uid");
                const json_t *deleting = json_object_get(json_object_get(hpa, "metadata"), "deletionTimestamp");
                if (!uid || (deleting && !json_is_null(deleting)))
                        continue;
                struct hpa_state *st = state_for(ctl, uid);
                st->seen = true;
                if (now < st->next_ms)
                        continue;
                st->next_ms = now + period;
                sync_one(k, st, hpa, now);
        }
        sweep(ctl);
        json_decref(hpas);
}

void kube_hpa_fini(struct kube *k)
{
        struct hpa_ctl *ctl = *kube_slot(k, KUBE_SLOT_HPA);
        if (!ctl)
                return;
        for (size_t i = 0; i < ctl->n; i++)
                state_free(ctl->v[i]);
        free(ctl->v);
        free(ctl);
        *kube_slot(k, KUBE_SLOT_HPA) = NULL;
}
