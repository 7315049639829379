/* The kubelet's frame: the pods it knows, the queue its workers take
 * syncs from, and the controller's entry points.  kubelet_reconcile
 * (the controller thread) only looks: the engine's container events since
 * the last pass, the Pods of the store; it queues the pods that need a
 * sync, which the workers run in parallel, one pod at a time each. */
#include "orch/kubelet.h"
#include "engine/engine.h"
#include "util/log.h"
#include "util/util.h"
#include <netdb.h>
#include <time.h>
#include <unistd.h>

#define STEADY_RESYNC_MS 10000  /* a running pod is looked at this often even without events */

int64_t kl_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void kl_set_str(char **field, const char *value)
{
        char *old = *field;

        *field = value ? xstrdup(value) : NULL;
        free(old);
}

static struct kubelet *kl_of(struct kube *k)
{
        return *kube_slot(k, KUBE_SLOT_KUBELET);
}

/* ---- pods ------------------------------------------------------------------ */

struct kl_pod *kl_pod_find(struct kubelet *kl, const char *uid)
{
        for (size_t i = 0; i < kl->n_pods; i++)
                if (strcmp(kl->pods[i]->uid, uid) == 0)
                        return kl->pods[i];
        return NULL;
}

struct kl_ctr *kl_ctr_find(struct kl_pod *p, const char *name)
{
        for (size_t i = 0; i < p->n_ctrs; i++)
                if (strcmp(p->ctrs[i].name, name) == 0)
                        return &p->ctrs[i];
        return NULL;
}

const json_t *kl_ctr_spec(const struct kl_pod *p, const struct kl_ctr *c)
{
        const json_t *spec = json_object_get(p->pod, "spec"), *x;
        size_t i;

        json_array_foreach(json_object_get(spec, c->init ? "initContainers" : "containers"), i, x) {
                const char *n = json_string_value(json_object_get(x, "name"));
                if (n && strcmp(n, c->name) == 0)
                        return x;
        }
        return NULL;
}

static void ctr_clear(struct kl_ctr *c)
{
        free(c->name);
        free(c->image);
        free(c->id);
        free(c->reason);
        free(c->message);
        free(c->started_at);
        json_decref(c->term);
        free(c->prev_id);
        json_decref(c->last_term);
        free(c->image_id);
        for (int i = 0; i < KL_PROBE_KINDS; i++)
                free(c->probes[i].last_error);
}

void kl_pod_ref(struct kl_pod *p)
{
        p->refs++;
}

void kl_pod_unref(struct kubelet *kl, struct kl_pod *p)
{
        (void)kl;
        if (--p->refs > 0)
                return;
        for (size_t i = 0; i < p->n_ctrs; i++)
                ctr_clear(&p->ctrs[i]);
        free(p->ctrs);
        free(p->uid);
        free(p->ns);
        free(p->name);
        json_decref(p->pod);
        free(p->rv);
        free(p->sandbox_id);
        free(p->ip);
        json_decref(p->etc);
        free(p->start_time);
        json_decref(p->conditions);
        json_decref(p->died);
        free(p->status_json);
        free(p);
}

static const char *meta(const json_t *obj, const char *key)
{
        const char *v = json_string_value(json_object_get(json_object_get(obj, "metadata"), key));

        return v ? v : "";
}

static void add_ctrs(struct kl_pod *p, const char *list, bool init)
{
        const json_t *c;
        size_t i;

        json_array_foreach(json_object_get(json_object_get(p->pod, "spec"), list), i, c) {
                struct kl_ctr *x = &p->ctrs[p->n_ctrs++];
                memset(x, 0, sizeof(*x));
                x->name = xstrdup(json_string_value(json_object_get(c, "name")) ?: "");
                x->image = xstrdup(json_string_value(json_object_get(c, "image")) ?: "");
                x->init = init;
                x->state = KL_WAITING;
                x->reason = xstrdup(init ? "PodInitializing" : "ContainerCreating");
        }
}

void kl_pod_init_ctrs(struct kl_pod *p)
{
        const json_t *spec = json_object_get(p->pod, "spec");
        size_t n = json_array_size(json_object_get(spec, "initContainers")) +
                   json_array_size(json_object_get(spec, "containers"));

        p->ctrs = xcalloc(n ? n : 1, sizeof(*p->ctrs));
        p->n_ctrs = 0;
        add_ctrs(p, "initContainers", true);
        p->n_init = p->n_ctrs;
        add_ctrs(p, "containers", false);
}

