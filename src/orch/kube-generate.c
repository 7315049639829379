/* berth kube generate: what runs here, as manifests a real cluster's
 * kubectl apply accepts.  A Berth pod prints as its declared spec (its
 * status and the server's fields dropped); a plain container as a bare
 * Pod: image, command (Entrypoint) and args (Cmd), environment, working
 * directory, ports (published ones as hostPort), bind mounts as hostPath
 * volumes and named volumes as persistentVolumeClaims. */
#include "orch/kube-api.h"
#include "orch/kube-yaml.h"
#include "engine/engine.h"
#include "util/util.h"
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static json_t *declared_pod(const json_t *pod)
{
        json_t *out = json_deep_copy(pod), *meta = json_object_get(out, "metadata");
        static const char *const server[] = { "uid", "resourceVersion", "generation", "creationTimestamp",
                                              "ownerReferences", "deletionTimestamp", "deletionGracePeriodSeconds",
                                              "generateName" };

        json_object_del(out, "status");
        for (size_t i = 0; i < sizeof(server) / sizeof(server[0]); i++)
                json_object_del(meta, server[i]);
        json_object_del(json_object_get(meta, "annotations"), "kubectl.kubernetes.io/last-applied-configuration");
        if (json_object_size(json_object_get(meta, "annotations")) == 0)
                json_object_del(meta, "annotations");
        return out;
}

/* A DNS-1123 name from a container name ("my_app" → "my-app"). */
static char *k8s_name(const char *name)
{
        char *s = xstrdup(*name == '/' ? name + 1 : name);

        for (char *p = s; *p; p++)
                *p = isalnum((unsigned char)*p) || *p == '-' || *p == '.' ? (char)tolower((unsigned char)*p) : '-';
        return s;
}

static json_t *str_array(const json_t *a)
{
        return json_is_array(a) && json_array_size(a) ? json_deep_copy(a) : NULL;
}

static void add_ports(json_t *ctr, const json_t *insp)
{
        json_t *exposed = json_object_get(json_object_get(insp, "Config"), "ExposedPorts");
        json_t *bindings = json_object_get(json_object_get(insp, "HostConfig"), "PortBindings");
        json_t *ports = must(json_array()), *v;
        const char *key;

        json_object_foreach(exposed, key, v) {
                int port = atoi(key);
                const char *proto = strchr(key, '/');
                json_t *p = must(json_pack("{s:i}", "containerPort", port));
                if (proto && strcmp(proto + 1, "tcp") != 0)
                        json_object_set_new(p, "protocol", json_string(proto[1] == 'u' ? "UDP" : "SCTP"));
                json_t *b = json_array_get(json_object_get(bindings, key), 0);
                const char *hp = json_string_value(json_object_get(b, "HostPort"));
                if (hp && atoi(hp) > 0)
                        json_object_set_new(p, "hostPort", json_integer(atoi(hp)));
                json_array_append_new(ports, p);
        }
        if (json_array_size(ports))
                json_object_set_new(ctr, "ports", ports);
        else
                json_decref(ports);
}

static void add_mounts(json_t *ctr, json_t *spec, const json_t *insp)
{
        json_t *mounts = must(json_array()), *volumes = json_object_get(spec, "volumes"), *m;
        size_t i;

        json_array_foreach(json_object_get(insp, "Mounts"), i, m) {
                const char *type = json_string_value(json_object_get(m, "Type"));
                const char *dest = json_string_value(json_object_get(m, "Destination"));
                _cleanup_free_ char *vname = xasprintf("vol-%zu", i);
                json_t *vol;
                if (type && strcmp(type, "bind") == 0)
                        vol = json_pack("{s:s, s:{s:O}}", "name", vname, "hostPath", "path", json_object_get(m, "Source"));
                else if (type && strcmp(type, "volume") == 0)
                        vol = json_pack("{s:s, s:{s:O}}", "name", vname, "persistentVolumeClaim", "claimName",
                                        json_object_get(m, "Name"));
                else
                        continue;
                if (!json_is_array(volumes))
                        json_object_set_new(spec, "volumes", volumes = must(json_array()));
                json_array_append_new(volumes, vol);
                json_t *vm = must(json_pack("{s:s, s:s}", "name", vname, "mountPath", dest ? dest : "/"));
                if (json_is_false(json_object_get(m, "RW")))
                        json_object_set_new(vm, "readOnly", json_true());
                json_array_append_new(mounts, vm);
        }
        if (json_array_size(mounts))
                json_object_set_new(ctr, "volumeMounts", mounts);
        else
                json_decref(mounts);
}

