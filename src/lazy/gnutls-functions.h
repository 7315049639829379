/* gnutls: the API's TLS listener; lazy.h says how a line reads.  Add a
 * function: one line.  gnutls_free is a variable (a function pointer):
 * its stub is in gnutls.c, as would be those of gnutls_malloc and the
 * like.  Names that are macros are not symbols: gnutls_transport_set_int
 * is gnutls_transport_set_int2. */
LAZY_FN(int, gnutls_bye, (gnutls_session_t session, gnutls_close_request_t how), (session, how))
LAZY_FN(int, gnutls_certificate_verification_status_print, (unsigned int status, gnutls_certificate_type_t type, gnutls_datum_t *out, unsigned int flags), (status, type, out, flags))
LAZY_FN(int, gnutls_certificate_verify_peers, (gnutls_session_t session, gnutls_typed_vdata_st *data, unsigned int elements, unsigned int *status), (session, data, elements, status))
LAZY_SYM(gnutls_free)
LAZY_FN(size_t, gnutls_record_check_pending, (gnutls_session_t session), (session))
LAZY_FN(ssize_t, gnutls_record_recv, (gnutls_session_t session, void *data, size_t data_size), (session, data, data_size))
LAZY_FN(ssize_t, gnutls_record_send, (gnutls_session_t session, const void *data, size_t data_size), (session, data, data_size))
LAZY_FN(const char *, gnutls_strerror, (int error), (error))
/* the HTTP server's own TLS (src/api/http-tls.c) */
LAZY_FN(int, gnutls_certificate_allocate_credentials, (gnutls_certificate_credentials_t *res), (res))
LAZY_VOID(gnutls_certificate_free_credentials, (gnutls_certificate_credentials_t sc), (sc))
LAZY_VOID(gnutls_certificate_server_set_request, (gnutls_session_t session, gnutls_certificate_request_t req), (session, req))
LAZY_FN(int, gnutls_certificate_set_x509_key_mem, (gnutls_certificate_credentials_t res, const gnutls_datum_t *cert, const gnutls_datum_t *key, gnutls_x509_crt_fmt_t type), (res, cert, key, type))
LAZY_FN(int, gnutls_certificate_set_x509_trust_mem, (gnutls_certificate_credentials_t res, const gnutls_datum_t *ca, gnutls_x509_crt_fmt_t type), (res, ca, type))
LAZY_FN(int, gnutls_credentials_set, (gnutls_session_t session, gnutls_credentials_type_t type, void *cred), (session, type, cred))
LAZY_VOID(gnutls_deinit, (gnutls_session_t session), (session))
LAZY_FN(int, gnutls_error_is_fatal, (int error), (error))
LAZY_FN(int, gnutls_handshake, (gnutls_session_t session), (session))
LAZY_FN(int, gnutls_init, (gnutls_session_t *session, unsigned int flags), (session, flags))
LAZY_VOID(gnutls_priority_deinit, (gnutls_priority_t priority_cache), (priority_cache))
LAZY_FN(int, gnutls_priority_init, (gnutls_priority_t *priority_cache, const char *priorities, const char **err_pos), (priority_cache, priorities, err_pos))
LAZY_FN(int, gnutls_priority_set, (gnutls_session_t session, gnutls_priority_t priority), (session, priority))
LAZY_VOID(gnutls_transport_set_int2, (gnutls_session_t session, int r, int s), (session, r, s))
