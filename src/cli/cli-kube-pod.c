/* berth kube logs and exec: the pod's container is found by name in
 * status.containerStatuses (containerID "berth://ID"; the previous
 * instance's in lastState.terminated.containerID), then the engine's own
 * logs and exec commands run on that container id, so a pod's streams
 * behave exactly as `berth logs` and `berth exec` do. */
#include "cli/cli-kube.h"

/* The pod named: NAME, pod/NAME, or TYPE/NAME of an object with a
 * selector (deployment, replica set, service), of which the first
 * running pod is taken, as kubectl does. */
static int resolve_pod(struct cli *c, const char *ns, const char *arg, json_t **pod, berth_error_t **err)
{
        const char *slash = strchr(arg, '/');
        _cleanup_free_ char *type = slash ? xasprintf("%.*s", (int)(slash - arg), arg) : NULL;
        const struct kube_res *r = type ? kube_res_find(type) : kube_res_find("pods");
        const char *name = slash ? slash + 1 : arg;
        _cleanup_json_ json_t *owner = NULL, *pods = NULL;
        _cleanup_free_ char *path = NULL, *sel = NULL;
        const json_t *s;
        size_t pick = 0;

        if (r == NULL)
                return berth_error(err, 0, "the server doesn't have a resource type \"%s\"", type);
        path = kube_path(r, ns, name, NULL);
        if (strcmp(r->kind, "Pod") == 0)
                return kube_get_json(c, path, pod, err);
        if (kube_get_json(c, path, &owner, err) < 0)
                return -1;
        s = kube_at(owner, "spec.selector");     /* a LabelSelector, or a Service's map */
        if (s == NULL || json_object_size(s) == 0)
                return berth_error(err, 0, "cannot attach to %s: selector for %s not implemented", r->kind, r->kind);
        sel = kube_selector_string(s);
        if (kube_list(c, kube_res_find("pods"), ns, sel, &pods, err) < 0)
                return -1;
        if (json_array_size(pods) == 0)
                return berth_error(err, 0, "no pods found for %s/%s", r->singular, name);
        for (size_t i = 0; i < json_array_size(pods); i++) {
                const json_t *p = json_array_get(pods, i);
                const char *phase = kube_str(p, "status.phase");
                if (kube_at(p, "metadata.deletionTimestamp") == NULL && phase && strcmp(phase, "Running") == 0) {
                        pick = i;
                        break;
                }
        }
        if (json_array_size(pods) > 1)
                fprintf(stderr, "Found %zu pods, using pod/%s\n", json_array_size(pods),
                        kube_str(json_array_get(pods, pick), "metadata.name"));
        *pod = json_incref(json_array_get(pods, pick));
        return 0;
}

static bool has_container(const json_t *list, const char *name)
{
        for (size_t i = 0; i < json_array_size(list); i++) {
                const char *n = kube_str(json_array_get(list, i), "name");
                if (n && strcmp(n, name) == 0)
                        return true;
        }
        return false;
}

/* -c, else the default-container annotation, else the first container
 * (saying so when there was a choice). */
static const char *pick_container(const json_t *pod, const char *want, berth_error_t **err)
{
        const json_t *ctrs = kube_at(pod, "spec.containers"), *inits = kube_at(pod, "spec.initContainers");
        const char *pod_name = kube_str(pod, "metadata.name");
        const char *def = kube_map_str(pod, "metadata.annotations", "kubectl.kubernetes.io/default-container");

        if (want) {
                if (!has_container(ctrs, want) && !has_container(inits, want)) {
                        berth_error(err, 0, "container %s is not valid for pod %s", want, pod_name);
                        return NULL;
                }
                return want;
        }
        if (def && has_container(ctrs, def))
                return def;
        if (json_array_size(ctrs) == 0) {
                berth_error(err, 0, "pod %s has no containers", pod_name);
                return NULL;
        }
        if (json_array_size(ctrs) + json_array_size(inits) > 1) {
                fprintf(stderr, "Defaulted container \"%s\" out of: ", kube_str(json_array_get(ctrs, 0), "name"));
                for (size_t i = 0; i < json_array_size(ctrs); i++)
                        fprintf(stderr, "%s%s", i ? ", " : "", kube_str(json_array_get(ctrs, i), "name"));
                for (size_t i = 0; i < json_array_size(inits); i++)
                        fprintf(stderr, ", %s (init)", kube_str(json_array_get(inits, i), "name"));
                fputc('\n', stderr);
        }
        return kube_str(json_array_get(ctrs, 0), "name");
}

static const json_t *container_status(const json_t *pod, const char *name)
{
        static const char *const lists[] = { "status.containerStatuses", "status.initContainerStatuses" };

        for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
                const json_t *css = kube_at(pod, lists[l]);
                for (size_t i = 0; i < json_array_size(css); i++) {
                        const char *n = kube_str(json_array_get(css, i), "name");
                        if (n && strcmp(n, name) == 0)
                                return json_array_get(css, i);
                }
        }
        return NULL;
}

/* The engine id of a container instance ("berth://ID" -> "ID"). */
static char *engine_id(const char *container_id)
{
        const char *sep = container_id ? strstr(container_id, "://") : NULL;

        if (container_id == NULL || *container_id == '\0')
                return NULL;
        return xstrdup(sep ? sep + 3 : container_id);
}

