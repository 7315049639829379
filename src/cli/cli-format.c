/* Output formatting shared by the listing commands: docker's tables (Go's
 * tabwriter with min width 10, padding 3), its human sizes and durations
 * (go-units), and the truncations of the ps and images columns. */
#include "cli/cli.h"
#include <stdarg.h>
#include <time.h>

void table_init(struct table *t, size_t ncols)
{
        memset(t, 0, sizeof(*t));
        t->ncols = ncols;
}

void table_addv(struct table *t, char **cells)
{
        if (t->nrows == t->cap) {
                t->cap = t->cap ? t->cap * 2 : 16;
                t->cells = xrealloc(t->cells, t->cap * t->ncols * sizeof(char *));
        }
        for (size_t i = 0; i < t->ncols; i++)
                t->cells[t->nrows * t->ncols + i] = xstrdup(cells[i] ? cells[i] : "");
        t->nrows++;
}

void table_add(struct table *t, ...)
{
        _cleanup_free_ char **cells = xcalloc(t->ncols, sizeof(char *));
        va_list ap;

        va_start(ap, t);
        for (size_t i = 0; i < t->ncols; i++)
                cells[i] = va_arg(ap, char *);
        va_end(ap);
        table_addv(t, cells);
}

/* Width as tabwriter counts it: one per UTF-8 character. */
static size_t text_width(const char *s)
{
        size_t w = 0;

        for (; *s; s++)
                if (((unsigned char)*s & 0xc0) != 0x80)
                        w++;
        return w;
}

void table_print(struct table *t, FILE *out)
{
        table_print_min(t, out, 10);
}

void table_print_min(struct table *t, FILE *out, size_t min_width)
{
        _cleanup_free_ size_t *width = xcalloc(t->ncols, sizeof(size_t));

        for (size_t c = 0; c + 1 < t->ncols; c++) {
                width[c] = min_width;
                for (size_t r = 0; r < t->nrows; r++) {
                        size_t w = text_width(t->cells[r * t->ncols + c]) + 3;
                        if (w > width[c])
                                width[c] = w;
                }
        }
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *cell = t->cells[r * t->ncols + c];
                        fputs(cell, out);
                        if (c + 1 < t->ncols)
                                fprintf(out, "%*s", (int)(width[c] - text_width(cell)), "");
                }
                fputc('\n', out);
        }
}

void table_free(struct table *t)
{
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
        memset(t, 0, sizeof(*t));
}

static char *scaled(double size, double base, const char *const *units, size_t nunits, int digits)
{
        size_t i = 0;

        while (size >= base && i + 1 < nunits) {
                size /= base;
                i++;
        }
        return xasprintf("%.*g%s", digits, size, units[i]);
}

char *human_size(double bytes)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
        return scaled(bytes, 1000.0, units, ARRAY_SIZE(units), 3);
}

char *human_size4(double bytes)
{
        static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB" };
        return scaled(bytes, 1000.0, units, ARRAY_SIZE(units), 4);
}

char *human_bytes(double bytes)
{
        static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB" };
        return scaled(bytes, 1024.0, units, ARRAY_SIZE(units), 4);
}

char *human_duration(long long s)
{
        long long minutes = s / 60, hours = (s + 1800) / 3600;

        if (s < 1)
                return xstrdup("Less than a second");
        if (s == 1)
                return xstrdup("1 second");
        if (s < 60)
                return xasprintf("%lld seconds", s);
        if (minutes == 1)
                return xstrdup("About a minute");
        if (minutes < 60)
                return xasprintf("%lld minutes", minutes);
        if (hours == 1)
                return xstrdup("About an hour");
        if (hours < 48)
                return xasprintf("%lld hours", hours);
        if (hours < 24 * 7 * 2)
                return xasprintf("%lld days", hours / 24);
        if (hours < 24 * 30 * 2)
                return xasprintf("%lld weeks", hours / 24 / 7);
        if (hours < 24 * 365 * 2)
                return xasprintf("%lld months", hours / 24 / 30);
        return xasprintf("%lld years", s / 3600 / 24 / 365);
}

char *ellipsis(const char *s, size_t width)
{
        size_t chars = 0;
        const char *p;

        if (text_width(s) <= width)
                return xstrdup(s);
        if (width == 0)
                return xstrdup("");
        /* keep width-1 characters and add the ellipsis character */
        for (p = s; *p; p++) {
                if (((unsigned char)*p & 0xc0) != 0x80) {
                        if (chars == width - 1)
                                break;
                        chars++;
                }
        }
        return xasprintf("%.*s…", (int)(p - s), s);
}

char *go_quote(const char *s)
{
        size_t cap = strlen(s) * 4 + 3, n = 0;
        char *q = xmalloc(cap);

        q[n++] = '"';
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                const char *esc = NULL;
                switch (*p) {
                case '\a': esc = "\\a"; break;
                case '\b': esc = "\\b"; break;
                case '\f': esc = "\\f"; break;
                case '\n': esc = "\\n"; break;
                case '\r': esc = "\\r"; break;
                case '\t': esc = "\\t"; break;
                case '\v': esc = "\\v"; break;
                case '\\': esc = "\\\\"; break;
                case '"': esc = "\\\""; break;
                }
                if (esc) {
                        memcpy(q + n, esc, 2);
                        n += 2;
                } else if (*p < 0x20 || *p == 0x7f) {
                        n += (size_t)snprintf(q + n, cap - n, "\\x%02x", *p);
                } else {
                        q[n++] = (char)*p;
                }
        }
        q[n++] = '"';
        q[n] = '\0';
        return q;
}

char *short_id(const char *id)
{
        const char *colon = strchr(id, ':');

        if (colon && str_has_prefix(id, "sha256:"))
                id = colon + 1;
        return xasprintf("%.12s", id);
}

long long parse_rfc3339(const char *s, long *nanos)
{
        struct tm tm = { 0 };
        const char *p;
        long ns = 0, digits = 0;
        long long t;

        if (nanos)
                *nanos = 0;
        if (s == NULL)
                return -1;
        p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
        if (p == NULL)
                return -1;
        if (*p == '.') {
                for (p++; *p >= '0' && *p <= '9'; p++) {
                        if (digits < 9) {
                                ns = ns * 10 + (*p - '0');
                                digits++;
                        }
                }
                for (; digits < 9; digits++)
                        ns *= 10;
        }
        t = (long long)timegm(&tm);
        if (*p == '+' || *p == '-') {
                int hh = 0, mm = 0;
                if (sscanf(p + 1, "%d:%d", &hh, &mm) < 1)
                        return -1;
                t -= (*p == '+' ? 1 : -1) * (hh * 3600LL + mm * 60LL);
        } else if (*p != 'Z' && *p != '\0') {
                return -1;
        }
        if (nanos)
                *nanos = ns;
        return t;
}

char *go_time_string(long long t)
{
        time_t tt = (time_t)t;
        struct tm tm;
        char out[64];

        if (localtime_r(&tt, &tm) == NULL || strftime(out, sizeof(out), "%Y-%m-%d %H:%M:%S %z %Z", &tm) == 0)
                return xstrdup("");
        return xstrdup(out);
}
