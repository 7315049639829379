/* The embedded DNS server: the message layer (src/net/dns-msg.c) on
 * hand-built packets, and the server (src/net/dns.c) for real: resolver
 * sockets in network namespaces this test makes (unshare in forked
 * holders, which vanish with them), queries sent from forked children
 * that setns() into those namespaces, and fake upstream servers on
 * 127.0.0.1 in the test's own namespace.  No packet leaves loopback. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "net/dns-msg.h"
#include "net/dns.h"
#include "util/util.h"
#include <arpa/inet.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

/* ======== the message layer ======== */

/* id 0x1234, RD, one question: Web.Example.com A IN */
#define Q_HEADER(qd, an, ns, ar) 0x12, 0x34, 0x01, 0x00, 0, qd, 0, an, 0, ns, 0, ar
#define Q_NAME 3, 'W', 'e', 'b', 7, 'E', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0
#define Q_TYPE_A 0, 1, 0, 1
/* OPT: root, type 41, UDP size 4096, version 0, DO, no data */
#define Q_OPT 0, 0, 41, 0x10, 0x00, 0, 0, 0x80, 0, 0, 0

static const uint8_t q_simple[] = { Q_HEADER(1, 0, 0, 0), Q_NAME, Q_TYPE_A };
static const uint8_t q_edns[] = { Q_HEADER(1, 0, 0, 1), Q_NAME, Q_TYPE_A, Q_OPT };
/* An answer record whose name points at the question's (offset 12), an
 * additional "x" + pointer to "Example" (offset 16), then the OPT. */
static const uint8_t q_compressed[] = {
        Q_HEADER(1, 1, 0, 2), Q_NAME, Q_TYPE_A,
        0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1,
        1, 'x', 0xc0, 0x10, 0, 16, 0, 1, 0, 0, 0, 0, 0, 2, 1, 'y',
        Q_OPT,
};

static void test_parse_simple(void **state)
{
        struct dns_query q;
        (void)state;

        assert_int_equal(dns_query_parse(q_simple, sizeof(q_simple), &q), 0);
        assert_int_equal(q.h.id, 0x1234);
        assert_true(q.h.flags & DNS_FLAG_RD);
        assert_true(q.has_question);
        assert_string_equal(q.name, "Web.Example.com");
        assert_int_equal(q.wire_len, 17);
        assert_memory_equal(q.wire, q_simple + 12, 17);
        assert_int_equal(q.qtype, DNS_TYPE_A);
        assert_int_equal(q.qclass, DNS_CLASS_IN);
        assert_false(q.edns);
        assert_int_equal(dns_query_udp_max(&q), 512);
}

static void test_parse_edns(void **state)
{
        uint8_t m[sizeof(q_edns)];
        struct dns_query q;
        (void)state;

        assert_int_equal(dns_query_parse(q_edns, sizeof(q_edns), &q), 0);
        assert_true(q.edns);
        assert_int_equal(q.edns_udp_size, 4096);
        assert_int_equal(q.edns_version, 0);
        assert_true(q.edns_do);
        assert_int_equal(dns_query_udp_max(&q), 4096);
        memcpy(m, q_edns, sizeof(m));
        m[sizeof(m) - 8] = 0xff; /* UDP size 65280: we take 4096 at most */
        assert_int_equal(dns_query_parse(m, sizeof(m), &q), 0);
        assert_int_equal(dns_query_udp_max(&q), 4096);
        m[sizeof(m) - 8] = 0;
        m[sizeof(m) - 7] = 100; /* under 512: 512 still */
        assert_int_equal(dns_query_parse(m, sizeof(m), &q), 0);
        assert_int_equal(dns_query_udp_max(&q), 512);
}

static void test_parse_compressed(void **state)
{
        struct dns_query q;
        (void)state;

        assert_int_equal(dns_query_parse(q_compressed, sizeof(q_compressed), &q), 0);
        assert_string_equal(q.name, "Web.Example.com");
        assert_true(q.edns);
        assert_int_equal(q.edns_udp_size, 4096);
}

/* Every prefix of a good query is refused, and none reads out of bounds
 * (ASan watches; each prefix is copied to a buffer of its own size). */
static void test_parse_truncated(void **state)
{
        const uint8_t *all[] = { q_simple, q_edns, q_compressed };
        const size_t lens[] = { sizeof(q_simple), sizeof(q_edns), sizeof(q_compressed) };
        struct dns_query q;
        (void)state;

        for (size_t k = 0; k < ARRAY_SIZE(all); k++) {
                for (size_t len = 0; len < lens[k]; len++) {
                        _cleanup_free_ uint8_t *m = xmalloc(len ? len : 1);
                        memcpy(m, all[k], len);
                        int r = dns_query_parse(m, len, &q);
                        if (len < 12)
                                assert_int_equal(r, -EBADMSG);
                        else
                                assert_int_equal(r, DNS_RCODE_FORMERR);
                }
        }
}

static void test_parse_rejects(void **state)
{
        uint8_t m[sizeof(q_edns) + sizeof((uint8_t[]){ Q_OPT })];
        struct dns_query q;
        (void)state;

        memcpy(m, q_simple, sizeof(q_simple));
        m[2] |= 0x80; /* a response: never answered */
        assert_int_equal(dns_query_parse(m, sizeof(q_simple), &q), -EBADMSG);
        memcpy(m, q_simple, sizeof(q_simple));
        m[2] = 2 << 3; /* opcode STATUS */
        assert_int_equal(dns_query_parse(m, sizeof(q_simple), &q), DNS_RCODE_NOTIMP);
        assert_int_equal(q.h.id, 0x1234);
        memcpy(m, q_simple, sizeof(q_simple));
        m[5] = 0; /* no question */
        assert_int_equal(dns_query_parse(m, sizeof(q_simple), &q), DNS_RCODE_FORMERR);
        assert_false(q.has_question);
        m[5] = 2; /* two questions */
        assert_int_equal(dns_query_parse(m, sizeof(q_simple), &q), DNS_RCODE_FORMERR);

        /* two OPT records */
        memcpy(m, q_edns, sizeof(q_edns));
        memcpy(m + sizeof(q_edns), (uint8_t[]){ Q_OPT }, 11);
        m[11] = 2;
        assert_int_equal(dns_query_parse(m, sizeof(m), &q), DNS_RCODE_FORMERR);
        /* EDNS version 1 */
        memcpy(m, q_edns, sizeof(q_edns));
        m[sizeof(q_edns) - 5] = 1;
        assert_int_equal(dns_query_parse(m, sizeof(q_edns), &q), DNS_RCODE_BADVERS);
        assert_true(q.has_question);
        assert_true(q.edns);
        /* an OPT owned by something other than the root */
        {
                const uint8_t bad[] = { Q_HEADER(1, 0, 0, 1), Q_NAME, Q_TYPE_A, 1, 'a', 0, 0, 41, 2, 0, 0, 0, 0,
                                        0, 0, 0 };
                assert_int_equal(dns_query_parse(bad, sizeof(bad), &q), DNS_RCODE_FORMERR);
        }
        /* rdata longer than the message */
        {
                const uint8_t bad[] = { Q_HEADER(1, 0, 0, 1), Q_NAME, Q_TYPE_A, 0, 0, 41, 2, 0, 0, 0, 0, 0, 0, 9, 1 };
                assert_int_equal(dns_query_parse(bad, sizeof(bad), &q), DNS_RCODE_FORMERR);
        }
        /* trailing bytes after the last record are ignored */
        {
                const uint8_t ok[] = { Q_HEADER(1, 0, 0, 0), Q_NAME, Q_TYPE_A, 0xde, 0xad };
                assert_int_equal(dns_query_parse(ok, sizeof(ok), &q), 0);
        }
}

/* A message: 12 zero bytes of header, then the given bytes from offset 12. */
static size_t msg_at12(uint8_t *m, const uint8_t *body, size_t n)
{
        memset(m, 0, 12);
        memcpy(m + 12, body, n);
        return 12 + n;
}

static void test_name_decode_pointers(void **state)
{
        /* 12: www.example.com; 29: foo + ->16 (example.com); 35: bar + ->29 */
        const uint8_t body[] = { 3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0,
                                 3, 'f', 'o', 'o', 0xc0, 16, 3, 'b', 'a', 'r', 0xc0, 29 };
        uint8_t m[64], wire[DNS_NAME_WIRE_MAX];
        char text[DNS_NAME_TEXT_SIZE];
        size_t len = msg_at12(m, body, sizeof(body)), off = 29, wlen;
        (void)state;

        assert_int_equal(dns_name_decode(m, len, &off, text, sizeof(text), wire, &wlen), 0);
        assert_string_equal(text, "foo.example.com");
        assert_int_equal(off, 35);
        assert_int_equal(wlen, 17);
        assert_memory_equal(wire, "\3foo\7example\3com", 17);
        off = 35;
        assert_int_equal(dns_name_decode(m, len, &off, text, sizeof(text), NULL, NULL), 0);
        assert_string_equal(text, "bar.foo.example.com");
        assert_int_equal(off, 41);
        /* a buffer too small for the text */
        off = 35;
        assert_int_equal(dns_name_decode(m, len, &off, text, 8, NULL, NULL), -ENOSPC);
}

static int decode_at(const uint8_t *body, size_t n, size_t at)
{
        uint8_t m[600];
        char text[DNS_NAME_TEXT_SIZE];
        size_t len = msg_at12(m, body, n), off = at;

        return dns_name_decode(m, len, &off, text, sizeof(text), NULL, NULL);
}