static char *container_engine_id(const json_t *pod, const char *ctr, bool previous, berth_error_t **err)
{
        const json_t *cs = container_status(pod, ctr);
        const char *pod_name = kube_str(pod, "metadata.name");
        char *id;

        if (previous) {
                id = engine_id(kube_str(cs, "lastState.terminated.containerID"));
                if (id == NULL)
                        berth_fail(err, ENOENT, "Error from server (BadRequest): previous terminated container \"%s\" in pod \"%s\" not found",
                                   ctr, pod_name);
                return id;
        }
        id = engine_id(kube_str(cs, "containerID"));
        /* between two instances (CrashLoopBackOff), the last one's logs */
        if (id == NULL)
                id = engine_id(kube_str(cs, "lastState.terminated.containerID"));
        if (id == NULL) {
                const char *why = kube_str(cs, "state.waiting.reason");
                berth_fail(err, EAGAIN, "Error from server (BadRequest): container \"%s\" in pod \"%s\" is waiting to start: %s",
                           ctr, pod_name, why && *why ? why : "ContainerCreating");
        }
        return id;
}

/* The pod's container as an engine id: 0, or 1 after printing why not. */
static int target_container(struct cli *c, const char *ns, const char *arg, const char *want, bool previous,
                            char **id)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *pod = NULL;
        const char *ctr;

        if (resolve_pod(c, ns, arg, &pod, &err) < 0)
                goto fail;
        ctr = pick_container(pod, want, &err);
        if (ctr == NULL)
                goto fail;
        *id = container_engine_id(pod, ctr, previous, &err);
        if (*id == NULL)
                goto fail;
        return 0;
fail:
        kube_print_error(err);
        return 1;
}

struct argv_builder {
        char **v;
        int n;
};

static void arg_add(struct argv_builder *a, const char *s)
{
        a->v = xrealloc(a->v, (size_t)(a->n + 2) * sizeof(char *));
        a->v[a->n++] = (char *)s;
        a->v[a->n] = NULL;
}

int kube_cmd_logs(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "container", required_argument, NULL, 'c' },
                { "follow", no_argument, NULL, 'f' },
                { "namespace", required_argument, NULL, 'n' },
                { "previous", no_argument, NULL, 'p' },
                { "since", required_argument, NULL, 'S' },
                { "tail", required_argument, NULL, 'T' },
                { "timestamps", no_argument, NULL, 't' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_free_ char *id = NULL;
        const char *ns = "default", *ctr = NULL, *since = NULL, *tail = NULL;
        bool follow = false, previous = false, timestamps = false;
        struct argv_builder a = { 0 };
        int o, ret;

        while ((o = kube_getopt(argc, argv, ":c:fn:ph", longopts, "logs")) != -1) {
                switch (o) {
                case 'c': ctr = optarg; break;
                case 'f': follow = true; break;
                case 'n': ns = optarg; break;
                case 'p': previous = true; break;
                case 'S': since = optarg; break;
                case 'T': tail = optarg; break;
                case 't': timestamps = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (argc - optind == 2 && ctr == NULL)
                ctr = argv[optind + 1];         /* kubectl logs POD CONTAINER */
        else if (argc - optind != 1)
                return kube_usage("logs", "expected POD or TYPE/NAME");
        if (tail && strcmp(tail, "-1") != 0 && parse_ll(tail) < 0)
                return kube_usage("logs", "invalid argument \"%s\" for \"--tail\" flag", tail);
        if (since && kube_parse_duration(since) < 0)
                return kube_usage("logs", "invalid argument \"%s\" for \"--since\" flag", since);
        if (target_container(c, ns, argv[optind], ctr, previous, &id) != 0)
                return 1;
        arg_add(&a, "logs");
        if (follow && !previous)
                arg_add(&a, "--follow");
        if (timestamps)
                arg_add(&a, "--timestamps");
        if (since) {
                arg_add(&a, "--since");
                arg_add(&a, since);
        }
        arg_add(&a, "--tail");
        arg_add(&a, tail && strcmp(tail, "-1") != 0 ? tail : "all");
        arg_add(&a, id);
        optind = 0;
        ret = cmd_logs(c, a.n, a.v);
        free(a.v);
        return ret;
}

int kube_cmd_exec(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "container", required_argument, NULL, 'c' },
                { "namespace", required_argument, NULL, 'n' },
                { "stdin", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_free_ char *id = NULL;
        const char *ns = "default", *ctr = NULL;
        bool in = false, tty = false;
        struct argv_builder a = { 0 };
        int o, ret;

        while ((o = kube_getopt(argc, argv, ":c:n:ith", longopts, "exec")) != -1) {
                switch (o) {
                case 'c': ctr = optarg; break;
                case 'n': ns = optarg; break;
                case 'i': in = true; break;
                case 't': tty = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (argc - optind < 2)
                return kube_usage("exec", "both a pod and a command are required (berth kube exec POD -- COMMAND [ARG...])");
        if (target_container(c, ns, argv[optind], ctr, false, &id) != 0)
                return 1;
        arg_add(&a, "exec");
        if (in)
                arg_add(&a, "-i");
        if (tty)
                arg_add(&a, "-t");
        arg_add(&a, id);
        for (int i = optind + 1; i < argc; i++)
                arg_add(&a, argv[i]);
        optind = 0;
        ret = cmd_exec(c, a.n, a.v);
        free(a.v);
        return ret;
}
