/* One sync of a pod (kubelet's SyncPod), run by a worker: look at the
 * containers that exited, make sure the sandbox runs, run the init
 * containers one after the other and then every app container, restart
 * what the restartPolicy restarts (CrashLoopBackOff between), and write
 * the status.  Engine calls run without kl->lock; the pod's fields are
 * written under it. */
#include "orch/kubelet.h"
#include "orch/kube-calc.h"
#include "orch/kube-service.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"

#define RETRY_MS 1000           /* a config error or a failed create is tried again this soon */
#define STEADY_MS 10000         /* a running pod is looked at this often without events */


struct sync {
        struct kubelet *kl;
        struct kl_pod *p;
        json_t *pod;            /* a reference to p->pod as the sync started */
        const char *policy;     /* restartPolicy */
        int64_t now;
};

static void pod_event(struct sync *s, const char *type, const char *reason, const char *msg)
{
        kube_event(s->kl->k, s->pod, type, reason, "%s", msg);
}

static bool should_restart(const char *policy, bool init, int code)
{
        if (strcmp(policy, "Never") == 0)
                return false;
        if (init || strcmp(policy, "OnFailure") == 0)
                return code != 0;
        return true;
}

/* ---- exits ------------------------------------------------------------------ */

static void probes_off(struct kl_ctr *c)
{
        for (int i = 0; i < KL_PROBE_KINDS; i++)
                c->probes[i].next_ms = 0;
        c->ready = false;
        c->started = false;
}

/* The container's instance ended (kl->lock held): its terminated state,
 * and when the policy restarts it, when. */
static void ctr_exited(struct sync *s, struct kl_ctr *c, json_t *term)
{
        const struct kube_opts *o = kube_options(s->kl->k);
        int code = (int)json_integer_value(json_object_get(term, "exitCode"));
        _cleanup_free_ char *cid = xasprintf("berth://%s", c->id);

        json_object_set_new(term, "containerID", must(json_string(cid)));
        json_decref(c->term);
        c->term = term;
        c->state = KL_TERMINATED;
        kl_set_str(&c->reason, NULL);
        kl_set_str(&c->message, NULL);
        c->killing = false;
        probes_off(c);
        if (c->init && code == 0) {
                c->done = true;
                return;
        }
        c->restart_pending = should_restart(s->policy, c->init, code);
        if (!c->restart_pending)
                return;
        /* the first restart is immediate, then base, doubling to max; a
         * container that ran long enough starts over at base */
        int64_t ran = c->running_since ? s->now - c->running_since : 0;
        if (c->restarts == 0 && c->backoff_s == 0)
                c->backoff_s = 0;
        else if (ran >= (int64_t)o->backoff_reset_s * 1000)
                c->backoff_s = o->backoff_base_s;
        else
                c->backoff_s = kube_backoff_next(c->backoff_s, o->backoff_base_s, o->backoff_max_s);
        c->backoff_until = s->now + (int64_t)c->backoff_s * 1000;
}

/* What the engine said exited since the last sync. */
static void collect_exits(struct sync *s)
{
        struct kl_pod *p = s->p;
        const char *id;
        json_t *v;

        pthread_mutex_lock(&s->kl->lock);
        json_object_foreach(p->died, id, v) {
                if (p->sandbox_id && strcmp(id, p->sandbox_id) == 0 && !p->stopped_sandbox)
                        p->sandbox_exited = true;
                for (size_t i = 0; i < p->n_ctrs; i++)
                        if (p->ctrs[i].id && strcmp(p->ctrs[i].id, id) == 0 && p->ctrs[i].state == KL_RUNNING)
                                p->ctrs[i].exited = true;
        }
        json_object_clear(p->died);
        pthread_mutex_unlock(&s->kl->lock);

        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kl_ctr *c = &p->ctrs[i];
                _cleanup_free_ char *cid = NULL;
                pthread_mutex_lock(&s->kl->lock);
                if (c->exited)
                        cid = xstrdup(c->id);
                c->exited = false;
                pthread_mutex_unlock(&s->kl->lock);
                if (cid == NULL)
                        continue;
                json_t *term = kl_terminated_of(s->kl, cid);
                pthread_mutex_lock(&s->kl->lock);
                ctr_exited(s, c, term);
                pthread_mutex_unlock(&s->kl->lock);
        }
}

