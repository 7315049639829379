/* Images in and out of the daemon: commit, export, save, load, push,
 * history and image prune.  Archives are streamed through, never held in
 * memory: export and save write the response to -o (through a temporary
 * file renamed into place, as docker) or to stdout, load uploads stdin or
 * -i chunked. */
#include "cli/cli.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

static int fd_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        if (write_all(*(int *)opaque, data, len) < 0)
                return berth_error(err, errno, "write");
        return 0;
}

/* docker's ValidateOutputPath: an existing parent, and no device. */
static int check_output(const char *output, berth_error_t **err)
{
        _cleanup_free_ char *dir = xstrdup(output);
        char *slash = strrchr(dir, '/');
        struct stat st;

        if (slash) {
                slash[slash == dir ? 1 : 0] = '\0';
                if (stat(dir, &st) < 0)
                        return berth_error(err, 0, "invalid output path: stat %s: %s", dir, go_strerror(errno));
                if (!S_ISDIR(st.st_mode))
                        return berth_error(err, 0, "invalid output path: stat %s: not a directory", dir);
        }
        if (stat(output, &st) == 0 && S_ISCHR(st.st_mode))
                return berth_error(err, 0, "cannot write to a character device file");
        if (stat(output, &st) == 0 && S_ISBLK(st.st_mode))
                return berth_error(err, 0, "cannot write to a block device file");
        return 0;
}

/* GET path into -o (or stdout, which must not be a terminal). */
static int download(struct cli *c, const char *path, const char *output, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *tmp = NULL;
        _cleanup_close_ int fd = -1;
        struct cli_req r = { .method = "GET", .path = path, .sink = fd_sink };
        int out = 1;

        if (output == NULL && isatty(1))
                return berth_error(err, 0, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
        if (output && check_output(output, err) < 0)
                return -1;
        if (output) {
                _cleanup_free_ char *dir = xstrdup(output);
                char *slash = strrchr(dir, '/');
                if (slash)
                        slash[slash == dir ? 1 : 0] = '\0';
                tmp = xasprintf("%s/.berth_temp_XXXXXX", slash ? dir : ".");
                fd = mkostemp(tmp, O_CLOEXEC);
                if (fd < 0)
                        return berth_error(err, errno, "failed to create a temporary file for %s", output);
                out = fd;
        }
        r.opaque = &out;
        if (cli_request_ok(c, &r, &resp, err) < 0)
                goto fail;
        if (output) {
                if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || rename(tmp, output) < 0) {
                        berth_error(err, errno, "failed to save %s", output);
                        goto fail;
                }
        }
        return 0;
fail:
        if (tmp)
                unlink(tmp);
        return -1;
}

