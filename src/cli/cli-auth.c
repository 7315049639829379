/* Registry credentials as docker keeps them: login and logout edit
 * $DOCKER_CONFIG/config.json (else ~/.docker/config.json), "auths" maps a
 * registry to base64("user:password"); pull and push send the ones stored
 * for the image's registry as X-Registry-Auth (base64url of the JSON
 * AuthConfig), or "e30=" ({}) when there are none.  Credential helpers
 * (credsStore) are not run: the file is the only store. */
#include "cli/cli.h"
#include "util/base64.h"
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <termios.h>

#define INDEX_SERVER "https://index.docker.io/v1/"

static char *config_dir(void)
{
        const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

        if (d && *d)
                return xstrdup(d);
        if (home == NULL || *home == '\0') {
                struct passwd *pw = getpwuid(getuid());
                home = pw ? pw->pw_dir : "/";
        }
        return xasprintf("%s/.docker", home);
}

static char *config_path(void)
{
        _cleanup_free_ char *dir = config_dir();
        return xasprintf("%s/config.json", dir);
}

/* The config file's object; an empty one when there is no file. */
static json_t *config_load(berth_error_t **err)
{
        _cleanup_free_ char *path = config_path();
        json_error_t jerr;
        json_t *cfg;

        if (access(path, F_OK) < 0)
                return json_object();
        cfg = json_load_file(path, 0, &jerr);
        if (!json_is_object(cfg)) {
                json_decref(cfg);
                berth_error(err, 0, "loading config file: %s: %s", path, jerr.text);
                return NULL;
        }
        return cfg;
}

/* Go's json.MarshalIndent(cfg, "", "\t"): jansson indents with spaces, so
 * each line's leading spaces (one per level) become tabs. */
static char *tab_indent(const char *s)
{
        size_t n = strlen(s);
        char *out = xmalloc(n + 2), *o = out;
        bool line_start = true;

        for (; *s; s++) {
                if (line_start && *s == ' ') {
                        *o++ = '\t';
                        continue;
                }
                line_start = *s == '\n';
                *o++ = *s;
        }
        *o = '\0';
        return out;
}

static int config_save(json_t *cfg, berth_error_t **err)
{
        _cleanup_free_ char *dir = config_dir(), *path = config_path();
        _cleanup_free_ char *tmp = NULL, *text = NULL, *tabbed = NULL;
        _cleanup_close_ int fd = -1;

        if (mkdir_p(dir, 0700, err) < 0)
                return -1;
        text = json_dumps(cfg, JSON_INDENT(1) | JSON_PRESERVE_ORDER);
        tabbed = tab_indent(text ? text : "{}");
        tmp = xasprintf("%s/config.json.XXXXXX", dir);
        fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "Error saving credentials: create %s", tmp);
        if (write_all(fd, tabbed, strlen(tabbed)) < 0 || fchmod(fd, 0600) < 0 || fsync(fd) < 0 ||
            rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return berth_error(err, e, "Error saving credentials: write %s", path);
        }
        return 0;
}

/* credentials.ConvertToHostname: no scheme, no path. */
static char *to_hostname(const char *addr)
{
        const char *s = addr;

        if (str_has_prefix(s, "http://"))
                s += 7;
        else if (str_has_prefix(s, "https://"))
                s += 8;
        return xasprintf("%.*s", (int)strcspn(s, "/"), s);
}

/* The stored entry for key: exact, else any key naming the same host. */
static json_t *stored_entry(json_t *cfg, const char *key)
{
        json_t *auths = json_object_get(cfg, "auths"), *e = json_object_get(auths, key);
        const char *k;

        if (e)
                return e;
        json_object_foreach(auths, k, e) {
                _cleanup_free_ char *h = to_hostname(k);
                if (strcmp(h, key) == 0)
                        return e;
        }
        return NULL;
}

