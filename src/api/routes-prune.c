/* POST /build/prune: what `docker system prune` (and `berth system
 * prune`) call after the images.  Berth's builder keeps no cache that a
 * prune could reclaim yet, so there is never anything to delete: the
 * answer is dockerd's when it finds nothing (Go's nil slices, so null
 * lists), after the same checks of the filters, with the same "prune"
 * event.  Routes for the container, image, volume and network prunes live
 * with their objects. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
#include "util/util.h"

/* How many values a filter has: {"k": {"v": true}} or {"k": ["v"]}. */
static size_t filter_count(json_t *filters, const char *key)
{
        json_t *v = json_object_get(filters, key);

        return json_is_object(v) ? json_object_size(v) : json_array_size(v);
}

/* buildkit takes until or unused-for (not both, one value each) and
 * ignores keys it does not know. */
static int build_filters_check(json_t *filters, berth_error_t **err)
{
        size_t until = filter_count(filters, "until"), unused = filter_count(filters, "unused-for");

        if (until > 0 && unused > 0)
                return berth_fail(err, EINVAL, "conflicting filters \"until\" and \"unused-for\"");
        if (until + unused > 1)
                return berth_fail(err, EINVAL, "filters expect only one value");
        return 0;
}

static int post_build_prune(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *filters;

        if (api_filters(req, &filters, err) < 0)
                return -1;
        int r = build_filters_check(filters, err);
        json_decref(filters);
        if (r < 0)
                return -1;
        /* no builder yet, so no cache: all, keep-storage and the space
         * limits change nothing */
        engine_event(api->engine, "builder", "prune", "", json_pack("{s:s}", "reclaimed", "0"));
        return http_reply_json(req, 200, json_pack("{s:n, s:i}", "CachesDeleted", "SpaceReclaimed", 0));
}

void api_routes_prune(struct api *api)
{
        http_route(api->http, "POST", "/build/prune", post_build_prune, api);
}
