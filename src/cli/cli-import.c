/* berth import: a rootfs tarball to a one-layer image (POST
 * /images/create?fromSrc=-), with docker import's -c and -m. */
#include "cli/cli.h"
#include <sys/stat.h>

int cmd_import(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "change", required_argument, NULL, 'c' },
                { "message", required_argument, NULL, 'm' },
                CLI_OPT_HELP,
                CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ char *query = xstrdup("");
        _cleanup_fclose_ FILE *f = NULL;
        struct stat st;
        int o;

        while ((o = cli_getopt(argc, argv, ":c:m:", longopts, "import")) != -1) {
                switch (o) {
                case 'c': {
                        _cleanup_free_ char *v = cli_escape_query(optarg);
                        char *q = xasprintf("%s&changes=%s", query, v);
                        free(query);
                        query = q;
                        break;
                }
                case 'm': {
                        _cleanup_free_ char *v = cli_escape_query(optarg);
                        char *q = xasprintf("%s&message=%s", query, v);
                        free(query);
                        query = q;
                        break;
                }
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind < 1 || argc - optind > 2)
                return cli_usage_error("import", "requires at least 1 and at most 2 arguments");
        if (argc - optind == 2) {
                struct cli_ref ref;
                if (cli_ref_parse(argv[optind + 1], &ref, &err) < 0) {
                        cli_print_error(err);
                        return 1;
                }
                _cleanup_free_ char *repo = cli_escape_query(ref.name);
                _cleanup_free_ char *tag = cli_escape_query(ref.tag ? ref.tag : "latest");
                char *q = xasprintf("%s&repo=%s&tag=%s", query, repo, tag);
                cli_ref_free(&ref);
                free(query);
                query = q;
        }
        f = strcmp(argv[optind], "-") == 0 ? fdopen(dup(0), "rb") : fopen(argv[optind], "rbe");
        if (f == NULL || fstat(fileno(f), &st) < 0) {
                fprintf(stderr, "open %s: %s\n", argv[optind], strerror(errno));
                return 1;
        }
        path = xasprintf("/images/create?fromSrc=-%s", query);
        if (cli_call_upload(c, path, "application/x-tar", f, S_ISREG(st.st_mode) ? (long long)st.st_size : -1, &resp,
                            &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        /* {"status":"sha256:..."} lines; the last is the image id */
        json_t *j = json_loadb(resp.body, resp.len, JSON_DISABLE_EOF_CHECK, NULL);
        const char *id = json_string_value(json_object_get(j, "status"));
        const char *error = json_string_value(json_object_get(j, "error"));
        if (error) {
                fprintf(stderr, "%s\n", error);
                json_decref(j);
                return 1;
        }
        printf("%s\n", id ? id : "");
        json_decref(j);
        return 0;
}
