/* Image references as the CLI needs them: split name, tag and digest and
 * normalise the name (busybox -> docker.io/library/busybox) for pull and
 * tag requests and for messages.  The daemon does the full validation; the
 * engine's own parser is not linked, because the CLI links no engine code. */
#include "cli/cli.h"
#include <ctype.h>

void cli_ref_free(struct cli_ref *r)
{
        free(r->name);
        free(r->tag);
        free(r->digest);
        memset(r, 0, sizeof(*r));
}

static bool is_domain(const char *s, size_t n)
{
        if (n == 9 && strncmp(s, "localhost", 9) == 0)
                return true;
        for (size_t i = 0; i < n; i++)
                if (s[i] == '.' || s[i] == ':' || isupper((unsigned char)s[i]))
                        return true;
        return false;
}

int cli_ref_parse(const char *s, struct cli_ref *r, berth_error_t **err)
{
        _cleanup_free_ char *rest = xstrdup(s);
        char *at, *slash, *colon, *path;
        const char *domain = "docker.io";
        size_t dlen = strlen(domain);

        memset(r, 0, sizeof(*r));
        at = strchr(rest, '@');
        if (at) {
                *at = '\0';
                r->digest = xstrdup(at + 1);
        }
        slash = strrchr(rest, '/');
        colon = strrchr(slash ? slash : rest, ':');
        if (colon) {
                *colon = '\0';
                r->tag = xstrdup(colon + 1);
                if (r->tag[0] == '\0')
                        goto bad;
        }
        if (rest[0] == '\0' || rest[strlen(rest) - 1] == '/')
                goto bad;
        for (char *p = rest; *p; p++)
                if (isspace((unsigned char)*p))
                        goto bad;
        path = rest;
        slash = strchr(rest, '/');
        if (slash && is_domain(rest, (size_t)(slash - rest))) {
                domain = rest;
                dlen = (size_t)(slash - rest);
                path = slash + 1;
                if (dlen == 15 && strncmp(rest, "index.docker.io", 15) == 0) {
                        domain = "docker.io";
                        dlen = 9;
                }
        }
        for (char *p = path; *p; p++)
                if (isupper((unsigned char)*p)) {
                        cli_ref_free(r);
                        return berth_error(err, 0, "invalid reference format: repository name (%s) must be lowercase",
                                           path);
                }
        if (dlen == 9 && strncmp(domain, "docker.io", 9) == 0 && strchr(path, '/') == NULL)
                r->name = xasprintf("docker.io/library/%s", path);
        else
                r->name = xasprintf("%.*s/%s", (int)dlen, domain, path);
        return 0;
bad:
        cli_ref_free(r);
        return berth_error(err, 0, "invalid reference format");
}

char *cli_ref_familiar_name(const char *name)
{
        if (str_has_prefix(name, "docker.io/")) {
                const char *p = name + strlen("docker.io/");
                if (str_has_prefix(p, "library/") && strchr(p + strlen("library/"), '/') == NULL)
                        p += strlen("library/");
                return xstrdup(p);
        }
        return xstrdup(name);
}
