/* Registry client, push side: blob uploads (monolithic or chunked, with
 * cross-repository mounts) and manifest PUTs.  See registry.h. */
#include "image/digest.h"
#include "image/registry-private.h"
#include "image/registry.h"
#include "image/store.h"
#include "util/util.h"

#include <ctype.h>
#include <sys/stat.h>

#define OCTET_STREAM "Content-Type: application/octet-stream"

/* ---- upload URLs ---------------------------------------------------------- */

/* scheme://host:port of u (default port filled in), lowercased host. */
static char *origin_of(CURLU *u)
{
        char *scheme = NULL, *host = NULL, *port = NULL, *r = NULL;

        if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
            curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
                for (char *p = host; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                r = xasprintf("%s://%s:%s", scheme, host, port);
        }
        curl_free(scheme);
        curl_free(host);
        curl_free(port);
        return r;
}

static char *origin_of_url(const char *url)
{
        CURLU *u = curl_url();
        char *r = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK ? origin_of(u) : NULL;
        curl_url_cleanup(u);
        return r;
}

/* Resolve a Location header against the URL that returned it (it may be
 * absolute or relative) and append query (already escaped, or NULL) to the
 * query it has: the registry keeps its upload state there (_state=...).
 * *foreign says the result is not on our registry: no credentials go there. */
static int resolve_location(struct registry_client *c, const char *from, const char *loc, const char *query,
                            char **out, bool *foreign, berth_error_t **err)
{
        CURLU *u = curl_url();
        char *url = NULL, *scheme = NULL;
        int r = 0;

        if (u == NULL)
                return berth_error(err, ENOMEM, "registry %s: upload location", c->host);
        if (curl_url_set(u, CURLUPART_URL, from, 0) != CURLUE_OK ||
            curl_url_set(u, CURLUPART_URL, loc, 0) != CURLUE_OK ||
            (query && curl_url_set(u, CURLUPART_QUERY, query, CURLU_APPENDQUERY) != CURLUE_OK) ||
            curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
            (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0) ||
            curl_url_get(u, CURLUPART_URL, &url, 0) != CURLUE_OK) {
                _cleanup_free_ char *q = quote(loc);
                r = berth_error(err, EPROTO, "registry %s: unusable upload location %s", c->host, q);
        } else {
                _cleanup_free_ char *mine = origin_of_url(c->base);
                _cleanup_free_ char *theirs = origin_of(u);
                *foreign = mine == NULL || theirs == NULL || strcmp(mine, theirs) != 0;
                *out = xstrdup(url);
        }
        curl_free(url);
        curl_free(scheme);
        curl_url_cleanup(u);
        return r;
}

/* One upload session: where the next request goes. */
struct session {
        struct registry_client *c;
        const char *repo, *digest;
        char *what;
        char *scope;            /* repository:<repo>:pull,push */
        char *url;              /* the current upload URL */
        bool foreign;           /* url is off our registry */
        int fd;                 /* the blob in the content store */
        int64_t size;
        const struct registry_push_opts *opts;
};

/* Follow the Location of answer x (required on upload answers). */
static int session_follow(struct session *s, struct xfer *x, char **out, bool *foreign, berth_error_t **err)
{
        if (x->location == NULL || *x->location == '\0')
                return berth_error(err, EPROTO, "registry %s: %s: HTTP %ld without a Location", s->c->host,
                                   s->what, x->status);
        return resolve_location(s->c, x->url, x->location, NULL, out, foreign, err);
}

static void session_xfer(struct session *s, struct xfer *x, const char *method, char *url)
{
        *x = (struct xfer){ .method = method, .url = url, .what = s->what, .scope = s->scope, .no_auth = s->foreign,
                            .c = s->c };
        x->errbody.max = ERRBODY_MAX;
}

/* ---- the steps of an upload ----------------------------------------------- */

/* POST .../blobs/uploads/ (with ?mount=&from= when mount_from): 1 when
 * mounted, 0 with s->url set to the session's Location. */
static int session_start(struct session *s, const char *mount_from, berth_error_t **err)
{
        struct registry_client *c = s->c;
        _cleanup_free_ char *scope = NULL;
        struct xfer x;
        char *url;

        s->foreign = false; /* a session starts on our registry */
        if (mount_from) {
                char *d = curl_easy_escape(c->curl, s->digest, 0), *f = curl_easy_escape(c->curl, mount_from, 0);
                url = xasprintf("%s/v2/%s/blobs/uploads/?mount=%s&from=%s", c->base, s->repo, d, f);
                curl_free(d);
                curl_free(f);
                scope = xasprintf("%s repository:%s:pull", s->scope, mount_from);
        } else {
                url = xasprintf("%s/v2/%s/blobs/uploads/", c->base, s->repo);
        }
        session_xfer(s, &x, "POST", url);
        if (scope)
                x.scope = scope;
        int r = registry_perform(&x, err);
        if (r < 0)
                r = -1;
        else if (x.status == 201 && mount_from)
                r = 1;
        else if (x.status != 202)
                r = registry_status_error(&x, err);
        else
                r = session_follow(s, &x, &s->url, &s->foreign, err);
        registry_xfer_clear(&x);
        return r;
}

