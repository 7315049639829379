/* The orchestrator's life: the store, the pod network, and one controller
 * thread that runs every controller on each wake.  Wakes come from store
 * writes, from the engine's container events (an exit, an OOM kill), and
 * from the resync tick: the loops are level-triggered, so a missed wake
 * costs one tick, never correctness. */
#include "orch/kube-internal.h"
#include "engine/engine.h"
#include "net/ipam.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <string.h>
#include <time.h>

void kube_opts_defaults(struct kube_opts *o)
{
        if (o->resync_ms <= 0)
                o->resync_ms = 1000;
        if (o->hpa_sync_s <= 0)
                o->hpa_sync_s = 15;
        if (o->hpa_downscale_window_s <= 0)
                o->hpa_downscale_window_s = 300;
        if (o->backoff_base_s <= 0)
                o->backoff_base_s = 10;
        if (o->backoff_max_s <= 0)
                o->backoff_max_s = 300;
        if (o->backoff_reset_s <= 0)
                o->backoff_reset_s = 600;
        if (o->configmap_sync_s <= 0)
                o->configmap_sync_s = 10;
        if (o->service_cidr == NULL)
                o->service_cidr = "10.43.0.0/16";
        if (o->pod_network == NULL)
                o->pod_network = "berth-kube";
        if (o->pod_cidr == NULL)
                o->pod_cidr = "10.42.0.0/16";
}

struct engine *kube_engine(struct kube *k)
{
        return k->engine;
}

const struct kube_opts *kube_options(struct kube *k)
{
        return &k->opts;
}

void kube_lock(struct kube *k)
{
        pthread_mutex_lock(&k->big_lock);
}

void kube_unlock(struct kube *k)
{
        pthread_mutex_unlock(&k->big_lock);
}

void **kube_slot(struct kube *k, enum kube_slot slot)
{
        return &k->slots[slot];
}

const char *kube_pod_network(struct kube *k)
{
        return k->opts.pod_network;
}

const char *kube_pod_network_id(struct kube *k)
{
        return __atomic_load_n(&k->pod_network_id, __ATOMIC_ACQUIRE);
}

struct dns_server *kube_dns(struct kube *k)
{
        return engine_dns(k->engine);
}

void kube_wake(struct kube *k)
{
        pthread_mutex_lock(&k->wake_lock);
        k->woken = true;
        pthread_cond_signal(&k->wake_cond);
        pthread_mutex_unlock(&k->wake_lock);
}

/* ---- the pod network ------------------------------------------------------- */

/* A user-defined bridge (so pods get the embedded DNS), made for the
 * first pod and kept across restarts, as any network: a daemon that runs
 * no pods has no bridge for them.  Its subnet is the pod CIDR
 * (k3s's 10.42.0.0/16) unless something on the host has it already: then
 * the engine picks a free one, as for any network, and the log says so. */
static int create_pod_network(struct kube *k, bool with_subnet, json_t **net, berth_error_t **err)
{
        json_t *body = json_pack("{s:s, s:s, s:{s:s}}", "Name", k->opts.pod_network, "Driver", "bridge", "Labels",
                                 "io.berth.kube", "pods");

        if (with_subnet)
                json_object_set_new(body, "IPAM", json_pack("{s:[{s:s}]}", "Config", "Subnet", k->opts.pod_cidr));
        int r = engine_network_create(k->engine, body, net, err);
        json_decref(body);
        return r;
}

/* Whether a route of the host already covers part of the pod CIDR (a
 * second berthd's pod network, a VPN): routing to pods would be
 * ambiguous. */
static bool pod_cidr_in_use(const char *cidr)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct ipam_prefix want;
        struct ipam_route *routes = NULL;
        size_t n = 0;
        bool used = false;

        if (ipam_prefix_parse(cidr, false, &want, &err) < 0 || ipam_host_routes(&routes, &n, &err) < 0)
                return false;   /* the engine's own checks will say what is wrong */
        for (size_t i = 0; i < n && !used; i++)
                used = ipam_overlaps(&want, &routes[i].prefix);
        free(routes);
        return used;
}

/* The id goes to readers without a lock: it is set, or replaced when
 * someone removed the network and a pod made it again; a replaced one
 * stays allocated until kube_close. */
static void set_pod_network_id(struct kube *k, const char *id)
{
        const char *cur = kube_pod_network_id(k);

        if (id == NULL || (cur && strcmp(cur, id) == 0))
                return;
        if (cur) {
                k->old_network_ids = xrealloc(k->old_network_ids, (k->n_old_network_ids + 1) * sizeof(char *));
                k->old_network_ids[k->n_old_network_ids++] = (char *)cur;
        }
        __atomic_store_n(&k->pod_network_id, xstrdup(id), __ATOMIC_RELEASE);
}

/* At start: a pod network made by an earlier daemon, if any. */
static void pod_network_adopt(struct kube *k)
{
        json_t *net = NULL;

        if (engine_network_inspect(k->engine, k->opts.pod_network, &net, NULL) == 0) {
                set_pod_network_id(k, json_string_value(json_object_get(net, "Id")));
                json_decref(net);
        }
}

int kube_pod_network_ensure(struct kube *k, berth_error_t **err)
{
        json_t *net = NULL;
        _cleanup_error_ berth_error_t *missing = NULL, *taken = NULL;

        pthread_mutex_lock(&k->network_lock);
        if (engine_network_inspect(k->engine, k->opts.pod_network, &net, &missing) < 0) {
                if (pod_cidr_in_use(k->opts.pod_cidr))
                        berth_error(&taken, 0, "a route of the host covers it");
                if (taken || create_pod_network(k, true, &net, &taken) < 0) {
                        berth_warn("the pod network %s: %s: %s; letting the engine choose a subnet",
                                  k->opts.pod_network, k->opts.pod_cidr, taken->msg);
                        if (create_pod_network(k, false, &net, err) < 0) {
                                pthread_mutex_unlock(&k->network_lock);
                                return berth_error_wrap(err, "the pod network %s", k->opts.pod_network);
                        }
                }
        }
        set_pod_network_id(k, json_string_value(json_object_get(net, "Id")));
        pthread_mutex_unlock(&k->network_lock);
        json_decref(net);
        return 0;
}

