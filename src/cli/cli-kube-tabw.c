/* Go's text/tabwriter as kubectl uses it (padding with spaces, no flags):
 * a column block is the run of consecutive lines that have a cell in that
 * column, as wide as its widest cell plus the padding.  Pure, no I/O. */
#include "cli/cli-kube.h"
#include <stdarg.h>

/* ---- Go's text/tabwriter ---- */

struct tw_cell {
        const char *text;
        size_t len, width;
};
struct tw_line {
        struct tw_cell *cells;
        size_t n;
};
struct tw_layout {
        struct tw_line *lines;
        size_t nlines;
        size_t minwidth, padding;
        size_t *widths;         /* one per column being formatted */
        struct strbuf out;
};

void tabw_init(struct tabw *w, size_t minwidth, size_t padding)
{
        memset(w, 0, sizeof(*w));
        w->minwidth = minwidth;
        w->padding = padding;
        strbuf_adds(&w->text, "");
}

void tabw_printf(struct tabw *w, const char *fmt, ...)
{
        va_list ap;
        char *s;

        va_start(ap, fmt);
        if (vasprintf(&s, fmt, ap) < 0)
                abort();
        va_end(ap);
        strbuf_adds(&w->text, s);
        free(s);
}

static size_t utf8_width(const char *s, size_t n)
{
        size_t w = 0;

        for (size_t i = 0; i < n; i++)
                if (((unsigned char)s[i] & 0xc0) != 0x80)
                        w++;
        return w;
}

static void tw_split(struct tw_layout *t, const char *text)
{
        const char *p = text;
        size_t cap = 0;

        while (*p) {
                const char *nl = strchr(p, '\n');
                const char *end = nl ? nl : p + strlen(p);
                struct tw_line l = { 0 };
                size_t lcap = 0;
                for (const char *c = p;;) {
                        const char *tab = memchr(c, '\t', (size_t)(end - c));
                        const char *ce = tab ? tab : end;
                        if (l.n == lcap) {
                                lcap = lcap ? lcap * 2 : 4;
                                l.cells = xrealloc(l.cells, lcap * sizeof(*l.cells));
                        }
                        l.cells[l.n++] = (struct tw_cell){ c, (size_t)(ce - c), utf8_width(c, (size_t)(ce - c)) };
                        if (tab == NULL)
                                break;
                        c = tab + 1;
                }
                if (t->nlines == cap) {
                        cap = cap ? cap * 2 : 16;
                        t->lines = xrealloc(t->lines, cap * sizeof(*t->lines));
                }
                t->lines[t->nlines++] = l;
                p = nl ? nl + 1 : end;
        }
}

static void tw_write_lines(struct tw_layout *t, size_t ncols, size_t line0, size_t line1)
{
        for (size_t i = line0; i < line1; i++) {
                const struct tw_line *l = &t->lines[i];
                for (size_t j = 0; j < l->n; j++) {
                        strbuf_add(&t->out, l->cells[j].text, l->cells[j].len);
                        /* the last cell of a line is not tab-terminated: no padding */
                        if (j < ncols && j + 1 < l->n)
                                for (size_t k = l->cells[j].width; k < t->widths[j]; k++)
                                        strbuf_add(&t->out, " ", 1);
                }
                strbuf_add(&t->out, "\n", 1);
        }
}

/* format() of Go's tabwriter: a column block is the run of consecutive
 * lines that have a cell in that column; its width is the widest cell
 * plus padding. */
static void tw_format(struct tw_layout *t, size_t column, size_t line0, size_t line1)
{
        for (size_t this = line0; this < line1; this++) {
                size_t width = t->minwidth;
                if (column + 1 >= t->lines[this].n)
                        continue;
                tw_write_lines(t, column, line0, this);
                line0 = this;
                for (; this < line1 && column + 1 < t->lines[this].n; this++) {
                        size_t w = t->lines[this].cells[column].width + t->padding;
                        if (w > width)
                                width = w;
                }
                t->widths[column] = width;
                tw_format(t, column + 1, line0, this);
                line0 = this;
                if (this == line1)
                        break;
        }
        tw_write_lines(t, column, line0, line1);
}

char *tabw_render(struct tabw *w)
{
        struct tw_layout t = { .minwidth = w->minwidth, .padding = w->padding };
        size_t maxcells = 1;

        tw_split(&t, w->text.data ? w->text.data : "");
        for (size_t i = 0; i < t.nlines; i++)
                if (t.lines[i].n > maxcells)
                        maxcells = t.lines[i].n;
        t.widths = xcalloc(maxcells, sizeof(size_t));
        strbuf_adds(&t.out, "");
        tw_format(&t, 0, 0, t.nlines);
        for (size_t i = 0; i < t.nlines; i++)
                free(t.lines[i].cells);
        free(t.lines);
        free(t.widths);
        w->text.len = 0;
        w->text.data[0] = '\0';
        return t.out.data;
}

void tabw_free(struct tabw *w)
{
        free(w->text.data);
        memset(w, 0, sizeof(*w));
}