static int output_flag(int argc, char **argv, const char *cmd, const char **output)
{
        static const struct option longopts[] = {
                { "output", required_argument, NULL, 'o' },
                { "platform", required_argument, NULL, 'P' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        int o;

        while ((o = cli_getopt(argc, argv, ":o:", longopts, cmd)) != -1) {
                switch (o) {
                case 'o': *output = optarg; break;
                case 'P': break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        return -1;
}

int cmd_export(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *name = NULL, *path = NULL;
        const char *output = NULL;
        int r = output_flag(argc, argv, "export", &output);

        if (r >= 0)
                return r;
        if (argc - optind != 1)
                return cli_usage_error("export", "requires 1 argument");
        name = cli_escape_path(argv[optind]);
        path = xasprintf("/containers/%s/export", name);
        if (download(c, path, output, &err) < 0) {
                if (!str_has_prefix(err->msg, "Error response") && !str_has_prefix(err->msg, "cowardly"))
                        berth_error_wrap(&err, "failed to export container");
                cli_print_raw(err);
                return 1;
        }
        return 0;
}

int cmd_save(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *query = xstrdup("");
        const char *output = NULL;
        int r = output_flag(argc, argv, "save", &output);

        if (r >= 0)
                return r;
        if (optind >= argc)
                return cli_usage_error("save", "requires at least 1 argument");
        for (int i = optind; i < argc; i++) {
                _cleanup_free_ char *v = cli_escape_query(argv[i]);
                char *q = xasprintf("%s%snames=%s", query, *query ? "&" : "?", v);
                free(query);
                query = q;
        }
        _cleanup_free_ char *path = xasprintf("/images/get%s", query);
        if (download(c, path, output, &err) < 0) {
                if (!str_has_prefix(err->msg, "Error response") && !str_has_prefix(err->msg, "cowardly"))
                        berth_error_wrap(&err, "failed to save image");
                cli_print_raw(err);
                return 1;
        }
        return 0;
}

int cmd_load(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "input", required_argument, NULL, 'i' },
                { "quiet", no_argument, NULL, 'q' },
                { "platform", required_argument, NULL, 'P' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_fclose_ FILE *in = NULL;
        const char *input = NULL;
        bool quiet = false;
        struct jsonmsg_display d;
        struct stat st;
        int o, ret;

        while ((o = cli_getopt(argc, argv, ":i:q", longopts, "load")) != -1) {
                switch (o) {
                case 'i': input = optarg; break;
                case 'q': quiet = true; break;
                case 'P': break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("load", "accepts no arguments");
        if (input == NULL && isatty(0)) {
                fprintf(stderr, "requested load from stdin, but stdin is empty\n");
                return 1;
        }
        in = input ? fopen(input, "rbe") : fdopen(dup(0), "rb");
        if (in == NULL || fstat(fileno(in), &st) < 0) {
                fprintf(stderr, "open %s: %s\n", input ? input : "stdin", go_strerror(errno));
                return 1;
        }
        /* docker asks for the quiet stream when nobody watches the bars */
        if (!isatty(1))
                quiet = true;
        struct cli_req r = {
                .method = "POST", .path = quiet ? "/images/load?quiet=1" : "/images/load?quiet=0",
                .upload = in, .upload_size = -1, .content_type = "application/x-tar",
                .sink = jsonmsg_sink, .opaque = &d,
        };
        jsonmsg_init(&d, stdout, isatty(1));
        ret = cli_request_ok(c, &r, &resp, &err);
        if (ret == 0)
                ret = jsonmsg_finish(&d, &err);
        jsonmsg_fini(&d);
        if (ret < 0) {
                cli_print_raw(err);
                return 1;
        }
        return 0;
}

int cmd_commit(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "author", required_argument, NULL, 'a' },
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                { "pause", optional_argument, NULL, 'p' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *res = NULL;
        _cleanup_free_ char *changes = xstrdup(""), *author = NULL, *comment = NULL, *container = NULL;
        _cleanup_free_ char *repo = xstrdup(""), *tag = xstrdup(""), *path = NULL;
        bool pause = true, ok;
        int o;

        while ((o = cli_getopt(argc, argv, "+:a:c:m:p::", longopts, "commit")) != -1) {
                switch (o) {
                case 'a': free(author); author = cli_escape_query(optarg); break;
                case 'm': free(comment); comment = cli_escape_query(optarg); break;
                case 'c': {
                        _cleanup_free_ char *v = cli_escape_query(optarg);
                        char *n = xasprintf("%schanges=%s&", changes, v);
                        free(changes);
                        changes = n;
                        break;
                }
                case 'p':
                        /* -p=false, as pflag spells a false shorthand */
                        pause = cli_bool_arg(optarg && *optarg == '=' ? optarg + 1 : optarg, &ok);
                        if (!ok) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-p, --pause\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax\n",
                                        optarg, optarg);
                                return 125;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage_error("commit", "requires at least 1 and at most 2 arguments");
        if (argc - optind == 2) {
                struct cli_ref ref;
                if (cli_ref_parse(argv[optind + 1], &ref, &err) < 0) {
                        cli_print_raw(err);
                        return 1;
                }
                if (ref.digest) {
                        cli_ref_free(&ref);
                        fprintf(stderr, "refusing to create a tag with a digest reference\n");
                        return 1;
                }
                free(repo);
                free(tag);
                repo = cli_escape_query(ref.name);
                tag = cli_escape_query(ref.tag ? ref.tag : "latest");
                cli_ref_free(&ref);
        }
        container = cli_escape_query(argv[optind]);
        /* Go's url.Values: keys sorted, every one present but pause */
        path = xasprintf("/commit?author=%s&%scomment=%s&container=%s%s&repo=%s&tag=%s", author ? author : "",
                         changes, comment ? comment : "", container, pause ? "" : "&pause=0", repo, tag);
        if (cli_call_json(c, "POST", path, NULL, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        printf("%s\n", json_string_value(json_object_get(res, "Id")) ?: "");
        return 0;
}

int cmd_push(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "quiet", no_argument, NULL, 'q' },
                { "all-tags", no_argument, NULL, 'a' },
                { "platform", required_argument, NULL, 'P' },
                { "disable-content-trust", optional_argument, NULL, 'C' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *familiar = NULL, *name = NULL, *tag = NULL, *path = NULL, *auth = NULL, *full = NULL;
        struct jsonmsg_display d;
        struct cli_ref ref;
        bool quiet = false, all = false;
        int o, ret;

        while ((o = cli_getopt(argc, argv, ":qa", longopts, "push")) != -1) {
                switch (o) {
                case 'q': quiet = true; break;
                case 'a': all = true; break;
                case 'P': case 'C': break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("push", "requires 1 argument");
        if (cli_ref_parse(argv[optind], &ref, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        if (ref.digest) {
                cli_ref_free(&ref);
                fprintf(stderr, "cannot push a digest reference\n");
                return 1;
        }
        if (ref.tag == NULL && !all) {
                if (!quiet)
                        printf("Using default tag: latest\n");
                ref.tag = xstrdup("latest");
        }
        familiar = cli_ref_familiar_name(ref.name);
        name = cli_escape_path(familiar);
        tag = ref.tag ? cli_escape_query(ref.tag) : NULL;
        full = ref.tag ? xasprintf("%s:%s", ref.name, ref.tag) : xstrdup(ref.name);
        path = xasprintf("/images/%s/push%s%s", name, tag ? "?tag=" : "", tag ? tag : "");
        auth = cli_registry_auth_header(ref.name);
        cli_ref_free(&ref);
        const char *headers[] = { auth, NULL };
        struct cli_req r = { .method = "POST", .path = path, .headers = headers, .sink = jsonmsg_sink, .opaque = &d };
        _cleanup_response_ struct cli_response resp = { 0 };
        fflush(stdout);
        jsonmsg_init(&d, quiet ? NULL : stdout, isatty(1));
        ret = cli_request_ok(c, &r, &resp, &err);
        if (ret == 0)
                ret = jsonmsg_finish(&d, &err);
        jsonmsg_fini(&d);
        if (ret < 0) {
                cli_print_raw(err);
                return 1;
        }
        if (quiet)
                printf("%s\n", full);
        return 0;
}

static const char *str(json_t *o, const char *key)
{
        const char *s = json_string_value(json_object_get(o, key));
        return s ? s : "";
}

static json_t *history_row(json_t *h, bool human, bool trunc)
{
        long long created = json_integer_value(json_object_get(h, "Created"));
        long long size = json_integer_value(json_object_get(h, "Size"));
        const char *id = str(h, "Id");
        _cleanup_free_ char *sid = trunc && strcmp(id, "<missing>") != 0 ? short_id(id) : xstrdup(id);
        _cleanup_free_ char *by = xstrdup(str(h, "CreatedBy")), *by_t = NULL, *since = NULL, *sz = NULL;
        char at[64] = "";
        time_t tt = (time_t)created;
        struct tm tm;

        for (char *p = by; *p; p++)
                if (*p == '\t')
                        *p = ' ';
        by_t = trunc ? ellipsis(by, 45) : xstrdup(by);
        /* RFC 3339 in local time, as Go's time.Format */
        if (localtime_r(&tt, &tm)) {
                char off[8];
                strftime(at, sizeof(at), "%Y-%m-%dT%H:%M:%S", &tm);
                strftime(off, sizeof(off), "%z", &tm);
                if (strcmp(off, "+0000") == 0)
                        strcat(at, "Z");
                else
                        snprintf(at + strlen(at), sizeof(at) - strlen(at), "%.3s:%.2s", off, off + 3);
        }
        if (human) {
                _cleanup_free_ char *d = human_duration((long long)time(NULL) - created);
                since = xasprintf("%s ago", d);
                sz = human_size((double)size);
        } else {
                since = xstrdup(at);
                sz = xasprintf("%lld", size);
        }
        return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", str(h, "Comment"), "CreatedAt", at, "CreatedBy",
                         by_t, "CreatedSince", since, "ID", sid, "Size", sz);
}

int cmd_history(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "human", optional_argument, NULL, 'H' },
                { "no-trunc", no_argument, NULL, 'T' },
                { "quiet", no_argument, NULL, 'q' },
                { "format", required_argument, NULL, 'F' },
                { "platform", required_argument, NULL, 'P' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *list = NULL, *rows = json_array();
        _cleanup_free_ char *name = NULL, *path = NULL;
        bool human = true, trunc = true, quiet = false, ok;
        const char *format = NULL;
        size_t i;
        json_t *h;
        int o;

        /* -H=false is pflag's spelling of a false shorthand boolean */
        while ((o = cli_getopt(argc, argv, ":H::q", longopts, "history")) != -1) {
                switch (o) {
                case 'H':
                        human = cli_bool_arg(optarg && *optarg == '=' ? optarg + 1 : optarg, &ok);
                        if (!ok) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-H, --human\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax\n",
                                        optarg, optarg);
                                return 125;
                        }
                        break;
                case 'T': trunc = false; break;
                case 'q': quiet = true; break;
                case 'F': format = optarg; break;
                case 'P': break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("history", "requires 1 argument");
        name = cli_escape_path(argv[optind]);
        path = xasprintf("/images/%s/history", name);
        if (cli_call_json(c, "GET", path, NULL, &list, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        json_array_foreach(list, i, h)
                json_array_append_new(rows, history_row(h, human, trunc));
        if (quiet) {
                json_array_foreach(rows, i, h)
                        printf("%s\n", str(h, "ID"));
                return 0;
        }
        if (format && strcmp(format, "table") != 0) {
                _cleanup_json_ json_t *header = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "Comment", "COMMENT",
                                                          "CreatedAt", "CREATED AT", "CreatedBy", "CREATED BY",
                                                          "CreatedSince", "CREATED", "ID", "IMAGE", "Size", "SIZE");
                if (format_print(format, header, rows, &err) < 0) {
                        cli_print_raw(err);
                        return 1;
                }
                return 0;
        }
        struct table t;
        table_init(&t, 5);
        /* without -H docker's table shows CreatedAt under its own title */
        table_add(&t, "IMAGE", human ? "CREATED" : "CREATED AT", "CREATED BY", "SIZE", "COMMENT");
        json_array_foreach(rows, i, h)
                table_add(&t, str(h, "ID"), str(h, "CreatedSince"), str(h, "CreatedBy"), str(h, "Size"),
                          str(h, "Comment"));
        table_print(&t, stdout);
        table_free(&t);
        return 0;
}

int cmd_image_prune(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object(), *res = NULL;
        bool all = false, force = false;
        int r = cli_prune_args(argc, argv, "image-prune", &all, &force, filters);

        if (r >= 0)
                return r;
        if (!force && !cli_confirm(all ? "WARNING! This will remove all images without at least one container associated to them.\nAre you sure you want to continue?"
                                       : "WARNING! This will remove all dangling images.\nAre you sure you want to continue?"))
                return 0;
        cli_filter_add(filters, all ? "dangling=false" : "dangling=true");
        if (cli_prune(c, "images", filters, &res, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        cli_print_reclaimed(cli_image_prune_report(res));
        return 0;
}

long long cli_image_prune_report(json_t *res)
{
        json_t *list = json_object_get(res, "ImagesDeleted"), *e;
        size_t i;

        if (json_array_size(list) > 0) {
                printf("Deleted Images:\n");
                json_array_foreach(list, i, e) {
                        if (*str(e, "Untagged"))
                                printf("untagged: %s\n", str(e, "Untagged"));
                        else
                                printf("deleted: %s\n", str(e, "Deleted"));
                }
                printf("\n");
        }
        return (long long)json_integer_value(json_object_get(res, "SpaceReclaimed"));
}
