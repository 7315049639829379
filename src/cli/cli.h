/* The berth CLI: Docker's commands and flags, spoken to the daemon over the
 * Docker Engine API only (never by linking the engine), so that whatever
 * berth does, the docker CLI could do through the same socket. */
#pragma once
#include "util/util.h"
#include <jansson.h>
#include <poll.h>
#include <stdbool.h>

#define CLI_DEFAULT_HOST "unix:///run/berth/berth.sock"
/* The newest API version this CLI speaks; a daemon that offers more is
 * talked to at this version, one that offers less at its own (as docker). */
#define CLI_API_MAX "1.45"
/* What docker assumes when /_ping carries no Api-Version header. */
#define CLI_API_FALLBACK "1.24"

/* Docker's exit status for "the command could not run the container". */
#define CLI_EXIT_DAEMON 125

struct cli {
        char *host;             /* as given: unix:///path */
        char *socket_path;
        char api_version[16];   /* negotiated, "" until the first ping */
        char daemon_api[16];    /* what the daemon offered */
        int fd;                 /* the keep-alive connection of plain calls, -1 when none */
};

struct cli_response {
        long status;
        char *body;             /* NUL-terminated */
        size_t len;
};

static inline void cli_response_free(struct cli_response *r)
{
        free(r->body);
        r->body = NULL;
        r->len = 0;
}
static inline void cleanup_cli_responsep(struct cli_response *r) { cli_response_free(r); }
#define _cleanup_response_ __attribute__((cleanup(cleanup_cli_responsep)))
static inline void cleanup_jsonp(json_t **j) { if (*j) json_decref(*j); }
#define _cleanup_json_ __attribute__((cleanup(cleanup_jsonp)))

/* ---- transport (cli-client.c) ---- */
/* host: -H value, or NULL for BERTH_HOST, DOCKER_HOST, then the default. */
int cli_init(struct cli *c, const char *host, berth_error_t **err);
void cli_fini(struct cli *c);
/* Ping and negotiate the API version (done lazily by every call). */
int cli_ping(struct cli *c, berth_error_t **err);
/* One request; path is unversioned ("/containers/json?all=1").  Only
 * transport failures are errors: the HTTP status is in resp->status. */
int cli_call(struct cli *c, const char *method, const char *path, const char *json_body,
             struct cli_response *resp, berth_error_t **err);
/* The same, but a status >= 400 becomes the error
 * "Error response from daemon: <message>". */
int cli_call_ok(struct cli *c, const char *method, const char *path, const char *json_body,
                struct cli_response *resp, berth_error_t **err);
/* cli_call_ok, then parse the body as JSON into *out. */
int cli_call_json(struct cli *c, const char *method, const char *path, const char *json_body,
                  json_t **out, berth_error_t **err);
/* A streamed response (pull progress, logs): the body goes to sink as it
 * arrives; an error status is collected and reported as cli_call_ok does.
 * sink returns < 0 to abort. */
typedef int (*cli_sink_fn)(void *opaque, const char *data, size_t len, berth_error_t **err);
int cli_call_stream(struct cli *c, const char *method, const char *path,
                    const char *const *headers, cli_sink_fn sink, void *opaque,
                    berth_error_t **err);
/* POST path with the file as the body (streamed; size bytes), an error
 * status reported as cli_call_ok does. */
int cli_call_upload(struct cli *c, const char *path, const char *content_type, FILE *body, long long size,
                    struct cli_response *resp, berth_error_t **err);
/* The message of an error response, as docker prints it. */
int cli_daemon_error(const struct cli_response *resp, berth_error_t **err);
/* "/v1.41" + path */
char *cli_versioned(struct cli *c, const char *path);
/* Escapes for a path segment (keeps ":" and "/", as Go's url package does)
 * and for a query value (url.QueryEscape). */
char *cli_escape_path(const char *s);
char *cli_escape_query(const char *s);
/* The "Cannot connect" error for this host. */
int cli_connect_error(struct cli *c, int errnum, berth_error_t **err);
/* A new connection to the daemon's socket (the fd), or that error. */
int cli_connect(struct cli *c, berth_error_t **err);

