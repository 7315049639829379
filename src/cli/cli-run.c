/* create, run and start: the request sequences docker uses.  A foreground
 * run is create -> attach (hijacked) -> wait (long poll, sent before the
 * start so no exit can be missed) -> start -> stream until the output
 * ends -> exit with the status the wait returned.  A create that answers
 * 404 "No such image" pulls the image and tries once more. */
#include "cli/cli.h"

/* Exit status for a failed start, from the message as docker decides it:
 * the command was not found, or could not be executed. */
static int start_error_status(const char *msg)
{
        if (strstr(msg, "executable file not found") || strstr(msg, "no such file or directory") ||
            strstr(msg, "system cannot find the file specified"))
                return 127;
        if (strstr(msg, "permission denied") || strstr(msg, "is a directory"))
                return 126;
        return CLI_EXIT_DAEMON;
}

/* "busybox:latest", "127.0.0.1:5000/app:v1": the name docker shows in
 * "Unable to find image". */
static char *familiar_ref(const char *image, char **full)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct cli_ref r;
        char *out;

        *full = NULL;
        if (cli_ref_parse(image, &r, &err) < 0)
                return xstrdup(image);
        _cleanup_free_ char *name = cli_ref_familiar_name(r.name);
        if (r.digest) {
                out = xasprintf("%s@%s", name, r.digest);
                *full = xasprintf("%s@%s", r.name, r.digest);
        } else {
                out = xasprintf("%s:%s", name, r.tag ? r.tag : "latest");
                *full = xasprintf("%s:%s", r.name, r.tag ? r.tag : "latest");
        }
        cli_ref_free(&r);
        return out;
}

/* An endpoint's MAC address means nothing to a daemon older than API
 * 1.44 (it took one per container): docker refuses rather than drop it. */
static int check_mac_api(struct cli *c, json_t *body, berth_error_t **err)
{
        json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig"), *ep;
        const char *key;

        json_object_foreach(eps, key, ep) {
                const char *mac = json_string_value(json_object_get(ep, "MacAddress"));
                if (mac && *mac && !cli_api_at_least(c, 1, 44))
                        return berth_fail(err, 0,
                                          "\"specify mac-address per network\" requires API version 1.44, but the Berth daemon API version is %s",
                                          c->api_version);
        }
        return 0;
}

static int create_container(struct cli *c, struct run_opts *o, char **id, berth_error_t **err)
{
        _cleanup_free_ char *body = json_dumps(o->body, JSON_COMPACT);
        _cleanup_free_ char *path = NULL, *name = NULL, *plat = NULL, *full = NULL;
        _cleanup_free_ char *familiar = familiar_ref(o->image, &full);
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_json_ json_t *j = NULL;
        size_t i;
        json_t *w;

        name = o->name ? cli_escape_query(o->name) : NULL;
        plat = o->platform ? cli_escape_query(o->platform) : NULL;
        path = xasprintf("/containers/create%s%s%s%s%s", name || plat ? "?" : "", name ? "name=" : "",
                         name ? name : "", plat ? (name ? "&platform=" : "platform=") : "", plat ? plat : "");
        if (strcmp(o->pull, "always") == 0) {
                if (cli_pull_image(c, full ? full : o->image, o->platform, stderr, err) < 0)
                        return -1;
        }
        if (check_mac_api(c, o->body, err) < 0)
                return -1;
        if (cli_call(c, "POST", path, body, &resp, err) < 0)
                return -1;
        if (resp.status == 404 && strcmp(o->pull, "missing") == 0 && strstr(resp.body, "No such image")) {
                fprintf(stderr, "Unable to find image '%s' locally\n", familiar);
                if (cli_pull_image(c, full ? full : o->image, o->platform, stderr, err) < 0)
                        return -1;
                cli_response_free(&resp);
                if (cli_call(c, "POST", path, body, &resp, err) < 0)
                        return -1;
        }
        if (resp.status >= 400)
                return cli_daemon_error(&resp, err);
        j = json_loadb(resp.body, resp.len, 0, NULL);
        if (!json_is_string(json_object_get(j, "Id")))
                return berth_error(err, 0, "invalid create response from the daemon");
        json_array_foreach(json_object_get(j, "Warnings"), i, w)
                fprintf(stderr, "WARNING: %s\n", json_string_value(w) ? json_string_value(w) : "");
        *id = xstrdup(json_string_value(json_object_get(j, "Id")));
        return 0;
}

static int start_container(struct cli *c, const char *id, berth_error_t **err)
{
        _cleanup_response_ struct cli_response resp = { 0 };
        _cleanup_free_ char *esc = cli_escape_path(id);
        _cleanup_free_ char *path = xasprintf("/containers/%s/start", esc);

        return cli_call_ok(c, "POST", path, NULL, &resp, err);
}

int cmd_create(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *id = NULL;
        struct run_opts o;
        int status;

        if (run_opts_parse(argc, argv, "create", &o, &status) < 0)
                return status;
        /* unlike run, docker's create prints the failure as it is and
         * exits 1 */
        if (create_container(c, &o, &id, &err) < 0) {
                run_opts_free(&o);
                cli_print_raw(err);
                return 1;
        }
        printf("%s\n", id);
        run_opts_free(&o);
        return 0;
}

