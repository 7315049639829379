/* /images/...: pull (and import), list, inspect, tag, delete, history,
 * push, save (get), load and prune, over the image store.  Progress of
 * pull and push streams as dockerd's JSON lines. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
#include "image/image.h"
#include "image/reference.h"
#include "image/registry.h"
#include "util/log.h"
#include "util/base64.h"
#include "util/util.h"
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <unistd.h>

/* ---- progress as dockerd streams it ------------------------------------ */

/* "[=====>      ]  1.2MB/3.4MB": the bar docker draws from "progress". */
static char *progress_bar(int64_t cur, int64_t total)
{
        char bar[52];
        int width = 50, filled = total > 0 ? (int)(cur * width / total) : 0;

        if (filled > width)
                filled = width;
        memset(bar, '=', (size_t)filled);
        bar[filled] = '>';
        memset(bar + filled + 1, ' ', (size_t)(width - filled));
        bar[width + 1] = '\0';
        return xasprintf("[%s] %7.2fMB/%.2fMB", bar, (double)cur / 1e6, (double)total / 1e6);
}

static void stream_progress(void *data, const struct image_progress *p)
{
        struct http_stream *s = data;
        json_t *j = json_pack("{s:s}", "status", p->status);

        if (p->id)
                json_object_set_new(j, "id", json_string(p->id));
        if (p->current >= 0 && p->total > 0) {
                _cleanup_free_ char *bar = progress_bar(p->current, p->total);
                json_object_set_new(j, "progressDetail",
                                    json_pack("{s:I, s:I}", "current", (json_int_t)p->current, "total",
                                              (json_int_t)p->total));
                json_object_set_new(j, "progress", json_string(bar));
        } else if (p->id) {
                json_object_set_new(j, "progressDetail", json_object());
        }
        http_stream_json(s, j);
}

/* Errors after the headers went out travel inside the stream. */
static void stream_error(struct http_stream *s, const berth_error_t *err)
{
        const char *msg = err && err->msg ? err->msg : "failed";
        http_stream_json(s, json_pack("{s:{s:s}, s:s}", "errorDetail", "message", msg, "error", msg));
}

static void registry_opts(struct api *api, struct image_registry_opts *o)
{
        const struct engine_opts *eo = engine_options(api->engine);

        o->auth_config = eo->auth_config;
        o->insecure = eo->insecure_registries;
}

/* ---- X-Registry-Auth ----------------------------------------------------- */

/* The credentials of one request: owned copies, wiped when done. */
struct request_auth {
        char *user, *pass;
};

static void request_auth_clear(struct request_auth *a)
{
        if (a->pass)
                explicit_bzero(a->pass, strlen(a->pass));
        free(a->user);
        free(a->pass);
        a->user = a->pass = NULL;
}

static char *dup_nonempty(json_t *o, const char *key)
{
        const char *v = json_string_value(json_object_get(o, key));
        return v && *v ? xstrdup(v) : NULL;
}

/* AuthConfig's fields by preference: a registry token, an identity token
 * (both passed on as registry.h's token user names), a user and password,
 * or "auth" (base64 of user:password, as in config.json). */
static void request_auth_from_json(json_t *j, struct request_auth *a)
{
        const char *kinds[][2] = { { "registrytoken", REGISTRY_USER_REGISTRY_TOKEN },
                                   { "identitytoken", REGISTRY_USER_IDENTITY_TOKEN } };
        size_t len;

        for (size_t i = 0; i < ARRAY_SIZE(kinds); i++)
                if ((a->pass = dup_nonempty(j, kinds[i][0])) != NULL) {
                        a->user = xstrdup(kinds[i][1]);
                        return;
                }
        if ((a->user = dup_nonempty(j, "username")) != NULL) {
                a->pass = dup_nonempty(j, "password");
                if (a->pass == NULL)
                        a->pass = xstrdup("");
                return;
        }
        const char *enc = json_string_value(json_object_get(j, "auth"));
        _cleanup_free_ char *up = enc && *enc ? base64_decode(enc, &len) : NULL;
        char *colon = up ? strchr(up, ':') : NULL;
        if (colon) {
                a->user = strndup(up, (size_t)(colon - up));
                a->pass = xstrdup(colon + 1);
                explicit_bzero(up, len);
        }
}

/* X-Registry-Auth: base64url of Docker's AuthConfig JSON.  Absent, "e30="
 * ({}) or without credentials: o keeps the daemon's config file.  A
 * header that does not decode is EINVAL. */
