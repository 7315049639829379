/* Hijacked connections (attach, exec start): the request is HTTP, the
 * answer is a 101 and from then on the socket carries raw bytes both ways.
 * The request goes out on a connection of its own, its response head is
 * read with cli-http.c's parser, and whatever came after the head is the
 * start of the raw stream. */
#include "cli/cli.h"
#include "cli/cli-http.h"

/* An error response's body is read up to this much for its message. */
#define HIJACK_ERROR_BODY_MAX (1 << 20)

static int collect(void *opaque, const char *data, size_t len, berth_error_t **err)
{
        char **body = opaque;
        size_t have = *body ? strlen(*body) : 0;

        (void)err;
        if (have + len > HIJACK_ERROR_BODY_MAX)
                len = HIJACK_ERROR_BODY_MAX - have;
        *body = xrealloc(*body, have + len + 1);
        memcpy(*body + have, data, len);
        (*body)[have + len] = '\0';
        return 0;
}

/* attach sends no body (text/plain, as docker), exec start a JSON one. */
static int hijack(struct cli *c, const char *path, const char *content_type, const char *body,
                  char **pending, size_t *pending_len, berth_error_t **err)
{
        static const char *const upgrade[] = { "Connection: Upgrade", "Upgrade: tcp", NULL };
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *vpath = NULL, *req = NULL, *buf = NULL, *errbody = NULL;
        struct http_parser *p = NULL;
        size_t req_len, have = 0, used = 0;
        int ret = -1;

        *pending = NULL;
        *pending_len = 0;
        if (c->api_version[0] == '\0' && cli_ping(c, err) < 0)
                return -1;
        vpath = cli_versioned(c, path);
        struct http_request_head h = {
                .method = "POST", .target = vpath, .host = "api.moby.localhost",
                .user_agent = "Berth-Client/" BERTH_VERSION " (linux)", .content_type = content_type,
                .content_length = (long long)strlen(body), .headers = upgrade,
        };
        req = http_request_format(&h, &req_len, err);
        if (req == NULL)
                return -1;
        fd = cli_connect(c, err);
        if (fd < 0)
                return -1;
        if (send_all(fd, req, req_len) < 0 || send_all(fd, body, strlen(body)) < 0)
                return berth_error(err, errno, "write attach request");

        p = xmalloc(sizeof(*p));
        http_parser_init(p, false);
        buf = xmalloc(HTTP_HEAD_MAX);
        /* the head, and nothing of the stream after it */
        while (!p->headers_done) {
                ssize_t n = read(fd, buf, HTTP_HEAD_MAX);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        berth_error(err, errno, "read attach response");
                        goto out;
                }
                if (n == 0) {
                        http_parse_eof(p, err);
                        berth_error_wrap(err, "attach");
                        goto out;
                }
                have = (size_t)n;
                used = 0;
                while (used < have && !p->headers_done) {
                        ssize_t k = http_parse(p, buf + used, have - used, err);
                        if (k < 0) {
                                berth_error_wrap(err, "attach");
                                goto out;
                        }
                        used += (size_t)k;
                }
        }

        if (p->status >= 400) {
                struct cli_response resp = { .status = p->status };
                bool eof = false;

                /* its body, as far as it goes, for the daemon's message */
                p->on_data = collect;
                p->opaque = &errbody;
                while (!http_parser_done(p) && !eof) {
                        while (used < have && !http_parser_done(p)) {
                                ssize_t k = http_parse(p, buf + used, have - used, NULL);
                                if (k < 0)
                                        break;
                                used += (size_t)k;
                        }
                        if (p->state == HTTP_ERROR || http_parser_done(p))
                                break;
                        ssize_t n = read(fd, buf, HTTP_HEAD_MAX);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) {
                                http_parse_eof(p, NULL);
                                eof = true;
                        } else {
                                have = (size_t)n;
                                used = 0;
                        }
                }
                resp.body = errbody ? errbody : "";
                resp.len = strlen(resp.body);
                ret = cli_daemon_error(&resp, err);
                goto out;
        }
        if (p->status != 101 && p->status != 200) {
                berth_error(err, 0, "attach: unexpected response status %d", p->status);
                goto out;
        }
        *pending_len = have - used;
        if (*pending_len > 0) {
                *pending = xmalloc(*pending_len);
                memcpy(*pending, buf + used, *pending_len);
        }
        ret = steal_fd(&fd);
out:
        free(p);
        return ret;
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