/* ---- controllers ------------------------------------------------------------- */

struct controller {
        const char *name;
        int (*init)(struct kube *k, berth_error_t **err);
        void (*reconcile)(struct kube *k);
        void (*fini)(struct kube *k);
};

static size_t controllers(struct controller *out)
{
        struct controller all[] = {
                { "workloads", kube_workloads_init, kube_workloads_reconcile, kube_workloads_fini },
                { "kubelet", kubelet_init, kubelet_reconcile, kubelet_fini },
                { "services", kube_services_init, kube_services_reconcile, kube_services_fini },
                { "hpa", kube_hpa_init, kube_hpa_reconcile, kube_hpa_fini },
        };
        size_t n = 0;

        for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
                out[n++] = all[i];
        return n;
}

static void *controller_thread(void *data)
{
        struct kube *k = data;
        struct controller cs[8];
        size_t n = controllers(cs);

        for (;;) {
                struct timespec deadline;
                clock_gettime(CLOCK_REALTIME, &deadline);
                deadline.tv_sec += k->opts.resync_ms / 1000;
                deadline.tv_nsec += (long)(k->opts.resync_ms % 1000) * 1000000;
                if (deadline.tv_nsec >= 1000000000)
                        deadline.tv_sec++, deadline.tv_nsec -= 1000000000;
                pthread_mutex_lock(&k->wake_lock);
                while (!k->woken && !k->stopping)
                        if (pthread_cond_timedwait(&k->wake_cond, &k->wake_lock, &deadline) == ETIMEDOUT)
                                break;
                bool stop = k->stopping;
                k->woken = false;
                pthread_mutex_unlock(&k->wake_lock);
                if (stop)
                        break;
                for (size_t i = 0; i < n; i++)
                        cs[i].reconcile(k);
        }
        return NULL;
}

/* Container exits and OOM kills are what the kubelet must see at once. */
static void *watcher_thread(void *data)
{
        struct kube *k = data;
        uint64_t seq = 0;
        bool first = true;

        for (;;) {
                json_t *evs = engine_events_next(k->engine, &seq, &first, -1, 500);
                size_t i;
                json_t *ev;
                bool wake = false;

                json_array_foreach(evs, i, ev) {
                        const char *type = json_string_value(json_object_get(ev, "Type"));
                        json_t *attrs = json_object_get(json_object_get(ev, "Actor"), "Attributes");
                        if (type && strcmp(type, "container") == 0 &&
                            json_object_get(attrs, "io.kubernetes.pod.uid"))
                                wake = true;
                }
                json_decref(evs);
                if (wake)
                        kube_wake(k);
                pthread_mutex_lock(&k->wake_lock);
                bool stop = k->stopping;
                pthread_mutex_unlock(&k->wake_lock);
                if (stop)
                        return NULL;
        }
}

static int start_controllers(struct kube *k, berth_error_t **err)
{
        struct controller cs[8];
        size_t n = controllers(cs);

        for (size_t i = 0; i < n; i++)
                if (cs[i].init(k, err) < 0) {
                        const char *failed = cs[i].name;
                        for (size_t j = 0; j < i; j++)
                                cs[i - 1 - j].fini(k);
                        return berth_error_wrap(err, "the %s controller", failed);
                }
        if (pthread_create(&k->controller, NULL, controller_thread, k) != 0 ||
            pthread_create(&k->watcher, NULL, watcher_thread, k) != 0)
                abort();        /* out of threads at start: nothing sane to do */
        k->threads_started = true;
        return 0;
}

int kube_open(struct engine *e, const struct kube_opts *o, struct kube **out, berth_error_t **err)
{
        struct kube *k = xcalloc(1, sizeof(*k));

        k->engine = e;
        k->opts = *o;
        kube_opts_defaults(&k->opts);
        k->data_root = xstrdup(engine_options(e)->data_root);
        pthread_mutex_init(&k->store_lock, NULL);
        pthread_mutex_init(&k->big_lock, NULL);
        pthread_mutex_init(&k->events_lock, NULL);
        pthread_mutex_init(&k->wake_lock, NULL);
        pthread_cond_init(&k->wake_cond, NULL);
        pthread_mutex_init(&k->network_lock, NULL);
        if (kube_store_open(k, err) < 0) {
                kube_close(k);
                return -1;
        }
        pod_network_adopt(k);
        if (start_controllers(k, err) < 0) {
                kube_close(k);
                return -1;
        }
        *out = k;
        return 0;
}

void kube_close(struct kube *k)
{
        if (k == NULL)
                return;
        if (k->threads_started) {
                struct controller cs[8];
                size_t n = controllers(cs);
                pthread_mutex_lock(&k->wake_lock);
                k->stopping = true;
                pthread_cond_signal(&k->wake_cond);
                pthread_mutex_unlock(&k->wake_lock);
                pthread_join(k->controller, NULL);
                pthread_join(k->watcher, NULL);
                for (size_t i = n; i-- > 0;)
                        cs[i].fini(k);
        }
        kube_store_close(k);
        kube_events_clear(k);
        free(k->pod_network_id);
        for (size_t i = 0; i < k->n_old_network_ids; i++)
                free(k->old_network_ids[i]);
        free(k->old_network_ids);
        free(k->data_root);
        free(k);
}