static int request_auth_parse(struct http_request *req, struct request_auth *a, struct image_registry_opts *o,
                              berth_error_t **err)
{
        const char *h = http_header(req, "X-Registry-Auth");
        size_t len = 0;

        if (h == NULL || *h == '\0')
                return 0;
        _cleanup_free_ char *text = base64_decode(h, &len);
        json_t *j = text ? json_loadb(text, len, 0, NULL) : NULL;
        if (text)
                explicit_bzero(text, len);
        if (!json_is_object(j)) {
                json_decref(j);
                return berth_fail(err, EINVAL, "invalid X-Registry-Auth header: not base64url of a JSON object");
        }
        request_auth_from_json(j, a);
        /* the decoded secrets live in a's copies only */
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
                if (json_is_string(v))
                        explicit_bzero((char *)json_string_value(v), json_string_length(v));
        }
        json_decref(j);
        if (a->user) {
                o->username = a->user;
                o->password = a->pass;
        }
        return 0;
}

/* ---- spool files ----------------------------------------------------------
 *
 * The image store is used under one lock, so nothing that waits for a
 * client may run under it: an upload (load, import) may be the output of
 * a save on this very daemon (docker save | docker load), and a client
 * reading a save may be slow or stalled.  Uploads are read into a spool
 * file before the lock is taken, and a save is written to one under the
 * lock and sent from it after. */

#define SPOOL_BUF (128 * 1024)

/* An anonymous file under the data root, not in /tmp (often a small
 * tmpfs); O_TMPFILE, so a berthd that dies leaves nothing behind. */
