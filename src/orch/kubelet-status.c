/* A pod's status as the kubelet reports it (status_manager,
 * kubelet_pods.go getPhase and generateAPIPodStatus): phase, conditions
 * with their transition times, container statuses with state and
 * lastState, IPs, QoS class. */
#include "orch/kubelet.h"
#include "util/util.h"

struct counts {
        int running, waiting, stopped, succeeded, failed;
};

static bool will_restart(const struct kl_ctr *c)
{
        return c->state == KL_TERMINATED && c->restart_pending;
}

static int exit_code(const json_t *term)
{
        return (int)json_integer_value(json_object_get(term, "exitCode"));
}

/* getPhase: init containers first, then the app containers' states. */
static const char *phase_of(const struct kl_pod *p, const char *policy)
{
        struct counts n = { 0 };

        for (size_t i = 0; i < p->n_init; i++) {
                const struct kl_ctr *c = &p->ctrs[i];
                if (c->done)
                        continue;
                if (c->state == KL_TERMINATED && !c->restart_pending && strcmp(policy, "Never") == 0)
                        return "Failed";
                return "Pending";
        }
        for (size_t i = p->n_init; i < p->n_ctrs; i++) {
                const struct kl_ctr *c = &p->ctrs[i];
                if (c->state == KL_RUNNING) {
                        n.running++;
                } else if (c->state == KL_TERMINATED && !will_restart(c)) {
                        n.stopped++;
                        if (exit_code(c->term) == 0)
                                n.succeeded++;
                        else
                                n.failed++;
                } else if (c->state == KL_TERMINATED || c->last_term) {
                        n.stopped++;    /* waiting to restart after having run */
                        if (exit_code(c->term ? c->term : c->last_term) == 0)
                                n.succeeded++;
                        else
                                n.failed++;
                } else {
                        n.waiting++;
                }
        }
        if (n.waiting > 0)
                return "Pending";
        if (n.running > 0)
                return "Running";
        if (n.stopped > 0) {
                if (strcmp(policy, "Always") == 0)
                        return "Running";
                if (n.stopped == n.succeeded)
                        return "Succeeded";
                if (strcmp(policy, "OnFailure") == 0)
                        return "Running";
                return "Failed";
        }
        return "Pending";
}

static const char *policy_of(const struct kl_pod *p)
{
        const char *rp = json_string_value(json_object_get(json_object_get(p->pod, "spec"), "restartPolicy"));

        return rp ? rp : "Always";
}

bool kl_pod_finished(struct kubelet *kl, struct kl_pod *p)
{
        pthread_mutex_lock(&kl->lock);
        const char *ph = phase_of(p, policy_of(p));
        bool done = strcmp(ph, "Succeeded") == 0 || strcmp(ph, "Failed") == 0;
        /* a container that still runs or restarts keeps the pod alive */
        for (size_t i = 0; i < p->n_ctrs && done; i++)
                if (p->ctrs[i].state == KL_RUNNING || will_restart(&p->ctrs[i]))
                        done = false;
        pthread_mutex_unlock(&kl->lock);
        return done;
}

/* ---- conditions ----------------------------------------------------------- */

static json_t *condition(struct kl_pod *p, const char *type, bool status, const char *reason, const char *message,
                         const char *now)
{
        const char *st = status ? "True" : "False";
        json_t *old = json_object_get(p->conditions, type);
        const char *since = json_string_value(json_object_get(old, "lastTransitionTime"));
        const char *old_st = json_string_value(json_object_get(old, "status"));
        json_t *c;

        if (since == NULL || old_st == NULL || strcmp(old_st, st) != 0)
                since = now;
        c = must(json_pack("{s:s, s:s, s:n, s:s}", "type", type, "status", st, "lastProbeTime", "lastTransitionTime",
                           since));
        if (reason)
                json_object_set_new(c, "reason", must(json_string(reason)));
        if (message)
                json_object_set_new(c, "message", must(json_string(message)));
        json_object_set_new(p->conditions, type, c);
        return c;       /* borrowed from p->conditions */
}

static char *names_where(const struct kl_pod *p, size_t from, size_t to, bool (*pred)(const struct kl_ctr *))
{
        struct strbuf b = { 0 };

        strbuf_adds(&b, "[");
        for (size_t i = from; i < to; i++)
                if (pred(&p->ctrs[i])) {
                        if (b.len > 1)
                                strbuf_adds(&b, " ");
                        strbuf_adds(&b, p->ctrs[i].name);
                }
        strbuf_adds(&b, "]");
        return b.data;
}

static bool not_done(const struct kl_ctr *c)
{
        return !c->done;
}

static bool not_ready(const struct kl_ctr *c)
{
        return !c->ready;
}

static json_t *conditions(struct kl_pod *p, const char *phase, const char *now)
{
        json_t *out = must(json_array());
        _cleanup_free_ char *pending = names_where(p, 0, p->n_init, not_done);
        _cleanup_free_ char *unready = names_where(p, p->n_init, p->n_ctrs, not_ready);
        bool inited = strcmp(pending, "[]") == 0;
        bool ready = strcmp(unready, "[]") == 0 && strcmp(phase, "Running") == 0;
        bool completed = strcmp(phase, "Succeeded") == 0;
        _cleanup_free_ char *imsg = inited ? NULL : xasprintf("containers with incomplete status: %s", pending);
        _cleanup_free_ char *rmsg = ready || completed ? NULL : xasprintf("containers with unready status: %s",
                                                                          unready);
        const char *rreason = ready ? NULL : completed ? "PodCompleted" : "ContainersNotReady";

        json_array_append_new(out, json_incref(condition(p, "Initialized", inited || completed,
                                                         inited || completed ? (completed && p->n_init ? "PodCompleted"
                                                                                                       : NULL)
                                                                             : "ContainersNotInitialized",
                                                         imsg, now)));
        json_array_append_new(out, json_incref(condition(p, "Ready", ready, rreason, rmsg, now)));
        json_array_append_new(out, json_incref(condition(p, "ContainersReady", ready, rreason, rmsg, now)));
        json_array_append_new(out, json_incref(condition(p, "PodScheduled", true, NULL, NULL, now)));
        return out;
}

