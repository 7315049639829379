/* berth exec: a process in a running container, as docker CLI 28 runs it:
 * GET the container (so "No such container" wins over a TTY complaint),
 * POST /containers/{id}/exec, then either a detached start or a hijacked
 * one that streams like run (raw terminal, detach keys, resize on
 * SIGWINCH through /exec/{id}/resize), and the exit status from
 * GET /exec/{id}/json once the stream ends. */
#include "cli/cli.h"
#include <sys/socket.h>

struct exec_opts {
        bool interactive, tty, detach, privileged;
        const char *user, *workdir, *detach_keys;
        json_t *env;
};

/* The create body, field for field as docker sends it (exec.txt). */
static json_t *exec_body(struct cli *c, const struct exec_opts *x, int argc, char **argv)
{
        json_t *cmd = json_array();
        json_t *body;
        unsigned rows = 0, cols = 0;

        for (int i = 0; i < argc; i++)
                json_array_append_new(cmd, json_string(argv[i]));
        body = json_pack("{s:s, s:b, s:b}", "User", x->user ? x->user : "", "Privileged", x->privileged,
                         "Tty", x->tty);
        /* API 1.42 added the initial size; older daemons are sent none */
        if (x->tty && cli_api_at_least(c, 1, 42)) {
                tty_size(1, &rows, &cols);
                json_object_set_new(body, "ConsoleSize", json_pack("[i, i]", rows, cols));
        }
        json_object_set_new(body, "AttachStdin", json_boolean(!x->detach && x->interactive));
        json_object_set_new(body, "AttachStderr", json_boolean(!x->detach));
        json_object_set_new(body, "AttachStdout", json_boolean(!x->detach));
        json_object_set_new(body, "Detach", json_boolean(x->detach));
        json_object_set_new(body, "DetachKeys", json_string(x->detach_keys ? x->detach_keys : ""));
        json_object_set_new(body, "Env", json_array_size(x->env) ? json_incref(x->env) : json_null());
        json_object_set_new(body, "WorkingDir", json_string(x->workdir ? x->workdir : ""));
        json_object_set_new(body, "Cmd", cmd);
        return body;
}

static char *start_body(struct cli *c, const struct exec_opts *x)
{
        _cleanup_json_ json_t *b = json_pack("{s:b, s:b}", "Detach", x->detach, "Tty", x->tty);
        unsigned rows = 0, cols = 0;

        if (x->tty && cli_api_at_least(c, 1, 42)) {
                tty_size(1, &rows, &cols);
                json_object_set_new(b, "ConsoleSize", json_pack("[i, i]", rows, cols));
        }
        return json_dumps(b, JSON_COMPACT);
}

static int exec_create(struct cli *c, const struct exec_opts *x, const char *container, int argc, char **argv,
                       char **id, berth_error_t **err)
{
        _cleanup_json_ json_t *body = exec_body(c, x, argc, argv), *res = NULL;
        _cleanup_free_ char *s = json_dumps(body, JSON_COMPACT);
        _cleanup_free_ char *esc = cli_escape_path(container);
        _cleanup_free_ char *path = xasprintf("/containers/%s/exec", esc);
        const char *v;

        if (cli_call_json(c, "POST", path, s, &res, err) < 0)
                return -1;
        v = json_string_value(json_object_get(res, "Id"));
        if (v == NULL || *v == '\0')
                return berth_error(err, 0, "exec ID empty");
        *id = xstrdup(v);
        return 0;
}

static int exec_status(struct cli *c, const char *id, int *status, berth_error_t **err)
{
        _cleanup_json_ json_t *res = NULL;
        _cleanup_free_ char *path = xasprintf("/exec/%s/json", id);

        if (cli_call_json(c, "GET", path, NULL, &res, err) < 0)
                return -1;
        *status = (int)json_integer_value(json_object_get(res, "ExitCode"));
        return 0;
}

