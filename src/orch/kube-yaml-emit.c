/* JSON to YAML as `kubectl -o yaml` prints it (see kube-yaml.h): block
 * style, two spaces, a list under a key at the key's own column, strings
 * plain unless they would read back as something else (or as something
 * else to go-yaml, which reads our output on a real cluster), then single
 * quotes, then double quotes with escapes; multi-line values as literal
 * blocks. */
#include "orch/kube-yaml.h"
#include "util/util.h"
#include <math.h>
#include <stdint.h>

/* libyaml keeps an implicit ("simple") key to 1024 characters; a longer
 * one is written as an explicit "? key". */
#define SIMPLE_KEY_MAX 1000

enum place {
        PLACE_VALUE, /* after "key: " or "- ": a literal block may follow */
        PLACE_KEY,
        PLACE_TOP,   /* a whole document */
};

enum style { STYLE_PLAIN, STYLE_SINGLE, STYLE_DOUBLE, STYLE_LITERAL };

/* The code point at s[*i], advancing *i; a stray byte comes back as
 * itself (jansson's strings are UTF-8, so only a bug gets there). */
static uint32_t next_char(const char *s, size_t n, size_t *i)
{
        const unsigned char *p = (const unsigned char *)s + *i;
        size_t left = n - *i, len = 1;
        uint32_t c = p[0];

        if (c >= 0xf0 && left >= 4)
                c = (c & 0x07) << 18 | (p[1] & 0x3fu) << 12 | (p[2] & 0x3fu) << 6 | (p[3] & 0x3fu), len = 4;
        else if (c >= 0xe0 && left >= 3)
                c = (c & 0x0f) << 12 | (p[1] & 0x3fu) << 6 | (p[2] & 0x3fu), len = 3;
        else if (c >= 0xc0 && left >= 2)
                c = (c & 0x1f) << 6 | (p[1] & 0x3fu), len = 2;
        *i += len;
        return c;
}

/* A character libyaml reads as itself in any scalar: printable, not a
 * line break (YAML 1.1 adds NEL, LS and PS), not a byte order mark. */
static bool safe_char(uint32_t c)
{
        if (c < 0x80)
                return c >= 0x20 && c != 0x7f;
        return c >= 0x20 && c != 0x7f && !(c >= 0x80 && c <= 0x9f) && c != 0x2028 && c != 0x2029 && c != 0xfeff &&
               c != 0xfffe && c != 0xffff;
}

static bool is_word(const char *s, size_t n, const char *words)
{
        for (const char *w = words; *w; w += strlen(w) + 1)
                if (strlen(w) == n && memcmp(s, w, n) == 0)
                        return true;
        return false;
}

/* Plain text go-yaml (YAML 1.1) would not read as a string: booleans,
 * numbers with underscores or 0b, sexagesimals, timestamps.  Quoting a few
 * more than needed ("1.2.3") is harmless; "10Mi" and "100m" stay plain. */
static bool go_yaml_typed(const char *s, size_t n)
{
        static const char words[] = "y\0Y\0yes\0Yes\0YES\0n\0N\0no\0No\0NO\0on\0On\0ON\0off\0Off\0OFF\0";
        size_t i = n > 0 && (s[0] == '-' || s[0] == '+') ? 1 : 0;

        if (is_word(s, n, words))
                return true;
        if (i == n || !(s[i] == '.' || (s[i] >= '0' && s[i] <= '9')))
                return false;
        for (; i < n; i++)
                if (!strchr("0123456789_.:-+eExXoObBabcdefABCDEFtTzZ ", s[i]) || s[i] == '\0')
                        return false;
        return true;
}

/* Whether s (all safe characters, no tab) can be written unquoted in
 * block context and read back as the same string. */
static bool plain_ok(const char *s, size_t n)
{
        if (n == 0 || kube_yaml_plain_kind(s, n) != KUBE_YAML_STRING || go_yaml_typed(s, n))
                return false;
        if (s[0] == ' ' || s[n - 1] == ' ' || s[n - 1] == ':')
                return false;
        if (strchr("?:,[]{}#&*!|>'\"%@`", s[0]) || (s[0] == '-' && (n == 1 || s[1] == ' ')))
                return false;
        if (str_has_prefix(s, "---") || str_has_prefix(s, "...")) /* document markers at column 0 */
                return false;
        if (n == 2 && memcmp(s, "<<", 2) == 0) /* the merge key */
                return false;
        for (size_t i = 0; i + 1 < n; i++)
                if ((s[i] == ':' && s[i + 1] == ' ') || (s[i] == ' ' && s[i + 1] == '#'))
                        return false;
        return true;
}

