/* berth kube apply and delete: manifests read from files, directories or
 * stdin and sent as they are (berthd parses the YAML), one request per
 * file as kubectl reports per file; delete by name, selector or manifest,
 * waiting for the objects to be gone as kubectl's --wait does. */
#include "cli/cli-kube.h"
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>

struct kube_src {
        char *name;     /* as errors name it: the path, or "STDIN" */
        char *text;
};
struct kube_srcs {
        struct kube_src *v;
        size_t n;
};

static void srcs_free(struct kube_srcs *s)
{
        for (size_t i = 0; i < s->n; i++) {
                free(s->v[i].name);
                free(s->v[i].text);
        }
        free(s->v);
        memset(s, 0, sizeof(*s));
}

static void srcs_add(struct kube_srcs *s, const char *name, char *text)
{
        s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
        s->v[s->n++] = (struct kube_src){ xstrdup(name), text };
}

static int read_stdin(struct kube_srcs *s, berth_error_t **err)
{
        struct strbuf b = { 0 };
        char buf[65536];
        ssize_t n;

        strbuf_adds(&b, "");
        while ((n = read(0, buf, sizeof(buf))) != 0) {
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(b.data);
                        return berth_error(err, errno, "read stdin");
                }
                strbuf_add(&b, buf, (size_t)n);
        }
        srcs_add(s, "STDIN", b.data);
        return 0;
}

