/* .dockerignore patterns with Docker's rules; see dockerignore.h.
 *
 * A pattern is classified as Docker classifies it (exact, prefix, suffix,
 * or a full pattern); full patterns are compiled to a token list and run
 * as an NFA, one pass over the path, so no pattern takes more than
 * (path length x pattern length) steps whatever its stars. */
#include "dockerignore.h"
#include "util.h"
#include <stdint.h>

enum di_kind { DI_EXACT, DI_PREFIX, DI_SUFFIX, DI_GENERAL };

enum di_tok {
        T_LIT,          /* one character */
        T_ANY,          /* '?': one character but '/' */
        T_STAR,         /* '*': any run without '/' */
        T_DSTAR_DIR,    /* "**" before more: empty, or anything ending in '/' */
        T_DSTAR_END,    /* "**" at the end: anything */
        T_CLASS,        /* "[...]" */
        T_BOL,          /* '^' outside a class: only at the start */
};

struct di_range {
        uint32_t lo, hi;
};

struct di_token {
        enum di_tok t;
        bool neg;               /* T_CLASS */
        uint32_t r;             /* T_LIT */
        size_t first, n;        /* T_CLASS: ranges[first..first+n) */
};

struct di_pattern {
        char *text;             /* cleaned, without the '!' */
        size_t len;
        bool exclusion;
        enum di_kind kind;
        struct di_token *toks;
        size_t ntoks;
        struct di_range *ranges;
        size_t nranges;
};

struct dockerignore {
        struct di_pattern *p;
        size_t n, cap;
        bool exclusions;
};

#define RUNE_ERROR 0xFFFDu

/* Go's utf8.DecodeRune: an invalid or short sequence is U+FFFD, 1 byte. */
static uint32_t decode_rune(const unsigned char *s, size_t n, size_t *w)
{
        unsigned char b0 = s[0];
        uint32_t r;
        unsigned char lo = 0x80, hi = 0xBF;
        size_t need;

        *w = 1;
        if (b0 < 0x80)
                return b0;
        if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                r = b0 & 0x1F;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                r = b0 & 0x0F;
                if (b0 == 0xE0)
                        lo = 0xA0;
                else if (b0 == 0xED)
                        hi = 0x9F;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                r = b0 & 0x07;
                if (b0 == 0xF0)
                        lo = 0x90;
                else if (b0 == 0xF4)
                        hi = 0x8F;
        } else {
                return RUNE_ERROR;
        }
        if (n < need + 1)
                return RUNE_ERROR;
        for (size_t i = 1; i <= need; i++) {
                unsigned char b = s[i];
                if (i == 1 ? (b < lo || b > hi) : (b < 0x80 || b > 0xBF))
                        return RUNE_ERROR;
                r = (r << 6) | (b & 0x3F);
        }
        *w = need + 1;
        return r;
}

/* Go's unicode.IsSpace, for strings.TrimSpace. */
static bool is_space_rune(uint32_t r)
{
        switch (r) {
        case '\t': case '\n': case '\v': case '\f': case '\r': case ' ':
        case 0x85: case 0xA0: case 0x1680: case 0x2028: case 0x2029:
        case 0x202F: case 0x205F: case 0x3000:
                return true;
        }
        return r >= 0x2000 && r <= 0x200A;
}

/* strings.TrimSpace on s[*start..*end). */
static void trim_space(const char *s, size_t *start, size_t *end)
{
        const unsigned char *u = (const unsigned char *)s;

        while (*start < *end) {
                size_t w;
                uint32_t r = decode_rune(u + *start, *end - *start, &w);
                if (!is_space_rune(r) || (r == RUNE_ERROR && w == 1))
                        break;
                *start += w;
        }
        while (*end > *start) {
                /* Go's DecodeLastRune: back up to the start of the last
                 * rune (at most 3 continuation bytes), decode it, and take
                 * it only when it spans to the end. */
                size_t b = *end - 1, lim = *end - *start > 4 ? *end - 4 : *start;
                while (b > lim && (u[b] & 0xC0) == 0x80)
                        b--;
                size_t w;
                uint32_t r = decode_rune(u + b, *end - b, &w);
                if (b + w != *end) {
                        r = RUNE_ERROR;
                        w = 1;
                }
                if (!is_space_rune(r) || (r == RUNE_ERROR && w == 1))
                        break;
                *end -= w;
        }
}

