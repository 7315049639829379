#include "api/routes.h"
#include "api/http.h"
#include "util/util.h"

void api_routes(struct api *api)
{
        api_routes_system(api);
        api_routes_images(api);
        api_routes_containers(api);
        api_routes_archive(api);
        api_routes_prune(api);
        api_routes_networks(api);
        api_routes_build(api);
        api_routes_kube(api);
}

int api_filters(struct http_request *req, json_t **out, berth_error_t **err)
{
        const char *f = http_query(req, "filters");

        *out = NULL;
        if (f == NULL || *f == '\0')
                return 0;
        *out = json_loads(f, 0, NULL);
        if (!json_is_object(*out)) {
                json_decref(*out);
                *out = NULL;
                return berth_fail(err, EINVAL, "invalid filter: %s", f);
        }
        return 0;
}