static json_t *container_pod(const json_t *insp)
{
        json_t *cfg = json_object_get(insp, "Config");
        _cleanup_free_ char *name = k8s_name(json_string_value(json_object_get(insp, "Name")));
        json_t *ctr = must(json_pack("{s:s, s:O}", "name", name, "image", json_object_get(cfg, "Image")));
        json_t *spec = must(json_pack("{s:[o]}", "containers", ctr));
        json_t *cmd = str_array(json_object_get(cfg, "Entrypoint")), *args = str_array(json_object_get(cfg, "Cmd"));
        json_t *env = must(json_array()), *e;
        size_t i;

        if (cmd)
                json_object_set_new(ctr, "command", cmd);
        if (args)
                json_object_set_new(ctr, "args", args);
        json_array_foreach(json_object_get(cfg, "Env"), i, e) {
                const char *kv = json_string_value(e);
                const char *eq = kv ? strchr(kv, '=') : NULL;
                if (eq == NULL || strncmp(kv, "PATH=", 5) == 0)
                        continue;
                json_array_append_new(env, json_pack("{s:s%, s:s}", "name", kv, (size_t)(eq - kv), "value", eq + 1));
        }
        if (json_array_size(env))
                json_object_set_new(ctr, "env", env);
        else
                json_decref(env);
        const char *wd = json_string_value(json_object_get(cfg, "WorkingDir"));
        if (wd && *wd)
                json_object_set_new(ctr, "workingDir", json_string(wd));
        add_ports(ctr, insp);
        add_mounts(ctr, spec, insp);
        json_t *labels = must(json_object()), *v;
        const char *key;
        json_object_foreach(json_object_get(cfg, "Labels"), key, v) if (!strchr(key, ' ')) json_object_set(labels, key, v);
        json_t *meta = must(json_pack("{s:s}", "name", name));
        if (json_object_size(labels))
                json_object_set_new(meta, "labels", labels);
        else
                json_decref(labels);
        return must(json_pack("{s:s, s:s, s:o, s:o}", "apiVersion", "v1", "kind", "Pod", "metadata", meta, "spec",
                              spec));
}

static int one(struct kube *k, const char *name, json_t *docs, berth_error_t **err)
{
        _cleanup_error_ berth_error_t *absent = NULL;
        json_t *obj = NULL, *insp = NULL;

        if (kube_get(k, "Pod", "default", name, &obj, &absent) == 0) {
                json_array_append_new(docs, declared_pod(obj));
                json_decref(obj);
                return 0;
        }
        if (engine_container_inspect(kube_engine(k), name, &insp, err) < 0)
                return berth_error_wrap(err, "generate");
        const char *pod = json_string_value(
                json_object_get(json_object_get(json_object_get(insp, "Config"), "Labels"), "io.kubernetes.pod.name"));
        const char *ns = json_string_value(json_object_get(
                json_object_get(json_object_get(insp, "Config"), "Labels"), "io.kubernetes.pod.namespace"));
        if (pod && ns && kube_get(k, "Pod", ns, pod, &obj, &absent) == 0) {
                json_array_append_new(docs, declared_pod(obj));
                json_decref(obj);
        } else {
                json_array_append_new(docs, container_pod(insp));
        }
        json_decref(insp);
        return 0;
}

int kube_generate(struct kube *k, const char *const *names, size_t n, char **yaml, berth_error_t **err)
{
        json_t *docs = must(json_array());

        for (size_t i = 0; i < n; i++)
                if (one(k, names[i], docs, err) < 0) {
                        json_decref(docs);
                        return -1;
                }
        *yaml = kube_yaml_emit_docs(docs);
        json_decref(docs);
        return 0;
}