/* Every STEADY_MS: a running container the engine no longer runs (an
 * event lost) is treated as exited. */
static void check_running(struct sync *s)
{
        for (size_t i = 0; i < s->p->n_ctrs; i++) {
                struct kl_ctr *c = &s->p->ctrs[i];
                json_t *info = NULL;
                if (c->state != KL_RUNNING || c->id == NULL)
                        continue;
                if (engine_container_inspect(s->kl->e, c->id, &info, NULL) == 0 &&
                    json_is_true(json_object_get(json_object_get(info, "State"), "Running"))) {
                        json_decref(info);
                        continue;
                }
                json_decref(info);
                pthread_mutex_lock(&s->kl->lock);
                c->exited = true;
                json_object_set_new(s->p->died, c->id, json_true());
                pthread_mutex_unlock(&s->kl->lock);
        }
}

/* ---- env lookups ------------------------------------------------------------- */

static json_t *lookup(void *data, const char *kind, const char *ns, const char *name)
{
        struct sync *s = data;
        json_t *obj = NULL;

        if (kube_get(s->kl->k, kind, ns, name, &obj, NULL) < 0)
                return NULL;
        return obj;
}

static void warn(void *data, const char *reason, const char *msg)
{
        pod_event(data, "Warning", reason, msg);
}

static int resolve_env(struct sync *s, const json_t *spec, json_t **env, berth_error_t **err)
{
        const json_t *pspec = json_object_get(s->pod, "spec");
        json_t *svc = NULL;
        int r;

        if (!json_is_false(json_object_get(pspec, "enableServiceLinks")))
                svc = kube_service_env(s->kl->k, s->p->ns);
        pthread_mutex_lock(&s->kl->lock);
        _cleanup_free_ char *ip = s->p->ip ? xstrdup(s->p->ip) : NULL;
        pthread_mutex_unlock(&s->kl->lock);
        struct kl_env_ctx c = {
                .pod = s->pod, .ctr = spec, .pod_ip = ip, .host_ip = s->kl->host_ip,
                .node_name = s->kl->node_name, .service_env = svc, .lookup = lookup, .warn = warn, .data = s,
                .node_cpus_milli = s->kl->node_cpus_milli, .node_mem = s->kl->node_mem,
        };
        r = kubelet_env_resolve(&c, env, err);
        json_decref(svc);
        return r;
}

/* ---- engine helpers -------------------------------------------------------------- */

/* Create (a leftover of the same name, from a berthd that died half-way,
 * is removed first) and start. */
static int create_start(struct kubelet *kl, json_t *body, const char *name, char **id, berth_error_t **err)
{
        int r = engine_container_create(kl->e, body, name, id, NULL, err);

        if (r < 0 && (*err)->status == EEXIST) {
                berth_error_free(err);
                engine_container_remove(kl->e, name, true, false, NULL);
                r = engine_container_create(kl->e, body, name, id, NULL, err);
        }
        if (r < 0)
                return r;
        if ((r = engine_container_start(kl->e, *id, err)) < 0)
                return r;
        return 0;
}

static void set_waiting(struct kubelet *kl, struct kl_ctr *c, const char *reason, const char *message)
{
        pthread_mutex_lock(&kl->lock);
        kl_set_str(&c->reason, reason);
        kl_set_str(&c->message, message);
        pthread_mutex_unlock(&kl->lock);
}

/* ---- the sandbox -------------------------------------------------------------------- */

/* The containers see the sandbox's resolver, hosts and hostname files
 * (they share its network and UTS namespaces), unless a volume is
 * mounted there. */
