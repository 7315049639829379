/* Registry client: transport (libcurl), auth challenges, manifests, blobs.
 * See registry.h for the contract. */
#include "image/registry.h"
#include "image/digest.h"
#include "image/manifest.h"
#include "image/store.h"
#include "util/util.h"

#include <ctype.h>
#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <time.h>

#define REGISTRY_TRIES 3
#define REGISTRY_BACKOFF_MS 200         /* 200 ms, then 400 ms */
#define ERRBODY_MAX 4096
#define TOKEN_BODY_MAX (1 << 20)

struct registry_client {
        char *host;
        char *base;             /* scheme://host */
        char *username, *password;
        char *user_agent;
        char *auth;             /* current "Authorization: ..." header or NULL */
        CURL *curl;
};

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

int registry_client_new(const char *host, const struct registry_options *opts, struct registry_client **out,
                        berth_error_t **err)
{
        static const struct registry_options none = { 0 };

        if (opts == NULL)
                opts = &none;
        if (host == NULL || *host == '\0' || strpbrk(host, "/ \t\r\n@?#") != NULL) {
                _cleanup_free_ char *q = quote(host ? host : "");
                return berth_error(err, EINVAL, "invalid registry host %s", q);
        }
        pthread_once(&curl_once, curl_init_once);
        CURL *curl = curl_easy_init();
        if (curl == NULL)
                return berth_error(err, ENOMEM, "registry %s: cannot create a curl handle", host);

        struct registry_client *c = xcalloc(1, sizeof(*c));
        c->curl = curl;
        c->host = xstrdup(host);
        c->base = xasprintf("%s://%s", opts->insecure || host_is_local(host) ? "http" : "https", host);
        c->username = opts->username ? xstrdup(opts->username) : NULL;
        c->password = opts->password ? xstrdup(opts->password) : NULL;
        c->user_agent = xstrdup(opts->user_agent ? opts->user_agent : "berth");
        *out = c;
        return 0;
}

void registry_client_free(struct registry_client *c)
{
        if (c == NULL)
                return;
        curl_easy_cleanup(c->curl);
        free(c->host);
        free(c->base);
        free(c->username);
        if (c->password) {
                explicit_bzero(c->password, strlen(c->password));
                free(c->password);
        }
        if (c->auth) {
                explicit_bzero(c->auth, strlen(c->auth));
                free(c->auth);
        }
        free(c->user_agent);
        free(c);
}

const char *registry_client_base_url(const struct registry_client *c) { return c->base; }

/* ---- one transfer, with retries and auth --------------------------------- */

struct buf {
        char *data;
        size_t len, cap, max;
        bool overflow;
};

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

struct xfer {
        const char *method;     /* "GET" or "HEAD" */
        char *url;
        const char *what;       /* for messages: "manifest", "blob sha256:..." */
        struct curl_slist *headers; /* fixed extra headers (Accept) */
        /* called before each attempt: add per-attempt headers (Range) */
        int (*prepare)(struct xfer *x, struct curl_slist **hdrs, berth_error_t **err);
        /* body sink for 2xx answers; NULL: keep it in `body` */
        size_t (*sink)(struct xfer *x, const char *p, size_t n);
        void *sink_data;
        struct registry_client *c;
        /* results of the last attempt */
        long status;
        struct buf body, errbody;
        char *content_type, *docker_digest, *www_auth, *content_range;
        int64_t content_length;
};

static void xfer_reset_headers(struct xfer *x)
{
        free(x->content_type);
        free(x->docker_digest);
        free(x->www_auth);
        free(x->content_range);
        x->content_type = x->docker_digest = x->www_auth = x->content_range = NULL;
        x->content_length = -1;
}

