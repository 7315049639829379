/* Docker-style config.json credentials.  See auth-config.h. */
#include "image/auth-config.h"
#include "util/base64.h"
#include "util/util.h"

#include <ctype.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <sys/stat.h>

#define HUB_KEY "https://index.docker.io/v1/"

char *auth_config_default_path(void)
{
        const char *d = getenv("DOCKER_CONFIG"), *home = getenv("HOME");

        if (d && *d)
                return xasprintf("%s/config.json", d);
        if (home && *home)
                return xasprintf("%s/.docker/config.json", home);
        return NULL;
}

/* The host of a key or a host given by the user: no scheme, nothing from
 * the first '/', lowercase; Docker Hub's names all become "docker.io". */
static char *canonical_host(const char *s)
{
        static const char *const hub[] = { "docker.io", "index.docker.io", "registry-1.docker.io" };

        if (strncasecmp(s, "https://", 8) == 0)
                s += 8;
        else if (strncasecmp(s, "http://", 7) == 0)
                s += 7;
        char *h = strndup(s, strcspn(s, "/"));
        if (h == NULL)
                abort();
        for (char *p = h; *p; p++)
                *p = (char)tolower((unsigned char)*p);
        for (size_t i = 0; i < ARRAY_SIZE(hub); i++) {
                if (strcmp(h, hub[i]) == 0) {
                        free(h);
                        return xstrdup("docker.io");
                }
        }
        return h;
}

char *auth_config_key(const char *host)
{
        char *h = canonical_host(host);
        if (strcmp(h, "docker.io") != 0)
                return h;
        free(h);
        return xstrdup(HUB_KEY);
}

static int resolve_path(const char *path, char **out, berth_error_t **err)
{
        *out = path ? xstrdup(path) : auth_config_default_path();
        if (*out == NULL)
                return berth_error(err, ENOENT, "registry credentials: neither DOCKER_CONFIG nor HOME is set");
        return 0;
}

/* The file's JSON object (an empty one when the file does not exist) and
 * its "auths" object (created when absent). */
static int load(const char *path, json_t **root, json_t **auths, bool *missing, berth_error_t **err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        json_error_t je;

        *missing = false;
        if (read_file(path, &text, &len, err) < 0) {
                if ((*err)->status != ENOENT)
                        return -1;
                berth_error_free(err);
                *missing = true;
                text = xstrdup("{}");
                len = 2;
        }
        *root = json_loadb(text, len, 0, &je);
        if (*root == NULL)
                return berth_error(err, EINVAL, "credentials file %s: invalid JSON at line %d: %s", path, je.line,
                                   je.text);
        if (!json_is_object(*root)) {
                json_decref(*root);
                return berth_error(err, EINVAL, "credentials file %s: the top level is not a JSON object", path);
        }
        *auths = json_object_get(*root, "auths");
        if (*auths == NULL) {
                *auths = json_object();
                json_object_set_new(*root, "auths", *auths);
        }
        if (!json_is_object(*auths)) {
                json_decref(*root);
                return berth_error(err, EINVAL, "credentials file %s: \"auths\" is not a JSON object", path);
        }
        return 0;
}

/* Write via a temp file made 0600 from the start (credentials never sit
 * in a world-readable file, not even for a moment), fsync, rename.  A
 * symlinked config.json has its target replaced, not the link. */
static int write_private(const char *path, const char *data, size_t len, berth_error_t **err)
{
        struct stat st;
        _cleanup_free_ char *target = NULL;

        if (lstat(path, &st) == 0 && S_ISLNK(st.st_mode) && (target = realpath(path, NULL)) == NULL)
                return berth_error(err, errno, "credentials file %s: resolve the link", path);
        if (target)
                path = target;
        _cleanup_free_ char *dir = xstrdup(path);
        if (mkdir_p(dirname(dir), 0700, err) < 0)
                return berth_error_wrap(err, "credentials file %s", path);
        _cleanup_free_ char *tmp = xasprintf("%s.tmp.XXXXXX", path);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return berth_error(err, errno, "credentials file %s: create a temporary file", path);
        int r = 0;
        if (write_all(fd, data, len) < 0 || fsync(fd) < 0)
                r = berth_error(err, errno, "credentials file %s: write %s", path, tmp);
        else if (rename(tmp, path) < 0)
                r = berth_error(err, errno, "credentials file %s: rename %s", path, tmp);
        if (r < 0)
                unlink(tmp);
        return r;
}

