#include "error.h"
#include "util.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int berth_error(berth_error_t **err, int status, const char *fmt, ...)
{
        va_list ap;
        _cleanup_free_ char *what = NULL;

        va_start(ap, fmt);
        if (vasprintf(&what, fmt, ap) < 0)
                abort();
        va_end(ap);

        if (err == NULL)
                return status > 0 ? -status : -1;
        berth_error_free(err);
        *err = xmalloc(sizeof(**err));
        (*err)->status = status;
        if (status > 0)
                (*err)->msg = xasprintf("%s: %s", what, strerror(status));
        else
                (*err)->msg = steal_pointer(&what);
        return status > 0 ? -status : -1;
}

int berth_fail(berth_error_t **err, int status, const char *fmt, ...)
{
        va_list ap;
        char *msg;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        if (err == NULL) {
                free(msg);
                return status > 0 ? -status : -1;
        }
        berth_error_free(err);
        *err = xmalloc(sizeof(**err));
        (*err)->status = status;
        (*err)->msg = msg;
        return status > 0 ? -status : -1;
}

int berth_error_wrap(berth_error_t **err, const char *fmt, ...)
{
        va_list ap;
        _cleanup_free_ char *ctx = NULL;
        char *joined;

        if (err == NULL || *err == NULL)
                return -1;
        va_start(ap, fmt);
        if (vasprintf(&ctx, fmt, ap) < 0)
                abort();
        va_end(ap);
        joined = xasprintf("%s: %s", ctx, (*err)->msg);
        free((*err)->msg);
        (*err)->msg = joined;
        return (*err)->status > 0 ? -(*err)->status : -1;
}

void berth_error_free(berth_error_t **err)
{
        if (err == NULL || *err == NULL)
                return;
        free((*err)->msg);
        free(*err);
        *err = NULL;
}

void berth_error_print(const char *prog, berth_error_t *err)
{
        if (err == NULL)
                return;
        berth_log(BERTH_LOG_ERROR, "%s", err->msg);
        if (!berth_log_goes_to_stderr())
                fprintf(stderr, "%s: %s\n", prog, err->msg);
}