/* A pod seen for the first time (kl->lock held); conditions and start
 * time come back from the stored status, so a restarted berthd keeps
 * their transition times. */
struct kl_pod *kl_pod_add(struct kubelet *kl, json_t *obj)
{
        struct kl_pod *p = xcalloc(1, sizeof(*p));
        const json_t *status = json_object_get(obj, "status"), *cond;
        size_t i;

        p->refs = 1;
        p->uid = xstrdup(meta(obj, "uid"));
        p->ns = xstrdup(*meta(obj, "namespace") ? meta(obj, "namespace") : "default");
        p->name = xstrdup(meta(obj, "name"));
        p->pod = json_incref(obj);
        p->rv = xstrdup(meta(obj, "resourceVersion"));
        p->conditions = must(json_object());
        p->died = must(json_object());
        json_array_foreach(json_object_get(status, "conditions"), i, cond) {
                const char *type = json_string_value(json_object_get(cond, "type"));
                if (type)
                        json_object_set_new(p->conditions, type, json_deep_copy(cond));
        }
        if (json_string_value(json_object_get(status, "startTime")))
                p->start_time = xstrdup(json_string_value(json_object_get(status, "startTime")));
        p->scheduled = json_object_get(p->conditions, "PodScheduled") != NULL;
        kl_pod_init_ctrs(p);
        if (kl->n_pods == kl->cap_pods) {
                kl->cap_pods = kl->cap_pods ? 2 * kl->cap_pods : 64;
                kl->pods = xrealloc(kl->pods, kl->cap_pods * sizeof(*kl->pods));
        }
        kl->pods[kl->n_pods++] = p;
        return p;
}

static void pod_drop(struct kubelet *kl, struct kl_pod *p)
{
        for (size_t i = 0; i < kl->n_pods; i++)
                if (kl->pods[i] == p) {
                        kl->pods[i] = kl->pods[--kl->n_pods];
                        kl_pod_unref(kl, p);
                        return;
                }
}

/* ---- the queue ------------------------------------------------------------- */

void kl_pod_queue(struct kubelet *kl, struct kl_pod *p)
{
        if (p->gone)
                return;
        if (p->queued || p->busy) {
                p->dirty = true;
                return;
        }
        if (kl->n_queue == kl->cap_queue) {
                kl->cap_queue = kl->cap_queue ? 2 * kl->cap_queue : 64;
                kl->queue = xrealloc(kl->queue, kl->cap_queue * sizeof(*kl->queue));
        }
        p->queued = true;
        kl_pod_ref(p);
        kl->queue[kl->n_queue++] = p;
        pthread_cond_signal(&kl->work_cond);
}

void kl_pod_due(struct kl_pod *p, int64_t when)
{
        if (p->due_ms == 0 || when < p->due_ms)
                p->due_ms = when;
}

static void *worker(void *data)
{
        struct kubelet *kl = data;

        pthread_mutex_lock(&kl->lock);
        for (;;) {
                while (!kl->stopping && kl->n_queue == 0)
                        pthread_cond_wait(&kl->work_cond, &kl->lock);
                if (kl->stopping)
                        break;
                struct kl_pod *p = kl->queue[0];
                memmove(kl->queue, kl->queue + 1, --kl->n_queue * sizeof(*kl->queue));
                p->queued = false;
                p->busy = true;
                p->dirty = false;
                pthread_mutex_unlock(&kl->lock);
                kl_pod_sync(kl, p);
                pthread_mutex_lock(&kl->lock);
                p->busy = false;
                if (p->dirty)
                        kl_pod_queue(kl, p);
                kl_pod_unref(kl, p);
                pthread_cond_broadcast(&kl->idle_cond);
        }
        pthread_mutex_unlock(&kl->lock);
        return NULL;
}

/* ---- detached threads -------------------------------------------------------- */

struct spawn {
        struct kubelet *kl;
        void *(*fn)(void *);
        void *arg;
};

static void *spawned(void *data)
{
        struct spawn s = *(struct spawn *)data;

        free(data);
        s.fn(s.arg);
        kl_spawn_done(s.kl);
        return NULL;
}

int kl_spawn(struct kubelet *kl, void *(*fn)(void *), void *arg)
{
        struct spawn *s = xmalloc(sizeof(*s));
        pthread_attr_t attr;
        pthread_t t;
        int r;

        *s = (struct spawn){ kl, fn, arg };
        kl->detached++;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        r = pthread_create(&t, &attr, spawned, s);
        pthread_attr_destroy(&attr);
        if (r != 0) {
                free(s);
                kl->detached--;
                berth_warn("kubelet: thread: %s", strerror(r));
                return -r;
        }
        return 0;
}

