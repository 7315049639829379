/* A restarted berthd takes its pods back from the engine: every pod
 * container carries the pod's uid, the container's name and its attempt
 * in its labels.  The newest instance of each container is the current
 * one, the one before it is kept for `logs --previous`, older ones go.
 * Containers and volume directories of pods no longer in the store are
 * removed.  A pod whose containers all vanished (a reboot) just starts
 * again on its first sync. */
#include "orch/kubelet.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"
#include <dirent.h>

struct found {
        struct kl_ctr *c;
        char *id;
        int attempt;
        bool running;
};

static const char *label(const json_t *summary, const char *key)
{
        return json_string_value(json_object_get(json_object_get(summary, "Labels"), key));
}

static int attempt_of(const json_t *summary)
{
        const char *a = label(summary, KL_LABEL_ATTEMPT);
        long long n = a ? parse_ll(a) : 0;

        return n > 0 ? (int)n : 0;
}

/* The restart count and readiness the stored status had. */
static void stored_status(const struct kl_pod *p, struct kl_ctr *c)
{
        const json_t *st = json_object_get(p->pod, "status"), *cs;
        size_t i;

        json_array_foreach(json_object_get(st, c->init ? "initContainerStatuses" : "containerStatuses"), i, cs) {
                const char *n = json_string_value(json_object_get(cs, "name"));
                if (n == NULL || strcmp(n, c->name) != 0)
                        continue;
                int rc = (int)json_integer_value(json_object_get(cs, "restartCount"));
                if (rc > c->restarts)
                        c->restarts = rc;
                c->ready = json_is_true(json_object_get(cs, "ready"));
                c->started = json_is_true(json_object_get(cs, "started"));
        }
}

/* kl->lock held: sort one container summary into its pod; *drop gets
 * the ids to remove. */
static void place(struct kubelet *kl, const json_t *sum, json_t *drop, json_t *orphans, json_t *prevs)
{
        const char *id = json_string_value(json_object_get(sum, "Id"));
        const char *uid = label(sum, KL_LABEL_UID), *name = label(sum, KL_LABEL_CTR);
        bool running = strcmp(json_string_value(json_object_get(sum, "State")) ?: "", "running") == 0;
        struct kl_pod *p = uid ? kl_pod_find(kl, uid) : NULL;
        struct kl_ctr *c;
        int attempt = attempt_of(sum);

        if (id == NULL || name == NULL)
                return;
        if (p == NULL) {
                json_object_set_new(orphans, uid, json_true());
                return;
        }
        if (strcmp(name, KL_SANDBOX) == 0) {
                if (p->sandbox_id == NULL || (running && p->sandbox_exited)) {
                        if (p->sandbox_id)
                                json_array_append_new(drop, must(json_string(p->sandbox_id)));
                        kl_set_str(&p->sandbox_id, id);
                        p->sandbox_exited = !running;
                } else {
                        json_array_append_new(drop, must(json_string(id)));
                }
                return;
        }
        if ((c = kl_ctr_find(p, name)) == NULL) {
                json_array_append_new(drop, must(json_string(id)));
                return;
        }
        /* keep the two newest attempts */
        if (c->id == NULL || attempt > c->attempt) {
                if (c->prev_id)
                        json_array_append_new(drop, must(json_string(c->prev_id)));
                free(c->prev_id);
                c->prev_id = c->id;
                c->id = xstrdup(id);
                c->attempt = attempt;
                c->state = running ? KL_RUNNING : KL_RUNNING;   /* an exited one is looked at by the sync */
                c->exited = !running;
                if (c->restarts < attempt)
                        c->restarts = attempt;
        } else if (c->prev_id == NULL || attempt > json_integer_value(json_object_get(prevs, c->prev_id))) {
                if (c->prev_id)
                        json_array_append_new(drop, must(json_string(c->prev_id)));
                kl_set_str(&c->prev_id, id);
        } else {
                json_array_append_new(drop, must(json_string(id)));
        }
        json_object_set_new(prevs, id, must(json_integer(attempt)));
}

/* kl->lock held: what follows from what was found. */
static void settle(struct kl_pod *p)
{
        bool app_seen = false;

        for (size_t i = p->n_init; i < p->n_ctrs; i++)
                app_seen |= p->ctrs[i].id != NULL;
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kl_ctr *c = &p->ctrs[i];
                if (c->init && app_seen) {
                        c->done = true;
                        c->state = KL_TERMINATED;
                        c->exited = false;
                }
                if (c->id)
                        stored_status(p, c);
        }
}

/* No lock held: the facts only an inspect gives (start time, image, IP,
 * the previous instance's end). */
