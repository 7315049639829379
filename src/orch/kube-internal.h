/* The orchestrator's own state, shared by kube.c (lifecycle, the
 * controller thread), kube-store.c (objects) and kube-events.c.
 * Controllers see only kube.h. */
#pragma once
#include "orch/kube.h"
#include "orch/orch.h"
#include <pthread.h>
#include <sqlite3.h>

#define KUBE_EVENTS_KEPT 1000

struct kube_event_rec;

struct kube {
        struct engine *engine;
        struct kube_opts opts;
        char *data_root;

        /* the store: every object by "kind/namespace/name" */
        pthread_mutex_t store_lock;
        sqlite3 *db;
        json_t *objects;
        uint64_t resource_version;

        /* kube_lock: sequences that must not interleave */
        pthread_mutex_t big_lock;

        /* events, oldest first (kube-events.c) */
        pthread_mutex_t events_lock;
        struct kube_event_rec *events[KUBE_EVENTS_KEPT];
        size_t n_events;

        /* the controller thread and what wakes it */
        pthread_mutex_t wake_lock;
        pthread_cond_t wake_cond;
        bool woken, stopping;
        pthread_t controller, watcher;
        bool threads_started;

        /* the pod network, made for the first pod */
        pthread_mutex_t network_lock;
        char *pod_network_id;
        char **old_network_ids;
        size_t n_old_network_ids;
        void *slots[KUBE_SLOT_MAX];
};

int kube_store_open(struct kube *k, berth_error_t **err);
void kube_store_close(struct kube *k);
void kube_events_clear(struct kube *k);
