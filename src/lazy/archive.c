/* libarchive, loaded on first use (lazy.h). */
#include <archive.h>
#include <archive_entry.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Every libarchive 3 is libarchive.so.13. */
#if ARCHIVE_VERSION_NUMBER < 3000000 || ARCHIVE_VERSION_NUMBER >= 4000000
#error "src/lazy/archive.c loads libarchive.so.13: libarchive 3.x only"
#endif

#define LAZY_SONAME "libarchive.so.13"
#define LAZY_FUNCTIONS "lazy/archive-functions.h"
#include "lazy/lazy-stubs.h"

/* A va_list cannot be passed on and libarchive exports no v-variant:
 * format here, hand over the text. */
#pragma GCC visibility push(hidden)
void archive_set_error(struct archive *a, int err, const char *fmt, ...)
{
        __typeof__(archive_set_error) *real = LAZY_REAL(archive_set_error);
        char *msg = NULL;
        va_list ap;
        int n;

        if (fmt == NULL) { /* clears the error */
                real(a, err, NULL);
                return;
        }
        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        real(a, err, "%s", n >= 0 ? msg : fmt);
        if (n >= 0)
                free(msg);
}
#pragma GCC visibility pop
