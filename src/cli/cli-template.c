/* The part of Go's text/template that --format strings use in practice:
 * field paths into a JSON document ({{.State.Status}}), {{json .X}},
 * {{upper}}/{{lower}}, {{join .X ","}}, {{index .X "key"}}.  Anything
 * else is refused with an error rather than printed wrongly. */
#include "cli/cli.h"
#include <ctype.h>


static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Go's %v of a value decoded from JSON. */
static void print_value(struct strbuf *b, json_t *v)
{
        char num[64];

        if (v == NULL) {
                strbuf_adds(b, "<no value>");
                return;
        }
        switch (json_typeof(v)) {
        case JSON_STRING:
                strbuf_add(b, json_string_value(v), json_string_length(v));
                break;
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                strbuf_adds(b, num);
                break;
        case JSON_REAL:
                snprintf(num, sizeof(num), "%.17g", json_real_value(v));
                strbuf_adds(b, num);
                break;
        case JSON_TRUE:
                strbuf_adds(b, "true");
                break;
        case JSON_FALSE:
                strbuf_adds(b, "false");
                break;
        case JSON_NULL:
                strbuf_adds(b, "<nil>");
                break;
        case JSON_ARRAY: {
                size_t i;
                json_t *e;
                strbuf_adds(b, "[");
                json_array_foreach(v, i, e) {
                        if (i)
                                strbuf_adds(b, " ");
                        print_value(b, e);
                }
                strbuf_adds(b, "]");
                break;
        }
        case JSON_OBJECT: {
                /* Go prints maps with sorted keys */
                size_t n = json_object_size(v), i = 0;
                _cleanup_free_ const char **keys = xcalloc(n, sizeof(char *));
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e)
                        keys[i++] = k;
                qsort(keys, n, sizeof(char *), cmp_str);
                strbuf_adds(b, "map[");
                for (i = 0; i < n; i++) {
                        if (i)
                                strbuf_adds(b, " ");
                        strbuf_adds(b, keys[i]);
                        strbuf_adds(b, ":");
                        print_value(b, json_object_get(v, keys[i]));
                }
                strbuf_adds(b, "]");
                break;
        }
        }
}

/* A term: ".", ".A.B", or a "quoted string"; returns a new reference, or
 * NULL for a missing field (which prints as <no value>). */
static int eval_term(const char *w, json_t *data, json_t **out, berth_error_t **err)
{
        *out = NULL;
        if (w[0] == '"') {
                size_t n = strlen(w);
                if (n < 2 || w[n - 1] != '"')
                        return berth_error(err, 0, "template: unterminated string %s", w);
                *out = json_stringn(w + 1, n - 2);
                return 0;
        }
        if (w[0] != '.')
                return berth_error(err, 0, "template: unsupported term \"%s\"", w);
        json_t *cur = data;
        const char *p = w + 1;
        while (*p) {
                const char *dot = strchr(p, '.');
                size_t n = dot ? (size_t)(dot - p) : strlen(p);
                if (n == 0)
                        return berth_error(err, 0, "template: bad field path %s", w);
                if (json_is_null(cur))
                        return 0;       /* Go prints <no value> below a nil */
                if (!json_is_object(cur))
                        return berth_error(err, 0,
                                           "template: can't evaluate field %.*s in a non-object", (int)n, p);
                json_t *next = json_object_getn(cur, p, n);
                /* docker executes templates with missingkey=error */
                if (next == NULL)
                        return berth_error(err, 0, "template: executing \"\" at <%s>: map has no entry for key \"%.*s\"",
                                           w, (int)n, p);
                cur = next;
                p += n;
                if (*p == '.')
                        p++;
        }
        *out = json_incref(cur);
        return 0;
}

/* Split an action into words; quoted strings stay one word. */
static char **split_words(const char *s, size_t *n)
{
        char **v = NULL;
        size_t cnt = 0;

        while (*s) {
                const char *start;
                while (isspace((unsigned char)*s))
                        s++;
                if (!*s)
                        break;
                start = s;
                if (*s == '"') {
                        for (s++; *s && *s != '"'; s++)
                                if (*s == '\\' && s[1])
                                        s++;
                        if (*s == '"')
                                s++;
                } else {
                        while (*s && !isspace((unsigned char)*s))
                                s++;
                }
                v = xrealloc(v, (cnt + 2) * sizeof(char *));
                v[cnt++] = xasprintf("%.*s", (int)(s - start), start);
                v[cnt] = NULL;
        }
        *n = cnt;
        return v;
}

