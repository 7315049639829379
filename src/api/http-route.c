/* Route registration and lookup.  The table is filled before the server
 * starts and only read afterwards, so lookups need no lock. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"

void http_route_flags(struct http_server *s, const char *method, const char *pattern,
                      unsigned flags, http_handler_fn fn, void *data)
{
        struct http_route *r;

        if (s->started) {
                berth_log(BERTH_LOG_ERROR, "api: route %s %s added after start", method, pattern);
                abort();
        }
        s->routes = xrealloc(s->routes, (s->nroutes + 1) * sizeof(*s->routes));
        r = &s->routes[s->nroutes];
        memset(r, 0, sizeof(*r));
        if (http_pattern_parse(pattern, &r->segs, &r->nsegs) < 0) {
                berth_log(BERTH_LOG_ERROR, "api: bad route pattern %s", pattern);
                abort();
        }
        r->method = xstrdup(method);
        r->flags = flags;
        r->fn = fn;
        r->data = data;
        s->nroutes++;
}

void http_route(struct http_server *s, const char *method, const char *pattern,
                http_handler_fn fn, void *data)
{
        http_route_flags(s, method, pattern, 0, fn, data);
}

const struct http_route *http_route_find(const struct http_server *s, const char *method,
                                         const char *path, struct http_kvs *params)
{
        for (size_t i = 0; i < s->nroutes; i++) {
                const struct http_route *r = &s->routes[i];
                if (strcmp(r->method, method) == 0 && http_pattern_match(r->segs, r->nsegs, path, params))
                        return r;
        }
        return NULL;
}
