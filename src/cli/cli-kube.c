/* berth kube: kubectl's command line over berthd's /berth/v1 API
 * (docs/kube-api.md): the subcommand table and its help, kubectl's flag
 * and server errors, the requests every subcommand makes, and generate. */
#include "cli/cli-kube.h"
#include <ctype.h>
#include <stdarg.h>

int kube_cmd_apply(struct cli *c, int argc, char **argv);
int kube_cmd_delete(struct cli *c, int argc, char **argv);
int kube_cmd_logs(struct cli *c, int argc, char **argv);
int kube_cmd_exec(struct cli *c, int argc, char **argv);
static int kube_cmd_generate(struct cli *c, int argc, char **argv);

struct kube_sub {
        const char *name;
        int (*fn)(struct cli *c, int argc, char **argv);
        const char *usage, *summary, *options;
};

#define NS_OPT "  -n, --namespace string     The namespace (default \"default\")\n"

static const struct kube_sub subs[] = {
        { "apply", kube_cmd_apply, "apply -f FILENAME [options]",
          "Create or update objects from YAML or JSON manifests\n\n"
          "FILENAME is a file, a directory (its *.yaml, *.yml and *.json files in name order) or - for stdin.",
          "  -f, --filename strings     The manifests to apply (repeatable)\n" NS_OPT
          "  -R, --recursive            Process the directory given in -f recursively\n" },
        { "get", kube_cmd_get, "get TYPE[,TYPE...] [NAME...] | TYPE/NAME... [options]",
          "Display one or many objects\n\n"
          "Types: pods (po), deployments (deploy), replicasets (rs), services (svc), endpoints (ep),\n"
          "configmaps (cm), secrets, horizontalpodautoscalers (hpa), events (ev), namespaces (ns), and all\n"
          "(pods, services, deployments, replicasets and horizontalpodautoscalers).",
          "  -A, --all-namespaces       List the objects across all namespaces\n"
          "  -l, --selector string      Label selector (k=v, k!=v, k in (a,b), k notin (a,b), k, !k)\n"
          NS_OPT
          "      --no-headers           Do not print headers\n"
          "  -o, --output string        wide, yaml, json or name\n"
          "      --show-labels          Show all labels as the last column\n"
          "  -w, --watch                After listing, watch for changes\n" },
        { "describe", kube_cmd_describe, "describe TYPE [NAME_PREFIX] | TYPE/NAME [options]",
          "Show details of an object or a group of objects, with their events",
          "  -A, --all-namespaces       Describe the objects across all namespaces\n"
          "  -l, --selector string      Label selector\n" NS_OPT },
        { "delete", kube_cmd_delete, "delete ([-f FILENAME] | TYPE [NAME... | -l label | --all] | TYPE/NAME...) [options]",
          "Delete objects by manifests, by type and name, or by type and label selector",
          "      --all                  Delete every object of the type in the namespace\n"
          "      --cascade string       background, orphan or foreground (default \"background\")\n"
          "  -f, --filename strings     The manifests naming the objects to delete\n"
          "      --force                Delete at once (grace period 0)\n"
          "      --grace-period int     Seconds given to the pods to stop (-1: their own default)\n"
          "      --ignore-not-found     Treat absent objects as deleted\n"
          "  -l, --selector string      Label selector\n" NS_OPT
          "      --now                  Give the pods a grace period of 1 s\n"
          "  -R, --recursive            Process the directory given in -f recursively\n"
          "      --timeout duration     How long to wait for the deletion (0: a default from the grace period)\n"
          "      --wait                 Wait until the objects are gone (default true)\n" },
        { "scale", kube_cmd_scale, "scale --replicas=COUNT TYPE NAME | TYPE/NAME [options]",
          "Set a new size for a deployment or a replica set",
          NS_OPT "      --replicas int         The new number of replicas (required)\n" },
        { "rollout", kube_cmd_rollout, "rollout SUBCOMMAND deployment/NAME [options]",
          "Manage the rollout of a deployment\n\n"
          "Subcommands:\n"
          "  history     View the rollout history (REVISION, CHANGE-CAUSE)\n"
          "  status      Wait for the rollout to finish; exit 1 when its progress deadline is exceeded\n"
          "  undo        Roll back to the previous revision, or to --to-revision",
          NS_OPT
          "      --revision int         history: show the pod template of this revision\n"
          "                             status: wait for this revision\n"
          "      --timeout duration     status: give up after this long (0: never)\n"
          "      --to-revision int      undo: the revision to roll back to (default: the previous one)\n"
          "  -w, --watch                status: wait for the rollout (default true)\n" },
        { "logs", kube_cmd_logs, "logs [-f] [-p] POD|TYPE/NAME [-c CONTAINER] [options]",
          "Print the logs of a container in a pod",
          "  -c, --container string     The container (default: the pod's default or first container)\n"
          "  -f, --follow               Follow the log\n" NS_OPT
          "  -p, --previous             The logs of the previous, terminated instance of the container\n"
          "      --since duration       Only logs newer than this (5s, 2m, 3h)\n"
          "      --tail int             Lines from the end to show (default -1: all)\n"
          "      --timestamps           Prefix every line with its timestamp\n" },
        { "exec", kube_cmd_exec, "exec POD|TYPE/NAME [-c CONTAINER] [-i] [-t] -- COMMAND [ARG...]",
          "Run a command in a container of a pod",
          "  -c, --container string     The container (default: the pod's default or first container)\n"
          NS_OPT "  -i, --stdin                Pass stdin to the command\n"
          "  -t, --tty                  Allocate a terminal\n" },
        { "generate", kube_cmd_generate, "generate CONTAINER|POD...",
          "Print running containers or Berth pods as Kubernetes YAML that kubectl apply accepts", "" },
};