/* user and password of an entry ("auth" or the older separate fields). */
static bool entry_credentials(json_t *e, char **user, char **password)
{
        const char *auth = json_string_value(json_object_get(e, "auth"));
        _cleanup_free_ char *dec = NULL;
        char *colon;

        *user = *password = NULL;
        if (auth && *auth) {
                dec = base64_decode(auth, NULL);
                colon = dec ? strchr(dec, ':') : NULL;
                if (colon == NULL)
                        return false;
                *colon = '\0';
                *user = xstrdup(dec);
                *password = xstrdup(colon + 1);
                return true;
        }
        if (json_string_value(json_object_get(e, "username"))) {
                *user = xstrdup(json_string_value(json_object_get(e, "username")));
                *password = xstrdup(json_string_value(json_object_get(e, "password")) ?: "");
                return true;
        }
        return false;
}

/* registry.AuthConfig as JSON (Go's field order, empty fields left out). */
static json_t *auth_config(const char *user, const char *password, const char *server, const char *token)
{
        json_t *a = json_object();

        if (user && *user)
                json_object_set_new(a, "username", json_string(user));
        if (password && *password)
                json_object_set_new(a, "password", json_string(password));
        if (server && *server)
                json_object_set_new(a, "serveraddress", json_string(server));
        if (token && *token)
                json_object_set_new(a, "identitytoken", json_string(token));
        return a;
}

char *cli_registry_auth_header(const char *name)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *cfg = config_load(&err), *a = NULL;
        _cleanup_free_ char *domain = xasprintf("%.*s", (int)strcspn(name, "/"), name);
        _cleanup_free_ char *user = NULL, *password = NULL, *text = NULL, *enc = NULL;
        const char *key = strcmp(domain, "docker.io") == 0 ? INDEX_SERVER : domain;
        json_t *e = cfg ? stored_entry(cfg, key) : NULL;

        if (e == NULL || !entry_credentials(e, &user, &password))
                return xstrdup("X-Registry-Auth: e30=");
        a = auth_config(user, password, key, json_string_value(json_object_get(e, "identitytoken")));
        text = json_dumps(a, JSON_COMPACT | JSON_PRESERVE_ORDER);
        enc = base64_encode(text, strlen(text), true);
        return xasprintf("X-Registry-Auth: %s", enc);
}

static int cmp_str(const void *a, const void *b)
{
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

char *cli_registry_config_header(void)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *cfg = config_load(&err), *all = json_object();
        _cleanup_free_ const char **keys = NULL;
        _cleanup_free_ char *text = NULL, *enc = NULL;
        json_t *auths = json_object_get(cfg, "auths"), *e;
        const char *k;
        size_t n = 0;

        /* every stored registry, keys sorted as Go marshals a map */
        keys = xcalloc(json_object_size(auths) + 1, sizeof(char *));
        json_object_foreach(auths, k, e)
                keys[n++] = k;
        qsort(keys, n, sizeof(char *), cmp_str);
        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *user = NULL, *password = NULL;
                e = json_object_get(auths, keys[i]);
                if (!entry_credentials(e, &user, &password))
                        continue;
                json_object_set_new(all, keys[i], auth_config(user, password, keys[i],
                                                              json_string_value(json_object_get(e, "identitytoken"))));
        }
        text = json_dumps(all, JSON_COMPACT | JSON_PRESERVE_ORDER);
        enc = base64_encode(text, strlen(text), true);
        return xasprintf("X-Registry-Config: %s", enc);
}