static void test_name_decode_bad(void **state)
{
        (void)state;
        /* a pointer to itself */
        assert_int_equal(decode_at((uint8_t[]){ 0xc0, 12 }, 2, 12), -EBADMSG);
        /* forwards */
        assert_int_equal(decode_at((uint8_t[]){ 0xc0, 14, 1, 'a', 0 }, 5, 12), -EBADMSG);
        /* two pointers at each other: 12 "a" ->18 ... 18 ->12 */
        assert_int_equal(decode_at((uint8_t[]){ 1, 'a', 0xc0, 18, 0, 0, 0xc0, 12 }, 8, 18), -EBADMSG);
        assert_int_equal(decode_at((uint8_t[]){ 1, 'a', 0xc0, 18, 0, 0, 0xc0, 12 }, 8, 12), -EBADMSG);
        /* into the header */
        assert_int_equal(decode_at((uint8_t[]){ 1, 'a', 0xc0, 2 }, 4, 12), -EBADMSG);
        /* half a pointer */
        assert_int_equal(decode_at((uint8_t[]){ 1, 'a', 0, 0xc0 }, 4, 15), -EBADMSG);
        /* extended label types */
        assert_int_equal(decode_at((uint8_t[]){ 0x41, 'a', 0 }, 3, 12), -EBADMSG);
        assert_int_equal(decode_at((uint8_t[]){ 0x81, 'a', 0 }, 3, 12), -EBADMSG);
        /* a label past the end; no terminating root */
        assert_int_equal(decode_at((uint8_t[]){ 5, 'a', 'b' }, 3, 12), -EBADMSG);
        assert_int_equal(decode_at((uint8_t[]){ 1, 'a' }, 2, 12), -EBADMSG);
        assert_int_equal(decode_at((uint8_t[]){ 0 }, 0, 12), -EBADMSG);
}

static void test_name_decode_limits(void **state)
{
        uint8_t body[600];
        size_t n = 0;
        (void)state;

        /* 63+63+63+61: 255 bytes with the lengths and the root: the most */
        const size_t labels[] = { 63, 63, 63, 61 };
        for (size_t i = 0; i < 4; i++) {
                body[n++] = (uint8_t)labels[i];
                memset(body + n, 'a', labels[i]);
                n += labels[i];
        }
        body[n++] = 0;
        assert_int_equal(n, 255);
        assert_int_equal(decode_at(body, n, 12), 0);
        /* one more byte is one too many */
        body[192] = 62;
        memmove(body + 194, body + 193, n - 193);
        body[193] = 'a';
        assert_int_equal(decode_at(body, n + 1, 12), -EBADMSG);

        /* a chain of pointers, each backwards: 40 of them is past the limit */
        n = 0;
        body[n++] = 1;
        body[n++] = 'z';
        body[n++] = 0;
        for (int i = 0; i < 40; i++) {
                size_t prev = i == 0 ? 12 : 12 + 3 + (size_t)(i - 1) * 4;
                body[n++] = 1;
                body[n++] = 'a';
                body[n++] = 0xc0;
                body[n++] = (uint8_t)prev;
        }
        assert_int_equal(decode_at(body, n, 12 + 3 + 10 * 4), 0);
        assert_int_equal(decode_at(body, n, 12 + 3 + 39 * 4), -EBADMSG);
}

static void test_name_text(void **state)
{
        /* labels "a.b", "c\d", "\0 " */
        const uint8_t body[] = { 3, 'a', '.', 'b', 3, 'c', '\\', 'd', 2, 0, ' ', 0 };
        uint8_t m[64], wire[DNS_NAME_WIRE_MAX];
        char text[DNS_NAME_TEXT_SIZE];
        size_t len = msg_at12(m, body, sizeof(body)), off = 12;
        (void)state;

        assert_int_equal(dns_name_decode(m, len, &off, text, sizeof(text), NULL, NULL), 0);
        assert_string_equal(text, "a\\.b.c\\\\d.\\000\\032");
        assert_int_equal(dns_name_encode(text, wire, sizeof(wire)), (int)sizeof(body));
        assert_memory_equal(wire, body, sizeof(body));
        /* the root */
        off = 0;
        m[0] = 0;
        assert_int_equal(dns_name_decode(m, 1, &off, text, sizeof(text), NULL, NULL), 0);
        assert_string_equal(text, ".");
}

static void test_name_encode(void **state)
{
        uint8_t w[DNS_NAME_WIRE_MAX];
        char long_label[70], long_name[300];
        (void)state;

        assert_int_equal(dns_name_encode("web", w, sizeof(w)), 5);
        assert_memory_equal(w, "\3web", 5);
        assert_int_equal(dns_name_encode("web.", w, sizeof(w)), 5);
        assert_int_equal(dns_name_encode(".", w, sizeof(w)), 1);
        assert_int_equal(dns_name_encode("", w, sizeof(w)), 1);
        assert_int_equal(dns_name_encode("\\065", w, sizeof(w)), 3);
        assert_int_equal(w[1], 'A');
        assert_int_equal(dns_name_encode("a..b", w, sizeof(w)), -EINVAL);
        assert_int_equal(dns_name_encode(".a", w, sizeof(w)), -EINVAL);
        assert_int_equal(dns_name_encode("a\\", w, sizeof(w)), -EINVAL);
        assert_int_equal(dns_name_encode("\\256", w, sizeof(w)), -EINVAL);
        assert_int_equal(dns_name_encode("\\12", w, sizeof(w)), -EINVAL);
        memset(long_label, 'x', 64);
        long_label[64] = '\0';
        assert_int_equal(dns_name_encode(long_label, w, sizeof(w)), -EINVAL);
        long_label[63] = '\0';
        assert_int_equal(dns_name_encode(long_label, w, sizeof(w)), 65);
        snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.61s", long_label, long_label, long_label, long_label);
        assert_int_equal(dns_name_encode(long_name, w, sizeof(w)), 255);
        snprintf(long_name, sizeof(long_name), "%s.%s.%s.%.62s", long_label, long_label, long_label, long_label);
        assert_int_equal(dns_name_encode(long_name, w, sizeof(w)), -EINVAL);
        assert_int_equal(dns_name_encode("web", w, 4), -ENOSPC);

        assert_true(dns_name_equal("Web.Example.COM", "web.example.com."));
        assert_true(dns_name_equal("web.", "WEB"));
        assert_false(dns_name_equal("web", "web2"));
        assert_false(dns_name_equal("a\\.", "a")); /* an escaped dot is part of the label */
}

/* ---- reading answers back ---- */

struct rr_view {
        uint16_t type, rclass;
        uint32_t ttl;
        uint8_t data[16];
        char target[DNS_NAME_TEXT_SIZE];
};

struct resp {
        struct dns_header h;
        struct dns_query q;
        size_t n;
        struct rr_view an[160];
        bool opt;
        uint16_t opt_size;
        uint32_t opt_ttl;
};

static void resp_parse(const uint8_t *m, size_t len, struct resp *r)
{
        size_t off = DNS_HEADER_SIZE;
        struct dns_rr rr;

        memset(r, 0, sizeof(*r));
        assert_int_equal(dns_header_parse(m, len, &r->h), 0);
        assert_true(r->h.qdcount <= 1);
        if (r->h.qdcount == 1)
                assert_int_equal(dns_question_parse(m, len, &off, &r->q), 0);
        for (size_t i = 0; i < (size_t)r->h.ancount + r->h.nscount + r->h.arcount; i++) {
                assert_int_equal(dns_rr_parse(m, len, &off, &rr), 0);
                if (rr.type == DNS_TYPE_OPT) {
                        r->opt = true;
                        r->opt_size = rr.rclass;
                        r->opt_ttl = rr.ttl;
                        continue;
                }
                if (i >= r->h.ancount)
                        continue;
                assert_true(r->n < ARRAY_SIZE(r->an));
                struct rr_view *v = &r->an[r->n++];
                assert_true(dns_name_equal(rr.name, r->q.name));
                v->type = rr.type;
                v->rclass = rr.rclass;
                v->ttl = rr.ttl;
                if (rr.type == DNS_TYPE_PTR) {
                        size_t p = rr.rdata;
                        assert_int_equal(dns_name_decode(m, len, &p, v->target, sizeof(v->target), NULL, NULL),
                                         0);
                        assert_int_equal(p, rr.rdata + rr.rdlen);
                } else {
                        assert_true(rr.rdlen <= sizeof(v->data));
                        memcpy(v->data, m + rr.rdata, rr.rdlen);
                }
        }
        assert_int_equal(off, len);
}

static struct in_addr ip4(const char *s)
{
        struct in_addr a;
        assert_int_equal(inet_pton(AF_INET, s, &a), 1);
        return a;
}

static struct in6_addr ip6(const char *s)
{
        struct in6_addr a;
        assert_int_equal(inet_pton(AF_INET6, s, &a), 1);
        return a;
}

/* Addresses to point at, good for a few calls. */
static const struct in_addr *p4(const char *s)
{
        static __thread struct in_addr buf[8];
        static __thread unsigned i;

        buf[++i % 8] = ip4(s);
        return &buf[i % 8];
}

static const struct in6_addr *p6(const char *s)
{
        static __thread struct in6_addr buf[8];
        static __thread unsigned i;

        buf[++i % 8] = ip6(s);
        return &buf[i % 8];
}

static void query_of(const char *name, uint16_t type, uint16_t edns, struct dns_query *q)
{
        uint8_t m[512];
        int n = dns_query_build(0xbeef, name, type, edns, m, sizeof(m));

        assert_true(n > 0);
        assert_int_equal(dns_query_parse(m, (size_t)n, q), 0);
}

static void test_build_answers(void **state)
{
        struct dns_answer a[3] = {
                { .type = DNS_TYPE_A, .a = ip4("10.0.0.2") },
                { .type = DNS_TYPE_AAAA, .aaaa = ip6("fd00::2") },
                { .type = DNS_TYPE_PTR, .ptr = "web.example" },
        };
        struct dns_query q;
        struct resp r;
        uint8_t out[512];
        int len;
        (void)state;

        query_of("Web.Example.COM", DNS_TYPE_A, 0, &q);
        len = dns_response_build(&q, DNS_RCODE_NOERROR, a, 3, 600, out, sizeof(out));
        /* header, question (17 + 4), then each answer owned by a 2-byte pointer */
        assert_int_equal(len, 12 + 21 + (12 + 4) + (12 + 16) + (12 + 13));
        assert_memory_equal(out + 33, "\xc0\x0c", 2);
        resp_parse(out, (size_t)len, &r);
        assert_int_equal(r.h.id, 0xbeef);
        assert_int_equal(r.h.flags, DNS_FLAG_QR | DNS_FLAG_RD | DNS_FLAG_RA);
        assert_string_equal(r.q.name, "Web.Example.COM"); /* the asker's case */
        assert_int_equal(r.n, 3);
        assert_int_equal(r.an[0].type, DNS_TYPE_A);
        assert_int_equal(r.an[0].rclass, DNS_CLASS_IN);
        assert_int_equal(r.an[0].ttl, 600);
        assert_memory_equal(r.an[0].data, &a[0].a, 4);
        assert_int_equal(r.an[1].type, DNS_TYPE_AAAA);
        assert_memory_equal(r.an[1].data, &a[1].aaaa, 16);
        assert_int_equal(r.an[2].type, DNS_TYPE_PTR);
        assert_string_equal(r.an[2].target, "web.example");
        assert_false(r.opt);
}

