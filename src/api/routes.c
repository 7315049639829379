#include "api/routes.h"

void api_routes(struct api *api)
{
        api_routes_system(api);
        api_routes_images(api);
        api_routes_containers(api);
        api_routes_archive(api);
        api_routes_prune(api);
        api_routes_networks(api);
        api_routes_build(api);
}
