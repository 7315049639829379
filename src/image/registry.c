/* Registry client: transport (libcurl), auth challenges, manifests, blobs.
 * See registry.h for the contract; uploads are in registry-push.c. */
#include "image/registry.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/registry-private.h"
#include "image/store.h"
#include "util/base64.h"
#include "util/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <time.h>

#define TOKEN_BODY_MAX (1 << 20)
#define REPLAY_CHUNK (64 * 1024)

/* ---- challenges ---------------------------------------------------------- */

void registry_challenge_clear(struct registry_challenge *ch)
{
        free(ch->scheme);
        free(ch->realm);
        free(ch->service);
        free(ch->scope);
        free(ch->error);
        memset(ch, 0, sizeof(*ch));
}

static bool is_tchar(char ch)
{
        return ch != '\0' && (isalnum((unsigned char)ch) || strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

int registry_challenge_parse(const char *header, struct registry_challenge *out, berth_error_t **err)
{
        const char *p = header;
        struct registry_challenge ch = { 0 };

        memset(out, 0, sizeof(*out));
        while (*p == ' ' || *p == '\t')
                p++;
        const char *s = p;
        while (is_tchar(*p))
                p++;
        if (p == s) {
                _cleanup_free_ char *q = quote(header);
                return berth_error(err, EINVAL, "invalid WWW-Authenticate header %s: no auth scheme", q);
        }
        ch.scheme = strndup(s, p - s);
        for (;;) {
                while (*p == ' ' || *p == '\t' || *p == ',')
                        p++;
                if (*p == '\0')
                        break;
                s = p;
                while (is_tchar(*p))
                        p++;
                size_t klen = p - s;
                while (*p == ' ' || *p == '\t')
                        p++;
                if (klen == 0 || *p != '=') {
                        _cleanup_free_ char *q = quote(header);
                        registry_challenge_clear(&ch);
                        return berth_error(err, EINVAL, "invalid WWW-Authenticate header %s: expected name=value",
                                           q);
                }
                p++;
                while (*p == ' ' || *p == '\t')
                        p++;
                size_t cap = strlen(p) + 1, n = 0;
                _cleanup_free_ char *val = xmalloc(cap);
                if (*p == '"') {
                        p++;
                        while (*p && *p != '"') {
                                if (*p == '\\' && p[1])
                                        p++;
                                val[n++] = *p++;
                        }
                        if (*p != '"') {
                                _cleanup_free_ char *q = quote(header);
                                registry_challenge_clear(&ch);
                                return berth_error(err, EINVAL,
                                                   "invalid WWW-Authenticate header %s: unterminated quoted value", q);
                        }
                        p++;
                } else {
                        while (*p && *p != ',' && *p != ' ' && *p != '\t')
                                val[n++] = *p++;
                }
                val[n] = '\0';
                char **slot = NULL;
                if (klen == 5 && strncasecmp(s, "realm", 5) == 0)
                        slot = &ch.realm;
                else if (klen == 7 && strncasecmp(s, "service", 7) == 0)
                        slot = &ch.service;
                else if (klen == 5 && strncasecmp(s, "scope", 5) == 0)
                        slot = &ch.scope;
                else if (klen == 5 && strncasecmp(s, "error", 5) == 0)
                        slot = &ch.error;
                if (slot) {
                        free(*slot);
                        *slot = steal_pointer(&val);
                }
        }
        *out = ch;
        return 0;
}

/* ---- client -------------------------------------------------------------- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
/* curl_global_init is not thread-safe: run it once, whichever thread
 * makes the first client. */
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static bool host_is_local(const char *host)
{
        static const char *const locals[] = { "localhost", "127.0.0.1", "[::1]" };
        for (size_t i = 0; i < ARRAY_SIZE(locals); i++) {
                size_t n = strlen(locals[i]);
                if (strncmp(host, locals[i], n) == 0 && (host[n] == '\0' || host[n] == ':'))
                        return true;
        }
        return false;
}

static char *xstrdup_or_null(const char *s) { return s ? xstrdup(s) : NULL; }

static int client_alloc(const char *host, struct registry_client **out, berth_error_t **err)
{
        pthread_once(&curl_once, curl_init_once);
        CURL *curl = curl_easy_init();
        if (curl == NULL)
                return berth_error(err, ENOMEM, "registry %s: cannot create a curl handle", host);
        struct registry_client *c = xcalloc(1, sizeof(*c));
        c->curl = curl;
        c->host = xstrdup(host);
        *out = c;
        return 0;
}

int registry_client_new(const char *host, const struct registry_options *opts, struct registry_client **out,
                        berth_error_t **err)
{
        static const struct registry_options none = { 0 };
        struct registry_client *c;

        if (opts == NULL)
                opts = &none;
        if (host == NULL || *host == '\0' || strpbrk(host, "/ \t\r\n@?#") != NULL) {
                _cleanup_free_ char *q = quote(host ? host : "");
                return berth_error(err, EINVAL, "invalid registry host %s", q);
        }
        if (client_alloc(host, &c, err) < 0)
                return -1;
        c->base = xasprintf("%s://%s", opts->insecure || host_is_local(host) ? "http" : "https", host);
        c->username = xstrdup_or_null(opts->username);
        c->password = xstrdup_or_null(opts->password);
        c->identity_token = xstrdup_or_null(opts->identity_token);
        c->registry_token = xstrdup_or_null(opts->registry_token);
        c->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "berth");
        if (c->registry_token)
                c->auth = xasprintf("Authorization: Bearer %s", c->registry_token);
        *out = c;
        return 0;
}

int registry_client_clone(const struct registry_client *c, struct registry_client **out, berth_error_t **err)
{
        struct registry_client *n;

        if (client_alloc(c->host, &n, err) < 0)
                return -1;
        n->base = xstrdup(c->base);
        n->username = xstrdup_or_null(c->username);
        n->password = xstrdup_or_null(c->password);
        n->identity_token = xstrdup_or_null(c->identity_token);
        n->registry_token = xstrdup_or_null(c->registry_token);
        n->user_agent = xstrdup(c->user_agent);
        n->auth = xstrdup_or_null(c->auth);
        n->auth_scope = xstrdup_or_null(c->auth_scope);
        *out = n;
        return 0;
}

static void free_secret(char *s)
{
        if (s) {
                explicit_bzero(s, strlen(s));
                free(s);
        }
}

void registry_client_free(struct registry_client *c)
{
        if (c == NULL)
                return;
        curl_easy_cleanup(c->curl);
        free(c->host);
        free(c->base);
        free(c->username);
        free_secret(c->password);
        free_secret(c->identity_token);
        free_secret(c->registry_token);
        free_secret(c->auth);
        free(c->auth_scope);
        free(c->user_agent);
        free(c);
}

const char *registry_client_base_url(const struct registry_client *c) { return c->base; }

void registry_client_stats(const struct registry_client *c, struct registry_stats *out) { *out = c->stats; }

/* ---- one transfer, with retries and auth --------------------------------- */

static void buf_append(struct buf *b, const void *p, size_t n)
{
        if (b->len + n > b->max) {
                b->overflow = true;
                n = b->max > b->len ? b->max - b->len : 0;
        }
        if (b->len + n + 1 > b->cap) {
                b->cap = (b->len + n + 1) * 2;
                b->data = xrealloc(b->data, b->cap);
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        b->data[b->len] = '\0';
}

static void buf_reset(struct buf *b)
{
        b->len = 0;
        b->overflow = false;
        if (b->data)
                b->data[0] = '\0';
}

static void xfer_reset_headers(struct xfer *x)
{
        free(x->content_type);
        free(x->docker_digest);
        free(x->www_auth);
        free(x->content_range);
        free(x->location);
        free(x->range);
        x->content_type = x->docker_digest = x->www_auth = x->content_range = x->location = x->range = NULL;
        x->content_length = -1;
        x->retry_after = -1;
}

void registry_xfer_clear(struct xfer *x)
{
        xfer_reset_headers(x);
        curl_slist_free_all(x->headers);
        free(x->url);
        free(x->body.data);
        free(x->errbody.data);
}

static char *header_value(const char *line, size_t len, const char *name)
{
        size_t n = strlen(name);
        if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
                return NULL;
        const char *v = line + n + 1, *end = line + len;
        while (v < end && (*v == ' ' || *v == '\t'))
                v++;
        while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
        return strndup(v, end - v);
}

/* Retry-After: delay-seconds or an HTTP date; -1 when unreadable. */
static long parse_retry_after(const char *v)
{
        long long n = parse_ll(v);
        if (n >= 0)
                return n > LONG_MAX ? LONG_MAX : (long)n;
        time_t t = curl_getdate(v, NULL);
        if (t == (time_t)-1)
                return -1;
        time_t now = time(NULL);
        return t > now ? (long)(t - now) : 0;
}

/* Keep the header `name` in *slot; true when the line was that header. */
static bool take_header(const char *p, size_t len, const char *name, char **slot)
{
        char *v = header_value(p, len, name);
        if (v == NULL)
                return false;
        free(*slot);
        *slot = v;
        return true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t len = size * nmemb;
        char *v;

        if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
                /* a new response (after a redirect or a 100): forget the old headers */
                xfer_reset_headers(x);
                return len;
        }
        if (take_header(p, len, "Content-Type", &x->content_type) ||
            take_header(p, len, "Docker-Content-Digest", &x->docker_digest) ||
            take_header(p, len, "Content-Range", &x->content_range) ||
            take_header(p, len, "Location", &x->location) || take_header(p, len, "Range", &x->range))
                return len;
        if ((v = header_value(p, len, "Content-Length"))) {
                x->content_length = parse_ll(v);
                free(v);
        } else if ((v = header_value(p, len, "Retry-After"))) {
                x->retry_after = parse_retry_after(v);
                free(v);
        } else if ((v = header_value(p, len, "WWW-Authenticate"))) {
                /* several challenges: prefer Bearer */
                if (x->www_auth == NULL || strncasecmp(v, "Bearer", 6) == 0) {
                        free(x->www_auth);
                        x->www_auth = v;
                } else {
                        free(v);
                }
        }
        return len;
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
        struct xfer *x = ud;
        size_t len = size * nmemb;
        long st = 0;

        curl_easy_getinfo(x->c->curl, CURLINFO_RESPONSE_CODE, &st);
        x->status = st;
        if (st < 200 || st >= 300) {
                buf_append(&x->errbody, p, len);
                return len;
        }
        if (x->sink)
                return x->sink(x, p, len);
        buf_append(&x->body, p, len);
        return x->body.overflow ? 0 : len;
}

/* Request bodies come from memory or from a file, read with pread so a
 * retry or a curl rewind starts anywhere. */
static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
        struct upload *u = ud;
        size_t want = size * nmemb;

        if ((int64_t)want > u->len - u->pos)
                want = (size_t)(u->len - u->pos);
        if (want == 0)
                return 0;
        if (u->mem) {
                memcpy(p, u->mem + u->pos, want);
        } else {
                ssize_t n;
                while ((n = pread(u->fd, p, want, u->off + u->pos)) < 0 && errno == EINTR)
                        ;
                if (n <= 0) {
                        u->read_errno = n < 0 ? errno : EIO; /* EIO: the file is shorter than announced */
                        return CURL_READFUNC_ABORT;
                }
                want = (size_t)n;
        }
        u->pos += (int64_t)want;
        if (u->progress)
                u->progress(u->progress_data, u->digest, u->base + u->pos, u->total);
        return want;
}

