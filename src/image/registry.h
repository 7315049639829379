/* Registry client (Distribution API v2) over libcurl, for one registry host.
 *
 * https by default; plain http only for hosts declared insecure and for
 * localhost, 127.0.0.1 and [::1] (any port).  Auth: anonymous first; on a
 * 401 the WWW-Authenticate challenge decides: Basic sends the configured
 * credentials, Bearer fetches a token from the realm (with service and
 * scope, and the credentials as basic auth when there are any) and retries
 * with "Authorization: Bearer".  Connection errors and 5xx answers are
 * retried with backoff, 3 tries in all.  Blob downloads stream into the
 * content store (digest checked while streaming, verified on commit) and
 * resume a partial ingest with an HTTP Range request. */
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
        bool insecure;          /* allow plain http for this host */
        const char *user_agent; /* NULL: "berth" */
};

/* host is what image_ref_registry_host() returns ("registry-1.docker.io",
 * "localhost:5000", "[::1]:5000").  opts may be NULL. */
int registry_client_new(const char *host, const struct registry_options *opts, struct registry_client **out,
                        berth_error_t **err);
void registry_client_free(struct registry_client *c);
static inline void registry_client_freep(struct registry_client **c) { registry_client_free(*c); }
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
