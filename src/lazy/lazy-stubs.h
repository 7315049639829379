/* The stubs of one library, from its X-macro list (see lazy.h).  A
 * <lib>.c includes the library's headers, defines LAZY_SONAME (a string)
 * and LAZY_FUNCTIONS (the list's header name), then includes this file
 * once; after it, LAZY_REAL(name) is the real function, for the stubs
 * written by hand. */
#include "lazy/lazy.h"
#include <pthread.h>

#if !defined(LAZY_SONAME) || !defined(LAZY_FUNCTIONS)
#error "define LAZY_SONAME and LAZY_FUNCTIONS before including lazy-stubs.h"
#endif

/* The index of each function in lazy_fns[]. */
enum {
#define LAZY_FN(ret, name, params, args) lazy_idx_##name,
#define LAZY_VOID(name, params, args) lazy_idx_##name,
#define LAZY_SYM(name) lazy_idx_##name,
#include LAZY_FUNCTIONS
#undef LAZY_FN
#undef LAZY_VOID
#undef LAZY_SYM
        lazy_count
};

static const char *const lazy_names[lazy_count] = {
#define LAZY_FN(ret, name, params, args) [lazy_idx_##name] = #name,
#define LAZY_VOID(name, params, args) [lazy_idx_##name] = #name,
#define LAZY_SYM(name) [lazy_idx_##name] = #name,
#include LAZY_FUNCTIONS
#undef LAZY_FN
#undef LAZY_VOID
#undef LAZY_SYM
};

static void *lazy_fns[lazy_count];
static pthread_once_t lazy_once = PTHREAD_ONCE_INIT;

static void lazy_init(void)
{
        lazy_load(LAZY_SONAME, lazy_names, lazy_fns, lazy_count);
}

/* The real name, as a pointer of the header's type: loads the library on
 * first use.  pthread_once orders the writes of lazy_fns[] before every
 * read, in every thread. */
#define LAZY_REAL(name) (pthread_once(&lazy_once, lazy_init), (__typeof__(name) *)lazy_fns[lazy_idx_##name])

#pragma GCC visibility push(hidden)
#define LAZY_FN(ret, name, params, args) \
        ret name params \
        { \
                return LAZY_REAL(name) args; \
        }
#define LAZY_VOID(name, params, args) \
        void name params \
        { \
                LAZY_REAL(name) args; \
        }
#define LAZY_SYM(name)
#include LAZY_FUNCTIONS
#undef LAZY_FN
#undef LAZY_VOID
#undef LAZY_SYM
#pragma GCC visibility pop
