/* Kubernetes Events, in memory (the last KUBE_EVENTS_KEPT): what
 * `describe` shows.  A repeat of the same reason and message for the
 * same object counts up instead of adding a line, as the kubelet's
 * event recorder does. */
#include "orch/kube-internal.h"
#include "util/util.h"
#include <stdarg.h>
#include <string.h>
#include <sys/random.h>

static bool same_event(const json_t *ev, const char *uid, const char *reason, const char *msg)
{
        const char *euid = json_string_value(json_object_get(json_object_get(ev, "involvedObject"), "uid"));
        return euid && uid && strcmp(euid, uid) == 0 &&
               strcmp(json_string_value(json_object_get(ev, "reason")), reason) == 0 &&
               strcmp(json_string_value(json_object_get(ev, "message")), msg) == 0;
}

void kube_event(struct kube *k, const json_t *involved, const char *type, const char *reason, const char *fmt, ...)
{
        _cleanup_free_ char *msg = NULL;
        _cleanup_free_ char *now = kube_now_rfc3339();
        const char *uid = kube_meta_str(involved, "uid"), *name = kube_meta_str(involved, "name");
        const char *ns = kube_meta_str(involved, "namespace");
        unsigned long long r = 0;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        pthread_mutex_lock(&k->events_lock);
        for (size_t i = 0; i < k->n_events; i++) {
                json_t *ev = k->events[i];
                if (same_event(ev, uid, reason, msg)) {
                        json_object_set_new(ev, "count", json_integer(json_integer_value(json_object_get(ev, "count")) + 1));
                        json_object_set_new(ev, "lastTimestamp", json_string(now));
                        pthread_mutex_unlock(&k->events_lock);
                        return;
                }
        }
        if (getrandom(&r, sizeof(r), 0) < 0)
                r = 0;
        json_t *ev = json_pack("{s:s, s:s, s:{s:s+, s:s}, s:{s:O, s:s, s:s, s:s, s:s}, s:s, s:s, s:s, s:s, s:s, "
                               "s:i, s:{s:s}}",
                               "apiVersion", "v1", "kind", "Event", "metadata", "name", name ? name : "", ".",
                               "namespace", ns ? ns : "default", "involvedObject", "apiVersion",
                               json_object_get(involved, "apiVersion"), "kind",
                               json_string_value(json_object_get(involved, "kind")), "name", name ? name : "",
                               "namespace", ns ? ns : "default", "uid", uid ? uid : "", "type", type, "reason", reason,
                               "message", msg, "firstTimestamp", now, "lastTimestamp", now, "count", 1, "source",
                               "component", "berthd");
        if (ev == NULL) {
                pthread_mutex_unlock(&k->events_lock);
                return;
        }
        char hex[17];
        snprintf(hex, sizeof(hex), "%016llx", r);
        json_object_set_new(json_object_get(ev, "metadata"), "name", json_sprintf("%s.%s", name ? name : "", hex));
        if (k->n_events == KUBE_EVENTS_KEPT) {
                json_decref(k->events[0]);
                memmove(k->events, k->events + 1, (KUBE_EVENTS_KEPT - 1) * sizeof(k->events[0]));
                k->n_events--;
        }
        k->events[k->n_events++] = ev;
        pthread_mutex_unlock(&k->events_lock);
}

json_t *kube_events_for(struct kube *k, const char *kind, const char *ns, const char *name)
{
        json_t *out = must(json_array());

        pthread_mutex_lock(&k->events_lock);
        for (size_t i = 0; i < k->n_events; i++) {
                json_t *ev = k->events[i], *inv = json_object_get(ev, "involvedObject");
                const char *ekind = json_string_value(json_object_get(inv, "kind"));
                const char *ename = json_string_value(json_object_get(inv, "name"));
                const char *ens = json_string_value(json_object_get(inv, "namespace"));
                if ((kind && (!ekind || strcmp(kind, ekind) != 0)) || (name && (!ename || strcmp(name, ename) != 0)) ||
                    (ns && (!ens || strcmp(ns, ens) != 0)))
                        continue;
                json_array_append_new(out, json_deep_copy(ev));
        }
        pthread_mutex_unlock(&k->events_lock);
        return out;
}

void kube_events_clear(struct kube *k)
{
        for (size_t i = 0; i < k->n_events; i++)
                json_decref(k->events[i]);
        k->n_events = 0;
}
