/* libFuzzer target: .dockerignore text and the paths matched against it.
 * The input is the pattern text, a NUL byte, then paths one a line.
 *
 * Checked: errors are one line naming the line; a path and its unclean
 * spellings ("./p", "p/") get the same answer; the walk API runs
 * down each path's directories; after dockerignore_keep() a plain path
 * (letters, digits, "._-/") is no longer excluded; a second parse of the
 * same text answers the same. */
#include "util/dockerignore.h"
#include "util/util.h"
#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool plain(const char *p)
{
        if (*p == '\0')
                return false;
        for (; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
                      strchr("._-/", *p)))
                        return false;
        return true;
}

/* The walk: each directory of path in turn, with its parent's results. */
static bool walk(const struct dockerignore *di, char *path)
{
        size_t np = dockerignore_npatterns(di), len = strlen(path);
        _cleanup_free_ bool *prev = NULL;
        bool excluded = false;

        for (size_t k = 0; k <= len; k++) {
                bool *cur;
                char c;

                if (k < len && path[k] != '/')
                        continue;
                c = path[k];
                path[k] = '\0';
                cur = xcalloc(np + 1, sizeof(bool));
                excluded = dockerignore_matches_walk(di, path, prev, cur);
                if (excluded && dockerignore_may_reinclude(di, path) && !dockerignore_has_exceptions(di))
                        abort();
                path[k] = c;
                free(prev);
                prev = cur;
        }
        return excluded;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const char *text = (const char *)data, *sep = memchr(data, '\0', size);
        size_t tlen = sep ? (size_t)(sep - text) : size;
        _cleanup_dockerignore_ struct dockerignore *di = NULL, *again = NULL;
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *paths = NULL;
        size_t plen;
        char *save = NULL;

        if (dockerignore_parse(text, tlen, &di, &err) < 0) {
                if (err == NULL || strchr(err->msg, '\n') || strncmp(err->msg, "line ", 5) != 0 || di != NULL)
                        abort();
                return 0;
        }
        if (dockerignore_parse(text, tlen, &again, NULL) < 0)
                abort();
        if (sep == NULL)
                return 0;
        plen = size - tlen - 1;
        paths = xmalloc(plen + 1);
        memcpy(paths, sep + 1, plen);
        paths[plen] = '\0';
        for (char *p = strtok_r(paths, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                bool m = dockerignore_matches(di, p);
                _cleanup_free_ char *dot = xasprintf("./%s", p), *slash = xasprintf("%s/", p);
                _cleanup_free_ char *copy = xstrdup(p);

                if (dockerignore_matches(again, p) != m)
                        abort();
                if ((p[0] != '/' && dockerignore_matches(di, dot) != m) || dockerignore_matches(di, slash) != m)
                        abort();
                (void)walk(di, copy);
                (void)dockerignore_may_reinclude(di, p);
        }
        /* keep: the last path stays sent once kept */
        save = NULL;
        memcpy(paths, sep + 1, plen);
        for (char *p = strtok_r(paths, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
                _cleanup_error_ berth_error_t *kerr = NULL;
                if (dockerignore_keep(di, p, &kerr) < 0) {
                        if (kerr == NULL || strchr(kerr->msg, '\n'))
                                abort();
                        continue;
                }
                if (plain(p) && dockerignore_matches(di, p))
                        abort();
        }
        return 0;
}
