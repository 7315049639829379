/* berth logs: GET /containers/{id}/json for Config.Tty (the logs stream
 * is framed only without a TTY, and API 1.41 says so in no header), then
 * the logs stream demultiplexed to stdout and stderr. */
#include "cli/cli.h"
#include <ctype.h>
#include <time.h>

/* docker's --since/--until value: a duration back from now, an RFC 3339
 * time or date, or Unix seconds, sent as "seconds.nanoseconds". */
char *cli_api_timestamp(const char *v, berth_error_t **err)
{
        double ns;
        long nanos;
        long long t;

        if (go_duration_parse(v, &ns)) {
                /* docker sends whole seconds for a relative time */
                struct timespec now;
                clock_gettime(CLOCK_REALTIME, &now);
                long double at = (long double)now.tv_sec * 1e9L + now.tv_nsec - (long double)ns;
                return xasprintf("%lld", (long long)(at / 1e9L));
        }
        t = parse_rfc3339(v, &nanos);
        if (t >= 0)
                return xasprintf("%lld.%09ld", t, nanos);
        {
                struct tm tm = { 0 };
                const char *end = strptime(v, "%Y-%m-%d", &tm);
                if (end && *end == '\0')
                        return xasprintf("%lld.000000000", (long long)timegm(&tm));
        }
        {
                char *end;
                strtod(v, &end);
                if (end != v && *end == '\0')
                        return xstrdup(v);
        }
        berth_error(err, 0, "invalid value for \"since\": failed to parse value as time or duration: \"%s\"", v);
        return NULL;
}

static int stdcopy_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        return stdcopy_feed(opaque, data, len, err);
}

int cmd_logs(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "follow", no_argument, NULL, 'f' },
                { "tail", required_argument, NULL, 'n' },
                { "timestamps", no_argument, NULL, 't' },
                { "since", required_argument, NULL, 'S' },
                { "until", required_argument, NULL, 'U' },
                { "details", no_argument, NULL, 'd' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *ct = NULL;
        _cleanup_free_ char *since = NULL, *until = NULL, *tail_q = NULL, *name = NULL, *path = NULL;
        const char *tail = "all";
        bool follow = false, timestamps = false, details = false;
        struct stdcopy sc;
        int o;

        while ((o = cli_getopt(argc, argv, ":fn:t", longopts, "logs")) != -1) {
                switch (o) {
                case 'f': follow = true; break;
                case 'n': tail = optarg; break;
                case 't': timestamps = true; break;
                case 'd': details = true; break;
                case 'S':
                case 'U': {
                        char *v = cli_api_timestamp(optarg, &err);
                        if (v == NULL) {
                                cli_print_error(err);
                                return 1;
                        }
                        if (o == 'S') {
                                free(since);
                                since = v;
                        } else {
                                free(until);
                                until = v;
                        }
                        break;
                }
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("logs", "requires 1 argument");
        name = cli_escape_path(argv[optind]);
        path = xasprintf("/containers/%s/json", name);
        if (cli_call_json(c, "GET", path, NULL, &ct, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        const char *id = json_string_value(json_object_get(ct, "Id"));
        bool tty = json_is_true(json_object_get(json_object_get(ct, "Config"), "Tty"));
        tail_q = cli_escape_query(tail);
        free(path);
        /* url.Values encodes its keys sorted; so do we */
        path = xasprintf("/containers/%s/logs?%s%s%s%s%sstderr=1&stdout=1&tail=%s%s%s%s",
                         id ? id : name, details ? "details=1&" : "", follow ? "follow=1&" : "",
                         since ? "since=" : "", since ? since : "", since ? "&" : "", tail_q,
                         timestamps ? "&timestamps=1" : "", until ? "&until=" : "", until ? until : "");
        stdcopy_init(&sc, tty);
        if (cli_call_stream(c, "GET", path, NULL, stdcopy_sink, &sc, &err) < 0) {
                cli_print_error(err);
                return 1;
        }
        return 0;
}