/* A request left running while other work goes on: the wait of a run is
 * sent before the start and answered when the container exits. */
struct cli_xfer;
struct cli_async {
        struct cli *c;
        struct cli_xfer *x;     /* the exchange, on a connection of its own */
        bool headers_done, done;
};
/* Send the request and return once its response headers have arrived. */
int cli_async_start(struct cli *c, struct cli_async *a, const char *method, const char *path,
                    berth_error_t **err);
/* Let the transfer progress while waiting up to timeout_ms for it or for
 * the extra fds (whose revents are filled). */
int cli_async_poll(struct cli_async *a, struct pollfd *extra, unsigned n, int timeout_ms,
                   berth_error_t **err);
/* Block until done; the response as cli_call gives it. */
int cli_async_finish(struct cli_async *a, struct cli_response *resp, berth_error_t **err);
void cli_async_free(struct cli_async *a);

/* The general request: a JSON body or a streamed upload, extra headers,
 * the body of a successful response to a sink (else kept in resp), and one
 * response header captured.  Only transport failures are errors. */
struct cli_req {
        const char *method;
        const char *path;
        const char *const *headers;     /* extra request headers, NULL-terminated */
        const char *json_body;
        FILE *upload;                   /* a streamed request body */
        long long upload_size;          /* -1: unknown, sent chunked */
        const char *content_type;       /* of the upload */
        cli_sink_fn sink;               /* a successful response's body */
        void *opaque;
        const char *capture;            /* a response header to keep... */
        char *captured;                 /* ...its value (the caller frees) */
};
int cli_request(struct cli *c, struct cli_req *r, struct cli_response *resp, berth_error_t **err);
/* The same, a status >= 400 made the "Error response from daemon" error. */
int cli_request_ok(struct cli *c, struct cli_req *r, struct cli_response *resp, berth_error_t **err);
/* Whether the negotiated API version is at least major.minor. */
bool cli_api_at_least(struct cli *c, long major, long minor);

/* ---- hijacked streams (cli-hijack.c) ---- */
/* POST path with "Upgrade: tcp" on a raw socket; returns the fd, now a raw
 * byte stream.  Bytes read past the response headers are in *pending. */
int cli_hijack(struct cli *c, const char *path, char **pending, size_t *pending_len,
               berth_error_t **err);
/* The same with a JSON body (exec start). */
int cli_hijack_json(struct cli *c, const char *path, const char *json_body, char **pending,
                    size_t *pending_len, berth_error_t **err);

/* ---- stdcopy demultiplexing (cli-stdcopy.c) ---- */
struct stdcopy {
        unsigned char hdr[8];
        size_t hdr_have;
        size_t left;            /* payload bytes left in the current frame */
        int fd;                 /* where the current frame goes */
        bool raw;               /* TTY: no framing, everything to stdout */
};
void stdcopy_init(struct stdcopy *s, bool raw);
/* Feed bytes; frames go to fds 1 and 2 as they complete. */
int stdcopy_feed(struct stdcopy *s, const char *data, size_t len, berth_error_t **err);

/* ---- output formatting (cli-format.c) ---- */
struct table {
        size_t ncols, nrows, cap;
        char **cells;           /* nrows * ncols */
};
void table_init(struct table *t, size_t ncols);
/* Add a row of ncols strings (copied). */
void table_add(struct table *t, ...);
void table_addv(struct table *t, char **cells);
/* Print as docker's tabwriter does: min width 10, padding 3. */
void table_print(struct table *t, FILE *out);
void table_free(struct table *t);
char *human_size(double bytes);        /* decimal, 3 digits: "1.99MB" */
/* A copy of an object with its keys in order: Go marshals maps sorted,
 * and a body should read the same from berth as from docker. */
json_t *json_sorted_copy(json_t *o);
char *human_bytes(double bytes);       /* binary, 4 digits: "23.54GiB" */
char *human_duration(long long seconds); /* "About a minute" */
char *ellipsis(const char *s, size_t width);
/* Go's strconv.Quote for the COMMAND column. */
char *go_quote(const char *s);
char *short_id(const char *id);        /* sha256: stripped, 12 characters */
/* Go's time.Time.String() in local time: the CreatedAt of --format. */
char *go_time_string(long long t);
/* RFC 3339 (the API's timestamps) to seconds; -1 when unparsable. */
long long parse_rfc3339(const char *s, long *nanos);