static int on_seek(void *ud, curl_off_t offset, int origin)
{
        struct upload *u = ud;
        if (origin != SEEK_SET || offset < 0 || offset > u->len)
                return CURL_SEEKFUNC_CANTSEEK;
        u->pos = offset;
        return CURL_SEEKFUNC_OK;
}

static bool curl_retryable(CURLcode rc)
{
        switch (rc) {
        case CURLE_COULDNT_CONNECT:
        case CURLE_COULDNT_RESOLVE_HOST:
        case CURLE_OPERATION_TIMEDOUT:
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
        case CURLE_GOT_NOTHING:
        case CURLE_PARTIAL_FILE:
        case CURLE_SSL_CONNECT_ERROR:
        case CURLE_HTTP2:
        case CURLE_HTTP2_STREAM:
                return true;
        default:
                return false;
        }
}

void registry_sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

/* How long to wait before trying again after this answer, or -1 not to:
 * connection errors, 5xx and 429 are worth another try; Retry-After on a
 * 429 or 503 stretches the wait, and one beyond the cap ends it. */
static long retry_delay(const struct xfer *x, CURLcode rc, long backoff)
{
        if (rc != CURLE_OK)
                return curl_retryable(rc) ? backoff : -1;
        if (x->status != 429 && x->status < 500)
                return -1;
        if (x->retry_after < 0 || (x->status != 429 && x->status != 503))
                return backoff;
        if (x->retry_after > REGISTRY_RETRY_AFTER_MAX)
                return -1;
        return x->retry_after * 1000 > backoff ? x->retry_after * 1000 : backoff;
}

