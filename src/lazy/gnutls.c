/* gnutls, loaded on first use (lazy.h). */
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

/* gnutls 3.4 and later is libgnutls.so.30. */
#if GNUTLS_VERSION_MAJOR != 3 || GNUTLS_VERSION_NUMBER < 0x030400
#error "src/lazy/gnutls.c loads libgnutls.so.30: gnutls 3.4 or later 3.x only"
#endif

#define LAZY_SONAME "libgnutls.so.30"
#define LAZY_FUNCTIONS "lazy/gnutls-functions.h"
#include "lazy/lazy-stubs.h"

/* gnutls_free is a variable holding the library's free function: ours
 * holds a function that calls what the library's holds.  (LAZY_REAL gives
 * the variable's address, typed as a pointer to it.) */
static void lazy_gnutls_free(void *p)
{
        (*LAZY_REAL(gnutls_free))(p);
}

#pragma GCC visibility push(hidden)
gnutls_free_function gnutls_free = lazy_gnutls_free;
#pragma GCC visibility pop