/* ---- templates (cli-template.c) ---- */
/* A subset of Go templates: {{.A.B}}, {{json .A}}, {{json .}}, {{.}},
 * {{upper .A}}, {{lower .A}}, {{join .A ","}}, text in between; "\t" and
 * "\n" escapes as docker's --format accepts. */
int template_render(const char *tmpl, json_t *data, char **out, berth_error_t **err);
/* A listing's --format: "json" (one object per line), "table TEMPLATE"
 * (header row rendered from header, which maps each field to its column
 * title, then a tab-aligned table), or a template per row. */
int format_print(const char *format, json_t *header, json_t *rows, berth_error_t **err);

/* ---- progress streams (cli-jsonmsg.c) ---- */
struct jsonmsg_display {
        FILE *out;              /* NULL: show nothing, only catch errors */
        bool terminal;
        /* ids of the progress lines on screen, oldest first */
        char **ids;
        size_t nids;
        char *buf;              /* a partial line */
        size_t len;
        char *error;            /* the in-band error message, if any */
        long error_code;        /* its errorDetail.code, 0 when none */
        /* called with each "aux" object (build's {"ID": ...}) */
        void (*on_aux)(void *opaque, json_t *aux);
        void *aux_opaque;
};
void jsonmsg_init(struct jsonmsg_display *d, FILE *out, bool terminal);
int jsonmsg_sink(void *opaque, const char *data, size_t len, berth_error_t **err);
/* After the stream: the in-band error, if one came. */
int jsonmsg_finish(struct jsonmsg_display *d, berth_error_t **err);
void jsonmsg_fini(struct jsonmsg_display *d);

/* ---- image references (cli-reference.c) ---- */
struct cli_ref {
        char *name;     /* normalised: docker.io/library/busybox */
        char *tag;      /* NULL when none was given */
        char *digest;   /* NULL when none was given */
};
int cli_ref_parse(const char *s, struct cli_ref *r, berth_error_t **err);
/* docker.io/library/busybox -> busybox, docker.io/u/r -> u/r */
char *cli_ref_familiar_name(const char *name);
void cli_ref_free(struct cli_ref *r);

/* ---- pulling (cli-images.c) ---- */
/* POST /images/create with progress on out; used by pull, run and create. */
int cli_pull_image(struct cli *c, const char *image, const char *platform, FILE *out,
                   berth_error_t **err);

/* ---- terminals (cli-tty.c) ---- */
int tty_make_raw(int fd, berth_error_t **err);
void tty_restore(void);
bool tty_size(int fd, unsigned *rows, unsigned *cols);
/* Ctrl-P Ctrl-Q detection: copies the bytes to forward to out (room for
 * len + sizeof(seq)) and returns true once the whole sequence was typed;
 * keys of an unfinished sequence are held back until it is decided. */
struct detach_keys {
        unsigned char seq[8];
        size_t n, matched;
};
int detach_keys_parse(struct detach_keys *d, const char *spec, berth_error_t **err);
bool detach_keys_scan(struct detach_keys *d, const char *in, size_t len, char *out, size_t *out_len);

/* ---- attaching (cli-attach.c) ---- */
struct attach_opts {
        const char *id;                 /* a container's, or an exec's */
        bool exec;                      /* id is an exec: no wait, /exec/{id}/resize */
        bool detached;                  /* out: the detach keys were typed */
        bool stdin_, stdout_, stderr_;
        bool tty;
        bool sig_proxy;
        const char *detach_keys;
        struct cli_async *wait;         /* exits when this completes (NULL for exec) */
        int attach_fd;                  /* already hijacked */
        char *pending;                  /* stream bytes read with the 101 */
        size_t pending_len;
};
/* Open the hijacked attach connection for id. */
int attach_open(struct cli *c, struct attach_opts *o, berth_error_t **err);
/* Pump stdin/stdout/stderr until the stream and the wait end; *status is
 * the container's exit status (0 and o->detached after a detach, -1 for
 * an exec, whose status the caller asks for). */
