/* /version, /info and /system/df. */
#include "api/http.h"
#include "api/routes.h"
#include "engine/engine.h"
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
        json_object_set_new(info, "DefaultRuntime", json_string("berth"));
        json_object_set_new(info, "Runtimes", json_pack("{s:{s:s}}", "berth", "path", "built-in"));
        json_object_set_new(info, "InitBinary", json_string("berth-init"));
        json_object_set_new(info, "SecurityOptions", json_array());
        json_object_set_new(info, "Debug", json_false());
        json_array_append_new(json_object_get(info, "SecurityOptions"), json_string("name=seccomp,profile=builtin"));
        json_decref(list);
        json_decref(images);
        return http_reply_json(req, 200, info);
}

void api_routes_system(struct api *api)
{
        http_route_ping(api->http);
        http_route(api->http, "GET", "/version", get_version, api);
        http_route(api->http, "GET", "/info", get_info, api);
}
