/* TLS for TCP listeners, with gnutls: the server's credentials, one
 * session per connection, dockerd's --tlsverify check of the client's
 * certificate, and the relay that lets hijacked (attach, exec) connections
 * run over TLS with half-closes intact. */
#include "api/http-internal.h"
#include "util/log.h"
#include "util/util.h"
#include <fcntl.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

/* TLS 1.2 and up, as Go's server does it for dockerd. */
#define PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2"
#define RELAY_CHUNK (16 * 1024)

struct http_tls_ctx {
        gnutls_certificate_credentials_t cred;
        gnutls_priority_t prio;
};

struct http_tls_session {
        gnutls_session_t s;
        int fd;
};

static gnutls_datum_t datum(const char *pem)
{
        return (gnutls_datum_t){ (unsigned char *)pem, (unsigned)strlen(pem) };
}

int http_tls_ctx_new(const struct http_tls *tls, struct http_tls_ctx **out, berth_error_t **err)
{
        struct http_tls_ctx *c = xcalloc(1, sizeof(*c));
        gnutls_datum_t cert = datum(tls->cert), key = datum(tls->key), ca = datum(tls->ca);
        int r;

        if ((r = gnutls_certificate_allocate_credentials(&c->cred)) < 0)
                goto fail;
        if ((r = gnutls_certificate_set_x509_key_mem(c->cred, &cert, &key, GNUTLS_X509_FMT_PEM)) < 0) {
                http_tls_ctx_free(c);
                return berth_error(err, 0, "TLS certificate and key: %s", gnutls_strerror(r));
        }
        if ((r = gnutls_certificate_set_x509_trust_mem(c->cred, &ca, GNUTLS_X509_FMT_PEM)) <= 0) {
                http_tls_ctx_free(c);
                return berth_error(err, 0, "TLS CA: %s", r == 0 ? "no certificate in it" : gnutls_strerror(r));
        }
        if ((r = gnutls_priority_init(&c->prio, PRIORITIES, NULL)) < 0)
                goto fail;
        *out = c;
        return 0;
fail:
        http_tls_ctx_free(c);
        return berth_error(err, 0, "TLS: %s", gnutls_strerror(r));
}

void http_tls_ctx_free(struct http_tls_ctx *c)
{
        if (c == NULL)
                return;
        if (c->prio)
                gnutls_priority_deinit(c->prio);
        if (c->cred)
                gnutls_certificate_free_credentials(c->cred);
        free(c);
}

/* The certificate is asked for, not required: a client without one
 * completes the handshake and gets a 403 it can read, as from dockerd. */
struct http_tls_session *http_tls_accept(struct http_tls_ctx *ctx, int fd)
{
        struct http_tls_session *t = xcalloc(1, sizeof(*t));
        int r;

        t->fd = fd;
        if ((r = gnutls_init(&t->s, GNUTLS_SERVER)) < 0 || (r = gnutls_priority_set(t->s, ctx->prio)) < 0 ||
            (r = gnutls_credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, ctx->cred)) < 0)
                goto fail;
        gnutls_certificate_server_set_request(t->s, GNUTLS_CERT_REQUEST);
        gnutls_transport_set_int(t->s, fd);
        do
                r = gnutls_handshake(t->s);
        while (r < 0 && !gnutls_error_is_fatal(r));
        if (r < 0)
                goto fail;
        return t;
fail:
        berth_debug("api: TLS handshake: %s", gnutls_strerror(r));
        http_tls_session_free(t);
        return NULL;
}

void http_tls_session_free(struct http_tls_session *t)
{
        if (t == NULL)
                return;
        if (t->s)
                gnutls_deinit(t->s);
        free(t);
}

ssize_t http_tls_recv(struct http_tls_session *t, void *buf, size_t len)
{
        for (;;) {
                ssize_t n = gnutls_record_recv(t->s, buf, len);
                if (n >= 0)
                        return n;
                if (n == GNUTLS_E_INTERRUPTED || n == GNUTLS_E_AGAIN)
                        continue;
                /* a peer that closes without close_notify: EOF as well */
                return n == GNUTLS_E_PREMATURE_TERMINATION ? 0 : -ECONNRESET;
        }
}

/* All of buf; on a non-blocking socket (the relay) it waits for room, or
 * for the app's end to hang up (server stop). */
