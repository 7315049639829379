/* Registry client (Distribution API v2) over libcurl, for one registry host.
 *
 * https by default; plain http only for hosts declared insecure and for
 * localhost, 127.0.0.1 and [::1] (any port).  Auth: anonymous first (or
 * the registry token, when given); on a 401 the WWW-Authenticate
 * challenge decides: Basic sends the configured
 * credentials, Bearer fetches a token from the realm (with service and
 * scope, and the credentials as basic auth when there are any) and retries
 * with "Authorization: Bearer".  The token is asked for the scope the
 * challenge names (it is authoritative; a pull token met by a push request
 * gets a new 401 naming pull,push, and the client fetches again), or, when
 * the challenge names none, the scope the request needs
 * ("repository:<repo>:pull", ":pull,push" for uploads, plus
 * "repository:<from>:pull" for a cross-repository mount).
 *
 * Retries: connection errors, 5xx and 429 answers are retried with backoff,
 * 3 tries in all (200 ms, then 400 ms).  A 429 or 503 with Retry-After
 * (seconds or an HTTP date) waits that long instead when it is longer; one
 * beyond REGISTRY_RETRY_AFTER_MAX (30 s) is not waited for: the request
 * fails with the registry's answer.  Upload bodies are not retried request
 * by request: a failed upload starts a new upload session (3 in all).
 *
 * Blob downloads stream into the content store (digest checked while
 * streaming, verified on commit) and resume a partial ingest with an HTTP
 * Range request.
 *
 * Threads: a client is used by one thread at a time.  For parallel
 * transfers give each thread a registry_client_clone(). */
#pragma once
#include "util/error.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct content_store;
struct registry_client;

struct registry_options {
        const char *username;   /* NULL: anonymous */
        const char *password;
        /* An OAuth2 refresh token (Docker's "identitytoken"): bearer
         * tokens are asked for with a POST of grant_type=refresh_token to
         * the realm instead of a GET with basic auth.  NULL: none. */
        const char *identity_token;
        /* A bearer token for the registry itself (Docker's
         * "registrytoken"): sent with every request, never exchanged; a
         * 401 then is final.  NULL: none. */
        const char *registry_token;
        bool insecure;          /* allow plain http for this host */
        const char *user_agent; /* NULL: "berth" */
};

/* Where credentials travel as a user name and password only (struct
 * image_registry_opts), these user names say the password is a token, the
 * first as Docker's credential helpers spell an identity token:
 * image_registry_client() turns them into identity_token and
 * registry_token. */
#define REGISTRY_USER_IDENTITY_TOKEN "<token>"
#define REGISTRY_USER_REGISTRY_TOKEN "<registry-token>"

/* host is what image_ref_registry_host() returns ("registry-1.docker.io",
 * "localhost:5000", "[::1]:5000").  opts may be NULL. */
int registry_client_new(const char *host, const struct registry_options *opts, struct registry_client **out,
                        berth_error_t **err);
void registry_client_free(struct registry_client *c);
static inline void registry_client_freep(struct registry_client **c) { registry_client_free(*c); }
/* A new client for another thread: same host, options and credentials,
 * and a copy of the current token, so it does not authenticate again. */
int registry_client_clone(const struct registry_client *c, struct registry_client **out, berth_error_t **err);

/* Requests this client made: every HTTP attempt to the registry (a 401
 * answered by authenticating counts twice), and token requests apart. */
struct registry_stats {
        unsigned long requests;
        unsigned long token_requests;
};
void registry_client_stats(const struct registry_client *c, struct registry_stats *out);

/* "https://host" or "http://host", as chosen for this client. */
const char *registry_client_base_url(const struct registry_client *c);

/* GET /v2/ (authenticating if the registry asks to). */
int registry_ping(struct registry_client *c, berth_error_t **err);

/* GET /v2/<repo>/manifests/<ref>; ref is a tag or a digest.  accept is a
 * NULL-terminated list of media types (NULL: every manifest and index type
 * Berth reads).  *body is NUL-terminated; *content_type and *digest may be
 * passed as NULL.  *digest is the Docker-Content-Digest header when given
 * (checked against the body when it is sha256), else the body's sha256.
 * When ref is a digest the body must hash to it. */
int registry_get_manifest(struct registry_client *c, const char *repo, const char *ref, const char *const *accept,
                          char **body, size_t *len, char **content_type, char **digest, berth_error_t **err);