void kl_spawn_done(struct kubelet *kl)
{
        pthread_mutex_lock(&kl->lock);
        kl->detached--;
        pthread_cond_broadcast(&kl->idle_cond);
        pthread_mutex_unlock(&kl->lock);
}

/* ---- engine events ------------------------------------------------------------- */

static void container_event(struct kubelet *kl, const json_t *ev)
{
        const char *action = json_string_value(json_object_get(ev, "Action"));
        const json_t *actor = json_object_get(ev, "Actor");
        const json_t *attrs = json_object_get(actor, "Attributes");
        const char *id = json_string_value(json_object_get(actor, "ID"));
        const char *uid = json_string_value(json_object_get(attrs, KL_LABEL_UID));
        struct kl_pod *p;

        if (uid == NULL || id == NULL || action == NULL)
                return;
        if (strcmp(action, "die") != 0 && strcmp(action, "oom") != 0 && strcmp(action, "destroy") != 0)
                return;
        if ((p = kl_pod_find(kl, uid)) == NULL)
                return;
        json_object_set_new(p->died, id, json_true());
        kl_pod_queue(kl, p);
}

static void drain_events(struct kubelet *kl)
{
        json_t *evs = engine_events_next(kl->e, &kl->ev_seq, &kl->ev_first, -1, 0), *ev;
        size_t i;

        pthread_mutex_lock(&kl->lock);
        json_array_foreach(evs, i, ev) {
                const char *type = json_string_value(json_object_get(ev, "Type"));
                if (type && strcmp(type, "container") == 0)
                        container_event(kl, ev);
        }
        pthread_mutex_unlock(&kl->lock);
        json_decref(evs);
}

/* ---- reconcile ------------------------------------------------------------------ */

static void see_pod(struct kubelet *kl, json_t *obj, int64_t now)
{
        const char *uid = meta(obj, "uid");
        struct kl_pod *p = kl_pod_find(kl, uid);

        if (*uid == '\0')
                return;
        if (p == NULL) {
                p = kl_pod_add(kl, obj);
                p->seen = true;
                kl_pod_queue(kl, p);
                return;
        }
        p->seen = true;
        if (strcmp(p->rv, meta(obj, "resourceVersion")) != 0) {
                bool deleting = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp") != NULL;
                bool was = json_object_get(json_object_get(p->pod, "metadata"), "deletionTimestamp") != NULL;
                json_decref(p->pod);
                p->pod = json_incref(obj);
                kl_set_str(&p->rv, meta(obj, "resourceVersion"));
                /* our own status writes change the version too: only a
                 * deletion or a spec change asks for a sync */
                if (deleting != was)
                        kl_pod_queue(kl, p);
        }
        if (p->due_ms && p->due_ms <= now) {
                p->due_ms = 0;
                kl_pod_queue(kl, p);
        }
}

/* A pod gone from the store without us (a force delete, or a berthd that
 * died between removing the containers and the object): clean up. */
static void unseen_pods(struct kubelet *kl)
{
        for (size_t i = 0; i < kl->n_pods;) {
                struct kl_pod *p = kl->pods[i];
                /* gone first: a finished termination leaves terminating
                 * set, and a pod kept for it would be kept for good */
                if (p->gone) {
                        pod_drop(kl, p);
                        continue;
                }
                if (p->seen || p->terminating) {
                        i++;
                        continue;
                }
                p->terminating = true;
                kl_pod_terminate(kl, p, false);
                i++;
        }
}

void kubelet_reconcile(struct kube *k)
{
        struct kubelet *kl = kl_of(k);
        json_t *pods, *obj;
        int64_t now = kl_now_ms();
        size_t i;

        if (kl == NULL)
                return;
        drain_events(kl);
        pods = kube_list(k, "Pod", NULL, NULL);
        pthread_mutex_lock(&kl->lock);
        for (i = 0; i < kl->n_pods; i++)
                kl->pods[i]->seen = false;
        json_array_foreach(pods, i, obj) see_pod(kl, obj, now);
        unseen_pods(kl);
        pthread_mutex_unlock(&kl->lock);
        json_decref(pods);
}

/* ---- node facts ----------------------------------------------------------------- */

