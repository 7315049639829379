/* Small pieces the newer commands share: raw error printing, the prune
 * confirmation prompt, filters for the query string, and docker's
 * errors.Join for commands that act on several objects. */
#include "cli/cli.h"

void cli_print_raw(berth_error_t *err)
{
        if (err == NULL)
                return;
        /* what was printed before the failure comes first */
        fflush(stdout);
        fprintf(stderr, "%s\n", err->msg);
}

bool cli_confirm(const char *warning)
{
        char line[256];

        printf("%s [y/N] ", warning);
        fflush(stdout);
        /* EOF or anything but y is a no, as docker decides */
        if (fgets(line, sizeof(line), stdin) == NULL)
                return false;
        line[strcspn(line, "\r\n")] = '\0';
        return strcmp(line, "y") == 0 || strcmp(line, "Y") == 0;
}

bool cli_filter_add(json_t *filters, const char *arg)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = NULL;
        json_t *m;

        if (eq == NULL)
                return false;
        key = xasprintf("%.*s", (int)(eq - arg), arg);
        m = json_object_get(filters, key);
        if (m == NULL) {
                m = json_object();
                json_object_set_new(filters, key, m);
        }
        json_object_set_new(m, eq + 1, json_true());
        return true;
}

char *cli_filters_query(json_t *filters, bool first)
{
        _cleanup_free_ char *fs = NULL, *fq = NULL;

        if (json_object_size(filters) == 0)
                return xstrdup("");
        /* Go marshals maps with sorted keys */
        fs = json_dumps(filters, JSON_COMPACT | JSON_SORT_KEYS);
        fq = cli_escape_query(fs);
        return xasprintf("%sfilters=%s", first ? "?" : "&", fq);
}

void cli_errors_add(struct cli_errors *e, berth_error_t *err)
{
        char *m;

        if (err == NULL)
                return;
        m = e->msg ? xasprintf("%s\n%s", e->msg, err->msg) : xstrdup(err->msg);
        free(e->msg);
        e->msg = m;
}

int cli_errors_finish(struct cli_errors *e)
{
        if (e->msg == NULL)
                return 0;
        fflush(stdout);
        fprintf(stderr, "%s\n", e->msg);
        free(e->msg);
        e->msg = NULL;
        return 1;
}

const char *go_strerror(int errnum)
{
        static char buf[128];
        const char *s = strerror(errnum);

        /* Go's syscall messages are libc's, starting in lowercase */
        snprintf(buf, sizeof(buf), "%s", s);
        if (buf[0] >= 'A' && buf[0] <= 'Z' && !(buf[1] >= 'A' && buf[1] <= 'Z'))
                buf[0] = (char)(buf[0] - 'A' + 'a');
        return buf;
}

int cli_prune_args(int argc, char **argv, const char *name, bool *all, bool *force, json_t *filters)
{
        static const struct option longopts[] = {
                { "all", no_argument, NULL, 'a' },
                { "force", no_argument, NULL, 'f' },
                { "filter", required_argument, NULL, 'F' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        int o;

        while ((o = cli_getopt(argc, argv, ":af", longopts, name)) != -1) {
                switch (o) {
                case 'a': *all = true; break;
                case 'f': *force = true; break;
                case 'F':
                        if (!cli_filter_add(filters, optarg)) {
                                fprintf(stderr, "bad format of filter (expected name=value)\n");
                                return 125;
                        }
                        break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error(name, "accepts no arguments");
        return -1;
}

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

json_t *json_sorted_copy(json_t *o)
{
        size_t n = json_object_size(o), i = 0;
        _cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(char *));
        json_t *out = json_object(), *v;
        const char *k;

        json_object_foreach(o, k, v)
                keys[i++] = k;
        qsort(keys, n, sizeof(char *), cmp_key);
        for (i = 0; i < n; i++)
                json_object_set(out, keys[i], json_object_get(o, keys[i]));
        return out;
}
