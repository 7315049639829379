/* The Deployment controller: a ReplicaSet per pod template
 * (<deployment>-<pod-template-hash>), revisions, RollingUpdate within
 * maxSurge/maxUnavailable, Recreate, progress deadline, history limit.
 * The arithmetic follows Kubernetes' deployment controller
 * (rolling.go, sync.go): replica counts come from the ReplicaSets' specs,
 * availability from their status, which the ReplicaSet controller has
 * just written in the same pass. */
#include "orch/kube-calc.h"
#include "orch/kube-workloads.h"
#include "util/log.h"
#include "util/util.h"
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct rollout {
        json_t *d;              /* the Deployment */
        json_t *new_rs;         /* its template's ReplicaSet, or NULL */
        json_t *old;            /* the other owned ReplicaSets, oldest revision first */
        int replicas, max_surge, max_unavailable;
};

static json_int_t rs_spec(const json_t *rs)
{
        return kube_spec_int(rs, "replicas", 0);
}

static json_int_t rs_status(const json_t *rs, const char *field)
{
        return json_integer_value(json_object_get(json_object_get(rs, "status"), field));
}

static int by_revision(const void *a, const void *b)
{
        long ra = kube_revision(*(json_t *const *)a), rb = kube_revision(*(json_t *const *)b);
        return ra < rb ? -1 : ra > rb;
}

static void sort_by_revision(json_t *list)
{
        size_t n = json_array_size(list);
        json_t **v = xcalloc(n ? n : 1, sizeof(*v));

        for (size_t i = 0; i < n; i++)
                v[i] = json_incref(json_array_get(list, i));
        qsort(v, n, sizeof(*v), by_revision);
        json_array_clear(list);
        for (size_t i = 0; i < n; i++)
                json_array_append_new(list, v[i]);
        free(v);
}

static void set_annotation(json_t *obj, const char *key, const char *value)
{
        json_t *meta = json_object_get(obj, "metadata"), *ann = json_object_get(meta, "annotations");

        if (!json_is_object(ann))
                json_object_set_new(meta, "annotations", ann = must(json_object()));
        json_object_set_new(ann, key, json_string(value));
}

static long max_old_revision(const struct rollout *r)
{
        long max = 0;
        size_t i;
        json_t *rs;

        json_array_foreach(r->old, i, rs) if (kube_revision(rs) > max) max = kube_revision(rs);
        return max;
}

/* Owned ReplicaSets, split into the template's own and the rest. */
static void find_replicasets(struct kube *k, struct rollout *r)
{
        json_t *all = kube_list(k, "ReplicaSet", kube_meta_str(r->d, "namespace"), NULL), *rs;
        json_t *tmpl = json_object_get(json_object_get(r->d, "spec"), "template");
        size_t i;

        r->old = must(json_array());
        json_array_foreach(all, i, rs) {
                if (!kube_is_owned_by(rs, r->d) || kube_is_terminating(rs))
                        continue;
                json_t *t = kube_template_without_hash(rs);
                if (r->new_rs == NULL && json_equal(t, tmpl))
                        r->new_rs = json_incref(rs);
                else
                        json_array_append(r->old, rs);
                json_decref(t);
        }
        json_decref(all);
        sort_by_revision(r->old);
}

static int update_rs(struct kube *k, json_t **rs, json_int_t replicas, long revision)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *stored = NULL;
        char buf[32];

        if (rs_spec(*rs) == replicas && (revision == 0 || kube_revision(*rs) == revision))
                return 0;
        json_object_set_new(json_object_get(*rs, "spec"), "replicas", json_integer(replicas));
        if (revision) {
                snprintf(buf, sizeof(buf), "%ld", revision);
                set_annotation(*rs, KUBE_REVISION_ANNOTATION, buf);
        }
        if (kube_update(k, *rs, &stored, &err) < 0) {
                berth_debug("replicaset %s: %s", kube_meta_str(*rs, "name"), err->msg);
                return -1;
        }
        json_decref(*rs);
        *rs = stored;
        return 1;
}

