/* /version, /info, /system/df and /auth. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/daemon-config.h"
#include "engine/engine.h"
#include "image/image-store.h"
#include "image/image.h"
#include "image/imagedb.h"
#include "image/reference.h"
#include "image/registry.h"
#include "util/util.h"
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *go_arch(const char *machine)
{
        if (strcmp(machine, "x86_64") == 0)
                return "amd64";
        if (strcmp(machine, "aarch64") == 0)
                return "arm64";
        return machine;
}

static int get_version(struct http_request *req, void *data, berth_error_t **err)
{
        struct utsname u;
        (void)data;
        (void)err;

        uname(&u);
        return http_reply_json(
                req, 200,
                json_pack("{s:{s:s}, s:[{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:s}}], s:s, s:s, s:s, s:s, s:s, s:s, "
                          "s:s, s:s}",
                          "Platform", "Name", "Berth", "Components", "Name", "Engine", "Version", BERTH_VERSION,
                          "Details", "ApiVersion", HTTP_API_VERSION_MAX, "MinAPIVersion", HTTP_API_VERSION_MIN,
                          "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion", u.release, "Version",
                          BERTH_VERSION, "ApiVersion", HTTP_API_VERSION_MAX, "MinAPIVersion", HTTP_API_VERSION_MIN,
                          "GitCommit", "", "Os", "linux", "Arch", go_arch(u.machine), "KernelVersion", u.release,
                          "GoVersion", "none (C)"));
}

static void count_states(json_t *list, int *running, int *paused, int *stopped)
{
        size_t i;
        json_t *c;

        *running = *paused = *stopped = 0;
        json_array_foreach(list, i, c) {
                const char *st = json_string_value(json_object_get(c, "State"));
                if (st && strcmp(st, "running") == 0)
                        (*running)++;
                else if (st && strcmp(st, "paused") == 0)
                        (*paused)++;
                else
                        (*stopped)++;
        }
}

static int get_info(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *list = NULL, *images = NULL;
        struct utsname u;
        char host[256] = "";
        int running, paused, stopped;

        if (engine_container_list(api->engine, true, NULL, &list, err) < 0 || api_image_list(api, &images, err) < 0) {
                json_decref(list);
                return -1;
        }
        count_states(list, &running, &paused, &stopped);
        uname(&u);
        gethostname(host, sizeof(host) - 1);
        json_t *info = json_object();
        json_object_set_new(info, "ID", json_string("berth"));
        json_object_set_new(info, "Containers", json_integer((json_int_t)json_array_size(list)));
        json_object_set_new(info, "ContainersRunning", json_integer(running));
        json_object_set_new(info, "ContainersPaused", json_integer(paused));
        json_object_set_new(info, "ContainersStopped", json_integer(stopped));
        json_object_set_new(info, "Images", json_integer((json_int_t)json_array_size(images)));
        json_object_set_new(info, "Driver", json_string("overlay2"));
        json_object_set_new(info, "LoggingDriver", json_string("json-file"));
        json_object_set_new(info, "CgroupDriver", json_string("cgroupfs"));
        json_object_set_new(info, "CgroupVersion", json_string(api->cgroup_version));
        json_object_set_new(info, "KernelVersion", json_string(u.release));
        json_object_set_new(info, "OperatingSystem", json_string("Berth"));
        json_object_set_new(info, "OSType", json_string("linux"));
        json_object_set_new(info, "Architecture", json_string(u.machine));
        json_object_set_new(info, "DockerRootDir", json_string(engine_options(api->engine)->data_root));
        json_object_set_new(info, "Name", json_string(host));
        json_object_set_new(info, "NCPU", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
        json_object_set_new(info, "MemTotal",
                            json_integer((json_int_t)sysconf(_SC_PHYS_PAGES) * (json_int_t)sysconf(_SC_PAGESIZE)));
        json_object_set_new(info, "ServerVersion", json_string(BERTH_VERSION));
        json_object_set_new(info, "DefaultRuntime", json_string(daemon_config_default_runtime()));
        json_object_set_new(info, "Runtimes", daemon_config_runtimes_json(engine_options(api->engine)->runtime_path));
        json_object_set_new(info, "InitBinary", json_string("berth-init"));
        json_object_set_new(info, "SecurityOptions", json_array());
        const struct daemon_config *dc = daemon_config_current();
        json_object_set_new(info, "Debug", json_boolean(dc && dc->debug));
        json_array_append_new(json_object_get(info, "SecurityOptions"), json_string("name=seccomp,profile=builtin"));
        json_decref(list);
        json_decref(images);
        return http_reply_json(req, 200, info);
}

/* ---- system df ------------------------------------------------------- */

