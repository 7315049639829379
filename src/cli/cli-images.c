/* Image commands: images, pull, rmi, tag. */
#include "cli/cli.h"
#include <time.h>

static void add_filter(json_t *filters, const char *key, const char *value)
{
        json_t *m = json_object_get(filters, key);

        if (m == NULL) {
                m = json_object();
                json_object_set_new(filters, key, m);
        }
        json_object_set_new(m, value, json_true());
}

/* "key=value" from -f into the API's filters map. */
static int parse_filter(json_t *filters, const char *arg, berth_error_t **err)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = NULL;

        if (eq == NULL || eq == arg)
                return berth_error(err, 0, "bad format of filter (expected name=value)");
        key = xasprintf("%.*s", (int)(eq - arg), arg);
        add_filter(filters, key, eq + 1);
        return 0;
}

/* The digest that RepoDigests holds for repo, or NULL. */
static const char *digest_for(json_t *img, const char *repo)
{
        size_t i;
        json_t *d;

        json_array_foreach(json_object_get(img, "RepoDigests"), i, d) {
                const char *s = json_string_value(d), *at = s ? strrchr(s, '@') : NULL;
                if (at && strlen(repo) == (size_t)(at - s) && strncmp(s, repo, (size_t)(at - s)) == 0)
                        return at + 1;
        }
        return NULL;
}

static json_t *image_row(json_t *img, const char *repo, const char *tag, const char *digest, bool trunc)
{
        const char *id = json_string_value(json_object_get(img, "Id"));
        long long created = json_integer_value(json_object_get(img, "Created"));
        double size = (double)json_integer_value(json_object_get(img, "Size"));
        _cleanup_free_ char *sid = trunc ? short_id(id ? id : "") : xstrdup(id ? id : "");
        _cleanup_free_ char *dur = human_duration((long long)time(NULL) - created);
        _cleanup_free_ char *since = xasprintf("%s ago", dur);
        _cleanup_free_ char *at = go_time_string(created);
        _cleanup_free_ char *sz = human_size(size);

        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "N/A",
                         "CreatedAt", at, "CreatedSince", since, "Digest", digest ? digest : "<none>", "ID", sid,
                         "Repository", repo, "SharedSize", "N/A", "Size", sz, "Tag", tag, "UniqueSize", "N/A",
                         "VirtualSize", sz);
}

/* Docker lists an image's tags in the order of their full names
 * (127.0.0.1:5000/x before docker.io/library/x). */
static int cmp_normalized(const void *a, const void *b)
{
        const char *sa = *(const char *const *)a, *sb = *(const char *const *)b;
        _cleanup_error_ berth_error_t *err = NULL;
        struct cli_ref ra, rb;
        int r;

        if (cli_ref_parse(sa, &ra, &err) < 0)
                return strcmp(sa, sb);
        if (cli_ref_parse(sb, &rb, &err) < 0) {
                cli_ref_free(&ra);
                return strcmp(sa, sb);
        }
        _cleanup_free_ char *fa = xasprintf("%s:%s", ra.name, ra.tag ? ra.tag : "");
        _cleanup_free_ char *fb = xasprintf("%s:%s", rb.name, rb.tag ? rb.tag : "");
        r = strcmp(fa, fb);
        cli_ref_free(&ra);
        cli_ref_free(&rb);
        return r;
}