static bool manifest_name(const char *name)
{
        size_t n = strlen(name);

        return (n > 5 && strcmp(name + n - 5, ".yaml") == 0) || (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
               (n > 5 && strcmp(name + n - 5, ".json") == 0);
}

static int cmp_name(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(struct kube_srcs *s, const char *path, bool top, bool recursive, berth_error_t **err);

/* A directory's manifests in name order (the order filepath.Walk gives). */
static int add_dir(struct kube_srcs *s, const char *path, bool recursive, berth_error_t **err)
{
        DIR *d = opendir(path);
        char **names = NULL;
        size_t n = 0;
        struct dirent *de;
        int ret = 0;

        if (d == NULL)
                return berth_error(err, errno, "open %s", path);
        while ((de = readdir(d)) != NULL) {
                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                names = xrealloc(names, (n + 1) * sizeof(char *));
                names[n++] = xstrdup(de->d_name);
        }
        closedir(d);
        qsort(names, n, sizeof(char *), cmp_name);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *p = xasprintf("%s/%s", path, names[i]);
                if (ret == 0)
                        ret = add_path(s, p, false, recursive, err);
                free(names[i]);
        }
        free(names);
        return ret;
}

static int add_path(struct kube_srcs *s, const char *path, bool top, bool recursive, berth_error_t **err)
{
        struct stat st;
        char *text;
        size_t len;

        if (stat(path, &st) < 0) {
                if (errno == ENOENT)
                        return berth_error(err, 0, "the path \"%s\" does not exist", path);
                return berth_error(err, errno, "stat %s", path);
        }
        if (S_ISDIR(st.st_mode))
                return top || recursive ? add_dir(s, path, recursive, err) : 0;
        /* a file named in -f is read whatever its name; one found in a
         * directory only when it is a manifest */
        if (!top && (!S_ISREG(st.st_mode) || !manifest_name(path)))
                return 0;
        if (read_file(path, &text, &len, err) < 0)
                return -1;
        srcs_add(s, path, text);
        return 0;
}

static int collect(char **files, size_t nfiles, bool recursive, struct kube_srcs *s, berth_error_t **err)
{
        for (size_t i = 0; i < nfiles; i++) {
                int ret = strcmp(files[i], "-") == 0 ? read_stdin(s, err) : add_path(s, files[i], true, recursive, err);
                if (ret < 0)
                        return -1;
        }
        return 0;
}

void kube_error_context(berth_error_t **err, const char *context)
{
        const char *m = (*err)->msg, *p = str_has_prefix(m, "Error from server (") ? strstr(m, "): ") : NULL;
        char *n = p ? xasprintf("%.*s): %s: %s", (int)(p - m), m, context, p + 3) : xasprintf("%s: %s", context, m);

        free((*err)->msg);
        (*err)->msg = n;
}

static long long now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int kube_wait_gone(struct cli *c, const char *path, long long timeout_ms, berth_error_t **err)
{
        long long deadline = now_ms() + timeout_ms;

        for (;;) {
                _cleanup_response_ struct cli_response resp = { 0 };
                struct cli_req r = { .method = "GET", .path = path };
                if (cli_request(c, &r, &resp, err) < 0)
                        return -1;
                if (resp.status == 404)
                        return 0;
                if (now_ms() >= deadline)
                        return 1;
                usleep(100 * 1000);
        }
}

/* ---- apply ---- */

static void print_warnings(const json_t *res)
{
        const json_t *w = json_object_get(res, "warnings");

        for (size_t i = 0; i < json_array_size(w); i++)
                if (json_string_value(json_array_get(w, i)))
                        fprintf(stderr, "Warning: %s\n", json_string_value(json_array_get(w, i)));
}

/* One file's objects: prints "deployment.apps/web created" per object;
 * the number of objects, or -1. */
static int apply_one(struct cli *c, const char *path, const struct kube_src *src, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_json_ json_t *res = NULL;
        const json_t *results;

        if (kube_request(c, "POST", path, src->text, "application/yaml", &resp, err) < 0) {
                _cleanup_free_ char *ctx = xasprintf("error when applying \"%s\"", src->name);
                kube_error_context(err, ctx);
                return -1;
        }
        res = json_loadb(resp.body, resp.len, 0, NULL);
        if (res == NULL)
                return berth_error(err, 0, "invalid JSON from the server for %s", path);
        print_warnings(res);
        results = json_object_get(res, "results");
        for (size_t i = 0; i < json_array_size(results); i++) {
                const json_t *r = json_array_get(results, i);
                _cleanup_free_ char *q = kube_kind_qualified(kube_str(r, "kind"), kube_str(r, "apiVersion"));
                printf("%s/%s %s\n", q, kube_str(r, "name") ? kube_str(r, "name") : "",
                       kube_str(r, "action") ? kube_str(r, "action") : "configured");
        }
        fflush(stdout);
        return (int)json_array_size(results);
}

int kube_cmd_apply(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "filename", required_argument, NULL, 'f' },
                { "namespace", required_argument, NULL, 'n' },
                { "recursive", no_argument, NULL, 'R' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char **files = xcalloc((size_t)argc + 1, sizeof(char *));
        _cleanup_free_ char *nsq = NULL, *path = NULL;
        struct kube_srcs srcs = { 0 };
        const char *ns = "default";
        size_t nfiles = 0;
        bool recursive = false;
        int o, status = 0, objects = 0;

        while ((o = kube_getopt(argc, argv, ":f:n:Rh", longopts, "apply")) != -1) {
                switch (o) {
                case 'f': files[nfiles++] = optarg; break;
                case 'n': ns = optarg; break;
                case 'R': recursive = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (optind < argc)
                return kube_usage("apply", "unexpected arguments: %s (manifests are given with -f)", argv[optind]);
        if (nfiles == 0)
                return kube_usage("apply", "must specify -f (--filename)");
        if (collect(files, nfiles, recursive, &srcs, &err) < 0) {
                kube_print_error(err);
                srcs_free(&srcs);
                return 1;
        }
        nsq = cli_escape_query(ns);
        path = xasprintf("/berth/v1/apply?namespace=%s", nsq);
        for (size_t i = 0; i < srcs.n; i++) {
                int n = apply_one(c, path, &srcs.v[i], &err);
                if (n < 0) {
                        kube_print_error(err);
                        berth_error_free(&err);
                        status = 1;
                        continue;
                }
                objects += n;
        }
        srcs_free(&srcs);
        if (status == 0 && objects == 0) {
                fprintf(stderr, "error: no objects passed to apply\n");
                return 1;
        }
        return status;
}

/* ---- delete ---- */

struct delete_opts {
        const char *ns, *selector, *propagation;
        long long grace;        /* -1: not sent */
        bool all, ignore_not_found, wait;
        long long timeout_ms;   /* 0: from the grace period */
        char **waits;           /* paths to wait on */
        size_t nwaits;
};

static char *delete_query(const struct delete_opts *d)
{
        _cleanup_free_ char *grace = d->grace >= 0 ? xasprintf("gracePeriodSeconds=%lld", d->grace) : NULL;

        if (d->propagation && grace)
                return xasprintf("propagationPolicy=%s&%s", d->propagation, grace);
        if (d->propagation)
                return xasprintf("propagationPolicy=%s", d->propagation);
        return grace ? steal_pointer(&grace) : NULL;
}

static void wait_later(struct delete_opts *d, char *path)
{
        d->waits = xrealloc(d->waits, (d->nwaits + 1) * sizeof(char *));
        d->waits[d->nwaits++] = path;
}

/* DELETE one object: prints `deployment.apps "web" deleted`; 0, or 1 after
 * printing the error. */
static int delete_named(struct cli *c, struct delete_opts *d, const struct kube_res *r, const char *ns,
                        const char *name)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *q = delete_query(d), *path = kube_path(r, ns, name, q);
        _cleanup_free_ char *qual = kube_res_qualified(r);

        if (kube_request(c, "DELETE", path, NULL, NULL, &resp, &err) < 0) {
                if (d->ignore_not_found && err->status == ENOENT)
                        return 0;
                kube_print_error(err);
                return 1;
        }
        printf("%s \"%s\" deleted\n", qual, name);
        fflush(stdout);
        wait_later(d, kube_path(r, ns, name, NULL));
        return 0;
}

static int delete_group(struct cli *c, struct delete_opts *d, const struct kube_group *g)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *items = NULL;
        int status = 0;

        for (size_t i = 0; i < g->n; i++)
                status |= delete_named(c, d, g->r, d->ns, g->names[i]);
        if (g->n)
                return status;
        if (kube_list(c, g->r, d->ns, d->selector, &items, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        if (json_array_size(items) == 0 && !d->ignore_not_found)
                fprintf(stderr, "No resources found\n");
        for (size_t i = 0; i < json_array_size(items); i++) {
                const json_t *it = json_array_get(items, i);
                const char *ns = kube_str(it, "metadata.namespace"), *name = kube_str(it, "metadata.name");
                if (name)
                        status |= delete_named(c, d, g->r, ns ? ns : d->ns, name);
        }
        return status;
}

/* A manifest's objects through POST /berth/v1/delete. */
static int delete_file(struct cli *c, struct delete_opts *d, const struct kube_src *src)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_json_ json_t *res = NULL;
        _cleanup_free_ char *nsq = cli_escape_query(d->ns), *q = delete_query(d);
        _cleanup_free_ char *path = xasprintf("/berth/v1/delete?namespace=%s%s%s", nsq, q ? "&" : "", q ? q : "");
        const json_t *results;
        int status = 0;

        if (kube_request(c, "POST", path, src->text, "application/yaml", &resp, &err) < 0) {
                _cleanup_free_ char *ctx = xasprintf("error when deleting \"%s\"", src->name);
                kube_error_context(&err, ctx);
                kube_print_error(err);
                return 1;
        }
        res = json_loadb(resp.body, resp.len, 0, NULL);
        print_warnings(res);
        results = json_object_get(res, "results");
        for (size_t i = 0; i < json_array_size(results); i++) {
                const json_t *r = json_array_get(results, i);
                const char *kind = kube_str(r, "kind"), *name = kube_str(r, "name"), *action = kube_str(r, "action");
                const char *ns = kube_str(r, "namespace");
                const struct kube_res *kr = kube_res_by_kind(kind);
                _cleanup_free_ char *qual = kube_kind_qualified(kind, kube_str(r, "apiVersion"));
                if (name == NULL)
                        continue;
                if (action && strcmp(action, "not found") == 0) {
                        _cleanup_free_ char *plural = kr ? kube_res_plural_qualified(kr) : xstrdup(qual);
                        if (!d->ignore_not_found) {
                                fflush(stdout);
                                fprintf(stderr, "Error from server (NotFound): error when deleting \"%s\": %s \"%s\" not found\n",
                                        src->name, plural, name);
                                status = 1;
                        }
                        continue;
                }
                printf("%s \"%s\" deleted\n", qual, name);
                if (kr)
                        wait_later(d, kube_path(kr, ns ? ns : d->ns, name, NULL));
        }
        fflush(stdout);
        return status;
}

static int wait_all(struct cli *c, struct delete_opts *d)
{
        long long timeout = d->timeout_ms ? d->timeout_ms : ((d->grace > 30 ? d->grace : 30) + 60) * 1000;
        int status = 0;

        for (size_t i = 0; i < d->nwaits; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                int ret = d->wait ? kube_wait_gone(c, d->waits[i], timeout, &err) : 0;
                if (ret < 0) {
                        kube_print_error(err);
                        status = 1;
                } else if (ret > 0) {
                        const char *p = strstr(d->waits[i], "/berth/v1/");
                        fprintf(stderr, "error: timed out waiting for the condition on %s\n", p ? p + 10 : d->waits[i]);
                        status = 1;
                }
                free(d->waits[i]);
        }
        free(d->waits);
        return status;
}

static int cascade_policy(const char *v, const char **out)
{
        if (strcmp(v, "background") == 0 || strcmp(v, "true") == 0)
                *out = "Background";
        else if (strcmp(v, "orphan") == 0 || strcmp(v, "false") == 0)
                *out = "Orphan";
        else if (strcmp(v, "foreground") == 0)
                *out = "Foreground";
        else
                return -1;
        return 0;
}

static int delete_parse(int argc, char **argv, struct delete_opts *d, char **files, size_t *nfiles, bool *recursive)
{
        static const struct option longopts[] = {
                { "filename", required_argument, NULL, 'f' },
                { "namespace", required_argument, NULL, 'n' },
                { "selector", required_argument, NULL, 'l' },
                { "all", no_argument, NULL, 'a' },
                { "cascade", optional_argument, NULL, 'C' },
                { "grace-period", required_argument, NULL, 'g' },
                { "now", no_argument, NULL, 'N' },
                { "force", no_argument, NULL, 'F' },
                { "ignore-not-found", no_argument, NULL, 'I' },
                { "wait", optional_argument, NULL, 'W' },
                { "timeout", required_argument, NULL, 'T' },
                { "recursive", no_argument, NULL, 'R' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        bool force = false, ok;
        int o;

        while ((o = kube_getopt(argc, argv, ":f:n:l:Rh", longopts, "delete")) != -1) {
                switch (o) {
                case 'f': files[(*nfiles)++] = optarg; break;
                case 'n': d->ns = optarg; break;
                case 'l': d->selector = optarg; break;
                case 'a': d->all = true; break;
                case 'R': *recursive = true; break;
                case 'N': d->grace = 1; break;
                case 'F': force = true; break;
                case 'I': d->ignore_not_found = true; break;
                case 'C':
                        if (cascade_policy(optarg ? optarg : "background", &d->propagation) < 0)
                                return kube_usage("delete", "invalid cascade value (%s). Must be \"background\", \"foreground\", or \"orphan\".", optarg);
                        break;
                case 'g':
                        d->grace = strtoll(optarg, NULL, 10);
                        if (parse_ll(optarg[0] == '-' ? optarg + 1 : optarg) < 0)
                                return kube_usage("delete", "invalid argument \"%s\" for \"--grace-period\" flag", optarg);
                        break;
                case 'W':
                        d->wait = cli_bool_arg(optarg, &ok);
                        if (!ok)
                                return kube_usage("delete", "invalid argument \"%s\" for \"--wait\" flag", optarg);
                        break;
                case 'T':
                        d->timeout_ms = kube_parse_duration(optarg);
                        if (d->timeout_ms < 0)
                                return kube_usage("delete", "invalid argument \"%s\" for \"--timeout\" flag", optarg);
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 1;
                }
        }
        if (force) {
                if (d->grace < 0)
                        d->grace = 0;
                fprintf(stderr, "Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n");
        }
        if (d->selector) {
                _cleanup_json_ json_t *reqs = NULL;
                _cleanup_error_ berth_error_t *err = NULL;
                if (kube_selector_parse(d->selector, &reqs, &err) < 0)
                        return kube_usage("delete", "%s", err->msg);
        }
        return -1;
}

int kube_cmd_delete(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char **files = xcalloc((size_t)argc + 1, sizeof(char *));
        struct delete_opts d = { .ns = "default", .grace = -1, .wait = true };
        struct kube_group *groups = NULL;
        struct kube_srcs srcs = { 0 };
        size_t nfiles = 0, ngroups = 0;
        bool recursive = false;
        int status = 0, ret;

        ret = delete_parse(argc, argv, &d, files, &nfiles, &recursive);
        if (ret >= 0)
                return ret;
        if (nfiles && optind < argc)
                return kube_usage("delete", "when -f is given, no resource types or names may be");
        if (nfiles) {
                if (collect(files, nfiles, recursive, &srcs, &err) < 0) {
                        kube_print_error(err);
                        srcs_free(&srcs);
                        return 1;
                }
                for (size_t i = 0; i < srcs.n; i++)
                        status |= delete_file(c, &d, &srcs.v[i]);
                srcs_free(&srcs);
                return wait_all(c, &d) | status;
        }
        if (optind >= argc)
                return kube_usage("delete", "You must provide one or more resources by argument or filename.");
        if (kube_parse_targets(argv + optind, argc - optind, &groups, &ngroups, &err) < 0) {
                kube_print_error(err);
                return 1;
        }
        for (size_t i = 0; i < ngroups; i++) {
                if (groups[i].n == 0 && !d.all && d.selector == NULL) {
                        kube_groups_free(groups, ngroups);
                        return kube_usage("delete", "resource(s) were provided, but no name was specified");
                }
                if (groups[i].n && (d.all || d.selector)) {
                        kube_groups_free(groups, ngroups);
                        return kube_usage("delete", "names cannot be provided when a selector or --all is specified");
                }
        }
        for (size_t i = 0; i < ngroups; i++)
                status |= delete_group(c, &d, &groups[i]);
        kube_groups_free(groups, ngroups);
        return wait_all(c, &d) | status;
}