/* Go's filepath.Clean (Unix).  Returns a new string; *outlen its length. */
static char *go_clean(const char *p, size_t n, size_t *outlen)
{
        char *out = xmalloc(n + 2);
        bool rooted = n > 0 && p[0] == '/';
        size_t w = 0, r = 0, dotdot = 0;

        if (n == 0) {
                memcpy(out, ".", 2);
                *outlen = 1;
                return out;
        }
        if (rooted) {
                out[w++] = '/';
                r = dotdot = 1;
        }
        while (r < n) {
                if (p[r] == '/') {
                        r++;
                } else if (p[r] == '.' && (r + 1 == n || p[r + 1] == '/')) {
                        r++;
                } else if (p[r] == '.' && p[r + 1] == '.' && (r + 2 == n || p[r + 2] == '/')) {
                        r += 2;
                        if (w > dotdot) {
                                w--;
                                while (w > dotdot && out[w] != '/')
                                        w--;
                        } else if (!rooted) {
                                if (w > 0)
                                        out[w++] = '/';
                                out[w++] = '.';
                                out[w++] = '.';
                                dotdot = w;
                        }
                } else {
                        if ((rooted && w != 1) || (!rooted && w != 0))
                                out[w++] = '/';
                        while (r < n && p[r] != '/')
                                out[w++] = p[r++];
                }
        }
        if (w == 0)
                out[w++] = '.';
        out[w] = '\0';
        *outlen = w;
        return out;
}

/* Go's filepath.Dir of a path: the part before the last '/', cleaned. */
static char *go_dir(const char *p, size_t n, size_t *outlen)
{
        size_t i = n;

        while (i > 0 && p[i - 1] != '/')
                i--;
        return go_clean(p, i, outlen);
}

/* One class member of filepath.Match ("a", "\]"): its rune, or -1 when
 * the pattern is malformed there (Go's getEsc). */
static int64_t class_char(const char *p, size_t n, size_t *i)
{
        size_t w;
        uint32_t r;

        if (*i >= n || p[*i] == '-' || p[*i] == ']')
                return -1;
        if (p[*i] == '\\') {
                (*i)++;
                if (*i >= n)
                        return -1;
        }
        r = decode_rune((const unsigned char *)p + *i, n - *i, &w);
        if (r == RUNE_ERROR && w == 1)
                return -1;
        *i += w;
        if (*i >= n)
                return -1;
        return r;
}

/* Parse a class, *i just after its '['.  With pat NULL, only checks. */
static bool parse_class(const char *p, size_t n, size_t *i, struct di_pattern *pat, struct di_token *tok)
{
        size_t nrange = 0;

        if (*i < n && p[*i] == '^') {
                if (tok)
                        tok->neg = true;
                (*i)++;
        }
        for (;;) {
                int64_t lo, hi;

                if (*i < n && p[*i] == ']' && nrange > 0) {
                        (*i)++;
                        return true;
                }
                lo = class_char(p, n, i);
                if (lo < 0)
                        return false;
                hi = lo;
                if (p[*i] == '-') {
                        (*i)++;
                        hi = class_char(p, n, i);
                        if (hi < 0)
                                return false;
                }
                /* filepath.Match accepts "[z-a]" (it never matches); the
                 * regular expression Docker makes of it fails to compile,
                 * so Docker's matching fails: an error here. */
                if (hi < lo)
                        return false;
                if (pat) {
                        pat->ranges = xrealloc(pat->ranges, (pat->nranges + 1) * sizeof(*pat->ranges));
                        pat->ranges[pat->nranges++] = (struct di_range){ (uint32_t)lo, (uint32_t)hi };
                        tok->n++;
                }
                nrange++;
        }
}

