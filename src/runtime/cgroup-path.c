/* cgroupsPath from config.json to the path Berth uses under every
 * hierarchy root. */
#include "runtime/cgroup-internal.h"
#include "util/util.h"
#include <string.h>


/* Lexically clean an absolute path, like Go's filepath.Clean: ".." never
 * climbs above "/", so a cgroupsPath cannot escape the hierarchy roots. */
char *cg_clean_path(const char *in)
{
        _cleanup_free_ char *copy = xstrdup(in);
        char *out = xmalloc(strlen(in) + 2), *p = copy, *comp;
        size_t n = 1;

        out[0] = '/';
        while ((comp = strsep(&p, "/")) != NULL) {
                if (*comp == '\0' || strcmp(comp, ".") == 0)
                        continue;
                if (strcmp(comp, "..") == 0) {
                        char *slash = memrchr(out, '/', n);
                        n = slash == out ? 1 : (size_t)(slash - out);
                        continue;
                }
                if (n > 1)
                        out[n++] = '/';
                memcpy(out + n, comp, strlen(comp));
                n += strlen(comp);
        }
        out[n] = '\0';
        return out;
}

char *cgroup_resolve_path(const char *cgroups_path, const char *id)
{
        _cleanup_free_ char *raw = NULL;

        if (cgroups_path == NULL || *cgroups_path == '\0')
                raw = xasprintf("/" CG_PARENT "/%s", id);
        else if (cgroups_path[0] == '/')
                raw = xstrdup(cgroups_path);
        else
                raw = xasprintf("/" CG_PARENT "/%s", cgroups_path);
        return cg_clean_path(raw);
}
