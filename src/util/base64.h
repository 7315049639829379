/* base64, as Go's encoding/base64 speaks it to and from Docker's clients:
 * X-Registry-Auth (URL alphabet), X-Docker-Container-Path-Stat and the
 * "auth" of config.json (standard alphabet, padded).  Here rather than
 * libcrypto's EVP_EncodeBlock, so that a `docker cp` does not load
 * libcrypto into berthd (src/lazy). */
#pragma once
#include <stdbool.h>
#include <stddef.h>

/* Padded; the URL alphabet (-_) when url, else the standard one (+/). */
char *base64_encode(const void *data, size_t len, bool url);
/* Either alphabet, padding optional; NUL-terminated, *len (if not NULL)
 * without it.  NULL when s is not base64. */
char *base64_decode(const char *s, size_t *len);
