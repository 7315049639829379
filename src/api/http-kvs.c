/* Small key/value lists: headers, query arguments, route parameters and
 * extra reply headers, owned by the request so the handler thread
 * reads them without racing the connection thread. */
#include "api/http-internal.h"
#include "util/util.h"
#include <strings.h>

static char *dup_n(const char *s, size_t n)
{
        char *d = xmalloc(n + 1);

        if (n > 0)
                memcpy(d, s, n);
        d[n] = '\0';
        return d;
}

void http_kvs_add(struct http_kvs *kvs, const char *key, size_t klen, const char *value, size_t vlen)
{
        kvs->v = xrealloc(kvs->v, (kvs->n + 1) * sizeof(*kvs->v));
        kvs->v[kvs->n].key = dup_n(key, klen);
        kvs->v[kvs->n].value = dup_n(value ? value : "", value ? vlen : 0);
        kvs->n++;
}

const char *http_kvs_get(const struct http_kvs *kvs, const char *key, bool nocase)
{
        for (size_t i = 0; i < kvs->n; i++)
                if ((nocase ? strcasecmp : strcmp)(kvs->v[i].key, key) == 0)
                        return kvs->v[i].value;
        return NULL;
}

void http_kvs_clear(struct http_kvs *kvs)
{
        for (size_t i = 0; i < kvs->n; i++) {
                free(kvs->v[i].key);
                free(kvs->v[i].value);
        }
        free(kvs->v);
        kvs->v = NULL;
        kvs->n = 0;
}
