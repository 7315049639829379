/* /containers/...: create, start, stop, restart, kill, pause, unpause,
 * wait, attach (hijacked), logs, list, inspect, top, resize, rename,
 * update, prune, delete. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
#include "util/log.h"
#include <time.h>
#include "util/util.h"

static int post_create(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        _cleanup_free_ char *id = NULL;
        json_t *body = NULL, *warnings = NULL;
        int r;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        if (body == NULL)
                return berth_fail(err, EINVAL, "config cannot be empty in order to create a container");
        /* a log driver Berth lacks fails the create, as in dockerd, not the start */
        if (engine_log_config_check(json_object_get(body, "HostConfig"), err) < 0) {
                json_decref(body);
                return -1;
        }
        r = engine_container_create(api->engine, body, http_query(req, "name"), &id, &warnings, err);
        json_decref(body);
        if (r < 0)
                return -1;
        return http_reply_json(req, 201, json_pack("{s:s, s:o}", "Id", id, "Warnings", warnings));
}

/* 304 for "already" (start of a running container, stop of a stopped
 * one), as dockerd. */
static int reply_done(struct http_request *req, int r, berth_error_t **err)
{
        if (r < 0 && (*err)->status == EALREADY) {
                berth_error_free(err);
                return http_reply_empty(req, 304);
        }
        return r < 0 ? -1 : http_reply_empty(req, 204);
}

static int post_start(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        return reply_done(req, engine_container_start(api->engine, http_param(req, "id"), err), err);
}

static int timeout_of(struct http_request *req)
{
        const char *t = http_query(req, "t");
        return t && *t ? atoi(t) : -1;
}

static int post_stop(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        return reply_done(req, engine_container_stop(api->engine, http_param(req, "id"), timeout_of(req), err), err);
}

static int post_restart(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        return reply_done(req, engine_container_restart(api->engine, http_param(req, "id"), timeout_of(req), err),
                          err);
}

static int post_kill(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        return reply_done(req, engine_container_kill(api->engine, http_param(req, "id"), http_query(req, "signal"), err),
                          err);
}

static int post_pause(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        return reply_done(req, engine_container_pause(api->engine, http_param(req, "id"), true, err), err);
}

static int post_unpause(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        return reply_done(req, engine_container_pause(api->engine, http_param(req, "id"), false, err), err);
}

static bool cancelled(void *data)
{
        return http_request_cancelled(data);
}

/* Headers go out at once (the CLI waits for them before it starts the
 * container), the body when the condition holds. */
static int post_wait(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *cond = http_query(req, "condition");
        enum engine_wait w = cond && strcmp(cond, "next-exit") == 0 ? ENGINE_WAIT_NEXT_EXIT
                             : cond && strcmp(cond, "removed") == 0 ? ENGINE_WAIT_REMOVED
                                                                     : ENGINE_WAIT_NOT_RUNNING;
        _cleanup_free_ char *id = NULL;
        struct http_stream *s;
        int64_t code = 0;

        if (engine_container_id(api->engine, http_param(req, "id"), &id, err) < 0)
                return -1;
        if (http_reply_stream(req, 200, "application/json", &s) < 0)
                return 0;
        _cleanup_error_ berth_error_t *werr = NULL;
        if (engine_container_wait(api->engine, id, w, &code, cancelled, req, &werr) < 0)
                http_stream_json_lf(s, json_pack("{s:I, s:{s:s}}", "StatusCode", (json_int_t)-1, "Error", "Message",
                                                 werr->msg));
        else
                http_stream_json_lf(s, json_pack("{s:I}", "StatusCode", (json_int_t)code));
        http_stream_close(s);
        return 0;
}

/* ---- attach ----------------------------------------------------------- */

struct attach {
        struct api *api;
        const char *id;
        struct engine_attach_opts o;
        berth_error_t *err;
        bool ran;
};

static int attach_hijacked(struct http_hijack *h, void *data)
{
        struct attach *a = data;

        a->ran = true;
        return engine_container_attach(a->api->engine, a->id, h->fd, h->extra, h->extra_len, &a->o, &a->err);
}