static void test_build_rcodes(void **state)
{
        const int rcodes[] = { DNS_RCODE_NXDOMAIN, DNS_RCODE_SERVFAIL, DNS_RCODE_NOERROR, DNS_RCODE_REFUSED };
        struct dns_query q;
        struct resp r;
        uint8_t out[512];
        int len;
        (void)state;

        query_of("nothing.test", DNS_TYPE_AAAA, 0, &q);
        for (size_t i = 0; i < ARRAY_SIZE(rcodes); i++) {
                len = dns_response_build(&q, rcodes[i], NULL, 0, 600, out, sizeof(out));
                assert_true(len > 0);
                resp_parse(out, (size_t)len, &r);
                assert_int_equal(DNS_RCODE(r.h.flags), rcodes[i]);
                assert_int_equal(r.h.qdcount, 1);
                assert_int_equal(r.h.ancount, 0);
                assert_int_equal(r.q.qtype, DNS_TYPE_AAAA);
                assert_false(r.h.flags & DNS_FLAG_AA);
        }
        /* no question to echo: a bare header */
        assert_int_equal(dns_query_parse((uint8_t[]){ Q_HEADER(0, 0, 0, 0) }, 12, &q), DNS_RCODE_FORMERR);
        assert_int_equal(dns_response_build(&q, DNS_RCODE_FORMERR, NULL, 0, 600, out, sizeof(out)), 12);
        resp_parse(out, 12, &r);
        assert_int_equal(r.h.id, 0x1234);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_FORMERR);
        /* BADVERS needs EDNS: its high bits ride in the OPT record */
        assert_int_equal(dns_response_build(&q, DNS_RCODE_BADVERS, NULL, 0, 600, out, sizeof(out)), -EINVAL);
        query_of("x.test", DNS_TYPE_A, 1232, &q);
        len = dns_response_build(&q, DNS_RCODE_BADVERS, NULL, 0, 600, out, sizeof(out));
        resp_parse(out, (size_t)len, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), 0);
        assert_true(r.opt);
        assert_int_equal(r.opt_ttl >> 24, 1);
        assert_int_equal(r.opt_size, DNS_UDP_EDNS_MAX);
}

static void test_build_truncation(void **state)
{
        struct dns_answer a[100];
        struct dns_query q;
        struct resp r;
        uint8_t out[DNS_MSG_MAX];
        int len;
        (void)state;

        for (int i = 0; i < 100; i++)
                a[i] = (struct dns_answer){ .type = DNS_TYPE_A, .a.s_addr = htonl(0x0a000000u + (uint32_t)i) };
        query_of("Web.Example.COM", DNS_TYPE_A, 0, &q);
        len = dns_response_build(&q, 0, a, 100, 600, out, dns_query_udp_max(&q));
        assert_true(len > 0 && len <= 512);
        resp_parse(out, (size_t)len, &r);
        assert_true(r.h.flags & DNS_FLAG_TC);
        assert_int_equal(r.n, (512 - 33) / 16);
        assert_memory_equal(r.an[28].data, &a[28].a, 4);
        /* over TCP all of them fit */
        len = dns_response_build(&q, 0, a, 100, 600, out, DNS_MSG_MAX);
        resp_parse(out, (size_t)len, &r);
        assert_false(r.h.flags & DNS_FLAG_TC);
        assert_int_equal(r.n, 100);
        /* with EDNS the OPT record stays even when answers go */
        query_of("Web.Example.COM", DNS_TYPE_A, 512, &q);
        len = dns_response_build(&q, 0, a, 100, 600, out, dns_query_udp_max(&q));
        assert_true(len <= 512);
        resp_parse(out, (size_t)len, &r);
        assert_true(r.h.flags & DNS_FLAG_TC);
        assert_true(r.opt);
        assert_int_equal(r.n, (512 - 33 - 11) / 16);
        query_of("Web.Example.COM", DNS_TYPE_A, 4096, &q);
        len = dns_response_build(&q, 0, a, 100, 600, out, dns_query_udp_max(&q));
        resp_parse(out, (size_t)len, &r);
        assert_false(r.h.flags & DNS_FLAG_TC);
        assert_int_equal(r.n, 100);
        /* not even the question fits */
        assert_int_equal(dns_response_build(&q, 0, a, 1, 600, out, 11), -ENOSPC);
        assert_int_equal(dns_response_build(&q, 0, a, 1, 600, out, 40), -ENOSPC);
}

/* ======== the server ======== */

/* ---- network namespaces: a forked child that unshares one and holds it
 * until it is killed (or its parent dies) ---- */

struct holder {
        pid_t pid;
        char path[64];
};

static int lo_up(void)
{
        struct ifreq ifr = { 0 };
        _cleanup_close_ int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
        if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0)
                return -1;
        ifr.ifr_flags |= IFF_UP;
        return ioctl(fd, SIOCSIFFLAGS, &ifr);
}

static int holder_start(struct holder *h)
{
        int ready[2];
        char c;

        if (pipe2(ready, O_CLOEXEC) < 0)
                return -1;
        h->pid = fork();
        if (h->pid < 0)
                return -1;
        if (h->pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (unshare(CLONE_NEWNET) < 0 || lo_up() < 0)
                        _exit(1);
                if (write(ready[1], "x", 1) != 1)
                        _exit(1);
                for (;;)
                        pause();
        }
        close(ready[1]);
        if (read(ready[0], &c, 1) != 1) {
                close(ready[0]);
                return -1;
        }
        close(ready[0]);
        snprintf(h->path, sizeof(h->path), "/proc/%d/ns/net", (int)h->pid);
        return 0;
}

static void holder_stop(struct holder *h)
{
        if (h->pid <= 0)
                return;
        kill(h->pid, SIGKILL);
        waitpid(h->pid, NULL, 0);
        h->pid = 0;
}

/* ---- running code inside a namespace: a forked child that setns()es
 * there, runs fn and writes what it found to out_fd.  The child uses
 * syscalls only (the parent has threads). ---- */

static int64_t mono_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Child exit codes. */
enum { CHILD_OK = 0, CHILD_TIMEOUT = 10, CHILD_REFUSED = 11, CHILD_EOF = 12, CHILD_FAILED = 20 };

static int child_err(int e)
{
        if (e == EAGAIN || e == EWOULDBLOCK)
                return CHILD_TIMEOUT;
        if (e == ECONNREFUSED)
                return CHILD_REFUSED;
        if (e == ECONNRESET)
                return CHILD_EOF;
        return CHILD_FAILED;
}

typedef int child_fn(void *arg, int out);

/* A child at work in a namespace: its output pipe, and with a go pipe it
 * waits for child_go() before it starts. */
struct child {
        pid_t pid;
        int rd, go;
};

static void child_run(const struct holder *h, child_fn *fn, void *arg, int out, int go)
{
        char c;
        int fd;

        /* Only the pipes as 3 and 4: a copy of the server's sockets here
         * would keep them bound after a detach. */
        if (dup2(out, 3) < 0 || (go >= 0 && dup2(go, 4) < 0) || close_range(5, ~0U, 0) < 0)
                _exit(CHILD_FAILED + 2);
        fd = open(h->path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0)
                _exit(CHILD_FAILED + 1);
        close(fd);
        if (go >= 0 && read(4, &c, 1) != 1)
                _exit(CHILD_FAILED + 3);
        _exit(fn(arg, 3));
}

static void child_start(struct child *ch, const struct holder *h, child_fn *fn, void *arg, bool wait)
{
        int p[2], g[2] = { -1, -1 };

        assert_int_equal(pipe2(p, O_CLOEXEC), 0);
        if (wait)
                assert_int_equal(pipe2(g, O_CLOEXEC), 0);
        ch->pid = fork();
        assert_true(ch->pid >= 0);
        if (ch->pid == 0)
                child_run(h, fn, arg, p[1], g[0]);
        close(p[1]);
        if (wait)
                close(g[0]);
        ch->rd = p[0];
        ch->go = g[1];
}

static void child_go(struct child *ch)
{
        assert_int_equal(write(ch->go, "x", 1), 1);
        close(ch->go);
        ch->go = -1;
}

/* Its output and exit code. */
static int child_finish(struct child *ch, uint8_t *out, size_t cap, size_t *len)
{
        uint8_t scratch[4096];
        size_t got = 0;
        int status;

        if (out == NULL) { /* read and drop, or a writing child gets SIGPIPE */
                out = scratch;
                cap = sizeof(scratch);
        }
        if (ch->go >= 0)
                child_go(ch);
        for (;;) {
                ssize_t n = read(ch->rd, out + got, cap - got);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                got += (size_t)n;
                assert_true(got < cap);
                if (out == scratch)
                        got = 0;
        }
        close(ch->rd);
        assert_int_equal(waitpid(ch->pid, &status, 0), ch->pid);
        assert_true(WIFEXITED(status));
        if (len)
                *len = got;
        return WEXITSTATUS(status);
}

static int in_ns(const struct holder *h, child_fn *fn, void *arg, uint8_t *out, size_t cap, size_t *len)
{
        struct child ch;

        child_start(&ch, h, fn, arg, false);
        return child_finish(&ch, out, cap, len);
}

static int resolver_connect(bool tcp, int timeout_ms)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53), .sin_addr.s_addr = htonl(0x7f00000b) };
        struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
        int fd = socket(AF_INET, tcp ? SOCK_STREAM : SOCK_DGRAM, 0);

        if (fd < 0)
                return -errno;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
                int e = errno;
                close(fd);
                return -e;
        }
        return fd;
}

