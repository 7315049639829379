/* Delay-loading, as Windows calls it: berthd and berth link stubs under
 * the real names of the functions they call in libarchive, libcurl,
 * libcrypto and gnutls instead of the libraries themselves, so that a
 * daemon that never pulls, imports or serves TLS never maps them (each
 * costs megabytes of resident memory and milliseconds at every start).
 *
 * A library's stubs live in <lib>.c, generated from an X-macro list in
 * <lib>-functions.h, one line per function:
 *
 *   LAZY_FN(int, archive_read_next_header, (struct archive *a, struct archive_entry **e), (a, e))
 *   LAZY_VOID(archive_entry_free, (struct archive_entry *e), (e))    returns void
 *   LAZY_SYM(curl_easy_setopt)    resolved, but the stub is written by hand
 *                                 (variadic functions, variables)
 *
 * <lib>.c includes the library's own headers first, so a prototype that
 * differs from the header's is a compile error.  The first call of any
 * stub of a library dlopen()s it (RTLD_NOW | RTLD_LOCAL, by soname) and
 * resolves every function of its list, once (pthread_once; later calls
 * cost an atomic load and an indirect call); a library or symbol that
 * cannot be loaded is a broken install: one line on stderr, then
 * abort().  The stubs have hidden visibility: they never interpose on
 * another library's calls into the real one.
 *
 * Only the berthd and berth executables (and tests/unit/test-lazy.c) link
 * the stubs; libberth compiles against the headers, and the other tests
 * and the static berth-runtime and berth-shim link the real libraries
 * (top-level meson.build). */
#pragma once
#include <stddef.h>

/* dlopen(soname) and dlsym() each of names[0..n) into fns[]; on any
 * failure prints "<program>: cannot load <soname>: <dlerror>" and aborts. */
void lazy_load(const char *soname, const char *const *names, void **fns, size_t n);