int attach_run(struct cli *c, struct attach_opts *o, int *status, berth_error_t **err);
/* POST /containers/{id}/resize (/exec/{id}/resize) to the terminal's
 * size plus extra rows and columns (docker's redraw trick on attach). */
void attach_resize(struct cli *c, const char *id, bool exec, unsigned extra);
/* The StatusCode of a wait response; an Error in it is an error. */
int wait_status(const struct cli_response *resp, int *status, berth_error_t **err);

/* ---- run and create flags (cli-create.c) ---- */
/* docker's RAMInBytes ("64m"), --cpus as nano CPUs: -1 when invalid. */
long long cli_ram_in_bytes(const char *s);
long long cli_nano_cpus(const char *s);
/* -e NAME[=VALUE] (NAME alone takes our value, if set), --env-file. */
void cli_env_add(json_t *env, const char *kv);
int cli_env_file(json_t *env, const char *path, berth_error_t **err);
/* --since/--until: a duration back from now, RFC 3339 or Unix seconds, as
 * the API's timestamp (cli-logs.c); NULL with an error when unparsable. */
char *cli_api_timestamp(const char *v, berth_error_t **err);
struct run_opts {
        bool detach, rm, interactive, tty, sig_proxy;
        const char *name, *platform, *pull, *detach_keys;
        const char *image;
        json_t *body;           /* the create request, as docker builds it */
};
/* Parse the flags of run (or create, where -d is unknown) and build the
 * create body; returns -1 when parsing ended the command, with
 * *exit_status set (0 after --help). */
int run_opts_parse(int argc, char **argv, const char *cmd, struct run_opts *o, int *exit_status);
void run_opts_free(struct run_opts *o);

/* ---- ports (cli-portspec.c) ---- */
/* -p SPEC: each port it names into exposed ("80/tcp": {}) and its binding
 * into bindings ("80/tcp": [{"HostIp", "HostPort"}]), as docker's
 * nat.ParsePortSpecs; -1 with docker's message for a bad spec. */
int cli_publish_add(json_t *exposed, json_t *bindings, const char *spec, berth_error_t **err);
/* --expose 80, 80/udp, 8000-8010. */
int cli_expose_add(json_t *exposed, const char *spec, berth_error_t **err);
/* ps's PORTS of a GET /containers/json entry's Ports, as docker's
 * DisplayablePorts: "0.0.0.0:8000-8001->8000-8001/tcp, 9000/udp". */
char *cli_ports_display(json_t *ports);
/* An IPv4 or IPv6 address as Go's net.ParseIP takes it. */
bool cli_valid_ip(const char *s);
/* The natural order docker sorts names by ("n2" before "n10"). */
bool cli_natural_less(const char *a, const char *b);
int cli_natural_cmp(const char *a, const char *b);

/* ---- the networking flags of run and create (cli-netopts.c) ---- */
/* One --network: a name, or the long form's settings. */
struct cli_netattach {
        char *target, *ipv4, *ipv6, *mac;
        json_t *aliases, *links, *link_local_ips, *driver_opts; /* NULL when not given */
        long long gw_priority;
};
struct cli_netopts {
        struct cli_netattach *nets;     /* the --network flags in order */
        size_t n;
        /* the flags for the first network: --network-alias, --link,
         * --link-local-ip, --ip, --ip6, --mac-address */
        json_t *aliases, *links, *link_local_ips;
        const char *ipv4, *ipv6, *mac;
};
void cli_netopts_init(struct cli_netopts *o);
void cli_netopts_free(struct cli_netopts *o);
/* --network VALUE, docker's NetworkOpt.Set (the message is the flag's). */
int cli_netopts_add_network(struct cli_netopts *o, const char *value, berth_error_t **err);
/* HostConfig.NetworkMode: the first network, else "default". */
const char *cli_netopts_mode(const struct cli_netopts *o);
/* NetworkingConfig.EndpointsConfig, docker's parseNetworkOpts; call once
 * (the flat flags are merged into the first network). */