/* n bytes or a child exit code. */
static int read_exact(int fd, void *p, size_t n)
{
        size_t got = 0;

        while (got < n) {
                ssize_t r = read(fd, (uint8_t *)p + got, n - got);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return child_err(errno);
                if (r == 0)
                        return CHILD_EOF;
                got += (size_t)r;
        }
        return CHILD_OK;
}

static int tcp_send_msg(int fd, const uint8_t *q, size_t len)
{
        uint8_t frame[2 + 512];

        frame[0] = (uint8_t)(len >> 8);
        frame[1] = (uint8_t)len;
        memcpy(frame + 2, q, len);
        return write(fd, frame, len + 2) == (ssize_t)(len + 2) ? CHILD_OK : child_err(errno);
}

static int tcp_recv_msg(int fd, int out)
{
        uint8_t buf[2 + DNS_MSG_MAX];
        size_t len;
        int r = read_exact(fd, buf, 2);

        if (r != CHILD_OK)
                return r;
        len = (size_t)buf[0] << 8 | buf[1];
        r = read_exact(fd, buf + 2, len);
        if (r != CHILD_OK)
                return r;
        return write(out, buf, len + 2) == (ssize_t)(len + 2) ? CHILD_OK : CHILD_FAILED;
}

struct exchange {
        bool tcp;
        const uint8_t *q;
        size_t len;
        int timeout_ms;
};

/* One query; out gets the answer, framed with its length. */
static int child_exchange(void *arg, int out)
{
        const struct exchange *x = arg;
        uint8_t buf[2 + DNS_MSG_MAX];
        int fd = resolver_connect(x->tcp, x->timeout_ms), r;
        ssize_t n;

        if (fd < 0)
                return child_err(-fd);
        if (x->tcp) {
                r = tcp_send_msg(fd, x->q, x->len);
                return r == CHILD_OK ? tcp_recv_msg(fd, out) : r;
        }
        if (send(fd, x->q, x->len, 0) < 0)
                return child_err(errno);
        n = recv(fd, buf + 2, DNS_MSG_MAX, 0);
        if (n < 0)
                return child_err(errno);
        buf[0] = (uint8_t)(n >> 8);
        buf[1] = (uint8_t)n;
        return write(out, buf, (size_t)n + 2) == n + 2 ? CHILD_OK : CHILD_FAILED;
}

static struct {
        struct dns_server *s;
        struct holder ns1, ns2, ns3;
        struct fake *fa, *fb;
        char fa_addr[32], fb_addr[32];
        ino_t host_ns; /* the test's own network namespace */
} T;

/* Send raw bytes to 127.0.0.11 from inside h; returns the child's code,
 * the answer in *r when there is one. */
static int raw_query_in(const struct holder *h, bool tcp, const uint8_t *q, size_t len, int timeout_ms,
                        struct resp *r, uint8_t *copy, size_t *copy_len)
{
        struct exchange x = { .tcp = tcp, .q = q, .len = len, .timeout_ms = timeout_ms };
        _cleanup_free_ uint8_t *out = xmalloc(2 * (2 + DNS_MSG_MAX));
        size_t n;
        int code = in_ns(h, child_exchange, &x, out, 2 * (2 + DNS_MSG_MAX), &n);

        if (code != CHILD_OK)
                return code;
        assert_true(n >= 2);
        assert_int_equal(n, 2 + ((size_t)out[0] << 8 | out[1]));
        if (r)
                resp_parse(out + 2, n - 2, r);
        if (copy) {
                memcpy(copy, out + 2, n - 2);
                *copy_len = n - 2;
        }
        return code;
}

static uint16_t next_id = 0x4000;

/* A query from inside h; asserts an answer came with our ID and question. */
static void query_in(const struct holder *h, bool tcp, const char *name, uint16_t type, struct resp *r)
{
        uint8_t q[512];
        uint16_t id = next_id++;
        int len = dns_query_build(id, name, type, 0, q, sizeof(q));

        assert_true(len > 0);
        assert_int_equal(raw_query_in(h, tcp, q, (size_t)len, 4000, r, NULL, NULL), CHILD_OK);
        assert_int_equal(r->h.id, id);
        assert_true(r->h.flags & DNS_FLAG_QR);
        assert_true(r->h.flags & DNS_FLAG_RD);
        assert_int_equal(r->h.qdcount, 1);
        assert_string_equal(r->q.name, name[strlen(name) - 1] == '.' ? strndupa(name, strlen(name) - 1) : name);
        assert_int_equal(r->q.qtype, type);
}

static void query(bool tcp, const char *name, uint16_t type, struct resp *r)
{
        query_in(&T.ns1, tcp, name, type, r);
}

/* ---- fake upstream servers on 127.0.0.1 in the test's namespace ---- */

enum fake_mode { FAKE_ANSWER, FAKE_SILENT, FAKE_BATCH };

struct pending {
        struct sockaddr_in src;
        uint8_t msg[512];
        size_t len;
};

struct fake {
        int udp, tcp, stop[2];
        uint16_t port;
        struct in_addr addr; /* what it answers, for any name */
        pthread_t thread;
        pthread_mutex_t lock;
        enum fake_mode mode;
        size_t batch;
        char names[256][256];
        size_t n_names, n_tcp;
        struct pending pending[64];
        size_t n_pending;
};

static int fake_answer(struct fake *f, const uint8_t *msg, size_t len, uint8_t *out, size_t max)
{
        struct dns_query q;
        struct dns_answer a = { .type = DNS_TYPE_A, .a = f->addr };

        if (dns_query_parse(msg, len, &q) != 0)
                return -1;
        pthread_mutex_lock(&f->lock);
        if (f->n_names < ARRAY_SIZE(f->names))
                snprintf(f->names[f->n_names++], sizeof(f->names[0]), "%.255s", q.name);
        pthread_mutex_unlock(&f->lock);
        return dns_response_build(&q, 0, &a, q.qtype == DNS_TYPE_A ? 1 : 0, 30, out, max);
}

/* Answers what it held back, newest first. */
static void fake_release(struct fake *f)
{
        uint8_t out[512];

        while (f->n_pending > 0) {
                struct pending *p = &f->pending[--f->n_pending];
                int n = fake_answer(f, p->msg, p->len, out, sizeof(out));
                if (n > 0)
                        sendto(f->udp, out, (size_t)n, 0, (struct sockaddr *)&p->src, sizeof(p->src));
        }
}

static void fake_udp(struct fake *f)
{
        struct pending p;
        socklen_t sl = sizeof(p.src);
        ssize_t n = recvfrom(f->udp, p.msg, sizeof(p.msg), 0, (struct sockaddr *)&p.src, &sl);
        uint8_t out[512];
        enum fake_mode mode;
        int len;

        if (n <= 0)
                return;
        p.len = (size_t)n;
        pthread_mutex_lock(&f->lock);
        mode = f->mode;
        pthread_mutex_unlock(&f->lock);
        if (mode == FAKE_BATCH) {
                f->pending[f->n_pending++] = p;
                if (f->n_pending == f->batch || f->n_pending == ARRAY_SIZE(f->pending))
                        fake_release(f);
                return;
        }
        len = fake_answer(f, p.msg, p.len, out, sizeof(out));
        if (len > 0 && mode == FAKE_ANSWER)
                sendto(f->udp, out, (size_t)len, 0, (struct sockaddr *)&p.src, sl);
}

static void fake_tcp(struct fake *f)
{
        struct timeval tv = { .tv_sec = 2 };
        uint8_t in[2 + 512], out[2 + 512];
        _cleanup_close_ int fd = accept4(f->tcp, NULL, NULL, SOCK_CLOEXEC);
        size_t len;
        bool silent;
        int n;

        if (fd < 0)
                return;
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        if (read_exact(fd, in, 2) != CHILD_OK)
                return;
        len = (size_t)in[0] << 8 | in[1];
        if (len > 512 || read_exact(fd, in + 2, len) != CHILD_OK)
                return;
        pthread_mutex_lock(&f->lock);
        f->n_tcp++;
        silent = f->mode == FAKE_SILENT;
        pthread_mutex_unlock(&f->lock);
        n = fake_answer(f, in + 2, len, out + 2, sizeof(out) - 2);
        if (n <= 0 || silent)
                return;
        out[0] = (uint8_t)(n >> 8);
        out[1] = (uint8_t)n;
        if (write(fd, out, (size_t)n + 2) < 0)
                return;
}

static void *fake_main(void *arg)
{
        struct fake *f = arg;

        for (;;) {
                struct pollfd p[3] = { { f->udp, POLLIN, 0 }, { f->tcp, POLLIN, 0 }, { f->stop[0], POLLIN, 0 } };
                if (poll(p, 3, -1) < 0 && errno != EINTR)
                        return NULL;
                if (p[2].revents)
                        return NULL;
                if (p[0].revents)
                        fake_udp(f);
                if (p[1].revents)
                        fake_tcp(f);
        }
}

