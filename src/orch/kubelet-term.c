/* A pod's end (kubelet killPod): for a pod being deleted, each running
 * container's preStop hook, then SIGTERM (or the image's STOPSIGNAL) and
 * SIGKILL once the grace period is over, all containers at once; then
 * the containers, the sandbox and the volumes are removed and the Pod
 * object with them.  Each terminating pod has a thread of its own, so
 * fifty pods deleted together end together. */
#include "orch/kubelet.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"
#include <pthread.h>

struct term {
        struct kubelet *kl;
        struct kl_pod *p;
        json_t *pod;
        bool remove_object;
};

struct stop_one {
        struct kubelet *kl;
        json_t *pod;
        char *ip, *id, *name;
        const json_t *spec;
        int64_t deadline;       /* monotonic ms */
        pthread_t thread;
        bool started;
};

static int grace_of(const json_t *pod)
{
        const json_t *md = json_object_get(pod, "metadata");
        const json_t *g = json_object_get(md, "deletionGracePeriodSeconds");

        if (!json_is_integer(g))
                g = json_object_get(json_object_get(pod, "spec"), "terminationGracePeriodSeconds");
        return json_is_integer(g) && json_integer_value(g) >= 0 ? (int)json_integer_value(g) : 30;
}

/* preStop counts against the grace period; what is left (at least 2 s
 * when preStop used it all, as the kubelet gives) goes to the stop. */
static void *stop_thread(void *data)
{
        struct stop_one *s = data;
        const json_t *pre = json_object_get(json_object_get(s->spec, "lifecycle"), "preStop");
        _cleanup_free_ char *msg = xasprintf("Stopping container %s", s->name);

        kube_event(s->kl->k, s->pod, "Normal", "Killing", "%s", msg);
        if (pre) {
                char *why = NULL;
                int64_t left = s->deadline - kl_now_ms();
                if (left > 0 && kl_handler_run(s->kl, s->ip, s->id, pre, s->spec, (int)left, &why) < 0) {
                        kube_event(s->kl->k, s->pod, "Warning", "FailedPreStopHook",
                                   "PreStopHook failed: %s", why ? why : "");
                }
                free(why);
        }
        int64_t left = s->deadline - kl_now_ms();
        int timeout = left > 0 ? (int)((left + 999) / 1000) : 0;
        if (pre && timeout < 2)
                timeout = 2;
        engine_container_stop(s->kl->e, s->id, timeout, NULL);
        return NULL;
}

static void stop_all(struct term *t)
{
        struct kubelet *kl = t->kl;
        struct kl_pod *p = t->p;
        int64_t deadline = kl_now_ms() + grace_of(t->pod) * 1000LL;
        struct stop_one *s = xcalloc(p->n_ctrs ? p->n_ctrs : 1, sizeof(*s));
        size_t n = 0;

        pthread_mutex_lock(&kl->lock);
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kl_ctr *c = &p->ctrs[i];
                if (c->state != KL_RUNNING || c->id == NULL)
                        continue;
                s[n] = (struct stop_one){ .kl = kl, .pod = t->pod, .ip = p->ip ? xstrdup(p->ip) : NULL,
                                          .id = xstrdup(c->id), .name = xstrdup(c->name),
                                          .spec = kl_ctr_spec(p, c), .deadline = deadline };
                n++;
        }
        pthread_mutex_unlock(&kl->lock);
        for (size_t i = 0; i < n; i++)
                s[i].started = pthread_create(&s[i].thread, NULL, stop_thread, &s[i]) == 0;
        for (size_t i = 0; i < n; i++) {
                if (s[i].started)
                        pthread_join(s[i].thread, NULL);
                else
                        stop_thread(&s[i]);
                free(s[i].ip);
                free(s[i].id);
                free(s[i].name);
        }
        free(s);
}