static void node_facts(struct kubelet *kl)
{
        char host[256] = "";
        long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);

        if (gethostname(host, sizeof(host) - 1) < 0 || host[0] == '\0')
                strcpy(host, "localhost");
        for (char *c = host; *c; c++)
                *c = (char)(*c >= 'A' && *c <= 'Z' ? *c - 'A' + 'a' : *c);
        kl->node_name = xstrdup(host);
        kl->node_mem = pages > 0 && psize > 0 ? (long long)pages * psize : 0;
        kl->node_cpus_milli = cpus > 0 ? cpus * 1000LL : 1000;
        kl_learn_host_ip(kl);
}

/* The pods reach the host at their network's gateway: known once the
 * network is (at start when an earlier daemon made it, else with the
 * first pod).  Set once, under kl->lock; readers take the lock or come
 * after the sandbox their pod needed. */
void kl_learn_host_ip(struct kubelet *kl)
{
        json_t *net = NULL;
        const char *gw;

        pthread_mutex_lock(&kl->lock);
        bool known = kl->host_ip != NULL;
        pthread_mutex_unlock(&kl->lock);
        if (known || engine_network_inspect(kl->e, kube_pod_network(kl->k), &net, NULL) < 0)
                return;
        gw = json_string_value(
                json_object_get(json_array_get(json_object_get(json_object_get(net, "IPAM"), "Config"), 0), "Gateway"));
        pthread_mutex_lock(&kl->lock);
        if (kl->host_ip == NULL && gw)
                kl->host_ip = xstrdup(gw);
        pthread_mutex_unlock(&kl->lock);
        json_decref(net);
}

/* ---- init / fini ------------------------------------------------------------------ */

int kubelet_init(struct kube *k, berth_error_t **err)
{
        struct kubelet *kl = xcalloc(1, sizeof(*kl));
        json_t *none;
        int r;

        kl->k = k;
        kl->e = kube_engine(k);
        pthread_mutex_init(&kl->lock, NULL);
        pthread_cond_init(&kl->work_cond, NULL);
        pthread_cond_init(&kl->probe_cond, NULL);
        pthread_cond_init(&kl->idle_cond, NULL);
        kl->ev_first = true;
        /* from now on: the exits that happen while we adopt are seen */
        none = engine_events_next(kl->e, &kl->ev_seq, &kl->ev_first, -1, 0);
        json_decref(none);
        node_facts(kl);
        *kube_slot(k, KUBE_SLOT_KUBELET) = kl;
        kl_adopt(kl);
        for (int i = 0; i < KL_WORKERS; i++)
                if ((r = pthread_create(&kl->workers[i], NULL, worker, kl)) != 0) {
                        berth_error(err, r, "kubelet worker");
                        kubelet_fini(k);
                        return -1;
                }
        if (kl_probers_start(kl, err) < 0) {
                kubelet_fini(k);
                return -1;
        }
        return 0;
}

void kubelet_fini(struct kube *k)
{
        struct kubelet *kl = kl_of(k);

        if (kl == NULL)
                return;
        pthread_mutex_lock(&kl->lock);
        kl->stopping = true;
        pthread_cond_broadcast(&kl->work_cond);
        pthread_cond_broadcast(&kl->probe_cond);
        pthread_mutex_unlock(&kl->lock);
        for (int i = 0; i < KL_WORKERS; i++)
                if (kl->workers[i])
                        pthread_join(kl->workers[i], NULL);
        kl_probers_stop(kl);
        /* detached threads (terminations, pulls, kills) may sit in a long
         * engine call (a stop waiting out a grace period): wait a little,
         * then leave them the kubelet's memory (berthd is exiting) */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 3;
        pthread_mutex_lock(&kl->lock);
        while (kl->detached > 0)
                if (pthread_cond_timedwait(&kl->idle_cond, &kl->lock, &until) == ETIMEDOUT)
                        break;
        if (kl->detached > 0) {
                berth_warn("kubelet: %d operations still running at shutdown", kl->detached);
                pthread_mutex_unlock(&kl->lock);
                *kube_slot(k, KUBE_SLOT_KUBELET) = NULL;
                return;
        }
        for (size_t i = 0; i < kl->n_queue; i++)
                kl_pod_unref(kl, kl->queue[i]);
        while (kl->n_pods)
                pod_drop(kl, kl->pods[0]);
        pthread_mutex_unlock(&kl->lock);
        kl_images_free(kl);
        free(kl->queue);
        free(kl->pods);
        free(kl->node_name);
        free(kl->host_ip);
        pthread_mutex_destroy(&kl->lock);
        pthread_cond_destroy(&kl->work_cond);
        pthread_cond_destroy(&kl->probe_cond);
        pthread_cond_destroy(&kl->idle_cond);
        *kube_slot(k, KUBE_SLOT_KUBELET) = NULL;
        free(kl);
}
