/* /_ping as dockerd answers it: the docker CLI sends HEAD /_ping before
 * every command and negotiates its API version from the headers. */
#include "api/http-internal.h"
#include "util/util.h"

static int ping(struct http_request *req, void *data, berth_error_t **err)
{
        bool head = strcmp(http_method(req), "HEAD") == 0;

        (void)data;
        (void)err;
        http_reply_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
        http_reply_header(req, "Pragma", "no-cache");
        return http_reply_raw(req, 200, "text/plain; charset=utf-8", head ? "" : "OK", head ? 0 : 2);
}

void http_route_ping(struct http_server *s)
{
        http_route(s, "HEAD", "/_ping", ping, NULL);
        http_route(s, "GET", "/_ping", ping, NULL);
}
