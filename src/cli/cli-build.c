/* berth build (and berth image build): docker build's legacy-builder
 * protocol, what docker CLI 28 speaks without buildx.
 *
 *   POST /build?buildargs={..}&dockerfile=..&labels={..}&networkmode=..
 *               &nocache=1&pull=1&q=1&t=..&t=..&target=..&version=1
 *   Content-Type: application/x-tar, chunked; X-Registry-Config: base64
 *
 * The query keys are sorted and sent only when set, as docker's client
 * does.  The context (cli-build-context.c) is streamed as it is made;
 * "Sending build context to Docker daemon  4.096kB" counts it on stdout.
 * The answer is a JSON message stream: {"stream": ...} text printed as it
 * comes (Step 1/7 : ..., " ---> ...", Successfully built/tagged), the
 * image ID in {"aux":{"ID":...}}, and a failure in-band as errorDetail,
 * printed alone on stderr with its code as the exit status (1 when it has
 * none), as docker does.  With -q the output is held back: the ID alone on
 * success, everything on stderr on failure.
 *
 * --check is Berth's: the query parameter check=1 asks the daemon to lint
 * the Dockerfile only (its best-practice rules), with the findings in the
 * stream and no image built; a daemon that does not know it ignores it,
 * as dockerd does with any unknown parameter. */
#include "cli/cli.h"
#include <ctype.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <time.h>

struct build_opts {
        json_t *tags;           /* strings, in order */
        json_t *buildargs;      /* name -> string or null */
        bool reproducible;
        json_t *labels;         /* name -> string */
        const char *file, *target, *network, *iidfile, *platform;
        bool quiet, nocache, pull, check, rm, forcerm;
};

/* ---- the upload's progress line ---- */

struct progress {
        FILE *out;
        bool terminal;
        long long last;
        struct timespec at;
};

static void progress_line(struct progress *p, long long sent, bool last)
{
        _cleanup_free_ char *size = human_size4((double)sent);
        fprintf(p->out, "Sending build context to Docker daemon %8s\r%s", size, last ? "\r\n" : "");
        fflush(p->out);
}

/* docker's progress reader: every 512 kB at most every 100 ms on a
 * terminal, and only the last count elsewhere. */
static void on_progress(void *opaque, long long sent, bool last)
{
        struct progress *p = opaque;
        struct timespec now;

        if (last) {
                progress_line(p, sent, true);
                return;
        }
        if (!p->terminal || sent - p->last <= 512 * 1024)
                return;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if ((now.tv_sec - p->at.tv_sec) * 1000000000LL + (now.tv_nsec - p->at.tv_nsec) < 100000000LL)
                return;
        p->at = now;
        p->last = sent;
        progress_line(p, sent, false);
}

/* ---- the request ---- */

static void query_add(struct strbuf *q, const char *key, const char *value)
{
        _cleanup_free_ char *v = cli_escape_query(value);
        strbuf_adds(q, q->len ? "&" : "?");
        strbuf_adds(q, key);
        strbuf_adds(q, "=");
        strbuf_adds(q, v);
}

static void query_add_json(struct strbuf *q, const char *key, json_t *obj)
{
        _cleanup_free_ char *text = NULL;

        if (json_object_size(obj) == 0)
                return;
        text = json_dumps(obj, JSON_COMPACT | JSON_SORT_KEYS);
        query_add(q, key, text);
}

/* The path and query, keys in url.Values.Encode's order. */
static char *build_path(struct build_opts *o, const char *dockerfile)
{
        struct strbuf q = { 0 };
        json_t *t;
        size_t i;

        query_add_json(&q, "buildargs", o->buildargs);
        if (o->check)
                query_add(&q, "check", "1");
        if (dockerfile && *dockerfile)
                query_add(&q, "dockerfile", dockerfile);
        if (o->forcerm)
                query_add(&q, "forcerm", "1");
        query_add_json(&q, "labels", o->labels);
        if (o->network && *o->network && strcmp(o->network, "default") != 0)
                query_add(&q, "networkmode", o->network);
        if (o->nocache)
                query_add(&q, "nocache", "1");
        if (o->platform && *o->platform) {
                _cleanup_free_ char *lower = xstrdup(o->platform);
                for (char *p = lower; *p; p++)
                        *p = (char)tolower((unsigned char)*p);
                query_add(&q, "platform", lower);
        }
        if (o->pull)
                query_add(&q, "pull", "1");
        if (o->quiet)
                query_add(&q, "q", "1");
        if (!o->rm)
                query_add(&q, "rm", "0");
        json_array_foreach(o->tags, i, t)
                query_add(&q, "t", json_string_value(t));
        if (o->target && *o->target)
                query_add(&q, "target", o->target);
        query_add(&q, "version", "1");
        char *path = xasprintf("/build%s", q.data);
        free(q.data);
        return path;
}