json_t *cli_netopts_endpoints(struct cli_netopts *o, berth_error_t **err);
bool cli_network_user_defined(const char *mode);
bool cli_valid_mac(const char *s);
/* The checks docker makes as it reads --link, --dns, --dns-search and
 * --add-host; the last three return the value to send. */
int cli_check_link(const char *v, berth_error_t **err);
char *cli_dns_ip(const char *v, berth_error_t **err);
char *cli_dns_search(const char *v, berth_error_t **err);
char *cli_extra_host(const char *v, berth_error_t **err);
/* One record of Go's encoding/csv, as pflag reads a "strings" flag: fields
 * split on commas, a field in double quotes may hold commas. */
char **cli_csv_fields(const char *s, size_t *n);

/* ---- build contexts (cli-build-context.c) ---- */
/* What the .dockerignore says of a context path ("dir/file", no leading
 * "./"): send it; leave it out; or, for a directory, leave the directory
 * itself out but walk it, because an exception ("!dir/keep") may match
 * below it.  parent is the state the call on the path's directory filled
 * (NULL for the entries of the context root); state, for a directory, is
 * state_size zeroed bytes to fill for the entries inside it. */
enum build_match { BUILD_SEND, BUILD_SKIP, BUILD_SKIP_DESCEND };
struct build_filter {
        enum build_match (*fn)(void *opaque, const char *path, bool is_dir, const void *parent, void *state);
        void *opaque;
        size_t state_size;
};
struct build_context;
/* Bytes of the context read so far; last once at its end. */
typedef void (*build_progress_fn)(void *opaque, long long sent, bool last);
/* The context from a directory, filtered (filter NULL: everything); with
 * dockerfile (not NULL), that content is added as a generated
 * ".dockerfile.<hex>" and named in the .dockerignore sent. */
int build_context_dir(const char *dir, const struct build_filter *filter, const char *dockerfile,
                      size_t dockerfile_len, struct build_context **out, berth_error_t **err);
/* The context from fd (stdin): the first 1 KiB is peeked to tell a tar
 * (or compressed tar), streamed through as it is, from a Dockerfile... */
int build_context_stdin(int fd, struct build_context **out, bool *is_archive, berth_error_t **err);
/* ...which this reads whole and makes the only file of a new context. */
int build_context_stdin_dockerfile(struct build_context *raw, struct build_context **out, berth_error_t **err);
/* The tar as a stream to upload (owned by the context). */
FILE *build_context_stream(struct build_context *c);
void build_context_set_progress(struct build_context *c, build_progress_fn fn, void *opaque);
/* The generated name of an added Dockerfile, NULL when none. */
const char *build_context_dockerfile_name(struct build_context *c);
/* Why reading the stream failed, if it did (owned by the context). */
berth_error_t *build_context_error(struct build_context *c);
void build_context_free(struct build_context *c);
/* The filter of dir/.dockerignore (f->fn NULL and *out NULL when there
 * is none), with the Dockerfile (its path in the context; NULL when it
 * comes from elsewhere) and the .dockerignore kept as exceptions, as
 * docker's TrimBuildFilesFromExcludes keeps them.  *out must outlive the
 * stream, whose reads run the walk. */
struct build_ignore;
int build_ignore_load(const char *dir, const char *dockerfile, struct build_ignore **out, struct build_filter *f,
                      berth_error_t **err);
void build_ignore_free(struct build_ignore *ig);
static inline void cleanup_build_ignorep(struct build_ignore **ig) { build_ignore_free(*ig); }
#define _cleanup_build_ignore_ __attribute__((cleanup(cleanup_build_ignorep)))
/* Whether the first bytes of a stream are a tar or a compressed archive. */
bool build_is_archive(const void *head, size_t len);
char *build_random_dockerfile_name(void);