static int post_attach(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        _cleanup_free_ char *id = NULL;
        bool tty;

        if (engine_container_id(api->engine, http_param(req, "id"), &id, err) < 0 ||
            engine_container_tty(api->engine, id, &tty, err) < 0)
                return -1;
        struct attach a = {
                .api = api,
                .id = id,
                .o = { .stdin_ = http_query_bool(req, "stdin"), .stdout_ = http_query_bool(req, "stdout"),
                       .stderr_ = http_query_bool(req, "stderr"), .logs = http_query_bool(req, "logs"),
                       .stream = http_query_bool(req, "stream") },
        };
        /* counted before the 101, after which the client may start the
         * container (engine.h) */
        a.o.reserved = a.o.stream;
        if (a.o.reserved)
                engine_container_attach_reserve(api->engine, id, true);
        http_reply_hijack(req, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream",
                          attach_hijacked, &a);
        if (a.o.reserved && !a.ran)
                engine_container_attach_reserve(api->engine, id, false);
        if (a.err)
                berth_debug("attach %.12s: %s", id, a.err->msg);
        berth_error_free(&a.err);
        return 0;
}

/* ---- logs ------------------------------------------------------------ */

static int write_stream(void *data, const void *buf, size_t len)
{
        return http_stream_write(data, buf, len);
}

static int64_t query_time(struct http_request *req, const char *name)
{
        const char *v = http_query(req, name);
        return v && *v ? (int64_t)atoll(v) : 0;
}

static int get_logs(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *tail = http_query(req, "tail");
        struct engine_logs_opts o = {
                .stdout_ = http_query_bool(req, "stdout"),
                .stderr_ = http_query_bool(req, "stderr"),
                .follow = http_query_bool(req, "follow"),
                .timestamps = http_query_bool(req, "timestamps"),
                .tail = tail && *tail && strcmp(tail, "all") != 0 ? atoll(tail) : -1,
                .since = query_time(req, "since"),
                .until = query_time(req, "until"),
        };
        _cleanup_free_ char *id = NULL;
        struct http_stream *s;
        bool tty;

        if (!o.stdout_ && !o.stderr_)
                return berth_fail(err, EINVAL, "Bad parameters: you must choose at least one stream");
        if (engine_container_id(api->engine, http_param(req, "id"), &id, err) < 0 ||
            engine_container_tty(api->engine, id, &tty, err) < 0 ||
            engine_container_logs_readable(api->engine, id, err) < 0)
                return -1;
        if (http_reply_stream(req, 200,
                              tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream",
                              &s) < 0)
                return 0;
        _cleanup_error_ berth_error_t *lerr = NULL;
        engine_container_logs(api->engine, id, &o, NULL, write_stream, s, &lerr);
        http_stream_close(s);
        return 0;
}

/* ---- list, inspect, top, resize, delete ---------------------------------- */

static int get_list(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *f = http_query(req, "filters");
        json_t *filters = NULL, *list = NULL;

        if (f && *f && (filters = json_loads(f, 0, NULL)) == NULL)
                return berth_fail(err, EINVAL, "invalid filter: %s", f);
        int r = engine_container_list(api->engine, http_query_bool(req, "all"), filters, &list, err);
        json_decref(filters);
        return r < 0 ? -1 : http_reply_json(req, 200, list);
}