static int spool_open(struct api *api, int *out, berth_error_t **err)
{
        const char *root = engine_options(api->engine)->data_root;
        int fd = open(root, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

        if (fd < 0 && (errno == EOPNOTSUPP || errno == EISDIR)) {
                /* a filesystem without O_TMPFILE: a named file, unlinked at once */
                _cleanup_free_ char *path = xasprintf("%s/.spool-XXXXXX", root);
                fd = mkostemp(path, O_CLOEXEC);
                if (fd >= 0)
                        unlink(path);
        }
        if (fd < 0)
                return berth_error(err, errno, "create a spool file in %s", root);
        *out = fd;
        return 0;
}

static int spool_rewind(int fd, berth_error_t **err)
{
        if (lseek(fd, 0, SEEK_SET) < 0)
                return berth_error(err, errno, "rewind the spool file");
        return 0;
}

/* The whole request body into a spool file, rewound for reading. */
static int spool_body(struct api *api, struct http_request *req, int *out, berth_error_t **err)
{
        _cleanup_free_ char *buf = xmalloc(SPOOL_BUF);
        _cleanup_close_ int fd = -1;
        ssize_t n;

        if (spool_open(api, &fd, err) < 0)
                return -1;
        while ((n = http_body_read(req, buf, SPOOL_BUF)) > 0)
                if (write_all(fd, buf, (size_t)n) < 0)
                        return berth_error(err, errno, "spool the request body");
        /* a client that left halfway: nothing half-read reaches the store */
        if (n < 0)
                return berth_error(err, (int)-n, "read the request body");
        if (spool_rewind(fd, err) < 0)
                return -1;
        *out = steal_fd(&fd);
        return 0;
}

/* Send the spool file as the stream's body; false once the client left. */
static bool spool_send(int fd, struct http_stream *s)
{
        _cleanup_free_ char *buf = xmalloc(SPOOL_BUF);
        ssize_t n;

        while ((n = read(fd, buf, SPOOL_BUF)) > 0 || (n < 0 && errno == EINTR))
                if (n > 0 && http_stream_write(s, buf, (size_t)n) < 0)
                        return false;
        return n == 0;
}

/* ---- pull and import ------------------------------------------------------ */

static char *pull_reference(const char *from, const char *tag)
{
        /* fromImage=busybox&tag=latest, or a digest in tag */
        if (tag == NULL || *tag == '\0')
                return xstrdup(from);
        return xasprintf("%s%s%s", from, str_has_prefix(tag, "sha256:") ? "@" : ":", tag);
}

/* The stream opens with the first progress line: a pull that fails
 * before (no such image, no access) answers with an HTTP error, as
 * dockerd, which the CLI prints as "Error response from daemon". */
struct lazy_stream {
        struct http_request *req;
        struct http_stream *s;
        bool failed;
};

static void lazy_progress(void *data, const struct image_progress *p)
{
        struct lazy_stream *l = data;

        if (l->s == NULL && !l->failed && http_reply_stream(l->req, 200, "application/json", &l->s) < 0)
                l->failed = true;
        if (l->s)
                stream_progress(l->s, p);
}

static int do_pull(struct api *api, struct http_request *req, const char *ref)
{
        struct lazy_stream l = { .req = req };
        struct image_pull_opts o = { .platform = http_query(req, "platform"), .progress = lazy_progress,
                                     .progress_data = &l };
        _cleanup_error_ berth_error_t *err = NULL;
        struct request_auth auth = { 0 };

        if (o.platform && *o.platform == '\0')
                o.platform = NULL;
        registry_opts(api, &o.reg);
        /* dockerd ignores a pull's bad header, for old clients' sake */
        if (request_auth_parse(req, &auth, &o.reg, &err) < 0) {
                berth_debug("pull %s: %s", ref, err->msg);
                berth_error_free(&err);
        }
        struct image_store *store = engine_images_lock(api->engine);
        int r = image_pull(store, ref, &o, NULL, &err);
        engine_images_unlock(api->engine);
        request_auth_clear(&auth);
        if (r < 0 && l.s == NULL && !l.failed) {
                if (err->status == ENOENT)
                        return http_reply_error(req, 404, "manifest for %s not found: manifest unknown", ref);
                return http_reply_berror(req, err);
        }
        if (r == 0)
                engine_event(api->engine, "image", "pull", ref, json_pack("{s:s}", "name", ref));
        if (r < 0 && l.s)
                stream_error(l.s, err);
        if (l.s)
                http_stream_close(l.s);
        return 0;
}

/* docker import: the body is the tar (fromSrc=-), spooled before the
 * store is locked (the tar may come from this daemon). */
static int do_import(struct api *api, struct http_request *req, berth_error_t **err)
{
        const char *repo = http_query(req, "repo"), *tag = http_query(req, "tag");
        _cleanup_free_ char *ref = repo && *repo ? pull_reference(repo, tag) : NULL;
        _cleanup_free_ char *id = NULL;
        _cleanup_close_ int fd = -1;
        const char *changes[65] = { NULL };
        http_query_all(req, "changes", changes, 64);
        struct http_stream *s;

        if (strcmp(http_query(req, "fromSrc"), "-") != 0)
                return berth_fail(err, EINVAL, "import from a URL is not supported: use fromSrc=-");
        if (spool_body(api, req, &fd, err) < 0)
                return -1;
        struct image_store *store = engine_images_lock(api->engine);
        int r = image_import_tar(store, fd, ref, changes[0] ? changes : NULL,
                                 http_query(req, "message"), &id, err);
        engine_images_unlock(api->engine);
        if (r < 0)
                return -1;
        if (http_reply_stream(req, 200, "application/json", &s) < 0)
                return 0;
        http_stream_json(s, json_pack("{s:s}", "status", id));
        http_stream_close(s);
        return 0;
}

static int post_create(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *from = http_query(req, "fromImage");

        if (from && *from) {
                _cleanup_free_ char *ref = pull_reference(from, http_query(req, "tag"));
                return do_pull(api, req, ref);
        }
        if (http_query(req, "fromSrc"))
                return do_import(api, req, err);
        return berth_fail(err, EINVAL, "fromImage or fromSrc is required");
}

/* ---- list, inspect, history ------------------------------------------------ */

int api_image_list(struct api *api, json_t **out, berth_error_t **err)
{
        struct image_store *s = engine_images_lock(api->engine);
        int r = image_list(s, false, out, err);

        engine_images_unlock(api->engine);
        return r;
}

/* filters={"reference":{"busybox":true}} (or ["busybox"]): dockerd keeps
 * the images with a tag whose familiar name matches one of the patterns
 * (path.Match, against "repo" when the pattern has no tag, else
 * "repo:tag"), and shows only the matching tags. */
static bool reference_match(const char *pattern, const char *tag)
{
        _cleanup_free_ char *repo = xstrdup(tag);
        char *colon = strrchr(repo, ':');
        bool pattern_has_tag = strrchr(pattern, ':') && strrchr(pattern, ':') > strrchr(pattern, '/');

        if (colon && colon > strrchr(repo, '/'))
                *colon = '\0';
        return fnmatch(pattern, pattern_has_tag ? tag : repo, FNM_PATHNAME) == 0;
}

static json_t *filter_references(json_t *list, json_t *patterns)
{
        json_t *out = json_array(), *img, *v;
        size_t i, k;

        json_array_foreach(list, i, img) {
                json_t *kept = json_array(), *tag;
                json_array_foreach(json_object_get(img, "RepoTags"), k, tag) {
                        const char *key;
                        bool any = false;
                        if (json_is_object(patterns)) {
                                json_object_foreach(patterns, key, v) any |= reference_match(key, json_string_value(tag));
                        } else {
                                size_t n;
                                json_array_foreach(patterns, n, v) any |= reference_match(json_string_value(v),
                                                                                          json_string_value(tag));
                        }
                        if (any)
                                json_array_append(kept, tag);
                }
                if (json_array_size(kept) > 0) {
                        json_object_set(img, "RepoTags", kept);
                        json_array_append(out, img);
                }
                json_decref(kept);
        }
        json_decref(list);
        return out;
}

/* As dockerd without -a: an untagged image that a build step was made on
 * (the legacy builder's intermediates, kept as its cache) is not listed. */
static json_t *drop_intermediates(struct api *api, json_t *list)
{
        json_t *out = json_array(), *img;
        size_t i;

        json_array_foreach(list, i, img) {
                json_t *tags = json_object_get(img, "RepoTags");
                const char *id = json_string_value(json_object_get(img, "Id"));
                bool untagged = json_array_size(tags) == 0 ||
                                (json_array_size(tags) == 1 &&
                                 strcmp(json_string_value(json_array_get(tags, 0)) ?: "", "<none>:<none>") == 0);
                if (!(untagged && id && engine_build_cache_is_parent(api->engine, id)))
                        json_array_append(out, img);
        }
        json_decref(list);
        return out;
}

static int get_list(struct http_request *req, void *data, berth_error_t **err)
{
        const char *f = http_query(req, "filters");
        json_t *list, *filters = NULL;

        if (f && *f && (filters = json_loads(f, 0, NULL)) == NULL)
                return berth_fail(err, EINVAL, "invalid filter: %s", f);
        if (api_image_list(data, &list, err) < 0) {
                json_decref(filters);
                return -1;
        }
        if (json_object_get(filters, "reference"))
                list = filter_references(list, json_object_get(filters, "reference"));
        json_decref(filters);
        if (!http_query_bool(req, "all"))
                list = drop_intermediates(data, list);
        return http_reply_json(req, 200, list);
}

static int get_inspect(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;
        struct image_store *s = engine_images_lock(api->engine);
        int r = image_inspect(s, http_param(req, "name"), &out, err);

        engine_images_unlock(api->engine);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

static int get_history(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;
        struct image_store *s = engine_images_lock(api->engine);
        int r = image_history(s, http_param(req, "name"), &out, err);

        engine_images_unlock(api->engine);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

/* ---- tag, delete, prune ------------------------------------------------ */

static int post_tag(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *repo = http_query(req, "repo"), *tag = http_query(req, "tag");
        _cleanup_free_ char *dst = NULL;

        if (repo == NULL || *repo == '\0')
                return berth_fail(err, EINVAL, "repository name must have at least one component");
        dst = xasprintf("%s:%s", repo, tag && *tag ? tag : "latest");
        struct image_store *s = engine_images_lock(api->engine);
        int r = image_tag(s, http_param(req, "name"), dst, err);
        engine_images_unlock(api->engine);
        if (r == 0)
                engine_event(api->engine, "image", "tag", http_param(req, "name"), json_pack("{s:s}", "name", dst));
        return r < 0 ? -1 : http_reply_empty(req, 201);
}

static void told(void *data, const char *what, const char *name)
{
        json_array_append_new(data, json_pack("{s:s}", what, name));
}

static int delete_image(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out = json_array();
        struct image_store *s = engine_images_lock(api->engine);
        int r = image_remove(s, http_param(req, "name"), http_query_bool(req, "force"), told, out, err);

        engine_images_unlock(api->engine);
        if (r < 0) {
                json_decref(out);
                return -1;
        }
        size_t i;
        json_t *item;
        json_array_foreach(out, i, item) {
                const char *untagged = json_string_value(json_object_get(item, "Untagged"));
                const char *deleted = json_string_value(json_object_get(item, "Deleted"));
                engine_event(api->engine, "image", untagged ? "untag" : "delete", untagged ? untagged : deleted,
                             json_pack("{s:s}", "name", untagged ? untagged : deleted));
        }
        return http_reply_json(req, 200, out);
}

static int post_prune(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;
        /* filters={"dangling":["false"]} is docker image prune -a */
        const char *filters = http_query(req, "filters");
        bool all = filters && strstr(filters, "\"dangling\"") && strstr(filters, "false");
        struct image_store *s = engine_images_lock(api->engine);
        int r = image_prune(s, all, &out, err);

        engine_images_unlock(api->engine);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

/* ---- push ------------------------------------------------------------ */

static int post_push(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *name = http_param(req, "name"), *tag = http_query(req, "tag");
        _cleanup_free_ char *ref = tag && *tag ? xasprintf("%s:%s", name, tag) : xstrdup(name);
        struct image_push_opts o = { .progress = stream_progress };
        _cleanup_error_ berth_error_t *perr = NULL;
        struct request_auth auth = { 0 };
        struct http_stream *s;

        registry_opts(api, &o.reg);
        if (request_auth_parse(req, &auth, &o.reg, err) < 0)
                return berth_error_wrap(err, "bad parameters and missing X-Registry-Auth");
        if (http_reply_stream(req, 200, "application/json", &s) < 0) {
                request_auth_clear(&auth);
                return 0;
        }
        o.progress_data = s;
        _cleanup_image_ref_ struct image_ref parsed = { 0 };
        if (image_ref_parse(ref, &parsed, NULL) == 0) {
                _cleanup_free_ char *repo = image_ref_name(&parsed);
                _cleanup_free_ char *line = xasprintf("The push refers to repository [%s]", repo);
                http_stream_json(s, json_pack("{s:s}", "status", line));
        }
        struct image_store *store = engine_images_lock(api->engine);
        int r = image_push(store, ref, NULL, &o, NULL, &perr);
        engine_images_unlock(api->engine);
        request_auth_clear(&auth);
        if (r < 0)
                stream_error(s, perr);
        http_stream_close(s);
        return 0;
}

/* ---- save and load ------------------------------------------------------ */

/* docker save: the archive is made under the lock into a spool file and
 * sent after, so a client that reads slowly (or a load of the same
 * stream waiting on it) never holds the store up; and an error (no such
 * image) is still an HTTP error, since no header has gone out. */
static int get_save(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        const char *names[65] = { 0 };
        _cleanup_close_ int fd = -1;
        struct http_stream *s;

        if (http_query_all(req, "names", names, 64) == 0 || *names[0] == '\0')
                return berth_fail(err, EINVAL, "no image names given");
        if (spool_open(api, &fd, err) < 0)
                return -1;
        struct image_store *store = engine_images_lock(api->engine);
        int r = image_save(store, names, fd, err);
        engine_images_unlock(api->engine);
        if (r < 0 || spool_rewind(fd, err) < 0)
                return -1;
        if (http_reply_stream(req, 200, "application/x-tar", &s) < 0)
                return 0;
        if (!spool_send(fd, s))
                berth_debug("save: the client went away");
        http_stream_close(s);
        return 0;
}

static void loaded(void *data, const char *what, const char *name)
{
        struct http_stream *s = data;
        _cleanup_free_ char *line = xasprintf("%s: %s\n", what, name);
        http_stream_json(s, json_pack("{s:s}", "stream", line));
}

/* docker load: the archive is spooled before the store is locked, since
 * it may be the output of a save this daemon is serving, which needs the
 * lock (docker save | docker load). */
static int post_load(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        _cleanup_error_ berth_error_t *lerr = NULL;
        _cleanup_close_ int fd = -1;
        struct http_stream *s;

        if (spool_body(api, req, &fd, err) < 0)
                return -1;
        json_t *lines = json_array();
        struct image_store *store = engine_images_lock(api->engine);
        int r = image_load(store, fd, told, lines, &lerr);
        engine_images_unlock(api->engine);
        if (http_reply_stream(req, 200, "application/json", &s) < 0) {
                json_decref(lines);
                return 0;
        }
        size_t i;
        json_t *l;
        json_array_foreach(lines, i, l) {
                const char *k = json_object_iter_key(json_object_iter(l));
                loaded(s, k, json_string_value(json_object_iter_value(json_object_iter(l))));
        }
        json_decref(lines);
        if (r < 0)
                stream_error(s, lerr);
        http_stream_close(s);
        return 0;
}

void api_routes_images(struct api *api)
{
        struct http_server *h = api->http;

        http_route_flags(h, "POST", "/images/create", HTTP_ROUTE_STREAM_BODY, post_create, api);
        http_route(h, "GET", "/images/json", get_list, api);
        http_route(h, "GET", "/images/get", get_save, api);
        http_route_flags(h, "POST", "/images/load", HTTP_ROUTE_STREAM_BODY, post_load, api);
        http_route(h, "POST", "/images/prune", post_prune, api);
        http_route(h, "GET", "/images/{name*}/json", get_inspect, api);
        http_route(h, "GET", "/images/{name*}/history", get_history, api);
        http_route(h, "POST", "/images/{name*}/tag", post_tag, api);
        http_route(h, "POST", "/images/{name*}/push", post_push, api);
        http_route(h, "DELETE", "/images/{name*}", delete_image, api);
}