static void xfer_clear(struct xfer *x)
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
        if ((v = header_value(p, len, "Content-Type"))) {
                free(x->content_type);
                x->content_type = v;
        } else if ((v = header_value(p, len, "Docker-Content-Digest"))) {
                free(x->docker_digest);
                x->docker_digest = v;
        } else if ((v = header_value(p, len, "Content-Range"))) {
                free(x->content_range);
                x->content_range = v;
        } else if ((v = header_value(p, len, "Content-Length"))) {
                x->content_length = parse_ll(v);
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

static void sleep_ms(long ms)
{
        struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
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
#if LIBCURL_VERSION_NUM >= 0x075500
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
#endif
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

static char *base64(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
        return out;
}

static int fetch_token(struct registry_client *c, const struct registry_challenge *ch, berth_error_t **err);

/* Answer a 401: set c->auth from the challenge. */
static int authenticate(struct registry_client *c, const char *www_auth, berth_error_t **err)
{
        struct registry_challenge ch;
        int r;

        if (www_auth == NULL)
                return berth_error(err, EACCES, "registry %s: 401 Unauthorized without a WWW-Authenticate challenge",
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
                _cleanup_free_ char *b64 = base64(up);
                explicit_bzero(up, strlen(up));
                free(c->auth);
                c->auth = xasprintf("Authorization: Basic %s", b64);
                r = 0;
        } else if (strcasecmp(ch.scheme, "Bearer") == 0) {
                r = fetch_token(c, &ch, err);
        } else {
                _cleanup_free_ char *q = quote(ch.scheme);
                r = berth_error(err, ENOTSUP, "registry %s: unsupported auth scheme %s", c->host, q);
        }
        registry_challenge_clear(&ch);
        return r;
}

static int perform(struct xfer *x, berth_error_t **err)
{
        struct registry_client *c = x->c;
        bool auth_tried = false;
        long backoff = REGISTRY_BACKOFF_MS;

        for (int attempt = 1;; ) {
                struct curl_slist *hdrs = NULL;
                char curlerr[CURL_ERROR_SIZE] = "";

                set_common(c);
                for (struct curl_slist *h = x->headers; h; h = h->next)
                        hdrs = curl_slist_append(hdrs, h->data);
                if (c->auth)
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
                if (strcmp(x->method, "HEAD") == 0)
                        curl_easy_setopt(c->curl, CURLOPT_NOBODY, 1L);
                CURLcode rc = curl_easy_perform(c->curl);
                curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, NULL);
                curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
                curl_slist_free_all(hdrs);
                if (rc == CURLE_OK)
                        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x->status);

                if (rc == CURLE_WRITE_ERROR && x->sink)
                        return -2; /* the sink holds the error */
                if (rc == CURLE_WRITE_ERROR && x->body.overflow)
                        return berth_error(err, EFBIG, "registry %s: %s: answer larger than %zu bytes", c->host,
                                           x->what, x->body.max);
                bool retry = rc != CURLE_OK ? curl_retryable(rc) : x->status >= 500;
                if (retry && attempt < REGISTRY_TRIES) {
                        attempt++;
                        sleep_ms(backoff);
                        backoff *= 2;
                        continue;
                }
                if (rc != CURLE_OK)
                        return berth_error(err, EIO, "registry %s: %s: %s", c->host, x->what,
                                           curlerr[0] ? curlerr : curl_easy_strerror(rc));
                if (x->status == 401 && !auth_tried) {
                        auth_tried = true;
                        if (authenticate(c, x->www_auth, err) < 0)
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

/* An error for an unexpected HTTP status. */
static int status_error(struct xfer *x, berth_error_t **err)
{
        _cleanup_free_ char *m = registry_message(&x->errbody);
        int st = x->status == 404 ? ENOENT : x->status == 403 ? EACCES : EIO;
        return berth_error(err, st, "registry %s: %s: HTTP %ld%s%s", x->c->host, x->what, x->status, m ? ": " : "",
                           m ? m : "");
}

static int fetch_token(struct registry_client *c, const struct registry_challenge *ch, berth_error_t **err)
{
        if (ch->realm == NULL || !(str_has_prefix(ch->realm, "https://") || str_has_prefix(ch->realm, "http://")))
                return berth_error(err, EINVAL, "registry %s: bearer challenge without an http(s) realm", c->host);

        /* Build realm?service=..&scope=.. */
        _cleanup_free_ char *url = xstrdup(ch->realm);
        const char *names[] = { "service", "scope" };
        const char *vals[] = { ch->service, ch->scope };
        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                if (vals[i] == NULL)
                        continue;
                char *esc = curl_easy_escape(c->curl, vals[i], 0);
                char *n = xasprintf("%s%c%s=%s", url, strchr(url, '?') ? '&' : '?', names[i], esc);
                curl_free(esc);
                free(url);
                url = n;
        }

        struct xfer x = { .method = "GET", .url = steal_pointer(&url), .what = "token", .c = c };
        x.body.max = TOKEN_BODY_MAX;
        x.errbody.max = ERRBODY_MAX;
        char curlerr[CURL_ERROR_SIZE] = "";
        CURLcode rc = CURLE_OK;
        long backoff = REGISTRY_BACKOFF_MS;
        for (int attempt = 1; attempt <= REGISTRY_TRIES; attempt++) {
                set_common(c);
                buf_reset(&x.body);
                buf_reset(&x.errbody);
                curl_easy_setopt(c->curl, CURLOPT_URL, x.url);
                curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, curlerr);
                curl_easy_setopt(c->curl, CURLOPT_HEADERFUNCTION, on_header);
                curl_easy_setopt(c->curl, CURLOPT_HEADERDATA, &x);
                curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &x);
                if (c->username) {
                        curl_easy_setopt(c->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
                        curl_easy_setopt(c->curl, CURLOPT_USERNAME, c->username);
                        curl_easy_setopt(c->curl, CURLOPT_PASSWORD, c->password ? c->password : "");
                }
                rc = curl_easy_perform(c->curl);
                curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, NULL);
                if (rc == CURLE_OK)
                        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &x.status);
                bool retry = rc != CURLE_OK ? curl_retryable(rc) : x.status >= 500;
                if (!retry)
                        break;
                if (attempt < REGISTRY_TRIES) {
                        sleep_ms(backoff);
                        backoff *= 2;
                }
        }
        int r;
        if (rc != CURLE_OK) {
                r = berth_error(err, EIO, "registry %s: token from %s: %s", c->host, ch->realm,
                                curlerr[0] ? curlerr : curl_easy_strerror(rc));
        } else if (x.status == 401 || x.status == 403) {
                r = berth_error(err, EACCES, "registry %s: token server refused the credentials (HTTP %ld)%s", c->host,
                                x.status, c->username ? "" : " (no credentials)");
        } else if (x.status != 200) {
                r = berth_error(err, EIO, "registry %s: token from %s: HTTP %ld", c->host, ch->realm, x.status);
        } else {
                json_t *j = json_loadb(x.body.data ? x.body.data : "", x.body.len, 0, NULL);
                const char *tok = json_string_value(json_object_get(j, "token"));
                if (tok == NULL || *tok == '\0')
                        tok = json_string_value(json_object_get(j, "access_token"));
                if (tok == NULL || *tok == '\0' || strpbrk(tok, "\r\n") != NULL) {
                        r = berth_error(err, EPROTO, "registry %s: token server answer has no usable token",
                                        c->host);
                } else {
                        free(c->auth);
                        c->auth = xasprintf("Authorization: Bearer %s", tok);
                        r = 0;
                }
                json_decref(j);
        }
        xfer_clear(&x);
        return r;
}

