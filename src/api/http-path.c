/* Pure parsing for the HTTP layer: the /vN.NN prefix, versions, booleans
 * the way dockerd reads them, and route patterns.  All of it sees client
 * input, so none of it trusts lengths or digits. */
#include "api/http-internal.h"
#include "util/util.h"
#include <ctype.h>
#include <strings.h>

#define VERSION_PART_MAX 999999u

/* Digits up to the next '.' or end, saturating: "/v99999999999.0" must
 * read as too new, not wrap around to something old. */
static unsigned version_part(const char **p, const char *end)
{
        unsigned v = 0;

        for (; *p < end && **p != '.'; (*p)++) {
                v = v * 10 + (unsigned)(**p - '0');
                if (v > VERSION_PART_MAX)
                        v = VERSION_PART_MAX;
        }
        if (*p < end)
                (*p)++;
        return v;
}

/* [0-9.]+ as gorilla's "/v{version:[0-9.]+}" takes it; parts beyond the
 * minor are ignored, missing or empty ones are 0. */
static void version_from(const char *s, size_t n, struct http_api_version *v)
{
        const char *p = s, *end = s + n;

        v->major = version_part(&p, end);
        v->minor = version_part(&p, end);
}

bool http_split_version(const char *url, struct http_api_version *v, const char **rest,
                        char *vstr, size_t vstr_size)
{
        size_t n;

        *rest = url;
        if (url[0] != '/' || url[1] != 'v')
                return false;
        n = strspn(url + 2, "0123456789.");
        if (n == 0 || (url[2 + n] != '/' && url[2 + n] != '\0'))
                return false;
        version_from(url + 2, n, v);
        if (vstr_size > 0)
                snprintf(vstr, vstr_size, "%.*s", (int)(n < vstr_size ? n : vstr_size - 1), url + 2);
        *rest = url + 2 + n;
        return true;
}

/* Configured versions: "MAJOR.MINOR" exactly. */
bool http_parse_version(const char *s, struct http_api_version *v)
{
        size_t a = strspn(s, "0123456789"), b;

        if (a == 0 || a > 6 || s[a] != '.')
                return false;
        b = strspn(s + a + 1, "0123456789");
        if (b == 0 || b > 6 || s[a + 1 + b] != '\0')
                return false;
        version_from(s, a + 1 + b, v);
        return true;
}

int http_version_compare(const struct http_api_version *a, const struct http_api_version *b)
{
        if (a->major != b->major)
                return a->major < b->major ? -1 : 1;
        if (a->minor != b->minor)
                return a->minor < b->minor ? -1 : 1;
        return 0;
}

bool http_parse_bool(const char *s)
{
        static const char *const falsy[] = { "", "0", "no", "false", "none" };
        size_t n;

        if (s == NULL)
                return false;
        while (isspace((unsigned char)*s))
                s++;
        n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                n--;
        for (size_t i = 0; i < ARRAY_SIZE(falsy); i++)
                if (strlen(falsy[i]) == n && strncasecmp(s, falsy[i], n) == 0)
                        return false;
        return true;
}

static bool param_name_ok(const char *s, size_t n)
{
        if (n == 0)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                        return false;
        return true;
}

/* One segment of a pattern: "name", "{id}" or "{name*}". */
static int seg_parse(const char *s, size_t n, struct http_seg *seg)
{
        if (n >= 2 && s[0] == '{' && s[n - 1] == '}') {
                seg->rest = n >= 3 && s[n - 2] == '*';
                seg->param = true;
                n -= seg->rest ? 3 : 2;
                if (!param_name_ok(s + 1, n))
                        return -EINVAL;
                seg->text = strndup(s + 1, n);
        } else {
                if (n == 0 || memchr(s, '{', n) || memchr(s, '}', n))
                        return -EINVAL;
                seg->text = strndup(s, n);
        }
        if (seg->text == NULL)
                abort();
        return 0;
}

int http_pattern_parse(const char *pattern, struct http_seg **segs, size_t *nsegs)
{
        struct http_seg *v = NULL;
        size_t n = 0, rests = 0;
        const char *p = pattern;

        if (*p != '/')
                return -EINVAL;
        while (*p == '/') {
                const char *end = strchrnul(p + 1, '/');
                v = xrealloc(v, (n + 1) * sizeof(*v));
                memset(&v[n], 0, sizeof(*v));
                if (seg_parse(p + 1, (size_t)(end - p - 1), &v[n]) < 0) {
                        http_segs_free(v, n);
                        return -EINVAL;
                }
                rests += v[n++].rest;
                p = end;
        }
        /* One {x*} at most: its length is then fixed by the path's, and
         * matching never backtracks. */
        if (rests > 1) {
                http_segs_free(v, n);
                return -EINVAL;
        }
        *segs = v;
        *nsegs = n;
        return 0;
}

void http_segs_free(struct http_seg *segs, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(segs[i].text);
        free(segs);
}

struct path_seg {
        const char *s;
        size_t n;
};

/* Split "/a/b/c" into its segments; NULL unless it starts with '/'. */
static struct path_seg *path_split(const char *path, size_t *count)
{
        struct path_seg *v;
        size_t n = 0, i = 0;

        if (path[0] != '/')
                return NULL;
        for (const char *p = path; *p; p++)
                n += *p == '/';
        v = xcalloc(n, sizeof(*v));
        for (const char *p = path; *p == '/'; i++) {
                const char *end = strchrnul(p + 1, '/');
                v[i].s = p + 1;
                v[i].n = (size_t)(end - p - 1);
                p = end;
        }
        *count = n;
        return v;
}

static bool pattern_has_rest(const struct http_seg *segs, size_t nsegs)
{
        for (size_t i = 0; i < nsegs; i++)
                if (segs[i].rest)
                        return true;
        return false;
}

static bool segs_match(const struct http_seg *segs, size_t nsegs, const struct path_seg *ps,
                       size_t nps, struct http_kvs *params)
{
        size_t take = nps - nsegs + 1;  /* how many segments {x*} covers */

        for (size_t i = 0, j = 0; i < nsegs; i++) {
                const struct http_seg *g = &segs[i];
                if (g->rest) {
                        const char *end = ps[j + take - 1].s + ps[j + take - 1].n;
                        if (end == ps[j].s)
                                return false;
                        http_kvs_add(params, g->text, strlen(g->text), ps[j].s, (size_t)(end - ps[j].s));
                        j += take;
                } else if (g->param) {
                        if (ps[j].n == 0)
                                return false;
                        http_kvs_add(params, g->text, strlen(g->text), ps[j].s, ps[j].n);
                        j++;
                } else {
                        if (strlen(g->text) != ps[j].n || memcmp(g->text, ps[j].s, ps[j].n) != 0)
                                return false;
                        j++;
                }
        }
        return true;
}

bool http_pattern_match(const struct http_seg *segs, size_t nsegs, const char *path,
                        struct http_kvs *params)
{
        _cleanup_free_ struct path_seg *ps = NULL;
        size_t nps = 0;
        bool rest = pattern_has_rest(segs, nsegs), ok;

        ps = path_split(path, &nps);
        if (ps == NULL || (rest ? nps < nsegs : nps != nsegs))
                return false;
        ok = segs_match(segs, nsegs, ps, nps, params);
        if (!ok)
                http_kvs_clear(params);
        return ok;
}