static void etc_mounts(struct sync *s, json_t *mounts)
{
        const json_t *m, *path;
        const char *target;
        size_t i;

        pthread_mutex_lock(&s->kl->lock);
        json_t *etc = json_deep_copy(s->p->etc);
        pthread_mutex_unlock(&s->kl->lock);
        json_object_foreach(etc, target, path) {
                bool taken = false;
                json_array_foreach(mounts, i, m) taken |= strcmp(json_string_value(json_object_get(m, "Target")) ?: "",
                                                                 target) == 0;
                if (!taken)
                        json_array_append_new(mounts, must(json_pack("{s:s, s:O, s:s}", "Type", "bind", "Source", path,
                                                                     "Target", target)));
        }
        json_decref(etc);
}

/* A sandbox that exited (killed, or the host rebooted): the pod's
 * containers go with it and start again in a new one. */
static void sandbox_changed(struct sync *s)
{
        struct kl_pod *p = s->p;

        pod_event(s, "Normal", "SandboxChanged", "Pod sandbox changed, it will be killed and re-created.");
        for (size_t i = 0; i < p->n_ctrs; i++) {
                pthread_mutex_lock(&s->kl->lock);
                _cleanup_free_ char *id = p->ctrs[i].state == KL_RUNNING && p->ctrs[i].id ? xstrdup(p->ctrs[i].id)
                                                                                          : NULL;
                pthread_mutex_unlock(&s->kl->lock);
                if (id)
                        engine_container_kill(s->kl->e, id, "KILL", NULL);
        }
        engine_container_remove(s->kl->e, p->sandbox_id, true, false, NULL);
        pthread_mutex_lock(&s->kl->lock);
        kl_set_str(&p->sandbox_id, NULL);
        kl_set_str(&p->ip, NULL);
        p->sandbox_exited = false;
        pthread_mutex_unlock(&s->kl->lock);
        /* the kills' exits are collected first */
        for (size_t i = 0; i < p->n_ctrs; i++)
                if (p->ctrs[i].state == KL_RUNNING && p->ctrs[i].id) {
                        pthread_mutex_lock(&s->kl->lock);
                        p->ctrs[i].exited = true;
                        pthread_mutex_unlock(&s->kl->lock);
                }
        collect_exits(s);
}

static int ensure_sandbox(struct sync *s)
{
        struct kl_pod *p = s->p;
        struct kl_ctr *first = &p->ctrs[p->n_init];
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *reason = NULL, *message = NULL, *id = NULL, *name = NULL, *cg = NULL;
        json_t *info = NULL;

        if (p->sandbox_exited)
                sandbox_changed(s);
        if (p->sandbox_id)
                return 1;
        const json_t *fspec = kl_ctr_spec(p, first);
        int r = kl_image_ensure(s->kl, p, first, json_string_value(json_object_get(fspec, "imagePullPolicy")),
                                &reason, &message);
        if (r <= 0) {
                if (r < 0)
                        set_waiting(s->kl, first, reason, message);
                return 0;
        }
        cg = kubelet_cgroup_parent(s->pod);
        json_t *body = kubelet_sandbox_body(s->pod, first->image, kube_pod_network(s->kl->k), cg);
        name = kubelet_sandbox_name(s->pod);
        r = kube_pod_network_ensure(s->kl->k, &err);
        if (r == 0) {
                kl_learn_host_ip(s->kl);
                r = create_start(s->kl, body, name, &id, &err);
        }
        json_decref(body);
        if (r < 0) {
                _cleanup_free_ char *msg = xasprintf("Failed to create pod sandbox: %s", err->msg);
                pod_event(s, "Warning", "FailedCreatePodSandBox", msg);
                if (id)
                        engine_container_remove(s->kl->e, id, true, false, NULL);
                pthread_mutex_lock(&s->kl->lock);
                kl_pod_due(p, s->now + 2 * RETRY_MS);
                pthread_mutex_unlock(&s->kl->lock);
                return 0;
        }
        char *ip = NULL;
        json_t *etc = NULL;
        if (engine_container_inspect(s->kl->e, id, &info, NULL) == 0) {
                ip = kl_ip_of(info);
                etc = kl_etc_of(info);
        }
        json_decref(info);
        pthread_mutex_lock(&s->kl->lock);
        kl_set_str(&p->sandbox_id, id);
        free(p->ip);
        p->ip = ip;
        json_decref(p->etc);
        p->etc = etc;
        if (p->start_time == NULL)
                p->start_time = kube_now_rfc3339();
        pthread_mutex_unlock(&s->kl->lock);
        return 1;
}