/* A UDP and a TCP socket on one free port of 127.0.0.1. */
static int loopback_pair(int *udp, int *tcp, uint16_t *port)
{
        for (int tries = 0; tries < 50; tries++) {
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                socklen_t al = sizeof(a);
                *udp = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
                *tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                if (*udp < 0 || *tcp < 0 || bind(*udp, (struct sockaddr *)&a, sizeof(a)) < 0 ||
                    getsockname(*udp, (struct sockaddr *)&a, &al) < 0)
                        return -1;
                if (bind(*tcp, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(*tcp, 16) == 0) {
                        *port = ntohs(a.sin_port);
                        return 0;
                }
                close(*udp);
                close(*tcp);
        }
        return -1;
}

static struct fake *fake_start(const char *answer, char *addr, size_t addr_size)
{
        struct fake *f = xcalloc(1, sizeof(*f));

        pthread_mutex_init(&f->lock, NULL);
        f->addr = ip4(answer);
        assert_int_equal(loopback_pair(&f->udp, &f->tcp, &f->port), 0);
        assert_int_equal(pipe2(f->stop, O_CLOEXEC), 0);
        assert_int_equal(pthread_create(&f->thread, NULL, fake_main, f), 0);
        snprintf(addr, addr_size, "127.0.0.1:%u", f->port);
        return f;
}

static void fake_stop(struct fake *f)
{
        if (f == NULL)
                return;
        if (write(f->stop[1], "x", 1) != 1)
                abort();
        pthread_join(f->thread, NULL);
        close(f->udp);
        close(f->tcp);
        close(f->stop[0]);
        close(f->stop[1]);
        pthread_mutex_destroy(&f->lock);
        free(f);
}

static void fake_reset(struct fake *f, enum fake_mode mode, size_t batch)
{
        pthread_mutex_lock(&f->lock);
        f->mode = mode;
        f->batch = batch;
        f->n_names = 0;
        f->n_tcp = 0;
        pthread_mutex_unlock(&f->lock);
}

static bool fake_saw(struct fake *f, const char *name)
{
        bool seen = false;

        pthread_mutex_lock(&f->lock);
        for (size_t i = 0; i < f->n_names; i++)
                seen = seen || dns_name_equal(f->names[i], name);
        pthread_mutex_unlock(&f->lock);
        return seen;
}

/* ---- fixtures ---- */

static const char *const net1[] = { "net1" };
static const char *const net2[] = { "net2" };

static void attach(const char *id, const struct holder *h, const char *const *nets, size_t n_nets,
                   const char *const *ups, size_t n_ups)
{
        struct dns_client c = { .id = id, .netns_path = h->path, .networks = nets, .n_networks = n_nets,
                                .upstreams = ups, .n_upstreams = n_ups };
        _cleanup_error_ berth_error_t *err = NULL;

        struct stat st;

        if (dns_client_attach(T.s, &c, &err) < 0)
                fail_msg("attach %s: %s", id, err->msg);
        /* the calling thread came back */
        assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
        assert_int_equal(st.st_ino, T.host_ns);
}

static void set_daemon_upstreams(const char *const *ups, size_t n)
{
        _cleanup_error_ berth_error_t *err = NULL;

        if (dns_server_set_upstreams(T.s, ups, n, &err) < 0)
                fail_msg("upstreams: %s", err->msg);
}

static int server_setup(void **state)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct stat st;
        (void)state;

        if (stat("/proc/thread-self/ns/net", &st) < 0)
                return -1;
        T.host_ns = st.st_ino;
        if (holder_start(&T.ns1) < 0 || holder_start(&T.ns2) < 0 || holder_start(&T.ns3) < 0) {
                fprintf(stderr, "cannot make network namespaces (root needed): %s\n", strerror(errno));
                return -1;
        }
        T.fa = fake_start("10.53.0.1", T.fa_addr, sizeof(T.fa_addr));
        T.fb = fake_start("10.53.0.2", T.fb_addr, sizeof(T.fb_addr));
        if (dns_server_new(&T.s, &err) < 0) {
                fprintf(stderr, "%s\n", err->msg);
                return -1;
        }
        set_daemon_upstreams((const char *const[]){ T.fa_addr }, 1);
        attach("c1", &T.ns1, net1, 1, NULL, 0);
        attach("c2", &T.ns2, net2, 1, NULL, 0);
        dns_record_add(T.s, "net1", "ctr-web", "web", p4("10.0.0.2"), NULL);
        dns_record_add(T.s, "net1", "ctr-v6", "v6.", p4("10.0.0.6"),
                       p6("fd00::6"));
        dns_record_add(T.s, "net2", "ctr-secret", "secret", p4("10.1.0.9"), NULL);
        return 0;
}

static int server_teardown(void **state)
{
        (void)state;
        dns_server_free(T.s);
        fake_stop(T.fa);
        fake_stop(T.fb);
        holder_stop(&T.ns1);
        holder_stop(&T.ns2);
        holder_stop(&T.ns3);
        return 0;
}

/* Every server test starts from c1 on net1 with the daemon's upstream A. */
static int server_test_setup(void **state)
{
        (void)state;
        fake_reset(T.fa, FAKE_ANSWER, 0);
        fake_reset(T.fb, FAKE_ANSWER, 0);
        set_daemon_upstreams((const char *const[]){ T.fa_addr }, 1);
        attach("c1", &T.ns1, net1, 1, NULL, 0);
        return 0;
}

static void assert_a(const struct resp *r, size_t i, const char *addr)
{
        struct in_addr a = ip4(addr);

        assert_true(i < r->n);
        assert_int_equal(r->an[i].type, DNS_TYPE_A);
        assert_memory_equal(r->an[i].data, &a, 4);
}

/* ---- the tests ---- */

static void test_server_a(void **state)
{
        struct resp r;
        (void)state;

        for (int tcp = 0; tcp < 2; tcp++) {
                query(tcp, "web", DNS_TYPE_A, &r);
                assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NOERROR);
                assert_true(r.h.flags & DNS_FLAG_RA);
                assert_false(r.h.flags & DNS_FLAG_AA);
                assert_int_equal(r.n, 1);
                assert_a(&r, 0, "10.0.0.2");
                assert_int_equal(r.an[0].ttl, 600);
                /* case and a trailing dot do not matter */
                query(tcp, "WeB.", DNS_TYPE_A, &r);
                assert_int_equal(r.n, 1);
                assert_a(&r, 0, "10.0.0.2");
        }
        assert_false(fake_saw(T.fa, "web"));
}

static void test_server_shared_alias(void **state)
{
        struct resp r1, r2;
        (void)state;

        dns_record_add(T.s, "net1", "ctr-a", "db", p4("10.0.0.3"), NULL);
        dns_record_add(T.s, "net1", "ctr-b", "DB", p4("10.0.0.4"), NULL);
        /* the same owner and address on a second network of the client:
         * answered once */
        attach("c1", &T.ns1, (const char *const[]){ "net1", "net3" }, 2, NULL, 0);
        dns_record_add(T.s, "net3", "ctr-a", "db", p4("10.0.0.3"), NULL);
        query(false, "db", DNS_TYPE_A, &r1);
        query(false, "db", DNS_TYPE_A, &r2);
        assert_int_equal(r1.n, 2);
        assert_int_equal(r2.n, 2);
        /* both addresses, and the next query starts with the other one */
        assert_memory_not_equal(r1.an[0].data, r1.an[1].data, 4);
        assert_memory_equal(r1.an[0].data, r2.an[1].data, 4);
        assert_memory_equal(r1.an[1].data, r2.an[0].data, 4);
        for (int i = 0; i < 2; i++)
                assert_true(memcmp(r1.an[i].data, p4("10.0.0.3"), 4) == 0 ||
                            memcmp(r1.an[i].data, p4("10.0.0.4"), 4) == 0);
        dns_records_remove(T.s, NULL, "ctr-a");
        query(false, "db", DNS_TYPE_A, &r1);
        assert_int_equal(r1.n, 1);
        assert_a(&r1, 0, "10.0.0.4");
        dns_records_remove(T.s, "net1", "ctr-b");
}

/* "...ip6.arpa" of an IPv6 address: its 32 nibbles, last first. */
static const char *ptr6_name(const char *addr, char *out)
{
        struct in6_addr a = ip6(addr);
        char *p = out;

        for (int i = 15; i >= 0; i--)
                p += sprintf(p, "%x.%x.", a.s6_addr[i] & 0xf, a.s6_addr[i] >> 4);
        strcpy(p, "ip6.arpa");
        return out;
}

static void test_server_ptr(void **state)
{
        char name6[80];
        struct resp r;
        (void)state;

        query(false, "2.0.0.10.in-addr.arpa", DNS_TYPE_PTR, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NOERROR);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.an[0].type, DNS_TYPE_PTR);
        assert_string_equal(r.an[0].target, "web");
        query(true, "6.0.0.10.IN-ADDR.ARPA.", DNS_TYPE_PTR, &r);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.an[0].target, "v6");
        query(false, ptr6_name("fd00::6", name6), DNS_TYPE_PTR, &r);
        assert_int_equal(r.n, 1);
        assert_string_equal(r.an[0].target, "v6");
        /* an address no record of the client's networks has: forwarded */
        query(false, "9.0.1.10.in-addr.arpa", DNS_TYPE_PTR, &r);
        assert_true(fake_saw(T.fa, "9.0.1.10.in-addr.arpa"));
}

static void test_server_nodata(void **state)
{
        struct resp r;
        (void)state;

        query(false, "web", DNS_TYPE_AAAA, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NOERROR);
        assert_int_equal(r.h.ancount, 0);
        query(true, "web", DNS_TYPE_MX, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NOERROR);
        assert_int_equal(r.h.ancount, 0);
        assert_false(fake_saw(T.fa, "web"));
        /* with an IPv6 address there is an answer */
        query(false, "v6", DNS_TYPE_AAAA, &r);
        assert_int_equal(r.n, 1);
        assert_int_equal(r.an[0].type, DNS_TYPE_AAAA);
        assert_memory_equal(r.an[0].data, p6("fd00::6"), 16);
        query(false, "v6", DNS_TYPE_ANY, &r);
        assert_int_equal(r.n, 2);
}

static void test_server_scoped_forward(void **state)
{
        struct resp r;
        (void)state;

        /* "secret" is on net2, which c1 is not on: forwarded from the host */
        query(false, "secret", DNS_TYPE_A, &r);
        assert_int_equal(r.n, 1);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "secret"));
        /* c2 is on net2 */
        fake_reset(T.fa, FAKE_ANSWER, 0);
        query_in(&T.ns2, false, "secret", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.1.0.9");
        assert_false(fake_saw(T.fa, "secret"));
        /* and c2 does not see c1's names */
        query_in(&T.ns2, false, "web", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "web"));
        /* over TCP, forwarded over TCP */
        query(true, "Tcp.Example.Test", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "tcp.example.test"));
        assert_int_equal(T.fa->n_tcp, 1);
}

/* Kubernetes' cluster.local on net1: names in it are answered here
 * only, case-insensitively, a miss is NXDOMAIN at once (a pod's search
 * list), the TTL is short; names outside it and clients on other
 * networks are as before. */
