/* The HorizontalPodAutoscaler's arithmetic (kube-controller-manager's
 * pkg/controller/podautoscaler: replica_calculator.go, horizontal.go and
 * autoscaling/v2 defaults) as pure functions of the pods' samples, the
 * spec and the history the caller keeps.  Time is a parameter (now_ms),
 * never read here. */
#include "orch/kube-calc.h"
#include "util/util.h"

#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- the pods ------------------------------------------------------------------- */

static const char *str_field(const json_t *obj, const char *key)
{
        const json_t *v = json_object_get(obj, key);
        return json_is_string(v) ? json_string_value(v) : NULL;
}

static const json_t *pod_condition(const json_t *pod, const char *type)
{
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c) {
                const char *t = str_field(c, "type");
                if (t && strcmp(t, type) == 0)
                        return c;
        }
        return NULL;
}

void kube_hpa_pod_group(const json_t *pod, bool has_metric, int64_t metric_ms, int64_t window_ms, int64_t now_ms,
                        struct kube_hpa_pod *out)
{
        const json_t *meta = json_object_get(pod, "metadata"), *status = json_object_get(pod, "status");
        const char *phase = str_field(status, "phase");
        out->has_metric = has_metric;
        out->ignored = out->pending = out->unready = false;
        if ((json_object_get(meta, "deletionTimestamp") && !json_is_null(json_object_get(meta, "deletionTimestamp"))) ||
            (phase && strcmp(phase, "Failed") == 0)) {
                out->ignored = true;
                return;
        }
        if (phase && strcmp(phase, "Pending") == 0) {
                out->pending = true;
                return;
        }
        if (!has_metric)
                return;
        const json_t *ready = pod_condition(pod, "Ready");
        int64_t start = kube_time_ms(str_field(status, "startTime"));
        if (!ready || start < 0) {
                out->unready = true;
                return;
        }
        const char *ready_status = str_field(ready, "status");
        bool is_false = ready_status && strcmp(ready_status, "False") == 0;
        int64_t transition = kube_time_ms(str_field(ready, "lastTransitionTime"));
        if (transition < 0)
                transition = 0;
        if (start + KUBE_HPA_CPU_INIT_PERIOD_MS > now_ms)
                /* Still starting up: a sample counts only when the pod is
                 * Ready and a whole window was taken since it became so. */
                out->unready = is_false || metric_ms < transition + window_ms;
        else
                /* Ignore it only if it has never been ready. */
                out->unready = is_false && start + KUBE_HPA_READINESS_DELAY_MS > transition;
}

static const json_t *obj_field(const json_t *obj, const char *key)
{
        const json_t *v = json_object_get(obj, key);
        return json_is_object(v) ? v : NULL;
}

/* A cpu request, or the limit the API server would have copied into it. */
static const json_t *cpu_request(const json_t *resources)
{
        const json_t *req = json_object_get(obj_field(resources, "requests"), "cpu");
        if (req && !json_is_null(req))
                return req;
        req = json_object_get(obj_field(resources, "limits"), "cpu");
        return req && !json_is_null(req) ? req : NULL;
}

static bool pod_level_requests_set(const json_t *resources)
{
        const json_t *req = obj_field(resources, "requests"), *lim = obj_field(resources, "limits");
        return (req && json_object_size(req) > 0) || (lim && json_object_size(lim) > 0);
}

static int add_container_request(const json_t *c, const char *pod_name, int64_t *sum, berth_error_t **err)
{
        const json_t *req = cpu_request(obj_field(c, "resources"));
        const char *name = str_field(c, "name");
        if (!req)
                return berth_fail(err, EINVAL, "missing request for cpu in container %s of Pod %s", name ? name : "",
                                  pod_name);
        int64_t milli;
        if (kube_quantity_json_milli(req, &milli, err) < 0)
                return -EINVAL;
        *sum += milli;
        return 0;
}