/* ---- commands ---- */
typedef int (*cli_cmd_fn)(struct cli *c, int argc, char **argv);
int cmd_version(struct cli *c, int argc, char **argv);
int cmd_info(struct cli *c, int argc, char **argv);
int cmd_images(struct cli *c, int argc, char **argv);
int cmd_pull(struct cli *c, int argc, char **argv);
int cmd_rmi(struct cli *c, int argc, char **argv);
int cmd_tag(struct cli *c, int argc, char **argv);
int cmd_import(struct cli *c, int argc, char **argv);
int cmd_build(struct cli *c, int argc, char **argv);
int cmd_stats(struct cli *c, int argc, char **argv);
int cmd_ps(struct cli *c, int argc, char **argv);
int cmd_create(struct cli *c, int argc, char **argv);
int cmd_run(struct cli *c, int argc, char **argv);
int cmd_start(struct cli *c, int argc, char **argv);
int cmd_stop(struct cli *c, int argc, char **argv);
int cmd_kill(struct cli *c, int argc, char **argv);
int cmd_rm(struct cli *c, int argc, char **argv);
int cmd_wait(struct cli *c, int argc, char **argv);
int cmd_logs(struct cli *c, int argc, char **argv);
int cmd_inspect(struct cli *c, int argc, char **argv);
int cmd_container_inspect(struct cli *c, int argc, char **argv);
int cmd_image_inspect(struct cli *c, int argc, char **argv);
int cmd_exec(struct cli *c, int argc, char **argv);
int cmd_attach(struct cli *c, int argc, char **argv);
int cmd_restart(struct cli *c, int argc, char **argv);
int cmd_pause(struct cli *c, int argc, char **argv);
int cmd_unpause(struct cli *c, int argc, char **argv);
int cmd_top(struct cli *c, int argc, char **argv);
int cmd_rename(struct cli *c, int argc, char **argv);
int cmd_update(struct cli *c, int argc, char **argv);
int cmd_container_prune(struct cli *c, int argc, char **argv);
int cmd_cp(struct cli *c, int argc, char **argv);
int cmd_export(struct cli *c, int argc, char **argv);
int cmd_commit(struct cli *c, int argc, char **argv);
int cmd_history(struct cli *c, int argc, char **argv);
int cmd_save(struct cli *c, int argc, char **argv);
int cmd_load(struct cli *c, int argc, char **argv);
int cmd_push(struct cli *c, int argc, char **argv);
int cmd_image_prune(struct cli *c, int argc, char **argv);
int cmd_login(struct cli *c, int argc, char **argv);
int cmd_logout(struct cli *c, int argc, char **argv);
int cmd_volume_create(struct cli *c, int argc, char **argv);
int cmd_volume_ls(struct cli *c, int argc, char **argv);
int cmd_volume_inspect(struct cli *c, int argc, char **argv);
int cmd_volume_rm(struct cli *c, int argc, char **argv);
int cmd_volume_prune(struct cli *c, int argc, char **argv);
int cmd_system_df(struct cli *c, int argc, char **argv);
int cmd_system_prune(struct cli *c, int argc, char **argv);
int cmd_events(struct cli *c, int argc, char **argv);
int cmd_port(struct cli *c, int argc, char **argv);
int cmd_network_create(struct cli *c, int argc, char **argv);
int cmd_network_ls(struct cli *c, int argc, char **argv);
int cmd_network_inspect(struct cli *c, int argc, char **argv);
int cmd_network_rm(struct cli *c, int argc, char **argv);
int cmd_network_connect(struct cli *c, int argc, char **argv);
int cmd_network_disconnect(struct cli *c, int argc, char **argv);
int cmd_network_prune(struct cli *c, int argc, char **argv);

/* The whole CLI: global flags, then a command. */
int cli_main(int argc, char **argv);

/* ---- helpers shared by the commands (cli-commands.c) ---- */
#include <getopt.h>
/* Every command's long options end with this, so --help works. */
#define CLI_OPT_HELP { "help", no_argument, NULL, 0x1000 }
#define CLI_OPT_END { NULL, 0, NULL, 0 }
/* cli_getopt's answers besides the options: help was printed (exit 0), or
 * a flag error was printed (exit 125, as docker). */
#define CLI_GETOPT_HELP 0x1000
#define CLI_GETOPT_ERROR 0x1001
/* getopt_long with docker's flag errors; shortopts should start with "+:"
 * (stop at the first argument) or ":". */
int cli_getopt(int argc, char **argv, const char *shortopts, const struct option *longopts,
               const char *cmd);