static void test_server_zone(void **state)
{
        struct resp r;
        (void)state;

        dns_zone_set(T.s, "net1", "Cluster.Local.");
        dns_record_add(T.s, "net1", "svc:default/web", "web.default.svc.cluster.local", p4("10.43.0.10"), NULL);
        dns_record_add(T.s, "net1", "svc:default/web", "web.default.svc", p4("10.43.0.10"), NULL);
        dns_record_add(T.s, "net1", "svc:default/web", "web.default", p4("10.43.0.10"), NULL);
        for (int tcp = 0; tcp < 2; tcp++) {
                query(tcp, "WEB.default.SVC.cluster.local.", DNS_TYPE_A, &r);
                assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NOERROR);
                assert_int_equal(r.n, 1);
                assert_a(&r, 0, "10.43.0.10");
                assert_int_equal(r.an[0].ttl, 5);
                query(tcp, "web.default", DNS_TYPE_A, &r);
                assert_a(&r, 0, "10.43.0.10");
                /* outside the zone: Docker's TTL */
                assert_int_equal(r.an[0].ttl, 600);
        }
        /* a pod's search list: web.other.default.svc.cluster.local, then
         * web.other.svc.cluster.local, then cluster.local itself */
        query(false, "web.other.default.svc.cluster.local", DNS_TYPE_A, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NXDOMAIN);
        assert_int_equal(r.h.ancount, 0);
        query(true, "nothing.svc.cluster.local", DNS_TYPE_AAAA, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NXDOMAIN);
        query(false, "cluster.local", DNS_TYPE_A, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NXDOMAIN);
        assert_false(fake_saw(T.fa, "web.other.default.svc.cluster.local"));
        assert_false(fake_saw(T.fa, "nothing.svc.cluster.local"));
        assert_false(fake_saw(T.fa, "cluster.local"));
        /* a name that merely ends the same way is not in the zone */
        query(false, "mycluster.local", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "mycluster.local"));
        /* c2 is not on net1: its cluster.local queries go upstream */
        query_in(&T.ns2, false, "web.default.svc.cluster.local", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "web.default.svc.cluster.local"));
        /* the zone gone: forwarded again */
        fake_reset(T.fa, FAKE_ANSWER, 0);
        dns_zone_set(T.s, "net1", NULL);
        query(false, "nothing.svc.cluster.local", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "nothing.svc.cluster.local"));
        dns_records_remove(T.s, NULL, "svc:default/web");
}

static void test_server_edns_relay(void **state)
{
        uint8_t q[512], a[DNS_MSG_MAX];
        size_t alen;
        struct resp r;
        int len = dns_query_build(0x7777, "relay.test", DNS_TYPE_A, 1232, q, sizeof(q));
        (void)state;

        /* the upstream gets the client's bytes, OPT included, and the answer
         * comes back with the client's ID */
        assert_int_equal(raw_query_in(&T.ns1, false, q, (size_t)len, 4000, &r, a, &alen), CHILD_OK);
        assert_int_equal(r.h.id, 0x7777);
        assert_true(r.opt);
        assert_a(&r, 0, "10.53.0.1");
        /* a local answer to an EDNS query carries OPT too */
        len = dns_query_build(0x7778, "web", DNS_TYPE_A, 1232, q, sizeof(q));
        assert_int_equal(raw_query_in(&T.ns1, false, q, (size_t)len, 4000, &r, NULL, NULL), CHILD_OK);
        assert_true(r.opt);
        assert_a(&r, 0, "10.0.0.2");
}