static enum style string_style(const char *s, size_t n, enum place place)
{
        bool plain = true, single = true, literal = true, breaks = false, text = false;

        for (size_t i = 0; i < n;) {
                uint32_t c = next_char(s, n, &i);
                if (c == '\n') {
                        breaks = true;
                        plain = single = false;
                        continue;
                }
                text = true;
                if (c == '\t')
                        plain = false;
                else if (!safe_char(c))
                        plain = single = literal = false;
        }
        if (breaks && literal && text && place == PLACE_VALUE)
                return STYLE_LITERAL;
        if (plain && plain_ok(s, n))
                return STYLE_PLAIN;
        return single ? STYLE_SINGLE : STYLE_DOUBLE;
}

static void emit_single(struct strbuf *b, const char *s, size_t n)
{
        strbuf_adds(b, "'");
        for (const char *q; (q = memchr(s, '\'', n)); n -= (size_t)(q + 1 - s), s = q + 1) {
                strbuf_add(b, s, (size_t)(q - s));
                strbuf_adds(b, "''");
        }
        strbuf_add(b, s, n);
        strbuf_adds(b, "'");
}

/* The escape YAML needs for c in double quotes, or NULL when c stands as
 * itself. */
static const char *double_escape(uint32_t c, char esc[static 12])
{
        static const char short_escapes[] = "0\0\0\0\0\0\0abtnvfr";

        if (c == '"' || c == '\\')
                snprintf(esc, 12, "\\%c", (char)c);
        else if (c < 0x0e && short_escapes[c])
                snprintf(esc, 12, "\\%c", short_escapes[c]);
        else if (c == 0x1b)
                snprintf(esc, 12, "\\e");
        else if (c == 0x85 || c == 0x2028 || c == 0x2029)
                snprintf(esc, 12, "\\%c", c == 0x85 ? 'N' : c == 0x2028 ? 'L' : 'P');
        else if (safe_char(c))
                return NULL;
        else
                snprintf(esc, 12, c < 0x100 ? "\\x%02X" : "\\u%04X", (unsigned)c);
        return esc;
}

static void emit_double(struct strbuf *b, const char *s, size_t n)
{
        size_t run = 0; /* start of the characters not yet written */

        strbuf_adds(b, "\"");
        for (size_t i = 0; i < n;) {
                size_t start = i;
                char buf[12];
                const char *esc = double_escape(next_char(s, n, &i), buf);
                if (esc) {
                        strbuf_add(b, s + run, start - run);
                        strbuf_adds(b, esc);
                        run = i;
                }
        }
        strbuf_add(b, s + run, n - run);
        strbuf_adds(b, "\"");
}

static void add_spaces(struct strbuf *b, int n)
{
        static const char spaces[] = "                                ";

        for (; n > 0; n -= (int)sizeof(spaces) - 1)
                strbuf_add(b, spaces, MIN((size_t)n, sizeof(spaces) - 1));
}

/* "|", "|-" or "|+" (with an indentation indicator when the text starts
 * with a space, a tab or an empty line), then each line two spaces deeper
 * than the key or dash at column indent.  The caller ends the last line. */
static void emit_literal(struct strbuf *b, const char *s, size_t n, int indent)
{
        size_t trailing = 0;

        while (trailing < n && s[n - 1 - trailing] == '\n')
                trailing++;
        strbuf_adds(b, "|");
        if (s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
                strbuf_adds(b, "2");
        strbuf_adds(b, trailing == 0 ? "-" : trailing == 1 ? "" : "+");
        for (size_t i = 0, end = n - trailing; i < end;) {
                const char *nl = memchr(s + i, '\n', end - i);
                size_t len = nl ? (size_t)(nl - (s + i)) : end - i;
                strbuf_adds(b, "\n");
                if (len > 0) {
                        add_spaces(b, indent + 2);
                        strbuf_add(b, s + i, len);
                }
                i += len + 1;
        }
        for (size_t i = 1; i < trailing; i++)
                strbuf_adds(b, "\n");
}

static void emit_string(struct strbuf *b, const char *s, size_t n, int indent, enum place place)
{
        switch (string_style(s, n, place)) {
        case STYLE_PLAIN:
                strbuf_add(b, s, n);
                break;
        case STYLE_SINGLE:
                emit_single(b, s, n);
                break;
        case STYLE_DOUBLE:
                emit_double(b, s, n);
                break;
        case STYLE_LITERAL:
                emit_literal(b, s, n, indent);
                break;
        }
}

/* The shortest text strtod reads back as d, always with a "." or an
 * exponent so it reads back as a real, not an integer. */
static void emit_real(struct strbuf *b, double d)
{
        char s[48];

        if (!isfinite(d)) { /* jansson holds none; for completeness */
                strbuf_adds(b, isnan(d) ? ".nan" : d > 0 ? ".inf" : "-.inf");
                return;
        }
        for (int prec = 1; prec <= 17; prec++) {
                snprintf(s, sizeof(s) - 2, "%.*g", prec, d);
                if (strtod(s, NULL) == d)
                        break;
        }
        if (!strpbrk(s, ".eE"))
                strcat(s, ".0");
        strbuf_adds(b, s);
}

static void emit_scalar(struct strbuf *b, const json_t *v, int indent, enum place place)
{
        char num[32];

        switch (json_typeof(v)) {
        case JSON_STRING:
                emit_string(b, json_string_value(v), json_string_length(v), indent, place);
                break;
        case JSON_INTEGER:
                snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT, json_integer_value(v));
                strbuf_adds(b, num);
                break;
        case JSON_REAL:
                emit_real(b, json_real_value(v));
                break;
        case JSON_TRUE:
                strbuf_adds(b, "true");
                break;
        case JSON_FALSE:
                strbuf_adds(b, "false");
                break;
        case JSON_OBJECT: /* only empty ones come here */
                strbuf_adds(b, "{}");
                break;
        case JSON_ARRAY:
                strbuf_adds(b, "[]");
                break;
        default:
                strbuf_adds(b, "null");
                break;
        }
}

