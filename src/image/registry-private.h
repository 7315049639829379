/* Registry client internals shared by registry.c (transport, auth, pull)
 * and registry-push.c (uploads).  Not an API: nothing outside these two
 * files includes this. */
#pragma once
#include "image/registry.h"
#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#define REGISTRY_TRIES 3
#define REGISTRY_BACKOFF_MS 200         /* 200 ms, then 400 ms */
/* A Retry-After longer than this is not waited for: the request fails. */
#define REGISTRY_RETRY_AFTER_MAX 30
#define ERRBODY_MAX 4096

struct registry_client {
        char *host;
        char *base;             /* scheme://host */
        char *username, *password;
        char *identity_token;   /* OAuth2 refresh token, or NULL */
        char *registry_token;   /* a bearer token given as is, or NULL */
        char *user_agent;
        char *auth;             /* current "Authorization: ..." header or NULL */
        char *auth_scope;       /* the scope the bearer token in auth was asked for */
        CURL *curl;
        struct registry_stats stats;
};

struct buf {
        char *data;
        size_t len, cap, max;
        bool overflow;
};

/* A request body: len bytes from mem, or from fd at offset off.  pos is
 * how far curl has read; progress (may be NULL) hears base + pos. */
struct upload {
        const char *mem;
        int fd;
        int64_t off, len, pos;
        registry_progress_fn progress;
        void *progress_data;
        const char *digest;
        int64_t base, total;
        int read_errno;         /* why reading the file failed */
};

struct xfer {
        const char *method;     /* GET HEAD POST PUT PATCH DELETE */
        char *url;
        const char *what;       /* for messages: "manifest", "blob sha256:..." */
        /* token scope to ask for when a bearer challenge names none */
        const char *scope;
        /* the url leaves our registry (a Location elsewhere): no credentials */
        bool no_auth;
        /* the body may be half consumed by the server after a failure:
         * no retry here, the caller starts over (a new upload session) */
        bool no_retry;
        struct curl_slist *headers; /* fixed extra headers (Accept) */
        struct upload *up;      /* request body or NULL */
        /* called before each attempt: add per-attempt headers (Range) */
        int (*prepare)(struct xfer *x, struct curl_slist **hdrs, berth_error_t **err);
        /* body sink for 2xx answers; NULL: keep it in `body` */
        size_t (*sink)(struct xfer *x, const char *p, size_t n);
        void *sink_data;
        struct registry_client *c;
        /* results of the last attempt */
        long status;
        struct buf body, errbody;
        char *content_type, *docker_digest, *www_auth, *content_range, *location, *range;
        int64_t content_length;
        long retry_after;       /* seconds, -1 when not given */
        bool transient;         /* the last failure is worth another try */
};

/* Run x with retries and auth; 0 with x->status set, -1 with *err, or -2
 * when the sink failed (the sink holds its error). */
int registry_perform(struct xfer *x, berth_error_t **err);
void registry_xfer_clear(struct xfer *x);
/* An error for an unexpected HTTP status of x. */
int registry_status_error(struct xfer *x, berth_error_t **err);
void registry_sleep_ms(long ms);
