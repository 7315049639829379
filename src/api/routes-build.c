/* POST /build: dockerd's legacy-builder protocol, which docker CLI 28
 * speaks without buildx (and with DOCKER_BUILDKIT=0): the context as a
 * tar body (chunked), options in the query, progress as JSON lines.
 *
 * The body is extracted as it arrives into a fresh directory under the
 * data root (<data-root>/builds/ctx-*, removed afterwards) by the layer
 * extractor (hostile tars: no path leads out), before any response is
 * written: the server sends nothing until the whole body is in.  Then
 * the stream opens and the builder runs.  With q=1 the progress is kept
 * and sent only with an error; a success sends just the image id, as
 * dockerd.  check=1 (berth build --check) lints the Dockerfile only. */
#include "api/http.h"
#include "api/routes.h"
#include "build/builder.h"
#include "engine/engine.h"
#include "image/layer.h"
#include "image/reference.h"
#include "util/base64.h"
#include "util/util.h"
#include <fcntl.h>
#include <stdint.h>

void api_routes_build(struct api *api);

#define MAX_TAGS 64

/* Go's encoder escapes <, > and & inside strings (the only place they
 * can be in our JSON): the bytes dockerd sends. */
static char *go_json(json_t *j)
{
        _cleanup_free_ char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
        struct strbuf out = { 0 };

        if (text == NULL)
                return NULL;
        for (const char *p = text; *p; p++) {
                if (*p == '<')
                        strbuf_adds(&out, "\\u003c");
                else if (*p == '>')
                        strbuf_adds(&out, "\\u003e");
                else if (*p == '&')
                        strbuf_adds(&out, "\\u0026");
                else
                        strbuf_add(&out, p, 1);
        }
        strbuf_adds(&out, "\r\n");
        return out.data;
}

struct progress {
        struct http_request *req;
        struct http_stream *s;
        bool quiet;
        struct strbuf kept;     /* quiet: what would have been sent */
};

static void emit(void *data, json_t *msg)
{
        struct progress *p = data;
        _cleanup_free_ char *line = go_json(msg);

        json_decref(msg);
        if (line == NULL)
                return;
        if (p->quiet)
                strbuf_adds(&p->kept, line);
        else
                http_stream_write(p->s, line, strlen(line));
}

static void send_json(struct progress *p, json_t *msg)
{
        _cleanup_free_ char *line = go_json(msg);

        json_decref(msg);
        if (line)
                http_stream_write(p->s, line, strlen(line));
}

static bool cancelled(void *data)
{
        struct progress *p = data;
        return http_request_cancelled(p->req);
}

/* The body for the extractor.  The docker CLI's context for a -f outside
 * it ends right after the last file's data, without its padding and the
 * end-of-archive blocks (Go's tar reader takes that as the end; libarchive
 * as a truncated file): a plain tar that ends off a block boundary gets
 * the zeros it lacks. */
struct body {
        struct http_request *req;
        uint64_t total;
        bool compressed;        /* not a plain tar: nothing is added */
        size_t pad;             /* zeros still to give at the end */
        bool ended;
};

static ssize_t body_read(void *cookie, void *buf, size_t len)
{
        struct body *b = cookie;
        ssize_t n;

        if (b->ended) {
                size_t k = MIN(len, b->pad);
                memset(buf, 0, k);
                b->pad -= k;
                return (ssize_t)k;
        }
        n = http_body_read(b->req, buf, len);
        if (n < 0) {
                errno = (int)-n;
                return -1;
        }
        if (b->total == 0 && n >= 2) {
                const unsigned char *m = buf;
                b->compressed = (m[0] == 0x1f && m[1] == 0x8b) || (m[0] == 0x28 && m[1] == 0xb5) ||
                                (m[0] == 'B' && m[1] == 'Z') || (m[0] == 0xfd && m[1] == '7');
        }
        b->total += (uint64_t)n;
        if (n == 0) {
                b->ended = true;
                if (!b->compressed && b->total % 512 != 0)
                        b->pad = 512 - b->total % 512 + 1024;
                return body_read(cookie, buf, len);
        }
        return n;
}

static void body_drain(struct http_request *req)
{
        char buf[8192];

        while (http_body_read(req, buf, sizeof(buf)) > 0)
                ;
}

/* A JSON object query parameter ({"K": "v"}); NULL when absent. */
static int json_param(struct http_request *req, const char *name, json_t **out, berth_error_t **err)
{
        const char *v = http_query(req, name);

        *out = NULL;
        if (v == NULL || *v == '\0')
                return 0;
        *out = json_loads(v, 0, NULL);
        if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return berth_fail(err, EINVAL, "invalid %s: not a JSON object", name);
        }
        return 0;
}

struct request {
        const char *tags[MAX_TAGS + 1];
        json_t *build_args, *labels, *auth;
        char *dir;
};