static void set_common(struct registry_client *c)
{
        CURL *h = c->curl;
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 30L);
        /* give up on a transfer stalled below 1 byte/s for 60 s */
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
        /* blobs arrive in fewer, larger writes (default 16 KiB) */
        curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 256L * 1024);
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
}

static void set_method(struct xfer *x)
{
        CURL *h = x->c->curl;

        if (strcmp(x->method, "HEAD") == 0) {
                curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
        } else if (x->up) {
                x->up->pos = 0;
                x->up->read_errno = 0;
                curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
                curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
                curl_easy_setopt(h, CURLOPT_READDATA, x->up);
                curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, on_seek);
                curl_easy_setopt(h, CURLOPT_SEEKDATA, x->up);
                curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)x->up->len);
                if (strcmp(x->method, "PUT") != 0)
                        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
        } else if (strcmp(x->method, "POST") == 0) {
                curl_easy_setopt(h, CURLOPT_POST, 1L);
                curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
                curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
        } else if (strcmp(x->method, "GET") != 0) {
                curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, x->method);
        }
}

/* One attempt: fills x->status (0 when no answer came) and *rc. */
static int attempt(struct xfer *x, char *curlerr, CURLcode *rc, berth_error_t **err)
{
        struct registry_client *c = x->c;
        struct curl_slist *hdrs = NULL;

        set_common(c);
        for (struct curl_slist *h = x->headers; h; h = h->next)
                hdrs = curl_slist_append(hdrs, h->data);
        if (c->auth && !x->no_auth)
                hdrs = curl_slist_append(hdrs, c->auth);
        if (x->prepare && x->prepare(x, &hdrs, err) < 0) {
                curl_slist_free_all(hdrs);
                return -1;
        }
        xfer_reset_headers(x);
        buf_reset(&x->body);
        buf_reset(&x->errbody);
        x->status = 0;
        curl_easy_setopt(c->curl, CURLOPT_URL, x->url);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curlerr);
        curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, x);
        curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
        set_method(x);
        c->stats.requests++;
        *rc = curl_easy_perform(c->curl);
        curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
        curl_slist_free_all(hdrs);
        if (*rc == CURLE_OK)
                curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);
        return 0;
}