static json_t *new_replicaset(struct kube *k, struct rollout *r, json_int_t replicas, long revision)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *spec = json_object_get(r->d, "spec");
        json_t *tmpl = json_deep_copy(json_object_get(spec, "template"));
        _cleanup_free_ char *hash = kube_pod_template_hash(tmpl, 0);
        json_t *tmeta = json_object_get(tmpl, "metadata");
        char rev[32];

        if (!json_is_object(tmeta))
                json_object_set_new(tmpl, "metadata", tmeta = must(json_object()));
        if (!json_is_object(json_object_get(tmeta, "labels")))
                json_object_set_new(tmeta, "labels", must(json_object()));
        json_object_set_new(json_object_get(tmeta, "labels"), KUBE_HASH_LABEL, json_string(hash));
        json_t *selector = json_deep_copy(json_object_get(spec, "selector"));
        if (!json_is_object(json_object_get(selector, "matchLabels")))
                json_object_set_new(selector, "matchLabels", must(json_object()));
        json_object_set_new(json_object_get(selector, "matchLabels"), KUBE_HASH_LABEL, json_string(hash));
        snprintf(rev, sizeof(rev), "%ld", revision);
        json_t *labels = json_deep_copy(json_object_get(tmeta, "labels"));
        json_t *rs = must(json_pack("{s:s, s:s, s:{s:s++, s:s, s:o, s:{s:s}, s:[o]}, s:{s:I, s:I, s:o, s:o}}",
                                    "apiVersion", "apps/v1", "kind", "ReplicaSet", "metadata", "name",
                                    kube_meta_str(r->d, "name"), "-", hash, "namespace",
                                    kube_meta_str(r->d, "namespace"), "labels", labels, "annotations",
                                    KUBE_REVISION_ANNOTATION, rev, "ownerReferences", kube_owner_ref(r->d), "spec",
                                    "replicas", replicas, "minReadySeconds", kube_spec_int(r->d, "minReadySeconds", 0),
                                    "selector", selector, "template", tmpl));
        json_t *made = NULL;
        if (kube_create(k, rs, &made, &err) < 0) {
                kube_event(k, r->d, "Warning", "FailedCreate", "Failed to create new replica set: %s", err->msg);
                made = NULL;
        } else {
                kube_event(k, r->d, "Normal", "ScalingReplicaSet", "Scaled up replica set %s to %lld",
                           kube_meta_str(made, "name"), (long long)replicas);
        }
        json_decref(rs);
        return made;
}

static void scaled_event(struct kube *k, const struct rollout *r, const json_t *rs, json_int_t from, json_int_t to)
{
        if (from != to)
                kube_event(k, r->d, "Normal", "ScalingReplicaSet", "Scaled %s replica set %s to %lld from %lld",
                           to > from ? "up" : "down", kube_meta_str(rs, "name"), (long long)to, (long long)from);
}

static json_int_t total_spec(const struct rollout *r)
{
        json_int_t n = r->new_rs ? rs_spec(r->new_rs) : 0;
        size_t i;
        json_t *rs;

        json_array_foreach(r->old, i, rs) n += rs_spec(rs);
        return n;
}

static json_int_t total_available(const struct rollout *r)
{
        json_int_t n = r->new_rs ? rs_status(r->new_rs, "availableReplicas") : 0;
        size_t i;
        json_t *rs;

        json_array_foreach(r->old, i, rs) n += rs_status(rs, "availableReplicas");
        return n;
}

static void scale_rs(struct kube *k, struct rollout *r, json_t **rs, json_int_t to)
{
        json_int_t from = rs_spec(*rs);
        if (update_rs(k, rs, to, 0) > 0)
                scaled_event(k, r, *rs, from, to);
}

static void rolling_scale_up(struct kube *k, struct rollout *r)
{
        json_int_t cur = rs_spec(r->new_rs);

        if (cur == r->replicas)
                return;
        if (cur > r->replicas) {
                scale_rs(k, r, &r->new_rs, r->replicas);
                return;
        }
        json_int_t room = r->replicas + r->max_surge - total_spec(r);
        if (room <= 0)
                return;
        json_int_t to = cur + room < r->replicas ? cur + room : r->replicas;
        scale_rs(k, r, &r->new_rs, to);
}