/* filepath.Match's syntax check (what patternmatcher.New asks of it). */
static bool pattern_valid(const char *p, size_t n)
{
        size_t i = 0;

        while (i < n) {
                if (p[i] == '\\') {
                        if (i + 1 >= n)
                                return false;
                        i += 2;
                } else if (p[i] == '[') {
                        i++;
                        if (!parse_class(p, n, &i, NULL, NULL))
                                return false;
                } else {
                        i++;
                }
        }
        return true;
}

static bool should_escape(uint32_t c)
{
        return c < 0x80 && strchr(".+()|{}$", (int)c) != NULL && c != 0;
}

static void add_tok(struct di_pattern *pat, struct di_token t)
{
        pat->toks = xrealloc(pat->toks, (pat->ntoks + 1) * sizeof(*pat->toks));
        pat->toks[pat->ntoks++] = t;
}

/* patternmatcher's compile: classify the pattern the way Docker does and,
 * for a full pattern, make its tokens.  The pattern is valid. */
static void compile(struct di_pattern *pat)
{
        const char *p = pat->text;
        size_t n = pat->len, i = 0, iter = 0;
        enum di_kind kind = DI_EXACT;

        /* Go's text/scanner drops a BOM as the first character. */
        if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
                i = 3;
        for (; i < n; iter++) {
                size_t w;
                uint32_t ch = decode_rune((const unsigned char *)p + i, n - i, &w);

                i += w;
                if (ch == '*') {
                        if (i < n && p[i] == '*') {
                                i++;
                                if (i < n && p[i] == '/')
                                        i++;
                                if (i == n) {
                                        if (kind == DI_EXACT) {
                                                kind = DI_PREFIX;
                                        } else {
                                                add_tok(pat, (struct di_token){ .t = T_DSTAR_END });
                                                kind = DI_GENERAL;
                                        }
                                } else {
                                        add_tok(pat, (struct di_token){ .t = T_DSTAR_DIR });
                                        kind = DI_GENERAL;
                                }
                                if (iter == 0)
                                        kind = DI_SUFFIX;
                        } else {
                                add_tok(pat, (struct di_token){ .t = T_STAR });
                                kind = DI_GENERAL;
                        }
                } else if (ch == '?') {
                        add_tok(pat, (struct di_token){ .t = T_ANY });
                        kind = DI_GENERAL;
                } else if (should_escape(ch)) {
                        add_tok(pat, (struct di_token){ .t = T_LIT, .r = ch });
                } else if (ch == '\\') {
                        if (i < n) {
                                uint32_t e = decode_rune((const unsigned char *)p + i, n - i, &w);
                                i += w;
                                add_tok(pat, (struct di_token){ .t = T_LIT, .r = e });
                                kind = DI_GENERAL;
                        } else {
                                add_tok(pat, (struct di_token){ .t = T_LIT, .r = '\\' });
                        }
                } else if (ch == '[') {
                        struct di_token t = { .t = T_CLASS, .first = pat->nranges };
                        if (!parse_class(p, n, &i, pat, &t))
                                abort(); /* checked by pattern_valid() */
                        add_tok(pat, t);
                        kind = DI_GENERAL;
                } else if (ch == ']') {
                        add_tok(pat, (struct di_token){ .t = T_LIT, .r = ']' });
                        kind = DI_GENERAL;
                } else if (ch == '^') {
                        add_tok(pat, (struct di_token){ .t = T_BOL });
                } else {
                        add_tok(pat, (struct di_token){ .t = T_LIT, .r = ch });
                }
        }
        pat->kind = kind;
        if (kind != DI_GENERAL) {
                free(pat->toks);
                free(pat->ranges);
                pat->toks = NULL;
                pat->ranges = NULL;
                pat->ntoks = pat->nranges = 0;
        }
}

