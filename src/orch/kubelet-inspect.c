/* What the kubelet reads from the engine's inspect of a pod container:
 * how an instance ended, the sandbox's IP and /etc files. */
#include "orch/kubelet.h"
#include "engine/engine.h"
#include "util/util.h"

/* "2026-11-29T17:00:00.123456789Z" (the engine's) as Kubernetes shows
 * it: whole seconds. */
json_t *kl_k8s_time(const char *engine_time)
{
        if (engine_time == NULL || strncmp(engine_time, "0001-", 5) == 0)
                return json_null();
        return must(json_sprintf("%.19sZ", engine_time));
}

json_t *kl_terminated_of(struct kubelet *kl, const char *id)
{
        json_t *info = NULL, *st;
        json_t *t;

        if (engine_container_inspect(kl->e, id, &info, NULL) < 0)
                return must(json_pack("{s:i, s:s, s:s, s:s}", "exitCode", 137, "reason", "ContainerStatusUnknown",
                                      "message", "The container could not be located when the pod was terminated",
                                      "containerID", "")); /* id filled in by the caller */
        st = json_object_get(info, "State");
        int code = (int)json_integer_value(json_object_get(st, "ExitCode"));
        const char *reason = json_is_true(json_object_get(st, "OOMKilled")) ? "OOMKilled" : code ? "Error"
                                                                                                 : "Completed";
        t = must(json_pack("{s:i, s:s, s:o, s:o}", "exitCode", code, "reason", reason, "startedAt",
                           kl_k8s_time(json_string_value(json_object_get(st, "StartedAt"))), "finishedAt",
                           kl_k8s_time(json_string_value(json_object_get(st, "FinishedAt")))));
        const char *err = json_string_value(json_object_get(st, "Error"));
        if (err && *err)
                json_object_set_new(t, "message", must(json_string(err)));
        json_decref(info);
        return t;
}

char *kl_ip_of(const json_t *info)
{
        const json_t *nets = json_object_get(json_object_get(info, "NetworkSettings"), "Networks"), *n;
        const char *key;

        json_object_foreach((json_t *)nets, key, n) {
                const char *ip = json_string_value(json_object_get(n, "IPAddress"));
                if (ip && *ip)
                        return xstrdup(ip);
        }
        return NULL;
}

json_t *kl_etc_of(const json_t *info)
{
        static const char *const files[][2] = { { "ResolvConfPath", "/etc/resolv.conf" },
                                                { "HostsPath", "/etc/hosts" },
                                                { "HostnamePath", "/etc/hostname" } };
        json_t *etc = must(json_object());

        for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
                const char *path = json_string_value(json_object_get(info, files[i][0]));
                if (path && *path)
                        json_object_set_new(etc, files[i][1], must(json_string(path)));
        }
        return etc;
}