/* Old ReplicaSets shrink by what availability allows: first their
 * unavailable pods, then available ones down to replicas -
 * maxUnavailable. */
static void rolling_scale_down(struct kube *k, struct rollout *r)
{
        json_int_t min_available = r->replicas - r->max_unavailable;
        json_int_t new_unavailable = rs_spec(r->new_rs) - rs_status(r->new_rs, "availableReplicas");
        json_int_t budget = total_spec(r) - min_available - (new_unavailable > 0 ? new_unavailable : 0);
        json_t *rs;
        size_t i;

        if (budget <= 0)
                return;
        json_array_foreach(r->old, i, rs) {
                json_int_t spec = rs_spec(rs), unavailable = spec - rs_status(rs, "availableReplicas");
                if (budget <= 0 || spec == 0 || unavailable <= 0)
                        continue;
                json_int_t cut = unavailable < budget ? unavailable : budget;
                json_t *copy = json_incref(rs);
                scale_rs(k, r, &copy, spec - cut);
                json_array_set_new(r->old, i, copy);
                budget -= cut;
        }
        json_int_t available = total_available(r);
        if (available <= min_available)
                return;
        json_int_t allowed = available - min_available;
        json_array_foreach(r->old, i, rs) {
                json_int_t spec = rs_spec(rs);
                if (allowed <= 0)
                        break;
                if (spec == 0)
                        continue;
                json_int_t cut = spec < allowed ? spec : allowed;
                json_t *copy = json_incref(rs);
                scale_rs(k, r, &copy, spec - cut);
                json_array_set_new(r->old, i, copy);
                allowed -= cut;
        }
}

static bool old_pods_exist(struct kube *k, const struct rollout *r)
{
        json_t *pods = kube_list(k, "Pod", kube_meta_str(r->d, "namespace"), NULL), *pod, *rs;
        bool found = false;
        size_t i, j;

        json_array_foreach(pods, i, pod) json_array_foreach(r->old, j, rs) if (kube_is_owned_by(pod, rs)) found = true;
        json_decref(pods);
        return found;
}

static void recreate(struct kube *k, struct rollout *r)
{
        json_t *rs;
        size_t i;

        json_array_foreach(r->old, i, rs) {
                json_t *copy = json_incref(rs);
                scale_rs(k, r, &copy, 0);
                json_array_set_new(r->old, i, copy);
        }
        if (!old_pods_exist(k, r) && rs_spec(r->new_rs) != r->replicas)
                scale_rs(k, r, &r->new_rs, r->replicas);
}

/* Old ReplicaSets beyond revisionHistoryLimit, once scaled to nothing,
 * are deleted (their revisions leave the history). */
static void prune_history(struct kube *k, struct rollout *r)
{
        json_int_t limit = kube_spec_int(r->d, "revisionHistoryLimit", 10);
        json_t *idle = must(json_array()), *rs;
        size_t i;

        json_array_foreach(r->old, i, rs) if (rs_spec(rs) == 0 && rs_status(rs, "replicas") == 0)
                json_array_append(idle, rs);
        for (i = 0; (json_int_t)(json_array_size(idle) - i) > limit; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                rs = json_array_get(idle, i);
                kube_remove(k, "ReplicaSet", kube_meta_str(rs, "namespace"), kube_meta_str(rs, "name"), &err);
        }
        json_decref(idle);
}

static json_t *condition(const char *type, bool ok, const char *reason, const char *message, const char *since,
                         const char *updated)
{
        return must(json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "type", type, "status", ok ? "True" : "False",
                              "reason", reason, "message", message, "lastTransitionTime", since, "lastUpdateTime",
                              updated));
}

static json_t *old_condition(const json_t *d, const char *type)
{
        size_t i;
        json_t *c;

        json_array_foreach(json_object_get(json_object_get(d, "status"), "conditions"), i, c) {
                const char *t = json_string_value(json_object_get(c, "type"));
                if (t && strcmp(t, type) == 0)
                        return c;
        }
        return NULL;
}