static int store_credentials(const char *server, const char *user, const char *password, const char *token,
                             berth_error_t **err)
{
        _cleanup_json_ json_t *cfg = config_load(err);
        _cleanup_free_ char *pair = NULL, *auth = NULL, *path = config_path();
        json_t *auths, *entry;

        if (cfg == NULL)
                return -1;
        auths = json_object_get(cfg, "auths");
        if (!json_is_object(auths)) {
                auths = json_object();
                json_object_set_new(cfg, "auths", auths);
        }
        /* with an identity token the password is not kept */
        pair = xasprintf("%s:%s", user, token && *token ? "" : password);
        auth = base64_encode(pair, strlen(pair), false);
        entry = json_pack("{s:s}", "auth", auth);
        if (token && *token)
                json_object_set_new(entry, "identitytoken", json_string(token));
        json_object_set_new(auths, server, entry);
        if (config_save(cfg, err) < 0)
                return -1;
        fprintf(stderr, "\nWARNING! Your credentials are stored unencrypted in '%s'.\n"
                        "Configure a credential helper to remove this warning. See\n"
                        "https://docs.docker.com/go/credential-store/\n\n", path);
        return 0;
}

/* POST /auth; the daemon's Status ("Login Succeeded") in *status. */
static int registry_login(struct cli *c, const char *server, const char *user, const char *password,
                          char **status, char **token, berth_error_t **err)
{
        _cleanup_json_ json_t *body = auth_config(user, password, server, NULL), *res = NULL;
        _cleanup_free_ char *s = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);

        if (cli_call_json(c, "POST", "/auth", s, &res, err) < 0)
                return -1;
        *status = xstrdup(json_string_value(json_object_get(res, "Status")) ?: "");
        *token = xstrdup(json_string_value(json_object_get(res, "IdentityToken")) ?: "");
        return 0;
}

/* A line from stdin without its newline; echo off for a password. */
static char *prompt(const char *label, bool secret)
{
        struct termios old, quiet;
        bool restore = false;
        char line[1024];

        printf("%s", label);
        fflush(stdout);
        if (secret && tcgetattr(0, &old) == 0) {
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t)ECHO;
                restore = tcsetattr(0, TCSAFLUSH, &quiet) == 0;
        }
        if (fgets(line, sizeof(line), stdin) == NULL)
                line[0] = '\0';
        if (restore) {
                tcsetattr(0, TCSAFLUSH, &old);
                printf("\n");
        }
        line[strcspn(line, "\r\n")] = '\0';
        return xstrdup(line);
}

static char *read_stdin_all(void)
{
        size_t cap = 256, len = 0;
        char *buf = xmalloc(cap);
        size_t n;

        while ((n = fread(buf + len, 1, cap - len - 1, stdin)) > 0) {
                len += n;
                if (len + 1 == cap)
                        buf = xrealloc(buf, cap *= 2);
        }
        buf[len] = '\0';
        /* docker trims one "\n", then one "\r" */
        if (len > 0 && buf[len - 1] == '\n')
                buf[--len] = '\0';
        if (len > 0 && buf[len - 1] == '\r')
                buf[--len] = '\0';
        return buf;
}

/* Credentials from the flags, else prompted on a terminal. */
static int ask_credentials(const char *server, char **user, char **password, berth_error_t **err)
{
        if ((*user == NULL || *password == NULL) && !isatty(0))
                return berth_error(err, 0, "Error: Cannot perform an interactive login from a non TTY device");
        if (*user == NULL) {
                if (strcmp(server, INDEX_SERVER) == 0)
                        printf("Log in with your Docker ID or email address to push and pull images from Docker Hub.\n\n");
                *user = prompt("Username: ", false);
                if (**user == '\0')
                        return berth_error(err, 0, "Error: Non-null Username Required");
        }
        if (*password == NULL) {
                *password = prompt("Password: ", true);
                if (**password == '\0')
                        return berth_error(err, 0, "Error: Password Required");
        }
        return 0;
}

/* docker first tries what is stored when no credentials were given. */
static int login_stored(struct cli *c, const char *server, char **status)
{
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *cfg = config_load(&err);
        _cleanup_free_ char *user = NULL, *password = NULL, *token = NULL;
        json_t *e = cfg ? stored_entry(cfg, server) : NULL;

        if (e == NULL || !entry_credentials(e, &user, &password) || !*user || !*password)
                return -1;
        printf("Authenticating with existing credentials... [Username: %s]\n"
               "To login with a different account, run 'berth logout' followed by 'berth login'\n\n", user);
        if (registry_login(c, server, user, password, status, &token, &err) < 0) {
                fprintf(stderr, "Login did not succeed, error: %s\n", err->msg);
                return -1;
        }
        berth_error_free(&err);
        if (store_credentials(server, user, password, token, &err) < 0) {
                cli_print_raw(err);
                return -1;
        }
        return 0;
}

