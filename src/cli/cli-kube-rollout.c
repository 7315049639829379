/* berth kube rollout status|history|undo and scale: status polls the
 * Deployment and decides as kubectl's DeploymentStatusViewer does
 * (kube_rollout_status); history reads the revisions of the ReplicaSets
 * the Deployment owns; undo and scale are the server's rollback and
 * scale subresources. */
#include "cli/cli-kube-describe.h"
#include <time.h>

/* "deploy/NAME" or "deployment NAME": the deployment's name, or NULL
 * after printing why not. */
static const char *deployment_arg(const char *sub, char **args, int n)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct kube_group *g = NULL;
        size_t ng = 0;
        const char *name = NULL;

        if (n < 1) {
                kube_usage(sub, "required resource not specified");
                return NULL;
        }
        if (kube_parse_targets(args, n, &g, &ng, &err) < 0) {
                kube_print_error(err);
                return NULL;
        }
        if (ng != 1 || g[0].n != 1)
                kube_usage(sub, "exactly one deployment is required (deployment/NAME)");
        else if (strcmp(g[0].r->kind, "Deployment") != 0)
                fprintf(stderr, "error: no %s has been implemented for %s\n",
                        strcmp(sub, "rollout status") == 0 ? "status viewer" : "history viewer", g[0].r->kind);
        else
                name = args[n - 1] + (strchr(args[n - 1], '/') ? strchr(args[n - 1], '/') - args[n - 1] + 1 : 0);
        kube_groups_free(g, ng);
        return name;
}

static long long mono_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int rollout_status(struct cli *c, const char *ns, const char *name, long long revision, bool watch,
                          long long timeout_ms)
{
        _cleanup_free_ char *path = kube_path(kube_res_find("deployments"), ns, name, NULL);
        _cleanup_free_ char *last = NULL;
        long long deadline = timeout_ms > 0 ? mono_ms() + timeout_ms : -1;

        for (;;) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_json_ json_t *d = NULL;
                char *msg = NULL;
                int ret;
                if (kube_get_json(c, path, &d, &err) < 0) {
                        kube_print_error(err);
                        return 1;
                }
                ret = kube_rollout_status(d, revision, &msg, &err);
                if (ret < 0) {
                        kube_print_error(err);
                        return 1;
                }
                /* kubectl prints on every change it is told of */
                if (last == NULL || strcmp(last, msg) != 0)
                        printf("%s\n", msg);
                fflush(stdout);
                free(last);
                last = msg;
                if (ret > 0 || !watch)
                        return 0;
                if (deadline >= 0 && mono_ms() >= deadline) {
                        fprintf(stderr, "error: timed out waiting for the condition\n");
                        return 1;
                }
                usleep(250 * 1000);
        }
}

static long long revision_of(const json_t *rs)
{
        const char *r = kube_map_str(rs, "metadata.annotations", "deployment.kubernetes.io/revision");
        return r ? parse_ll(r) : -1;
}

static int cmp_revision(const void *a, const void *b)
{
        long long x = revision_of(*(json_t *const *)a), y = revision_of(*(json_t *const *)b);
        return x < y ? -1 : x > y;
}

