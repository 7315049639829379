#include "image/reference.h"
#include "image/digest.h"
#include "util/util.h"
#include <string.h>

#define LEGACY_DEFAULT_DOMAIN "index.docker.io"
#define OFFICIAL_PREFIX "library/"
#define DOCKER_HUB_REGISTRY "registry-1.docker.io"
#define TAG_MAX 128


static char *xstrndup(const char *s, size_t n)
{
        char *out = xmalloc(n + 1);

        memcpy(out, s, n);
        out[n] = '\0';
        return out;
}

static bool is_lower_alnum(char c)
{
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_alnum(char c)
{
        return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

static bool has_upper(const char *s)
{
        for (; *s; s++)
                if (*s >= 'A' && *s <= 'Z')
                        return true;
        return false;
}

/* component := [a-z0-9]+ (separator [a-z0-9]+)*, separator := . | _ | __ | -+ */
static bool valid_path_component(const char *s, size_t len)
{
        size_t i = 0;

        for (;;) {
                if (i >= len || !is_lower_alnum(s[i]))
                        return false;
                while (i < len && is_lower_alnum(s[i]))
                        i++;
                if (i == len)
                        return true;
                if (s[i] == '.')
                        i++;
                else if (s[i] == '_')
                        i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
                else if (s[i] == '-')
                        while (i < len && s[i] == '-')
                                i++;
                else
                        return false;
        }
}

/* [a-zA-Z0-9] | [a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9] */
static bool valid_host_component(const char *s, size_t len)
{
        if (len == 0 || s[0] == '-' || s[len - 1] == '-')
                return false;
        for (size_t i = 0; i < len; i++)
                if (!is_alnum(s[i]) && s[i] != '-')
                        return false;
        return true;
}

static bool valid_port(const char *s)
{
        if (*s == '\0')
                return false;
        for (; *s; s++)
                if (!is_digit(*s))
                        return false;
        return true;
}

/* domain := (host-component ("." host-component)* | "[" [a-fA-F0-9:]+ "]")
 *           (":" [0-9]+)?
 * Returns NULL when valid, else the reason. */
static const char *check_domain(const char *d)
{
        const char *end, *p;

        if (d[0] == '[') {
                end = strchr(d, ']');
                if (end == NULL || end == d + 1)
                        return "is not a valid IPv6 address in brackets";
                for (p = d + 1; p < end; p++)
                        if (!is_digit(*p) && !((*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F')) && *p != ':')
                                return "is not a valid IPv6 address in brackets (no zones or embedded IPv4)";
                end++;
                if (*end != '\0' && *end != ':')
                        return "is not a valid IPv6 address in brackets";
        } else {
                end = d + strcspn(d, ":");
                for (p = d;;) {
                        const char *dot = memchr(p, '.', (size_t)(end - p));
                        const char *stop = dot ? dot : end;
                        if (!valid_host_component(p, (size_t)(stop - p)))
                                return "is not a valid host name";
                        if (dot == NULL)
                                break;
                        p = dot + 1;
                }
        }
        if (*end == '\0')
                return NULL;
        if (*end != ':' || !valid_port(end + 1))
                return "has a port that is not a number";
        return NULL;
}

static bool is_identifier(const char *s)
{
        size_t i;

        for (i = 0; s[i]; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
                        return false;
        return i == 64;
}

static bool valid_tag(const char *t)
{
        size_t len = strlen(t);

        if (len == 0 || len > TAG_MAX || !(is_alnum(t[0]) || t[0] == '_'))
                return false;
        for (size_t i = 1; i < len; i++)
                if (!(is_alnum(t[i]) || t[i] == '_' || t[i] == '.' || t[i] == '-'))
                        return false;
        return true;
}

/* Check each "/"-separated component of the repository path. */
static int check_path(const char *q, const char *path, berth_error_t **err)
{
        size_t len = strlen(path);

        for (const char *p = path;;) {
                const char *slash = strchr(p, '/');
                size_t n = slash ? (size_t)(slash - p) : strlen(p);
                if (n == 0) {
                        _cleanup_free_ char *qp = quote(path);
                        return berth_error(err, 0, "invalid reference %s: repository name %s has an empty component",
                                           q, qp);
                }
                if (!valid_path_component(p, n)) {
                        _cleanup_free_ char *qc = quote_n(p, n);
                        return berth_error(err, 0,
                                           "invalid reference %s: repository name component %s must be lowercase "
                                           "letters and digits, separated by \".\", \"_\", \"__\" or \"-\"",
                                           q, qc);
                }
                if (slash == NULL)
                        break;
                p = slash + 1;
        }
        if (len > IMAGE_REF_PATH_MAX)
                return berth_error(err, 0, "invalid reference %s: repository name is %zu characters long, more than %d",
                                   q, len, IMAGE_REF_PATH_MAX);
        return 0;
}

int image_ref_parse(const char *s, struct image_ref *out, berth_error_t **err)
{
        _cleanup_free_ char *q = quote(s);
        _cleanup_free_ char *domain = NULL, *rest = NULL;
        const char *slash = strchr(s, '/'), *reason, *scheme;
        char *tag = NULL, *digest = NULL, *at, *colon;
        int r;

        memset(out, 0, sizeof(*out));
        if (*s == '\0')
                return berth_error(err, 0, "invalid reference \"\": the reference is empty");
        if ((scheme = strstr(s, "://")) != NULL) {
                _cleanup_free_ char *qs = quote_n(s, (size_t)(scheme - s) + 3);
                return berth_error(err, 0, "invalid reference %s: a reference has no URL scheme, drop %s", q, qs);
        }
        if (is_identifier(s))
                return berth_error(err, 0, "invalid reference %s: a 64-digit hexadecimal string is an image ID, "
                                           "not a repository name", q);

        /* Split off the domain as Docker's splitDockerDomain does. */
        if (slash == NULL) {
                domain = xstrdup(IMAGE_REF_DEFAULT_DOMAIN);
                rest = xstrdup(s);
        } else {
                _cleanup_free_ char *first = xstrndup(s, (size_t)(slash - s));
                if (strcmp(first, "localhost") == 0 || strpbrk(first, ".:") || has_upper(first)) {
                        domain = strcmp(first, LEGACY_DEFAULT_DOMAIN) == 0 ? xstrdup(IMAGE_REF_DEFAULT_DOMAIN)
                                                                            : steal_pointer(&first);
                        rest = xstrdup(slash + 1);
                } else {
                        domain = xstrdup(IMAGE_REF_DEFAULT_DOMAIN);
                        rest = xstrdup(s);
                }
        }
        if (strcspn(rest, ":@") == 0)
                return berth_error(err, 0, "invalid reference %s: the repository name is missing", q);
        if (strcmp(domain, IMAGE_REF_DEFAULT_DOMAIN) == 0 && strchr(rest, '/') == NULL) {
                char *prefixed = xasprintf(OFFICIAL_PREFIX "%s", rest);
                free(rest);
                rest = prefixed;
        }

        /* Neither the path nor a tag may hold '@' or ':', so the first of
         * each ends the part before it. */
        at = strchr(rest, '@');
        if (at) {
                *at = '\0';
                digest = at + 1;
        }
        colon = strchr(rest, ':');
        if (colon) {
                *colon = '\0';
                tag = colon + 1;
        }

        /* Docker checks case first, so "Foo$" is "must be lowercase". */
        if (has_upper(rest)) {
                _cleanup_free_ char *qp = quote(rest);
                return berth_error(err, 0, "invalid reference %s: repository name %s must be lowercase", q, qp);
        }
        if (strcmp(domain, IMAGE_REF_DEFAULT_DOMAIN) != 0 && (reason = check_domain(domain)) != NULL) {
                _cleanup_free_ char *qd = quote(domain);
                return berth_error(err, 0, "invalid reference %s: registry %s %s", q, qd, reason);
        }
        r = check_path(q, rest, err);
        if (r < 0)
                return r;
        if (tag && !valid_tag(tag)) {
                _cleanup_free_ char *qt = quote(tag);
                if (*tag == '\0')
                        return berth_error(err, 0, "invalid reference %s: the tag after \":\" is empty", q);
                return berth_error(err, 0,
                                   "invalid reference %s: tag %s must be 1 to %d letters, digits, \"_\", \".\" or \"-\", "
                                   "not starting with \".\" or \"-\"",
                                   q, qt, TAG_MAX);
        }
        if (digest) {
                r = digest_parse(digest, NULL, err);
                if (r < 0)
                        return berth_error_wrap(err, "invalid reference %s", q);
        }

        out->domain = steal_pointer(&domain);
        out->path = xstrdup(rest);
        out->tag = tag ? xstrdup(tag) : digest ? NULL : xstrdup(IMAGE_REF_DEFAULT_TAG);
        out->digest = digest ? xstrdup(digest) : NULL;
        return 0;
}

/* Would the first element of this Docker Hub path be read back as a
 * registry ("foo.com/bar", "localhost/bar")?  Docker's familiar form drops
 * docker.io even then, which names another image; we keep it. */
static bool looks_like_domain(const char *path)
{
        const char *slash = strchr(path, '/');
        size_t n = slash ? (size_t)(slash - path) : 0;

        if (slash == NULL)
                return false;
        return memchr(path, '.', n) || memchr(path, ':', n) || (n == 9 && memcmp(path, "localhost", 9) == 0);
}

static char *with_suffix(const char *name, const struct image_ref *r)
{
        return xasprintf("%s%s%s%s%s", name, r->tag ? ":" : "", r->tag ? r->tag : "", r->digest ? "@" : "",
                         r->digest ? r->digest : "");
}

char *image_ref_name(const struct image_ref *r)
{
        return xasprintf("%s/%s", r->domain, r->path);
}

char *image_ref_string(const struct image_ref *r)
{
        _cleanup_free_ char *name = image_ref_name(r);

        return with_suffix(name, r);
}

char *image_ref_familiar(const struct image_ref *r)
{
        _cleanup_free_ char *name = NULL;

        if (strcmp(r->domain, IMAGE_REF_DEFAULT_DOMAIN) == 0) {
                const char *p = r->path;
                if (str_has_prefix(p, OFFICIAL_PREFIX) && strchr(p + strlen(OFFICIAL_PREFIX), '/') == NULL)
                        p += strlen(OFFICIAL_PREFIX);
                name = looks_like_domain(p) ? image_ref_name(r) : xstrdup(p);
        } else {
                name = image_ref_name(r);
        }
        return with_suffix(name, r);
}

const char *image_ref_registry_host(const struct image_ref *r)
{
        if (strcmp(r->domain, IMAGE_REF_DEFAULT_DOMAIN) == 0)
                return DOCKER_HUB_REGISTRY;
        return r->domain;
}

void image_ref_free(struct image_ref *r)
{
        if (r == NULL)
                return;
        free(r->domain);
        free(r->path);
        free(r->tag);
        free(r->digest);
        r->domain = r->path = r->tag = r->digest = NULL;
}
