/* libFuzzer target: the embedded DNS server's message layer
 * (src/net/dns-msg.c), which reads what any container sends to
 * 127.0.0.11 and what upstream servers answer.
 *
 * The input is a message: the query parser never reads out of bounds, and
 * a query it accepts (or refuses with an rcode) gets a response that reads
 * back with the same ID, rcode and question, no bigger than allowed, with
 * TC set exactly when answers were left out.  The generic record reader
 * walks the same bytes, and every name it decodes encodes back to the same
 * wire form.  The input is also a name as text: a query built from it
 * parses back to that name. */
#include "net/dns-msg.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FUZZ_ANSWERS 40

static void check(bool ok, const char *what)
{
        if (!ok) {
                fprintf(stderr, "fuzz-dns: %s\n", what);
                abort();
        }
}

/* A decoded name (text and wire) encodes back to the same wire bytes. */
static void name_round_trip(const char *text, const uint8_t *wire, size_t wire_len)
{
        uint8_t again[DNS_NAME_WIRE_MAX];
        int n = dns_name_encode(text, again, sizeof(again));

        check(n == (int)wire_len && memcmp(again, wire, wire_len) == 0, "name does not round-trip");
        check(dns_name_equal(text, text), "name not equal to itself");
}

/* Answers made from the input: A, AAAA and PTR (to the question's name). */
static size_t make_answers(const uint8_t *data, size_t size, const struct dns_query *q, struct dns_answer *a)
{
        size_t n = size > 0 ? data[size - 1] % (MAX_FUZZ_ANSWERS + 1) : 0;

        for (size_t i = 0; i < n; i++) {
                uint8_t b = data[i % size];
                memset(&a[i], 0, sizeof(a[i]));
                switch (b % 3) {
                case 0:
                        a[i].type = DNS_TYPE_A;
                        a[i].a.s_addr = (uint32_t)b * 0x01010101u;
                        break;
                case 1:
                        a[i].type = DNS_TYPE_AAAA;
                        memset(&a[i].aaaa, b, sizeof(a[i].aaaa));
                        break;
                default:
                        a[i].type = DNS_TYPE_PTR;
                        a[i].ptr = q->name;
                        break;
                }
        }
        return n;
}

static void check_answer(const uint8_t *m, size_t len, const struct dns_rr *rr, const struct dns_answer *a,
                         const struct dns_query *q)
{
        char target[DNS_NAME_TEXT_SIZE];
        size_t off = rr->rdata;

        check(rr->type == a->type && rr->rclass == DNS_CLASS_IN && rr->ttl == 600, "answer header");
        check(dns_name_equal(rr->name, q->name), "answer owner is not the question");
        if (a->type == DNS_TYPE_A)
                check(rr->rdlen == 4 && memcmp(m + rr->rdata, &a->a, 4) == 0, "A data");
        else if (a->type == DNS_TYPE_AAAA)
                check(rr->rdlen == 16 && memcmp(m + rr->rdata, &a->aaaa, 16) == 0, "AAAA data");
        else {
                check(dns_name_decode(m, len, &off, target, sizeof(target), NULL, NULL) == 0, "PTR target");
                check(off == rr->rdata + rr->rdlen && dns_name_equal(target, a->ptr), "PTR target value");
        }
}

static void check_response(const uint8_t *m, size_t len, const struct dns_query *q, int rcode,
                           const struct dns_answer *a, size_t n)
{
        struct dns_header h;
        struct dns_query back;
        struct dns_rr rr;
        size_t off = DNS_HEADER_SIZE;

        check(dns_header_parse(m, len, &h) == 0, "response header");
        check(h.id == q->h.id && (h.flags & DNS_FLAG_QR) && (h.flags & DNS_FLAG_RA), "response flags");
        check(DNS_RCODE(h.flags) == (rcode & 0xf), "rcode");
        check(h.qdcount == (q->has_question ? 1 : 0) && h.nscount == 0, "counts");
        check(h.ancount <= n && ((h.flags & DNS_FLAG_TC) != 0) == (h.ancount < n), "TC");
        check(h.arcount == (q->edns ? 1 : 0), "OPT count");
        if (q->has_question) {
                check(dns_question_parse(m, len, &off, &back) == 0, "response question");
                check(back.wire_len == q->wire_len && memcmp(back.wire, q->wire, q->wire_len) == 0 &&
                              back.qtype == q->qtype && back.qclass == q->qclass,
                      "question not echoed");
        }
        for (size_t i = 0; i < h.ancount; i++) {
                check(dns_rr_parse(m, len, &off, &rr) == 0, "answer record");
                check_answer(m, len, &rr, &a[i], q);
        }
        if (q->edns) {
                check(dns_rr_parse(m, len, &off, &rr) == 0 && rr.type == DNS_TYPE_OPT, "OPT record");
                check((rr.ttl >> 24) == (uint32_t)(rcode >> 4), "extended rcode");
        }
        check(off == len, "trailing bytes in a response");
}