/* A condition keeps its lastTransitionTime while its status holds. */
static const char *condition_since(const json_t *old, bool ok, const char *now)
{
        const char *st = json_string_value(json_object_get(old, "status"));
        const char *t = json_string_value(json_object_get(old, "lastTransitionTime"));

        return st && t && strcmp(st, ok ? "True" : "False") == 0 ? t : now;
}

/* Counts moved toward the goal since the last status: progress. */
static bool progressed(const json_t *old, const json_t *now)
{
        static const char *const up[] = { "updatedReplicas", "readyReplicas", "availableReplicas" };

        for (size_t i = 0; i < 3; i++)
                if (json_integer_value(json_object_get(now, up[i])) > json_integer_value(json_object_get(old, up[i])))
                        return true;
        return json_integer_value(json_object_get(now, "replicas")) < json_integer_value(json_object_get(old, "replicas"));
}

static void write_status(struct kube *k, struct rollout *r)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *now = kube_now_rfc3339();
        json_t *old_status = json_object_get(r->d, "status");
        json_int_t replicas = 0, ready = 0, available = 0;
        json_int_t updated = r->new_rs ? rs_status(r->new_rs, "replicas") : 0;
        size_t i;
        json_t *rs;

        if (r->new_rs) {
                replicas += rs_status(r->new_rs, "replicas");
                ready += rs_status(r->new_rs, "readyReplicas");
                available += rs_status(r->new_rs, "availableReplicas");
        }
        json_array_foreach(r->old, i, rs) {
                replicas += rs_status(rs, "replicas");
                ready += rs_status(rs, "readyReplicas");
                available += rs_status(rs, "availableReplicas");
        }
        json_t *st = must(json_pack("{s:O, s:I, s:I, s:I, s:I, s:I}", "observedGeneration",
                                    json_object_get(json_object_get(r->d, "metadata"), "generation"), "replicas",
                                    replicas, "updatedReplicas", updated, "readyReplicas", ready, "availableReplicas",
                                    available, "unavailableReplicas",
                                    r->replicas - available > 0 ? r->replicas - available : 0));
        bool complete = updated == r->replicas && available == r->replicas && replicas == r->replicas &&
                        r->new_rs != NULL;
        bool avail_ok = available >= r->replicas - r->max_unavailable;
        json_t *ac = old_condition(r->d, "Available");
        const char *ac_since = condition_since(ac, avail_ok, now);
        json_t *conds = must(json_array());
        json_array_append_new(conds, condition("Available", avail_ok,
                                               avail_ok ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable",
                                               avail_ok ? "Deployment has minimum availability."
                                                        : "Deployment does not have minimum availability.",
                                               ac_since, now));
        /* Progressing: its lastUpdateTime moves with progress; the deadline
         * counts from there */
        json_t *pc = old_condition(r->d, "Progressing");
        const char *reason = complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated";
        const char *updated_at = pc ? json_string_value(json_object_get(pc, "lastUpdateTime")) : now;
        const char *pc_reason = pc ? json_string_value(json_object_get(pc, "reason")) : "";
        bool moved = pc == NULL || progressed(old_status, st) || strcmp(pc_reason, reason) != 0;
        json_int_t deadline = kube_spec_int(r->d, "progressDeadlineSeconds", 600);
        _cleanup_free_ char *msg = NULL;
        bool ok = true;
        if (strcmp(pc_reason, "ProgressDeadlineExceeded") == 0 && !complete && !progressed(old_status, st)) {
                reason = "ProgressDeadlineExceeded", ok = false, moved = false;
        } else if (!complete && !moved && kube_parse_rfc3339(now) - kube_parse_rfc3339(updated_at) > deadline) {
                reason = "ProgressDeadlineExceeded", ok = false, moved = true;
        }
        const char *rsname = r->new_rs ? kube_meta_str(r->new_rs, "name") : "";
        if (strcmp(reason, "ProgressDeadlineExceeded") == 0)
                msg = xasprintf("ReplicaSet \"%s\" has timed out progressing.", rsname);
        else if (complete)
                msg = xasprintf("ReplicaSet \"%s\" has successfully progressed.", rsname);
        else
                msg = xasprintf("ReplicaSet \"%s\" is progressing.", rsname);
        json_array_append_new(conds, condition("Progressing", ok, reason, msg, condition_since(pc, ok, now),
                                               moved ? now : updated_at));
        json_object_set_new(st, "conditions", conds);
        if (r->new_rs == NULL)
                json_object_del(st, "updatedReplicas");
        /* an unchanged status is not rewritten (lastUpdateTime would move) */
        json_t *cmp_old = json_deep_copy(old_status), *cmp_new = json_deep_copy(st);
        size_t ci;
        json_t *c;
        json_array_foreach(json_object_get(cmp_old, "conditions"), ci, c) json_object_del(c, "lastUpdateTime");
        json_array_foreach(json_object_get(cmp_new, "conditions"), ci, c) json_object_del(c, "lastUpdateTime");
        bool same = json_equal(cmp_old, cmp_new);
        json_decref(cmp_old);
        json_decref(cmp_new);
        if (!same) {
                json_object_set_new(r->d, "status", st);
                if (kube_update_status(k, r->d, &err) < 0)
                        berth_debug("deployment %s: status: %s", kube_meta_str(r->d, "name"), err->msg);
        } else {
                json_decref(st);
        }
}

