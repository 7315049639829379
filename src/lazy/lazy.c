/* The loader behind the stubs (lazy.h). */
#include "lazy/lazy.h"
#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

static _Noreturn void lazy_fail(const char *soname, const char *why)
{
        /* a package dependency is missing or broken: nothing to recover */
        fprintf(stderr, "%s: cannot load %s: %s\n", program_invocation_short_name, soname,
                why ? why : "unknown error");
        fflush(stderr);
        abort();
}

void lazy_load(const char *soname, const char *const *names, void **fns, size_t n)
{
        void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

        if (h == NULL)
                lazy_fail(soname, dlerror());
        for (size_t i = 0; i < n; i++) {
                /* dlerror() is per thread; clear what an earlier call left */
                (void)dlerror();
                fns[i] = dlsym(h, names[i]);
                if (fns[i] == NULL)
                        lazy_fail(soname, dlerror());
        }
}
