/* DNS messages (RFC 1035) for the embedded server: parse a query, build
 * the answers the server gives itself, and read any message back (the
 * relay checks what an upstream sent; tests read the answers).  Pure
 * functions over byte buffers: no I/O, no allocation, no berth_error (a
 * bad packet is routine, not something to report).
 *
 * Everything read is hostile: every access is bounds-checked, and a name
 * follows at most DNS_MAX_POINTERS compression pointers, each of which must
 * point before the part of the name that led to it, so no loop is
 * possible. */
#pragma once
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER_SIZE 12
#define DNS_NAME_WIRE_MAX 255
/* A name as text: a byte may need "\DDD", and the dots come on top. */
#define DNS_NAME_TEXT_SIZE 1024
#define DNS_MAX_POINTERS 32
/* UDP: 512 bytes without EDNS; with it, what the client offers up to
 * DNS_UDP_EDNS_MAX, which is also what we offer back. */
#define DNS_UDP_MIN 512
#define DNS_UDP_EDNS_MAX 4096
#define DNS_MSG_MAX 65535

enum {
        DNS_TYPE_A = 1,
        DNS_TYPE_NS = 2,
        DNS_TYPE_CNAME = 5,
        DNS_TYPE_SOA = 6,
        DNS_TYPE_PTR = 12,
        DNS_TYPE_MX = 15,
        DNS_TYPE_TXT = 16,
        DNS_TYPE_AAAA = 28,
        DNS_TYPE_OPT = 41,
        DNS_TYPE_ANY = 255,
};
enum { DNS_CLASS_IN = 1, DNS_CLASS_ANY = 255 };
enum {
        DNS_RCODE_NOERROR = 0,
        DNS_RCODE_FORMERR = 1,
        DNS_RCODE_SERVFAIL = 2,
        DNS_RCODE_NXDOMAIN = 3,
        DNS_RCODE_NOTIMP = 4,
        DNS_RCODE_REFUSED = 5,
        DNS_RCODE_BADVERS = 16, /* extended: needs EDNS to be said */
};

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_FLAG_AD 0x0020
#define DNS_FLAG_CD 0x0010
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags) & 0xf)
/* In an OPT record's TTL field. */
#define DNS_EDNS_DO 0x8000

struct dns_header {
        uint16_t id, flags, qdcount, ancount, nscount, arcount;
};

struct dns_query {
        struct dns_header h;
        bool has_question;
        char name[DNS_NAME_TEXT_SIZE];  /* as text, no trailing dot; the root is "." */
        uint8_t wire[DNS_NAME_WIRE_MAX]; /* as sent, uncompressed: answers echo its case */
        size_t wire_len;
        uint16_t qtype, qclass;
        bool edns;
        uint16_t edns_udp_size;
        uint8_t edns_version;
        bool edns_do;
};

/* A resource record read from a message; its data stays in the message. */
struct dns_rr {
        char name[DNS_NAME_TEXT_SIZE];
        uint16_t type, rclass;
        uint32_t ttl;
        size_t rdata; /* offset of the data in the message */
        uint16_t rdlen;
};

/* An answer to build; its owner is always the question's name. */
struct dns_answer {
        uint16_t type; /* DNS_TYPE_A, DNS_TYPE_AAAA or DNS_TYPE_PTR */
        union {
                struct in_addr a;
                struct in6_addr aaaa;
                const char *ptr; /* a name as text */
        };
};

/* All return 0 (or a length) on success, -EBADMSG on a malformed message
 * and -ENOSPC when the output does not fit. */
int dns_header_parse(const uint8_t *msg, size_t len, struct dns_header *h);
/* The name at *off, compressed or not; *off moves past it where it is
 * (past the first pointer).  text (text_size bytes, may be NULL) gets it
 * in master-file syntax: '.' and '\' in a label as "\." and "\\", bytes
 * outside printable ASCII as "\DDD".  wire (DNS_NAME_WIRE_MAX, may be
 * NULL) gets it uncompressed and *wire_len its length. */
int dns_name_decode(const uint8_t *msg, size_t len, size_t *off, char *text, size_t text_size,
                    uint8_t *wire, size_t *wire_len);
/* Text (the syntax above; a trailing dot or none) to wire form; returns
 * the length, -EINVAL for an empty label, a label over 63 bytes, a name
 * over 255 or a bad escape. */
int dns_name_encode(const char *text, uint8_t *wire, size_t size);
/* Names as text, ASCII case ignored, a trailing dot ignored. */
bool dns_name_equal(const char *a, const char *b);
int dns_question_parse(const uint8_t *msg, size_t len, size_t *off, struct dns_query *q);
int dns_rr_parse(const uint8_t *msg, size_t len, size_t *off, struct dns_rr *rr);

/* A query from a client.  Returns 0 for a query to answer; -EBADMSG when
 * no reply is due (shorter than a header, or a response: never answer
 * those, or two servers can bounce a packet forever); or an rcode > 0 to
 * reply with (FORMERR, NOTIMP, BADVERS), in which case *q holds the header
 * and, when has_question, the question.  Answer and authority records and
 * additional records other than OPT are checked and skipped; bytes after
 * the last record are ignored. */
int dns_query_parse(const uint8_t *msg, size_t len, struct dns_query *q);
/* The largest UDP answer the client takes. */
size_t dns_query_udp_max(const struct dns_query *q);

/* A response to q in out, at most max bytes: the ID, opcode, RD and CD
 * copied, QR and RA set, AA clear (a recursive resolver's answer, as
 * Docker's), the question echoed and the answers in order, each with ttl.
 * Answers that do not fit are left out and TC is set; an OPT record
 * answers a query that had one (and carries an extended rcode).  Returns
 * the length. */
int dns_response_build(const struct dns_query *q, int rcode, const struct dns_answer *answers, size_t n,
                       uint32_t ttl, uint8_t *out, size_t max);
/* A query with RD set (edns_udp_size 0: no OPT record); for tests and
 * fuzzing. */
int dns_query_build(uint16_t id, const char *name, uint16_t qtype, uint16_t edns_udp_size, uint8_t *out,
                    size_t max);