/* Print an error the way docker does for most commands: the message alone
 * ("Error response from daemon: ..."), or "Error: ..." for client-side
 * errors. */
void cli_print_error(berth_error_t *err);
/* A wrong argument count: docker's "'berth rm' requires at least 1
 * argument" with the usage; returns the exit status, 1. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "berth: <message>" and the "Run 'berth CMD --help'" hint as docker
 * does for run and create failures; returns 125. */
int cli_run_error(const char *cmd, berth_error_t *err, int status);
/* A flag's value refused as pflag words it: 'invalid argument "V" for
 * "FLAG" flag: WHY', the usage and the help hint; returns 125. */
int cli_flag_error(const char *cmd, const char *flag, const char *value, const char *why);
/* Parse "true"/"false" given to a --flag=VALUE boolean (NULL is true). */
bool cli_bool_arg(const char *v, bool *ok);
/* Print an error's message as it is: docker 28 adds no "Error: " to the
 * client-side errors of the newer commands (cp, login, update...). */
void cli_print_raw(berth_error_t *err);
/* docker's PromptForConfirmation: the warning, " Are you sure you want to
 * continue? [y/N] ", and a line from stdin; true for y/Y. */
bool cli_confirm(const char *warning);
/* strerror as Go words it ("no such file or directory"). */
const char *go_strerror(int errnum);
/* Append "key=value" to a filters map (value -> true). false when there
 * is no "=". */
bool cli_filter_add(json_t *filters, const char *arg);
/* The options of image and volume prune (-a, -f, --filter); <0 to go
 * on, else the exit status (help, or a bad option). */
int cli_prune_args(int argc, char **argv, const char *name, bool *all, bool *force, json_t *filters);
/* "?filters=..." (or "&filters=..." after a query), "" without filters. */
char *cli_filters_query(json_t *filters, bool first);
/* Join the messages of several failures with newlines, as docker's
 * errors.Join; print them at the end and return 1 if any. */
struct cli_errors {
        char *msg;
};
void cli_errors_add(struct cli_errors *e, berth_error_t *err);
int cli_errors_finish(struct cli_errors *e);

/* ---- pruning (cli-manage.c) ---- */
/* POST /{kind}/prune with the filters; the response in *res. */
int cli_prune(struct cli *c, const char *kind, json_t *filters, json_t **res, berth_error_t **err);
/* "TITLE\nid\n...\n\n" for the names under key (nothing when none);
 * returns SpaceReclaimed. */
long long cli_prune_report(json_t *res, const char *key, const char *title);
void cli_print_reclaimed(long long bytes);
/* The same for image prune's "untagged: "/"deleted: " list. */
long long cli_image_prune_report(json_t *res);

/* ---- containers (cli-containers.c) ---- */
/* A container of GET /containers/json as ps's --format sees it. */
json_t *cli_container_row(json_t *ct, bool trunc);

/* ---- networks (cli-network.c) ---- */
/* The client's trimID: a name or ID trimmed of spaces; an empty one is
 * the error "invalid KIND name or ID: value is empty", never sent. */
char *cli_trim_id(const char *kind, const char *name, berth_error_t **err);

/* ---- volumes (cli-volume.c) ---- */
/* A volume as volume ls's --format sees it, and the titles of its fields. */
json_t *cli_volume_row(json_t *v);
json_t *cli_volume_header(void);

/* ---- registry credentials (cli-auth.c) ---- */
/* "X-Registry-Auth: ..." with the stored credentials for the registry of
 * a normalised name (docker.io/library/x), "e30=" (an empty object) when
 * there are none. */
char *cli_registry_auth_header(const char *name);
/* "X-Registry-Config: ..." for build: every stored registry's AuthConfig
 * ("e30=" when there are none), as docker sends it. */
char *cli_registry_config_header(void);

/* ---- output helpers (cli-format.c) ---- */
/* go-units HumanSize: 4 significant digits ("1.982MB"). */
char *human_size4(double bytes);
/* table_print with another minimum column width (docker top uses 20). */
void table_print_min(struct table *t, FILE *out, size_t min_width);
