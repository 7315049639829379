/* Content digests as the OCI image spec writes them: "sha256:<64 hex>" (and
 * "sha512:<128 hex>"), always lowercase hex.  A streaming SHA-256 over
 * OpenSSL's EVP for blobs, and the ChainID of a layer stack. */
#pragma once
#include "util/error.h"
#include <stddef.h>

#define DIGEST_ALGO_MAX 16
#define DIGEST_HEX_MAX 128
/* Longest digest string this module accepts: "sha512:" + 128 hex, plus NUL. */
#define DIGEST_STRING_MAX (sizeof("sha512:") - 1 + DIGEST_HEX_MAX + 1)

struct digest {
        char algo[DIGEST_ALGO_MAX];     /* "sha256" or "sha512" */
        char hex[DIGEST_HEX_MAX + 1];   /* lowercase, 64 or 128 characters */
};

/* Validate s as "sha256:<64 lowercase hex>" or "sha512:<128 lowercase hex>";
 * anything else is an error naming s and what is wrong with it.  out may be
 * NULL to validate only. */
int digest_parse(const char *s, struct digest *out, berth_error_t **err);

/* Streaming hash: new, update any number of times, final.  final returns a
 * malloc'd "algo:hex" string and resets the digester, so it may be reused.
 * Allocation or OpenSSL failures abort, like xmalloc. */
struct digester;
struct digester *digester_new(void);                    /* sha256 */
/* "sha256" or "sha512"; NULL for any other algorithm. */
struct digester *digester_new_algo(const char *algo);
void digester_update(struct digester *d, const void *buf, size_t len);
char *digester_final(struct digester *d);
void digester_free(struct digester *d);
static inline void cleanup_digesterp(struct digester **d) { if (*d) digester_free(*d); }
#define _cleanup_digester_ __attribute__((cleanup(cleanup_digesterp)))

/* "sha256:<hex>" of a buffer. */
char *digest_of(const void *buf, size_t len);
/* "sha256:<hex>" of everything read from fd, from its current offset to
 * end of file (so pipes work too). */
int digest_of_file(int fd, char **out, berth_error_t **err);

/* ChainID of a stack of layers, bottom first (OCI image spec, config.md):
 *   ChainID(L0) = DiffID(L0)
 *   ChainID(Ln) = sha256(ChainID(Ln-1) + " " + DiffID(Ln))
 * The diff_ids are used as given (validate them with digest_parse first).
 * Returns a malloc'd "sha256:<hex>", or NULL when n is 0. */
char *chain_id(const char *const *diff_ids, size_t n);
