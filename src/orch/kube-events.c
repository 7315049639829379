/* Kubernetes Events, in memory (the last KUBE_EVENTS_KEPT): what
 * `describe` shows.  A repeat of the same reason and message for the
 * same object counts up instead of adding a line, as the kubelet's
 * event recorder does. */
#include "orch/kube-internal.h"
#include "util/util.h"
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>

/* One event as plain strings: a thousand of them as JSON objects took
 * 2.8 MB of the daemon, as records about a fifth of that. */
struct kube_event_rec {
        char *name, *api_version, *kind, *obj_name, *ns, *uid;
        char *type, *reason, *message;
        char *first, *last;
        long long count;
};

static void rec_free(struct kube_event_rec *e)
{
        free(e->name);
        free(e->api_version);
        free(e->kind);
        free(e->obj_name);
        free(e->ns);
        free(e->uid);
        free(e->type);
        free(e->reason);
        free(e->message);
        free(e->first);
        free(e->last);
        free(e);
}

static bool same_event(const struct kube_event_rec *e, const char *uid, const char *reason, const char *msg)
{
        return uid && strcmp(e->uid, uid) == 0 && strcmp(e->reason, reason) == 0 && strcmp(e->message, msg) == 0;
}

static json_t *rec_json(const struct kube_event_rec *e)
{
        json_t *inv = must(json_pack("{s:s, s:s, s:s, s:s}", "kind", e->kind, "name", e->obj_name, "namespace", e->ns,
                                     "uid", e->uid));

        if (e->api_version)
                json_object_set_new(inv, "apiVersion", must(json_string(e->api_version)));
        return must(json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:s, s:s, s:I, s:{s:s}}", "apiVersion",
                              "v1", "kind", "Event", "metadata", "name", e->name, "namespace", e->ns,
                              "involvedObject", inv, "type", e->type, "reason", e->reason, "message", e->message,
                              "firstTimestamp", e->first, "lastTimestamp", e->last, "count", (json_int_t)e->count,
                              "source", "component", "berthd"));
}

void kube_event(struct kube *k, const json_t *involved, const char *type, const char *reason, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        _cleanup_free_ char *now = kube_now_rfc3339();
        const char *uid = kube_meta_str(involved, "uid"), *name = kube_meta_str(involved, "name");
        const char *ns = kube_meta_str(involved, "namespace");
        const char *api = json_string_value(json_object_get(involved, "apiVersion"));
        const char *kind = json_string_value(json_object_get(involved, "kind"));
        unsigned long long r = 0;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (getrandom(&r, sizeof(r), 0) < 0)
                r = 0;
        pthread_mutex_lock(&k->events_lock);
        for (size_t i = 0; i < k->n_events; i++) {
                struct kube_event_rec *e = k->events[i];
                if (same_event(e, uid, reason, msg)) {
                        e->count++;
                        free(e->last);
                        e->last = xstrdup(now);
                        pthread_mutex_unlock(&k->events_lock);
                        return;
                }
        }
        struct kube_event_rec *e = xcalloc(1, sizeof(*e));
        *e = (struct kube_event_rec){
                .name = xasprintf("%s.%016llx", name ? name : "", r),
                .api_version = api ? xstrdup(api) : NULL,
                .kind = xstrdup(kind ? kind : ""),
                .obj_name = xstrdup(name ? name : ""),
                .ns = xstrdup(ns ? ns : "default"),
                .uid = xstrdup(uid ? uid : ""),
                .type = xstrdup(type),
                .reason = xstrdup(reason),
                .message = msg,
                .first = xstrdup(now),
                .last = now,
                .count = 1,
        };
        msg = now = NULL;
        if (k->n_events == KUBE_EVENTS_KEPT) {
                rec_free(k->events[0]);
                memmove(k->events, k->events + 1, (KUBE_EVENTS_KEPT - 1) * sizeof(k->events[0]));
                k->n_events--;
        }
        k->events[k->n_events++] = e;
        pthread_mutex_unlock(&k->events_lock);
}

json_t *kube_events_for(struct kube *k, const char *kind, const char *ns, const char *name)
{
        json_t *out = must(json_array());

        pthread_mutex_lock(&k->events_lock);
        for (size_t i = 0; i < k->n_events; i++) {
                const struct kube_event_rec *e = k->events[i];
                if ((kind && strcmp(kind, e->kind) != 0) || (name && strcmp(name, e->obj_name) != 0) ||
                    (ns && strcmp(ns, e->ns) != 0))
                        continue;
                json_array_append_new(out, rec_json(e));
        }
        pthread_mutex_unlock(&k->events_lock);
        return out;
}

void kube_events_clear(struct kube *k)
{
        for (size_t i = 0; i < k->n_events; i++)
                rec_free(k->events[i]);
        k->n_events = 0;
}
