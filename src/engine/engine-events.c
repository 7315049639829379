/* docker events: what happened to containers and images, kept in a ring
 * of the last EVENTS_KEPT for `since`, and handed to waiting streams. */
#include "engine/engine-internal.h"
#include <time.h>

#define EVENTS_KEPT 1024

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t events_cond = PTHREAD_COND_INITIALIZER;
/* Kept as text: a container's event carries all its labels, and a ring
 * of JSON objects took about three times the memory. */
static struct ring_entry {
        char *text;
        int64_t time;
} ring[EVENTS_KEPT];
static uint64_t next_seq;       /* sequence number of the next event */

void engine_event(struct engine *e, const char *type, const char *action, const char *id, json_t *attrs)
{
        struct timespec ts;
        (void)e;

        clock_gettime(CLOCK_REALTIME, &ts);
        if (attrs == NULL)
                attrs = json_object();
        json_t *ev = json_pack("{s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "Type", type, "Action", action, "Actor", "ID",
                               id, "Attributes", attrs, "scope", "local", "time", (json_int_t)ts.tv_sec, "timeNano",
                               (json_int_t)ts.tv_sec * 1000000000 + ts.tv_nsec);
        /* the fields old clients read */
        if (strcmp(type, "container") == 0) {
                json_object_set_new(ev, "status", json_string(action));
                json_object_set_new(ev, "id", json_string(id));
                json_t *img = json_object_get(attrs, "image");
                if (img)
                        json_object_set(ev, "from", img);
        }
        char *text = json_dumps(ev, JSON_COMPACT);
        json_decref(ev);
        if (text == NULL)
                abort();
        pthread_mutex_lock(&events_lock);
        struct ring_entry *slot = &ring[next_seq % EVENTS_KEPT];
        free(slot->text);
        *slot = (struct ring_entry){ text, ts.tv_sec };
        next_seq++;
        pthread_cond_broadcast(&events_cond);
        pthread_mutex_unlock(&events_lock);
}

void engine_container_event(struct engine *e, struct ctr *c, const char *action, json_t *extra)
{
        json_t *attrs = json_pack("{s:s, s:s}", "image", c->image ? c->image : "", "name", c->name);
        json_t *labels = json_object_get(c->body, "Labels");
        const char *k;
        json_t *v;

        json_object_foreach(labels, k, v) if (json_is_string(v)) json_object_set(attrs, k, v);
        if (extra)
                json_object_update(attrs, extra);
        json_decref(extra);
        engine_event(e, "container", action, c->id, attrs);
}

/* Events after *seq (or, the first time, since `since`), waiting up to
 * timeout_ms for one; returns a new array (maybe empty). */
json_t *engine_events_next(struct engine *e, uint64_t *seq, bool *first, int64_t since, int timeout_ms)
{
        json_t *out = json_array();
        struct timespec deadline;
        (void)e;

        pthread_mutex_lock(&events_lock);
        if (*first) {
                *first = false;
                uint64_t oldest = next_seq > EVENTS_KEPT ? next_seq - EVENTS_KEPT : 0;
                *seq = next_seq;
                if (since >= 0)
                        for (uint64_t s = oldest; s < next_seq; s++)
                                if (ring[s % EVENTS_KEPT].time >= since) {
                                        *seq = s;
                                        break;
                                }
        }
        clock_gettime(CLOCK_REALTIME, &deadline);
        deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
        deadline.tv_sec += timeout_ms / 1000 + deadline.tv_nsec / 1000000000;
        deadline.tv_nsec %= 1000000000;
        while (*seq == next_seq)
                if (pthread_cond_timedwait(&events_cond, &events_lock, &deadline) == ETIMEDOUT)
                        break;
        if (next_seq > *seq + EVENTS_KEPT)
                *seq = next_seq - EVENTS_KEPT; /* a slow reader loses the oldest */
        for (; *seq < next_seq; (*seq)++) {
                json_t *ev = json_loads(ring[*seq % EVENTS_KEPT].text, 0, NULL);
                if (ev)         /* we wrote it: always */
                        json_array_append_new(out, ev);
        }
        pthread_mutex_unlock(&events_lock);
        return out;
}