int cmd_images(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "all", no_argument, NULL, 'a' },
                { "quiet", no_argument, NULL, 'q' },
                { "no-trunc", no_argument, NULL, 'T' },
                { "digests", no_argument, NULL, 'D' },
                { "format", required_argument, NULL, 'F' },
                { "filter", required_argument, NULL, 'f' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *list = NULL, *rows = json_array();
        bool all = false, quiet = false, trunc = true, digests = false;
        const char *format = NULL;
        _cleanup_free_ char *path = NULL, *fq = NULL;
        size_t i;
        json_t *img;
        int o;

        while ((o = cli_getopt(argc, argv, ":aqf:", longopts, "images")) != -1) {
                switch (o) {
                case 'a': all = true; break;
                case 'q': quiet = true; break;
                case 'T': trunc = false; break;
                case 'D': digests = true; break;
                case 'F': format = optarg; break;
                case 'f':
                        if (parse_filter(filters, optarg, &err) < 0) {
                                cli_print_error(err);
                                return 1;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind > 1)
                return cli_usage_error("images", "requires at most 1 argument");
        if (optind < argc)
                add_filter(filters, "reference", argv[optind]);
        if (json_object_size(filters) > 0) {
                _cleanup_free_ char *fs = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
                fq = cli_escape_query(fs);
        }
        path = xasprintf("/images/json%s%s%s%s", all || fq ? "?" : "", all ? "all=1" : "",
                         all && fq ? "&" : "", fq ? "filters=" : "");
        if (fq) {
                char *p = xasprintf("%s%s", path, fq);
                free(path);
                path = p;
        }
        if (cli_call_json(c, "GET", path, NULL, &list, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        json_array_foreach(list, i, img) {
                json_t *tags = json_object_get(img, "RepoTags"), *t;
                size_t n = 0, k;
                _cleanup_free_ const char **names = xcalloc(json_array_size(tags) + 1, sizeof(char *));
                json_array_foreach(tags, k, t) {
                        const char *s = json_string_value(t);
                        if (s && strcmp(s, "<none>:<none>") != 0)
                                names[n++] = s;
                }
                qsort(names, n, sizeof(char *), cmp_normalized);
                for (k = 0; k < n; k++) {
                        const char *colon = strrchr(names[k], ':');
                        const char *slash = strrchr(names[k], '/');
                        _cleanup_free_ char *repo = NULL;
                        const char *tag = "<none>";
                        if (colon && (slash == NULL || colon > slash)) {
                                repo = xasprintf("%.*s", (int)(colon - names[k]), names[k]);
                                tag = colon + 1;
                        } else {
                                repo = xstrdup(names[k]);
                        }
                        json_array_append_new(rows, image_row(img, repo, tag, digest_for(img, repo), trunc));
                }
                if (n == 0) {
                        json_t *ds = json_object_get(img, "RepoDigests"), *d;
                        size_t m = 0;
                        json_array_foreach(ds, k, d) {
                                const char *s = json_string_value(d), *at = s ? strrchr(s, '@') : NULL;
                                if (at == NULL || str_has_prefix(s, "<none>"))
                                        continue;
                                _cleanup_free_ char *repo = xasprintf("%.*s", (int)(at - s), s);
                                json_array_append_new(rows, image_row(img, repo, "<none>", at + 1, trunc));
                                m++;
                        }
                        if (m == 0)
                                json_array_append_new(rows, image_row(img, "<none>", "<none>", NULL, trunc));
                }
        }
        json_array_foreach(rows, i, img) {
                if (quiet)
                        printf("%s\n", json_string_value(json_object_get(img, "ID")));
        }
        if (quiet)
                return 0;
        if (format && strcmp(format, "table") != 0) {
                _cleanup_json_ json_t *header = json_pack(
                        "{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "Containers", "CONTAINERS",
                        "CreatedAt", "CREATED AT", "CreatedSince", "CREATED", "Digest", "DIGEST", "ID", "IMAGE ID",
                        "Repository", "REPOSITORY", "SharedSize", "SHARED SIZE", "Size", "SIZE", "Tag", "TAG",
                        "UniqueSize", "UNIQUE SIZE", "VirtualSize", "VIRTUAL SIZE");
                if (format_print(format, header, rows, &err) < 0) {
                        cli_print_error(err);
                        return 1;
                }
                return 0;
        }
        struct table t;
        table_init(&t, digests ? 6 : 5);
        if (digests)
                table_add(&t, "REPOSITORY", "TAG", "DIGEST", "IMAGE ID", "CREATED", "SIZE");
        else
                table_add(&t, "REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE");
        json_array_foreach(rows, i, img) {
#define F(k) json_string_value(json_object_get(img, k))
                if (digests)
                        table_add(&t, F("Repository"), F("Tag"), F("Digest"), F("ID"), F("CreatedSince"), F("Size"));
                else
                        table_add(&t, F("Repository"), F("Tag"), F("ID"), F("CreatedSince"), F("Size"));
#undef F
        }
        table_print(&t, stdout);
        table_free(&t);
        return 0;
}

int cli_pull_image(struct cli *c, const char *image, const char *platform, FILE *out,
                   berth_error_t **err)
{
        _cleanup_free_ char *auth = NULL;
        struct cli_ref ref;
        struct jsonmsg_display d;
        _cleanup_free_ char *from = NULL, *tag = NULL, *plat = NULL, *path = NULL;
        int ret;

        if (cli_ref_parse(image, &ref, err) < 0)
                return -1;
        from = cli_escape_query(ref.name);
        tag = cli_escape_query(ref.digest ? ref.digest : ref.tag ? ref.tag : "latest");
        plat = platform && *platform ? cli_escape_query(platform) : NULL;
        path = xasprintf("/images/create?fromImage=%s%s%s&tag=%s", from, plat ? "&platform=" : "",
                         plat ? plat : "", tag);
        /* the stored credentials of the image's registry, as docker sends */
        auth = cli_registry_auth_header(ref.name);
        const char *const headers[] = { auth, NULL };
        cli_ref_free(&ref);
        jsonmsg_init(&d, out, out ? isatty(fileno(out)) : false);
        ret = cli_call_stream(c, "POST", path, headers, jsonmsg_sink, &d, err);
        if (ret == 0)
                ret = jsonmsg_finish(&d, err);
        jsonmsg_fini(&d);
        return ret;
}

int cmd_pull(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "platform", required_argument, NULL, 'P' },
                { "all-tags", no_argument, NULL, 'a' },
                { "disable-content-trust", optional_argument, NULL, 'C' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        const char *platform = NULL;
        bool quiet = false;
        struct cli_ref ref;
        _cleanup_free_ char *full = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":qa", longopts, "pull")) != -1) {
                switch (o) {
                case 'q': quiet = true; break;
                case 'P': platform = optarg; break;
                case 'C': break;
                case 'a':
                        fprintf(stderr, "Error: --all-tags is not supported yet\n");
                        return 1;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("pull", "requires 1 argument");
        if (cli_ref_parse(argv[optind], &ref, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        if (ref.tag == NULL && ref.digest == NULL) {
                if (!quiet)
                        printf("Using default tag: latest\n");
                ref.tag = xstrdup("latest");
        }
        if (ref.digest)
                full = xasprintf("%s%s%s@%s", ref.name, ref.tag ? ":" : "", ref.tag ? ref.tag : "", ref.digest);
        else
                full = xasprintf("%s:%s", ref.name, ref.tag);
        cli_ref_free(&ref);
        fflush(stdout);
        if (cli_pull_image(c, full, platform, quiet ? NULL : stdout, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        printf("%s\n", full);
        return 0;
}

int cmd_rmi(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "force", no_argument, NULL, 'f' },
                { "no-prune", no_argument, NULL, 'N' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        bool force = false, noprune = false;
        int o, ret = 0;

        while ((o = cli_getopt(argc, argv, ":f", longopts, "rmi")) != -1) {
                switch (o) {
                case 'f': force = true; break;
                case 'N': noprune = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("rmi", "requires at least 1 argument");
        for (int i = optind; i < argc; i++) {
                _cleanup_error_ berth_error_t *err = NULL;
                _cleanup_json_ json_t *res = NULL;
                _cleanup_free_ char *name = cli_escape_path(argv[i]);
                _cleanup_free_ char *path = xasprintf("/images/%s%s%s%s", name, force || noprune ? "?" : "",
                                                      force ? "force=1" : "",
                                                      noprune ? (force ? "&noprune=1" : "noprune=1") : "");
                size_t k;
                json_t *e;

                if (cli_call_json(c, "DELETE", path, NULL, &res, &err) < 0) {
                        fflush(stdout);
                        cli_print_error(err);
                        ret = 1;
                        continue;
                }
                json_array_foreach(res, k, e) {
                        const char *u = json_string_value(json_object_get(e, "Untagged"));
                        const char *d = json_string_value(json_object_get(e, "Deleted"));
                        if (u)
                                printf("Untagged: %s\n", u);
                        if (d)
                                printf("Deleted: %s\n", d);
                }
        }
        return ret;
}

int cmd_tag(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = { CLI_OPT_HELP, CLI_OPT_END };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *src = NULL, *repo = NULL, *tag = NULL, *path = NULL;
        struct cli_ref ref;
        int o;

        while ((o = cli_getopt(argc, argv, ":", longopts, "tag")) != -1) {
                switch (o) {
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 2)
                return cli_usage_error("tag", "requires 2 arguments");
        if (cli_ref_parse(argv[optind + 1], &ref, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        if (ref.digest) {
                cli_ref_free(&ref);
                fprintf(stderr, "Error response from daemon: refusing to create a tag with a digest reference\n");
                return 1;
        }
        src = cli_escape_path(argv[optind]);
        repo = cli_escape_query(ref.name);
        tag = cli_escape_query(ref.tag ? ref.tag : "latest");
        cli_ref_free(&ref);
        path = xasprintf("/images/%s/tag?repo=%s&tag=%s", src, repo, tag);
        if (cli_call_ok(c, "POST", path, NULL, &resp, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        return 0;
}