static const struct kube_sub *find_sub(const char *name)
{
        for (size_t i = 0; name && i < ARRAY_SIZE(subs); i++)
                if (strcmp(subs[i].name, name) == 0)
                        return &subs[i];
        return NULL;
}

void kube_help(const char *sub)
{
        const struct kube_sub *s = find_sub(sub);

        if (s) {
                printf("\nUsage:  berth kube %s\n\n%s\n", s->usage, s->summary);
                if (*s->options)
                        printf("\nOptions:\n%s", s->options);
                return;
        }
        printf("\nUsage:  berth kube COMMAND\n\n"
               "Run Kubernetes manifests on this machine: berthd keeps the objects and reconciles them\n\n"
               "Commands:\n");
        for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
                const char *nl = strchr(subs[i].summary, '\n');
                printf("  %-10s %.*s\n", subs[i].name, nl ? (int)(nl - subs[i].summary) : (int)strlen(subs[i].summary),
                       subs[i].summary);
        }
        printf("\nRun 'berth kube COMMAND --help' for more information on a command.\n");
}

int kube_usage(const char *sub, const char *fmt, ...)
{
        va_list ap;

        fflush(stdout);
        fputs("error: ", stderr);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fprintf(stderr, "\nSee 'berth kube %s --help' for usage.\n", sub);
        return 1;
}

int kube_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts, const char *sub)
{
        int o;

        opterr = 0;
        o = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (o == CLI_GETOPT_HELP || o == 'h') {
                kube_help(sub);
                return CLI_GETOPT_HELP;
        }
        if (o == '?' || o == ':') {
                const char *bad = argv[optind - 1];
                if (o == ':' && bad[1] != '-')
                        kube_usage(sub, "flag needs an argument: '%c' in -%c", optopt, optopt);
                else if (o == ':')
                        kube_usage(sub, "flag needs an argument: %s", bad);
                else if (optopt && bad[0] == '-' && bad[1] != '-')
                        kube_usage(sub, "unknown shorthand flag: '%c' in %s", optopt, bad);
                else
                        kube_usage(sub, "unknown flag: %s", bad);
                return CLI_GETOPT_ERROR;
        }
        return o;
}

/* ---- requests ---- */

static int server_error(const struct cli_response *resp, berth_error_t **err)
{
        _cleanup_json_ json_t *j = NULL;
        _cleanup_free_ char *text = NULL;
        const char *msg = NULL, *reason = NULL;

        if (resp->body && resp->len > 0) {
                j = json_loadb(resp->body, resp->len, 0, NULL);
                msg = json_string_value(json_object_get(j, "message"));
                reason = json_string_value(json_object_get(j, "reason"));
        }
        if (msg == NULL) {
                size_t n;
                text = xstrdup(resp->body && resp->len ? resp->body : "");
                n = strlen(text);
                while (n > 0 && isspace((unsigned char)text[n - 1]))
                        text[--n] = '\0';
                msg = *text ? text : "the server could not handle the request";
        }
        if (reason == NULL || *reason == '\0')
                reason = kube_status_reason(resp->status, msg);
        return berth_fail(err, resp->status == 404 ? ENOENT : EIO, "Error from server (%s): %s", reason, msg);
}