int cmd_login(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = {
                { "username", required_argument, NULL, 'u' },
                { "password", required_argument, NULL, 'p' },
                { "password-stdin", no_argument, NULL, 'S' },
                CLI_OPT_HELP, CLI_OPT_END,
        };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_free_ char *user = NULL, *password = NULL, *server = NULL, *status = NULL, *token = NULL;
        bool from_stdin = false;
        int o;

        while ((o = cli_getopt(argc, argv, ":u:p:", longopts, "login")) != -1) {
                switch (o) {
                case 'u': free(user); user = xstrdup(optarg); break;
                case 'p': free(password); password = xstrdup(optarg); break;
                case 'S': from_stdin = true; break;
                case CLI_GETOPT_HELP: return 0;
                default: return 125;
                }
        }
        if (argc - optind > 1)
                return cli_usage_error("login", "requires at most 1 argument");
        if (password) {
                fprintf(stderr, "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n");
                if (from_stdin) {
                        fprintf(stderr, "--password and --password-stdin are mutually exclusive\n");
                        return 1;
                }
        }
        if (from_stdin) {
                if (user == NULL) {
                        fprintf(stderr, "Must provide --username with --password-stdin\n");
                        return 1;
                }
                password = read_stdin_all();
        }
        if (optind < argc && strcmp(argv[optind], "docker.io") != 0)
                server = to_hostname(argv[optind]);
        else
                server = xstrdup(INDEX_SERVER);
        if (user || password || login_stored(c, server, &status) < 0) {
                free(status);
                status = NULL;
                if (ask_credentials(server, &user, &password, &err) < 0 ||
                    registry_login(c, server, user, password, &status, &token, &err) < 0 ||
                    store_credentials(server, user, password, token, &err) < 0) {
                        cli_print_raw(err);
                        return 1;
                }
        }
        if (status && *status)
                printf("%s\n", status);
        return 0;
}

int cmd_logout(struct cli *c, int argc, char **argv)
{
        static const struct option longopts[] = { CLI_OPT_HELP, CLI_OPT_END };
        _cleanup_error_ berth_error_t *err = NULL;
        _cleanup_json_ json_t *cfg = NULL;
        _cleanup_free_ char *host = NULL, *path = config_path();
        const char *server;
        json_t *auths;
        int o;

        (void)c;
        while ((o = cli_getopt(argc, argv, ":", longopts, "logout")) != -1)
                return o == CLI_GETOPT_HELP ? 0 : 125;
        if (argc - optind > 1)
                return cli_usage_error("logout", "requires at most 1 argument");
        server = optind < argc ? argv[optind] : INDEX_SERVER;
        host = optind < argc ? to_hostname(server) : xstrdup(server);
        printf("Removing login credentials for %s\n", host);
        cfg = config_load(&err);
        if (cfg == NULL) {
                cli_print_raw(err);
                return 1;
        }
        auths = json_object_get(cfg, "auths");
        /* every spelling docker may have stored the registry under */
        const char *forms[] = { server, host, NULL, NULL };
        _cleanup_free_ char *http = xasprintf("http://%s", host), *https = xasprintf("https://%s", host);
        forms[2] = http;
        forms[3] = https;
        for (size_t i = 0; i < ARRAY_SIZE(forms) && auths; i++)
                json_object_del(auths, forms[i]);
        if (access(path, F_OK) == 0 && config_save(cfg, &err) < 0) {
                fprintf(stderr, "WARNING: could not erase credentials:\n%s: %s\n", host, err->msg);
        }
        return 0;
}