/* ---- containers ------------------------------------------------------------- */

static json_t *waiting(const char *reason, const char *message)
{
        json_t *w = must(json_pack("{s:s}", "reason", reason ? reason : "ContainerCreating"));

        if (message)
                json_object_set_new(w, "message", must(json_string(message)));
        return must(json_pack("{s:o}", "waiting", w));
}

static bool initializing(const struct kl_pod *p)
{
        for (size_t i = 0; i < p->n_init; i++)
                if (!p->ctrs[i].done)
                        return true;
        return false;
}

static json_t *ctr_state(const struct kl_pod *p, const struct kl_ctr *c, int64_t now, const json_t **last)
{
        *last = c->last_term;
        switch (c->state) {
        case KL_RUNNING:
                return must(json_pack("{s:{s:s}}", "running", "startedAt", c->started_at ? c->started_at : ""));
        case KL_WAITING:
                /* the app waits for the init containers (which wait their turn) */
                if (c->id == NULL && (c->init || initializing(p)) && c->message == NULL)
                        return waiting("PodInitializing", NULL);
                return waiting(c->reason, c->message);
        case KL_TERMINATED:
                break;
        }
        if (!c->restart_pending)
                return must(json_pack("{s:O}", "terminated", c->term));
        *last = c->term;
        if (c->backoff_until > now) {
                _cleanup_free_ char *msg = xasprintf("back-off %ds restarting failed container=%s pod=%s_%s(%s)",
                                                     c->backoff_s, c->name, p->name, p->ns, p->uid);
                return waiting("CrashLoopBackOff", msg);
        }
        return waiting(c->reason, c->message);
}

static json_t *ctr_status(const struct kl_pod *p, const struct kl_ctr *c, int64_t now)
{
        const json_t *last = NULL;
        json_t *state = ctr_state(p, c, now, &last);
        json_t *s = must(json_pack("{s:s, s:s, s:s, s:b, s:i, s:o, s:o}", "name", c->name, "image", c->image,
                                   "imageID", c->image_id ? c->image_id : "", "ready", c->ready, "restartCount",
                                   c->restarts, "state", state, "lastState",
                                   last ? must(json_pack("{s:O}", "terminated", last)) : must(json_object())));

        if (c->id && c->state != KL_WAITING) {
                json_t *cid = must(json_sprintf("berth://%s", c->id));
                json_object_set_new(s, "containerID", cid);
        }
        if (!c->init)
                json_object_set_new(s, "started", json_boolean(c->started && c->state == KL_RUNNING));
        return s;
}

static json_t *ctr_statuses(const struct kl_pod *p, size_t from, size_t to, int64_t now)
{
        json_t *out = must(json_array());

        for (size_t i = from; i < to; i++)
                json_array_append_new(out, ctr_status(p, &p->ctrs[i], now));
        return out;
}

json_t *kl_pod_status(struct kubelet *kl, struct kl_pod *p)
{
        const char *phase = phase_of(p, policy_of(p));
        _cleanup_free_ char *now = kube_now_rfc3339();
        int64_t mono = kl_now_ms();
        json_t *st = must(json_object());

        json_object_set_new(st, "phase", must(json_string(phase)));
        json_object_set_new(st, "conditions", conditions(p, phase, now));
        if (kl->host_ip) {      /* known with the pod network */
                json_object_set_new(st, "hostIP", must(json_string(kl->host_ip)));
                json_object_set_new(st, "hostIPs", must(json_pack("[{s:s}]", "ip", kl->host_ip)));
        }
        if (p->ip && !p->stopped_sandbox) {
                json_object_set_new(st, "podIP", must(json_string(p->ip)));
                json_object_set_new(st, "podIPs", must(json_pack("[{s:s}]", "ip", p->ip)));
        }
        if (p->start_time)
                json_object_set_new(st, "startTime", must(json_string(p->start_time)));
        json_object_set_new(st, "qosClass", must(json_string(kubelet_qos(p->pod))));
        if (p->n_init)
                json_object_set_new(st, "initContainerStatuses", ctr_statuses(p, 0, p->n_init, mono));
        json_object_set_new(st, "containerStatuses", ctr_statuses(p, p->n_init, p->n_ctrs, mono));
        return st;
}

void kl_status_write(struct kubelet *kl, struct kl_pod *p)
{
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *obj;
        char *dump;

        pthread_mutex_lock(&kl->lock);
        if (p->gone || p->terminating) {
                pthread_mutex_unlock(&kl->lock);
                return;
        }
        json_t *st = kl_pod_status(kl, p);
        dump = json_dumps(st, JSON_COMPACT);
        if (p->status_json && dump && strcmp(dump, p->status_json) == 0) {
                pthread_mutex_unlock(&kl->lock);
                free(dump);
                json_decref(st);
                return;
        }
        obj = must(json_pack("{s:s, s:s, s:{s:s, s:s, s:s}, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata",
                             "name", p->name, "namespace", p->ns, "uid", p->uid, "status", st));
        pthread_mutex_unlock(&kl->lock);
        if (kube_update_status(kl->k, obj, &err) == 0) {
                pthread_mutex_lock(&kl->lock);
                free(p->status_json);
                p->status_json = dump;
                dump = NULL;
                pthread_mutex_unlock(&kl->lock);
        }
        free(dump);
        json_decref(obj);
}
