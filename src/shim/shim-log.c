/* The container log in Docker's json-file format, with Docker's rotation:
 * before an entry is written to a file that has reached max-size, FILE.N-2
 * .. FILE.1 move up one, FILE becomes FILE.1 and a new FILE starts (with
 * max-files 1, FILE is just emptied). */
#include "shim/shim-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

static const char *const stream_names[] = { "stdin", "stdout", "stderr" };

static int open_log(struct shim_log *l, int flags, berth_error_t **err)
{
        struct stat st;

        l->fd = open(l->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | flags, 0640);
        if (l->fd < 0)
                return berth_error(err, errno, "open log %s", l->path);
        l->size = fstat(l->fd, &st) == 0 ? st.st_size : 0;
        return 0;
}

int shim_log_open(struct shim_log *l, const char *path, long long max_size, int max_files, berth_error_t **err)
{
        memset(l, 0, sizeof(*l));
        l->path = xstrdup(path);
        l->max_size = max_size;
        l->max_files = max_files < 1 ? 1 : max_files;
        return open_log(l, 0, err);
}

static void log_failure(struct shim_log *l, const char *what)
{
        /* once: a full disk must not flood the shim's own log */
        if (!l->failed)
                berth_log(BERTH_LOG_ERROR, "%s %s: %s", what, l->path, strerror(errno));
        l->failed = true;
}

static void rotate(struct shim_log *l)
{
        _cleanup_error_ berth_error_t *err = NULL;

        for (int i = l->max_files - 1; i >= 1; i--) {
                _cleanup_free_ char *from = i == 1 ? xstrdup(l->path) : xasprintf("%s.%d", l->path, i - 1);
                _cleanup_free_ char *to = xasprintf("%s.%d", l->path, i);
                if (rename(from, to) < 0 && errno != ENOENT)
                        log_failure(l, "rotate");
        }
        close(l->fd);
        if (open_log(l, O_TRUNC, &err) < 0)
                berth_log(BERTH_LOG_ERROR, "%s", err->msg);
}

static void write_entry(struct shim_log *l, enum shim_stream s, const char *text, size_t len)
{
        struct timespec now;
        char ts[SHIM_TIME_MAX];
        struct shim_buf *e = &l->entry;

        if (l->max_size > 0 && l->size >= l->max_size)
                rotate(l);
        if (l->fd < 0)
                return;
        clock_gettime(CLOCK_REALTIME, &now);
        shim_format_time(&now, ts);
        e->len = 0;
        shim_buf_append(e, "{\"log\":", 7);
        shim_json_string(e, text, len);
        shim_buf_append(e, ",\"stream\":\"", 11);
        shim_buf_append(e, stream_names[s], strlen(stream_names[s]));
        shim_buf_append(e, "\",\"time\":\"", 10);
        shim_buf_append(e, ts, strlen(ts));
        shim_buf_append(e, "\"}\n", 3);
        /* one write per entry: a reader following the file never sees half */
        if (write_all(l->fd, e->data, e->len) < 0)
                log_failure(l, "write log");
        else
                l->size += (long long)e->len;
        /* an escaped 16 KiB line takes up to 96 KiB: do not keep that */
        if (e->cap > 8192)
                shim_buf_free(e);
}

void shim_log_write(struct shim_log *l, enum shim_stream s, const char *data, size_t len)
{
        while (len > 0) {
                const char *nl = memchr(data, '\n', len);
                size_t take = nl ? (size_t)(nl - data) + 1 : len;
                size_t have = l->partial_len[s];

                /* whole lines straight from the read buffer, no copy */
                if (have == 0 && nl && take <= SHIM_LOG_LINE_MAX) {
                        write_entry(l, s, data, take);
                        data += take;
                        len -= take;
                        continue;
                }
                if (take > SHIM_LOG_LINE_MAX - have)
                        take = SHIM_LOG_LINE_MAX - have;
                if (l->partial[s] == NULL)
                        l->partial[s] = xmalloc(SHIM_LOG_LINE_MAX);
                memcpy(l->partial[s] + have, data, take);
                l->partial_len[s] += take;
                data += take;
                len -= take;
                if (l->partial[s][l->partial_len[s] - 1] == '\n' || l->partial_len[s] == SHIM_LOG_LINE_MAX)
                        shim_log_flush(l, s);
        }
}

void shim_log_flush(struct shim_log *l, enum shim_stream s)
{
        if (l->partial_len[s] > 0)
                write_entry(l, s, l->partial[s], l->partial_len[s]);
        free(l->partial[s]);
        l->partial[s] = NULL;
        l->partial_len[s] = 0;
}

void shim_log_close(struct shim_log *l)
{
        shim_log_flush(l, SHIM_STDOUT);
        shim_log_flush(l, SHIM_STDERR);
        if (l->fd >= 0)
                close(l->fd);
        l->fd = -1;
        shim_buf_free(&l->entry);
        free(l->path);
        l->path = NULL;
}