void kl_remove_containers(struct kubelet *kl, const char *uid)
{
        _cleanup_free_ char *label = xasprintf("%s=%s", KL_LABEL_UID, uid);
        json_t *filters = must(json_pack("{s:[s]}", "label", label)), *list = NULL, *c;
        size_t i;

        if (engine_container_list(kl->e, true, filters, &list, NULL) == 0) {
                /* the app containers first: the sandbox holds their namespaces */
                json_array_foreach(list, i, c) {
                        const char *ctr = json_string_value(json_object_get(json_object_get(c, "Labels"), KL_LABEL_CTR));
                        if (ctr && strcmp(ctr, KL_SANDBOX) != 0)
                                engine_container_remove(kl->e, json_string_value(json_object_get(c, "Id")), true,
                                                        false, NULL);
                }
                json_array_foreach(list, i, c) {
                        const char *ctr = json_string_value(json_object_get(json_object_get(c, "Labels"), KL_LABEL_CTR));
                        if (ctr == NULL || strcmp(ctr, KL_SANDBOX) == 0)
                                engine_container_remove(kl->e, json_string_value(json_object_get(c, "Id")), true,
                                                        false, NULL);
                }
        }
        json_decref(list);
        json_decref(filters);
}

/* The object goes only if it is still this pod (a pod of the same name
 * made since has another uid). */
static void remove_object(struct term *t)
{
        const json_t *md = json_object_get(t->pod, "metadata");
        const char *ns = json_string_value(json_object_get(md, "namespace"));
        const char *name = json_string_value(json_object_get(md, "name"));
        const char *uid = json_string_value(json_object_get(md, "uid"));
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *cur = NULL;

        if (kube_get(t->kl->k, "Pod", ns, name, &cur, NULL) < 0)
                return;
        const char *cur_uid = json_string_value(json_object_get(json_object_get(cur, "metadata"), "uid"));
        if (uid && cur_uid && strcmp(uid, cur_uid) == 0 && kube_remove(t->kl->k, "Pod", ns, name, &err) < 0)
                berth_warn("kubelet: remove pod %s/%s: %s", ns, name, err->msg);
        json_decref(cur);
}

static void *term_thread(void *data)
{
        struct term *t = data;
        struct kubelet *kl = t->kl;

        if (t->remove_object)
                stop_all(t);
        pthread_mutex_lock(&kl->lock);
        bool stopping = kl->stopping;
        pthread_mutex_unlock(&kl->lock);
        /* berthd is going away: the next one finishes the job */
        if (!stopping) {
                kl_remove_containers(kl, t->p->uid);
                kl_volumes_teardown(kl, t->p->uid);
                if (t->remove_object)
                        remove_object(t);
        }
        pthread_mutex_lock(&kl->lock);
        t->p->gone = !stopping;
        kl_pod_unref(kl, t->p);
        pthread_mutex_unlock(&kl->lock);
        json_decref(t->pod);
        free(t);
        if (!stopping)
                kube_wake(kl->k);
        return NULL;
}

void kl_pod_terminate(struct kubelet *kl, struct kl_pod *p, bool remove)
{
        struct term *t = xcalloc(1, sizeof(*t));

        *t = (struct term){ .kl = kl, .p = p, .pod = json_incref(p->pod), .remove_object = remove };
        kl_pod_ref(p);
        /* the probes stop looking at it */
        for (size_t i = 0; i < p->n_ctrs; i++)
                for (int k = 0; k < KL_PROBE_KINDS; k++)
                        p->ctrs[i].probes[k].next_ms = 0;
        if (kl_spawn(kl, term_thread, t) < 0) {
                /* no thread: try again on the next pass */
                p->terminating = false;
                kl_pod_unref(kl, p);
                json_decref(t->pod);
                free(t);
        }
}

/* ---- liveness kills ----------------------------------------------------------- */

struct kill {
        struct kubelet *kl;
        char *id;
        int grace;
};

static void *kill_thread(void *data)
{
        struct kill *k = data;

        engine_container_stop(k->kl->e, k->id, k->grace, NULL);
        free(k->id);
        free(k);
        return NULL;
}

void kl_ctr_kill(struct kubelet *kl, struct kl_pod *p, struct kl_ctr *c, int grace, const char *why)
{
        struct kill *k;

        if (c->killing || c->id == NULL || c->state != KL_RUNNING)
                return;
        c->killing = true;
        kube_event(kl->k, p->pod, "Normal", "Killing", "%s", why);
        k = xmalloc(sizeof(*k));
        *k = (struct kill){ kl, xstrdup(c->id), grace };
        if (kl_spawn(kl, kill_thread, k) < 0) {
                c->killing = false;
                free(k->id);
                free(k);
        }
}