/* ---- API ----------------------------------------------------------------- */

int registry_ping(struct registry_client *c, berth_error_t **err)
{
        struct xfer x = { .method = "GET", .what = "ping", .c = c };
        x.url = xasprintf("%s/v2/", c->base);
        x.body.max = ERRBODY_MAX;
        x.errbody.max = ERRBODY_MAX;
        int r = perform(&x, err);
        if (r == 0 && x.status != 200)
                r = status_error(&x, err);
        xfer_clear(&x);
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

        struct xfer x = { .method = "GET", .c = c };
        _cleanup_free_ char *what = xasprintf("manifest %s:%s", repo, ref);
        x.what = what;
        x.url = xasprintf("%s/v2/%s/manifests/%s", c->base, repo, ref);
        x.body.max = MANIFEST_MAX_SIZE;
        x.errbody.max = ERRBODY_MAX;
        for (size_t i = 0; accept[i]; i++) {
                _cleanup_free_ char *h = xasprintf("Accept: %s", accept[i]);
                x.headers = curl_slist_append(x.headers, h);
        }
        int r = perform(&x, err);
        if (r < 0)
                goto out;
        if (x.status != 200) {
                r = status_error(&x, err);
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
        xfer_clear(&x);
        return r < 0 ? -1 : 0;
}

int registry_head_blob(struct registry_client *c, const char *repo, const char *digest, int64_t *size,
                       berth_error_t **err)
{
        if (digest_parse(digest, NULL, err) < 0)
                return berth_error_wrap(err, "registry %s: blob", c->host);
        _cleanup_free_ char *what = xasprintf("blob %s@%s", repo, digest);
        struct xfer x = { .method = "HEAD", .what = what, .c = c };
        x.url = xasprintf("%s/v2/%s/blobs/%s", c->base, repo, digest);
        x.errbody.max = ERRBODY_MAX;
        int r = perform(&x, err);
        if (r < 0) {
                r = -1;
        } else if (x.status == 200) {
                if (size)
                        *size = x.content_length;
                r = 1;
        } else if (x.status == 404) {
                r = 0;
        } else {
                r = status_error(&x, err);
        }
        xfer_clear(&x);
        return r;
}

struct blob_ctx {
        struct content_store *cs;
        const char *digest;
        int64_t size;
        struct ingest *in;
        int64_t offset;         /* bytes in the partial file */
        int64_t range_from;     /* what this attempt asked for */
        bool checked;           /* this attempt's first chunk seen */
        registry_progress_fn progress;
        void *progress_data;
        berth_error_t *err;
};

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

static size_t blob_sink(struct xfer *x, const char *p, size_t n)
{
        struct blob_ctx *b = x->sink_data;

        if (!b->checked) {
                b->checked = true;
                if (x->status == 206) {
                        /* Content-Range: bytes <from>-<to>/<total> */
                        long long from = -1;
                        if (x->content_range == NULL || sscanf(x->content_range, "bytes %lld-", &from) != 1 ||
                            from != b->range_from) {
                                berth_error(&b->err, EPROTO, "registry %s: blob %s: bad Content-Range for bytes=%lld-",
                                            x->c->host, b->digest, (long long)b->range_from);
                                return 0;
                        }
                } else if (b->offset > 0) {
                        /* 200 to a Range request: the whole blob comes again */
                        ingest_abort(b->in, false);
                        b->in = NULL;
                        int64_t off = 0;
                        if (ingest_begin(b->cs, b->digest, b->size, &b->in, &off, &b->err) < 0)
                                return 0;
                        b->offset = off;
                        if (b->progress)
                                b->progress(b->progress_data, b->digest, b->offset, b->size);
                }
        }
        if (ingest_write(b->in, p, n, &b->err) < 0)
                return 0;
        b->offset += n;
        if (b->progress)
                b->progress(b->progress_data, b->digest, b->offset, b->size);
        return n;
}

int registry_fetch_blob(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                        struct content_store *cs, registry_progress_fn progress, void *progress_data,
                        berth_error_t **err)
{
        if (digest_parse(digest, NULL, err) < 0)
                return berth_error_wrap(err, "registry %s: blob", c->host);
        if (content_exists(cs, digest))
                return 0;

        struct blob_ctx b = { .cs = cs, .digest = digest, .size = size, .progress = progress,
                              .progress_data = progress_data };
        if (ingest_begin(cs, digest, size, &b.in, &b.offset, err) < 0)
                return berth_error_wrap(err, "registry %s: blob %s", c->host, digest);
        if (progress)
                progress(progress_data, digest, b.offset, size);
        if (size >= 0 && b.offset == size) /* the partial is complete: just verify it */
                return ingest_commit(b.in, err) < 0 ? berth_error_wrap(err, "registry %s", c->host) : 0;

        _cleanup_free_ char *what = xasprintf("blob %s@%s", repo, digest);
        struct xfer x = { .method = "GET", .what = what, .c = c, .prepare = blob_prepare, .sink = blob_sink,
                          .sink_data = &b };
        x.url = xasprintf("%s/v2/%s/blobs/%s", c->base, repo, digest);
        x.errbody.max = ERRBODY_MAX;
        int r = perform(&x, err);
        if (r == -2) {
                /* the sink failed: a store error, or a blob bigger than announced */
                *err = steal_pointer(&b.err);
                if (b.in)
                        ingest_abort(b.in, false);
                r = berth_error_wrap(err, "registry %s", c->host);
        } else if (r < 0) {
                if (b.in) /* keep what came: the next try resumes */
                        ingest_abort(b.in, b.offset > 0);
        } else if (x.status == 416 && b.offset > 0) {
                /* the partial file is already the whole blob (size was unknown) */
                r = ingest_commit(b.in, err) < 0 ? berth_error_wrap(err, "registry %s", c->host) : 0;
        } else if (x.status != 200 && x.status != 206) {
                ingest_abort(b.in, b.offset > 0);
                r = status_error(&x, err);
        } else {
                r = ingest_commit(b.in, err) < 0 ? berth_error_wrap(err, "registry %s: %s", c->host, what) : 0;
        }
        berth_error_free(&b.err);
        xfer_clear(&x);
        return r < 0 ? -1 : 0;
}