/* The registry's own words from an error body ({"errors":[{"message":..}]}). */
static char *registry_message(const struct buf *b)
{
        if (b->len == 0)
                return NULL;
        json_t *j = json_loadb(b->data, b->len, 0, NULL);
        json_t *e = json_array_get(json_object_get(j, "errors"), 0);
        const char *m = json_string_value(json_object_get(e, "message"));
        const char *code = json_string_value(json_object_get(e, "code"));
        char *r = NULL;
        if (m && code)
                r = xasprintf("%s: %s", code, m);
        else if (m || code)
                r = xstrdup(m ? m : code);
        json_decref(j);
        if (r) {
                char *q = quote(r);
                free(r);
                r = q;
        }
        return r;
}

static int fetch_token(struct registry_client *c, const struct registry_challenge *ch, const char *want_scope,
                       berth_error_t **err);

/* Answer a 401: set c->auth from the challenge.  want_scope is what the
 * request needs, used when a bearer challenge names no scope. */
static int authenticate(struct registry_client *c, const char *www_auth, const char *want_scope,
                        berth_error_t **err)
{
        struct registry_challenge ch;
        int r;

        if (www_auth == NULL)
                return berth_error(err, EACCES, "registry %s: 401 Unauthorized without a WWW-Authenticate challenge",
                                   c->host);
        /* a token given as is cannot be renewed here */
        if (c->registry_token)
                return berth_error(err, EACCES, "registry %s: the registry token was refused (401 Unauthorized)",
                                   c->host);
        if (registry_challenge_parse(www_auth, &ch, err) < 0)
                return berth_error_wrap(err, "registry %s", c->host);
        if (strcasecmp(ch.scheme, "Basic") == 0) {
                if (c->username == NULL) {
                        registry_challenge_clear(&ch);
                        return berth_error(err, EACCES, "registry %s: authentication required (no credentials)",
                                           c->host);
                }
                _cleanup_free_ char *up = xasprintf("%s:%s", c->username, c->password ? c->password : "");
                _cleanup_free_ char *b64 = base64_encode(up, strlen(up), false);
                explicit_bzero(up, strlen(up));
                free_secret(c->auth);
                free(c->auth_scope);
                c->auth = xasprintf("Authorization: Basic %s", b64);
                c->auth_scope = NULL;
                explicit_bzero(b64, strlen(b64));
                r = 0;
        } else if (strcasecmp(ch.scheme, "Bearer") == 0) {
                r = fetch_token(c, &ch, want_scope, err);
        } else {
                _cleanup_free_ char *q = quote(ch.scheme);
                r = berth_error(err, ENOTSUP, "registry %s: unsupported auth scheme %s", c->host, q);
        }
        registry_challenge_clear(&ch);
        return r;
}

int registry_perform(struct xfer *x, berth_error_t **err)
{
        struct registry_client *c = x->c;
        bool auth_tried = false;
        long backoff = REGISTRY_BACKOFF_MS;

        for (int attempt_no = 1;;) {
                char curlerr[CURL_ERROR_SIZE] = "";
                CURLcode rc = CURLE_OK;

                if (attempt(x, curlerr, &rc, err) < 0)
                        return -1;
                if (rc == CURLE_WRITE_ERROR && x->sink)
                        return -2; /* the sink holds the error */
                if (rc == CURLE_WRITE_ERROR && x->body.overflow)
                        return berth_error(err, EFBIG, "registry %s: %s: answer larger than %zu bytes", c->host,
                                           x->what, x->body.max);
                if (x->up && x->up->read_errno)
                        return berth_error(err, x->up->read_errno, "registry %s: %s: reading the body to send",
                                           c->host, x->what);
                long delay = retry_delay(x, rc, backoff);
                x->transient = delay >= 0;
                if (delay >= 0 && !x->no_retry && attempt_no < REGISTRY_TRIES) {
                        attempt_no++;
                        registry_sleep_ms(delay);
                        backoff *= 2;
                        continue;
                }
                if (rc != CURLE_OK)
                        return berth_error(err, EIO, "registry %s: %s: %s", c->host, x->what,
                                           curlerr[0] ? curlerr : curl_easy_strerror(rc));
                if (x->status == 401 && !auth_tried && !x->no_auth) {
                        auth_tried = true;
                        if (authenticate(c, x->www_auth, x->scope, err) < 0)
                                return berth_error_wrap(err, "%s", x->what);
                        continue;
                }
                if (x->status == 401) {
                        _cleanup_free_ char *m = registry_message(&x->errbody);
                        return berth_error(err, EACCES,
                                           "registry %s: %s: authentication failed (401 Unauthorized%s%s)%s", c->host,
                                           x->what, m ? ": " : "", m ? m : "",
                                           c->username ? ": wrong username or password?" : "");
                }
                return 0;
        }
}

