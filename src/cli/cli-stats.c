/* berth stats: docker's columns from GET /containers/{id}/stats?stream=0,
 * once (--no-stream) or redrawn every second. */
#include "cli/cli.h"
#include <time.h>

static double cpu_percent(json_t *s)
{
        json_t *cpu = json_object_get(s, "cpu_stats"), *pre = json_object_get(s, "precpu_stats");
        double d_cpu = (double)json_integer_value(json_object_get(json_object_get(cpu, "cpu_usage"), "total_usage")) -
                       (double)json_integer_value(json_object_get(json_object_get(pre, "cpu_usage"), "total_usage"));
        double d_sys = (double)json_integer_value(json_object_get(cpu, "system_cpu_usage")) -
                       (double)json_integer_value(json_object_get(pre, "system_cpu_usage"));
        double cpus = (double)json_integer_value(json_object_get(cpu, "online_cpus"));

        return d_sys > 0 && d_cpu > 0 ? d_cpu / d_sys * (cpus > 0 ? cpus : 1) * 100.0 : 0.0;
}

/* NET I/O as docker's: received and sent bytes over every interface. */
static char *net_io(json_t *s)
{
        double rx = 0, tx = 0;
        const char *key;
        json_t *n;

        json_object_foreach(json_object_get(s, "networks"), key, n) {
                rx += (double)json_integer_value(json_object_get(n, "rx_bytes"));
                tx += (double)json_integer_value(json_object_get(n, "tx_bytes"));
        }
        _cleanup_free_ char *r = human_size(rx), *t = human_size(tx);
        return xasprintf("%s / %s", r, t);
}

static int add_row(struct cli *c, struct table *t, const char *id, berth_error_t **err)
{
        _cleanup_free_ char *path = xasprintf("/containers/%s/stats?stream=0", id);
        json_t *s = NULL;

        if (cli_call_json(c, "GET", path, NULL, &s, err) < 0)
                return -1;
        json_t *mem = json_object_get(s, "memory_stats");
        double usage = (double)json_integer_value(json_object_get(mem, "usage"));
        double limit = (double)json_integer_value(json_object_get(mem, "limit"));
        const char *name = json_string_value(json_object_get(s, "name"));
        _cleanup_free_ char *u = human_bytes(usage);
        _cleanup_free_ char *l = human_bytes(limit);
        _cleanup_free_ char *cpu = xasprintf("%.2f%%", cpu_percent(s));
        _cleanup_free_ char *memuse = xasprintf("%s / %s", u, l);
        _cleanup_free_ char *memp = xasprintf("%.2f%%", limit > 0 ? usage / limit * 100.0 : 0.0);
        _cleanup_free_ char *pids = xasprintf("%lld", (long long)json_integer_value(
                                                              json_object_get(json_object_get(s, "pids_stats"), "current")));
        const char *full = json_string_value(json_object_get(s, "id"));
        _cleanup_free_ char *sid = short_id(full ? full : id);
        _cleanup_free_ char *netio = net_io(s);
        table_add(t, sid, name && name[0] == '/' ? name + 1 : (name ? name : ""), cpu, memuse, memp, netio,
                  "0B / 0B", pids);
        json_decref(s);
        return 0;
}

static int print_once(struct cli *c, char **names, int n, berth_error_t **err)
{
        struct table t;
        json_t *list = NULL;
        int r = 0;

        table_init(&t, 8);
        table_add(&t, "CONTAINER ID", "NAME", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS");
        if (n == 0) {
                if (cli_call_json(c, "GET", "/containers/json", NULL, &list, err) < 0) {
                        table_free(&t);
                        return -1;
                }
                size_t i;
                json_t *ctr;
                json_array_foreach(list, i, ctr) if (add_row(c, &t, json_string_value(json_object_get(ctr, "Id")), err) < 0) r = -1;
                json_decref(list);
        }
        for (int i = 0; i < n && r == 0; i++)
                r = add_row(c, &t, names[i], err);
        if (r == 0)
                table_print(&t, stdout);
        table_free(&t);
        fflush(stdout);
        return r;
}

int cmd_stats(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "no-stream", no_argument, NULL, 'n' },
                { "all", no_argument, NULL, 'a' },
                CLI_OPT_HELP,
                CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        bool stream = true;
        int o;

        while ((o = cli_getopt(argc, argv, ":a", longopts, "stats")) != -1) {
                switch (o) {
                case 'n': stream = false; break;
                case 'a': break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        for (;;) {
                if (stream && isatty(1))
                        fputs("\033[2J\033[H", stdout);
                if (print_once(c, argv + optind, argc - optind, &err) < 0) {
                        cli_print_error(err);
                        return 1;
                }
                if (!stream)
                        return 0;
                struct timespec ts = { 1, 0 };
                nanosleep(&ts, NULL);
        }
}