/* ---- the context ---- */

/* Whether path is one of dir's descendants. */
static bool is_below(const char *dir, const char *path)
{
        size_t n = strlen(dir);
        return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* filepath.Abs: relative to the working directory, cleaned lexically. */
static char *abs_path(const char *p)
{
        char cwd[PATH_MAX];
        _cleanup_free_ char *joined = NULL;
        struct strbuf out = { 0 };
        char *save = NULL, *tok;

        if (p[0] == '/') {
                joined = xstrdup(p);
        } else {
                if (getcwd(cwd, sizeof(cwd)) == NULL)
                        return xstrdup(p);
                joined = xasprintf("%s/%s", cwd, p);
        }
        /* clean: drop "." and empty parts, resolve ".." */
        for (tok = strtok_r(joined, "/", &save); tok; tok = strtok_r(NULL, "/", &save)) {
                if (strcmp(tok, ".") == 0)
                        continue;
                if (strcmp(tok, "..") == 0) {
                        char *slash = out.data ? strrchr(out.data, '/') : NULL;
                        if (slash) {
                                out.len = (size_t)(slash - out.data);
                                out.data[out.len] = '\0';
                        }
                        continue;
                }
                strbuf_adds(&out, "/");
                strbuf_adds(&out, tok);
        }
        if (out.data == NULL)
                strbuf_adds(&out, "/");
        return out.data;
}

static int read_stream(int fd, char **out, size_t *len, berth_error_t **err)
{
        struct strbuf b = { 0 };
        char buf[65536];

        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        free(b.data);
                        return berth_error(err, errno, "read stdin");
                }
                if (n == 0)
                        break;
                strbuf_add(&b, buf, (size_t)n);
        }
        if (b.data == NULL)
                strbuf_adds(&b, "");
        *out = b.data;
        *len = b.len;
        return 0;
}

/* A context directory and its Dockerfile, as docker's
 * GetContextFromLocalDir finds them; *relative is the Dockerfile's path
 * in the context, or NULL when it lies outside (then *content holds it). */
static int local_context(const char *dir, const char *file, char **ctx_dir, char **relative, char **content,
                         size_t *content_len, berth_error_t **err)
{
        _cleanup_free_ char *abs = abs_path(dir), *real = NULL, *df = NULL, *df_real = NULL;
        struct stat st;

        real = realpath(abs, NULL);
        if (real == NULL)
                return berth_error(err, 0, "unable to evaluate symlinks in context path: lstat %s: %s", abs,
                                   go_strerror(errno));
        if (stat(real, &st) < 0 || !S_ISDIR(st.st_mode))
                return berth_error(err, 0, "context must be a directory: %s", real);
        if (file && strcmp(file, "-") == 0) {
                if (read_stream(0, content, content_len, err) < 0)
                        return -1;
                *ctx_dir = steal_pointer(&real);
                *relative = NULL;
                return 0;
        }
        if (file && *file) {
                df = abs_path(file);
        } else {
                df = xasprintf("%s/Dockerfile", real);
                if (lstat(df, &st) < 0 && errno == ENOENT) {
                        _cleanup_free_ char *alt = xasprintf("%s/dockerfile", real);
                        if (lstat(alt, &st) == 0) {
                                free(df);
                                df = steal_pointer(&alt);
                        }
                }
        }
        df_real = realpath(df, NULL);
        if (df_real == NULL) {
                /* filepath.EvalSymlinks names the first part that failed */
                int e = errno;
                _cleanup_free_ char *part = xstrdup(df);
                for (char *p = strchr(part + 1, '/');; p = strchr(p + 1, '/')) {
                        if (p)
                                *p = '\0';
                        if (lstat(part, &st) < 0) {
                                e = errno;
                                break;
                        }
                        if (p == NULL)
                                break;
                        *p = '/';
                }
                return berth_error(err, 0, "unable to evaluate symlinks in Dockerfile path: lstat %s: %s", part,
                                   go_strerror(e));
        }
        if (is_below(real, df_real) || strcmp(real, "/") == 0) {
                *relative = xstrdup(df_real + strlen(real) + (strcmp(real, "/") == 0 ? 0 : 1));
                if (**relative == '/')
                        memmove(*relative, *relative + 1, strlen(*relative));
                *content = NULL;
        } else {
                *relative = NULL;
                if (read_file(df_real, content, content_len, err) < 0) {
                        berth_error_wrap(err, "unable to open Dockerfile");
                        return -1;
                }
        }
        *ctx_dir = steal_pointer(&real);
        return 0;
}

