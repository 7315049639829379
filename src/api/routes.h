/* Docker Engine API routes over the engine; one file per area. */
#pragma once
#include "util/error.h"
#include <jansson.h>

struct http_server;
struct engine;
struct kube;

struct api {
        struct http_server *http;
        struct engine *engine;
        struct kube *kube;              /* NULL: the orchestrator did not start */
        const char *cgroup_version;     /* "1" or "2", for /info */
};

void api_routes_system(struct api *api);
void api_routes_images(struct api *api);
void api_routes_containers(struct api *api);
/* docker cp, export and commit. */
void api_routes_archive(struct api *api);
/* The build cache prune (docker system prune). */
void api_routes_prune(struct api *api);
void api_routes_networks(struct api *api);
/* POST /build: the legacy builder protocol (src/build). */
void api_routes_build(struct api *api);
/* /berth/v1: Kubernetes objects (docs/kube-api.md). */
void api_routes_kube(struct api *api);
/* The filters= query as a JSON object; *out NULL when absent or empty,
 * EINVAL "invalid filter: ..." when it is not an object. */
struct http_request;
int api_filters(struct http_request *req, json_t **out, berth_error_t **err);
/* Register every route. */
void api_routes(struct api *api);

/* ImageSummary list, shared by /images/json and /info. */
int api_image_list(struct api *api, json_t **out, berth_error_t **err);
