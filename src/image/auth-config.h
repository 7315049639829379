/* Registry credentials in a Docker-style config.json:
 *
 *   {"auths": {"myreg:5000": {"auth": "<base64 of user:password>"}}}
 *
 * The file is $DOCKER_CONFIG/config.json, else ~/.docker/config.json, or
 * one given by path.  Keys: Docker Hub ("docker.io", "index.docker.io",
 * "registry-1.docker.io") is "https://index.docker.io/v1/", as docker
 * writes it; any other registry is its host[:port].  Entries written as a
 * URL ("https://host", "http://host/v2/") match their host too.  Writes
 * keep every other key and host of the file and leave it mode 0600.
 *
 * credsStore and credHelpers (external credential helpers) are not used:
 * credentials kept by a helper are not found here, and a login written
 * here goes to the file even when the file names a helper. */
#pragma once
#include "util/error.h"

/* The default file: $DOCKER_CONFIG/config.json or $HOME/.docker/config.json;
 * NULL when neither variable is set. */
char *auth_config_default_path(void);

/* The key a host's credentials are stored under. */
char *auth_config_key(const char *host);

/* path NULL: the default file.  0 and *user, *pass set when found; 1 when
 * the file or an entry for host is missing (or an entry has no user and
 * password, e.g. an identity token only); <0 on error. */
int auth_config_get(const char *path, const char *host, char **user, char **pass, berth_error_t **err);

/* Store user and password for host (creating the file and its directory),
 * replacing the entries that name the same host. */
int auth_config_set(const char *path, const char *host, const char *user, const char *pass, berth_error_t **err);

/* Forget host: 0 when entries were removed, 1 when there were none. */
int auth_config_remove(const char *path, const char *host, berth_error_t **err);