/* ---- containers ----------------------------------------------------------------------- */

/* The instance before the previous one goes; the previous one stays for
 * `logs --previous`. */
static void rotate_instances(struct kubelet *kl, struct kl_ctr *c, const char *new_id, int attempt)
{
        char *drop;

        pthread_mutex_lock(&kl->lock);
        drop = c->prev_id;
        c->prev_id = c->id;
        c->id = xstrdup(new_id);
        c->attempt = attempt;
        pthread_mutex_unlock(&kl->lock);
        if (drop)
                engine_container_remove(kl->e, drop, true, false, NULL);
        free(drop);
}

static void started(struct sync *s, struct kl_ctr *c, const char *id, int attempt, bool restart)
{
        json_t *info = NULL;
        const char *at = NULL, *image_id = NULL;

        if (engine_container_inspect(s->kl->e, id, &info, NULL) == 0) {
                at = json_string_value(json_object_get(json_object_get(info, "State"), "StartedAt"));
                image_id = json_string_value(json_object_get(info, "Image"));
        }
        rotate_instances(s->kl, c, id, attempt);
        json_t *t = kl_k8s_time(at);
        pthread_mutex_lock(&s->kl->lock);
        c->state = KL_RUNNING;
        c->exited = false;
        c->restart_pending = false;
        if (restart)
                c->restarts++;
        free(c->started_at);
        c->started_at = json_is_string(t) ? xstrdup(json_string_value(t)) : kube_now_rfc3339();
        kl_set_str(&c->image_id, image_id);
        kl_set_str(&c->reason, NULL);
        kl_set_str(&c->message, NULL);
        c->running_since = kl_now_ms();
        if (c->term) {          /* the instance before: lastState */
                json_decref(c->last_term);
                c->last_term = c->term;
                c->term = NULL;
        }
        kl_probes_arm(s->kl, s->p, c);
        pthread_mutex_unlock(&s->kl->lock);
        json_decref(t);
        json_decref(info);
}

static void start_failed(struct sync *s, struct kl_ctr *c, const char *id, int attempt, bool restart,
                         const char *msg)
{
        _cleanup_free_ char *ev = xasprintf("Error: %s", msg);

        pod_event(s, "Warning", "Failed", ev);
        if (id == NULL) {
                set_waiting(s->kl, c, "CreateContainerError", msg);
                pthread_mutex_lock(&s->kl->lock);
                kl_pod_due(s->p, s->now + RETRY_MS);
                pthread_mutex_unlock(&s->kl->lock);
                return;
        }
        /* it exists but did not start: a terminated instance (StartError) */
        rotate_instances(s->kl, c, id, attempt);
        json_t *term = must(json_pack("{s:i, s:s, s:s}", "exitCode", 128, "reason", "StartError", "message", msg));
        pthread_mutex_lock(&s->kl->lock);
        if (restart)
                c->restarts++;
        c->running_since = s->now;
        ctr_exited(s, c, term);
        pthread_mutex_unlock(&s->kl->lock);
}

static void ctr_event(struct sync *s, const char *reason, const char *fmt, const char *name)
{
        _cleanup_free_ char *msg = xasprintf(fmt, name);

        pod_event(s, "Normal", reason, msg);
}