static void sync_revision_annotation(struct kube *k, struct rollout *r)
{
        _cleanup_error_ berth_error_t *err = NULL;
        char rev[32];
        json_t *stored = NULL;

        snprintf(rev, sizeof(rev), "%ld", kube_revision(r->new_rs));
        if (kube_revision(r->d) == kube_revision(r->new_rs))
                return;
        set_annotation(r->d, KUBE_REVISION_ANNOTATION, rev);
        if (kube_update(k, r->d, &stored, &err) == 0) {
                json_decref(r->d);
                r->d = stored;
        }
}

static void sync_deployment(struct kube *k, json_t *d)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct rollout r = { .d = json_incref(d) };

        if (kube_is_terminating(d))
                goto out;
        r.replicas = (int)kube_spec_int(d, "replicas", 1);
        if (kube_rolling_params(json_object_get(json_object_get(d, "spec"), "strategy"), r.replicas, &r.max_surge,
                                &r.max_unavailable, &err) < 0)
                goto out;
        find_replicasets(k, &r);
        long max_rev = max_old_revision(&r);
        const char *type = json_string_value(
                json_object_get(json_object_get(json_object_get(d, "spec"), "strategy"), "type"));
        bool recreating = type && strcmp(type, "Recreate") == 0;
        if (r.new_rs == NULL) {
                /* a new template: Recreate starts it at 0 until the old
                 * pods are gone; a first rollout starts at full size */
                json_int_t start = json_array_size(r.old) == 0 ? r.replicas : 0;
                r.new_rs = new_replicaset(k, &r, recreating ? 0 : start, max_rev + 1);
                if (r.new_rs == NULL)
                        goto out;
        } else if (kube_revision(r.new_rs) <= max_rev) {
                /* a rollback: the old template becomes the newest revision */
                update_rs(k, &r.new_rs, rs_spec(r.new_rs), max_rev + 1);
        }
        sync_revision_annotation(k, &r);
        if (recreating) {
                recreate(k, &r);
        } else {
                rolling_scale_up(k, &r);
                rolling_scale_down(k, &r);
        }
        prune_history(k, &r);
        write_status(k, &r);
out:
        json_decref(r.new_rs);
        json_decref(r.old);
        json_decref(r.d);
}

void kube_deployments_reconcile(struct kube *k)
{
        json_t *all = kube_list(k, "Deployment", NULL, NULL), *d;
        size_t i;

        json_array_foreach(all, i, d) sync_deployment(k, d);
        json_decref(all);
}