static void respond(const uint8_t *data, size_t size, const struct dns_query *q, int rcode)
{
        static uint8_t out[DNS_MSG_MAX];
        struct dns_answer a[MAX_FUZZ_ANSWERS];
        size_t n = rcode == 0 ? make_answers(data, size, q, a) : 0;
        size_t need = DNS_HEADER_SIZE + (q->has_question ? q->wire_len + 4 : 0) + (q->edns ? 11 : 0);
        const size_t maxes[] = { 0, 12, 40, 512, dns_query_udp_max(q), DNS_MSG_MAX,
                                 size > 1 ? ((size_t)data[0] << 8 | data[1]) : 100 };

        check(rcode <= 0xf || q->edns, "BADVERS without EDNS");
        for (size_t i = 0; i < ARRAY_SIZE(maxes); i++) {
                int len = dns_response_build(q, rcode, a, n, 600, out, maxes[i]);
                if (maxes[i] < need) {
                        check(len == -ENOSPC, "too small a buffer not refused");
                        continue;
                }
                check(len > 0 && (size_t)len <= maxes[i], "response size");
                check_response(out, (size_t)len, q, rcode, a, n);
        }
}

/* Any message, as the relay and the tests read answers. */
static void walk(const uint8_t *data, size_t size)
{
        struct dns_header h;
        struct dns_query q;
        struct dns_rr rr;
        size_t off = DNS_HEADER_SIZE;

        if (dns_header_parse(data, size, &h) < 0)
                return;
        for (size_t i = 0; i < h.qdcount; i++) {
                if (dns_question_parse(data, size, &off, &q) < 0)
                        return;
                name_round_trip(q.name, q.wire, q.wire_len);
        }
        for (size_t i = 0; i < (size_t)h.ancount + h.nscount + h.arcount; i++) {
                char target[DNS_NAME_TEXT_SIZE];
                uint8_t wire[DNS_NAME_WIRE_MAX];
                size_t p, wlen;
                if (dns_rr_parse(data, size, &off, &rr) < 0)
                        return;
                check(off <= size && rr.rdata + rr.rdlen == off, "record bounds");
                p = rr.rdata;
                if ((rr.type == DNS_TYPE_PTR || rr.type == DNS_TYPE_CNAME) &&
                    dns_name_decode(data, size, &p, target, sizeof(target), wire, &wlen) == 0)
                        name_round_trip(target, wire, wlen);
        }
}

/* The input as a name in text form. */
static void as_text_name(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = xmalloc(size + 1);
        uint8_t m[512], wire[DNS_NAME_WIRE_MAX];
        struct dns_query q;
        int len, wlen;

        memcpy(text, data, size);
        text[size] = '\0';
        wlen = dns_name_encode(text, wire, sizeof(wire));
        len = dns_query_build(0x4242, text, DNS_TYPE_AAAA, size % 2 ? 1232 : 0, m, sizeof(m));
        check((wlen < 0) == (len < 0), "query builder and name encoder disagree");
        if (len < 0)
                return;
        check(dns_query_parse(m, (size_t)len, &q) == 0, "a built query does not parse");
        check(q.h.id == 0x4242 && q.qtype == DNS_TYPE_AAAA && q.edns == (size % 2 == 1), "built query fields");
        check(q.wire_len == (size_t)wlen && memcmp(q.wire, wire, (size_t)wlen) == 0, "built query name");
        name_round_trip(q.name, q.wire, q.wire_len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct dns_query q;
        int r = dns_query_parse(data, size, &q);

        check(r == 0 || r == -EBADMSG || r == DNS_RCODE_FORMERR || r == DNS_RCODE_NOTIMP ||
                      r == DNS_RCODE_BADVERS,
              "unexpected parse result");
        if (r >= 0) {
                if (q.has_question)
                        name_round_trip(q.name, q.wire, q.wire_len);
                respond(data, size, &q, r);
        }
        walk(data, size);
        as_text_name(data, size);
        return 0;
}