/* Make the bytes [off, off + len) of the blob x's body. */
static void session_send(struct session *s, struct xfer *x, int64_t off, int64_t len, struct upload *up)
{
        *up = (struct upload){ .fd = s->fd, .off = off, .len = len, .progress = s->opts->progress,
                               .progress_data = s->opts->progress_data, .digest = s->digest, .base = off,
                               .total = s->size };
        x->up = up;
        x->no_retry = len > 0; /* a half-sent body: start a new session instead */
        x->headers = curl_slist_append(x->headers, OCTET_STREAM);
}

/* The registry's digest of what it stored must be ours. */
static int check_digest(struct session *s, struct xfer *x, berth_error_t **err)
{
        if (x->docker_digest == NULL || strcmp(x->docker_digest, s->digest) == 0)
                return 0;
        _cleanup_free_ char *q = quote(x->docker_digest);
        return berth_error(err, EBADMSG, "registry %s: %s: the registry stored %s", s->c->host, s->what, q);
}

/* PATCH one chunk; s->url moves to the answer's Location. */
static int session_patch(struct session *s, int64_t off, int64_t len, bool *transient, berth_error_t **err)
{
        struct xfer x;
        struct upload up;
        char range[64];

        session_xfer(s, &x, "PATCH", xstrdup(s->url));
        session_send(s, &x, off, len, &up);
        snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long)off, (long long)(off + len - 1));
        x.headers = curl_slist_append(x.headers, range);
        int r = registry_perform(&x, err);
        *transient = x.transient;
        if (r < 0) {
                r = -1;
        } else if (x.status != 202) {
                r = registry_status_error(&x, err);
        } else {
                /* Range: 0-<last byte received>, when the registry says */
                long long first = -1, last = -1;
                if (x.range && (sscanf(x.range, "%lld-%lld", &first, &last) != 2 || last != off + len - 1)) {
                        _cleanup_free_ char *q = quote(x.range);
                        r = berth_error(err, EPROTO, "registry %s: %s: chunk %lld-%lld answered with Range %s",
                                        s->c->host, s->what, (long long)off, (long long)(off + len - 1), q);
                } else {
                        char *next = NULL;
                        r = session_follow(s, &x, &next, &s->foreign, err);
                        if (r == 0) {
                                free(s->url);
                                s->url = next;
                        }
                }
        }
        registry_xfer_clear(&x);
        return r;
}

/* PUT <url>&digest=: with the bytes [off, size) (all of it when monolithic,
 * none after chunks) and close the session. */
static int session_put(struct session *s, int64_t off, bool *transient, berth_error_t **err)
{
        struct xfer x;
        struct upload up;
        char *d = curl_easy_escape(s->c->curl, s->digest, 0);
        _cleanup_free_ char *query = xasprintf("digest=%s", d);
        char *url = NULL;
        bool foreign = s->foreign;

        curl_free(d);
        if (resolve_location(s->c, s->url, s->url, query, &url, &foreign, err) < 0)
                return -1;
        session_xfer(s, &x, "PUT", url);
        x.no_auth = foreign;
        session_send(s, &x, off, s->size - off, &up);
        int r = registry_perform(&x, err);
        *transient = x.transient;
        if (r < 0)
                r = -1;
        else if (x.status != 201)
                r = registry_status_error(&x, err);
        else
                r = check_digest(s, &x, err);
        registry_xfer_clear(&x);
        return r;
}

static int session_upload(struct session *s, bool *transient, berth_error_t **err)
{
        size_t chunk = s->opts->chunk_size;
        int64_t off = 0;

        *transient = false;
        if (s->opts->progress)
                s->opts->progress(s->opts->progress_data, s->digest, 0, s->size);
        while (chunk > 0 && off < s->size) {
                int64_t len = s->size - off < (int64_t)chunk ? s->size - off : (int64_t)chunk;
                if (session_patch(s, off, len, transient, err) < 0)
                        return -1;
                off += len;
        }
        return session_put(s, off, transient, err);
}

/* Best effort: tell the registry to drop a session we give up on. */
static void session_cancel(struct session *s)
{
        struct xfer x;
        berth_error_t *ignored = NULL;

        if (s->url == NULL)
                return;
        session_xfer(s, &x, "DELETE", steal_pointer(&s->url));
        x.no_retry = true;
        registry_perform(&x, &ignored);
        berth_error_free(&ignored);
        registry_xfer_clear(&x);
}

/* ---- API ------------------------------------------------------------------ */

