#include "oci/config.h"
#include "oci/capabilities.h"
#include "util/util.h"
#include <errno.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/resource.h>

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

json_t *json_path(json_t *root, ...)
{
        va_list ap;
        const char *key;

        va_start(ap, root);
        while (root && (key = va_arg(ap, const char *)))
                root = json_object_get(root, key);
        va_end(ap);
        return root;
}

const char *json_path_str(json_t *root, const char *fallback, ...)
{
        va_list ap;
        const char *key;

        va_start(ap, fallback);
        while (root && (key = va_arg(ap, const char *)))
                root = json_object_get(root, key);
        va_end(ap);
        return json_is_string(root) ? json_string_value(root) : fallback;
}

static const struct { const char *type; int flag; } namespace_types[] = {
        { "pid", CLONE_NEWPID },     { "network", CLONE_NEWNET }, { "mount", CLONE_NEWNS },
        { "ipc", CLONE_NEWIPC },     { "uts", CLONE_NEWUTS },     { "user", CLONE_NEWUSER },
        { "cgroup", CLONE_NEWCGROUP }, { "time", CLONE_NEWTIME },
};

int oci_namespace_flag(const char *type)
{
        for (size_t i = 0; i < ARRAY_SIZE(namespace_types); i++)
                if (strcmp(type, namespace_types[i].type) == 0)
                        return namespace_types[i].flag;
        return -1;
}

