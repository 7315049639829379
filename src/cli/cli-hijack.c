/* Hijacked connections (attach): the request is HTTP, the answer is a 101
 * and from then on the socket carries raw bytes both ways.  libcurl cannot
 * hand a connection over after a response, so this one request is written
 * by hand on a plain unix socket. */
#include "cli/cli.h"
#include <ctype.h>
#include <sys/socket.h>
#include <sys/un.h>

#define HIJACK_HEADERS_MAX 65536

static int connect_unix(struct cli *c, berth_error_t **err)
{
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        _cleanup_close_ int fd = -1;

        if (strlen(c->socket_path) >= sizeof(sa.sun_path))
                return berth_error(err, 0, "socket path too long: %s", c->socket_path);
        strcpy(sa.sun_path, c->socket_path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_error(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return cli_connect_error(c, errno, err);
        return steal_fd(&fd);
}

/* The value of header name in the raw header block, or NULL. */
static char *header_value(const char *headers, const char *name)
{
        size_t nlen = strlen(name);

        for (const char *line = strstr(headers, "\r\n"); line; line = strstr(line, "\r\n")) {
                line += 2;
                if (strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
                        const char *v = line + nlen + 1, *end;
                        while (*v == ' ' || *v == '\t')
                                v++;
                        end = strstr(v, "\r\n");
                        return end ? xasprintf("%.*s", (int)(end - v), v) : xstrdup(v);
                }
        }
        return NULL;
}

/* attach sends no body (text/plain, as docker), exec start a JSON one. */
static int hijack(struct cli *c, const char *path, const char *content_type, const char *body,
                  char **pending, size_t *pending_len, berth_error_t **err)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *vpath = NULL, *req = NULL, *buf = NULL;
        size_t have = 0, cap = 4096;
        char *end = NULL;
        long status;

        *pending = NULL;
        *pending_len = 0;
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        fd = connect_unix(c, err);
        if (fd < 0)
                return -1;
        vpath = cli_versioned(c, path);
        req = xasprintf("POST %s HTTP/1.1\r\n"
                        "Host: api.moby.localhost\r\n"
                        "User-Agent: Berth-Client/" BERTH_VERSION " (linux)\r\n"
                        "Content-Length: %zu\r\n"
                        "Connection: Upgrade\r\n"
                        "Content-Type: %s\r\n"
                        "Upgrade: tcp\r\n"
                        "\r\n%s", vpath, strlen(body), content_type, body);
        if (write_all(fd, req, strlen(req)) < 0)
                return berth_error(err, errno, "write attach request");

        buf = xmalloc(cap);
        while (end == NULL) {
                ssize_t n;
                if (have + 1 >= cap) {
                        if (cap >= HIJACK_HEADERS_MAX)
                                return berth_error(err, 0, "attach: response headers too long");
                        cap *= 2;
                        buf = xrealloc(buf, cap);
                }
                n = read(fd, buf + have, cap - have - 1);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return berth_error(err, errno, "read attach response");
                if (n == 0)
                        return berth_error(err, 0, "attach: connection closed before a response");
                have += (size_t)n;
                buf[have] = '\0';
                end = strstr(buf, "\r\n\r\n");
        }
        end += 4;
        if (sscanf(buf, "HTTP/1.%*d %ld", &status) != 1)
                return berth_error(err, 0, "attach: malformed response");

        if (status >= 400) {
                struct cli_response resp = { .status = status };
                _cleanup_free_ char *clen = header_value(buf, "Content-Length");
                size_t want = clen ? (size_t)strtoul(clen, NULL, 10) : 0;
                size_t body_have = have - (size_t)(end - buf);
                _cleanup_free_ char *body = NULL;

                if (want > 1 << 20)
                        want = 1 << 20;
                body = xmalloc(want > body_have ? want + 1 : body_have + 1);
                memcpy(body, end, body_have);
                while (body_have < want) {
                        ssize_t n = read(fd, body + body_have, want - body_have);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                break;
                        body_have += (size_t)n;
                }
                body[body_have] = '\0';
                resp.body = body;
                resp.len = body_have;
                return cli_daemon_error(&resp, err);
        }
        if (status != 101 && status != 200)
                return berth_error(err, 0, "attach: unexpected response status %ld", status);
        *pending_len = have - (size_t)(end - buf);
        if (*pending_len > 0) {
                *pending = xmalloc(*pending_len);
                memcpy(*pending, end, *pending_len);
        }
        return steal_fd(&fd);
}

int cli_hijack(struct cli *c, const char *path, char **pending, size_t *pending_len,
               berth_error_t **err)
{
        return hijack(c, path, "text/plain", "", pending, pending_len, err);
}

int cli_hijack_json(struct cli *c, const char *path, const char *json_body, char **pending,
                    size_t *pending_len, berth_error_t **err)
{
        return hijack(c, path, "application/json", json_body, pending, pending_len, err);
}
