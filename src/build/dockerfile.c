/* The Dockerfile parser: BuildKit's dockerfile frontend (its parser and
 * instructions packages) reimplemented from the Dockerfile reference and
 * the frontend's observed behaviour.
 *
 * Two passes, as BuildKit makes them, so that the same error wins:
 * 1. lines: parser directives, comments, continuations, the keyword, its
 *    flags and its arguments split the way that keyword splits them (JSON
 *    or not), heredocs;
 * 2. instructions: the arguments each keyword needs, its flags, stages.
 *
 * Where this differs from BuildKit, on purpose:
 * - an ONBUILD trigger is checked as an instruction at once (BuildKit only
 *   finds an unknown trigger when a child image builds);
 * - flags are checked on every instruction (BuildKit ignores them on
 *   STOPSIGNAL, ARG and HEALTHCHECK NONE);
 * - flag words and HEALTHCHECK's type end at ASCII blanks only, and flag
 *   values keep their bytes (BuildKit reads those byte by byte, taking
 *   0x85 and 0xa0 inside a UTF-8 character for blanks and re-encoding the
 *   rest as Latin-1);
 * - NUL bytes are refused, in the text and in JSON strings ("\u0000");
 * - directive errors name the directive's own line. */
#include "build/dockerfile.h"
#include "util/util.h"
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_LINE 65535          /* bufio.Scanner's limit in BuildKit */
#define JSON_MAX_DEPTH 10000    /* encoding/json's */

static const char *const kind_names[] = {
        [DF_FROM] = "FROM", [DF_RUN] = "RUN", [DF_CMD] = "CMD", [DF_LABEL] = "LABEL",
        [DF_MAINTAINER] = "MAINTAINER", [DF_EXPOSE] = "EXPOSE", [DF_ENV] = "ENV", [DF_ADD] = "ADD",
        [DF_COPY] = "COPY", [DF_ENTRYPOINT] = "ENTRYPOINT", [DF_VOLUME] = "VOLUME", [DF_USER] = "USER",
        [DF_WORKDIR] = "WORKDIR", [DF_ARG] = "ARG", [DF_ONBUILD] = "ONBUILD", [DF_STOPSIGNAL] = "STOPSIGNAL",
        [DF_HEALTHCHECK] = "HEALTHCHECK", [DF_SHELL] = "SHELL",
};

const char *dockerfile_kind_name(enum df_kind k)
{
        if ((size_t)k >= ARRAY_SIZE(kind_names) || kind_names[k] == NULL)
                return "UNKNOWN";
        return kind_names[k];
}

static int kind_of(const char *word)
{
        for (size_t i = 0; i < ARRAY_SIZE(kind_names); i++)
                if (kind_names[i] && strcasecmp(word, kind_names[i]) == 0)
                        return (int)i;
        return -1;
}

/* ---- text helpers ---- */

/* One rune as Go decodes it: anything invalid is one byte wide. */
static int32_t rune_at(const char *p, size_t n, size_t *width)
{
        const unsigned char *s = (const unsigned char *)p;
        uint32_t c;
        size_t need;

        *width = 1;
        if (n == 0)
                return -1;
        if (s[0] < 0x80)
                return s[0];
        if (s[0] >= 0xc2 && s[0] <= 0xdf)
                need = 1, c = s[0] & 0x1f;
        else if (s[0] >= 0xe0 && s[0] <= 0xef)
                need = 2, c = s[0] & 0x0f;
        else if (s[0] >= 0xf0 && s[0] <= 0xf4)
                need = 3, c = s[0] & 0x07;
        else
                return 0xfffd;
        if (n < need + 1)
                return 0xfffd;
        for (size_t i = 1; i <= need; i++) {
                if ((s[i] & 0xc0) != 0x80)
                        return 0xfffd;
                c = (c << 6) | (s[i] & 0x3f);
        }
        if ((need == 2 && c < 0x800) || (need == 3 && (c < 0x10000 || c > 0x10ffff)) || (c >= 0xd800 && c <= 0xdfff))
                return 0xfffd;
        *width = need + 1;
        return (int32_t)c;
}

/* Go's unicode.IsSpace. */
static bool uspace(int32_t c)
{
        switch (c) {
        case '\t': case '\n': case '\v': case '\f': case '\r': case ' ': case 0x85: case 0xa0:
        case 0x1680: case 0x2028: case 0x2029: case 0x202f: case 0x205f: case 0x3000:
                return true;
        }
        return c >= 0x2000 && c <= 0x200a;
}

/* The byte length of the Unicode blank at s, or 0. */
static size_t space_len(const char *s, size_t n)
{
        size_t w;
        int32_t c = rune_at(s, n, &w);
        return c >= 0 && uspace(c) ? w : 0;
}

static size_t skip_uspace(const char *s, size_t n)
{
        size_t i = 0, w;
        while (i < n && (w = space_len(s + i, n - i)) > 0)
                i += w;
        return i;
}

/* The length of s without its trailing Unicode blanks. */
static size_t rtrim_uspace(const char *s, size_t n)
{
        size_t end = 0, i = 0, w;

        while (i < n) {
                size_t sl = space_len(s + i, n - i);
                if (sl == 0) {
                        rune_at(s + i, n - i, &w);
                        i += w;
                        end = i;
                } else {
                        i += sl;
                }
        }
        return end;
}

/* strings.TrimSpace, as a new string. */
static char *trim_dup(const char *s, size_t n)
{
        size_t a = skip_uspace(s, n);
        return strndup(s + a, rtrim_uspace(s + a, n - a)) ?: (abort(), NULL);
}

/* BuildKit's reWhitespace: [\t\v\f\r ]. */
static bool ws(char c)
{
        return c == '\t' || c == '\v' || c == '\f' || c == '\r' || c == ' ';
}

/* The blanks of the byte-wise scanners (flags, HEALTHCHECK's type). */
static bool byte_space(char c)
{
        return ws(c) || c == '\n';
}

struct vec {
        char **v;
        size_t n, cap;
};

static void vec_push(struct vec *v, char *s)
{
        if (v->n + 2 > v->cap) {
                v->cap = v->cap ? v->cap * 2 : 4;
                v->v = xrealloc(v->v, v->cap * sizeof(*v->v));
        }
        v->v[v->n++] = s;
        v->v[v->n] = NULL;
}

static void vec_free(struct vec *v)
{
        for (size_t i = 0; i < v->n; i++)
                free(v->v[i]);
        free(v->v);
        memset(v, 0, sizeof(*v));
}