static const struct { const char *name; int resource; } rlimit_names[] = {
        { "RLIMIT_AS", RLIMIT_AS },           { "RLIMIT_CORE", RLIMIT_CORE },
        { "RLIMIT_CPU", RLIMIT_CPU },         { "RLIMIT_DATA", RLIMIT_DATA },
        { "RLIMIT_FSIZE", RLIMIT_FSIZE },     { "RLIMIT_LOCKS", RLIMIT_LOCKS },
        { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
        { "RLIMIT_NICE", RLIMIT_NICE },       { "RLIMIT_NOFILE", RLIMIT_NOFILE },
        { "RLIMIT_NPROC", RLIMIT_NPROC },     { "RLIMIT_RSS", RLIMIT_RSS },
        { "RLIMIT_RTPRIO", RLIMIT_RTPRIO },   { "RLIMIT_RTTIME", RLIMIT_RTTIME },
        { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING }, { "RLIMIT_STACK", RLIMIT_STACK },
};

int oci_rlimit_parse(const char *name)
{
        for (size_t i = 0; i < ARRAY_SIZE(rlimit_names); i++)
                if (strcmp(name, rlimit_names[i].name) == 0)
                        return rlimit_names[i].resource;
        return -1;
}

static bool has_namespace(json_t *namespaces, const char *type)
{
        size_t i;
        json_t *ns;

        json_array_foreach(namespaces, i, ns)
                if (strcmp(json_path_str(ns, "", "type", NULL), type) == 0)
                        return true;
        return false;
}

/* Only keys that live in a namespace the container owns may be set, or a
 * container could change the host (the same rule as runc). */
int oci_sysctl_check(const char *key, json_t *namespaces, berth_error_t **err)
{
        static const char *const ipc_keys[] = { "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni",
                "kernel.sem", "kernel.shmall", "kernel.shmmax", "kernel.shmmni",
                "kernel.shm_rmid_forced" };
        const char *need = NULL;

        for (size_t i = 0; i < ARRAY_SIZE(ipc_keys); i++)
                if (strcmp(key, ipc_keys[i]) == 0)
                        need = "ipc";
        if (str_has_prefix(key, "fs.mqueue."))
                need = "ipc";
        else if (str_has_prefix(key, "net."))
                need = "network";
        else if (strcmp(key, "kernel.hostname") == 0 || strcmp(key, "kernel.domainname") == 0)
                need = "uts";
        if (need == NULL)
                return berth_error(err, 0, "sysctl \"%s\" is not in a separate kernel namespace", key);
        if (!has_namespace(namespaces, need))
                return berth_error(err, 0, "sysctl \"%s\" is not allowed as it conflicts with the host's %s namespace",
                                   key, need);
        return 0;
}

static int check_capability_set(json_t *caps, const char *set, berth_error_t **err)
{
        json_t *list = json_object_get(caps, set), *v;
        size_t i;

        if (list == NULL)
                return 0;
        if (!json_is_array(list))
                return berth_error(err, 0, "process.capabilities.%s: not an array", set);
        json_array_foreach(list, i, v) {
                if (!json_is_string(v) || capability_parse(json_string_value(v)) < 0)
                        return berth_error(err, 0, "unknown capability \"%s\" in process.capabilities.%s",
                                           json_is_string(v) ? json_string_value(v) : "?", set);
        }
        return 0;
}

int oci_process_validate(json_t *process, berth_error_t **err)
{
        static const char *const sets[] = { "bounding", "effective", "permitted", "inheritable", "ambient" };
        json_t *args = json_object_get(process, "args"), *v, *caps;
        size_t i;
        int ret;

        if (!json_is_array(args) || json_array_size(args) == 0 || !json_is_string(json_array_get(args, 0)))
                return berth_error(err, 0, "process.args must be a non-empty array of strings");
        if (!json_is_string(json_object_get(process, "cwd")))
                return berth_error(err, 0, "process.cwd must be set");
        if (json_string_value(json_object_get(process, "cwd"))[0] != '/')
                return berth_error(err, 0, "process.cwd \"%s\" is not an absolute path",
                                   json_string_value(json_object_get(process, "cwd")));
        caps = json_object_get(process, "capabilities");
        for (i = 0; caps && i < ARRAY_SIZE(sets); i++)
                if ((ret = check_capability_set(caps, sets[i], err)) < 0)
                        return ret;
        json_array_foreach(json_object_get(process, "rlimits"), i, v) {
                const char *type = json_path_str(v, "", "type", NULL);
                if (oci_rlimit_parse(type) < 0)
                        return berth_error(err, 0, "unknown rlimit \"%s\" in process.rlimits", type);
        }
        return 0;
}

static int check_namespaces(json_t *namespaces, berth_error_t **err)
{
        size_t i;
        json_t *ns;
        int seen = 0;

        json_array_foreach(namespaces, i, ns) {
                const char *type = json_path_str(ns, "", "type", NULL);
                int flag = oci_namespace_flag(type);
                if (flag < 0)
                        return berth_error(err, 0, "linux.namespaces: unknown namespace type \"%s\"", type);
                if (seen & flag)
                        return berth_error(err, 0, "linux.namespaces: namespace \"%s\" listed twice", type);
                seen |= flag;
        }
        return 0;
}

int oci_config_validate(json_t *config, berth_error_t **err)
{
        const char *version = json_path_str(config, NULL, "ociVersion", NULL);
        json_t *linux_ = json_object_get(config, "linux"), *process = json_object_get(config, "process");
        json_t *namespaces = json_object_get(linux_, "namespaces");
        const char *key;
        json_t *v;
        int ret;

        if (version == NULL)
                return berth_error(err, 0, "config.json: ociVersion is missing");
        if (!str_has_prefix(version, "1."))
                return berth_error(err, 0, "config.json: unsupported ociVersion \"%s\" (need 1.x)", version);
        if (!json_is_string(json_path(config, "root", "path", NULL)))
                return berth_error(err, 0, "config.json: root.path is missing");
        if (process == NULL)
                return berth_error(err, 0, "config.json: process is missing");
        if ((ret = oci_process_validate(process, err)) < 0)
                return berth_error_wrap(err, "config.json");
        if ((ret = check_namespaces(namespaces, err)) < 0)
                return ret;
        /* without its own UTS namespace the container would rename the host */
        if (json_path_str(config, NULL, "hostname", NULL) && !has_namespace(namespaces, "uts"))
                return berth_error(err, 0, "config.json: hostname needs a uts namespace (linux.namespaces)");
        if (json_path_str(config, NULL, "domainname", NULL) && !has_namespace(namespaces, "uts"))
                return berth_error(err, 0, "config.json: domainname needs a uts namespace (linux.namespaces)");
        json_object_foreach(json_object_get(linux_, "sysctl"), key, v)
                if ((ret = oci_sysctl_check(key, namespaces, err)) < 0)
                        return ret;
        return 0;
}

int oci_config_load(const char *bundle, json_t **out, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("%s/config.json", bundle);
        json_error_t jerr;
        json_t *config = json_load_file(path, 0, &jerr);
        int ret;

        if (config == NULL) {
                if (access(path, F_OK) < 0)
                        return berth_error(err, errno, "load %s", path);
                return berth_error(err, 0, "parse %s: line %d: %s", path, jerr.line, jerr.text);
        }
        if (!json_is_object(config)) {
                json_decref(config);
                return berth_error(err, 0, "parse %s: not a JSON object", path);
        }
        if ((ret = oci_config_validate(config, err)) < 0) {
                json_decref(config);
                return ret;
        }
        *out = config;
        return 0;
}