static bool class_has(const struct di_pattern *pat, const struct di_token *t, uint32_t c)
{
        bool in = false;

        for (size_t k = 0; k < t->n && !in; k++)
                in = pat->ranges[t->first + k].lo <= c && c <= pat->ranges[t->first + k].hi;
        return in != t->neg;
}

/* Follow the empty moves: '*' and "**" matching nothing, '^' at the start. */
static void closure(const struct di_pattern *pat, uint8_t *pos, bool at_start)
{
        for (size_t i = 0; i < pat->ntoks; i++) {
                if (!pos[i])
                        continue;
                switch (pat->toks[i].t) {
                case T_STAR:
                case T_DSTAR_DIR:
                case T_DSTAR_END:
                        pos[i + 1] = 1;
                        break;
                case T_BOL:
                        if (at_start)
                                pos[i + 1] = 1;
                        break;
                default:
                        break;
                }
        }
}

/* Run a full pattern over s.  whole: does it match all of s?  Else: does
 * it match s up to some '/' or to its end (a parent directory of the
 * path whose directory s is)?  One pass either way. */
static bool match_general(const struct di_pattern *pat, const char *s, size_t n, bool whole)
{
        size_t m = pat->ntoks, sz = 2 * (m + 1);
        uint8_t stack[4 * 64];
        _cleanup_free_ uint8_t *heap = NULL;
        uint8_t *cur, *nxt;
        size_t off = 0;

        if (2 * sz <= sizeof(stack)) {
                cur = stack;
        } else {
                heap = xmalloc(2 * sz);
                cur = heap;
        }
        nxt = cur + sz;
        /* cur[0..m]: at token i; cur[m+1+i]: inside the "**" token i. */
        memset(cur, 0, sz);
        cur[0] = 1;
        closure(pat, cur, true);
        while (off < n) {
                size_t w;
                uint32_t c;
                bool any = false;

                if (!whole && s[off] == '/' && cur[m])
                        return true;
                c = decode_rune((const unsigned char *)s + off, n - off, &w);
                memset(nxt, 0, sz);
                for (size_t i = 0; i < m; i++) {
                        const struct di_token *t = &pat->toks[i];
                        bool at = cur[i], inside = cur[m + 1 + i];

                        if (!at && !inside)
                                continue;
                        switch (t->t) {
                        case T_LIT:
                                if (at && c == t->r)
                                        nxt[i + 1] = 1;
                                break;
                        case T_ANY:
                                if (at && c != '/')
                                        nxt[i + 1] = 1;
                                break;
                        case T_CLASS:
                                if (at && class_has(pat, t, c))
                                        nxt[i + 1] = 1;
                                break;
                        case T_STAR:
                                if (c != '/')
                                        nxt[i] = 1;
                                break;
                        case T_DSTAR_END:
                                if (c != '\n')
                                        nxt[i] = 1;
                                break;
                        case T_DSTAR_DIR:
                                if (c != '\n') {
                                        nxt[m + 1 + i] = 1;
                                        if (c == '/')
                                                nxt[i + 1] = 1;
                                }
                                break;
                        case T_BOL:
                                break;
                        }
                }
                off += w;
                closure(pat, nxt, false);
                for (size_t i = 0; i < sz && !any; i++)
                        any = nxt[i] != 0;
                if (!any)
                        return false;
                uint8_t *tmp = cur;
                cur = nxt;
                nxt = tmp;
        }
        return cur[m] != 0;
}

static bool suffix_match(const struct di_pattern *pat, const char *s, size_t n)
{
        const char *suf = pat->text + 2;
        size_t sl = pat->len - 2;

        if (n >= sl && memcmp(s + n - sl, suf, sl) == 0)
                return true;
        /* "**" + "/foo" matches "foo" */
        return sl > 0 && suf[0] == '/' && n == sl - 1 && memcmp(s, suf + 1, sl - 1) == 0;
}

static bool pattern_match(const struct di_pattern *pat, const char *s, size_t n)
{
        switch (pat->kind) {
        case DI_EXACT:
                return n == pat->len && memcmp(s, pat->text, n) == 0;
        case DI_PREFIX:
                return n >= pat->len - 2 && memcmp(s, pat->text, pat->len - 2) == 0;
        case DI_SUFFIX:
                return suffix_match(pat, s, n);
        case DI_GENERAL:
                return match_general(pat, s, n, true);
        }
        return false;
}