static int save(const char *path, json_t *root, berth_error_t **err)
{
        _cleanup_free_ char *text = json_dumps(root, JSON_INDENT(4));
        if (text == NULL)
                return berth_error(err, ENOMEM, "credentials file %s: encode JSON", path);
        size_t len = strlen(text);
        text = xrealloc(text, len + 2);
        strcpy(text + len, "\n");
        int r = write_private(path, text, len + 1, err);
        explicit_bzero(text, len);
        return r;
}

/* The key of host's entry: its exact key, else any key naming the same
 * host; NULL when there is none.  Valid while the entry is. */
static const char *find_key(json_t *auths, const char *host)
{
        _cleanup_free_ char *key = auth_config_key(host);
        _cleanup_free_ char *want = canonical_host(host);
        const char *k;
        json_t *v;

        json_object_foreach(auths, k, v) {
                if (strcmp(k, key) == 0)
                        return k;
        }
        json_object_foreach(auths, k, v) {
                _cleanup_free_ char *h = canonical_host(k);
                if (strcmp(h, want) == 0)
                        return k;
        }
        return NULL;
}

/* base64 of "user:pass" → user, pass. */
static int decode_auth(const char *b64, char **user, char **pass)
{
        size_t len = 0;
        _cleanup_free_ char *out = base64_decode(b64, &len);

        if (out == NULL)
                return -1;
        char *colon = memchr(out, ':', len);
        if (colon == NULL || strlen(out) != len) {
                explicit_bzero(out, len);
                return -1;
        }
        *user = strndup(out, (size_t)(colon - out));
        *pass = xstrdup(colon + 1);
        explicit_bzero(out, len);
        return *user ? 0 : -1;
}

static int entry_credentials(const char *path, const char *key, json_t *e, char **user, char **pass,
                             berth_error_t **err)
{
        const char *a = json_string_value(json_object_get(e, "auth"));
        const char *u = json_string_value(json_object_get(e, "username"));
        const char *p = json_string_value(json_object_get(e, "password"));

        if (a && *a) {
                if (decode_auth(a, user, pass) < 0) {
                        _cleanup_free_ char *q = quote(key);
                        return berth_error(err, EINVAL, "credentials file %s: entry %s: \"auth\" is not base64 of "
                                           "user:password", path, q);
                }
                return 0;
        }
        if (u && *u) {
                *user = xstrdup(u);
                *pass = xstrdup(p ? p : "");
                return 0;
        }
        return 1;
}

int auth_config_get(const char *path, const char *host, char **user, char **pass, berth_error_t **err)
{
        _cleanup_free_ char *file = NULL;
        json_t *root, *auths;
        bool missing;

        if (resolve_path(path, &file, err) < 0 || load(file, &root, &auths, &missing, err) < 0)
                return -1;
        const char *key = find_key(auths, host);
        json_t *e = key ? json_object_get(auths, key) : NULL;
        int r = json_is_object(e) ? entry_credentials(file, key, e, user, pass, err) : 1;
        json_decref(root);
        return r;
}

/* Remove every entry naming host; how many went. */
static size_t remove_entries(json_t *auths, const char *host)
{
        size_t n = 0;
        const char *k;

        for (; (k = find_key(auths, host)) != NULL; n++)
                json_object_del(auths, k);
        return n;
}

int auth_config_set(const char *path, const char *host, const char *user, const char *pass, berth_error_t **err)
{
        _cleanup_free_ char *file = NULL;
        json_t *root, *auths;
        bool missing;

        if (strchr(user, ':') != NULL)
                return berth_error(err, EINVAL, "registry credentials for %s: a user name cannot contain ':'", host);
        if (resolve_path(path, &file, err) < 0 || load(file, &root, &auths, &missing, err) < 0)
                return -1;
        remove_entries(auths, host);
        _cleanup_free_ char *up = xasprintf("%s:%s", user, pass);
        size_t n = strlen(up);
        _cleanup_free_ char *b64 = base64_encode(up, n, false);
        explicit_bzero(up, n);
        _cleanup_free_ char *key = auth_config_key(host);
        json_object_set_new(auths, key, json_pack("{s:s}", "auth", b64));
        explicit_bzero(b64, strlen(b64));
        int r = save(file, root, err);
        json_decref(root);
        return r;
}

int auth_config_remove(const char *path, const char *host, berth_error_t **err)
{
        _cleanup_free_ char *file = NULL;
        json_t *root, *auths;
        bool missing;

        if (resolve_path(path, &file, err) < 0 || load(file, &root, &auths, &missing, err) < 0)
                return -1;
        int r = 1;
        if (!missing && remove_entries(auths, host) > 0)
                r = save(file, root, err);
        json_decref(root);
        return r;
}
