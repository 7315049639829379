/* Progress streams (pull, later push, load and build): one JSON message per
 * line, shown as docker shows them.  On a terminal each layer keeps one
 * line that is redrawn in place (cursor up to it, clear, rewrite, cursor
 * back down); elsewhere the progress bars are dropped and only the status
 * changes ("Pulling fs layer", "Pull complete") are printed.  An
 * errorDetail in the stream is the operation's failure. */
#include "cli/cli.h"

void jsonmsg_init(struct jsonmsg_display *d, FILE *out, bool terminal)
{
        memset(d, 0, sizeof(*d));
        d->out = out;
        d->terminal = terminal;
}

void jsonmsg_fini(struct jsonmsg_display *d)
{
        for (size_t i = 0; i < d->nids; i++)
                free(d->ids[i]);
        free(d->ids);
        free(d->buf);
        free(d->error);
        memset(d, 0, sizeof(*d));
}

static void forget_ids(struct jsonmsg_display *d)
{
        for (size_t i = 0; i < d->nids; i++)
                free(d->ids[i]);
        d->nids = 0;
}

/* The line index of id, adding it (and a fresh line on a terminal). */
static size_t line_of(struct jsonmsg_display *d, const char *id)
{
        for (size_t i = 0; i < d->nids; i++)
                if (strcmp(d->ids[i], id) == 0)
                        return i;
        d->ids = xrealloc(d->ids, (d->nids + 1) * sizeof(char *));
        d->ids[d->nids] = xstrdup(id);
        if (d->terminal)
                fputc('\n', d->out);
        return d->nids++;
}

/* The bar docker draws from progressDetail when the daemon sent none. */
static char *progress_text(json_t *m)
{
        json_t *detail = json_object_get(m, "progressDetail");
        const char *server = json_string_value(json_object_get(m, "progress"));
        json_int_t cur = json_integer_value(json_object_get(detail, "current"));
        json_int_t total = json_integer_value(json_object_get(detail, "total"));

        if (cur <= 0 && total <= 0)
                return NULL;
        if (server && *server)
                return xstrdup(server);
        _cleanup_free_ char *c = human_size((double)cur);
        if (total <= 0)
                return xasprintf("%8s", c);
        _cleanup_free_ char *t = human_size((double)total);
        int pct = (int)((double)cur / (double)total * 50.0);
        if (pct > 50)
                pct = 50;
        if (pct < 0)
                pct = 0;
        char bar[52];
        memset(bar, '=', (size_t)pct);
        bar[pct] = '>';
        memset(bar + pct + 1, ' ', (size_t)(50 - pct));
        bar[51] = '\0';
        return xasprintf("[%.*s] %8s/%s", 51, bar, c, t);
}

static void show(struct jsonmsg_display *d, json_t *m)
{
        const char *id = json_string_value(json_object_get(m, "id"));
        const char *status = json_string_value(json_object_get(m, "status"));
        const char *stream = json_string_value(json_object_get(m, "stream"));
        bool has_progress = json_object_get(m, "progressDetail") != NULL;
        _cleanup_free_ char *bar = has_progress ? progress_text(m) : NULL;
        size_t up = 0;

        if (json_object_get(m, "aux") && d->on_aux)
                d->on_aux(d->aux_opaque, json_object_get(m, "aux"));
        if (json_object_get(m, "aux") || d->out == NULL)
                return;
        if (id && *id && has_progress) {
                size_t line = line_of(d, id);
                up = d->nids - line;
                if (d->terminal)
                        fprintf(d->out, "\033[%zuA", up);
        } else {
                /* a line that is not a layer's progress ends the block of
                 * lines that may be redrawn */
                forget_ids(d);
                id = id && *id ? id : NULL;
        }
        if (d->terminal && has_progress && stream == NULL) {
                fputs("\033[2K\r", d->out);
                if (id)
                        fprintf(d->out, "%s: ", id);
                fprintf(d->out, "%s %s\r", status ? status : "", bar ? bar : "");
        } else if (!d->terminal && bar) {
                /* no progress bars when not on a terminal */
        } else if (stream) {
                fputs(stream, d->out);
        } else {
                if (id)
                        fprintf(d->out, "%s: ", id);
                fprintf(d->out, "%s\n", status ? status : "");
        }
        if (up && d->terminal)
                fprintf(d->out, "\033[%zuB", up);
        fflush(d->out);
}

static int line(struct jsonmsg_display *d, const char *p, size_t n)
{
        _cleanup_json_ json_t *m = NULL;
        json_t *detail;
        const char *msg;

        while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
                n--;
        if (n == 0 || d->error)
                return 0;
        m = json_loadb(p, n, 0, NULL);
        if (m == NULL || !json_is_object(m))
                return 0;       /* not ours to judge: skip what we cannot read */
        detail = json_object_get(m, "errorDetail");
        msg = json_string_value(json_object_get(detail, "message"));
        if (msg == NULL)
                msg = json_string_value(json_object_get(m, "error"));
        if (msg) {
                d->error = xstrdup(msg);
                d->error_code = (long)json_integer_value(json_object_get(detail, "code"));
                return 0;
        }
        show(d, m);
        return 0;
}

int jsonmsg_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        struct jsonmsg_display *d = opaque;
        (void)err;

        d->buf = xrealloc(d->buf, d->len + len + 1);
        memcpy(d->buf + d->len, data, len);
        d->len += len;
        for (;;) {
                char *nl = memchr(d->buf, '\n', d->len);
                if (nl == NULL)
                        break;
                line(d, d->buf, (size_t)(nl - d->buf));
                d->len -= (size_t)(nl + 1 - d->buf);
                memmove(d->buf, nl + 1, d->len);
        }
        return 0;
}

int jsonmsg_finish(struct jsonmsg_display *d, berth_error_t **err)
{
        if (d->len > 0) {
                line(d, d->buf, d->len);
                d->len = 0;
        }
        if (d->out)
                fflush(d->out);
        if (d->error)
                return berth_error(err, 0, "%s", d->error);
        return 0;
}