int registry_status_error(struct xfer *x, berth_error_t **err)
{
        _cleanup_free_ char *m = registry_message(&x->errbody);
        int st = x->status == 404 ? ENOENT : x->status == 403 ? EACCES : x->status == 429 ? EAGAIN : EIO;
        return berth_error(err, st, "registry %s: %s: HTTP %ld%s%s", x->c->host, x->what, x->status, m ? ": " : "",
                           m ? m : "");
}

/* realm?service=..&scope=..: a challenge scope with several resources
 * ("repository:a:pull,push repository:b:pull") is sent as one scope
 * parameter each, as token servers expect. */
static char *token_url(struct registry_client *c, const struct registry_challenge *ch, const char *scope)
{
        char *url = xstrdup(ch->realm);
        _cleanup_free_ char *scopes = xstrdup(scope ? scope : "");
        char *save = NULL;

        for (char *tok = ch->service ? ch->service : strtok_r(scopes, " ", &save); tok;) {
                const char *name = tok == ch->service ? "service" : "scope";
                char *esc = curl_easy_escape(c->curl, tok, 0);
                char *n = xasprintf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', name, esc);
                curl_free(esc);
                free(url);
                url = n;
                tok = strtok_r(tok == ch->service ? scopes : NULL, " ", &save);
        }
        return url;
}

/* The OAuth2 form an identity token is exchanged with (distribution's
 * token spec, as dockerd sends it): all scopes in one parameter. */
static char *oauth_form(struct registry_client *c, const struct registry_challenge *ch, const char *scope)
{
        char *tok = curl_easy_escape(c->curl, c->identity_token, 0);
        char *svc = curl_easy_escape(c->curl, ch->service ? ch->service : "", 0);
        char *sc = curl_easy_escape(c->curl, scope ? scope : "", 0);
        char *form = xasprintf("grant_type=refresh_token&refresh_token=%s&service=%s&client_id=berth%s%s", tok, svc,
                               scope && *scope ? "&scope=" : "", scope && *scope ? sc : "");

        explicit_bzero(tok, strlen(tok));
        curl_free(tok);
        curl_free(svc);
        curl_free(sc);
        return form;
}

/* GET the token URL in x (basic auth with the credentials when there are
 * any), or POST form to it (an identity token's exchange), with the same
 * retries as registry requests. */
static CURLcode token_request(struct registry_client *c, struct xfer *x, const char *form, char *curlerr)
{
        CURLcode rc = CURLE_OK;
        long backoff = REGISTRY_BACKOFF_MS;

        for (int attempt_no = 1; attempt_no <= REGISTRY_TRIES; attempt_no++) {
                set_common(c);
                buf_reset(&x->body);
                buf_reset(&x->errbody);
                xfer_reset_headers(x);
                curlerr[0] = '\0';
                curl_easy_setopt(c->curl, CURLOPT_URL, x->url);
                curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curlerr);
                curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
                curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, x);
                curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, x);
                if (form)
                        curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, form);
                else if (c->username) {
                        curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
                        curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->username);
                        curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->password ? c->password : "");
                }
                c->stats.token_requests++;
                rc = curl_easy_perform(c->curl);
                curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
                x->status = 0;
                if (rc == CURLE_OK)
                        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);
                long delay = retry_delay(x, rc, backoff);
                if (delay < 0 || attempt_no == REGISTRY_TRIES)
                        break;
                registry_sleep_ms(delay);
                backoff *= 2;
        }
        /* the credentials must not stay in a handle later used elsewhere */
        curl_easy_reset(c->curl);
        return rc;
}

/* The token in a token server's answer ("token", or OAuth's "access_token"). */
static int token_from_body(struct registry_client *c, const struct buf *b, char **out, berth_error_t **err)
{
        json_t *j = json_loadb(b->data ? b->data : "", b->len, 0, NULL);
        const char *tok = json_string_value(json_object_get(j, "token"));
        int r = 0;

        if (tok == NULL || *tok == '\0')
                tok = json_string_value(json_object_get(j, "access_token"));
        if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n") != NULL)
                r = berth_error(err, EPROTO, "registry %s: token server answer has no usable token", c->host);
        else
                *out = xstrdup(tok);
        json_decref(j);
        return r;
}