/* Layer sizes by chain id, for LayersSize and the images' SharedSize. */
static int add_layer(void *data, const struct imagedb_layer *l, berth_error_t **err)
{
        (void)err;
        json_object_set_new(data, l->chain_id, json_integer(l->size));
        return 0;
}

/* How many images hold each layer. */
static void count_layers(struct imagedb *db, json_t *images, json_t *uses)
{
        json_t *img;
        size_t i;

        json_array_foreach(images, i, img) {
                _cleanup_strv_ char **chains = NULL;
                size_t n = 0;
                if (imagedb_image_layers(db, json_string_value(json_object_get(img, "Id")), &chains, &n, NULL) < 0)
                        continue;
                for (size_t k = 0; k < n; k++)
                        json_object_set_new(uses, chains[k],
                                            json_integer(json_integer_value(json_object_get(uses, chains[k])) + 1));
        }
}

/* SharedSize: the bytes of an image's layers that another image holds too. */
static int64_t shared_size(struct imagedb *db, const char *id, json_t *sizes, json_t *uses)
{
        _cleanup_strv_ char **chains = NULL;
        int64_t shared = 0;
        size_t n = 0;

        if (imagedb_image_layers(db, id, &chains, &n, NULL) < 0)
                return 0;
        for (size_t k = 0; k < n; k++)
                if (json_integer_value(json_object_get(uses, chains[k])) > 1)
                        shared += json_integer_value(json_object_get(sizes, chains[k]));
        return shared;
}

static int df_images(struct api *api, bool virtual_size, json_t **images, int64_t *layers_size,
                     berth_error_t **err)
{
        struct image_store *s = engine_images_lock(api->engine);
        struct imagedb *db = image_store_db(s);
        json_t *sizes = json_object(), *uses = json_object(), *img, *v;
        const char *k;
        size_t i;
        int r = image_list(s, false, images, err);

        if (r == 0)
                r = imagedb_layer_each(db, add_layer, sizes, err);
        if (r == 0) {
                count_layers(db, *images, uses);
                json_array_foreach(*images, i, img) {
                        const char *id = json_string_value(json_object_get(img, "Id"));
                        json_object_set_new(img, "SharedSize", json_integer(shared_size(db, id, sizes, uses)));
                        if (virtual_size)
                                json_object_set(img, "VirtualSize", json_object_get(img, "Size"));
                }
                *layers_size = 0;
                json_object_foreach(sizes, k, v) *layers_size += json_integer_value(v);
        }
        engine_images_unlock(api->engine);
        json_decref(sizes);
        json_decref(uses);
        return r;
}

/* ?type=container&type=image&type=volume&type=build-cache (API 1.42):
 * only those parts; none given, all of them. */
static bool df_wants(struct http_request *req, const char *type)
{
        const char *types[8];
        size_t n = http_query_all(req, "type", types, ARRAY_SIZE(types));

        for (size_t i = 0; i < n; i++)
                if (strcmp(types[i], type) == 0)
                        return true;
        return n == 0;
}