/* Does pat match one of the parent directories of a path?  dir is Go's
 * Dir of the path; Docker tries its prefixes at each '/' and dir itself. */
static bool parent_matches(const struct di_pattern *pat, const char *dir, size_t dlen)
{
        switch (pat->kind) {
        case DI_EXACT:
                return pat->len <= dlen && memcmp(dir, pat->text, pat->len) == 0 &&
                       (pat->len == dlen || dir[pat->len] == '/');
        case DI_PREFIX:
                return pattern_match(pat, dir, dlen);
        case DI_SUFFIX:
                for (size_t k = 0; k <= dlen; k++)
                        if ((k == dlen || dir[k] == '/') && suffix_match(pat, dir, k))
                                return true;
                return false;
        case DI_GENERAL:
                return match_general(pat, dir, dlen, false);
        }
        return false;
}

static bool eval(const struct dockerignore *di, const char *path, size_t n, const bool *parent, bool *info)
{
        _cleanup_free_ char *dir = NULL;
        size_t dlen = 0;
        bool matched = false;

        for (size_t i = 0; i < di->n; i++) {
                const struct di_pattern *pat = &di->p[i];
                bool m = parent ? parent[i] : false;

                if (!m) {
                        if (pat->exclusion != matched) {
                                if (info)
                                        info[i] = false;
                                continue;
                        }
                        m = pattern_match(pat, path, n);
                        if (!m && parent == NULL) {
                                if (dir == NULL)
                                        dir = go_dir(path, n, &dlen);
                                if (strcmp(dir, ".") != 0)
                                        m = parent_matches(pat, dir, dlen);
                        }
                }
                if (info)
                        info[i] = m;
                if (m)
                        matched = !pat->exclusion;
        }
        return matched;
}

bool dockerignore_matches(const struct dockerignore *di, const char *path)
{
        size_t n;
        _cleanup_free_ char *clean = NULL;

        if (di == NULL || di->n == 0)
                return false;
        clean = go_clean(path, strlen(path), &n);
        if (strcmp(clean, ".") == 0)
                return false;
        return eval(di, clean, n, NULL, NULL);
}

bool dockerignore_matches_walk(const struct dockerignore *di, const char *path, const bool *parent, bool *info)
{
        if (di == NULL || di->n == 0)
                return false;
        return eval(di, path, strlen(path), parent, info);
}

size_t dockerignore_npatterns(const struct dockerignore *di)
{
        return di ? di->n : 0;
}

bool dockerignore_has_exceptions(const struct dockerignore *di)
{
        return di && di->exclusions;
}

bool dockerignore_may_reinclude(const struct dockerignore *di, const char *dir)
{
        size_t dl = strlen(dir);

        if (!dockerignore_has_exceptions(di))
                return false;
        for (size_t i = 0; i < di->n; i++) {
                const struct di_pattern *pat = &di->p[i];
                /* (pattern + "/") starts with (dir + "/") */
                if (!pat->exclusion || pat->len + 1 < dl + 1)
                        continue;
                if (memcmp(pat->text, dir, dl) == 0 && (pat->len == dl || pat->text[dl] == '/'))
                        return true;
        }
        return false;
}

static void pattern_free(struct di_pattern *pat)
{
        free(pat->text);
        free(pat->toks);
        free(pat->ranges);
}

void dockerignore_free(struct dockerignore *di)
{
        if (di == NULL)
                return;
        for (size_t i = 0; i < di->n; i++)
                pattern_free(&di->p[i]);
        free(di->p);
        free(di);
}