int kube_request(struct cli *c, const char *method, const char *path, const char *body, const char *content_type,
                 struct cli_response *resp, berth_error_t **err)
{
        struct cli_req r = { .method = method, .path = path, .json_body = body, .content_type = content_type };

        if (cli_request(c, &r, resp, err) < 0)
                return -1;
        if (resp->status >= 400) {
                int ret = server_error(resp, err);
                cli_response_free(resp);
                return ret;
        }
        return 0;
}

int kube_get_json(struct cli *c, const char *path, json_t **out, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        json_error_t jerr;

        if (kube_request(c, "GET", path, NULL, NULL, &resp, err) < 0)
                return -1;
        *out = json_loadb(resp.body, resp.len, 0, &jerr);
        if (*out == NULL)
                return berth_error(err, 0, "invalid JSON from the server for %s: %s", path, jerr.text);
        return 0;
}

char *kube_path(const struct kube_res *r, const char *ns, const char *name, const char *query)
{
        _cleanup_free_ char *n = name ? cli_escape_path(name) : NULL;
        _cleanup_free_ char *e = ns ? cli_escape_path(ns) : NULL;
        _cleanup_free_ char *base = NULL;

        if (!r->namespaced || ns == NULL)
                base = xasprintf("/berth/v1/%s%s%s", r->resource, n ? "/" : "", n ? n : "");
        else
                base = xasprintf("/berth/v1/namespaces/%s/%s%s%s", e, r->resource, n ? "/" : "", n ? n : "");
        if (query && *query)
                return xasprintf("%s?%s", base, query);
        return steal_pointer(&base);
}

int kube_list(struct cli *c, const struct kube_res *r, const char *ns, const char *selector, json_t **items,
              berth_error_t **err)
{
        _cleanup_free_ char *sel = selector && *selector ? cli_escape_query(selector) : NULL;
        _cleanup_free_ char *q = sel ? xasprintf("labelSelector=%s", sel) : NULL;
        _cleanup_free_ char *path = kube_path(r, ns, NULL, q);
        _cleanup_json_ json_t *list = NULL;
        json_t *arr;

        if (kube_get_json(c, path, &list, err) < 0)
                return -1;
        arr = json_object_get(list, "items");
        *items = json_is_array(arr) ? json_incref(arr) : json_array();
        return 0;
}

void kube_print_error(berth_error_t *err)
{
        if (err == NULL)
                return;
        fflush(stdout);
        if (str_has_prefix(err->msg, "Error from server") || str_has_prefix(err->msg, "Cannot connect") ||
            str_has_prefix(err->msg, "permission denied while") || str_has_prefix(err->msg, "error: "))
                fprintf(stderr, "%s\n", err->msg);
        else
                fprintf(stderr, "error: %s\n", err->msg);
}

/* ---- generate ---- */

static int kube_cmd_generate(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = { CLI_OPT_HELP, CLI_OPT_END };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *path = NULL;
        struct strbuf names = { 0 };
        int o;

        while ((o = kube_getopt(argc, argv, ":h", longopts, "generate")) != -1)
                return o == CLI_GETOPT_HELP ? 0 : 1;
        if (optind >= argc)
                return kube_usage("generate", "at least one container or pod is required");
        strbuf_adds(&names, "");
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *e = cli_escape_query(argv[i]);
                if (i > optind)
                        strbuf_adds(&names, ",");
                strbuf_adds(&names, e);
        }
        path = xasprintf("/berth/v1/generate?names=%s", names.data);
        free(names.data);
        if (kube_request(c, "GET", path, NULL, NULL, &resp, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        fwrite(resp.body, 1, resp.len, stdout);
        if (resp.len && resp.body[resp.len - 1] != '\n')
                putchar('\n');
        return 0;
}

/* ---- the command ---- */

int cmd_kube(struct cli *c, int argc, char **argv)
{
        const struct kube_sub *s;

        if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
                kube_help(NULL);
                return 0;
        }
        if (strcmp(argv[1], "help") == 0) {
                kube_help(argc > 2 ? argv[2] : NULL);
                return 0;
        }
        s = find_sub(argv[1]);
        if (s == NULL) {
                fprintf(stderr, "error: unknown command \"%s\" for \"berth kube\"\nRun 'berth kube --help' for usage.\n",
                        argv[1]);
                return 1;
        }
        optind = 0;
        return s->fn(c, argc - 1, argv + 1);
}