/* ---- the answer ---- */

static void on_aux(void *opaque, json_t *aux)
{
        char **id = opaque;
        const char *s = json_string_value(json_object_get(aux, "ID"));

        if (s) {
                free(*id);
                *id = xstrdup(s);
        }
}

/* pflag's wording for a value a flag refused; exit status 125. */
static int flag_error(const char *arg, const char *flag, const char *why)
{
        fprintf(stderr, "invalid argument \"%s\" for \"%s\" flag: %s\n", arg, flag, why);
        fprintf(stderr, "\nUsage:  berth build [OPTIONS] PATH | -\n\nRun 'berth build --help' for more information\n");
        return 125;
}

/* --build-arg KEY=VALUE, or KEY: our value, null when unset (opts.ValidateEnv,
 * ConvertKVStringsToMapWithNil); --label KEY[=VALUE]. */
static int add_kv(json_t *map, const char *arg, bool build_arg)
{
        const char *eq = strchr(arg, '=');
        _cleanup_free_ char *key = eq ? xasprintf("%.*s", (int)(eq - arg), arg) : xstrdup(arg);

        if (*key == '\0') {
                _cleanup_free_ char *why = build_arg ? xasprintf("invalid environment variable: %s", arg)
                                                     : xasprintf("invalid label '%s': empty name", arg);
                return flag_error(arg, build_arg ? "--build-arg" : "--label", why);
        }
        if (eq)
                json_object_set_new(map, key, json_string(eq + 1));
        else if (build_arg && getenv(key))
                json_object_set_new(map, key, json_string(getenv(key)));
        else
                json_object_set_new(map, key, build_arg ? json_null() : json_string(""));
        return 0;
}

enum {
        OPT_BUILD_ARG = 0x100, OPT_TARGET, OPT_LABEL, OPT_NO_CACHE, OPT_PULL, OPT_NETWORK, OPT_CHECK,
        OPT_IIDFILE, OPT_RM, OPT_FORCE_RM, OPT_PLATFORM, OPT_REPRODUCIBLE,
};

/* A reproducible build: the daemon takes SOURCE_DATE_EPOCH as a build arg
 * (created times fixed, mtimes clamped).  As buildx does, the variable in
 * our environment is passed on; --reproducible without it means epoch 0. */
static void add_source_date_epoch(struct build_opts *o, bool reproducible)
{
        const char *env = getenv("SOURCE_DATE_EPOCH");

        if (json_object_get(o->buildargs, "SOURCE_DATE_EPOCH"))
                return;
        if (env && *env)
                json_object_set_new(o->buildargs, "SOURCE_DATE_EPOCH", json_string(env));
        else if (reproducible)
                json_object_set_new(o->buildargs, "SOURCE_DATE_EPOCH", json_string("0"));
}