int kube_pod_cpu_request_milli(const json_t *pod, int64_t *milli, berth_error_t **err)
{
        const json_t *spec = json_object_get(pod, "spec");
        const char *pod_name = str_field(json_object_get(pod, "metadata"), "name");
        const json_t *pod_resources = obj_field(spec, "resources");
        if (!pod_name)
                pod_name = "";
        if (pod_level_requests_set(pod_resources)) {
                const json_t *req = cpu_request(pod_resources);
                if (!req)
                        return berth_fail(err, EINVAL, "missing pod-level request for cpu in Pod %s", pod_name);
                return kube_quantity_json_milli(req, milli, err);
        }
        int64_t sum = 0;
        size_t i;
        const json_t *c;
        json_array_foreach(json_object_get(spec, "containers"), i, c)
                if (add_container_request(c, pod_name, &sum, err) < 0)
                        return -EINVAL;
        /* Sidecars (restartable init containers) run alongside: they count. */
        json_array_foreach(json_object_get(spec, "initContainers"), i, c) {
                const char *policy = str_field(c, "restartPolicy");
                if (policy && strcmp(policy, "Always") == 0 && add_container_request(c, pod_name, &sum, err) < 0)
                        return -EINVAL;
        }
        *milli = sum;
        return 0;
}

/* ---- GetResourceReplicas ------------------------------------------------------------ */

enum sample { SAMPLE_NONE, SAMPLE_MEASURED, SAMPLE_ZERO, SAMPLE_FALLBACK };

static bool within(double ratio, double tolerance)
{
        return 1.0 - tolerance <= ratio && ratio <= 1.0 + tolerance;
}

/* GetResourceUtilizationRatio over the pods that have a sample. */
static int utilization_ratio(const struct kube_hpa_pod *pods, const enum sample *samples, size_t n, int target,
                             int fallback_pct, double *ratio, int *utilization, int64_t *raw, size_t *entries,
                             berth_error_t **err)
{
        int64_t used = 0, requested = 0;
        size_t count = 0;
        for (size_t i = 0; i < n; i++) {
                if (samples[i] == SAMPLE_NONE)
                        continue;
                used += samples[i] == SAMPLE_MEASURED ? pods[i].usage_milli
                      : samples[i] == SAMPLE_FALLBACK ? pods[i].request_milli * fallback_pct / 100
                                                      : 0;
                requested += pods[i].request_milli;
                count++;
        }
        if (requested == 0)
                return berth_fail(err, EINVAL, "no metrics returned matched known pods");
        *utilization = (int)(used * 100 / requested);
        *ratio = (double)*utilization / (double)target;
        if (raw)
                *raw = used / (int64_t)count;
        *entries = count;
        return 0;
}

int kube_hpa_resource_replicas(int current, const struct kube_hpa_pod *pods, size_t n, int target_utilization,
                               double tolerance, int *replicas, int *utilization, int64_t *raw_milli,
                               berth_error_t **err)
{
        if (n == 0)
                return berth_fail(err, EINVAL, "no pods returned by selector while calculating replica count");
        if (target_utilization <= 0)
                return berth_fail(err, EINVAL, "invalid target utilization %d", target_utilization);
        _cleanup_free_ enum sample *samples = xcalloc(n, sizeof(*samples));
        size_t ready = 0, unready = 0, missing = 0;
        for (size_t i = 0; i < n; i++) {
                if (pods[i].ignored)
                        continue;
                if (pods[i].pending || (pods[i].has_metric && pods[i].unready))
                        unready++;
                else if (!pods[i].has_metric)
                        missing++;
                else {
                        samples[i] = SAMPLE_MEASURED;
                        ready++;
                }
        }
        if (ready == 0)
                return berth_fail(err, EINVAL, "did not receive metrics for targeted pods (pods might be unready)");

        double ratio;
        size_t entries;
        if (utilization_ratio(pods, samples, n, target_utilization, 0, &ratio, utilization, raw_milli, &entries,
                              err) < 0)
                return -EINVAL;
        bool scale_up_with_unready = unready > 0 && ratio > 1.0;
        if (!scale_up_with_unready && missing == 0) {
                *replicas = within(ratio, tolerance) ? current : (int)ceil(ratio * (double)ready);
                return 0;
        }

        /* Fill in the pods set aside, pessimistically for the direction:
         * missing ones use the target (scale-down) or nothing (scale-up),
         * unready ones nothing (scale-up only). */
        for (size_t i = 0; i < n; i++) {
                if (pods[i].ignored || samples[i] != SAMPLE_NONE)
                        continue;
                bool is_unready = pods[i].pending || (pods[i].has_metric && pods[i].unready);
                if (is_unready && scale_up_with_unready)
                        samples[i] = SAMPLE_ZERO;
                else if (!is_unready && ratio < 1.0)
                        samples[i] = SAMPLE_FALLBACK;
                else if (!is_unready && ratio > 1.0)
                        samples[i] = SAMPLE_ZERO;
        }
        double new_ratio;
        int ignored_utilization;
        int fallback = target_utilization > 100 ? target_utilization : 100;
        if (utilization_ratio(pods, samples, n, target_utilization, fallback, &new_ratio, &ignored_utilization, NULL,
                              &entries, err) < 0)
                return -EINVAL;
        if (within(new_ratio, tolerance) || (ratio < 1.0 && new_ratio > 1.0) || (ratio > 1.0 && new_ratio < 1.0)) {
                *replicas = current;
                return 0;
        }
        int proposal = (int)ceil(new_ratio * (double)entries);
        if ((new_ratio < 1.0 && proposal > current) || (new_ratio > 1.0 && proposal < current))
                proposal = current;
        *replicas = proposal;
        return 0;
}

