/* /networks: create, list, inspect, remove, connect, disconnect, prune
 * (engine-network.c does the work; these are the API's shapes). */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
#include "util/util.h"

static int post_create(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *body = NULL, *out;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        if (body == NULL)       /* no body: the engine says what is missing */
                body = json_object();
        int r = engine_network_create(api->engine, body, &out, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_json(req, 201, out);
}

static int get_list(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *filters, *out;

        if (api_filters(req, &filters, err) < 0)
                return -1;
        int r = engine_network_list(api->engine, filters, &out, err);
        json_decref(filters);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

static int get_inspect(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out;

        if (engine_network_inspect(api->engine, http_param(req, "id"), &out, err) < 0)
                return -1;
        return http_reply_json(req, 200, out);
}

static int delete_network(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;

        if (engine_network_remove(api->engine, http_param(req, "id"), err) < 0)
                return -1;
        return http_reply_empty(req, 204);
}

static int post_connect(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *body = NULL;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        int r = engine_network_connect(api->engine, http_param(req, "id"), body, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_empty(req, 200);
}

static int post_disconnect(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *body = NULL;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        int r = engine_network_disconnect(api->engine, http_param(req, "id"), body, err);
        json_decref(body);
        return r < 0 ? -1 : http_reply_empty(req, 200);
}

static int post_prune(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *filters, *out;

        if (api_filters(req, &filters, err) < 0)
                return -1;
        int r = engine_network_prune(api->engine, filters, &out, err);
        json_decref(filters);
        return r < 0 ? -1 : http_reply_json(req, 200, out);
}

void api_routes_networks(struct api *api)
{
        struct http_server *h = api->http;

        http_route(h, "POST", "/networks/create", post_create, api);
        http_route(h, "POST", "/networks/prune", post_prune, api);
        http_route(h, "GET", "/networks", get_list, api);
        http_route(h, "GET", "/networks/{id}", get_inspect, api);
        http_route(h, "DELETE", "/networks/{id}", delete_network, api);
        http_route(h, "POST", "/networks/{id}/connect", post_connect, api);
        http_route(h, "POST", "/networks/{id}/disconnect", post_disconnect, api);
}