static int parse(int argc, char **argv, struct build_opts *o)
{
        static const struct option longopts[] = {
                { "tag", required_argument, NULL, 't' },
                { "file", required_argument, NULL, 'f' },
                { "quiet", no_argument, NULL, 'q' },
                { "build-arg", required_argument, NULL, OPT_BUILD_ARG },
                { "target", required_argument, NULL, OPT_TARGET },
                { "label", required_argument, NULL, OPT_LABEL },
                { "no-cache", no_argument, NULL, OPT_NO_CACHE },
                { "pull", no_argument, NULL, OPT_PULL },
                { "network", required_argument, NULL, OPT_NETWORK },
                { "check", no_argument, NULL, OPT_CHECK },
                { "iidfile", required_argument, NULL, OPT_IIDFILE },
                { "rm", optional_argument, NULL, OPT_RM },
                { "force-rm", no_argument, NULL, OPT_FORCE_RM },
                { "platform", required_argument, NULL, OPT_PLATFORM },
                { "reproducible", no_argument, NULL, OPT_REPRODUCIBLE },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        int c;
        bool ok;

        while ((c = cli_getopt(argc, argv, ":t:f:q", longopts, "build")) != -1) {
                switch (c) {
                case 't': {
                        _cleanup_error_ berth_error_t *err = NULL;
                        struct cli_ref ref;
                        if (cli_ref_parse(optarg, &ref, &err) < 0)
                                return flag_error(optarg, "-t, --tag", err->msg);
                        cli_ref_free(&ref);
                        json_array_append_new(o->tags, json_string(optarg));
                        break;
                }
                case 'f': o->file = optarg; break;
                case 'q': o->quiet = true; break;
                case OPT_BUILD_ARG:
                        if (add_kv(o->buildargs, optarg, true) != 0)
                                return 125;
                        break;
                case OPT_LABEL:
                        if (add_kv(o->labels, optarg, false) != 0)
                                return 125;
                        break;
                case OPT_TARGET: o->target = optarg; break;
                case OPT_NO_CACHE: o->nocache = true; break;
                case OPT_PULL: o->pull = true; break;
                case OPT_NETWORK: o->network = optarg; break;
                case OPT_CHECK: o->check = true; break;
                case OPT_IIDFILE: o->iidfile = optarg; break;
                case OPT_RM:
                        o->rm = cli_bool_arg(optarg, &ok);
                        if (!ok) {
                                fprintf(stderr, "invalid argument \"%s\" for \"--rm\" flag: strconv.ParseBool: parsing \"%s\": invalid syntax\n",
                                        optarg, optarg);
                                return 125;
                        }
                        break;
                case OPT_FORCE_RM: o->forcerm = true; break;
                case OPT_PLATFORM: o->platform = optarg; break;
                case OPT_REPRODUCIBLE: o->reproducible = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind != 1)
                return cli_usage_error("build", "requires 1 argument");
        return -1;
}

static int prepare_failed(berth_error_t **err)
{
        berth_error_wrap(err, "unable to prepare context");
        return -1;
}

/* A context on stdin: a tar as it is, else a Dockerfile alone. */
static int stdin_context(struct build_opts *o, struct build_context **ctx, char **dockerfile, berth_error_t **err)
{
        struct build_context *raw = NULL;
        bool is_archive;
        int r;

        if (o->file && strcmp(o->file, "-") == 0)
                return berth_error(err, 0, "invalid argument: can't use stdin for both build context and dockerfile");
        if (build_context_stdin(0, &raw, &is_archive, err) < 0)
                return prepare_failed(err);
        if (is_archive) {
                *ctx = raw;
                *dockerfile = o->file ? xstrdup(o->file) : NULL;
                return 0;
        }
        if (o->file && *o->file) {
                build_context_free(raw);
                berth_error(err, 0, "ambiguous Dockerfile source: both stdin and flag correspond to Dockerfiles");
                return prepare_failed(err);
        }
        r = build_context_stdin_dockerfile(raw, ctx, err);
        build_context_free(raw);
        if (r < 0)
                return prepare_failed(err);
        *dockerfile = xstrdup("Dockerfile");
        return 0;
}

/* The context as the arguments ask for it; *dockerfile is its path in the
 * tar for the query. */
static int open_context(const char *arg, struct build_opts *o, struct build_ignore **ig, struct build_context **ctx,
                        char **dockerfile, berth_error_t **err)
{
        _cleanup_free_ char *dir = NULL, *rel = NULL, *content = NULL;
        size_t content_len = 0;
        struct build_filter filter;
        struct stat st;

        if (strcmp(arg, "-") == 0)
                return stdin_context(o, ctx, dockerfile, err);
        if (stat(arg, &st) < 0)
                return berth_error(err, 0, "unable to prepare context: path \"%s\" not found", arg);
        if (local_context(arg, o->file, &dir, &rel, &content, &content_len, err) < 0)
                return prepare_failed(err);
        if (build_ignore_load(dir, rel, ig, &filter, err) < 0)
                return -1;
        if (build_context_dir(dir, &filter, rel ? NULL : content, content_len, ctx, err) < 0)
                return -1;
        *dockerfile = rel ? steal_pointer(&rel) : xstrdup(build_context_dockerfile_name(*ctx));
        return 0;
}

int cmd_build(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *tags = json_array(), *buildargs = json_object(), *labels = json_object();
        _cleanup_free_ char *dockerfile = NULL, *path = NULL, *regcfg = NULL, *image_id = NULL;
        _cleanup_free_ char *prog_text = NULL, *build_text = NULL;
        struct build_opts o = { .tags = tags, .buildargs = buildargs, .labels = labels, .rm = true };
        _cleanup_build_ignore_ struct build_ignore *ig = NULL;
        struct build_context *ctx = NULL;
        struct jsonmsg_display d;
        size_t prog_len = 0, build_len = 0;
        FILE *prog_out = stdout, *build_out = stdout;
        int r, status = 0;

        r = parse(argc, argv, &o);
        if (r >= 0)
                return r;
        add_source_date_epoch(&o, o.reproducible);
        if (o.iidfile && unlink(o.iidfile) < 0 && errno != ENOENT) {
                fprintf(stderr, "Removing image ID file: remove %s: %s\n", o.iidfile, go_strerror(errno));
                return 1;
        }
        if (open_context(argv[optind], &o, &ig, &ctx, &dockerfile, &err) < 0) {
                cli_print_raw(err);
                return 1;
        }
        /* with -q the progress and the stream are kept, for stderr if the
         * build fails */
        if (o.quiet) {
                prog_out = open_memstream(&prog_text, &prog_len);
                build_out = open_memstream(&build_text, &build_len);
                if (prog_out == NULL || build_out == NULL)
                        abort();
        }
        struct progress prog = { .out = prog_out, .terminal = isatty(1) };
        clock_gettime(CLOCK_MONOTONIC, &prog.at);
        build_context_set_progress(ctx, on_progress, &prog);

        path = build_path(&o, dockerfile);
        regcfg = cli_registry_config_header();
        const char *headers[] = { regcfg, NULL };
        struct cli_req req = {
                .method = "POST", .path = path, .headers = headers,
                .upload = build_context_stream(ctx), .upload_size = -1, .content_type = "application/x-tar",
                .sink = jsonmsg_sink, .opaque = &d,
        };
        _cleanup_response_ struct cli_response resp = { 0 };
        jsonmsg_init(&d, build_out, isatty(1));
        d.on_aux = on_aux;
        d.aux_opaque = &image_id;
        r = cli_request_ok(c, &req, &resp, &err);
        if (r < 0 && build_context_error(ctx)) {
                /* the context could not be read: that is the story */
                berth_error_free(&err);
                berth_error(&err, 0, "error checking context: %s", build_context_error(ctx)->msg);
        }
        if (r == 0 && jsonmsg_finish(&d, &err) < 0) {
                r = -1;
                status = d.error_code ? (int)d.error_code : 1;
        }
        jsonmsg_fini(&d);
        if (o.quiet) {
                fclose(prog_out);
                fclose(build_out);
        }
        if (r < 0) {
                if (o.quiet)
                        fprintf(stderr, "%s%s", prog_text ? prog_text : "", status ? (build_text ? build_text : "") : "");
                cli_print_raw(err);
                build_context_free(ctx);
                return status ? status : 1;
        }
        build_context_free(ctx);
        if (o.quiet) {
                /* the daemon's quiet stream is the ID alone */
                fputs(build_text ? build_text : "", stdout);
                fflush(stdout);
                free(image_id);
                image_id = xstrdup(build_text ? build_text : "");
        }
        if (o.iidfile) {
                if (image_id == NULL || *image_id == '\0') {
                        fprintf(stderr, "Server did not provide an image ID. Cannot write %s\n", o.iidfile);
                        return 1;
                }
                _cleanup_close_ int fd = open(o.iidfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
                if (fd < 0 || write_all(fd, image_id, strlen(image_id)) < 0) {
                        fprintf(stderr, "open %s: %s\n", o.iidfile, go_strerror(errno));
                        return 1;
                }
        }
        return 0;
}