/* Prepare and start a new instance of c. */
static void start_ctr(struct sync *s, struct kl_ctr *c)
{
        const json_t *spec = kl_ctr_spec(s->p, c);
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *reason = NULL, *message = NULL, *id = NULL, *name = NULL, *cg = NULL;
        json_t *env = NULL, *mounts = NULL, *body;
        bool restart = c->id != NULL;
        int attempt = restart ? c->attempt + 1 : 0;
        bool clamped = false;
        int r;

        if (c->retry_at > s->now) {
                pthread_mutex_lock(&s->kl->lock);
                kl_pod_due(s->p, c->retry_at);
                pthread_mutex_unlock(&s->kl->lock);
                return;
        }
        r = kl_image_ensure(s->kl, s->p, c, json_string_value(json_object_get(spec, "imagePullPolicy")), &reason,
                            &message);
        if (r <= 0) {
                if (r < 0)
                        set_waiting(s->kl, c, reason, message);
                return;
        }
        if (resolve_env(s, spec, &env, &err) < 0 || kl_volume_mounts(s->kl, s->p, spec, &mounts, &err) < 0) {
                set_waiting(s->kl, c, "CreateContainerConfigError", err->msg);
                _cleanup_free_ char *ev = xasprintf("Error: %s", err->msg);
                pod_event(s, "Warning", "Failed", ev);
                json_decref(env);
                c->retry_at = s->now + RETRY_MS;
                pthread_mutex_lock(&s->kl->lock);
                kl_pod_due(s->p, c->retry_at);
                pthread_mutex_unlock(&s->kl->lock);
                return;
        }
        etc_mounts(s, mounts);
        cg = kubelet_cgroup_parent(s->pod);
        struct kl_body_in in = { .pod = s->pod, .ctr = spec, .init = c->init, .sandbox_id = s->p->sandbox_id,
                                 .image = c->image, .env = env, .mounts = mounts, .attempt = attempt,
                                 .node_mem = s->kl->node_mem, .cgroup_parent = cg };
        body = kubelet_container_body(&in, &clamped);
        json_decref(env);
        json_decref(mounts);
        if (clamped && !s->kl->oom_warned) {
                s->kl->oom_warned = true;
                berth_warn("kubelet: negative oom_score_adj needs CAP_SYS_RESOURCE: Guaranteed pods get 0 instead");
        }
        name = kubelet_container_name(s->pod, c->name, attempt);
        r = engine_container_create(s->kl->e, body, name, &id, NULL, &err);
        if (r < 0 && err->status == EEXIST) {
                berth_error_free(&err);
                engine_container_remove(s->kl->e, name, true, false, NULL);
                r = engine_container_create(s->kl->e, body, name, &id, NULL, &err);
        }
        json_decref(body);
        if (r < 0) {
                start_failed(s, c, NULL, attempt, restart, err->msg);
                return;
        }
        ctr_event(s, "Created", "Created container %s", c->name);
        if (engine_container_start(s->kl->e, id, &err) < 0) {
                start_failed(s, c, id, attempt, restart, err->msg);
                return;
        }
        ctr_event(s, "Started", "Started container %s", c->name);
        started(s, c, id, attempt, restart);
}

/* One container's turn: start it, or wait out its back-off. */
static void step_ctr(struct sync *s, struct kl_ctr *c)
{
        pthread_mutex_lock(&s->kl->lock);
        enum kl_state st = c->state;
        bool pending = c->restart_pending;
        int64_t until = c->backoff_until;
        pthread_mutex_unlock(&s->kl->lock);

        if (st == KL_RUNNING || (st == KL_TERMINATED && !pending))
                return;
        if (st == KL_TERMINATED && until > s->now) {
                _cleanup_free_ char *msg = xasprintf("Back-off restarting failed container %s in pod %s_%s(%s)",
                                                     c->name, s->p->name, s->p->ns, s->p->uid);
                pthread_mutex_lock(&s->kl->lock);
                kl_pod_due(s->p, until);
                pthread_mutex_unlock(&s->kl->lock);
                pod_event(s, "Warning", "BackOff", msg);
                return;
        }
        start_ctr(s, c);
}

static void run_containers(struct sync *s)
{
        struct kl_pod *p = s->p;

        for (size_t i = 0; i < p->n_init; i++) {
                if (p->ctrs[i].done)
                        continue;
                step_ctr(s, &p->ctrs[i]);
                if (!p->ctrs[i].done)
                        return;         /* one at a time, in order */
        }
        for (size_t i = p->n_init; i < p->n_ctrs; i++)
                step_ctr(s, &p->ctrs[i]);
}