static int get_df(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        json_t *out = json_object(), *part = NULL;
        int64_t layers = 0;
        int r = 0;

        if (df_wants(req, "image") &&
            (r = df_images(api, http_version_cmp(req, 1, 44) < 0, &part, &layers, err)) == 0) {
                json_object_set_new(out, "LayersSize", json_integer(layers));
                json_object_set_new(out, "Images", part);
        }
        if (r == 0 && df_wants(req, "container") && (r = engine_df_containers(api->engine, &part, err)) == 0)
                json_object_set_new(out, "Containers", part);
        if (r == 0 && df_wants(req, "volume") && (r = engine_df_volumes(api->engine, &part, err)) == 0)
                json_object_set_new(out, "Volumes", part);
        /* no BuildKit: no build cache; null as dockerd without one says
         * (the CLI then prints no empty cache table) */
        if (r == 0 && df_wants(req, "build-cache")) {
                json_object_set_new(out, "BuildCache", json_null());
                json_object_set_new(out, "BuilderSize", json_integer(0));
        }
        if (r < 0) {
                json_decref(out);
                return -1;
        }
        return http_reply_json(req, 200, out);
}

/* ---- auth (docker login) ---------------------------------------------- */

/* The registry a login names: "https://index.docker.io/v1/",
 * "http://host:5000/v2/", "host:5000", or "" for Docker Hub. */
static char *login_host(const char *server)
{
        const char *p = server ? server : "";
        size_t n;

        if (str_has_prefix(p, "https://"))
                p += 8;
        else if (str_has_prefix(p, "http://"))
                p += 7;
        n = strcspn(p, "/");
        return n ? strndup(p, n) : xstrdup("docker.io");
}

/* GET /v2/ with the credentials: the registry (or its token server)
 * accepts them or answers 401. */
static int check_login(const char *server, const struct image_registry_opts *o, berth_error_t **err)
{
        _cleanup_free_ char *host = login_host(server);
        _cleanup_free_ char *name = xasprintf("%s/berth-login", host);
        _cleanup_image_ref_ struct image_ref ref = { 0 };
        struct registry_client *c = NULL;

        if (image_ref_parse(name, &ref, NULL) < 0)
                return berth_fail(err, EINVAL, "invalid registry address \"%s\"", server ? server : "");
        int r = image_registry_client(&ref, o, &c, err);
        if (r == 0)
                r = registry_ping(c, err);
        registry_client_free(c);
        return r;
}

/* POST /auth: docker login asks the daemon whether the credentials work;
 * the CLI keeps them and sends them with each pull and push
 * (X-Registry-Auth).  Berth remembers nothing. */
static int post_auth(struct http_request *req, void *data, berth_error_t **err)
{
        struct api *api = data;
        struct image_registry_opts o = { .insecure = engine_options(api->engine)->insecure_registries };
        json_t *body = NULL;

        if (http_body_json(req, &body, err) < 0)
                return -1;
        if (!json_is_object(body)) {
                json_decref(body);
                return berth_fail(err, EINVAL, "the request body is not a JSON object");
        }
        const char *token = json_string_value(json_object_get(body, "identitytoken"));
        const char *user = json_string_value(json_object_get(body, "username"));
        const char *pass = json_string_value(json_object_get(body, "password"));
        o.username = token && *token ? REGISTRY_USER_IDENTITY_TOKEN : user ? user : "";
        o.password = token && *token ? token : pass ? pass : "";
        int r = check_login(json_string_value(json_object_get(body, "serveraddress")), &o, err);
        json_decref(body);
        if (r < 0 && (*err)->status == EACCES) {
                int rr = http_reply_error(req, 401, "%s", (*err)->msg);
                berth_error_free(err);
                return rr;
        }
        if (r < 0)
                return -1;
        return http_reply_json(req, 200, json_pack("{s:s, s:s}", "Status", "Login Succeeded", "IdentityToken", ""));
}

void api_routes_system(struct api *api)
{
        http_route_ping(api->http);
        http_route(api->http, "GET", "/version", get_version, api);
        http_route(api->http, "GET", "/info", get_info, api);
        http_route(api->http, "GET", "/system/df", get_df, api);
        http_route(api->http, "POST", "/auth", post_auth, api);
}
