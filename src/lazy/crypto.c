/* libcrypto (OpenSSL), loaded on first use (lazy.h). */
#include <openssl/evp.h>
#include <openssl/opensslv.h>

/* OpenSSL 3.x is libcrypto.so.3. */
#if !defined(OPENSSL_VERSION_MAJOR) || OPENSSL_VERSION_MAJOR != 3
#error "src/lazy/crypto.c loads libcrypto.so.3: OpenSSL 3.x only"
#endif

#define LAZY_SONAME "libcrypto.so.3"
#define LAZY_FUNCTIONS "lazy/crypto-functions.h"
#include "lazy/lazy-stubs.h"