static int get_inspect(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;

        if (engine_container_inspect(api->engine, http_param(req, "id"), &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int get_top(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;

        if (engine_container_top(api->engine, http_param(req, "id"), http_query(req, "ps_args"), &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int post_resize(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *h = http_query(req, "h"), *w = http_query(req, "w");

        if (engine_container_resize(api->engine, http_param(req, "id"), h ? atoi(h) : 0, w ? atoi(w) : 0, err) < 0)
                return -1;
        return http_reply_empty(req, 200);
}

static int delete_container(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;

        if (engine_container_remove(api->engine, http_param(req, "id"), http_query_bool(req, "force"),
                                    http_query_bool(req, "v"), err) < 0)
                return -1;
        return http_reply_empty(req, 204);
}

/* ---- rename, update, prune ------------------------------------------ */

static int post_rename(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;

        if (engine_container_rename(api->engine, http_param(req, "id"), http_query(req, "name"), err) < 0)
                return -1;
        return http_reply_empty(req, 204);
}

static int post_update(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *body = NULL, *warnings = NULL;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        if (body == NULL)
                body = json_object();
        int r = engine_container_update(api->engine, http_param(req, "id"), body, &warnings, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_json(req, 200, json_pack("{s:o}", "Warnings", warnings));
}

static int post_prune(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *f = http_query(req, "filters");
        json_t *filters = NULL, *out;

        if (f && *f && (filters = json_loads(f, 0, NULL)) == NULL)
                return berth_fail(err, EINVAL, "invalid filter: %s", f);
        int r = engine_container_prune(api->engine, filters, &out, err);
        json_decref(filters);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

/* ---- exec ----------------------------------------------------------- */

static int post_exec_create(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        _cleanup_free_ char *id = NULL;
        json_t *body = NULL;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        int r = engine_exec_create(api->engine, http_param(req, "id"), body, &id, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}

struct exec_start {
        struct api *api;
        const char *id;
        berth_error_t *err;
};

static int exec_hijacked(struct http_hijack *h, void *data)
{
        struct exec_start *x = data;
        return engine_exec_start(x->api->engine, x->id, h->fd, h->extra, h->extra_len, false, &x->err);
}

static int post_exec_start(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *body = NULL, *info = NULL;
        struct exec_start x = { .api = api, .id = http_param(req, "id") };

        if (http_body_json(req, &body, err) < 0)
                return -1;
        bool detach = json_is_true(json_object_get(body, "Detach"));
        json_decref(body);
        /* unknown exec: 404 before any upgrade */
        if (engine_exec_inspect(api->engine, x.id, &info, err) < 0)
                return -1;
        /* a terminal's output is raw, as dockerd says */
        bool tty = json_is_true(json_object_get(json_object_get(info, "ProcessConfig"), "tty"));
        json_decref(info);
        if (detach) {
                if (engine_exec_start(api->engine, x.id, -1, NULL, 0, true, err) < 0)
                        return -1;
                return http_reply_empty(req, 200);
        }
        http_reply_hijack(req, tty ? "application/vnd.docker.raw-stream" : "application/vnd.docker.multiplexed-stream",
                          exec_hijacked, &x);
        berth_error_free(&x.err);
        return 0;
}

static int get_exec_inspect(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;

        if (engine_exec_inspect(api->engine, http_param(req, "id"), &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int post_exec_resize(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *h = http_query(req, "h"), *w = http_query(req, "w");

        if (engine_exec_resize(api->engine, http_param(req, "id"), h ? atoi(h) : 0, w ? atoi(w) : 0, err) < 0)
                return -1;
        return http_reply_empty(req, 200);
}

/* ---- stats and events ----------------------------------------------- */

static int emit_json(void *data, json_t *j)
{
        return http_stream_json_lf(data, j);
}

static int get_stats(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *stream_q = http_query(req, "stream");
        bool stream = stream_q == NULL || http_query_bool(req, "stream");
        _cleanup_free_ char *id = NULL;
        struct http_stream *s;

        if (http_query_bool(req, "one-shot"))
                stream = false;
        if (engine_container_id(api->engine, http_param(req, "id"), &id, err) < 0)
                return -1;
        if (http_reply_stream(req, 200, "application/json", &s) < 0)
                return 0;
        _cleanup_error_ berth_error_t *serr = NULL;
        engine_container_stats(api->engine, id, stream, emit_json, s, &serr);
        http_stream_close(s);
        return 0;
}

/* filters={"type":{"container":true},"event":{"start":true},"container":{"x":true}} */
static bool filter_has(json_t *filters, const char *key, const char *value)
{
        json_t *f = json_object_get(filters, key);
        if (f == NULL)
                return true;
        if (json_is_object(f))
                return value && json_object_get(f, value) != NULL;
        size_t i;
        json_t *v;
        json_array_foreach(f, i, v) if (value && strcmp(json_string_value(v) ?: "", value) == 0) return true;
        return false;
}

static bool event_matches(json_t *ev, json_t *filters)
{
        json_t *actor = json_object_get(ev, "Actor");
        const char *id = json_string_value(json_object_get(actor, "ID"));
        const char *name = json_string_value(json_object_get(json_object_get(actor, "Attributes"), "name"));
        const char *type = json_string_value(json_object_get(ev, "Type"));

        if (!filter_has(filters, "type", type) || !filter_has(filters, "event", json_string_value(json_object_get(ev, "Action"))))
                return false;
        if (json_object_get(filters, "container") &&
            !(filter_has(filters, "container", id) || filter_has(filters, "container", name)))
                return false;
        return true;
}

static int get_events(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *f = http_query(req, "filters");
        const char *since_q = http_query(req, "since"), *until_q = http_query(req, "until");
        /* since=0 is the epoch (every event kept); no since: from now */
        int64_t since = since_q && *since_q ? atoll(since_q) : -1;
        int64_t until = until_q && *until_q ? atoll(until_q) : 0;
        json_t *filters = NULL;
        struct http_stream *s;
        uint64_t seq = 0;
        bool first = true;

        if (f && *f && (filters = json_loads(f, 0, NULL)) == NULL)
                return berth_fail(err, EINVAL, "invalid filter: %s", f);
        if (http_reply_stream(req, 200, "application/json", &s) < 0) {
                json_decref(filters);
                return 0;
        }
        for (;;) {
                json_t *batch = engine_events_next(api->engine, &seq, &first, since, 500);
                size_t i;
                json_t *ev;
                bool gone = false, done = false;
                json_array_foreach(batch, i, ev) {
                        int64_t t = json_integer_value(json_object_get(ev, "time"));
                        if (until && t > until) {
                                done = true;
                                break;
                        }
                        if (event_matches(ev, filters) && http_stream_json_lf(s, json_incref(ev)) < 0) {
                                gone = true;
                                break;
                        }
                }
                json_decref(batch);
                if (gone || done || http_request_cancelled(req) || (until && (int64_t)time(NULL) > until))
                        break;
        }
        json_decref(filters);
        http_stream_close(s);
        return 0;
}

/* ---- volumes ---------------------------------------------------------- */

static int post_volume_create(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *body = NULL, *out;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        if (body == NULL)
                body = json_object();
        int r = engine_volume_create(api->engine, body, &out, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_json(req, 201, out);
}

/* filters: driver, label, name, dangling (docker volume ls --filter). */
static int get_volumes(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *f = http_query(req, "filters");
        json_t *filters = NULL, *out;

        if (f && *f && !json_is_object(filters = json_loads(f, 0, NULL))) {
                json_decref(filters);
                return berth_fail(err, EINVAL, "invalid filter: %s", f);
        }
        int r = engine_volume_list_filtered(api->engine, filters, &out, err);
        json_decref(filters);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

static int get_volume(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;

        if (engine_volume_inspect(api->engine, http_param(req, "name"), &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int delete_volume(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;

        if (engine_volume_remove(api->engine, http_param(req, "name"), http_query_bool(req, "force"), err) < 0)
                return -1;
        return http_reply_empty(req, 204);
}

static int post_volume_prune(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *f = http_query(req, "filters");
        json_t *out;

        /* API 1.42+: named volumes only with filters all=true */
        bool all = f && strstr(f, "\"all\"") && (strstr(f, "true") || strstr(f, "\"1\""));
        if (engine_volume_prune(api->engine, all, &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

void api_routes_containers(struct api *api)
{
        struct http_server *h = api->http;

        http_route(h, "POST", "/containers/create", post_create, api);
        http_route(h, "GET", "/containers/json", get_list, api);
        http_route(h, "POST", "/containers/prune", post_prune, api);
        http_route(h, "GET", "/containers/{id}/json", get_inspect, api);
        http_route(h, "GET", "/containers/{id}/top", get_top, api);
        http_route(h, "GET", "/containers/{id}/logs", get_logs, api);
        http_route(h, "GET", "/containers/{id}/stats", get_stats, api);
        http_route(h, "GET", "/events", get_events, api);
        http_route(h, "POST", "/volumes/create", post_volume_create, api);
        http_route(h, "GET", "/volumes", get_volumes, api);
        http_route(h, "POST", "/volumes/prune", post_volume_prune, api);
        http_route(h, "GET", "/volumes/{name}", get_volume, api);
        http_route(h, "DELETE", "/volumes/{name}", delete_volume, api);
        http_route(h, "POST", "/containers/{id}/start", post_start, api);
        http_route(h, "POST", "/containers/{id}/stop", post_stop, api);
        http_route(h, "POST", "/containers/{id}/restart", post_restart, api);
        http_route(h, "POST", "/containers/{id}/kill", post_kill, api);
        http_route(h, "POST", "/containers/{id}/pause", post_pause, api);
        http_route(h, "POST", "/containers/{id}/unpause", post_unpause, api);
        http_route(h, "POST", "/containers/{id}/wait", post_wait, api);
        http_route(h, "POST", "/containers/{id}/attach", post_attach, api);
        http_route(h, "POST", "/containers/{id}/resize", post_resize, api);
        http_route(h, "POST", "/containers/{id}/rename", post_rename, api);
        http_route(h, "POST", "/containers/{id}/update", post_update, api);
        http_route(h, "DELETE", "/containers/{id}", delete_container, api);
        http_route(h, "POST", "/containers/{id}/exec", post_exec_create, api);
        http_route(h, "POST", "/exec/{id}/start", post_exec_start, api);
        http_route(h, "POST", "/exec/{id}/resize", post_exec_resize, api);
        http_route(h, "GET", "/exec/{id}/json", get_exec_inspect, api);
}