static int parse_request(struct http_request *req, struct request *r, struct builder_opts *o, berth_error_t **err)
{
        const char *remote = http_query(req, "remote"), *net = http_query(req, "networkmode");
        size_t n = http_query_all(req, "t", r->tags, MAX_TAGS);

        r->tags[n] = NULL;
        if (remote && *remote)
                return berth_fail(err, EINVAL, "remote build contexts are not supported: send the context as a tar");
        for (size_t i = 0; i < n; i++) {
                _cleanup_image_ref_ struct image_ref ref = { 0 };
                _cleanup_error_ berth_error_t *e = NULL;
                if (image_ref_parse(r->tags[i], &ref, &e) < 0 || ref.digest)
                        return berth_fail(err, EINVAL, "invalid reference format: %s", r->tags[i]);
        }
        if (json_param(req, "buildargs", &r->build_args, err) < 0 || json_param(req, "labels", &r->labels, err) < 0)
                return -1;
        /* X-Registry-Config: base64url of {"registry": AuthConfig}, the
         * client's credentials for FROM's pulls; one that does not decode
         * is ignored, as dockerd ignores it */
        const char *rc = http_header(req, "X-Registry-Config");
        size_t len = 0;
        _cleanup_free_ char *text = rc && *rc ? base64_decode(rc, &len) : NULL;
        if (text) {
                r->auth = json_loadb(text, len, 0, NULL);
                explicit_bzero(text, len);
        }
        if (net && *net && strcmp(net, "default") != 0 && strcmp(net, "none") != 0 && strcmp(net, "host") != 0)
                return berth_fail(err, EINVAL,
                                  "network mode \"%s\" is not supported by the builder yet: use none or host", net);
        o->tags = r->tags;
        o->build_args = r->build_args;
        o->registry_auth = r->auth;
        o->labels = r->labels;
        o->dockerfile = http_query(req, "dockerfile");
        o->target = http_query(req, "target");
        o->no_cache = http_query_bool(req, "nocache");
        o->pull = http_query_bool(req, "pull");
        o->check = http_query_bool(req, "check");
        o->network = net;
        o->source_date_epoch = json_string_value(json_object_get(r->build_args, "SOURCE_DATE_EPOCH"));
        return 0;
}

static int make_context(struct api *api, struct http_request *req, struct request *r, berth_error_t **err)
{
        const char *root = engine_options(api->engine)->data_root;
        _cleanup_free_ char *builds = xasprintf("%s/builds", root);
        char *dir = xasprintf("%s/ctx-XXXXXX", builds);
        struct layer_apply_opts lo = { .keep_ownership = true };

        if (mkdir_p(builds, 0700, err) < 0 || mkdtemp(dir) == NULL) {
                int e = errno;
                free(dir);
                return *err ? -1 : berth_error(err, e, "create a build context directory");
        }
        r->dir = dir;
        struct body body = { .req = req };
        if (layer_apply_read(body_read, &body, dir, &lo, NULL, err) < 0)
                return berth_error_wrap(err, "the build context");
        return 0;
}

/* The decoded credentials are wiped before they are freed. */
static void auth_free(json_t *auth)
{
        const char *reg, *k;
        json_t *a, *v;

        json_object_foreach(auth, reg, a)
                json_object_foreach(a, k, v)
                        if (json_is_string(v))
                                explicit_bzero((char *)json_string_value(v), json_string_length(v));
        json_decref(auth);
}

static int post_build(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        struct request r = { 0 };
        struct builder_opts o = { 0 };
        struct progress p = { .req = req, .quiet = http_query_bool(req, "q") };
        _cleanup_free_ char *id = NULL;
        _cleanup_error_ berth_error_t *berr = NULL;
        int code = 0, ret = 0;

        if (parse_request(req, &r, &o, err) < 0 || make_context(api, req, &r, err) < 0) {
                body_drain(req);
                ret = -1;
                goto out;
        }
        body_drain(req);
        o.context = r.dir;
        o.cancelled = cancelled;
        o.cancel_data = &p;
        if (http_reply_stream(req, 200, "application/json", &p.s) < 0)
                goto out;
        int b = builder_build(api->engine, &o, emit, &p, &id, &code, &berr);
        if (b == 0 && p.quiet && id == NULL) {
                if (p.kept.len)
                        http_stream_write(p.s, p.kept.data, p.kept.len);
        } else if (b == 0 && p.quiet) {
                send_json(&p, json_pack("{s:s+}", "stream", id, "\n"));
        } else if (b < 0) {
                const char *msg = berr && berr->msg ? berr->msg : "build failed";
                if (p.quiet && p.kept.len)
                        http_stream_write(p.s, p.kept.data, p.kept.len);
                json_t *detail = code ? json_pack("{s:i, s:s}", "code", code, "message", msg)
                                      : json_pack("{s:s}", "message", msg);
                send_json(&p, json_pack("{s:o, s:s}", "errorDetail", detail, "error", msg));
        }
        http_stream_close(p.s);
out:
        if (r.dir)
                remove_tree_at(AT_FDCWD, r.dir);
        free(r.dir);
        free(p.kept.data);
        json_decref(r.build_args);
        json_decref(r.labels);
        auth_free(r.auth);
        return ret;
}

void api_routes_build(struct api *api)
{
        http_route_flags(api->http, "POST", "/build", HTTP_ROUTE_STREAM_BODY, post_build, api);
}