/* The attached exec; its exit status, or -1 with *err. */
static int exec_attached(struct cli *c, const struct exec_opts *x, const char *id, berth_error_t **err)
{
        _cleanup_free_ char *body = start_body(c, x);
        _cleanup_free_ char *path = xasprintf("/exec/%s/start", id);
        struct attach_opts a = {
                .id = id, .exec = true, .stdin_ = x->interactive, .stdout_ = true, .stderr_ = true,
                .tty = x->tty, .detach_keys = x->detach_keys, .attach_fd = -1,
        };
        int status = -1, ret;

        a.attach_fd = cli_hijack_json(c, path, body, &a.pending, &a.pending_len, err);
        if (a.attach_fd < 0)
                return -1;
        /* nothing to send: say so at once, as docker does (CloseWrite) */
        if (!a.stdin_)
                shutdown(a.attach_fd, SHUT_WR);
        if (x->tty && isatty(0))
                attach_resize(c, id, true, 0);
        ret = attach_run(c, &a, &status, err);
        free(a.pending);
        if (ret < 0)
                return -1;
        if (a.detached)
                return berth_error(err, 0, "read escape sequence");
        if (exec_status(c, id, &status, err) < 0)
                return -1;
        return status;
}

static int exec_parse(int argc, char **argv, struct exec_opts *x, int *exit_status)
{
        static const struct option longopts[] = {
                { "interactive", no_argument, NULL, 'i' },
                { "tty", no_argument, NULL, 't' },
                { "detach", no_argument, NULL, 'd' },
                { "env", required_argument, NULL, 'e' },
                { "env-file", required_argument, NULL, 'E' },
                { "workdir", required_argument, NULL, 'w' },
                { "user", required_argument, NULL, 'u' },
                { "privileged", no_argument, NULL, 'P' },
                { "detach-keys", required_argument, NULL, 'K' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        json_t *files = json_array();
        int o;

        /* options stop at the container: the command's own follow it */
        while ((o = cli_getopt(argc, argv, "+:itde:w:u:", longopts, "exec")) != -1) {
                switch (o) {
                case 'i': x->interactive = true; break;
                case 't': x->tty = true; break;
                case 'd': x->detach = true; break;
                case 'e': cli_env_add(x->env, optarg); break;
                case 'E':
                        if (cli_env_file(files, optarg, &err) < 0) {
                                cli_print_raw(err);
                                json_decref(files);
                                *exit_status = 125;
                                return -1;
                        }
                        break;
                case 'w': x->workdir = optarg; break;
                case 'u': x->user = optarg; break;
                case 'P': x->privileged = true; break;
                case 'K': x->detach_keys = optarg; break;
                case CLI_GETOPT_HELP: *exit_status = 0; json_decref(files); return -1;
                default: *exit_status = 125; json_decref(files); return -1;
                }
        }
        /* --env-file first, then -e, as docker's ReadKVEnvStrings */
        json_array_extend(files, x->env);
        json_decref(x->env);
        x->env = files;
        if (argc - optind < 2) {
                *exit_status = cli_usage_error("exec", "requires at least 2 arguments");
                return -1;
        }
        return 0;
}

int cmd_exec(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *ct = NULL;
        _cleanup_free_ char *id = NULL, *esc = NULL, *path = NULL;
        struct exec_opts x = { .env = json_array() };
        const char *container;
        int status = 1;

        if (exec_parse(argc, argv, &x, &status) < 0) {
                json_decref(x.env);
                return status;
        }
        container = argv[optind];
        esc = cli_escape_path(container);
        path = xasprintf("/containers/%s/json", esc);
        if (cli_call_json(c, "GET", path, NULL, &ct, &err) < 0)
                goto fail;
        if (!x.detach && x.tty && x.interactive && !isatty(0)) {
                berth_error(&err, 0, "the input device is not a TTY");
                goto fail;
        }
        if (exec_create(c, &x, container, argc - optind - 1, argv + optind + 1, &id, &err) < 0)
                goto fail;
        if (x.detach) {
                _cleanup_response_ struct cli_response resp = { 0 };
                _cleanup_free_ char *body = start_body(c, &x);
                _cleanup_free_ char *spath = xasprintf("/exec/%s/start", id);
                if (cli_call_ok(c, "POST", spath, body, &resp, &err) < 0)
                        goto fail;
                json_decref(x.env);
                return 0;
        }
        status = exec_attached(c, &x, id, &err);
        if (status < 0) {
                status = 1;
                goto fail;
        }
        json_decref(x.env);
        return status;
fail:
        json_decref(x.env);
        cli_print_raw(err);
        return status;
}