/* The stored blob, opened, and its size checked against the caller's. */
static int open_blob(struct registry_client *c, struct content_store *cs, const char *digest, int64_t *size,
                     berth_error_t **err)
{
        struct stat st;
        _cleanup_close_ int fd = content_open(cs, digest, err);

        if (fd < 0)
                return berth_error_wrap(err, "registry %s: push", c->host);
        if (fstat(fd, &st) < 0)
                return berth_error(err, errno, "registry %s: push blob %s", c->host, digest);
        if (*size >= 0 && *size != st.st_size)
                return berth_error(err, EINVAL, "registry %s: push blob %s: %lld bytes stored, %lld announced",
                                   c->host, digest, (long long)st.st_size, (long long)*size);
        *size = st.st_size;
        return steal_fd(&fd);
}

static void progress_done(const struct registry_push_opts *o, const char *digest, int64_t size)
{
        if (o->progress)
                o->progress(o->progress_data, digest, size, size);
}

static void session_clear(struct session *s)
{
        free(s->what);
        free(s->scope);
        free(s->url);
}

/* Upload sessions until one works: a connection lost mid-body leaves the
 * registry's session in an unknown state, so a retry starts a new one. */
static int push_sessions(struct session *s, const char *mount_from, berth_error_t **err)
{
        long backoff = REGISTRY_BACKOFF_MS;

        for (int attempt_no = 1;; attempt_no++) {
                bool transient = false;
                int r = session_start(s, mount_from, err);
                if (r != 0)
                        return r < 0 ? -1 : REGISTRY_BLOB_MOUNTED;
                if (session_upload(s, &transient, err) == 0)
                        return REGISTRY_BLOB_UPLOADED;
                session_cancel(s);
                if (!transient || attempt_no == REGISTRY_TRIES)
                        return -1;
                berth_error_free(err);
                registry_sleep_ms(backoff);
                backoff *= 2;
        }
}

int registry_push_blob(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                       struct content_store *cs, const char *mount_from, const struct registry_push_opts *opts,
                       berth_error_t **err)
{
        static const struct registry_push_opts none = { 0 };

        if (opts == NULL)
                opts = &none;
        if (digest_parse(digest, NULL, err) < 0)
                return berth_error_wrap(err, "registry %s: push blob", c->host);
        _cleanup_close_ int fd = open_blob(c, cs, digest, &size, err);
        if (fd < 0)
                return -1;
        int r = registry_head_blob(c, repo, digest, NULL, err);
        if (r < 0)
                return -1;
        if (r == 1) {
                progress_done(opts, digest, size);
                return REGISTRY_BLOB_EXISTS;
        }
        if (mount_from && strcmp(mount_from, repo) == 0)
                mount_from = NULL;
        struct session s = { .c = c, .repo = repo, .digest = digest, .fd = fd, .size = size, .opts = opts };
        s.what = xasprintf("push blob %s@%s", repo, digest);
        s.scope = xasprintf("repository:%s:pull,push", repo);
        r = push_sessions(&s, mount_from, err);
        if (r == REGISTRY_BLOB_MOUNTED)
                progress_done(opts, digest, size);
        session_clear(&s);
        return r;
}

int registry_put_manifest(struct registry_client *c, const char *repo, const char *ref, const char *media_type,
                          const char *body, size_t len, char **digest_out, berth_error_t **err)
{
        _cleanup_free_ char *computed = digest_of(body, len);
        _cleanup_free_ char *what = xasprintf("push manifest %s:%s", repo, ref);
        _cleanup_free_ char *scope = xasprintf("repository:%s:pull,push", repo);
        _cleanup_free_ char *ctype = xasprintf("Content-Type: %s", media_type);

        if (strchr(ref, ':') && strcmp(ref, computed) != 0) {
                _cleanup_free_ char *q = quote(ref);
                return berth_error(err, EINVAL, "registry %s: push manifest %s@%s: the body's digest is %s",
                                   c->host, repo, q, computed);
        }
        if (strpbrk(media_type, "\r\n") != NULL)
                return berth_error(err, EINVAL, "registry %s: %s: invalid media type", c->host, what);
        struct upload up = { .mem = body, .fd = -1, .len = (int64_t)len };
        struct xfer x = { .method = "PUT", .what = what, .scope = scope, .up = &up, .c = c };
        x.url = xasprintf("%s/v2/%s/manifests/%s", c->base, repo, ref);
        x.errbody.max = ERRBODY_MAX;
        x.headers = curl_slist_append(NULL, ctype);
        int r = registry_perform(&x, err);
        if (r < 0) {
                r = -1;
        } else if (x.status != 201) {
                r = registry_status_error(&x, err);
        } else if (x.docker_digest && strcmp(x.docker_digest, computed) != 0) {
                _cleanup_free_ char *q = quote(x.docker_digest);
                r = berth_error(err, EBADMSG, "registry %s: %s: Docker-Content-Digest %s does not match the body (%s)",
                                c->host, what, q, computed);
        } else if (digest_out) {
                *digest_out = steal_pointer(&computed);
        }
        registry_xfer_clear(&x);
        return r;
}