/* HEAD /v2/<repo>/blobs/<digest>: 1 when present (*size, may be NULL, gets
 * Content-Length or -1), 0 when the registry does not have it, <0 error. */
int registry_head_blob(struct registry_client *c, const char *repo, const char *digest, int64_t *size,
                       berth_error_t **err);

/* Progress: called once with done = the resume offset before any byte
 * travels, then after each chunk written to the store.  total is the
 * expected size (-1 when unknown). */
typedef void (*registry_progress_fn)(void *data, const char *digest, int64_t done, int64_t total);

/* Download a blob into the content store (size -1 when unknown).  A blob
 * already in the store is not fetched.  A partial ingest left by an earlier
 * try resumes with Range; a server that ignores Range restarts from zero.
 * A digest or size mismatch is an error and leaves nothing behind. */
int registry_fetch_blob(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                        struct content_store *cs, registry_progress_fn progress, void *progress_data,
                        berth_error_t **err);

struct registry_fetch_opts {
        registry_progress_fn progress;
        void *progress_data;
        /* A tap on the blob's bytes (NULL: none), e.g. to decompress and
         * extract a layer while it downloads.  It sees every byte of the
         * blob exactly once, in order, from byte 0: the bytes of a resumed
         * partial ingest are read back from the partial file first, and
         * when a retry or a server ignoring Range sends the blob from zero
         * again, the bytes it already saw are not repeated.  Each chunk is
         * in the store's partial file before on_data sees it.  Return <0
         * to stop the download (the error is ECANCELED, the partial file
         * is kept).  When the fetch fails, what on_data saw must be thrown
         * away: the digest is only known to match on success. */
        int (*on_data)(void *data, const void *buf, size_t len);
        void *data;
};
/* registry_fetch_blob with options (o may be NULL).  Returns 0 when the
 * blob was downloaded (or a complete partial verified), 1 when it was
 * already in the store: then on_data is not called at all and the caller
 * reads the stored blob (content_open). */
int registry_fetch_blob_ex(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                           struct content_store *cs, const struct registry_fetch_opts *o, berth_error_t **err);

/* ---- push (registry-push.c) ---- */

struct registry_push_opts {
        /* 0: one monolithic PUT; else PATCH chunks of this many bytes,
         * then a PUT closing the upload */
        size_t chunk_size;
        /* called with done = 0 before the upload, as the body is read, and
         * with done = size when the blob was already there or mounted */
        registry_progress_fn progress;
        void *progress_data;
};

enum {
        REGISTRY_BLOB_UPLOADED = 0,
        REGISTRY_BLOB_EXISTS = 1,       /* HEAD found it: nothing sent */
        REGISTRY_BLOB_MOUNTED = 2,      /* cross-repository mount (201) */
};

/* Push the stored blob `digest` to repo (size -1: take the stored size;
 * otherwise it must match).  HEAD first: present → REGISTRY_BLOB_EXISTS.
 * With mount_from (another repository on this registry, or NULL) try
 * POST ?mount=&from= first; a 202 answer falls back to an upload in the
 * session it opened.  The body streams from the content store file.
 * Returns a REGISTRY_BLOB_* value or <0. */
int registry_push_blob(struct registry_client *c, const char *repo, const char *digest, int64_t size,
                       struct content_store *cs, const char *mount_from, const struct registry_push_opts *opts,
                       berth_error_t **err);

/* PUT /v2/<repo>/manifests/<ref> (a tag or a digest) with Content-Type
 * media_type.  A digest ref must be the body's digest.  The registry's
 * Docker-Content-Digest must equal the body's sha256; *digest_out (may be
 * NULL) gets it. */
int registry_put_manifest(struct registry_client *c, const char *repo, const char *ref, const char *media_type,
                          const char *body, size_t len, char **digest_out, berth_error_t **err);

/* One WWW-Authenticate challenge: scheme ("Bearer", "Basic") and the
 * parameters this client uses.  Exposed for tests. */
struct registry_challenge {
        char *scheme;
        char *realm;
        char *service;
        char *scope;
        char *error;    /* error="insufficient_scope" and the like */
};
/* Parse `Bearer realm="...",service="...",scope="..."` (quoted-string values
 * with backslash escapes, or bare tokens; unknown parameters ignored). */
int registry_challenge_parse(const char *header, struct registry_challenge *out, berth_error_t **err);
void registry_challenge_clear(struct registry_challenge *ch);