/* The replica sets the deployment owns, by revision. */
static int history_of(struct cli *c, const char *ns, const char *name, json_t **deploy, json_t ***rss, size_t *n)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *path = kube_path(kube_res_find("deployments"), ns, name, NULL);
        _cleanup_free_ char *sel = NULL;
        json_t *items = NULL;
        const char *uid;

        if (kube_get_json(c, path, deploy, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        uid = kube_str(*deploy, "metadata.uid");
        sel = kube_selector_string(kube_at(*deploy, "spec.selector"));
        if (kube_list(c, kube_res_find("replicasets"), ns, sel, &items, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        *rss = xcalloc(json_array_size(items) + 1, sizeof(json_t *));
        *n = 0;
        for (size_t i = 0; i < json_array_size(items); i++) {
                json_t *rs = json_array_get(items, i);
                const json_t *refs = kube_at(rs, "metadata.ownerReferences");
                for (size_t j = 0; j < json_array_size(refs); j++) {
                        const char *ru = kube_str(json_array_get(refs, j), "uid");
                        if (uid && ru && strcmp(uid, ru) == 0 && revision_of(rs) >= 0) {
                                (*rss)[(*n)++] = json_incref(rs);
                                break;
                        }
                }
        }
        json_decref(items);
        qsort(*rss, *n, sizeof(json_t *), cmp_revision);
        return 0;
}

static int rollout_history(struct cli *c, const char *ns, const char *name, long long revision)
{
        json_t *deploy = NULL, **rss = NULL;
        size_t n = 0;
        struct tabw w;
        char *text;
        int status;

        status = history_of(c, ns, name, &deploy, &rss, &n);
        if (status != 0) {
                json_decref(deploy);
                free(rss);
                return status;
        }
        tabw_init(&w, 0, 2);
        if (revision > 0) {
                const json_t *found = NULL;
                for (size_t i = 0; i < n; i++)
                        if (revision_of(rss[i]) == revision)
                                found = rss[i];
                if (found == NULL) {
                        fprintf(stderr, "error: unable to find the specified revision\n");
                        status = 1;
                } else {
                        printf("deployment.apps/%s with revision #%lld\n", name, revision);
                        describe_template(&w, kube_at(found, "spec.template"));
                }
        } else {
                printf("deployment.apps/%s\n", name);
                tabw_printf(&w, "REVISION\tCHANGE-CAUSE\n");
                for (size_t i = 0; i < n; i++) {
                        const char *cause = kube_map_str(rss[i], "metadata.annotations", "kubernetes.io/change-cause");
                        tabw_printf(&w, "%lld\t%s\n", revision_of(rss[i]), cause && *cause ? cause : "<none>");
                }
        }
        text = tabw_render(&w);
        if (status == 0)
                printf("%s\n", text);
        free(text);
        tabw_free(&w);
        for (size_t i = 0; i < n; i++)
                json_decref(rss[i]);
        free(rss);
        json_decref(deploy);
        return status;
}

static int rollout_undo(struct cli *c, const char *ns, const char *name, long long to)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *base = kube_path(kube_res_find("deployments"), ns, name, NULL);
        _cleanup_free_ char *path = xasprintf("%s/rollback", base);
        _cleanup_free_ char *body = xasprintf("{\"toRevision\":%lld}", to > 0 ? to : 0);

        if (kube_request(c, "POST", path, body, NULL, &resp, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        printf("deployment.apps/%s rolled back\n", name);
        return 0;
}

int kube_cmd_rollout(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "namespace", required_argument, NULL, 'n' },
                { "revision", required_argument, NULL, 'r' },
                { "timeout", required_argument, NULL, 'T' },
                { "to-revision", required_argument, NULL, 'R' },
                { "watch", optional_argument, NULL, 'w' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        const char *ns = "default", *sub, *name;
        long long revision = 0, to = 0, timeout_ms = 0;
        bool watch = true, ok;
        int o;

        while ((o = kube_getopt(argc, argv, ":n:wh", longopts, "rollout")) != -1) {
                switch (o) {
                case 'n': ns = optarg; break;
                case 'r':
                case 'R':
                        if (parse_ll(optarg) < 0)
                                return kube_usage("rollout", "invalid argument \"%s\" for \"--%s\" flag", optarg,
                                                  o == 'r' ? "revision" : "to-revision");
                        *(o == 'r' ? &revision : &to) = parse_ll(optarg);
                        break;
                case 'T':
                        timeout_ms = kube_parse_duration(optarg);
                        if (timeout_ms < 0)
                                return kube_usage("rollout", "invalid argument \"%s\" for \"--timeout\" flag", optarg);
                        break;
                case 'w':
                        watch = cli_bool_arg(optarg, &ok);
                        if (!ok)
                                return kube_usage("rollout", "invalid argument \"%s\" for \"--watch\" flag", optarg);
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (optind >= argc)
                return kube_usage("rollout", "a subcommand is required: status, history or undo");
        sub = argv[optind++];
        if (strcmp(sub, "status") == 0) {
                name = deployment_arg("rollout status", argv + optind, argc - optind);
                return name ? rollout_status(c, ns, name, revision, watch, timeout_ms) : 1;
        }
        if (strcmp(sub, "history") == 0) {
                name = deployment_arg("rollout history", argv + optind, argc - optind);
                return name ? rollout_history(c, ns, name, revision) : 1;
        }
        if (strcmp(sub, "undo") == 0) {
                name = deployment_arg("rollout undo", argv + optind, argc - optind);
                return name ? rollout_undo(c, ns, name, to) : 1;
        }
        return kube_usage("rollout", "unknown rollout subcommand \"%s\" (status, history or undo)", sub);
}

/* ---- scale ---- */

int kube_cmd_scale(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "namespace", required_argument, NULL, 'n' },
                { "replicas", required_argument, NULL, 'r' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        const char *ns = "default";
        struct kube_group *g = NULL;
        size_t ng = 0;
        long long replicas = -1;
        int o, status = 0;

        while ((o = kube_getopt(argc, argv, ":n:h", longopts, "scale")) != -1) {
                switch (o) {
                case 'n': ns = optarg; break;
                case 'r':
                        replicas = parse_ll(optarg);
                        if (replicas < 0)
                                return kube_usage("scale", "invalid argument \"%s\" for \"--replicas\" flag", optarg);
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (replicas < 0)
                return kube_usage("scale", "required flag(s) \"replicas\" not set");
        if (optind >= argc)
                return kube_usage("scale", "required resource not specified");
        if (kube_parse_targets(argv + optind, argc - optind, &g, &ng, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        for (size_t i = 0; i < ng; i++) {
                _cleanup_free_ char *q = kube_res_qualified(g[i].r);
                if (strcmp(g[i].r->kind, "Deployment") != 0 && strcmp(g[i].r->kind, "ReplicaSet") != 0) {
                        fprintf(stderr, "error: no scaler has been implemented for %s\n", g[i].r->kind);
                        status = 1;
                        continue;
                }
                if (g[i].n == 0) {
                        status = kube_usage("scale", "resource(s) were provided, but no name was specified");
                        continue;
                }
                for (size_t j = 0; j < g[i].n; j++) {
                        _cleanup_response_ struct cli_response resp = { 0 };
                        _cleanup_free_ char *base = kube_path(g[i].r, ns, g[i].names[j], NULL);
                        _cleanup_free_ char *path = xasprintf("%s/scale", base);
                        _cleanup_free_ char *body = xasprintf("{\"spec\":{\"replicas\":%lld}}", replicas);
                        if (kube_request(c, "PUT", path, body, NULL, &resp, &err) < 0) {
                                kube_print_error(err);
                                berth_error_free(&err);
                                status = 1;
                                continue;
                        }
                        printf("%s/%s scaled\n", q, g[i].names[j]);
                }
        }
        kube_groups_free(g, ng);
        return status;
}
