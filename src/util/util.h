/* Small helpers every module uses: cleanup attributes, allocation that
 * aborts on OOM, and file I/O that reports through berth_error_t. */
#pragma once
#include "error.h"
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

static inline void cleanup_freep(void *p) { free(*(void **)p); }
static inline void cleanup_closep(int *fd)
{
        if (*fd >= 0) {
                int saved = errno;
                close(*fd);
                errno = saved;
        }
}
static inline void cleanup_fclosep(FILE **f) { if (*f) fclose(*f); }
static inline void cleanup_errorp(berth_error_t **e) { berth_error_free(e); }
void cleanup_strvp(char ***v);

#define _cleanup_free_ __attribute__((cleanup(cleanup_freep)))
#define _cleanup_close_ __attribute__((cleanup(cleanup_closep)))
#define _cleanup_fclose_ __attribute__((cleanup(cleanup_fclosep)))
#define _cleanup_error_ __attribute__((cleanup(cleanup_errorp)))
#define _cleanup_strv_ __attribute__((cleanup(cleanup_strvp)))

/* Hand a pointer (or fd) over to someone else so cleanup skips it. */
#define steal_pointer(pp) ({ __typeof__(*(pp)) _p = *(pp); *(pp) = NULL; _p; })
#define steal_fd(fdp) ({ int _fd = *(fdp); *(fdp) = -1; _fd; })

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#ifndef MIN
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#endif

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Write all of buf to fd, retrying on EINTR and short writes. */
int write_all(int fd, const void *buf, size_t len);
/* The same on a socket, never raising SIGPIPE (MSG_NOSIGNAL), and waiting
 * for room on a non-blocking one: 0, or -errno (-EPIPE once the peer is
 * gone). */
int send_all(int fd, const void *buf, size_t len);

/* A growing byte string, always NUL-terminated once something was added. */
struct strbuf {
        char *data;
        size_t len, cap;
};
void strbuf_add(struct strbuf *b, const void *p, size_t n);
void strbuf_adds(struct strbuf *b, const char *s);
/* Write a file (O_TRUNC or not), e.g. a cgroup or /proc knob. */
int write_file_at(int dirfd, const char *path, const char *data, size_t len, berth_error_t **err);
int write_file(const char *path, const char *data, size_t len, berth_error_t **err);
/* Write via a temp file and rename, so readers never see half a file. */
int write_file_atomic(const char *path, const char *data, size_t len, berth_error_t **err);
/* Read a whole file, NUL-terminated; *len excludes the NUL. */
int read_file_at(int dirfd, const char *path, char **out, size_t *len, berth_error_t **err);
int read_file(const char *path, char **out, size_t *len, berth_error_t **err);
int mkdir_p(const char *path, mode_t mode, berth_error_t **err);
bool str_has_prefix(const char *s, const char *prefix);
/* Remove name in dirfd, a whole tree when it is a directory; symlinks are
 * removed, never followed (trees from images are hostile).  ENOENT is
 * success.  Returns 0 or -errno. */
int remove_tree_at(int dirfd, const char *name);
/* Remove everything inside the directory open as fd.  0 or -errno. */
int clear_dir(int fd);
/* The first len bytes of s quoted for a one-line error message: at most
 * 256 of them, bytes outside printable ASCII as \xNN, "..." when cut.
 * Outside input (a reference, a digest, a tar entry name) goes through this
 * before it reaches a message. */
char *quote_n(const char *s, size_t len);
static inline char *quote(const char *s) { return quote_n(s, strnlen(s, 257)); }
/* Parse a non-negative decimal integer; -1 on garbage. */
long long parse_ll(const char *s);

/* A Go duration ("1h30m", "10s", "1.5h", "-2m") in nanoseconds; false if
 * s is not one (docker's --since, kubectl's --timeout). */
bool go_duration_parse(const char *s, double *ns);
