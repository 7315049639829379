/* Error contract (after crun's error.c): a fallible function returns a
 * negative value and fills *err; callers add context with berth_error_wrap;
 * the top level prints one line "berth: <what>: <why>". */
#pragma once
#include <stdarg.h>

typedef struct berth_error {
        int status; /* errno value, 0 when the cause is not a syscall */
        char *msg;
} berth_error_t;

/* Make an error; returns a negative value for `return berth_error(...)`. */
int berth_error(berth_error_t **err, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* An error whose message is complete as given (no strerror appended), with
 * a status callers act on: "No such container: x" with ENOENT, which the
 * API answers with 404. */
int berth_fail(berth_error_t **err, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Prefix the existing error with context: "context: old message". */
int berth_error_wrap(berth_error_t **err, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
void berth_error_free(berth_error_t **err);
/* Print "prog: message" to stderr (and to the log when one is set). */
void berth_error_print(const char *prog, berth_error_t *err);
