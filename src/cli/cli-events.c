/* berth events: GET /events held open, one JSON object per line, printed
 * as docker prints them: "TIME TYPE ACTION ID (k=v, ...)" with the time
 * in RFC 3339 with nine fixed fraction digits, or through --format.  The
 * stream ends at --until, or when the user stops it. */
#include "cli/cli.h"
#include <time.h>

struct events_out {
        const char *format;
        char *buf;
        size_t len;
};

/* Go's RFC3339NanoFixed in local time: 2006-01-02T15:04:05.000000000Z07:00 */
static void print_time(long long sec, long nsec)
{
        time_t tt = (time_t)sec;
        struct tm tm;
        char day[32], off[8];

        if (localtime_r(&tt, &tm) == NULL)
                return;
        strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
        strftime(off, sizeof(off), "%z", &tm);
        if (strcmp(off, "+0000") == 0)
                printf("%s.%09ldZ ", day, nsec);
        else
                printf("%s.%09ld%.3s:%.2s ", day, nsec, off, off + 3);
}

static int cmp_key(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void print_pretty(json_t *ev)
{
        long long nano = json_integer_value(json_object_get(ev, "timeNano"));
        long long sec = json_integer_value(json_object_get(ev, "time"));
        json_t *actor = json_object_get(ev, "Actor"), *attrs = json_object_get(actor, "Attributes"), *v;
        size_t n = json_object_size(attrs), k = 0;
        _cleanup_free_ const char **keys = xcalloc(n + 1, sizeof(char *));
        const char *key;

        if (nano)
                print_time(nano / 1000000000LL, (long)(nano % 1000000000LL));
        else if (sec)
                print_time(sec, 0);
        printf("%s %s %s", json_string_value(json_object_get(ev, "Type")) ?: "",
               json_string_value(json_object_get(ev, "Action")) ?: "",
               json_string_value(json_object_get(actor, "ID")) ?: "");
        json_object_foreach(attrs, key, v)
                keys[k++] = key;
        qsort(keys, k, sizeof(char *), cmp_key);
        for (size_t i = 0; i < k; i++)
                printf("%s%s=%s", i ? ", " : " (", keys[i], json_string_value(json_object_get(attrs, keys[i])) ?: "");
        printf("%s\n", k ? ")" : "");
}

/* Templates see Go's field names (.Status, .ID, .From, .Scope, .Time,
 * .TimeNano), not the JSON ones. */
static json_t *go_view(json_t *ev)
{
        static const char *const names[][2] = {
                { "status", "Status" }, { "id", "ID" }, { "from", "From" },
                { "scope", "Scope" },   { "time", "Time" }, { "timeNano", "TimeNano" },
        };
        json_t *v = json_deep_copy(ev);

        for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
                json_t *val = json_object_get(ev, names[i][0]);
                json_object_set_new(v, names[i][1], val ? json_incref(val) : json_string(""));
        }
        return v;
}

static int print_event(struct events_out *o, const char *line, size_t n, berth_error_t **err)
{
        _cleanup_json_ json_t *ev = json_loadb(line, n, 0, NULL);

        if (!json_is_object(ev))
                return 0;
        if (o->format == NULL || *o->format == '\0') {
                print_pretty(ev);
        } else if (strcmp(o->format, "json") == 0 || strcmp(o->format, "{{json .}}") == 0) {
                _cleanup_free_ char *s = json_dumps(ev, JSON_COMPACT);
                printf("%s\n", s);
        } else {
                _cleanup_json_ json_t *v = go_view(ev);
                _cleanup_free_ char *s = NULL;
                if (template_render(o->format, v, &s, err) < 0)
                        return -1;
                printf("%s\n", s);
        }
        /* a pipe reader wants each event as it happens */
        fflush(stdout);
        return 0;
}

static int events_sink(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        struct events_out *o = opaque;
        char *nl;

        o->buf = xrealloc(o->buf, o->len + len + 1);
        memcpy(o->buf + o->len, data, len);
        o->len += len;
        while ((nl = memchr(o->buf, '\n', o->len)) != NULL) {
                if (print_event(o, o->buf, (size_t)(nl - o->buf), err) < 0)
                        return -1;
                o->len -= (size_t)(nl + 1 - o->buf);
                memmove(o->buf, nl + 1, o->len);
        }
        return 0;
}

static char *add_param(char *query, const char *key, const char *value)
{
        char *q = xasprintf("%s%s%s=%s", query, *query ? "&" : "?", key, value);
        free(query);
        return q;
}

int cmd_events(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "since", required_argument, NULL, 'S' },
                { "until", required_argument, NULL, 'U' },
                { "filter", required_argument, NULL, 'f' },
                { "format", required_argument, NULL, 'F' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *filters = json_object();
        _cleanup_free_ char *since = NULL, *until = NULL, *query = xstrdup("");
        struct events_out out = { 0 };
        int o, ret;

        while ((o = cli_getopt(argc, argv, ":f:", longopts, "events")) != -1) {
                switch (o) {
                case 'S': case 'U': {
                        char *v = cli_api_timestamp(optarg, &err);
                        if (v == NULL) {
                                fprintf(stderr, "failed to parse value as time or duration: \"%s\"\n", optarg);
                                return 1;
                        }
                        free(o == 'S' ? since : until);
                        *(o == 'S' ? &since : &until) = v;
                        break;
                }
                case 'f':
                        if (!cli_filter_add(filters, optarg)) {
                                fprintf(stderr, "invalid argument \"%s\" for \"-f, --filter\" flag: bad format of filter (expected name=value)\n",
                                        optarg);
                                return 125;
                        }
                        break;
                case 'F': out.format = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind < argc)
                return cli_usage_error("events", "accepts no arguments");
        if (json_object_size(filters) > 0) {
                _cleanup_free_ char *fq = cli_filters_query(filters, true);
                free(query);
                query = xstrdup(fq);
        }
        if (since)
                query = add_param(query, "since", since);
        if (until)
                query = add_param(query, "until", until);
        _cleanup_free_ char *path = xasprintf("/events%s", query);
        ret = cli_call_stream(c, "GET", path, NULL, events_sink, &out, &err);
        if (ret == 0 && out.len > 0)
                ret = print_event(&out, out.buf, out.len, &err);
        free(out.buf);
        if (ret < 0) {
                cli_print_raw(err);
                return 1;
        }
        return 0;
}