/* ---- behavior ----------------------------------------------------------------------- */

static void default_rules(struct kube_hpa_behavior *b, int downscale_window_s)
{
        b->up = (struct kube_hpa_rules){ .stabilization_s = 0, .select = KUBE_HPA_SELECT_MAX, .n_policies = 2 };
        b->up.policies[0] = (struct kube_hpa_policy){ KUBE_HPA_POLICY_PODS, 4, 15 };
        b->up.policies[1] = (struct kube_hpa_policy){ KUBE_HPA_POLICY_PERCENT, 100, 15 };
        b->down = (struct kube_hpa_rules){ .stabilization_s = downscale_window_s, .select = KUBE_HPA_SELECT_MAX,
                                           .n_policies = 1 };
        b->down.policies[0] = (struct kube_hpa_policy){ KUBE_HPA_POLICY_PERCENT, 100, 15 };
}

static int rules_error(berth_error_t **err, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static int rules_error(berth_error_t **err, const char *path, const char *fmt, ...)
{
        va_list ap;
        char msg[256];
        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        return berth_fail(err, EINVAL, "spec.behavior.%s: %s", path, msg);
}

static int parse_policy(const json_t *p, const char *dir, size_t idx, struct kube_hpa_policy *out, berth_error_t **err)
{
        char path[64];
        snprintf(path, sizeof(path), "%s.policies[%zu]", dir, idx);
        const char *type = str_field(p, "type");
        const json_t *value = json_object_get(p, "value"), *period = json_object_get(p, "periodSeconds");
        if (!type || (strcmp(type, "Pods") != 0 && strcmp(type, "Percent") != 0))
                return rules_error(err, path, "type: Unsupported value: supported values: \"Pods\", \"Percent\"");
        if (!json_is_integer(value) || json_integer_value(value) <= 0 || json_integer_value(value) > INT_MAX)
                return rules_error(err, path, "value: Invalid value: must be greater than zero");
        if (!json_is_integer(period) || json_integer_value(period) <= 0 || json_integer_value(period) > 1800)
                return rules_error(err, path, "periodSeconds: Invalid value: must be greater than zero and less "
                                              "than or equal to 1800");
        out->type = strcmp(type, "Pods") == 0 ? KUBE_HPA_POLICY_PODS : KUBE_HPA_POLICY_PERCENT;
        out->value = (int)json_integer_value(value);
        out->period_s = (int)json_integer_value(period);
        return 0;
}

/* copyHPAScalingRules over the defaults, then validateScalingRules. */
static int parse_rules(const json_t *j, const char *dir, struct kube_hpa_rules *r, berth_error_t **err)
{
        if (!j || json_is_null(j))
                return 0;
        if (!json_is_object(j))
                return rules_error(err, dir, "must be an object");
        const json_t *window = json_object_get(j, "stabilizationWindowSeconds");
        if (window && !json_is_null(window)) {
                if (!json_is_integer(window) || json_integer_value(window) < 0 || json_integer_value(window) > 3600)
                        return rules_error(err, dir, "stabilizationWindowSeconds: Invalid value: must be greater "
                                                     "than or equal to zero and less than or equal to 3600");
                r->stabilization_s = (int)json_integer_value(window);
        }
        const char *select = str_field(j, "selectPolicy");
        if (select) {
                if (strcmp(select, "Max") == 0)
                        r->select = KUBE_HPA_SELECT_MAX;
                else if (strcmp(select, "Min") == 0)
                        r->select = KUBE_HPA_SELECT_MIN;
                else if (strcmp(select, "Disabled") == 0)
                        r->select = KUBE_HPA_SELECT_DISABLED;
                else
                        return rules_error(err, dir, "selectPolicy: Unsupported value: supported values: "
                                                     "\"Disabled\", \"Max\", \"Min\"");
        }
        const json_t *policies = json_object_get(j, "policies");
        if (policies && !json_is_null(policies)) {
                if (!json_is_array(policies) || json_array_size(policies) == 0)
                        return rules_error(err, dir, "policies: Required value: must specify at least one Policy");
                if (json_array_size(policies) > KUBE_HPA_MAX_POLICIES)
                        return rules_error(err, dir, "policies: Too many: must have at most %d items",
                                           KUBE_HPA_MAX_POLICIES);
                size_t i;
                const json_t *p;
                json_array_foreach(policies, i, p)
                        if (parse_policy(p, dir, i, &r->policies[i], err) < 0)
                                return -EINVAL;
                r->n_policies = json_array_size(policies);
        }
        return 0;
}

int kube_hpa_behavior_parse(const json_t *behavior, int downscale_window_s, struct kube_hpa_behavior *out,
                            berth_error_t **err)
{
        default_rules(out, downscale_window_s);
        out->set = behavior && !json_is_null(behavior);
        if (!out->set)
                return 0;
        if (!json_is_object(behavior))
                return berth_fail(err, EINVAL, "spec.behavior: must be an object");
        if (parse_rules(json_object_get(behavior, "scaleUp"), "scaleUp", &out->up, err) < 0 ||
            parse_rules(json_object_get(behavior, "scaleDown"), "scaleDown", &out->down, err) < 0)
                return -EINVAL;
        return 0;
}

/* ---- history ----------------------------------------------------------------------- */

void kube_hpa_history_free(struct kube_hpa_history *h)
{
        free(h->recs);
        free(h->ups);
        free(h->downs);
        memset(h, 0, sizeof(*h));
}

static void rec_put(struct kube_hpa_history *h, bool replace, size_t at, int replicas, int64_t now_ms)
{
        if (!replace) {
                h->recs = xrealloc(h->recs, (h->n_recs + 1) * sizeof(*h->recs));
                at = h->n_recs++;
        }
        h->recs[at] = (struct kube_hpa_rec){ now_ms, replicas };
}

/* getReplicasChangePerPeriod: events strictly after now - period. */
static int change_in_period(const struct kube_hpa_scale_event *ev, size_t n, int period_s, int64_t now_ms)
{
        int64_t cutoff = now_ms - (int64_t)period_s * 1000;
        int sum = 0;
        for (size_t i = 0; i < n; i++)
                if (ev[i].t_ms > cutoff)
                        sum += ev[i].change;
        return sum;
}

static int longest_period(const struct kube_hpa_rules *r)
{
        int longest = 0;
        for (size_t i = 0; i < r->n_policies; i++)
                if (r->policies[i].period_s > longest)
                        longest = r->policies[i].period_s;
        return longest;
}

void kube_hpa_store_scale_event(struct kube_hpa_history *h, const struct kube_hpa_behavior *b, int prev, int next,
                                int64_t now_ms)
{
        if (!b || !b->set)
                return;
        bool up = next > prev;
        struct kube_hpa_scale_event **ev = up ? &h->ups : &h->downs;
        size_t *n = up ? &h->n_ups : &h->n_downs;
        int64_t cutoff = now_ms - (int64_t)longest_period(up ? &b->up : &b->down) * 1000;
        bool found = false;
        size_t at = 0;
        /* markScaleEventsOutdated, then reuse the last outdated slot. */
        for (size_t i = 0; i < *n; i++) {
                if ((*ev)[i].t_ms < cutoff)
                        (*ev)[i].outdated = true;
                if ((*ev)[i].outdated) {
                        found = true;
                        at = i;
                }
        }
        if (!found) {
                *ev = xrealloc(*ev, (*n + 1) * sizeof(**ev));
                at = (*n)++;
        }
        (*ev)[at] = (struct kube_hpa_scale_event){ now_ms, up ? next - prev : prev - next, false };
}

/* ---- conditions ---------------------------------------------------------------------- */

static void cond_set(struct kube_hpa_cond *c, bool status, const char *reason, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void cond_set(struct kube_hpa_cond *c, bool status, const char *reason, const char *fmt, ...)
{
        va_list ap;
        c->set = true;
        c->status = status;
        snprintf(c->reason, sizeof(c->reason), "%s", reason);
        va_start(ap, fmt);
        vsnprintf(c->message, sizeof(c->message), fmt, ap);
        va_end(ap);
}

/* ---- the legacy path (spec.behavior absent) ------------------------------------------ */

/* stabilizeRecommendation: the highest recommendation of the window. */
static int stabilize_legacy(struct kube_hpa_history *h, int desired, int window_s, int64_t now_ms)
{
        int64_t cutoff = now_ms - (int64_t)window_s * 1000;
        int highest = desired;
        bool found = false;
        size_t old = 0;
        for (size_t i = 0; i < h->n_recs; i++) {
                if (h->recs[i].t_ms < cutoff) {
                        found = true;
                        old = i;
                } else if (h->recs[i].replicas > highest) {
                        highest = h->recs[i].replicas;
                }
        }
        rec_put(h, found, old, desired, now_ms);
        return highest;
}

static int normalize_legacy(const struct kube_hpa_input *in, struct kube_hpa_history *h, int desired,
                            struct kube_hpa_result *out)
{
        int stabilized = stabilize_legacy(h, desired, in->downscale_window_s, in->now_ms);
        if (stabilized != desired)
                cond_set(&out->able, true, "ScaleDownStabilized",
                         "recent recommendations were higher than current one, applying the highest recent "
                         "recommendation");
        else
                cond_set(&out->able, true, "ReadyForNewScale", "recommended size matches current size");

        /* convertDesiredReplicasWithRules: scale up at most to max(2x, 4). */
        double limit_d = fmax(2.0 * in->current, 4.0);
        int scale_up_limit = limit_d > INT_MAX ? INT_MAX : (int)limit_d;
        int maximum = in->max_replicas;
        const char *reason = "TooManyReplicas";
        const char *message = "the desired replica count is more than the maximum replica count";
        if (in->max_replicas > scale_up_limit) {
                maximum = scale_up_limit;
                reason = "ScaleUpLimit";
                message = "the desired replica count is increasing faster than the maximum scale rate";
        }
        int result = stabilized;
        if (stabilized < in->min_replicas) {
                result = in->min_replicas;
                reason = "TooFewReplicas";
                message = "the desired replica count is less than the minimum replica count";
        } else if (stabilized <= maximum) {
                reason = "DesiredWithinRange";
                message = "the desired count is within the acceptable range";
        } else {
                result = maximum;
        }
        cond_set(&out->limited, result != stabilized, reason, "%s", message);
        return result;
}

/* ---- the behavior path ---------------------------------------------------------------- */

static int stabilize_behavior(const struct kube_hpa_input *in, struct kube_hpa_history *h, int desired,
                              struct kube_hpa_result *out)
{
        const struct kube_hpa_behavior *b = in->behavior;
        int64_t up_cutoff = in->now_ms - (int64_t)b->up.stabilization_s * 1000;
        int64_t down_cutoff = in->now_ms - (int64_t)b->down.stabilization_s * 1000;
        int up = desired, down = desired;
        bool found = false;
        size_t old = 0;
        for (size_t i = 0; i < h->n_recs; i++) {
                const struct kube_hpa_rec *r = &h->recs[i];
                if (r->t_ms > up_cutoff && r->replicas < up)
                        up = r->replicas;
                if (r->t_ms > down_cutoff && r->replicas > down)
                        down = r->replicas;
                if (r->t_ms < up_cutoff && r->t_ms < down_cutoff) {
                        found = true;
                        old = i;
                }
        }
        int recommendation = in->current;
        if (recommendation < up)
                recommendation = up;
        if (recommendation > down)
                recommendation = down;
        rec_put(h, found, old, desired, in->now_ms);

        if (recommendation != desired) {
                if (desired >= in->current)
                        cond_set(&out->able, true, "ScaleUpStabilized",
                                 "recent recommendations were lower than current one, applying the lowest recent "
                                 "recommendation");
                else
                        cond_set(&out->able, true, "ScaleDownStabilized",
                                 "recent recommendations were higher than current one, applying the highest recent "
                                 "recommendation");
        } else {
                cond_set(&out->able, true, "ReadyForNewScale", "recommended size matches current size");
        }
        return recommendation;
}

/* calculateScaleUpLimitWithScalingRules / calculateScaleDownLimitWithBehaviors. */
static int rate_limit(const struct kube_hpa_rules *r, const struct kube_hpa_history *h, int current, bool up,
                      int64_t now_ms)
{
        if (r->select == KUBE_HPA_SELECT_DISABLED)
                return current;
        /* For scaling up "Max" picks the highest limit; for scaling down the lowest. */
        bool take_higher = (r->select == KUBE_HPA_SELECT_MAX) == up;
        int64_t result = take_higher ? INT_MIN : INT_MAX;
        for (size_t i = 0; i < r->n_policies; i++) {
                const struct kube_hpa_policy *p = &r->policies[i];
                int added = change_in_period(h->ups, h->n_ups, p->period_s, now_ms);
                int deleted = change_in_period(h->downs, h->n_downs, p->period_s, now_ms);
                int64_t start = (int64_t)current - added + deleted, proposed;
                if (p->type == KUBE_HPA_POLICY_PODS)
                        proposed = up ? start + p->value : start - p->value;
                else if (up)
                        proposed = (int64_t)ceil((double)start * (1 + (double)p->value / 100));
                else
                        proposed = (int64_t)((double)start * (1 - (double)p->value / 100));
                if (take_higher ? proposed > result : proposed < result)
                        result = proposed;
        }
        return result > INT_MAX ? INT_MAX : result < INT_MIN ? INT_MIN : (int)result;
}

static int rate_behavior(const struct kube_hpa_input *in, const struct kube_hpa_history *h, int desired,
                         const char **reason, const char **message)
{
        *reason = "DesiredWithinRange";
        *message = "the desired count is within the acceptable range";
        if (desired > in->current) {
                int limit = rate_limit(&in->behavior->up, h, in->current, true, in->now_ms);
                if (limit < in->current)
                        limit = in->current;    /* no further up until old events age out */
                int maximum = in->max_replicas;
                const char *r = "TooManyReplicas";
                const char *m = "the desired replica count is more than the maximum replica count";
                if (maximum > limit) {
                        maximum = limit;
                        r = "ScaleUpLimit";
                        m = "the desired replica count is increasing faster than the maximum scale rate";
                }
                if (desired > maximum) {
                        *reason = r;
                        *message = m;
                        return maximum;
                }
        } else if (desired < in->current) {
                int limit = rate_limit(&in->behavior->down, h, in->current, false, in->now_ms);
                if (limit > in->current)
                        limit = in->current;
                int minimum = in->min_replicas;
                const char *r = "TooFewReplicas";
                const char *m = "the desired replica count is less than the minimum replica count";
                if (minimum < limit) {
                        minimum = limit;
                        r = "ScaleDownLimit";
                        m = "the desired replica count is decreasing faster than the maximum scale rate";
                }
                if (desired < minimum) {
                        *reason = r;
                        *message = m;
                        return minimum;
                }
        }
        return desired;
}

static int normalize_behavior(const struct kube_hpa_input *in, struct kube_hpa_history *h, int desired,
                              struct kube_hpa_result *out)
{
        int stabilized = stabilize_behavior(in, h, desired, out);
        const char *reason, *message;
        int result = rate_behavior(in, h, stabilized, &reason, &message);
        cond_set(&out->limited, result != stabilized, reason, "%s", message);
        return result;
}

/* ---- reconcileAutoscaler ------------------------------------------------------------------ */

/* computeReplicasForMetrics: the largest proposal, or failure. */
static bool pick_metric(const struct kube_hpa_input *in, struct kube_hpa_result *out, int *replicas,
                        const char **name)
{
        size_t invalid = 0;
        const struct kube_hpa_metric *first_bad = NULL;
        *replicas = 0;
        *name = "";
        for (size_t i = 0; i < in->n_metrics; i++) {
                const struct kube_hpa_metric *m = &in->metrics[i];
                if (!m->ok) {
                        if (!first_bad)
                                first_bad = m;
                        invalid++;
                        continue;
                }
                if (*replicas == 0 || m->replicas > *replicas) {
                        *replicas = m->replicas;
                        *name = m->name ? m->name : "";
                }
        }
        if (first_bad)
                snprintf(out->error, sizeof(out->error),
                         "invalid metrics (%zu invalid out of %zu), first error is: failed to get %s resource metric "
                         "value: %s", invalid, in->n_metrics, first_bad->resource ? first_bad->resource : "cpu",
                         first_bad->error ? first_bad->error : "");
        if (in->n_metrics == 0 || invalid >= in->n_metrics || (invalid > 0 && *replicas < in->current)) {
                if (first_bad)
                        cond_set(&out->active, false, first_bad->reason ? first_bad->reason : "FailedGetResourceMetric",
                                 "the HPA was unable to compute the replica count: %s",
                                 first_bad->error ? first_bad->error : "");
                return false;
        }
        cond_set(&out->active, true, "ValidMetricFound",
                 "the HPA was able to successfully calculate a replica count from %s", *name);
        return true;
}

void kube_hpa_decide(const struct kube_hpa_input *in, struct kube_hpa_history *h, struct kube_hpa_result *out)
{
        memset(out, 0, sizeof(*out));
        cond_set(&out->able, true, "SucceededGetScale",
                 "the HPA controller was able to get the target's current scale");
        /* recordInitialRecommendation: the current size counts as a
         * recommendation, so a restart does not scale down at once. */
        if (!h->started) {
                h->started = true;
                rec_put(h, false, 0, in->current, in->now_ms);
        }
        int desired = 0;
        out->rescale = true;
        if (in->current == 0 && in->min_replicas != 0) {
                out->rescale = false;
                cond_set(&out->active, false, "ScalingDisabled",
                         "scaling is disabled since the replica count of the target is zero");
        } else if (in->current > in->max_replicas) {
                snprintf(out->reason, sizeof(out->reason), "Current number of replicas above Spec.MaxReplicas");
                desired = in->max_replicas;
        } else if (in->current < in->min_replicas) {
                snprintf(out->reason, sizeof(out->reason), "Current number of replicas below Spec.MinReplicas");
                desired = in->min_replicas;
        } else {
                int proposal;
                const char *metric;
                if (!pick_metric(in, out, &proposal, &metric)) {
                        out->failed = true;
                        out->rescale = false;
                        out->desired = in->current;
                        return;
                }
                desired = proposal;
                if (desired > in->current)
                        snprintf(out->reason, sizeof(out->reason), "%s above target", metric);
                if (desired < in->current)
                        snprintf(out->reason, sizeof(out->reason), "All metrics below target");
                desired = in->behavior && in->behavior->set ? normalize_behavior(in, h, desired, out)
                                                            : normalize_legacy(in, h, desired, out);
                out->rescale = desired != in->current;
        }
        if (out->rescale)
                cond_set(&out->able, true, "SucceededRescale",
                         "the HPA controller was able to update the target scale to %d", desired);
        out->desired = out->rescale ? desired : in->current;
}