static void test_server_client_upstreams(void **state)
{
        struct resp r;
        (void)state;

        attach("c1", &T.ns1, net1, 1, (const char *const[]){ T.fb_addr }, 1);
        query(false, "override.test", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.2");
        assert_true(fake_saw(T.fb, "override.test"));
        assert_false(fake_saw(T.fa, "override.test"));
        /* c2 still uses the daemon's */
        query_in(&T.ns2, false, "other.test", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        /* back to none of its own: the daemon's again */
        attach("c1", &T.ns1, net1, 1, NULL, 0);
        query(false, "again.test", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        /* the local names still win over any upstream */
        attach("c1", &T.ns1, net1, 1, (const char *const[]){ T.fb_addr }, 1);
        query(false, "web", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.2");
}

static uint16_t closed_port(void)
{
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t al = sizeof(a);
        int fd = socket(AF_INET, SOCK_DGRAM, 0);

        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
        close(fd);
        return ntohs(a.sin_port);
}

static void test_server_failover(void **state)
{
        char dead[32];
        struct resp r;
        int64_t t0;
        (void)state;

        /* nothing listens on the first: refused at once, the second answers */
        snprintf(dead, sizeof(dead), "127.0.0.1:%u", closed_port());
        attach("c1", &T.ns1, net1, 1, (const char *const[]){ dead, T.fb_addr }, 2);
        t0 = mono_ms();
        query(false, "failover.test", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.2");
        assert_true(mono_ms() - t0 < 1500);
        /* the first says nothing: 2 s, then the second */
        fake_reset(T.fa, FAKE_SILENT, 0);
        attach("c1", &T.ns1, net1, 1, (const char *const[]){ T.fa_addr, T.fb_addr }, 2);
        t0 = mono_ms();
        query(false, "silent.test", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.2");
        assert_true(mono_ms() - t0 >= 1900);
        assert_true(mono_ms() - t0 < 3500);
        assert_true(fake_saw(T.fa, "silent.test"));
        assert_true(fake_saw(T.fb, "silent.test"));
}

static void test_server_servfail(void **state)
{
        struct resp r;
        (void)state;

        set_daemon_upstreams(NULL, 0);
        query(false, "nowhere.test", DNS_TYPE_A, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_SERVFAIL);
        assert_int_equal(r.h.ancount, 0);
        query(true, "nowhere.test", DNS_TYPE_A, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_SERVFAIL);
        /* 127.0.0.11 is never an upstream: with only it, still none */
        attach("c1", &T.ns1, net1, 1, (const char *const[]){ "127.0.0.11" }, 1);
        set_daemon_upstreams((const char *const[]){ "127.0.0.11:53" }, 1);
        query(false, "loop.test", DNS_TYPE_A, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_SERVFAIL);
        /* local names need no upstream */
        query(false, "web", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.2");
        /* every upstream silent: SERVFAIL after their 2 s */
        set_daemon_upstreams((const char *const[]){ T.fa_addr }, 1);
        attach("c1", &T.ns1, net1, 1, NULL, 0);
        fake_reset(T.fa, FAKE_SILENT, 0);
        query(false, "silent.test", DNS_TYPE_A, &r);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_SERVFAIL);
}

/* Many queries at once on one socket; out gets, for each answer, its ID,
 * rcode, first address and when it came (ms after the first send). */
struct burst {
        const uint8_t (*q)[512];
        const size_t *len;
        size_t n;
        int timeout_ms;
};

struct burst_result {
        uint16_t id, rcode;
        struct in_addr a;
        int32_t ms;
        char name[64];
};

static int child_burst(void *arg, int out)
{
        const struct burst *b = arg;
        int fd = resolver_connect(false, b->timeout_ms);
        uint8_t buf[DNS_MSG_MAX];
        int64_t t0 = mono_ms();

        if (fd < 0)
                return child_err(-fd);
        for (size_t i = 0; i < b->n; i++)
                if (send(fd, b->q[i], b->len[i], 0) < 0)
                        return child_err(errno);
        for (size_t i = 0; i < b->n; i++) {
                struct burst_result res = { 0 };
                struct dns_query q;
                struct dns_rr rr;
                size_t off = DNS_HEADER_SIZE;
                ssize_t n = recv(fd, buf, sizeof(buf), 0);
                if (n < 0)
                        return child_err(errno);
                res.ms = (int32_t)(mono_ms() - t0);
                res.id = (uint16_t)(buf[0] << 8 | buf[1]);
                res.rcode = buf[3] & 0xf;
                if (dns_question_parse(buf, (size_t)n, &off, &q) == 0) {
                        snprintf(res.name, sizeof(res.name), "%.63s", q.name);
                        if (buf[7] > 0 && dns_rr_parse(buf, (size_t)n, &off, &rr) == 0 && rr.rdlen == 4)
                                memcpy(&res.a, buf + rr.rdata, 4);
                }
                if (write(out, &res, sizeof(res)) != sizeof(res))
                        return CHILD_FAILED;
        }
        return CHILD_OK;
}

static size_t burst(size_t n, const char *fmt, struct burst_result *res)
{
        _cleanup_free_ uint8_t(*q)[512] = xcalloc(n, 512);
        _cleanup_free_ size_t *len = xcalloc(n, sizeof(size_t));
        struct burst b = { .q = (const uint8_t(*)[512])q, .len = len, .n = n, .timeout_ms = 5000 };
        size_t got;

        for (size_t i = 0; i < n; i++) {
                char name[64];
                snprintf(name, sizeof(name), fmt, i);
                int l = dns_query_build((uint16_t)(0x1000 + i), name, DNS_TYPE_A, 0, q[i], 512);
                assert_true(l > 0);
                len[i] = (size_t)l;
        }
        assert_int_equal(in_ns(&T.ns1, child_burst, &b, (uint8_t *)res, (n + 1) * sizeof(*res), &got), CHILD_OK);
        return got / sizeof(*res);
}

static void test_server_concurrent(void **state)
{
        struct burst_result res[21];
        bool seen[20] = { false };
        (void)state;

        /* upstream B holds all 20 and answers them newest first: every
         * answer must reach the right query */
        attach("c1", &T.ns1, net1, 1, (const char *const[]){ T.fb_addr }, 1);
        fake_reset(T.fb, FAKE_BATCH, 20);
        assert_int_equal(burst(20, "q%zu.batch.test", res), 20);
        for (size_t i = 0; i < 20; i++) {
                char want[64];
                size_t k = res[i].id - 0x1000u;
                assert_true(k < 20);
                assert_false(seen[k]);
                seen[k] = true;
                snprintf(want, sizeof(want), "q%zu.batch.test", k);
                assert_string_equal(res[i].name, want);
                assert_int_equal(res[i].rcode, 0);
                assert_int_equal(res[i].a.s_addr, ip4("10.53.0.2").s_addr);
        }
}

static void test_server_inflight_cap(void **state)
{
        struct burst_result res[41];
        size_t fast = 0, slow = 0, n;
        (void)state;

        /* a container may have 32 queries upstream; more get SERVFAIL at
         * once, the 32 theirs when the silent upstream's 2 s are over */
        fake_reset(T.fa, FAKE_SILENT, 0);
        n = burst(40, "q%zu.cap.test", res);
        assert_int_equal(n, 40);
        for (size_t i = 0; i < n; i++) {
                assert_int_equal(res[i].rcode, DNS_RCODE_SERVFAIL);
                if (res[i].ms < 1000)
                        fast++;
                else if (res[i].ms >= 1900)
                        slow++;
        }
        assert_int_equal(fast, 8);
        assert_int_equal(slow, 32);
}

static int child_tcp_pipeline(void *arg, int out)
{
        const struct burst *b = arg;
        uint8_t both[2 * 514];
        size_t n = 0;
        int fd = resolver_connect(true, 4000), r;

        if (fd < 0)
                return child_err(-fd);
        for (size_t i = 0; i < 2; i++) {
                both[n++] = (uint8_t)(b->len[i] >> 8);
                both[n++] = (uint8_t)b->len[i];
                memcpy(both + n, b->q[i], b->len[i]);
                n += b->len[i];
        }
        if (write(fd, both, n) != (ssize_t)n)
                return child_err(errno);
        r = tcp_recv_msg(fd, out);
        return r == CHILD_OK ? tcp_recv_msg(fd, out) : r;
}

/* 8 connections, each asked once; a 9th is closed at once; after one of
 * the 8 goes, a new one is served. */
static int child_tcp_cap(void *arg, int out)
{
        const struct exchange *x = arg;
        int fds[9], r;
        uint8_t c;

        for (int i = 0; i < 8; i++) {
                fds[i] = resolver_connect(true, 2000);
                if (fds[i] < 0)
                        return child_err(-fds[i]);
                r = tcp_send_msg(fds[i], x->q, x->len);
                if (r != CHILD_OK || (r = tcp_recv_msg(fds[i], out)) != CHILD_OK)
                        return 30 + i;
        }
        fds[8] = resolver_connect(true, 2000);
        if (fds[8] < 0)
                return child_err(-fds[8]);
        if (read(fds[8], &c, 1) != 0)
                return 40;
        close(fds[8]);
        close(fds[0]);
        usleep(200 * 1000);
        fds[8] = resolver_connect(true, 2000);
        r = tcp_send_msg(fds[8], x->q, x->len);
        return r == CHILD_OK ? tcp_recv_msg(fds[8], out) : r;
}

/* A client that sends half a message and stops: closed after the idle
 * time; out gets how long it took. */
static int child_tcp_idle(void *arg, int out)
{
        int fd = resolver_connect(true, 9000);
        int64_t t0 = mono_ms();
        int32_t ms;
        uint8_t c;
        (void)arg;

        if (fd < 0)
                return child_err(-fd);
        if (write(fd, "\xff\xff\x12\x34", 4) != 4)
                return child_err(errno);
        if (read(fd, &c, 1) != 0)
                return 40;
        ms = (int32_t)(mono_ms() - t0);
        return write(out, &ms, sizeof(ms)) == sizeof(ms) ? CHILD_OK : CHILD_FAILED;
}

static void test_server_tcp(void **state)
{
        uint8_t q[2][512], out[8 * 1024];
        size_t len[2], n, first, second;
        struct resp r;
        struct burst b = { .q = (const uint8_t(*)[512])q, .len = len, .n = 2 };
        struct exchange x;
        int32_t ms;
        (void)state;

        len[0] = (size_t)dns_query_build(0x2001, "web", DNS_TYPE_A, 0, q[0], 512);
        len[1] = (size_t)dns_query_build(0x2002, "pipelined.test", DNS_TYPE_A, 0, q[1], 512);
        /* two queries in one segment: two answers, the local one first */
        assert_int_equal(in_ns(&T.ns1, child_tcp_pipeline, &b, out, sizeof(out), &n), CHILD_OK);
        first = (size_t)out[0] << 8 | out[1];
        second = (size_t)out[2 + first] << 8 | out[3 + first];
        assert_int_equal(n, 4 + first + second);
        resp_parse(out + 2, first, &r);
        assert_int_equal(r.h.id, 0x2001);
        assert_a(&r, 0, "10.0.0.2");
        resp_parse(out + 4 + first, second, &r);
        assert_int_equal(r.h.id, 0x2002);
        assert_a(&r, 0, "10.53.0.1");

        usleep(200 * 1000); /* the previous child's connection is gone */
        x = (struct exchange){ .tcp = true, .q = q[0], .len = len[0] };
        assert_int_equal(in_ns(&T.ns1, child_tcp_cap, &x, out, sizeof(out), &n), CHILD_OK);
        assert_int_equal(n, 9 * (2 + 37));

        assert_int_equal(in_ns(&T.ns1, child_tcp_idle, NULL, out, sizeof(out), &n), CHILD_OK);
        memcpy(&ms, out, sizeof(ms));
        assert_true(ms >= 4500 && ms < 8000);
}

static void *restore_limit(void *arg)
{
        usleep(300 * 1000);
        setrlimit(RLIMIT_NOFILE, arg);
        return NULL;
}

static int64_t cpu_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Out of fds, the server cannot accept: its listener rests a second
 * rather than spin, then serves the connection that waited. */
static void test_server_accept_pause(void **state)
{
        struct rlimit old, low;
        struct exchange x = { .tcp = true, .timeout_ms = 4000 };
        uint8_t q[512], out[1024];
        struct child ch;
        int limit = -1, code;
        int64_t t0, c0;
        pthread_t th;
        size_t n;
        (void)state;

        x.q = q;
        x.len = (size_t)dns_query_build(0x6001, "web", DNS_TYPE_A, 0, q, sizeof(q));
        child_start(&ch, &T.ns1, child_exchange, &x, true);
        /* no fd number free under the limit */
        for (int fd = 0; fd < 65536 && limit < 0; fd++)
                if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
                        limit = fd;
        assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
        low = old;
        low.rlim_cur = (rlim_t)limit;
        assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
        assert_int_equal(pthread_create(&th, NULL, restore_limit, &old), 0);
        t0 = mono_ms();
        c0 = cpu_ms();
        child_go(&ch);
        code = child_finish(&ch, out, sizeof(out), &n);
        pthread_join(th, NULL);
        assert_int_equal(code, CHILD_OK);
        assert_true(mono_ms() - t0 >= 900);
        assert_true(cpu_ms() - c0 < 200);
        assert_int_equal(n, 2 + 37);
}

static void test_server_malformed(void **state)
{
        uint8_t q[512];
        struct resp r;
        int len;
        (void)state;

        /* too short, or a response: no answer at all */
        assert_int_equal(raw_query_in(&T.ns1, false, (const uint8_t *)"\x12\x34\x01", 3, 500, NULL, NULL, NULL),
                         CHILD_TIMEOUT);
        len = dns_query_build(0x3001, "web", DNS_TYPE_A, 0, q, sizeof(q));
        q[2] |= 0x80;
        assert_int_equal(raw_query_in(&T.ns1, false, q, (size_t)len, 500, NULL, NULL, NULL), CHILD_TIMEOUT);
        /* an opcode we do not do */
        q[2] = 4 << 3; /* NOTIFY */
        assert_int_equal(raw_query_in(&T.ns1, false, q, (size_t)len, 2000, &r, NULL, NULL), CHILD_OK);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_NOTIMP);
        assert_int_equal(r.h.id, 0x3001);
        /* a question cut short */
        q[2] = 1;
        assert_int_equal(raw_query_in(&T.ns1, false, q, (size_t)len - 3, 2000, &r, NULL, NULL), CHILD_OK);
        assert_int_equal(DNS_RCODE(r.h.flags), DNS_RCODE_FORMERR);
        assert_int_equal(r.h.qdcount, 0);
        /* and the server goes on */
        query(false, "web", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.2");
}

static void test_server_records_remove(void **state)
{
        struct resp r;
        (void)state;

        dns_record_add(T.s, "net1", "ctr-tmp", "tmp", p4("10.0.0.77"), NULL);
        dns_record_add(T.s, "net1", "ctr-tmp", "tmp-alias", p4("10.0.0.77"), NULL);
        query(false, "tmp-alias", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.77");
        /* re-adding a name replaces its address */
        dns_record_add(T.s, "net1", "ctr-tmp", "tmp", p4("10.0.0.78"), NULL);
        query(false, "tmp", DNS_TYPE_A, &r);
        assert_int_equal(r.n, 1);
        assert_a(&r, 0, "10.0.0.78");
        dns_records_remove(T.s, "net2", "ctr-tmp"); /* another network: nothing goes */
        query(false, "tmp", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.78");
        dns_records_remove(T.s, "net1", "ctr-tmp");
        query(false, "tmp", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.53.0.1");
        assert_true(fake_saw(T.fa, "tmp"));
        query(false, "78.0.0.10.in-addr.arpa", DNS_TYPE_PTR, &r);
        assert_true(fake_saw(T.fa, "78.0.0.10.in-addr.arpa"));
        /* a name that is no DNS name is not added */
        dns_record_add(T.s, "net1", "ctr-bad", "a..b", p4("10.0.0.79"), NULL);
        query(false, "79.0.0.10.in-addr.arpa", DNS_TYPE_PTR, &r);
        assert_int_equal(r.n, 0); /* the fake has only A answers */
        assert_true(fake_saw(T.fa, "79.0.0.10.in-addr.arpa"));
}

static void test_server_detach(void **state)
{
        uint8_t q[512];
        struct exchange x = { .tcp = true, .q = q, .timeout_ms = 1000 };
        struct resp r;
        int len = dns_query_build(0x5001, "web", DNS_TYPE_A, 0, q, sizeof(q));
        (void)state;

        x.len = (size_t)len;
        dns_client_detach(T.s, "c1");
        dns_client_detach(T.s, "c1"); /* twice is fine */
        dns_client_detach(T.s, "never-attached");
        assert_int_equal(in_ns(&T.ns1, child_exchange, &x, NULL, 0, NULL), CHILD_REFUSED);
        x.tcp = false;
        int code = in_ns(&T.ns1, child_exchange, &x, NULL, 0, NULL);
        assert_true(code == CHILD_REFUSED || code == CHILD_TIMEOUT);
        /* attached again, it binds again */
        attach("c1", &T.ns1, net1, 1, NULL, 0);
        query(false, "web", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.2");
        query(true, "web", DNS_TYPE_A, &r);
        assert_a(&r, 0, "10.0.0.2");
}

static void test_attach_errors(void **state)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct dns_client c = { .id = "bad", .netns_path = "/nonexistent/ns", .networks = net1, .n_networks = 1 };
        struct stat st;
        (void)state;

        assert_true(dns_client_attach(T.s, &c, &err) < 0);
        assert_non_null(strstr(err->msg, "/nonexistent/ns"));
        berth_error_free(&err);
        /* the caller is back in its own namespace after a failure too */
        assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
        assert_int_equal(st.st_ino, T.host_ns);
        /* a bad upstream of a container */
        c.netns_path = T.ns3.path;
        c.upstreams = (const char *const[]){ "127.0.0.1:x" };
        c.n_upstreams = 1;
        assert_true(dns_client_attach(T.s, &c, &err) < 0);
        assert_non_null(strstr(err->msg, "127.0.0.1:x"));
        /* the same namespace twice under two ids: the second cannot bind */
        berth_error_free(&err);
        c.n_upstreams = 0;
        assert_int_equal(dns_client_attach(T.s, &c, &err), 0);
        c.id = "bad2";
        assert_true(dns_client_attach(T.s, &c, &err) < 0);
        assert_int_equal(err->status, EADDRINUSE);
        assert_non_null(strstr(err->msg, "127.0.0.11:53"));
        dns_client_detach(T.s, "bad");
}

static void test_upstream_parse(void **state)
{
        /* loopback only: nothing is sent, but should anything be, it stays here */
        const char *good[] = { "127.0.0.2", "127.0.0.2:5353", "[::1]:5353", "::1", "[::1]", "fe80::1%lo",
                               "[fe80::1%1]:53" };
        const char *bad[] = { "", "dns.example", "192.0.2.1:", "192.0.2.1:0", "192.0.2.1:65536", "300.0.0.1",
                              "[::1", "[::1]x", "[::1]:", "[192.0.2.1]:53x", "192.0.2.1:53:53", "fe80::1%nosuchif0",
                              "[]:53" };
        _cleanup_error_ berth_error_t *err = NULL;
        (void)state;

        assert_int_equal(dns_server_set_upstreams(T.s, good, ARRAY_SIZE(good), &err), 0);
        for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
                assert_true(dns_server_set_upstreams(T.s, &bad[i], 1, &err) < 0);
                assert_int_equal(err->status, EINVAL);
                assert_non_null(strstr(err->msg, "invalid DNS server"));
                berth_error_free(&err);
        }
        const char *many[17];
        for (size_t i = 0; i < ARRAY_SIZE(many); i++)
                many[i] = "127.0.0.2";
        assert_true(dns_server_set_upstreams(T.s, many, ARRAY_SIZE(many), &err) < 0);
        set_daemon_upstreams((const char *const[]){ T.fa_addr }, 1);
}

/* Records and clients change from other threads while queries run. */
struct churn {
        volatile bool stop, failed;
        int id;
};

static void *churn_main(void *arg)
{
        struct churn *c = arg;
        char owner[32], name[32];

        for (unsigned i = 0; !c->stop; i++) {
                snprintf(owner, sizeof(owner), "churn-%d", c->id);
                snprintf(name, sizeof(name), "churn%u", i % 7);
                dns_record_add(T.s, "net1", owner, name, p4("10.9.9.9"), NULL);
                if (i % 3 == 0)
                        dns_records_remove(T.s, i % 2 ? NULL : "net1", owner);
                if (c->id == 0 && i % 50 == 0) {
                        struct dns_client dc = { .id = "c3", .netns_path = T.ns3.path, .networks = net1,
                                                 .n_networks = 1 };
                        berth_error_t *err = NULL;
                        /* A query child forked in between holds a copy of
                         * the old socket for a moment: retry. */
                        int r = -1;
                        for (int tries = 0; tries < 100 && r < 0; tries++) {
                                berth_error_free(&err);
                                r = dns_client_attach(T.s, &dc, &err);
                                if (r < 0 && err->status != EADDRINUSE)
                                        break;
                                if (r < 0)
                                        usleep(1000);
                        }
                        if (r < 0) {
                                fprintf(stderr, "churn: %s\n", err->msg);
                                c->failed = true;
                        }
                        berth_error_free(&err);
                        dns_client_detach(T.s, "c3");
                }
        }
        return NULL;
}

static void test_server_threads(void **state)
{
        struct churn ch[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
        pthread_t th[3];
        struct burst_result res[31];
        (void)state;

        for (int i = 0; i < 3; i++)
                assert_int_equal(pthread_create(&th[i], NULL, churn_main, &ch[i]), 0);
        for (int round = 0; round < 5; round++) {
                struct resp r;
                assert_int_equal(burst(30, "web", res), 30);
                for (int i = 0; i < 30; i++)
                        assert_int_equal(res[i].a.s_addr, ip4("10.0.0.2").s_addr);
                query(true, "web", DNS_TYPE_A, &r);
                assert_a(&r, 0, "10.0.0.2");
        }
        for (int i = 0; i < 3; i++) {
                ch[i].stop = true;
                pthread_join(th[i], NULL);
                assert_false(ch[i].failed);
        }
        for (int i = 0; i < 3; i++) {
                char owner[32];
                snprintf(owner, sizeof(owner), "churn-%d", i);
                dns_records_remove(T.s, NULL, owner);
        }
}

static int child_fire_and_go(void *arg, int out)
{
        const struct exchange *x = arg;
        int fd = resolver_connect(x->tcp, 1000);
        (void)out;

        if (fd < 0)
                return child_err(-fd);
        if (x->tcp)
                return tcp_send_msg(fd, x->q, x->len);
        return send(fd, x->q, x->len, 0) < 0 ? child_err(errno) : CHILD_OK;
}

/* A server freed with queries upstream and connections open: it stops at
 * once and leaves nothing behind (ASan checks). */
static void test_server_free_busy(void **state)
{
        _cleanup_error_ berth_error_t *err = NULL;
        struct dns_server *s2;
        struct dns_client c = { .id = "c3", .netns_path = T.ns3.path, .networks = net1, .n_networks = 1,
                                .upstreams = (const char *const[]){ T.fa_addr }, .n_upstreams = 1 };
        uint8_t q[512];
        struct exchange x = { .q = q };
        int64_t t0;
        (void)state;

        fake_reset(T.fa, FAKE_SILENT, 0);
        assert_int_equal(dns_server_new(&s2, &err), 0);
        assert_int_equal(dns_client_attach(s2, &c, &err), 0);
        dns_record_add(s2, "net1", "o", "n", p4("10.0.0.1"), NULL);
        x.len = (size_t)dns_query_build(1, "pending.test", DNS_TYPE_A, 0, q, sizeof(q));
        assert_int_equal(in_ns(&T.ns3, child_fire_and_go, &x, NULL, 0, NULL), CHILD_OK);
        x.tcp = true;
        assert_int_equal(in_ns(&T.ns3, child_fire_and_go, &x, NULL, 0, NULL), CHILD_OK);
        usleep(200 * 1000);
        assert_true(fake_saw(T.fa, "pending.test"));
        t0 = mono_ms();
        dns_server_free(s2);
        assert_true(mono_ms() - t0 < 1000);
}

int main(void)
{
        const struct CMUnitTest msg_tests[] = {
                cmocka_unit_test(test_parse_simple),
                cmocka_unit_test(test_parse_edns),
                cmocka_unit_test(test_parse_compressed),
                cmocka_unit_test(test_parse_truncated),
                cmocka_unit_test(test_parse_rejects),
                cmocka_unit_test(test_name_decode_pointers),
                cmocka_unit_test(test_name_decode_bad),
                cmocka_unit_test(test_name_decode_limits),
                cmocka_unit_test(test_name_text),
                cmocka_unit_test(test_name_encode),
                cmocka_unit_test(test_build_answers),
                cmocka_unit_test(test_build_rcodes),
                cmocka_unit_test(test_build_truncation),
        };
#define SERVER_TEST(f) cmocka_unit_test_setup(f, server_test_setup)
        const struct CMUnitTest server_tests[] = {
                SERVER_TEST(test_server_a),
                SERVER_TEST(test_server_shared_alias),
                SERVER_TEST(test_server_ptr),
                SERVER_TEST(test_server_nodata),
                SERVER_TEST(test_server_scoped_forward),
                SERVER_TEST(test_server_zone),
                SERVER_TEST(test_server_edns_relay),
                SERVER_TEST(test_server_client_upstreams),
                SERVER_TEST(test_server_failover),
                SERVER_TEST(test_server_servfail),
                SERVER_TEST(test_server_concurrent),
                SERVER_TEST(test_server_inflight_cap),
                SERVER_TEST(test_server_tcp),
                SERVER_TEST(test_server_accept_pause),
                SERVER_TEST(test_server_malformed),
                SERVER_TEST(test_server_records_remove),
                SERVER_TEST(test_server_detach),
                SERVER_TEST(test_attach_errors),
                SERVER_TEST(test_upstream_parse),
                SERVER_TEST(test_server_threads),
                SERVER_TEST(test_server_free_busy),
        };
        int r;

        /* A fake upstream writing to a client that went away. */
        signal(SIGPIPE, SIG_IGN);
        r = cmocka_run_group_tests_name("dns-msg", msg_tests, NULL, NULL);
        if (getuid() != 0) {
                fprintf(stderr, "dns server tests skipped: they need root for network namespaces\n");
                return r ? r : 77;
        }
        return r | cmocka_run_group_tests_name("dns-server", server_tests, server_setup, server_teardown);
}