static int tls_send_all(struct http_tls_session *t, const char *buf, size_t len, int hup_fd)
{
        while (len > 0) {
                ssize_t n = gnutls_record_send(t->s, buf, len);
                if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED) {
                        struct pollfd p[2] = { { t->fd, POLLOUT, 0 }, { hup_fd, 0, 0 } };
                        if (poll(p, 2, -1) > 0 && (p[1].revents & POLLHUP))
                                return -EPIPE;
                        continue;
                }
                if (n < 0)
                        return -EPIPE;
                buf += n;
                len -= (size_t)n;
        }
        return 0;
}

int http_tls_send_all(struct http_tls_session *t, const void *buf, size_t len)
{
        return tls_send_all(t, buf, len, -1);
}

char *http_tls_client_refusal(struct http_tls_session *t)
{
        gnutls_typed_vdata_st purpose = { .type = GNUTLS_DT_KEY_PURPOSE_OID,
                                          .data = (unsigned char *)GNUTLS_KP_TLS_WWW_CLIENT };
        gnutls_datum_t text = { NULL, 0 };
        unsigned status = 0;
        char *why;
        int r = gnutls_certificate_verify_peers(t->s, &purpose, 1, &status);

        if (r == GNUTLS_E_NO_CERTIFICATE_FOUND)
                return xstrdup("no client certificate");
        if (r < 0)
                return xstrdup(gnutls_strerror(r));
        if (status == 0)
                return NULL;
        gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0);
        why = xstrdup(text.data ? (const char *)text.data : "the client certificate is not trusted");
        gnutls_free(text.data);
        for (size_t n = strlen(why); n > 0 && why[n - 1] == ' '; n--)
                why[n - 1] = '\0';
        return why;
}

/* ---- relaying an upgraded connection ------------------------------------ */

struct relay {
        struct http_tls_session *t;
        int ours;               /* our end of the socketpair */
        bool client_eof, app_eof;
};

static void drain(int efd)
{
        eventfd_t v;

        (void)eventfd_read(efd, &v);
}

/* Client to app: a client's close_notify (or its going away) becomes EOF
 * on the app's end. */
static void relay_from_client(struct relay *r)
{
        char buf[RELAY_CHUNK];
        ssize_t n = gnutls_record_recv(r->t->s, buf, sizeof(buf));

        if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
                return;
        if (n > 0 && write_all(r->ours, buf, (size_t)n) == 0)
                return;
        r->client_eof = true;
        shutdown(r->ours, SHUT_WR);
}

/* App to client: the app's EOF (shutdown of its write side) becomes a
 * close_notify, which Go's client reads as EOF.  True when bytes moved. */
static bool relay_from_app(struct relay *r)
{
        char buf[RELAY_CHUNK];
        ssize_t n = recv(r->ours, buf, sizeof(buf), MSG_DONTWAIT);

        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return false;
        if (n > 0 && tls_send_all(r->t, buf, (size_t)n, r->ours) == 0)
                return true;
        r->app_eof = true;
        gnutls_bye(r->t->s, GNUTLS_SHUT_WR);
        return false;
}

static bool handler_done(struct http_request *req)
{
        bool done;

        pthread_mutex_lock(&req->srv->lock);
        done = req->hj != HTTP_HJ_READY;
        pthread_mutex_unlock(&req->srv->lock);
        return done;
}

int http_tls_relay(struct http_tls_session *t, struct http_request *req, int app_end)
{
        struct relay r = { .t = t, .ours = app_end };
        int fl = fcntl(t->fd, F_GETFL);

        /* readable in poll's eyes may still be half a record */
        if (fl < 0 || fcntl(t->fd, F_SETFL, fl | O_NONBLOCK) < 0)
                return -errno;
        for (;;) {
                struct pollfd p[3] = { { r.client_eof ? -1 : t->fd, POLLIN, 0 },
                                       { r.app_eof ? -1 : r.ours, POLLIN, 0 },
                                       { req->wake_efd, POLLIN, 0 } };
                if (r.client_eof && r.app_eof)
                        return 0;
                /* decrypted bytes gnutls holds make no poll event */
                if (!r.client_eof && gnutls_record_check_pending(t->s) > 0) {
                        relay_from_client(&r);
                        continue;
                }
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        return -errno;
                if (p[0].revents)
                        relay_from_client(&r);
                if (p[1].revents)
                        relay_from_app(&r);
                if (p[2].revents) {
                        drain(req->wake_efd);
                        if (handler_done(req)) {
                                /* what the handler wrote last still goes out */
                                while (!r.app_eof && relay_from_app(&r))
                                        ;
                                if (!r.app_eof)
                                        gnutls_bye(t->s, GNUTLS_SHUT_WR);
                                return 0;
                        }
                }
        }
}