static int fetch_token(struct registry_client *c, const struct registry_challenge *ch, const char *want_scope,
                       berth_error_t **err)
{
        if (ch->realm == NULL || !(str_has_prefix(ch->realm, "https://") || str_has_prefix(ch->realm, "http://")))
                return berth_error(err, EINVAL, "registry %s: bearer challenge without an http(s) realm", c->host);

        /* the registry knows what this request needs: its scope wins */
        const char *scope = ch->scope && *ch->scope ? ch->scope : want_scope;
        struct xfer x = { .method = "GET", .what = "token", .c = c };
        _cleanup_free_ char *form = c->identity_token ? oauth_form(c, ch, scope) : NULL;
        x.url = form ? xstrdup(ch->realm) : token_url(c, ch, scope);
        x.body.max = TOKEN_BODY_MAX;
        x.errbody.max = ERRBODY_MAX;
        char curlerr[CURL_ERROR_SIZE] = "";
        CURLcode rc = token_request(c, &x, form, curlerr);
        if (form)
                explicit_bzero(form, strlen(form));
        _cleanup_free_ char *tok = NULL;
        int r;
        if (rc != CURLE_OK) {
                r = berth_error(err, EIO, "registry %s: token from %s: %s", c->host, ch->realm,
                                curlerr[0] ? curlerr : curl_easy_strerror(rc));
        } else if (x.status == 401 || x.status == 403) {
                r = berth_error(err, EACCES, "registry %s: token server refused the credentials (HTTP %ld)%s", c->host,
                                x.status, c->username || c->identity_token ? "" : " (no credentials)");
        } else if (x.status != 200) {
                r = berth_error(err, EIO, "registry %s: token from %s: HTTP %ld", c->host, ch->realm, x.status);
        } else if ((r = token_from_body(c, &x.body, &tok, err)) == 0) {
                free_secret(c->auth);
                free(c->auth_scope);
                c->auth = xasprintf("Authorization: Bearer %s", tok);
                c->auth_scope = xstrdup_or_null(scope);
                explicit_bzero(tok, strlen(tok));
        }
        if (x.body.data)
                explicit_bzero(x.body.data, x.body.len);
        registry_xfer_clear(&x);
        return r;
}
/* ---- API ----------------------------------------------------------------- */

int registry_ping(struct registry_client *c, berth_error_t **err)
{
        struct xfer x = { .method = "GET", .what = "ping", .c = c };
        x.url = xasprintf("%s/v2/", c->base);
        x.body.max = ERRBODY_MAX;
        x.errbody.max = ERRBODY_MAX;
        int r = registry_perform(&x, err);
        if (r == 0 && x.status != 200)
                r = registry_status_error(&x, err);
        registry_xfer_clear(&x);
        return r < 0 ? -1 : 0;
}

static bool is_digest(const char *ref) { return strchr(ref, ':') != NULL; }

int registry_get_manifest(struct registry_client *c, const char *repo, const char *ref, const char *const *accept,
                          char **body, size_t *len, char **content_type, char **digest, berth_error_t **err)
{
        static const char *const all[] = { MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST,
                                           MEDIA_TYPE_DOCKER_MANIFEST_LIST, NULL };
        struct digest want = { 0 };
        bool by_digest = is_digest(ref);
        _cleanup_free_ char *computed = NULL;

        if (by_digest && digest_parse(ref, &want, err) < 0)
                return berth_error_wrap(err, "registry %s: manifest %s", c->host, repo);
        if (accept == NULL)
                accept = all;

        _cleanup_free_ char *what = xasprintf("manifest %s:%s", repo, ref);
        _cleanup_free_ char *scope = xasprintf("repository:%s:pull", repo);
        struct xfer x = { .method = "GET", .what = what, .scope = scope, .c = c };
        x.url = xasprintf("%s/v2/%s/manifests/%s", c->base, repo, ref);
        x.body.max = MANIFEST_MAX_SIZE;
        x.errbody.max = ERRBODY_MAX;
        for (size_t i = 0; accept[i]; i++) {
                _cleanup_free_ char *h = xasprintf("Accept: %s", accept[i]);
                x.headers = curl_slist_append(x.headers, h);
        }
        int r = registry_perform(&x, err);
        if (r < 0)
                goto out;
        if (x.status != 200) {
                r = registry_status_error(&x, err);
                goto out;
        }
        const char *data = x.body.data ? x.body.data : "";
        if (by_digest) {
                _cleanup_digester_ struct digester *d = digester_new_algo(want.algo);
                digester_update(d, data, x.body.len);
                computed = digester_final(d);
                if (strcmp(computed, ref) != 0) {
                        r = berth_error(err, EBADMSG, "registry %s: %s: digest mismatch: got %s", c->host, what,
                                        computed);
                        goto out;
                }
        } else {
                computed = digest_of(data, x.body.len);
                if (x.docker_digest && str_has_prefix(x.docker_digest, "sha256:") &&
                    strcmp(x.docker_digest, computed) != 0) {
                        _cleanup_free_ char *q = quote(x.docker_digest);
                        r = berth_error(err, EBADMSG,
                                        "registry %s: %s: Docker-Content-Digest %s does not match the body (%s)",
                                        c->host, what, q, computed);
                        goto out;
                }
        }
        if (content_type)
                *content_type = x.content_type ? steal_pointer(&x.content_type) : NULL;
        if (digest)
                *digest = steal_pointer(&computed);
        if (len)
                *len = x.body.len;
        *body = x.body.data ? steal_pointer(&x.body.data) : xstrdup("");
        r = 0;
out:
        registry_xfer_clear(&x);
        return r < 0 ? -1 : 0;
}