/* Attach, wait, start, stream: the foreground part of run and start -a. */
static int attached_start(struct cli *c, const char *cmd, const char *id, bool stdin_, bool tty, bool sig_proxy,
                          const char *detach_keys, const char *condition, bool start)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *wait_path = NULL;
        struct cli_async wait = { 0 };
        struct attach_opts a = {
                .id = id, .stdin_ = stdin_, .stdout_ = true, .stderr_ = true, .tty = tty,
                .sig_proxy = sig_proxy, .detach_keys = detach_keys, .wait = &wait, .attach_fd = -1,
        };
        int status = CLI_EXIT_DAEMON;

        if (attach_open(c, &a, &err) < 0)
                goto fail;
        wait_path = xasprintf("/containers/%s/wait?condition=%s", id, condition);
        if (cli_async_start(c, &wait, "POST", wait_path, &err) < 0)
                goto fail;
        if (start && start_container(c, id, &err) < 0) {
                status = start_error_status(err->msg);
                if (strcmp(condition, "removed") == 0) {
                        /* let the daemon finish removing it, as docker does */
                        _cleanup_response_ struct cli_response resp = { 0 };
                        _cleanup_error_ berth_error_t *werr = NULL;
                        cli_async_finish(&wait, &resp, &werr);
                }
                goto fail;
        }
        if (tty)
                attach_resize(c, id, false, 0);
        if (attach_run(c, &a, &status, &err) < 0) {
                status = CLI_EXIT_DAEMON;
                goto fail;
        }
        if (a.attach_fd >= 0)
                close(a.attach_fd);
        free(a.pending);
        cli_async_free(&wait);
        return status;
fail:
        if (a.attach_fd >= 0)
                close(a.attach_fd);
        free(a.pending);
        cli_async_free(&wait);
        if (strcmp(cmd, "start") == 0) {
                cli_print_error(err);
                return status == CLI_EXIT_DAEMON ? 1 : status;
        }
        return cli_run_error(cmd, err, status);
}

int cmd_run(struct cli *c, int argc, char **argv)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *id = NULL;
        struct run_opts o;
        int status;

        if (run_opts_parse(argc, argv, "run", &o, &status) < 0)
                return status;
        if (o.tty && o.interactive && !o.detach && !isatty(0)) {
                run_opts_free(&o);
                fprintf(stderr, "the input device is not a TTY\n");
                return 1;
        }
        if (create_container(c, &o, &id, &err) < 0) {
                run_opts_free(&o);
                return cli_run_error("run", err, CLI_EXIT_DAEMON);
        }
        if (o.detach) {
                run_opts_free(&o);
                if (start_container(c, id, &err) < 0)
                        return cli_run_error("run", err, start_error_status(err->msg));
                printf("%s\n", id);
                return 0;
        }
        status = attached_start(c, "run", id, o.interactive, o.tty, o.sig_proxy, o.detach_keys,
                                o.rm ? "removed" : "next-exit", true);
        run_opts_free(&o);
        return status;
}

int cmd_start(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "attach", no_argument, NULL, 'a' },
                { "interactive", no_argument, NULL, 'i' },
                { "detach-keys", required_argument, NULL, 'K' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        bool attach = false, interactive = false;
        const char *detach_keys = NULL;
        int o;

        while ((o = cli_getopt(argc, argv, ":ai", longopts, "start")) != -1) {
                switch (o) {
                case 'a': attach = true; break;
                case 'i': interactive = true; break;
                case 'K': detach_keys = optarg; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (optind >= argc)
                return cli_usage_error("start", "requires at least 1 argument");
        if (attach || interactive) {
                _cleanup_json_ json_t *ct = NULL;
                _cleanup_free_ char *name = NULL, *path = NULL;
                json_t *config;

                if (argc - optind > 1) {
                        fprintf(stderr, "Error: you cannot start and attach multiple containers at once\n");
                        return 1;
                }
                name = cli_escape_path(argv[optind]);
                path = xasprintf("/containers/%s/json", name);
                if (cli_call_json(c, "GET", path, NULL, &ct, &err) < 0) {
                        cli_print_error(err);
                        return 1;
                }
                config = json_object_get(ct, "Config");
                const char *id = json_string_value(json_object_get(ct, "Id"));
                bool tty = json_is_true(json_object_get(config, "Tty"));
                bool open_stdin = json_is_true(json_object_get(config, "OpenStdin"));
                if (tty && interactive && open_stdin && !isatty(0)) {
                        fprintf(stderr, "the input device is not a TTY\n");
                        return 1;
                }
                return attached_start(c, "start", id ? id : argv[optind], interactive && open_stdin, tty, !tty,
                                      detach_keys, "next-exit", true);
        }

        /* docker lists the ones that failed at the end */
        _cleanup_free_ char *failed = xstrdup("");
        for (int i = optind; i < argc; i++) {
                berth_error_free(&err);
                if (start_container(c, argv[i], &err) < 0) {
                        fflush(stdout);
                        cli_print_error(err);
                        char *f = xasprintf("%s%s%s", failed, *failed ? ", " : "", argv[i]);
                        free(failed);
                        failed = f;
                        continue;
                }
                printf("%s\n", argv[i]);
                fflush(stdout);
        }
        if (*failed) {
                fprintf(stderr, "Error: failed to start containers: %s\n", failed);
                return 1;
        }
        return 0;
}
