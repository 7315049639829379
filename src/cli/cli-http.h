/* The CLI's HTTP/1.1 wire format, without any I/O: a request head put
 * together, and a response parser that is a pure function over bytes (fed
 * in pieces of any size, down to one byte), so that it can be unit tested
 * on awkward splits and fuzzed.  The daemon is the only peer, but what it
 * sends is still outside input: anything ambiguous is refused, never
 * guessed at (folded or malformed header lines, bare LF or CR, conflicting
 * lengths, unknown transfer codings, oversized lines). */
#pragma once
#include "util/util.h"
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One status, header, trailer or chunk-size line, its CRLF included. */
#define HTTP_LINE_MAX 8192
/* All the head lines of a response (interim 1xx ones and trailers too). */
#define HTTP_HEAD_MAX 65536
/* Header fields in one response. */
#define HTTP_FIELDS_MAX 256

/* content_length of http_request_head: no body, or a chunked one. */
#define HTTP_NO_BODY (-1LL)
#define HTTP_CHUNKED (-2LL)

struct http_request_head {
        const char *method;             /* a token: GET, POST, ... */
        const char *target;             /* origin-form: /v1.45/containers/json?all=1 */
        const char *host;               /* Host: */
        const char *user_agent;         /* NULL: none */
        const char *content_type;       /* NULL: none */
        long long content_length;       /* >= 0, HTTP_NO_BODY or HTTP_CHUNKED */
        const char *const *headers;     /* more "Name: value" lines, NULL-terminated */
};
/* The request line and headers, through the blank line; *len is its
 * length.  NULL with *err when a part would break the framing (a space or
 * control character in the target, CR or LF in a header, no colon). */
char *http_request_format(const struct http_request_head *h, size_t *len, berth_error_t **err);
/* The line that opens a chunk of n bytes ("1f4\r\n") in buf; its length. */
size_t http_chunk_header(char buf[24], size_t n);

enum http_state {
        HTTP_STATUS_LINE,
        HTTP_HEADER_LINE,
        HTTP_BODY_LENGTH,       /* Content-Length bytes */
        HTTP_BODY_CLOSE,        /* everything until the peer closes */
        HTTP_CHUNK_SIZE,
        HTTP_CHUNK_DATA,
        HTTP_CHUNK_CR,          /* the CRLF that ends a chunk's data */
        HTTP_CHUNK_LF,
        HTTP_TRAILER_LINE,
        HTTP_DONE,
        HTTP_ERROR,
};

/* A header field of the final response (not of a 1xx), its value without
 * the surrounding blanks; neither is NUL-terminated.  < 0 stops parsing. */
typedef int (*http_field_fn)(void *opaque, const char *name, size_t name_len, const char *value,
                             size_t value_len, berth_error_t **err);
/* Body bytes (decoded from chunks); < 0 stops parsing. */
typedef int (*http_data_fn)(void *opaque, const char *data, size_t len, berth_error_t **err);

struct http_parser {
        /* the caller's, set after http_parser_init */
        http_field_fn on_field;
        http_data_fn on_data;
        void *opaque;

        /* results */
        int status;                     /* of the final response */
        int minor;                      /* HTTP/1.minor */
        bool headers_done;              /* the final response's head is in */
        bool keep_alive;                /* the connection may carry another request once done */
        bool chunked;
        long long content_length;       /* -1: none given */
        unsigned long long received;    /* bytes consumed, all told */

        /* internal */
        enum http_state state;
        bool head;                      /* the request was HEAD: no body */
        bool close;                     /* Connection: close */
        bool transfer_encoding;         /* a Transfer-Encoding field came */
        unsigned fields;
        size_t head_bytes;
        unsigned long long left;        /* of the body or of the chunk */
        size_t line_len;
        char line[HTTP_LINE_MAX];
};

/* head: the request was HEAD (its response has no body whatever its
 * headers say). */
void http_parser_init(struct http_parser *p, bool head);
/* Feed bytes.  Returns how many were consumed, or -1 with *err (and the
 * parser stays failed).  Fewer than len are consumed in two cases only:
 * the final response's head has just completed (headers_done turned true:
 * call again with the rest, or take the rest as the raw stream of an
 * upgraded connection), or the response is complete (http_parser_done):
 * what is left is not part of it. */
ssize_t http_parse(struct http_parser *p, const char *data, size_t len, berth_error_t **err);
/* The peer closed the connection: completes a body that runs until the
 * close, else (unless done already) the error of a truncated response. */
int http_parse_eof(struct http_parser *p, berth_error_t **err);
static inline bool http_parser_done(const struct http_parser *p) { return p->state == HTTP_DONE; }