static void strv_free_n(char **v, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

/* Untrusted text for a message: as it is when plain, quoted otherwise. */
static char *show(const char *s)
{
        for (const char *p = s; *p; p++)
                if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
                        return quote(s);
        if (strlen(s) > 256)
                return quote(s);
        return xstrdup(s);
}

/* Put "<file>:<line>: " before the reason in *err, one line. */
static int located(berth_error_t **err, const char *file, unsigned line)
{
        struct strbuf b = { 0 };
        const char *m = err && *err && (*err)->msg ? (*err)->msg : "error";

        if (err == NULL)
                return -EINVAL;
        strbuf_add(&b, "", 0);
        for (const char *p = m; *p; p++) {
                if ((unsigned char)*p < 0x20) {
                        char hex[8];
                        snprintf(hex, sizeof(hex), "\\x%02x", (unsigned char)*p);
                        strbuf_adds(&b, hex);
                } else {
                        strbuf_add(&b, p, 1);
                }
        }
        berth_fail(err, EINVAL, "%s:%u: %s", file, line, b.data);
        free(b.data);
        return -EINVAL;
}

static int fail_at(berth_error_t **err, const char *file, unsigned line, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail_at(berth_error_t **err, const char *file, unsigned line, const char *fmt, ...)
{
        va_list ap;
        _cleanup_free_ char *msg = NULL;

        va_start(ap, fmt);
        if (vasprintf(&msg, fmt, ap) < 0)
                abort();
        va_end(ap);
        berth_fail(err, EINVAL, "%s", msg);
        return located(err, file, line);
}

/* ---- JSON arrays (the exec form) ---- */

static int hex4(const char *s)
{
        int v = 0;
        for (int i = 0; i < 4; i++) {
                char c = s[i];
                v <<= 4;
                if (c >= '0' && c <= '9')
                        v |= c - '0';
                else if (c >= 'a' && c <= 'f')
                        v |= c - 'a' + 10;
                else if (c >= 'A' && c <= 'F')
                        v |= c - 'A' + 10;
                else
                        return -1;
        }
        return v;
}

static void put_utf8(struct strbuf *b, uint32_t c)
{
        char o[4];
        size_t n;

        if (c < 0x80) {
                o[0] = (char)c, n = 1;
        } else if (c < 0x800) {
                o[0] = (char)(0xc0 | (c >> 6)), o[1] = (char)(0x80 | (c & 0x3f)), n = 2;
        } else if (c < 0x10000) {
                o[0] = (char)(0xe0 | (c >> 12)), o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
                o[2] = (char)(0x80 | (c & 0x3f)), n = 3;
        } else {
                o[0] = (char)(0xf0 | (c >> 18)), o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
                o[2] = (char)(0x80 | ((c >> 6) & 0x3f)), o[3] = (char)(0x80 | (c & 0x3f)), n = 4;
        }
        strbuf_add(b, o, n);
}

/* A JSON string at s[*i] ('"'): its end, and its decoded value in out
 * (when out is not NULL) as Go decodes it: invalid UTF-8 and lone
 * surrogates become U+FFFD.  false when it is not valid JSON; *nul when it
 * holds "\u0000". */
static bool json_string(const char *s, size_t n, size_t *i, struct strbuf *out, bool *nul)
{
        size_t p = *i + 1, w;

        if (out)
                strbuf_add(out, "", 0);
        while (p < n) {
                unsigned char c = (unsigned char)s[p];
                if (c == '"') {
                        *i = p + 1;
                        return true;
                }
                if (c < 0x20)
                        return false;
                if (c != '\\') {
                        int32_t r = rune_at(s + p, n - p, &w);
                        if (out) {
                                if (r == 0xfffd && w == 1)
                                        put_utf8(out, 0xfffd);
                                else
                                        strbuf_add(out, s + p, w);
                        }
                        p += w;
                        continue;
                }
                if (++p >= n)
                        return false;
                switch (s[p]) {
                case '"': case '\\': case '/':
                        if (out)
                                strbuf_add(out, s + p, 1);
                        p++;
                        break;
                case 'b': if (out) strbuf_add(out, "\b", 1); p++; break;
                case 'f': if (out) strbuf_add(out, "\f", 1); p++; break;
                case 'n': if (out) strbuf_add(out, "\n", 1); p++; break;
                case 'r': if (out) strbuf_add(out, "\r", 1); p++; break;
                case 't': if (out) strbuf_add(out, "\t", 1); p++; break;
                case 'u': {
                        int u, u2;
                        if (n - p < 5 || (u = hex4(s + p + 1)) < 0)
                                return false;
                        p += 5;
                        if (u >= 0xd800 && u < 0xe000) {
                                if (u < 0xdc00 && n - p >= 6 && s[p] == '\\' && s[p + 1] == 'u' &&
                                    (u2 = hex4(s + p + 2)) >= 0xdc00 && u2 < 0xe000) {
                                        u = 0x10000 + ((u - 0xd800) << 10) + (u2 - 0xdc00);
                                        p += 6;
                                } else {
                                        u = 0xfffd;
                                }
                        }
                        if (u == 0)
                                *nul = true;
                        if (out)
                                put_utf8(out, (uint32_t)u);
                        break;
                }
                default:
                        return false;
                }
        }
        return false;
}

/* A JSON number at s[*i]; *overflow when float64 cannot hold it. */
static bool json_number(const char *s, size_t n, size_t *i, bool *overflow)
{
        size_t p = *i, start = *i;
        char *tmp;

        if (p < n && s[p] == '-')
                p++;
        if (p >= n)
                return false;
        if (s[p] == '0') {
                p++;
        } else if (s[p] >= '1' && s[p] <= '9') {
                while (p < n && s[p] >= '0' && s[p] <= '9')
                        p++;
        } else {
                return false;
        }
        if (p < n && s[p] == '.') {
                if (++p >= n || s[p] < '0' || s[p] > '9')
                        return false;
                while (p < n && s[p] >= '0' && s[p] <= '9')
                        p++;
        }
        if (p < n && (s[p] == 'e' || s[p] == 'E')) {
                p++;
                if (p < n && (s[p] == '+' || s[p] == '-'))
                        p++;
                if (p >= n || s[p] < '0' || s[p] > '9')
                        return false;
                while (p < n && s[p] >= '0' && s[p] <= '9')
                        p++;
        }
        tmp = strndup(s + start, p - start);
        if (tmp == NULL)
                abort();
        if (isinf(strtod(tmp, NULL)))
                *overflow = true;
        free(tmp);
        *i = p;
        return true;
}

static bool json_ws(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

enum json_result { JSON_NOT = 0, JSON_STRINGS, JSON_NOT_STRINGS, JSON_NUL };

/* Go's json.Unmarshal of s into []any, as BuildKit's parseJSON uses it:
 * JSON_NOT when s is not a JSON array (or a number overflows: an
 * unmarshalling error), JSON_NOT_STRINGS when an element is not a string,
 * JSON_STRINGS with the strings in *out. */
static enum json_result json_array(const char *s, struct vec *out)
{
        size_t n = strlen(s), i = skip_uspace(s, n), depth = 0;
        bool overflow = false, not_strings = false, nul = false, empty_ok = false;
        enum { VALUE, AFTER, KEY, COLON } st = VALUE;
        _cleanup_free_ char *stack = NULL;

        if (i >= n || s[i] != '[')
                return JSON_NOT;
        stack = xmalloc(JSON_MAX_DEPTH + 1);
        for (;;) {
                while (i < n && json_ws(s[i]))
                        i++;
                if (depth == 0 && st == AFTER) {
                        if (i != n)
                                goto not_json;
                        break;
                }
                if (i >= n)
                        goto not_json;
                switch (st) {
                case VALUE:
                        if ((s[i] == '[' || s[i] == '{')) {
                                if (depth == 1)
                                        not_strings = true;
                                if (depth >= JSON_MAX_DEPTH)
                                        goto not_json;
                                stack[depth++] = s[i];
                                st = s[i] == '[' ? VALUE : KEY;
                                empty_ok = true;
                                i++;
                                continue;
                        }
                        if (s[i] == ']' && empty_ok && stack[depth - 1] == '[') {
                                depth--;
                                i++;
                                st = AFTER;
                                continue;
                        }
                        if (s[i] == '"') {
                                struct strbuf b = { 0 };
                                if (!json_string(s, n, &i, depth == 1 ? &b : NULL, &nul)) {
                                        free(b.data);
                                        goto not_json;
                                }
                                if (depth == 1)
                                        vec_push(out, b.data);
                        } else if (s[i] == '-' || (s[i] >= '0' && s[i] <= '9')) {
                                if (!json_number(s, n, &i, &overflow))
                                        goto not_json;
                                not_strings |= depth == 1;
                        } else if (strncmp(s + i, "true", 4) == 0 || strncmp(s + i, "null", 4) == 0) {
                                i += 4;
                                not_strings |= depth == 1;
                        } else if (strncmp(s + i, "false", 5) == 0) {
                                i += 5;
                                not_strings |= depth == 1;
                        } else {
                                goto not_json;
                        }
                        st = AFTER;
                        break;
                case KEY:
                        if (s[i] == '}' && empty_ok) {
                                depth--;
                                i++;
                                st = AFTER;
                                continue;
                        }
                        if (s[i] != '"' || !json_string(s, n, &i, NULL, &nul))
                                goto not_json;
                        st = COLON;
                        break;
                case COLON:
                        if (s[i] != ':')
                                goto not_json;
                        i++;
                        st = VALUE;
                        break;
                case AFTER:
                        if (s[i] == ',') {
                                st = stack[depth - 1] == '[' ? VALUE : KEY;
                        } else if ((s[i] == ']' && stack[depth - 1] == '[') || (s[i] == '}' && stack[depth - 1] == '{')) {
                                depth--;
                        } else {
                                goto not_json;
                        }
                        i++;
                        break;
                }
                empty_ok = false;
        }
        if (overflow)
                goto not_json;
        if (not_strings) {
                vec_free(out);
                return JSON_NOT_STRINGS;
        }
        if (nul) {
                vec_free(out);
                return JSON_NUL;
        }
        return JSON_STRINGS;
not_json:
        vec_free(out);
        return JSON_NOT;
}

/* ---- pass 1: lines to nodes ---- */

struct pnode {
        struct df_instr in;     /* keyword, original, lines, args, json, kvs, heredocs */
        int kind;               /* -1: not an instruction */
        struct vec flags;       /* "--name=value" as extracted */
        struct pnode *child;    /* ONBUILD's trigger */
};

static void heredocs_free(struct df_heredoc *h, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(h[i].name);
                free(h[i].content);
        }
        free(h);
}

static void kvs_free(struct df_kv *kv, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(kv[i].key);
                free(kv[i].value);
        }
        free(kv);
}

static void instr_clear(struct df_instr *in)
{
        free(in->keyword);
        free(in->original);
        for (size_t i = 0; i < in->nflags; i++) {
                free(in->flags[i].name);
                free(in->flags[i].value);
        }
        free(in->flags);
        strv_free_n(in->args, in->nargs);
        kvs_free(in->kvs, in->nkvs);
        heredocs_free(in->heredocs, in->nheredocs);
        if (in->onbuild) {
                instr_clear(in->onbuild);
                free(in->onbuild);
        }
        memset(in, 0, sizeof(*in));
}

static void pnode_clear(struct pnode *pn)
{
        instr_clear(&pn->in);
        vec_free(&pn->flags);
        if (pn->child) {
                pnode_clear(pn->child);
                free(pn->child);
        }
        memset(pn, 0, sizeof(*pn));
}

static void set_args(struct df_instr *in, struct vec *v)
{
        in->args = v->v;
        in->nargs = v->n;
        memset(v, 0, sizeof(*v));
}

/* The builder flags before the arguments (BuildKit's extractBuilderFlags):
 * words starting with "--", quotes and escapes removed, up to the first
 * other word or a "--" alone.  Returns where the arguments start. */
static const char *extract_flags(const char *line, char esc, struct vec *flags)
{
        enum { SPACES, WORD, QUOTE } phase = SPACES;
        size_t len = strlen(line), pos;
        struct strbuf w = { 0 };
        char quote = 0, ch = 0;
        bool blank_ok = false;
        const char *rest = line + len;

        strbuf_add(&w, "", 0);
        for (pos = 0; pos <= len; pos++) {
                if (pos != len)
                        ch = line[pos];
                if (phase == SPACES) {
                        if (pos == len)
                                break;
                        if (byte_space(ch))
                                continue;
                        if (ch != '-' || pos + 1 == len || line[pos + 1] != '-') {
                                rest = line + pos;
                                break;
                        }
                        phase = WORD;
                }
                if (pos == len) {
                        if (strcmp(w.data, "--") != 0 && (blank_ok || w.len > 0))
                                vec_push(flags, xstrdup(w.data));
                        break;
                }
                if (phase == WORD) {
                        if (byte_space(ch)) {
                                phase = SPACES;
                                if (strcmp(w.data, "--") == 0) {
                                        rest = line + pos;
                                        break;
                                }
                                if (blank_ok || w.len > 0)
                                        vec_push(flags, xstrdup(w.data));
                                w.len = 0;
                                w.data[0] = '\0';
                                blank_ok = false;
                                continue;
                        }
                        if (ch == '\'' || ch == '"') {
                                quote = ch;
                                blank_ok = true;
                                phase = QUOTE;
                                continue;
                        }
                        if (ch == esc) {
                                if (pos + 1 == len)
                                        continue;
                                ch = line[++pos];
                        }
                        strbuf_add(&w, &ch, 1);
                        continue;
                }
                /* QUOTE */
                if (ch == quote) {
                        phase = WORD;
                        continue;
                }
                if (ch == esc) {
                        if (pos + 1 == len) {
                                phase = WORD;
                                continue;
                        }
                        ch = line[++pos];
                }
                strbuf_add(&w, &ch, 1);
        }
        free(w.data);
        return rest;
}

/* BuildKit's parseWords (ENV, LABEL, ARG): words split at Unicode blanks
 * outside quotes, quotes and escapes kept for the expansion. */
static void parse_words(const char *rest, char esc, struct vec *out)
{
        enum { SPACES, WORD, QUOTE } phase = SPACES;
        size_t len = strlen(rest), pos, w = 0;
        struct strbuf b = { 0 };
        int32_t ch = 0, quote = 0;
        bool blank_ok = false;

        strbuf_add(&b, "", 0);
        for (pos = 0; pos <= len; pos += w) {
                if (pos != len)
                        ch = rune_at(rest + pos, len - pos, &w);
                if (phase == SPACES) {
                        if (pos == len)
                                break;
                        if (uspace(ch))
                                continue;
                        phase = WORD;
                }
                if (pos == len) {
                        if (blank_ok || b.len > 0)
                                vec_push(out, xstrdup(b.data));
                        break;
                }
                if (phase == WORD) {
                        if (uspace(ch)) {
                                phase = SPACES;
                                if (blank_ok || b.len > 0)
                                        vec_push(out, xstrdup(b.data));
                                b.len = 0;
                                b.data[0] = '\0';
                                blank_ok = false;
                                continue;
                        }
                        if (ch == '\'' || ch == '"') {
                                quote = ch;
                                blank_ok = true;
                                phase = QUOTE;
                        }
                        if (ch == esc) {
                                if (pos + w == len)
                                        continue;
                                strbuf_add(&b, rest + pos, w);
                                pos += w;
                                ch = rune_at(rest + pos, len - pos, &w);
                        }
                        strbuf_add(&b, rest + pos, w);
                        continue;
                }
                /* QUOTE */
                if (ch == quote)
                        phase = WORD;
                if (ch == esc && quote != '\'') {
                        if (pos + w == len) {
                                phase = WORD;
                                continue;
                        }
                        strbuf_add(&b, rest + pos, w);
                        pos += w;
                        ch = rune_at(rest + pos, len - pos, &w);
                }
                strbuf_add(&b, rest + pos, w);
        }
        free(b.data);
}

/* Split at runs of [\t\v\f\r ]. */
static void split_ws(const char *rest, struct vec *out)
{
        const char *p = rest;

        if (*rest == '\0')
                return;
        for (;;) {
                const char *q = p;
                while (*q && !ws(*q))
                        q++;
                vec_push(out, strndup(p, (size_t)(q - p)) ?: (abort(), NULL));
                if (*q == '\0')
                        return;
                while (ws(*q))
                        q++;
                p = q;
        }
}

static int json_error(enum json_result r, berth_error_t **err)
{
        if (r == JSON_NUL)
                return berth_fail(err, EINVAL, "NUL character in a JSON string");
        return berth_fail(err, EINVAL, "when using JSON array syntax, arrays must be comprised of strings only");
}

/* parseMaybeJSON: the JSON array, or the text as one argument. */
static int parse_maybe_json(const char *rest, struct df_instr *in, berth_error_t **err)
{
        struct vec v = { 0 };
        enum json_result r;

        if (*rest == '\0')
                return 0;
        r = json_array(rest, &v);
        if (r == JSON_STRINGS) {
                set_args(in, &v);
                in->json = true;
                return 0;
        }
        if (r != JSON_NOT)
                return json_error(r, err);
        vec_push(&v, xstrdup(rest));
        set_args(in, &v);
        return 0;
}

/* parseMaybeJSONToList: the JSON array, or the blank-separated words. */
static int parse_maybe_json_list(const char *rest, struct df_instr *in, berth_error_t **err)
{
        struct vec v = { 0 };
        enum json_result r = json_array(rest, &v);

        if (r == JSON_STRINGS) {
                set_args(in, &v);
                in->json = true;
                return 0;
        }
        if (r != JSON_NOT)
                return json_error(r, err);
        split_ws(rest, &v);
        set_args(in, &v);
        return 0;
}

static void kv_push(struct df_instr *in, char *key, char *value, bool has_value)
{
        in->kvs = xrealloc(in->kvs, (in->nkvs + 1) * sizeof(*in->kvs));
        in->kvs[in->nkvs++] = (struct df_kv){ key, value, has_value };
}

/* ENV and LABEL: "key=value ..." or the legacy "key value". */
static int parse_name_val(const char *rest, char esc, const char *what, struct df_instr *in, berth_error_t **err)
{
        struct vec words = { 0 };
        int ret = 0;

        parse_words(rest, esc, &words);
        if (words.n == 0)
                return 0;
        if (strchr(words.v[0], '=') == NULL) {
                const char *p = rest, *q;
                while (*p && !ws(*p))
                        p++;
                if (*p == '\0') {
                        ret = berth_fail(err, EINVAL, "%s must have two arguments", what);
                        goto out;
                }
                q = p;
                while (ws(*q))
                        q++;
                kv_push(in, strndup(rest, (size_t)(p - rest)) ?: (abort(), NULL), xstrdup(q), true);
                goto out;
        }
        for (size_t i = 0; i < words.n; i++) {
                char *eq = strchr(words.v[i], '=');
                if (eq == NULL) {
                        _cleanup_free_ char *s = show(words.v[i]);
                        ret = berth_fail(err, EINVAL, "Syntax error - can't find = in %s. Must be of the form: name=value", s);
                        goto out;
                }
                kv_push(in, strndup(words.v[i], (size_t)(eq - words.v[i])) ?: (abort(), NULL), xstrdup(eq + 1), true);
        }
out:
        vec_free(&words);
        return ret;
}

static int node_from_line(const char *line, char esc, struct pnode *pn, berth_error_t **err);

/* HEALTHCHECK: the type, then the command as for CMD. */
static int parse_health(const char *rest, struct df_instr *in, berth_error_t **err)
{
        size_t sep = 0, nxt;
        struct df_instr cmd = { 0 };
        struct vec v = { 0 };

        while (rest[sep] && !byte_space(rest[sep]))
                sep++;
        for (nxt = sep; rest[nxt] && byte_space(rest[nxt]); nxt++)
                ;
        if (sep == 0)
                return 0;
        if (parse_maybe_json(rest + nxt, &cmd, err) < 0)
                return -1;
        vec_push(&v, strndup(rest, sep) ?: (abort(), NULL));
        for (size_t i = 0; i < cmd.nargs; i++)
                vec_push(&v, steal_pointer(&cmd.args[i]));
        in->json = cmd.json;
        instr_clear(&cmd);
        set_args(in, &v);
        return 0;
}

/* splitCommand and the dispatch table: one line to a node. */
static int node_from_line(const char *line, char esc, struct pnode *pn, berth_error_t **err)
{
        _cleanup_free_ char *trimmed = trim_dup(line, strlen(line));
        _cleanup_free_ char *rest = NULL;
        const char *p = trimmed;
        struct vec v = { 0 };

        while (*p && !ws(*p))
                p++;
        pn->in.keyword = strndup(trimmed, (size_t)(p - trimmed)) ?: (abort(), NULL);
        pn->in.original = xstrdup(line);
        pn->kind = kind_of(pn->in.keyword);
        if (*p) {
                while (ws(*p))
                        p++;
                const char *a = extract_flags(p, esc, &pn->flags);
                rest = trim_dup(a, strlen(a));
        } else {
                rest = xstrdup("");
        }
        switch (pn->kind) {
        case DF_ADD:
        case DF_COPY:
        case DF_VOLUME:
                return parse_maybe_json_list(rest, &pn->in, err);
        case DF_CMD:
        case DF_ENTRYPOINT:
        case DF_RUN:
        case DF_SHELL:
                return parse_maybe_json(rest, &pn->in, err);
        case DF_ENV:
                return parse_name_val(rest, esc, "ENV", &pn->in, err);
        case DF_LABEL:
                return parse_name_val(rest, esc, "LABEL", &pn->in, err);
        case DF_ARG:
                parse_words(rest, esc, &v);
                set_args(&pn->in, &v);
                return 0;
        case DF_EXPOSE:
        case DF_FROM:
                split_ws(rest, &v);
                set_args(&pn->in, &v);
                return 0;
        case DF_MAINTAINER:
        case DF_STOPSIGNAL:
        case DF_USER:
        case DF_WORKDIR:
                if (*rest) {
                        vec_push(&v, steal_pointer(&rest));
                        set_args(&pn->in, &v);
                }
                return 0;
        case DF_HEALTHCHECK:
                return parse_health(rest, &pn->in, err);
        case DF_ONBUILD:
                if (*rest == '\0')
                        return 0;
                pn->child = xcalloc(1, sizeof(*pn->child));
                return node_from_line(rest, esc, pn->child, err);
        }
        return 0;
}

/* ---- heredocs ---- */

static bool heredoc_kind(const struct pnode *pn)
{
        if (pn->kind == DF_ONBUILD && pn->child)
                pn = pn->child;
        return (pn->kind == DF_ADD || pn->kind == DF_COPY || pn->kind == DF_RUN) && !pn->in.json;
}

static size_t count_quotes(const char *s)
{
        size_t n = 0;
        for (; *s; s++)
                n += *s == '\'' || *s == '"';
        return n;
}

/* A word that opens a heredoc (BuildKit's ^(\d*)<<(-?)\s*([^<]*)$ and its
 * two lexings): 1 with *h filled, 0 when it is not one, -1 on error. */
static int heredoc_from_word(const char *word, struct df_heredoc *h, berth_error_t **err)
{
        const char *p = word;
        _cleanup_strv_ char **words = NULL, **raw = NULL;
        size_t nwords = 0, nraw = 0;

        while (*p >= '0' && *p <= '9')
                p++;
        if (p[0] != '<' || p[1] != '<')
                return 0;
        p += 2;
        h->chomp_tabs = *p == '-';
        p += h->chomp_tabs;
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\f' || *p == '\r')
                p++;
        if (*p == '\0' || strchr(p, '<') != NULL)
                return 0;
        if (dockerfile_lex(p, '\\', DF_LEX_SKIP_UNSET, NULL, NULL, NULL, &words, &nwords, err) < 0)
                return -1;
        if (nwords != 1)
                return 0;
        if (dockerfile_lex(p, '\\', DF_LEX_SKIP_UNSET | DF_LEX_RAW_QUOTES, NULL, NULL, NULL, &raw, &nraw, err) < 0)
                return -1;
        if (nraw != nwords) {
                _cleanup_free_ char *s = show(p);
                return berth_fail(err, EINVAL, "internal lexing of heredoc produced inconsistent results: %s", s);
        }
        h->expand = count_quotes(words[0]) == count_quotes(raw[0]);
        h->name = steal_pointer(&words[0]);
        return 1;
}

/* The heredocs a line opens, in order. */
static int heredocs_of_line(const char *line, struct df_instr *in, berth_error_t **err)
{
        _cleanup_strv_ char **words = NULL;
        _cleanup_error_ berth_error_t *ignored = NULL;
        size_t n = 0;

        if (dockerfile_lex(line, '\\', DF_LEX_RAW_QUOTES | DF_LEX_RAW_ESCAPES | DF_LEX_SKIP_UNSET, NULL, NULL, NULL,
                           &words, &n, &ignored) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                struct df_heredoc h = { 0 };
                int r = heredoc_from_word(words[i], &h, err);
                if (r < 0)
                        return -1;
                if (r == 0)
                        continue;
                in->heredocs = xrealloc(in->heredocs, (in->nheredocs + 1) * sizeof(*in->heredocs));
                in->heredocs[in->nheredocs++] = h;
        }
        return 0;
}

/* Leading tabs off every line (<<-). */
static char *chomp_tabs(const char *s)
{
        char *out = xmalloc(strlen(s) + 1), *o = out;
        bool bol = true;

        for (; *s; s++) {
                if (bol && *s == '\t')
                        continue;
                bol = *s == '\n';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

/* ---- pass 2: nodes to instructions ---- */

enum ftype { F_BOOL, F_STRING, F_STRINGS };

struct fspec {
        const char *name;
        enum ftype type;
};

static const struct fspec from_flags[] = { { "platform", F_STRING }, { NULL, 0 } };
static const struct fspec run_flags[] = {
        { "mount", F_STRINGS }, { "network", F_STRING }, { "security", F_STRING }, { NULL, 0 },
};
static const struct fspec add_flags[] = {
        { "chown", F_STRING }, { "chmod", F_STRING }, { "link", F_BOOL }, { "keep-git-dir", F_BOOL },
        { "checksum", F_STRING }, { "unpack", F_BOOL }, { "exclude", F_STRINGS }, { NULL, 0 },
};
static const struct fspec copy_flags[] = {
        { "chown", F_STRING }, { "from", F_STRING }, { "chmod", F_STRING }, { "link", F_BOOL },
        { "exclude", F_STRINGS }, { "parents", F_BOOL }, { NULL, 0 },
};
static const struct fspec health_flags[] = {
        { "interval", F_STRING }, { "timeout", F_STRING }, { "start-period", F_STRING },
        { "start-interval", F_STRING }, { "retries", F_STRING }, { NULL, 0 },
};
static const struct fspec no_flags[] = { { NULL, 0 } };

/* The edit distance between two strings, in runes. */
static size_t levenshtein(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b), na = 0, nb = 0, w, *row, res;
        int32_t *ra, *rb;

        if (la > 64)
                return la;      /* far from every name anyway */
        ra = xcalloc(la + 1, sizeof(*ra));
        rb = xcalloc(lb + 1, sizeof(*rb));
        for (size_t i = 0; i < la; i += w)
                ra[na++] = rune_at(a + i, la - i, &w);
        for (size_t i = 0; i < lb; i += w)
                rb[nb++] = rune_at(b + i, lb - i, &w);
        row = xcalloc(nb + 1, sizeof(*row));
        for (size_t j = 0; j <= nb; j++)
                row[j] = j;
        for (size_t i = 1; i <= na; i++) {
                size_t diag = row[0];
                row[0] = i;
                for (size_t j = 1; j <= nb; j++) {
                        size_t up = row[j], best = diag + (ra[i - 1] != rb[j - 1]);
                        if (row[j] + 1 < best)
                                best = row[j] + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        res = row[nb];
        free(row);
        free(ra);
        free(rb);
        return res;
}

/* BuildKit's suggestion: the closest name at a distance below 3. */
static const char *suggest(const char *word, const char *const *names, size_t n)
{
        const char *best = NULL;
        size_t min = 3;

        for (size_t i = 0; i < n; i++) {
                size_t d = levenshtein(word, names[i]);
                if (d < min) {
                        best = names[i];
                        min = d;
                }
        }
        return best;
}

static int parse_flags(struct pnode *pn, const struct fspec *spec, berth_error_t **err)
{
        struct df_instr *in = &pn->in;
        bool used[16] = { false };
        size_t nspec = 0;

        while (spec[nspec].name)
                nspec++;
        for (size_t i = 0; i < pn->flags.n; i++) {
                const char *a = pn->flags.v[i], *eq = strchr(a, '=');
                _cleanup_free_ char *name = strndup(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
                _cleanup_free_ char *flag = NULL;
                size_t k;

                if (name == NULL)
                        abort();
                {
                        _cleanup_free_ char *raw = strndup(a, eq ? (size_t)(eq - a) : strlen(a));
                        if (raw == NULL)
                                abort();
                        flag = show(raw);
                }
                for (k = 0; k < nspec; k++)
                        if (strcmp(spec[k].name, name) == 0)
                                break;
                if (k == nspec) {
                        const char *names[16];
                        const char *s;
                        for (size_t j = 0; j < nspec; j++)
                                names[j] = spec[j].name;
                        s = suggest(name, names, nspec);
                        if (s)
                                return berth_fail(err, EINVAL, "unknown flag: %s (did you mean %s?)", flag, s);
                        return berth_fail(err, EINVAL, "unknown flag: %s", flag);
                }
                if (used[k] && spec[k].type != F_STRINGS)
                        return berth_fail(err, EINVAL, "duplicate flag specified: %s", flag);
                used[k] = true;
                if (spec[k].type == F_BOOL) {
                        if (eq && eq[1] == '\0')
                                return berth_fail(err, EINVAL, "missing a value on flag: %s", flag);
                        if (eq && strcasecmp(eq + 1, "true") != 0 && strcasecmp(eq + 1, "false") != 0) {
                                _cleanup_free_ char *v = show(eq + 1);
                                return berth_fail(err, EINVAL, "expecting boolean value for flag %s, not: %s", flag, v);
                        }
                } else if (eq == NULL) {
                        return berth_fail(err, EINVAL, "missing a value on flag: %s", flag);
                }
                in->flags = xrealloc(in->flags, (in->nflags + 1) * sizeof(*in->flags));
                in->flags[in->nflags++] = (struct df_flag){ steal_pointer(&name), eq ? xstrdup(eq + 1) : NULL };
        }
        return 0;
}

static const struct fspec *flags_for(int kind)
{
        switch (kind) {
        case DF_FROM: return from_flags;
        case DF_RUN: return run_flags;
        case DF_ADD: return add_flags;
        case DF_COPY: return copy_flags;
        case DF_HEALTHCHECK: return health_flags;
        }
        return no_flags;
}

/* Go's time.ParseDuration. */
int dockerfile_duration(const char *s, long long *ns, berth_error_t **err)
{
        static const struct { const char *u; uint64_t ns; } units[] = {
                { "ns", 1 }, { "us", 1000 }, { "\xc2\xb5s", 1000 }, { "\xce\xbcs", 1000 }, { "ms", 1000000 },
                { "s", 1000000000ull }, { "m", 60000000000ull }, { "h", 3600000000000ull },
        };
        const uint64_t max = 1ull << 63;
        const char *orig = s;
        uint64_t d = 0;
        bool neg = false;

        if (*s == '-' || *s == '+')
                neg = *s++ == '-';
        if (strcmp(s, "0") == 0) {
                *ns = 0;
                return 0;
        }
        if (*s == '\0')
                goto invalid;
        while (*s) {
                uint64_t v = 0, f = 0, unit = 0;
                double scale = 1;
                bool pre = false, post = false, over = false;
                const char *u;
                size_t ulen;

                if (!(*s == '.' || (*s >= '0' && *s <= '9')))
                        goto invalid;
                for (; *s >= '0' && *s <= '9'; s++) {
                        pre = true;
                        if (v > max / 10)
                                goto invalid;
                        v = v * 10 + (uint64_t)(*s - '0');
                        if (v > max)
                                goto invalid;
                }
                if (*s == '.') {
                        for (s++; *s >= '0' && *s <= '9'; s++) {
                                post = true;
                                if (over)
                                        continue;
                                if (f > (max - 1) / 10) {
                                        over = true;
                                        continue;
                                }
                                uint64_t y = f * 10 + (uint64_t)(*s - '0');
                                if (y > max) {
                                        over = true;
                                        continue;
                                }
                                f = y;
                                scale *= 10;
                        }
                }
                if (!pre && !post)
                        goto invalid;
                for (u = s; *s && *s != '.' && !(*s >= '0' && *s <= '9'); s++)
                        ;
                ulen = (size_t)(s - u);
                if (ulen == 0) {
                        _cleanup_free_ char *q = quote(orig);
                        return berth_fail(err, EINVAL, "time: missing unit in duration %s", q);
                }
                for (size_t i = 0; i < ARRAY_SIZE(units); i++)
                        if (strlen(units[i].u) == ulen && memcmp(units[i].u, u, ulen) == 0)
                                unit = units[i].ns;
                if (unit == 0) {
                        _cleanup_free_ char *uu = strndup(u, ulen), *qu = NULL, *q = quote(orig);
                        if (uu == NULL)
                                abort();
                        qu = quote(uu);
                        return berth_fail(err, EINVAL, "time: unknown unit %s in duration %s", qu, q);
                }
                if (v > max / unit)
                        goto invalid;
                v *= unit;
                if (f > 0) {
                        v += (uint64_t)((double)f * ((double)unit / scale));
                        if (v > max)
                                goto invalid;
                }
                d += v;
                if (d > max)
                        goto invalid;
        }
        if (neg) {
                *ns = d == max ? LLONG_MIN : -(long long)d;
                return 0;
        }
        if (d > max - 1)
                goto invalid;
        *ns = (long long)d;
        return 0;
invalid: {
        _cleanup_free_ char *q = quote(orig);
        return berth_fail(err, EINVAL, "time: invalid duration %s", q);
}
}

static int check_health_flags(const struct df_instr *in, berth_error_t **err)
{
        for (size_t i = 0; i < in->nflags; i++) {
                const struct df_flag *f = &in->flags[i];
                if (f->value == NULL || f->value[0] == '\0')
                        continue;
                if (strcmp(f->name, "retries") == 0) {
                        const char *p = f->value;
                        long long v = 0;
                        bool neg = false, range = false;
                        _cleanup_free_ char *q = quote(f->value);
                        if (*p == '+' || *p == '-')
                                neg = *p++ == '-';
                        if (*p == '\0')
                                return berth_fail(err, EINVAL, "strconv.ParseInt: parsing %s: invalid syntax", q);
                        for (; *p; p++) {
                                if (*p < '0' || *p > '9')
                                        return berth_fail(err, EINVAL, "strconv.ParseInt: parsing %s: invalid syntax", q);
                                if (v <= INT32_MAX + 1ll)
                                        v = v * 10 + (*p - '0');
                                range |= v > INT32_MAX + 1ll;
                        }
                        if (range || (!neg && v > INT32_MAX))
                                return berth_fail(err, EINVAL, "strconv.ParseInt: parsing %s: value out of range", q);
                        if (neg && v > 0)
                                return berth_fail(err, EINVAL, "--retries cannot be negative (-%lld)", v);
                } else {
                        long long d;
                        if (dockerfile_duration(f->value, &d, err) < 0)
                                return -1;
                        if (d != 0 && d < 1000000)
                                return berth_fail(err, EINVAL, "Interval \"%s\" cannot be less than 1ms", f->name);
                }
        }
        return 0;
}

static bool valid_stage_name(const char *s)
{
        if (!(*s >= 'a' && *s <= 'z'))
                return false;
        for (s++; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
                        return false;
        return true;
}

static int need_one(const struct df_instr *in, const char *what, berth_error_t **err)
{
        if (in->nargs != 1)
                return berth_fail(err, EINVAL, "%s requires exactly one argument", what);
        return 0;
}

static int need_some(size_t n, const char *what, berth_error_t **err)
{
        if (n == 0)
                return berth_fail(err, EINVAL, "%s requires at least one argument", what);
        return 0;
}

static int instr_build(struct pnode *pn, berth_error_t **err);

/* ONBUILD: its trigger, checked as an instruction. */
static int build_onbuild(struct pnode *pn, berth_error_t **err)
{
        struct df_instr *in = &pn->in;
        struct pnode *c = pn->child;
        const char *o = in->original;

        if (c == NULL)
                return need_some(0, "ONBUILD", err);
        if (parse_flags(pn, no_flags, err) < 0)
                return -1;
        if (c->kind == DF_ONBUILD)
                return berth_fail(err, EINVAL, "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
        if (c->kind == DF_FROM || c->kind == DF_MAINTAINER)
                return berth_fail(err, EINVAL, "%s isn't allowed as an ONBUILD trigger", dockerfile_kind_name((enum df_kind)c->kind));
        c->in.line = in->line;
        c->in.end_line = in->end_line;
        c->in.heredocs = steal_pointer(&in->heredocs);
        c->in.nheredocs = in->nheredocs;
        in->nheredocs = 0;
        /* the trigger as written: the line without "ONBUILD" */
        while (*o == ' ' || *o == '\t' || *o == '\n' || *o == '\f' || *o == '\r')
                o++;
        if (strncasecmp(o, "onbuild", 7) == 0)
                o += 7;
        while (*o == ' ' || *o == '\t' || *o == '\n' || *o == '\f' || *o == '\r')
                o++;
        free(c->in.original);
        c->in.original = xstrdup(o);
        if (instr_build(c, err) < 0)
                return -1;
        in->onbuild = xmalloc(sizeof(*in->onbuild));
        *in->onbuild = c->in;
        memset(&c->in, 0, sizeof(c->in));
        return 0;
}

static int build_healthcheck(struct pnode *pn, berth_error_t **err)
{
        struct df_instr *in = &pn->in;
        char *typ;

        if (need_some(in->nargs, "HEALTHCHECK", err) < 0)
                return -1;
        for (typ = in->args[0]; *typ; typ++)
                if (*typ >= 'a' && *typ <= 'z')
                        *typ = (char)(*typ - 'a' + 'A');
        typ = in->args[0];
        if (strcmp(typ, "NONE") == 0) {
                if (in->nargs != 1)
                        return berth_fail(err, EINVAL, "HEALTHCHECK NONE takes no arguments");
                return parse_flags(pn, health_flags, err);
        }
        if (parse_flags(pn, health_flags, err) < 0)
                return -1;
        if (strcmp(typ, "CMD") != 0) {
                _cleanup_free_ char *s = show(typ);
                return berth_fail(err, EINVAL, "Unknown type \"%s\" in HEALTHCHECK (try CMD)", s);
        }
        if (in->nargs == 1)
                return berth_fail(err, EINVAL, "Missing command after HEALTHCHECK CMD");
        return check_health_flags(in, err);
}

/* The arguments and flags each instruction takes (BuildKit's
 * instructions package), in its order of checks. */
static int instr_build(struct pnode *pn, berth_error_t **err)
{
        struct df_instr *in = &pn->in;
        const char *what;

        if (pn->kind < 0) {
                static const char *const upper[] = { "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE",
                                                     "FROM", "HEALTHCHECK", "LABEL", "MAINTAINER", "ONBUILD", "RUN",
                                                     "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR" };
                static const char *const lower[] = { "add", "arg", "cmd", "copy", "entrypoint", "env", "expose",
                                                     "from", "healthcheck", "label", "maintainer", "onbuild", "run",
                                                     "shell", "stopsignal", "user", "volume", "workdir" };
                _cleanup_free_ char *low = xstrdup(in->keyword), *s = show(in->keyword);
                bool has_upper = false, has_lower = false;
                size_t best = SIZE_MAX, min = 3;

                for (char *p = low; *p; p++) {
                        if (*p >= 'A' && *p <= 'Z') {
                                *p = (char)(*p - 'A' + 'a');
                                has_upper = true;
                        } else if ((*p >= 'a' && *p <= 'z') || (unsigned char)*p >= 0x80) {
                                has_lower = true;       /* not all upper case: the lower-case name */
                        }
                }
                for (size_t i = 0; i < ARRAY_SIZE(lower); i++) {
                        size_t d = levenshtein(low, lower[i]);
                        if (d < min) {
                                best = i;
                                min = d;
                        }
                }
                /* the suggestion in the case the keyword was written in */
                if (best != SIZE_MAX)
                        return berth_fail(err, EINVAL, "unknown instruction: %s (did you mean %s?)", s,
                                      has_upper && !has_lower ? upper[best] : lower[best]);
                return berth_fail(err, EINVAL, "unknown instruction: %s", s);
        }
        in->kind = (enum df_kind)pn->kind;
        what = dockerfile_kind_name(in->kind);
        switch (in->kind) {
        case DF_ENV:
        case DF_LABEL:
                if (parse_flags(pn, no_flags, err) < 0 || need_some(in->nkvs, what, err) < 0)
                        return -1;
                for (size_t i = 0; i < in->nkvs; i++)
                        if (in->kvs[i].key[0] == '\0')
                                return berth_fail(err, EINVAL, "%s names can not be blank", what);
                return 0;
        case DF_MAINTAINER:
        case DF_WORKDIR:
        case DF_USER:
        case DF_STOPSIGNAL:
                if (need_one(in, what, err) < 0)
                        return -1;
                return parse_flags(pn, no_flags, err);
        case DF_ADD:
        case DF_COPY:
                if (in->nargs < 2)
                        return berth_fail(err, EINVAL, "%s requires at least two arguments, but only one was provided. "
                                           "Destination could not be determined", what);
                if (parse_flags(pn, flags_for(pn->kind), err) < 0)
                        return -1;
                if (!in->json) {
                        struct df_heredoc h = { 0 };
                        _cleanup_error_ berth_error_t *ignored = NULL;
                        if (heredoc_from_word(in->args[in->nargs - 1], &h, &ignored) > 0) {
                                free(h.name);
                                return berth_fail(err, EINVAL, "%s cannot accept a heredoc as a destination", what);
                        }
                }
                return 0;
        case DF_FROM:
                if (in->nargs == 3 && strcasecmp(in->args[1], "as") == 0) {
                        _cleanup_free_ char *name = xstrdup(in->args[2]);
                        for (char *p = name; *p; p++)
                                if (*p >= 'A' && *p <= 'Z')
                                        *p = (char)(*p - 'A' + 'a');
                        if (!valid_stage_name(name)) {
                                _cleanup_free_ char *q = quote(in->args[2]);
                                return berth_fail(err, EINVAL, "invalid name for build stage: %s, name can't start with a number "
                                                   "or contain symbols", q);
                        }
                } else if (in->nargs != 1) {
                        return berth_fail(err, EINVAL, "FROM requires either one or three arguments");
                }
                return parse_flags(pn, from_flags, err);
        case DF_ONBUILD:
                return build_onbuild(pn, err);
        case DF_RUN:
                if (parse_flags(pn, run_flags, err) < 0)
                        return -1;
                return need_some(in->nargs, what, err);
        case DF_CMD:
        case DF_ENTRYPOINT:
                if (parse_flags(pn, no_flags, err) < 0)
                        return -1;
                if (in->nargs == 0 && !in->json)
                        return need_some(0, what, err);
                return 0;
        case DF_SHELL:
                if (parse_flags(pn, no_flags, err) < 0 || need_some(in->nargs, what, err) < 0)
                        return -1;
                if (!in->json)
                        return berth_fail(err, EINVAL, "SHELL requires the arguments to be in JSON form");
                return 0;
        case DF_HEALTHCHECK:
                return build_healthcheck(pn, err);
        case DF_EXPOSE:
                if (need_some(in->nargs, what, err) < 0)
                        return -1;
                return parse_flags(pn, no_flags, err);
        case DF_VOLUME:
                if (need_some(in->nargs, what, err) < 0 || parse_flags(pn, no_flags, err) < 0)
                        return -1;
                for (size_t i = 0; i < in->nargs; i++) {
                        char *t = trim_dup(in->args[i], strlen(in->args[i]));
                        free(in->args[i]);
                        in->args[i] = t;
                        if (*t == '\0')
                                return berth_fail(err, EINVAL, "VOLUME specified can not be an empty string");
                }
                return 0;
        case DF_ARG: {
                char **words = steal_pointer(&in->args);
                size_t n = in->nargs;
                int r = 0;
                in->nargs = 0;
                if (need_some(n, what, err) < 0 || parse_flags(pn, no_flags, err) < 0) {
                        strv_free_n(words, n);
                        return -1;
                }
                for (size_t i = 0; i < n && r == 0; i++) {
                        char *eq = strchr(words[i], '=');
                        if (eq == words[i])
                                r = berth_fail(err, EINVAL, "ARG names can not be blank");
                        else if (eq)
                                kv_push(in, strndup(words[i], (size_t)(eq - words[i])) ?: (abort(), NULL),
                                        xstrdup(eq + 1), true);
                        else
                                kv_push(in, xstrdup(words[i]), NULL, false);
                }
                strv_free_n(words, n);
                return r;
        }
        }
        return 0;
}

/* ---- the file ---- */

struct scanner {
        const char *p, *end;
        unsigned line;
};

/* The next line with its '\n' (bufio.ScanLines keeping the ending). */
static int scan(struct scanner *s, const char **l, size_t *n, bool *got, const char *file, berth_error_t **err)
{
        const char *nl;

        *got = false;
        if (s->p >= s->end)
                return 0;
        nl = memchr(s->p, '\n', (size_t)(s->end - s->p));
        *l = s->p;
        *n = nl ? (size_t)(nl - s->p) + 1 : (size_t)(s->end - s->p);
        s->p += *n;
        s->line++;
        if (*n - (nl != NULL) > MAX_LINE)
                return fail_at(err, file, s->line, "dockerfile line greater than max allowed size of %d", MAX_LINE);
        *got = true;
        return 0;
}

static size_t trim_newline(const char *l, size_t n)
{
        while (n > 0 && (l[n - 1] == '\n' || l[n - 1] == '\r'))
                n--;
        return n;
}

static bool is_comment(const char *l, size_t n)
{
        size_t i = skip_uspace(l, n);
        return i < n && l[i] == '#';
}

/* A line continues when it ends (blanks aside) with the escape character
 * that is not itself escaped; *n loses both. */
static bool continues(const char *l, size_t *n, char esc)
{
        size_t k = *n;

        while (k > 0 && (l[k - 1] == ' ' || l[k - 1] == '\t'))
                k--;
        if (k == 0 || l[k - 1] != esc || (k >= 2 && l[k - 2] == esc))
                return false;
        *n = k - 1;
        return true;
}

static bool re_space(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r';
}

struct directives {
        bool done;
        bool seen[3];
};

/* Parser directives: "# key=value" lines before anything else. */
static int directive(struct dockerfile *df, struct directives *d, const char *t, size_t n, unsigned line,
                     berth_error_t **err)
{
        static const char *const keys[] = { "syntax", "escape", "check" };
        size_t i, k0, k1, v0, v1, j;
        _cleanup_free_ char *key = NULL, *value = NULL;

        if (d->done)
                return 0;
        if (n == 0 || t[0] != '#')
                goto done;
        i = 1 + skip_uspace(t + 1, n - 1);
        k0 = i;
        if (i >= n || !((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z')))
                goto done;
        while (i < n && ((t[i] >= 'a' && t[i] <= 'z') || (t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= '0' && t[i] <= '9')))
                i++;
        k1 = i;
        while (i < n && re_space(t[i]))
                i++;
        if (i >= n || t[i] != '=')
                goto done;
        i++;
        if (i >= n)
                goto done;
        /* (.+?)\s*$ after \s*: the value without its blanks around, or the
         * last blank when there is nothing else */
        for (v0 = i; v0 < n && re_space(t[v0]); v0++)
                ;
        if (v0 == n) {
                v0 = n - 1;
                v1 = n;
        } else {
                for (v1 = n; re_space(t[v1 - 1]); v1--)
                        ;
        }
        key = strndup(t + k0, k1 - k0);
        value = strndup(t + v0, v1 - v0);
        if (key == NULL || value == NULL)
                abort();
        for (char *p = key; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char)(*p - 'A' + 'a');
        for (j = 0; j < ARRAY_SIZE(keys); j++)
                if (strcmp(key, keys[j]) == 0)
                        break;
        if (j == ARRAY_SIZE(keys))
                goto done;
        if (d->seen[j])
                return fail_at(err, df->file, line, "only one %s parser directive can be used", key);
        d->seen[j] = true;
        if (j == 1) {
                if (strcmp(value, "`") != 0 && strcmp(value, "\\") != 0) {
                        _cleanup_free_ char *s = show(value);
                        return fail_at(err, df->file, line, "invalid escape token '%s' does not match ` or \\", s);
                }
                df->escape = value[0];
        } else if (j == 0) {
                df->syntax = steal_pointer(&value);
        } else {
                df->check = steal_pointer(&value);
        }
        return 0;
done:
        d->done = true;
        return 0;
}

static void df_instr_copy_kvs(struct df_kv **dst, size_t *ndst, const struct df_kv *src, size_t n)
{
        *dst = xrealloc(*dst, (*ndst + n + 1) * sizeof(**dst));
        for (size_t i = 0; i < n; i++)
                (*dst)[(*ndst)++] = (struct df_kv){ xstrdup(src[i].key), src[i].value ? xstrdup(src[i].value) : NULL,
                                                    src[i].has_value };
}

/* Pass 1: the lines to nodes. */
static int parse_lines(struct dockerfile *df, const char *text, size_t len, struct pnode **nodes, size_t *nn,
                       berth_error_t **err)
{
        struct scanner s = { text, text + len, 0 };
        struct directives d = { 0 };
        size_t cap = 0;
        const char *l;
        size_t n;
        bool got;

        for (;;) {
                struct strbuf buf = { 0 };
                struct pnode pn = { 0 };
                unsigned start;
                bool cont;
                size_t t0;

                if (scan(&s, &l, &n, &got, df->file, err) < 0)
                        return -1;
                if (!got)
                        break;
                if (s.line == 1 && n >= 3 && memcmp(l, "\xef\xbb\xbf", 3) == 0) {
                        l += 3;
                        n -= 3;
                }
                n = trim_newline(l, n);
                t0 = skip_uspace(l, n);
                l += t0;
                n -= t0;
                if (directive(df, &d, l, n, s.line, err) < 0)
                        return -1;
                if (n > 0 && l[0] == '#')
                        continue;
                start = s.line;
                cont = continues(l, &n, df->escape);
                if (!cont && n == 0)
                        continue;
                strbuf_add(&buf, l, n);
                while (cont) {
                        if (scan(&s, &l, &n, &got, df->file, err) < 0) {
                                free(buf.data);
                                return -1;
                        }
                        if (!got)
                                break;
                        if (is_comment(l, n))
                                continue;
                        n = trim_newline(l, n);
                        if (skip_uspace(l, n) == n)
                                continue;
                        cont = continues(l, &n, df->escape);
                        strbuf_add(&buf, l, n);
                }
                pn.in.line = start;
                if (node_from_line(buf.data, df->escape, &pn, err) < 0) {
                        free(buf.data);
                        pnode_clear(&pn);
                        return located(err, df->file, start);
                }
                if (heredoc_kind(&pn) && strstr(buf.data, "<<") != NULL) {
                        if (heredocs_of_line(buf.data, &pn.in, err) < 0) {
                                free(buf.data);
                                pnode_clear(&pn);
                                return located(err, df->file, start);
                        }
                        for (size_t i = 0; i < pn.in.nheredocs; i++) {
                                struct df_heredoc *h = &pn.in.heredocs[i];
                                struct strbuf content = { 0 };
                                bool done = false;
                                strbuf_add(&content, "", 0);
                                for (;;) {
                                        size_t tn, k = 0;
                                        if (scan(&s, &l, &n, &got, df->file, err) < 0) {
                                                free(content.data);
                                                free(buf.data);
                                                pnode_clear(&pn);
                                                return -1;
                                        }
                                        if (!got)
                                                break;
                                        tn = trim_newline(l, n);
                                        if (h->chomp_tabs)
                                                while (k < tn && l[k] == '\t')
                                                        k++;
                                        if (tn - k == strlen(h->name) && memcmp(l + k, h->name, tn - k) == 0) {
                                                done = true;
                                                break;
                                        }
                                        strbuf_add(&content, l, n);
                                }
                                if (!done) {
                                        free(content.data);
                                        free(buf.data);
                                        pnode_clear(&pn);
                                        return fail_at(err, df->file, start, "unterminated heredoc");
                                }
                                if (h->chomp_tabs) {
                                        h->content = chomp_tabs(content.data);
                                        free(content.data);
                                } else {
                                        h->content = content.data;
                                }
                        }
                }
                free(buf.data);
                pn.in.end_line = s.line;
                if (*nn == cap) {
                        cap = cap ? cap * 2 : 16;
                        *nodes = xrealloc(*nodes, cap * sizeof(**nodes));
                }
                (*nodes)[(*nn)++] = pn;
        }
        if (*nn == 0)
                return fail_at(err, df->file, s.line ? s.line : 1, "file with no instructions");
        return 0;
}

/* Pass 2: the nodes to instructions and stages. */
static int build(struct dockerfile *df, struct pnode *nodes, size_t nn, berth_error_t **err)
{
        df->instrs = xcalloc(nn, sizeof(*df->instrs));
        df->stages = xcalloc(nn, sizeof(*df->stages));
        for (size_t i = 0; i < nn; i++) {
                struct pnode *pn = &nodes[i];
                struct df_instr *in;

                if (instr_build(pn, err) < 0)
                        return located(err, df->file, pn->in.line);
                if (pn->kind != DF_ARG && pn->kind != DF_FROM && df->nstages == 0) {
                        _cleanup_free_ char *k = show(pn->in.keyword);
                        return fail_at(err, df->file, pn->in.line, "no build stage in current context (%s before FROM)", k);
                }
                in = &df->instrs[df->n++];
                *in = pn->in;
                memset(&pn->in, 0, sizeof(pn->in));
                if (in->kind == DF_ARG && df->nstages == 0) {
                        df_instr_copy_kvs(&df->meta_args, &df->nmeta_args, in->kvs, in->nkvs);
                } else if (in->kind == DF_FROM) {
                        struct df_stage *st = &df->stages[df->nstages];
                        st->index = df->nstages++;
                        st->from = df->n - 1;
                        st->first = df->n;
                        st->n = 0;
                        if (in->nargs == 3) {
                                st->name = xstrdup(in->args[2]);
                                for (char *p = st->name; *p; p++)
                                        if (*p >= 'A' && *p <= 'Z')
                                                *p = (char)(*p - 'A' + 'a');
                        }
                } else {
                        df->stages[df->nstages - 1].n++;
                }
        }
        if (df->nstages == 0)
                return fail_at(err, df->file, df->instrs[0].line, "dockerfile contains no stages to build (no FROM)");
        return 0;
}

int dockerfile_parse(const char *text, size_t len, const char *file, struct dockerfile **out, berth_error_t **err)
{
        struct dockerfile *df;
        struct pnode *nodes = NULL;
        size_t nn = 0;
        const char *nul;
        int r;

        *out = NULL;
        if (file == NULL)
                file = "Dockerfile";
        if (len == 0)
                return fail_at(err, file, 1, "the Dockerfile cannot be empty");
        if ((nul = memchr(text, '\0', len)) != NULL) {
                unsigned line = 1;
                for (const char *p = text; p < nul; p++)
                        line += *p == '\n';
                return fail_at(err, file, line, "NUL byte in the Dockerfile");
        }
        df = xcalloc(1, sizeof(*df));
        df->file = xstrdup(file);
        df->escape = '\\';
        r = parse_lines(df, text, len, &nodes, &nn, err);
        if (r == 0)
                r = build(df, nodes, nn, err);
        for (size_t i = 0; i < nn; i++)
                pnode_clear(&nodes[i]);
        free(nodes);
        if (r < 0) {
                dockerfile_free(df);
                return r;
        }
        *out = df;
        return 0;
}

void dockerfile_free(struct dockerfile *df)
{
        if (df == NULL)
                return;
        free(df->file);
        free(df->syntax);
        free(df->check);
        for (size_t i = 0; i < df->n; i++)
                instr_clear(&df->instrs[i]);
        free(df->instrs);
        kvs_free(df->meta_args, df->nmeta_args);
        for (size_t i = 0; i < df->nstages; i++)
                free(df->stages[i].name);
        free(df->stages);
        free(df);
}

const struct df_stage *dockerfile_stage(const struct dockerfile *df, const char *name_or_index)
{
        const char *p = name_or_index;
        size_t idx = 0;

        if (df == NULL || p == NULL || *p == '\0')
                return NULL;
        /* a name given twice: the last stage, as BuildKit's map of names */
        for (size_t i = df->nstages; i-- > 0;)
                if (df->stages[i].name && strcasecmp(df->stages[i].name, p) == 0)
                        return &df->stages[i];
        for (; *p; p++) {
                if (*p < '0' || *p > '9' || idx > df->nstages)
                        return NULL;
                idx = idx * 10 + (size_t)(*p - '0');
        }
        return idx < df->nstages ? &df->stages[idx] : NULL;
}

const struct df_flag *dockerfile_flag(const struct df_instr *in, const char *name)
{
        for (size_t i = 0; i < in->nflags; i++)
                if (strcmp(in->flags[i].name, name) == 0)
                        return &in->flags[i];
        return NULL;
}

bool dockerfile_flag_bool(const struct df_instr *in, const char *name)
{
        const struct df_flag *f = NULL;

        for (size_t i = 0; i < in->nflags; i++)
                if (strcmp(in->flags[i].name, name) == 0)
                        f = &in->flags[i];
        return f && (f->value == NULL || strcasecmp(f->value, "true") == 0);
}

const struct df_heredoc *dockerfile_arg_heredoc(const struct df_instr *in, size_t i)
{
        struct df_heredoc h = { 0 };
        _cleanup_error_ berth_error_t *ignored = NULL;
        const struct df_heredoc *found = NULL;

        if (in->json || i >= in->nargs || heredoc_from_word(in->args[i], &h, &ignored) <= 0)
                return NULL;
        for (size_t k = 0; k < in->nheredocs; k++)
                if (strcmp(in->heredocs[k].name, h.name) == 0)
                        found = &in->heredocs[k];
        free(h.name);
        return found;
}