int registry_head_blob(struct registry_client *c, const char *repo, const char *digest, int64_t *size,
                       berth_error_t **err)
{
        if (digest_parse(digest, NULL, err) < 0)
                return berth_error_wrap(err, "registry %s: blob", c->host);
        _cleanup_free_ char *what = xasprintf("blob %s@%s", repo, digest);
        _cleanup_free_ char *scope = xasprintf("repository:%s:pull", repo);
        struct xfer x = { .method = "HEAD", .what = what, .scope = scope, .c = c };
        x.url = xasprintf("%s/v2/%s/blobs/%s", c->base, repo, digest);
        x.errbody.max = ERRBODY_MAX;
        int r = registry_perform(&x, err);
        if (r < 0) {
                r = -1;
        } else if (x.status == 200) {
                if (size)
                        *size = x.content_length;
                r = 1;
        } else if (x.status == 404) {
                r = 0;
        } else {
                r = registry_status_error(&x, err);
        }
        registry_xfer_clear(&x);
        return r;
}

struct blob_ctx {
        struct registry_client *c;
        struct content_store *cs;
        const char *digest;
        int64_t size;
        struct ingest *in;
        int64_t offset;         /* bytes in the partial file */
        int64_t range_from;     /* what this attempt asked for */
        bool checked;           /* this attempt's first chunk seen */
        int64_t delivered;      /* bytes on_data has seen */
        bool cancelled;         /* on_data said stop */
        const struct registry_fetch_opts *o;
        berth_error_t *err;
};

static void blob_progress(struct blob_ctx *b)
{
        if (b->o->progress)
                b->o->progress(b->o->progress_data, b->digest, b->offset, b->size);
}

/* Hand on_data the part of the blob bytes [at, at + n) it has not seen. */
static int deliver(struct blob_ctx *b, int64_t at, const char *p, size_t n, berth_error_t **err)
{
        if (b->o->on_data == NULL || at + (int64_t)n <= b->delivered)
                return 0;
        if (at > b->delivered) /* cannot happen: every stream starts at or before what was seen */
                return berth_error(err, EPROTO, "registry %s: blob %s: bytes from %lld before %lld", b->c->host,
                                   b->digest, (long long)at, (long long)b->delivered);
        size_t skip = (size_t)(b->delivered - at);
        if (b->o->on_data(b->o->data, p + skip, n - skip) < 0) {
                b->cancelled = true;
                return berth_error(err, ECANCELED, "registry %s: blob %s: download stopped by its reader",
                                   b->c->host, b->digest);
        }
        b->delivered = at + (int64_t)n;
        return 0;
}

/* The store keeps a partial download in blobs/ingest/<hex>.partial, next
 * to blobs/sha256/<hex> (store.h); the path is derived from the blob's. */
static char *partial_path(struct content_store *cs, const char *digest)
{
        _cleanup_free_ char *blob = content_path(cs, digest);
        if (blob == NULL)
                return NULL;
        char *hex = strrchr(blob, '/');
        *hex++ = '\0';
        char *algo = strrchr(blob, '/');
        if (algo == NULL)
                return NULL;
        *algo = '\0';
        return xasprintf("%s/ingest/%s.partial", blob, hex);
}

/* Give on_data the bytes an earlier try left in the partial file. */
static int replay_partial(struct blob_ctx *b, berth_error_t **err)
{
        if (b->o->on_data == NULL || b->offset == 0)
                return 0;
        _cleanup_free_ char *path = partial_path(b->cs, b->digest);
        _cleanup_close_ int fd = path ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
        if (fd < 0)
                return berth_error(err, path ? errno : EINVAL, "registry %s: blob %s: open the partial download",
                                   b->c->host, b->digest);
        _cleanup_free_ char *buf = xmalloc(REPLAY_CHUNK);
        while (b->delivered < b->offset) {
                int64_t left = b->offset - b->delivered;
                ssize_t n = read(fd, buf, left < REPLAY_CHUNK ? (size_t)left : REPLAY_CHUNK);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return berth_error(err, n < 0 ? errno : EIO,
                                           "registry %s: blob %s: read the partial download %s%s", b->c->host,
                                           b->digest, path, n == 0 ? ": shorter than expected" : "");
                if (deliver(b, b->delivered, buf, (size_t)n, err) < 0)
                        return -1;
        }
        return 0;
}