/* Check and add one cleaned pattern (without its '!'). */
static int add_cleaned(struct dockerignore *di, const char *body, size_t n, bool exclusion, unsigned line,
                       berth_error_t **err)
{
        struct di_pattern pat = { .exclusion = exclusion };

        if (!pattern_valid(body, n)) {
                _cleanup_free_ char *q = quote_n(body, n);
                if (line)
                        return berth_fail(err, EINVAL, "line %u: bad pattern %s: syntax error in pattern", line, q);
                return berth_fail(err, EINVAL, "bad pattern %s: syntax error in pattern", q);
        }
        pat.text = xmalloc(n + 1);
        memcpy(pat.text, body, n);
        pat.text[n] = '\0';
        pat.len = n;
        compile(&pat);
        if (di->n == di->cap) {
                di->cap = di->cap ? 2 * di->cap : 8;
                di->p = xrealloc(di->p, di->cap * sizeof(*di->p));
        }
        di->p[di->n++] = pat;
        if (exclusion)
                di->exclusions = true;
        return 0;
}

/* patternmatcher.New for one pattern p[0..n) (what the ignore-file reader
 * made of a line). */
static int add_pattern(struct dockerignore *di, const char *p, size_t n, unsigned line, berth_error_t **err)
{
        size_t start = 0, end = n, clen;
        _cleanup_free_ char *clean = NULL;
        const char *body;
        bool exclusion = false;

        trim_space(p, &start, &end);
        if (start == end)
                return 0;
        clean = go_clean(p + start, end - start, &clen);
        body = clean;
        if (clean[0] == '!') {
                if (clen == 1)
                        return berth_fail(err, EINVAL, "line %u: illegal exclusion pattern: \"!\"", line);
                exclusion = true;
                body++;
                clen--;
        }
        return add_cleaned(di, body, clen, exclusion, line, err);
}

/* The ignore-file reader (ignorefile.ReadAll) for one line, then New. */
static int add_line(struct dockerignore *di, const char *l, size_t n, unsigned line, berth_error_t **err)
{
        size_t start = 0, end = n, clen;
        bool invert;
        struct strbuf b = { 0 };
        int r;

        if (n > 0 && l[0] == '#')
                return 0;
        trim_space(l, &start, &end);
        if (start == end)
                return 0;
        invert = l[start] == '!';
        if (invert) {
                start++;
                trim_space(l, &start, &end);
                strbuf_add(&b, "!", 1);
        }
        if (start < end) {
                _cleanup_free_ char *clean = go_clean(l + start, end - start, &clen);
                const char *c = clean;
                if (clen > 1 && c[0] == '/') {
                        c++;
                        clen--;
                }
                strbuf_add(&b, c, clen);
        }
        if (b.len == 0)
                return 0;
        r = add_pattern(di, b.data, b.len, line, err);
        free(b.data);
        return r;
}

int dockerignore_parse(const char *text, size_t len, struct dockerignore **out, berth_error_t **err)
{
        struct dockerignore *di = xcalloc(1, sizeof(*di));
        size_t off = 0;
        unsigned line = 0;

        while (off < len) {
                const char *l = text + off, *nl = memchr(l, '\n', len - off);
                size_t n = nl ? (size_t)(nl - l) : len - off;

                off += n + (nl ? 1 : 0);
                if (n > 0 && l[n - 1] == '\r')
                        n--;
                if (line == 0 && n >= 3 && memcmp(l, "\xEF\xBB\xBF", 3) == 0) {
                        l += 3;
                        n -= 3;
                }
                line++;
                if (add_line(di, l, n, line, err) < 0) {
                        dockerignore_free(di);
                        return -1;
                }
        }
        *out = di;
        return 0;
}

int dockerignore_keep(struct dockerignore *di, const char *path, berth_error_t **err)
{
        _cleanup_free_ char *clean = NULL;
        size_t n;

        if (!dockerignore_matches(di, path))
                return 0;
        /* Docker appends "!" + the path, which it cleans again as a whole
         * ("!../x" is not "!" + "../x" then); the same for the clean
         * relative paths it passes, and right for any other */
        clean = go_clean(path, strlen(path), &n);
        return add_cleaned(di, clean, n, true, 0, err);
}