static bool is_block(const json_t *v)
{
        return (json_is_object(v) && json_object_size(v) > 0) || (json_is_array(v) && json_array_size(v) > 0);
}

static void emit_mapping(struct strbuf *b, const json_t *obj, int indent, bool first_inline);
static void emit_sequence(struct strbuf *b, const json_t *arr, int indent, bool first_inline);

/* What follows "key:" or "-": a nested block, or " scalar" on the line. */
static void emit_value(struct strbuf *b, const json_t *v, int indent, bool in_sequence)
{
        if (!is_block(v)) {
                strbuf_adds(b, " ");
                emit_scalar(b, v, indent, PLACE_VALUE);
                strbuf_adds(b, "\n");
        } else if (in_sequence) {
                strbuf_adds(b, " ");
                if (json_is_object(v))
                        emit_mapping(b, v, indent + 2, true);
                else
                        emit_sequence(b, v, indent + 2, true);
        } else {
                strbuf_adds(b, "\n");
                if (json_is_object(v))
                        emit_mapping(b, v, indent + 2, false);
                else
                        emit_sequence(b, v, indent, false); /* kubectl: "- " at the key's column */
        }
}

static void emit_mapping(struct strbuf *b, const json_t *obj, int indent, bool first_inline)
{
        const char *key;
        size_t key_len;
        json_t *v;
        bool first = true;

        json_object_keylen_foreach((json_t *)obj, key, key_len, v) {
                struct strbuf k = { 0 };
                if (!first || !first_inline)
                        add_spaces(b, indent);
                first = false;
                emit_string(&k, key, key_len, indent, PLACE_KEY);
                if (k.len > SIMPLE_KEY_MAX) {
                        strbuf_adds(b, "? ");
                        strbuf_add(b, k.data, k.len);
                        strbuf_adds(b, "\n");
                        add_spaces(b, indent);
                } else {
                        strbuf_add(b, k.data, k.len);
                }
                free(k.data);
                strbuf_adds(b, ":");
                emit_value(b, v, indent, false);
        }
}

static void emit_sequence(struct strbuf *b, const json_t *arr, int indent, bool first_inline)
{
        size_t i;
        json_t *v;

        json_array_foreach(arr, i, v) {
                if (i > 0 || !first_inline)
                        add_spaces(b, indent);
                strbuf_adds(b, "-");
                emit_value(b, v, indent, true);
        }
}

static void emit_document(struct strbuf *b, const json_t *v)
{
        if (json_is_object(v) && is_block(v)) {
                emit_mapping(b, v, 0, false);
        } else if (is_block(v)) {
                emit_sequence(b, v, 0, false);
        } else {
                emit_scalar(b, v, 0, PLACE_TOP);
                strbuf_adds(b, "\n");
        }
}

char *kube_yaml_emit(const json_t *v)
{
        struct strbuf b = { 0 };

        emit_document(&b, v);
        return b.data;
}

char *kube_yaml_emit_docs(const json_t *array)
{
        struct strbuf b = { 0 };
        size_t i;
        json_t *v;

        strbuf_add(&b, "", 0);
        json_array_foreach(array, i, v) {
                if (i > 0)
                        strbuf_adds(&b, "---\n");
                emit_document(&b, v);
        }
        return b.data;
}
