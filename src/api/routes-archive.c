/* docker cp (HEAD, GET and PUT /containers/{id}/archive), docker export
 * (GET /containers/{id}/export) and docker commit (POST /commit). */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
#include "util/base64.h"
#include "util/util.h"

/* X-Docker-Container-Path-Stat: the stat as base64 (Go's StdEncoding,
 * padded) of its compact JSON, which the CLI decides with before it
 * reads a byte of the tar. */
static void stat_header(struct http_request *req, json_t *stat)
{
        _cleanup_free_ char *text = json_dumps(stat, JSON_COMPACT);
        _cleanup_free_ char *b64 = base64_encode(text ? text : "", text ? strlen(text) : 0, false);

        http_reply_header(req, "X-Docker-Container-Path-Stat", b64);
}

static int head_archive(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *stat = NULL;

        if (engine_archive_stat(api->engine, http_param(req, "id"), http_query(req, "path"), &stat, err) < 0)
                return -1;
        stat_header(req, stat);
        json_decref(stat);
        return http_reply_empty(req, 200);
}

/* A tar going out as the response: the headers when the engine has found
 * what to send, then the bytes. */
struct tar_reply {
        struct http_request *req;
        struct http_stream *s;
};

static int tar_begin(void *data, json_t *stat)
{
        struct tar_reply *t = data;

        if (stat) {
                stat_header(t->req, stat);
                json_decref(stat);
        }
        return http_reply_stream(t->req, 200, "application/x-tar", &t->s) < 0 ? -1 : 0;
}

static int tar_write(void *data, const void *buf, size_t len)
{
        struct tar_reply *t = data;
        return http_stream_write(t->s, buf, len);
}

/* Errors before the stream began are the reply; after, the stream just
 * ends (short of the tar's end marker, which tells the client). */
static int tar_done(struct tar_reply *t, int r)
{
        if (t->s == NULL)
                return r;
        http_stream_close(t->s);
        return 0;
}

static int get_archive(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        struct tar_reply t = { .req = req };
        int r = engine_archive_get(api->engine, http_param(req, "id"), http_query(req, "path"), tar_begin, tar_write,
                                   &t, err);
        return tar_done(&t, r);
}

static int get_export(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        struct tar_reply t = { .req = req };
        int r = engine_container_export(api->engine, http_param(req, "id"), tar_begin, tar_write, &t, err);
        return tar_done(&t, r);
}

static ssize_t body_read(void *data, void *buf, size_t len)
{
        return http_body_read(data, buf, len);
}

static int put_archive(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        struct engine_extract_opts o = {
                .no_overwrite_dir_non_dir = http_query_bool(req, "noOverwriteDirNonDir"),
                .copy_uid_gid = http_query_bool(req, "copyUIDGID"),
        };

        if (engine_archive_put(api->engine, http_param(req, "id"), http_query(req, "path"), &o, body_read, req,
                               err) < 0)
                return -1;
        return http_reply_empty(req, 200);
}

/* dockerd pauses unless told pause=0 (API 1.13 on): absent or "" is true. */
static bool pause_of(struct http_request *req)
{
        const char *p = http_query(req, "pause");
        return p == NULL || *p == '\0' || http_query_bool(req, "pause");
}

static const char *query_or_null(struct http_request *req, const char *name)
{
        const char *v = http_query(req, name);
        return v && *v ? v : NULL;
}

static int post_commit(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *changes[65] = { NULL };
        _cleanup_free_ char *id = NULL;
        json_t *config = NULL;
        int r;

        http_query_all(req, "changes", changes, 64);
        if (http_body_json(req, &config, err) < 0)
                return -1;
        struct engine_commit_opts o = {
                .repo = query_or_null(req, "repo"),
                .tag = query_or_null(req, "tag"),
                .comment = query_or_null(req, "comment"),
                .author = query_or_null(req, "author"),
                .changes = changes[0] ? changes : NULL,
                .config = json_is_object(config) ? config : NULL,
                .pause = pause_of(req),
        };
        const char *ctr = http_query(req, "container");
        r = engine_container_commit(api->engine, ctr ? ctr : "", &o, &id, err);
        json_decref(config);
        if (r < 0)
                return -1;
        return http_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}

void api_routes_archive(struct api *api)
{
        struct http_server *h = api->http;

        http_route(h, "HEAD", "/containers/{id}/archive", head_archive, api);
        http_route(h, "GET", "/containers/{id}/archive", get_archive, api);
        http_route_flags(h, "PUT", "/containers/{id}/archive", HTTP_ROUTE_STREAM_BODY, put_archive, api);
        http_route(h, "GET", "/containers/{id}/export", get_export, api);
        http_route(h, "POST", "/commit", post_commit, api);
}