static void details(struct kubelet *kl, struct kl_pod *p)
{
        json_t *info = NULL;

        if (p->sandbox_id && !p->sandbox_exited && engine_container_inspect(kl->e, p->sandbox_id, &info, NULL) == 0) {
                char *ip = kl_ip_of(info);
                json_t *etc = kl_etc_of(info);
                pthread_mutex_lock(&kl->lock);
                free(p->ip);
                p->ip = ip;
                json_decref(p->etc);
                p->etc = etc;
                pthread_mutex_unlock(&kl->lock);
                json_decref(info);
        }
        for (size_t i = 0; i < p->n_ctrs; i++) {
                struct kl_ctr *c = &p->ctrs[i];
                json_t *last = c->prev_id ? kl_terminated_of(kl, c->prev_id) : NULL;
                info = NULL;
                if (c->id && engine_container_inspect(kl->e, c->id, &info, NULL) == 0) {
                        const json_t *st = json_object_get(info, "State");
                        const char *at = json_string_value(json_object_get(st, "StartedAt"));
                        pthread_mutex_lock(&kl->lock);
                        if (at && strlen(at) >= 19)
                                c->started_at = xasprintf("%.19sZ", at);
                        kl_set_str(&c->image_id, json_string_value(json_object_get(info, "Image")));
                        c->running_since = kl_now_ms();
                        pthread_mutex_unlock(&kl->lock);
                }
                json_decref(info);
                pthread_mutex_lock(&kl->lock);
                if (last) {
                        json_object_set_new(last, "containerID", must(json_sprintf("berth://%s", c->prev_id)));
                        c->last_term = last;
                }
                if (c->state == KL_RUNNING && !c->exited) {
                        bool ready = c->ready, started = c->started;
                        kl_probes_arm(kl, p, c);
                        /* what the pod showed before the restart stands until a probe says otherwise */
                        if (c->probes[KL_STARTUP].configured)
                                c->started = started;
                        if (c->probes[KL_READINESS].configured)
                                c->ready = ready && c->started;
                }
                pthread_mutex_unlock(&kl->lock);
        }
}

static void remove_stale_dirs(struct kubelet *kl)
{
        _cleanup_free_ char *dir = xasprintf("%s/kubelet/pods", engine_options(kl->e)->data_root);
        DIR *d = opendir(dir);
        struct dirent *de;
        json_t *stale = must(json_array()), *v;
        size_t i;

        if (d == NULL) {
                json_decref(stale);
                return;
        }
        pthread_mutex_lock(&kl->lock);
        while ((de = readdir(d)) != NULL)
                if (de->d_name[0] != '.' && kl_pod_find(kl, de->d_name) == NULL)
                        json_array_append_new(stale, must(json_string(de->d_name)));
        pthread_mutex_unlock(&kl->lock);
        closedir(d);
        json_array_foreach(stale, i, v) kl_volumes_teardown(kl, json_string_value(v));
        json_decref(stale);
}

void kl_adopt(struct kubelet *kl)
{
        json_t *filters = must(json_pack("{s:[s]}", "label", KL_LABEL_UID)), *list = NULL, *v;
        json_t *pods = kube_list(kl->k, "Pod", NULL, NULL), *drop = must(json_array());
        json_t *orphans = must(json_object()), *prevs = must(json_object());
        const char *key;
        size_t i;

        if (engine_container_list(kl->e, true, filters, &list, NULL) < 0)
                list = must(json_array());
        pthread_mutex_lock(&kl->lock);
        json_array_foreach(pods, i, v) {
                const char *uid = json_string_value(json_object_get(json_object_get(v, "metadata"), "uid"));
                if (uid && kl_pod_find(kl, uid) == NULL)
                        kl_pod_add(kl, v);
        }
        json_array_foreach(list, i, v) place(kl, v, drop, orphans, prevs);
        for (i = 0; i < kl->n_pods; i++)
                settle(kl->pods[i]);
        pthread_mutex_unlock(&kl->lock);

        for (i = 0; i < kl->n_pods; i++)
                details(kl, kl->pods[i]);
        json_array_foreach(drop, i, v) engine_container_remove(kl->e, json_string_value(v), true, false, NULL);
        json_object_foreach(orphans, key, v) {
                berth_debug("kubelet: removing the containers of pod %s, no longer in the store", key);
                kl_remove_containers(kl, key);
        }
        remove_stale_dirs(kl);
        pthread_mutex_lock(&kl->lock);
        for (i = 0; i < kl->n_pods; i++) {
                kl->pods[i]->seen = true;
                kl_pod_queue(kl, kl->pods[i]);
        }
        pthread_mutex_unlock(&kl->lock);
        json_decref(filters);
        json_decref(list);
        json_decref(pods);
        json_decref(drop);
        json_decref(orphans);
        json_decref(prevs);
}