static int blob_prepare(struct xfer *x, struct curl_slist **hdrs, berth_error_t **err)
{
        struct blob_ctx *b = x->sink_data;
        (void)err;
        b->checked = false;
        b->range_from = b->offset;
        if (b->offset > 0) {
                char h[64];
                snprintf(h, sizeof(h), "Range: bytes=%lld-", (long long)b->offset);
                *hdrs = curl_slist_append(*hdrs, h);
        }
        return 0;
}

/* The first chunk of an answer: a 206 must start where we asked; a 200 to
 * a Range request sends the whole blob again, so the ingest restarts. */
static int blob_check_start(struct xfer *x, struct blob_ctx *b)
{
        b->checked = true;
        if (x->status == 206) {
                /* Content-Range: bytes <from>-<to>/<total> */
                long long from = -1;
                if (x->content_range == NULL || sscanf(x->content_range, "bytes %lld-", &from) != 1 ||
                    from != b->range_from)
                        return berth_error(&b->err, EPROTO, "registry %s: blob %s: bad Content-Range for bytes=%lld-",
                                           x->c->host, b->digest, (long long)b->range_from);
        } else if (b->offset > 0) {
                ingest_abort(b->in, false);
                b->in = NULL;
                int64_t off = 0;
                if (ingest_begin(b->cs, b->digest, b->size, &b->in, &off, &b->err) < 0)
                        return -1;
                b->offset = off;
                blob_progress(b);
        }
        return 0;
}

static size_t blob_sink(struct xfer *x, const char *p, size_t n)
{
        struct blob_ctx *b = x->sink_data;

        if (!b->checked && blob_check_start(x, b) < 0)
                return 0;
        if (ingest_write(b->in, p, n, &b->err) < 0 || deliver(b, b->offset, p, n, &b->err) < 0)
                return 0;
        b->offset += n;
        blob_progress(b);
        return n;
}

/* After the transfer: commit, or keep or drop the partial file. */
static int blob_finish(struct blob_ctx *b, struct xfer *x, int r, berth_error_t **err)
{
        struct registry_client *c = b->c;

        if (r == -2) {
                /* the sink failed: a store error, a blob bigger than
                 * announced, or the reader stopped (keep what came then) */
                *err = steal_pointer(&b->err);
                ingest_abort(b->in, b->cancelled);
                return berth_error_wrap(err, "registry %s", c->host);
        }
        if (r < 0) {
                ingest_abort(b->in, b->offset > 0); /* keep what came: the next try resumes */
                return -1;
        }
        if (x->status == 416 && b->offset > 0) /* the partial file is already the whole blob (size was unknown) */
                return ingest_commit(b->in, err) < 0 ? berth_error_wrap(err, "registry %s", c->host) : 0;
        if (x->status != 200 && x->status != 206) {
                ingest_abort(b->in, b->offset > 0);
                return registry_status_error(x, err);
        }
        return ingest_commit(b->in, err) < 0 ? berth_error_wrap(err, "registry %s: %s", c->host, x->what) : 0;
}

int registry_fetch_blob_ex(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                           struct content_store *cs, const struct registry_fetch_opts *o, berth_error_t **err)
{
        static const struct registry_fetch_opts none = { 0 };

        if (digest_parse(digest, NULL, err) < 0)
                return berth_error_wrap(err, "registry %s: blob", c->host);
        if (content_exists(cs, digest))
                return 1;

        struct blob_ctx b = { .c = c, .cs = cs, .digest = digest, .size = size, .o = o ? o : &none };
        if (ingest_begin(cs, digest, size, &b.in, &b.offset, err) < 0)
                return berth_error_wrap(err, "registry %s: blob %s", c->host, digest);
        blob_progress(&b);
        if (replay_partial(&b, err) < 0) {
                ingest_abort(b.in, true);
                return -1;
        }
        if (size >= 0 && b.offset == size) /* the partial is complete: just verify it */
                return ingest_commit(b.in, err) < 0 ? berth_error_wrap(err, "registry %s", c->host) : 0;

        _cleanup_free_ char *what = xasprintf("blob %s@%s", repo, digest);
        _cleanup_free_ char *scope = xasprintf("repository:%s:pull", repo);
        struct xfer x = { .method = "GET", .what = what, .scope = scope, .c = c, .prepare = blob_prepare,
                          .sink = blob_sink, .sink_data = &b };
        x.url = xasprintf("%s/v2/%s/blobs/%s", c->base, repo, digest);
        x.errbody.max = ERRBODY_MAX;
        int r = blob_finish(&b, &x, registry_perform(&x, err), err);
        berth_error_free(&b.err);
        registry_xfer_clear(&x);
        return r < 0 ? -1 : 0;
}

int registry_fetch_blob(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                        struct content_store *cs, registry_progress_fn progress, void *progress_data,
                        berth_error_t **err)
{
        struct registry_fetch_opts o = { .progress = progress, .progress_data = progress_data };
        return registry_fetch_blob_ex(c, repo, digest, size, cs, &o, err) < 0 ? -1 : 0;
}