/* ---- the sync ---------------------------------------------------------------------------- */

static bool deleting(const json_t *pod)
{
        return json_object_get(json_object_get(pod, "metadata"), "deletionTimestamp") != NULL;
}

static void scheduled(struct sync *s)
{
        if (s->p->scheduled)
                return;
        s->p->scheduled = true;
        _cleanup_free_ char *msg = xasprintf("Successfully assigned %s/%s to %s", s->p->ns, s->p->name,
                                             s->kl->node_name);
        pod_event(s, "Normal", "Scheduled", msg);
}

static bool setup_volumes(struct sync *s)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (s->p->volumes_ready) {
                if (s->now >= s->p->cm_refresh_ms) {
                        kl_volumes_refresh(s->kl, s->p);
                        s->p->cm_refresh_ms = s->now + kube_options(s->kl->k)->configmap_sync_s * 1000LL;
                }
                return true;
        }
        if (kl_volumes_setup(s->kl, s->p, &err) < 0) {
                pod_event(s, "Warning", "FailedMount", err->msg);
                pthread_mutex_lock(&s->kl->lock);
                kl_pod_due(s->p, s->now + 2 * RETRY_MS);
                pthread_mutex_unlock(&s->kl->lock);
                return false;
        }
        s->p->volumes_ready = true;
        s->p->cm_refresh_ms = s->now + kube_options(s->kl->k)->configmap_sync_s * 1000LL;
        return true;
}

static bool has_projected_volumes(const struct kl_pod *p)
{
        const json_t *v;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(p->pod, "spec"), "volumes"), i, v) {
                if (json_object_get(v, "configMap") || json_object_get(v, "secret"))
                        return true;
        }
        return false;
}

/* Succeeded or Failed: nothing runs again; the sandbox stops (its IP is
 * given back), the containers stay for their logs. */
static void finish(struct sync *s)
{
        pthread_mutex_lock(&s->kl->lock);
        _cleanup_free_ char *sb = s->p->sandbox_id && !s->p->stopped_sandbox ? xstrdup(s->p->sandbox_id) : NULL;
        s->p->finished = true;
        s->p->stopped_sandbox = true;
        pthread_mutex_unlock(&s->kl->lock);
        if (sb)
                engine_container_kill(s->kl->e, sb, "KILL", NULL);
}

void kl_pod_sync(struct kubelet *kl, struct kl_pod *p)
{
        struct sync s = { .kl = kl, .p = p, .now = kl_now_ms() };

        pthread_mutex_lock(&kl->lock);
        if (p->terminating || p->gone) {
                pthread_mutex_unlock(&kl->lock);
                return;
        }
        s.pod = json_incref(p->pod);
        pthread_mutex_unlock(&kl->lock);
        s.policy = json_string_value(json_object_get(json_object_get(s.pod, "spec"), "restartPolicy")) ?: "Always";
        if (deleting(s.pod)) {
                pthread_mutex_lock(&kl->lock);
                p->terminating = true;
                kl_pod_terminate(kl, p, true);
                pthread_mutex_unlock(&kl->lock);
                json_decref(s.pod);
                return;
        }
        scheduled(&s);
        collect_exits(&s);
        if (!p->finished && kl_pod_finished(kl, p))
                finish(&s);
        if (!p->finished) {
                if (s.now - p->checked_ms >= STEADY_MS) {
                        p->checked_ms = s.now;
                        check_running(&s);
                        collect_exits(&s);
                }
                if (setup_volumes(&s) && ensure_sandbox(&s) > 0)
                        run_containers(&s);
                if (kl_pod_finished(kl, p))
                        finish(&s);
        }
        kl_status_write(kl, p);
        pthread_mutex_lock(&kl->lock);
        if (!p->finished) {
                kl_pod_due(p, s.now + STEADY_MS);
                /* mounted ConfigMaps and Secrets follow their objects */
                if (p->volumes_ready && has_projected_volumes(p))
                        kl_pod_due(p, p->cm_refresh_ms);
        }
        pthread_mutex_unlock(&kl->lock);
        json_decref(s.pod);
}