static int eval_action(const char *action, json_t *data, struct strbuf *b, berth_error_t **err)
{
        size_t n;
        _cleanup_strv_ char **w = split_words(action, &n);
        _cleanup_json_ json_t *v = NULL;

        if (n == 0)
                return berth_error(err, 0, "template: empty action");
        if (strcmp(w[0], "json") == 0 && n == 2) {
                if (eval_term(w[1], data, &v, err) < 0)
                        return -1;
                if (v == NULL) {
                        strbuf_adds(b, "null");
                        return 0;
                }
                _cleanup_free_ char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);
                strbuf_adds(b, s ? s : "null");
                return 0;
        }
        if ((strcmp(w[0], "upper") == 0 || strcmp(w[0], "lower") == 0 ||
             strcmp(w[0], "title") == 0) && n == 2) {
                struct strbuf tmp = { 0 };
                if (eval_term(w[1], data, &v, err) < 0)
                        return -1;
                print_value(&tmp, v);
                for (size_t i = 0; i < tmp.len; i++) {
                        if (w[0][0] == 'u')
                                tmp.data[i] = (char)toupper((unsigned char)tmp.data[i]);
                        else if (w[0][0] == 'l')
                                tmp.data[i] = (char)tolower((unsigned char)tmp.data[i]);
                        else if (i == 0 || tmp.data[i - 1] == ' ')
                                tmp.data[i] = (char)toupper((unsigned char)tmp.data[i]);
                }
                if (tmp.data)
                        strbuf_add(b, tmp.data, tmp.len);
                free(tmp.data);
                return 0;
        }
        if (strcmp(w[0], "join") == 0 && n == 3) {
                _cleanup_json_ json_t *sep = NULL;
                size_t i;
                json_t *e;
                if (eval_term(w[1], data, &v, err) < 0 || eval_term(w[2], data, &sep, err) < 0)
                        return -1;
                if (!json_is_array(v) || !json_is_string(sep))
                        return berth_error(err, 0, "template: join needs a list and a string");
                json_array_foreach(v, i, e) {
                        if (i)
                                strbuf_adds(b, json_string_value(sep));
                        print_value(b, e);
                }
                return 0;
        }
        if (strcmp(w[0], "index") == 0 && n == 3) {
                _cleanup_json_ json_t *key = NULL;
                if (eval_term(w[1], data, &v, err) < 0 || eval_term(w[2], data, &key, err) < 0)
                        return -1;
                if (json_is_object(v) && json_is_string(key))
                        print_value(b, json_object_get(v, json_string_value(key)));
                else if (json_is_array(v) && json_is_string(key))
                        print_value(b, json_array_get(v, (size_t)atol(json_string_value(key))));
                else
                        return berth_error(err, 0, "template: can't index item");
                return 0;
        }
        if (n != 1)
                return berth_error(err, 0, "template: unsupported action {{%s}}", action);
        if (eval_term(w[0], data, &v, err) < 0)
                return -1;
        print_value(b, v);
        return 0;
}

int template_render(const char *tmpl, json_t *data, char **out, berth_error_t **err)
{
        struct strbuf b = { 0 };
        const char *p = tmpl;

        strbuf_add(&b, "", 0);
        while (*p) {
                const char *open = strstr(p, "{{"), *close;
                const char *text_end = open ? open : p + strlen(p);
                /* docker turns the two-character escapes \t and \n of a
                 * shell-quoted format into the real characters */
                for (const char *q = p; q < text_end; q++) {
                        if (q[0] == '\\' && q + 1 < text_end && (q[1] == 't' || q[1] == 'n')) {
                                strbuf_add(&b, q[1] == 't' ? "\t" : "\n", 1);
                                q++;
                        } else {
                                strbuf_add(&b, q, 1);
                        }
                }
                if (open == NULL)
                        break;
                close = strstr(open + 2, "}}");
                if (close == NULL) {
                        free(b.data);
                        return berth_error(err, 0, "template: unclosed action");
                }
                const char *a = open + 2, *e = close;
                /* {{- and -}} trim the surrounding space in Go */
                if (*a == '-' && (a[1] == ' ' || a[1] == '}')) {
                        a++;
                        while (b.len > 0 && isspace((unsigned char)b.data[b.len - 1]))
                                b.data[--b.len] = '\0';
                }
                bool trim_after = false;
                if (e > a && e[-1] == '-' && (e - 1 == a || e[-2] == ' ')) {
                        e--;
                        trim_after = true;
                }
                _cleanup_free_ char *action = xasprintf("%.*s", (int)(e - a), a);
                if (eval_action(action, data, &b, err) < 0) {
                        free(b.data);
                        return -1;
                }
                p = close + 2;
                if (trim_after)
                        while (isspace((unsigned char)*p))
                                p++;
        }
        *out = b.data;
        return 0;
}

/* Split a rendered line on tabs into a table row. */
static void add_line(struct table *t, const char *line)
{
        _cleanup_free_ char **cells = xcalloc(t->ncols, sizeof(char *));
        _cleanup_free_ char *copy = xstrdup(line);
        char *p = copy;

        for (size_t i = 0; i < t->ncols && p; i++) {
                char *tab = strchr(p, '\t');
                if (tab)
                        *tab = '\0';
                cells[i] = p;
                p = tab ? tab + 1 : NULL;
        }
        table_addv(t, cells);
}

static size_t count_cells(const char *s)
{
        size_t n = 1;

        for (; *s; s++)
                if (*s == '\t')
                        n++;
        return n;
}

int format_print(const char *format, json_t *header, json_t *rows, berth_error_t **err)
{
        size_t i;
        json_t *row;

        if (strcmp(format, "json") == 0) {
                json_array_foreach(rows, i, row) {
                        _cleanup_free_ char *s = json_dumps(row, JSON_COMPACT | JSON_SORT_KEYS);
                        printf("%s\n", s ? s : "{}");
                }
                return 0;
        }
        if (str_has_prefix(format, "table")) {
                const char *tmpl = format + strlen("table");
                size_t n = json_array_size(rows) + 1, ncols = 1;
                _cleanup_strv_ char **lines = xcalloc(n + 1, sizeof(char *));
                struct table t;

                while (*tmpl == ' ')
                        tmpl++;
                if (template_render(tmpl, header, &lines[0], err) < 0)
                        return -1;
                json_array_foreach(rows, i, row)
                        if (template_render(tmpl, row, &lines[i + 1], err) < 0)
                                return -1;
                for (i = 0; i < n; i++)
                        if (count_cells(lines[i]) > ncols)
                                ncols = count_cells(lines[i]);
                table_init(&t, ncols);
                for (i = 0; i < n; i++)
                        add_line(&t, lines[i]);
                table_print(&t, stdout);
                table_free(&t);
                return 0;
        }
        json_array_foreach(rows, i, row) {
                _cleanup_free_ char *s = NULL;
                if (template_render(format, row, &s, err) < 0)
                        return -1;
                printf("%s\n", s);
        }
        return 0;
}
